// The Redflag service worker: the app shell offline, and the outbox flush on `sync`.
// Nothing else. Registered as a module worker with scope "/" (see web/app.js).
//
// Bump VERSION whenever a file in SHELL changes: the browser sees a new worker by its
// bytes, installs it beside the old one, and the page offers "new version ready".
import { flush } from './static/outbox.js';
import './static/push-events.js'; // push and notificationclick

const VERSION = '7';
const CACHE = `redflag-shell-${VERSION}`;
// Every file of the app shell. tests/test_budget.py reads this list and sums its gzipped size.
const SHELL = [
  '/',
  '/manifest.json',
  '/static/styles.css',
  '/static/app.js',
  '/static/alerts-store.js',
  '/static/api.js',
  '/static/areas.js',
  '/static/changes.js',
  '/static/db.js',
  '/static/dom.js',
  '/static/i18n.js',
  '/static/notifications.js',
  '/static/outbox.js',
  '/static/push-events.js',
  '/static/quick-exit.js',
  '/static/router.js',
  '/static/wipe.js',
  '/static/screens/alerts.js',
  '/static/screens/check.js',
  '/static/screens/dropin.js',
  '/static/screens/join.js',
  '/static/screens/report.js',
  '/static/screens/reports.js',
  '/static/screens/settings.js',
  '/static/staff/staff.js',
  '/static/locales/en.json',
  '/static/locales/es.json',
  '/static/icons/icon-192.png',
  '/static/icons/icon-512.png',
  '/static/icons/maskable-512.png',
];
// Navigations to these paths get the shell; the router draws the screen. Keep in step
// with APP_ROUTES in server/web.py.
const APP_ROUTES = ['/', '/report', '/reports', '/alerts', '/check', '/join', '/settings',
  '/staff', '/staff/queue', '/staff/report', '/staff/alert', '/staff/alerts', '/staff/invites',
  '/staff/dropin'];
// Caches an activating worker keeps; every other cache of this origin is deleted.
const KEEP = [CACHE];

self.addEventListener('install', (event) => {
  // `reload`: fetch past the HTTP cache, so a new version never holds an old file.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(
    SHELL.map((url) => new Request(url, { cache: 'reload' })))));
  // No skipWaiting() here: the page asks for it when the user says so.
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (!KEEP.includes(key)) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  // Never touch anything but plain GETs of this origin's app files: the API, every POST
  // and other origins go straight to the network, never into a cache.
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    if (!APP_ROUTES.includes(url.pathname)) return;
    event.respondWith(caches.open(CACHE)
      .then((cache) => cache.match('/'))
      .then((shell) => shell || fetch(request)));
    return;
  }
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(url.pathname))
    .then((cached) => cached || fetch(request)));
});

// The browser wakes the worker when the network is back (Background Sync, Chromium):
// send the outbox. Throwing asks the browser to try again later.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(flush().then((outcome) => {
    if (!outcome.skipped && outcome.waiting > 0) throw new Error('reports still waiting');
  }));
});

// Alerts (web push): the `push` and `notificationclick` listeners are in
// web/push-events.js, imported at the top (listeners must be added while the worker
// first runs).
