// Starts the app: quick exit first, then the language, the screens, the outbox and the
// service worker. The screens themselves live in screens/, one module each.
import { init as initLanguage, t, translate, onLanguageChange } from './i18n.js';
import { addScreen, start, render } from './router.js';
import { keepFlushing } from './outbox.js';
import { refreshAreas } from './areas.js';
import { setupQuickExit } from './quick-exit.js';
import { onWipedElsewhere } from './wipe.js';
import { h } from './dom.js';
import { sync as syncAlerts } from './alerts-store.js';
import './notifications.js'; // the Settings section, the wipe hook, tapped notifications

addScreen('/report', { load: () => import('./screens/report.js'), title: 'nav.report', nav: true });
addScreen('/reports', { load: () => import('./screens/reports.js'), title: 'nav.reports', nav: true });
addScreen('/alerts', { load: () => import('./screens/alerts.js'), title: 'nav.alerts', nav: true });
addScreen('/check', { load: () => import('./screens/check.js'), title: 'nav.check', nav: true });
addScreen('/join', { load: () => import('./screens/join.js'), title: 'nav.join', nav: true });
addScreen('/settings', { load: () => import('./screens/settings.js'), title: 'nav.settings', nav: true });
// Staff screens (web/staff/) come from the network only, never from the app shell: they
// are no use offline, and a worker's phone need not hold them. Drop-in mode is the
// exception: it is the report form, and must open offline on a tablet.
const staffScreen = (name) => () => import(`./staff/${name}.js`)
  .catch(() => import('./staff/staff.js').then((module) => module.offlineScreen));
addScreen('/staff', { load: staffScreen('login'), title: 'login.title' });
addScreen('/staff/queue', { load: staffScreen('queue'), title: 'queue.title' });
addScreen('/staff/report', { load: staffScreen('report'), title: 'staff.report' });
addScreen('/staff/alert', { load: staffScreen('alert-editor'), title: 'staff.alert' });
addScreen('/staff/alerts', { load: staffScreen('alerts'), title: 'alertlist.title' });
addScreen('/staff/invites', { load: staffScreen('invites'), title: 'invites.title' });
addScreen('/staff/dropin', { load: () => import('./screens/dropin.js'), title: 'dropin.title' });

// The page leaves it to the user when a new version takes over: the waiting worker is
// told to skip waiting only from the prompt. The outbox is in IndexedDB, which an update
// never touches, so nothing queued is lost.
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  let registration;
  try {
    registration = await navigator.serviceWorker.register('/service-worker.js', { type: 'module', scope: '/' });
  } catch {
    return; // No worker (private mode, old browser): the app still works while online.
  }
  // Reload when the new version takes over, but only after the user asked for it, here
  // or in another tab: claim() on first install, and the moments right after an update's
  // reload, fire controllerchange too.
  const updates = typeof BroadcastChannel === 'function' ? new BroadcastChannel('redflag-update') : null;
  let asked = false;
  let reloading = false;
  if (updates) updates.onmessage = () => { asked = true; };
  const bar = document.getElementById('update');
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

function showWiped() {
  const exit = document.getElementById('quick-exit');
  document.body.replaceChildren(exit, h('main', { id: 'main', class: 'wiped', tabindex: '-1' },
    h('h1', {}, t('wipe.done_title')), h('p', {}, t('wipe.done_text'))));
  document.getElementById('main').focus();
}

async function boot() {
  setupQuickExit(document.getElementById('quick-exit'));
  await initLanguage();
  translate();
  onLanguageChange(() => { translate(); render(); });
  onWipedElsewhere(showWiped);
  document.addEventListener('redflag:wiped', showWiped);
  await start(document.getElementById('main'), document.getElementById('nav'));
  keepFlushing();
  registerServiceWorker();
  refreshAreas();
  syncAlerts().catch(() => {}); // members: the feed is on the phone before the signal goes
  document.documentElement.dataset.ready = 'true';
}

boot();
