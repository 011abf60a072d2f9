// The service worker and the "new version ready" bar: a new version takes over only when
// the user says so. The outbox is in IndexedDB, which an update never touches.
import { t } from './i18n.js';
import { h } from './dom.js';

// Register /service-worker.js and show `bar` (an element) when a new version waits.
export async function registerServiceWorker(bar) {
  if (!('serviceWorker' in navigator)) return;
  let registration;
  try {
    registration = await navigator.serviceWorker.register('/service-worker.js', { type: 'module', scope: '/' });
  } catch {
    return; // No worker (private mode, old browser): the app still works while online.
  }
  // Reload only when the user asked for the new version (here or in another tab): claim()
  // on first install, and right after an update's reload, fire controllerchange too.
  const updates = typeof BroadcastChannel === 'function' ? new BroadcastChannel('redflag-update') : null;
  let asked = false;
  let reloading = false;
  if (updates) updates.onmessage = () => { asked = true; };
  const offer = (worker) => {
    if (!navigator.serviceWorker.controller) return; // first install: nothing to replace
    const update = () => {
      asked = true;
      if (updates) updates.postMessage('updating');
      worker.postMessage({ type: 'SKIP_WAITING' });
    };
    bar.replaceChildren(h('p', {}, t('update.ready')),
      h('button', { type: 'button', class: 'primary', onclick: update }, t('update.now')));
    bar.hidden = worker.state !== 'installed';
    worker.addEventListener('statechange', () => { bar.hidden = worker.state !== 'installed'; });
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    if (!worker) return;
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (asked && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  // An installed app stays open for days: look for a new version when it is shown again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') registration.update().catch(() => {});
  });
}
