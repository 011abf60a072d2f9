// Wipe this device: nothing of the app stays behind. Reports not yet sent are lost too
// (Settings says so before asking).
//
// onWipe(fn): fn runs first, while the database and the service worker still exist
// (notifications.js: the server forgets this device's push subscription).
import * as db from './db.js';

const hooks = [];
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('redflag-wipe') : null;

export function onWipe(fn) {
  hooks.push(fn);
}

// Another tab wiped the device: stop using the database, so it is not made again.
export function onWipedElsewhere(fn) {
  if (channel) channel.onmessage = () => { db.forget(); fn(); };
}

export async function wipe() {
  for (const fn of hooks) {
    try {
      await fn();
    } catch {
      // A hook that fails (offline) must not stop the wipe.
    }
  }
  if (channel) channel.postMessage('wiped');
  const registrations = navigator.serviceWorker ? await navigator.serviceWorker.getRegistrations() : [];
  for (const registration of registrations) {
    try {
      const subscription = registration.pushManager && await registration.pushManager.getSubscription();
      if (subscription) await subscription.unsubscribe();
    } catch {
      // No push here: nothing to remove.
    }
  }
  await db.destroy();
  if (globalThis.caches) {
    for (const key of await caches.keys()) await caches.delete(key);
  }
  try {
    localStorage.clear();
    sessionStorage.clear();
  } catch {
    // Storage blocked by the browser: nothing was kept there.
  }
  for (const registration of registrations) await registration.unregister();
}
