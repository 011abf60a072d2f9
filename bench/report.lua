-- wrk: POST one report with a fresh random UUID per request (BATCH > 1: a sync of BATCH).
local batch = tonumber(os.getenv("BATCH") or "1")
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffffffff) * 0x10000 + math.random(0, 0xffff))
end

local function one()
  counter = counter + 1
  return '{"id":"' .. uuid4() .. '","occurred_on":"2026-11-01","area":"hackney",' ..
    '"incident_types":["robbery"],"description":"Took the money back. ' .. counter .. '",' ..
    '"offender":{"phones":["07700 9' .. string.format("%05d", math.random(0, 99999)) .. '"]}}'
end

request = function()
  local body
  if batch == 1 then
    body = one()
    return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json"}, body)
  end
  local items = {}
  for i = 1, batch do items[i] = one() end
  body = '{"reports":[' .. table.concat(items, ",") .. ']}'
  return wrk.format("POST", "/api/v1/sync", {["Content-Type"] = "application/json"}, body)
end
