// The service worker: the app shell offline, the outbox flush on `sync`, and push.
import { flush } from './static/outbox.js';
import './static/push-events.js'; // push and notificationclick

// The server writes the shell manifest in (server/web.py): {version, files, routes}. A
// changed file is a new version, so a new worker, and the page offers "new version ready".
const { version: VERSION, files: SHELL, routes: APP_ROUTES } = __SHELL_MANIFEST__;
const CACHE = `redflag-shell-${VERSION}`;
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
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
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
  // Only English is in SHELL; the page puts its own language into this cache (i18n.js).
  if (!SHELL.includes(url.pathname) && !url.pathname.startsWith('/static/locales/')) return;
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

