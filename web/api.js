// Talking to the server: one fetch wrapper that adds the member token, and the token itself.
// Used by pages and by the service worker (no `window` or `document` here).
import * as db from './db.js';

// The fetch itself failed: no connection, or the connection dropped. Nothing was answered.
export class NetworkError extends Error {}

// The member token (screens/join.js), in kv "member" as {token, joinedAt}: a bearer token.
export async function memberToken() {
  const member = await db.get('kv', 'member');
  return member ? member.token : null;
}

export async function setMemberToken(token) {
  await db.put('kv', { token, joinedAt: Date.now() }, 'member');
}

function seconds(header) {
  if (!header) return null;
  const n = Number(header);
  if (Number.isFinite(n)) return n;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

// Staff calls (staff: true) carry the session cookie and, on changes, the CSRF token,
// kept in this page's memory only.
let csrfToken = null;
export function setCsrfToken(token) {
  csrfToken = token;
}

// -> {status, ok, data, retryAfter}; throws NetworkError when nothing came back.
/**
 * @param {string} path
 * @param {{method?: string, body?: unknown, headers?: Object<string, string>, staff?: boolean,
 *          cookies?: boolean}} [options]
 * @returns {Promise<{status: number, ok: boolean, data: any, retryAfter: number | null}>}
 */
export async function api(path, { method = 'GET', body, headers = {}, staff = false, cookies = staff } = {}) {
  const token = staff ? null : await memberToken();
  const sent = { Accept: 'application/json', ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  if (token) sent.Authorization = `Bearer ${token}`;
  if (staff && method !== 'GET' && csrfToken) sent['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      // No cookies but the staff session's (staff calls, drop-in reports: who filed them).
      credentials: cookies ? 'same-origin' : 'omit',
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON (a proxy's error page, an empty body): the status says enough.
  }
  return {
    status: response.status,
    ok: response.ok,
    data,
    retryAfter: seconds(response.headers.get('Retry-After')),
  };
}
