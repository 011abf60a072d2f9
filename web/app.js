// Starts the app: quick exit first, then the language, the screens, the outbox and the
// service worker. The screens themselves live in screens/, one module each.
import { init as initLanguage, t, translate, onLanguageChange } from './i18n.js';
import { addScreen, start, render } from './router.js';
import { keepFlushing } from './outbox.js';
import { refreshAreas } from './areas.js';
import { setupQuickExit } from './quick-exit.js';
import { onWipedElsewhere } from './wipe.js';
import { h } from './dom.js';

addScreen('/report', { load: () => import('./screens/report.js'), title: 'nav.report', nav: true });
addScreen('/reports', { load: () => import('./screens/reports.js'), title: 'nav.reports', nav: true });
addScreen('/join', { load: () => import('./screens/join.js'), title: 'nav.join', nav: true });
addScreen('/settings', { load: () => import('./screens/settings.js'), title: 'nav.settings', nav: true });

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
  let controlled = Boolean(navigator.serviceWorker.controller);
  const offer = (worker) => {
    if (!navigator.serviceWorker.controller) return; // first install: nothing to replace
    const bar = document.getElementById('update');
    bar.replaceChildren(
      h('p', {}, t('update.ready')),
      h('button', { type: 'button', class: 'primary', onclick: () => worker.postMessage({ type: 'SKIP_WAITING' }) },
        t('update.now')));
    bar.hidden = false;
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
    // A new version took over (here or from another tab): run its code, not the old.
    if (controlled) location.reload();
    controlled = true;
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
  document.documentElement.dataset.ready = 'true';
}

boot();
