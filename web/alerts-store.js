// Member alerts kept on this device, read with no signal; the service worker uses it too.
// Store "alerts" (db.js): {id: the alert's number, alert, fresh, severity, area, storedAt}
//   alert  as GET /api/v1/alerts gives it, or null while only a push told us of it
//          (severity, area from the push). Versions before numbers kept them by uuid:
//          they read alike until the next sync (a full one) replaces them.
//   fresh  not yet seen on the Alerts screen ("new")
// kv "alerts-sync": {now, scope, at}: the `now` of the last sync (sent as `since`), the
// areas it covered, when it ran.
import * as db from './db.js';
import { api, memberToken, NetworkError } from './api.js';
import { myAreas, cachedAreas } from './areas.js';
import { changeNotifier } from './changes.js';

// Called when the stored alerts change here, in another tab or in the service worker.
const notices = changeNotifier('redflag-alerts');
export const onChange = notices.onChange;
const changed = notices.changed;

const expired = (record) => record.alert?.expires_at
  && Date.parse(record.alert.expires_at) <= Date.now();
const published = (record) => (record.alert ? Date.parse(record.alert.published_at) : record.storedAt);

// Newest first; expired ones never shown (the next sync removes them).
export async function list() {
  const records = (await db.all('alerts')).filter((record) => !expired(record));
  return records.sort((a, b) => published(b) - published(a));
}

export function get(id) {
  return db.get('alerts', id);
}

// Keep an alert from the server; a new one is marked fresh, a known one keeps its mark.
function keep(alert) {
  return db.update('alerts', alert.number, (old) => ({
    id: alert.number,
    alert,
    fresh: old ? old.fresh : true,
    severity: alert.severity,
    area: old ? old.area : null,
    storedAt: old ? old.storedAt : Date.now(),
  }));
}

export async function forget(id) {
  await db.remove('alerts', id);
  changed();
}

export async function markSeen(ids) {
  for (const id of ids) {
    await db.update('alerts', id, (old) => (old?.fresh ? { ...old, fresh: false } : undefined));
  }
}

// A push told us of an alert: keep its id as new until the alert itself is fetched.
export async function noteNew(id, { severity, area } = {}) {
  await db.update('alerts', id, (old) => (old ? undefined : {
    id, alert: null, fresh: true, severity: severity || null, area: area || null, storedAt: Date.now(),
  }));
  changed();
}

// One alert from the server (a tapped notification, a check result). Returns
// {alert} | {gone: true} (retracted, expired or unknown) | {error: "offline"|"auth"|"server"}.
export async function fetchOne(id) {
  let response;
  try {
    response = await api(`/api/v1/alerts/${id}`);
  } catch (error) {
    if (error instanceof NetworkError) return { error: 'offline' };
    throw error;
  }
  if (response.data?.number) {
    await keep(response.data);
    changed();
    return { alert: response.data };
  }
  if (response.status === 404) {
    await forget(id);
    return { gone: true };
  }
  return { error: response.status === 401 ? 'auth' : 'server' };
}

// A page of GET /api/v1/alerts/compact?key=number (a list per field, codes once, dates
// and numbers as gaps) -> alerts; `names`: slug -> name.
export function readPage({ codes, alerts: c }, names) {
  const date = (ms) => new Date(ms).toISOString();
  let at, number;
  return c.number.map((gap, i) => {
    at = i ? at - c.published[i] : c.published[0];
    number = i ? number - gap : gap;
    return {
      number,
      title: c.title[i],
      summary: c.summary[i],
      severity: codes.severity[c.severity[i]],
      incident_types: c.incident_types[i].map((n) => codes.incident_types[n]),
      areas: c.areas[i].map((n) => codes.areas[n]).map((slug) => ({ slug, name: names.get(slug) || slug })),
      identifiers: c.identifier_kinds[i].map((n, j) => ({ kind: codes.identifier_kinds[n], value: c.identifier_values[i][j] })),
      withheld_identifiers: c.withheld_identifiers[i],
      published_at: date(at),
      expires_at: c.expires[i] && date(c.expires[i]),
    };
  });
}

// Bring the alerts of my areas (all when none) up to date: the first sync (or one after
// the areas changed) keeps exactly the full list; later ones send `since` and get what
// changed. -> {error: null | "offline" | "auth" | "server", at}.
let running = null;

export function sync() {
  if (!running) running = syncNow().finally(() => { running = null; });
  return running;
}

async function syncNow() {
  if (!(await memberToken())) return { error: 'auth' };
  const areas = [...(await myAreas())].sort();
  const scope = `#${areas}`; // unlike before numbers: a full sync first
  const last = await db.get('kv', 'alerts-sync');
  const incremental = last && last.scope === scope;
  const pages = [];
  let now, retracted, page;
  do {
    const query = new URLSearchParams({ key: 'number' });
    areas.forEach((slug) => query.append('area', slug));
    if (incremental) query.set('since', last.now);
    if (page) query.set('before', page.next);
    let response;
    try {
      response = await api(`/api/v1/alerts/compact?${query}`);
    } catch (error) {
      if (error instanceof NetworkError) return { error: 'offline', at: last && last.at };
      throw error;
    }
    page = response.data;
    if (!page?.alerts?.number) return { error: response.status === 401 ? 'auth' : 'server', at: last && last.at };
    now ??= page.now;
    pages.push(page);
    retracted = page.retracted;
  } while (page.next);
  const names = new Map((await cachedAreas()).map((area) => [area.slug, area.name]));
  let alerts;
  try {
    alerts = pages.flatMap((p) => readPage(p, names));
  } catch {
    return { error: 'server', at: last && last.at }; // a page we cannot read: keep what we have
  }
  for (const alert of alerts) await keep(alert);
  const listed = new Set(alerts.map((alert) => alert.number));
  for (const record of await db.all('alerts')) {
    // A full list is the whole truth (uuid keys are old); retracted, expired ones go.
    if ((!incremental && (record.alert || isNaN(record.id)) && !listed.has(record.id))
        || retracted.includes(record.id) || expired(record)) {
      await db.remove('alerts', record.id);
    }
  }
  const at = Date.now();
  await db.put('kv', { now, scope, at }, 'alerts-sync');
  changed();
  return { error: null, at };
}
