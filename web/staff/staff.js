// What every staff screen shares: the staff nav, the session, and staff API calls.
//
// Nothing of the staff side is kept on the device: the session is an HttpOnly cookie
// that ends with the browser, its CSRF token lives in this page's memory only, and no
// staff answer goes into IndexedDB or a cache (the service worker never caches /api/).
// This module is in the app shell because drop-in mode (screens/dropin.js) must open
// offline; what only the other staff screens use is in tools.js, loaded with them.
import { h } from '../dom.js';
import { t, current as language } from '../i18n.js';
import { api, setCsrfToken, NetworkError } from '../api.js';
import { navigate } from '../router.js';

let me = null; // {username, role, csrf_token}: in memory only

export function loggedIn(staff) {
  me = staff;
  setCsrfToken(staff ? staff.csrf_token : null);
}

export const isModerator = (staff) => Boolean(staff) && staff.role !== 'outreach';

// A staff API call -> {status, ok, data}. Never throws: no connection is {offline: true};
// a 401 (the session ended: idle, expired, revoked) sends the user to the login screen
// with a message, and answers {ended: true}: the screen just stops (unless `anonymous`:
// the login screen takes its own 401s).
export async function call(path, { anonymous = false, ...options } = {}) {
  let response;
  try {
    response = await api(path, { ...options, staff: true });
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    return { status: 0, ok: false, data: null, offline: true };
  }
  if (response.status === 401 && !anonymous) {
    loggedIn(null);
    navigate(`/staff?ended=1&next=${encodeURIComponent(location.pathname + location.search)}`);
    return { ...response, ended: true };
  }
  return response;
}

// What went wrong, in the app's words: the server's error code translated (error.<code>),
// never its English message (that is for developers).
export function problem(response) {
  if (response.offline) return t('staff.offline');
  const code = response.data?.error; // the stable code (server/errors.py)
  if (code && t(`error.${code}`) !== `error.${code}`) return t(`error.${code}`);
  const general = { 403: 'error.forbidden', 404: 'error.not_found', 409: 'error.conflict' }[response.status];
  return general ? t(general) : t('staff.failed', { status: response.status });
}

function nav(current, staff) {
  const link = (path, key) => h('li', {}, h('a', { href: path, 'aria-current': path === current ? 'page' : null },
    t(key)));
  const out = h('button', { type: 'button', class: 'secondary' }, t('staff.logout'));
  out.addEventListener('click', async () => {
    out.disabled = true;
    const response = await call('/api/v1/staff/logout', { method: 'POST' });
    if (response.ended) return;
    if (response.ok) {
      loggedIn(null);
      navigate('/staff?out=1');
    } else {
      out.disabled = false;
      out.after(h('p', { class: 'status', role: 'status' }, problem(response)));
    }
  });
  return h('nav', { class: 'staff-nav', 'aria-label': t('staff.nav') },
    h('ul', {},
      link('/staff/queue', 'staff.queue'),
      link('/staff/support', 'staff.support'),
      isModerator(staff) ? link('/staff/disputes', 'staff.disputes') : null,
      link('/staff/alerts', 'staff.alerts'),
      link('/staff/invites', 'staff.invites'),
      link('/staff/texts', 'staff.texts'),
      link('/staff/dropin', 'staff.dropin')),
    // The printed pages open in the app's language (each can be switched to any of ten).
    h('ul', { class: 'print', 'aria-label': t('staff.print') },
      link(`/staff/print/bulletin?lang=${language()}`, 'staff.print_bulletin'),
      isModerator(staff) ? link(`/staff/print/police-pack?lang=${language()}`, 'staff.print_police') : null,
      isModerator(staff) ? link(`/staff/print/stats?lang=${language()}`, 'staff.print_stats') : null),
    h('p', { class: 'who' }, staff ? t('staff.who', { name: staff.username, role: t(`role.${staff.role}`) }) : '',
      ' ', staff ? out : null));
}

// Draw the staff nav at the top of `main` and make sure someone is logged in.
// -> the staff member; null when the screen must stop (sent to login, or offline:
// a message is shown). With {offline: true} the screen may go on offline: -> {}.
export async function frame(main, current, { offline = false } = {}) {
  let staff = me;
  let response = null;
  if (!staff) {
    response = await call('/api/v1/staff/me');
    if (response.ended) return null;
    if (response.ok) {
      loggedIn(response.data);
      staff = me;
    }
  }
  main.append(nav(current, staff));
  if (staff) return staff;
  if (offline && response.offline) return {};
  main.append(h('h1', {}, t('staff.title')), h('p', { class: 'problems' }, problem(response)));
  return null;
}
