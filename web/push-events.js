// The service worker's Web Push side. A push carries only {number, area, severity} (and
// the id, for workers before alert numbers); the words are chosen here: neutral unless
// Settings asked for detailed ones.
import * as db from './db.js';
import * as store from './alerts-store.js';

// The app's catalogue in the chosen (else the phone's) language, from the shell cache.
async function strings() {
  const chosen = await db.get('kv', 'language').catch(() => '');
  const wanted = [chosen, ...(self.navigator.languages || [])].filter(Boolean)
    .map((tag) => String(tag).toLowerCase().split('-')[0]);
  for (const lang of [...wanted, 'en']) {
    const cached = await caches.match(`/static/locales/${lang}.json`);
    if (cached) return cached.json();
  }
  return {};
}

async function areaName(slug) {
  const areas = await db.get('kv', 'areas').catch(() => null);
  const area = areas?.list.find((a) => a.slug === slug);
  return area ? area.name : slug;
}

export async function notificationFor({ alert, area, severity }) {
  const text = await strings();
  const say = (key, fallback) => text[key] || fallback;
  const detailed = (await db.get('kv', 'notify-text').catch(() => null)) === 'detailed';
  const options = { tag: alert, data: { alert }, body: say('push.neutral_body', 'Tap to open.') };
  if (!detailed) return { title: say('push.neutral_title', 'New message'), options };
  const level = say(`severity.${severity}`, severity || '');
  const where = area ? await areaName(area) : '';
  const title = where && level
    ? say('push.detailed_title', '{severity}: {area}').replace('{severity}', level).replace('{area}', where)
    : level || where || say('push.neutral_title', 'New message');
  return { title, options: { ...options, body: say('push.detailed_body', 'Tap to read.') } };
}

async function onPush(event) {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    // Not JSON: still show something (a push with userVisibleOnly must be shown).
  }
  const id = payload.number >>> 0; // the alert's number; 0 when there is none
  const severity = ['dangerous', 'risky', 'nuisance'].includes(payload.severity) ? payload.severity : '';
  const area = typeof payload.area === 'string' ? payload.area.slice(0, 80) : '';
  const { title, options } = await notificationFor({ alert: id, area, severity });
  // The tag is the alert's number: a repeat of the same alert replaces its notification.
  await self.registration.showNotification(title, id ? options : { ...options, tag: 'redflag' });
  if (!id) return;
  await store.noteNew(id, { severity, area });
  // Fetch it now while there is signal, so it can be read later without any.
  await store.fetchOne(id).catch(() => {});
}

async function onClick(event) {
  event.notification.close();
  const id = event.notification.data?.alert;
  const url = id ? `/alerts?id=${id}` : '/alerts';
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  const fetching = id ? store.get(id).then((record) => (
    record?.alert ? null : store.fetchOne(id))).catch(() => {}) : null;
  if (open) {
    await open.focus().catch(() => {});
    open.postMessage({ type: 'OPEN_ALERT', id });
  } else {
    await self.clients.openWindow(url);
  }
  await fetching;
}

self.addEventListener('push', (event) => event.waitUntil(onPush(event)));
self.addEventListener('notificationclick', (event) => event.waitUntil(onClick(event)));
