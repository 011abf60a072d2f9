// Starts the app: quick exit first, then the language, the screens; once the first screen
// is usable, the rest (sending the outbox, the service worker, notifications, the feed).
// Only what the first screen needs is imported statically: on a slow phone every module
// is a request before the form can be used (server/web.py preloads this graph).
import {
  init as initLanguage, t, translate, onLanguageChange, LANGUAGES, asked, current, setLanguage,
} from './i18n.js';
import { addScreen, start, render, setNavFilter, keepFitting } from './router.js';
import { prefetch } from './db.js';
import { memberToken } from './api.js';
import { refreshAreas } from './areas.js';
import { setupQuickExit } from './quick-exit.js';
import { onWipedElsewhere } from './wipe.js';
import { h } from './dom.js';

// The Settings section, the wipe hook and tapped notifications: loaded once the first
// screen is usable, and before any other screen (Settings shows its section).
let extras = null;
const loadExtras = () => {
  if (!extras) extras = import('./notifications.js');
  return extras;
};

// The screens: server/web.py SCREENS, written into index.html. Network-only ones are not
// in the shell; offline they say so with the keys of their address's first part:
// /staff/queue -> staff.title, staff.offline.
const offlineScreen = (path) => {
  const area = path.split('/')[1];
  return {
    render(main) {
      main.append(h('h1', {}, t(`${area}.title`)), h('p', { class: 'problems' }, t(`${area}.offline`)));
    },
  };
};
for (const screen of JSON.parse(document.getElementById('screens').textContent)) {
  const own = () => import(`./${screen.module}`);
  const first = screen.path === '/report' || screen.path === '/staff/dropin';
  const module = first ? own : () => loadExtras().then(own, own);
  const load = screen.network ? () => module().catch(() => offlineScreen(screen.path)) : module;
  // A tab's icon has the screen's name (icons/icons.svg): /report -> #report.
  addScreen(screen.path, { load, title: screen.title, nav: screen.nav, icon: screen.nav ? screen.path.slice(1) : null });
}

// First open: every language in its own words above the first screen, until one is
// chosen; it blocks nothing.
async function offerLanguages(box, done) {
  if (await done) return;
  const choose = (choice) => () => {
    box.hidden = true;
    setLanguage(choice);
    document.getElementById('main').focus();
  };
  box.replaceChildren(h('h2', { id: 'first-language-title' }, t('first.title')),
    h('p', {}, h('button', { type: 'button', class: 'primary', 'data-action': 'keep', onclick: choose('') },
      t('first.keep', { language: LANGUAGES[current()] }))),
    h('ul', {}, Object.entries(LANGUAGES).map(([code, name]) => h('li', {},
      h('button', { type: 'button', class: 'secondary', lang: code, onclick: choose(code) }, name)))));
  box.hidden = false;
}

function showWiped() {
  const exit = document.getElementById('quick-exit');
  document.body.replaceChildren(exit, h('main', { id: 'main', class: 'wiped', tabindex: '-1' },
    h('h1', {}, t('wipe.done_title')), h('p', {}, t('wipe.done_text'))));
  document.getElementById('main').focus();
}

async function boot() {
  setupQuickExit(document.getElementById('quick-exit'));
  // The first screen's reads, while the catalogue comes: it is then drawn with no wait
  // (a wait let a frame in).
  const dropEarly = prefetch(['language', 'member', 'areas', 'my-areas', 'draft', 'dropin-draft']);
  const done = asked();
  const member = memberToken().catch(() => null);
  await initLanguage();
  translate();
  keepFitting();
  const picker = document.getElementById('first-language');
  await offerLanguages(picker, done);
  onLanguageChange(() => { picker.hidden = true; translate(); render(); });
  // No Join tab on a member's phone.
  const hideJoin = async (token) => {
    const isMember = Boolean(await (token || memberToken().catch(() => null)));
    setNavFilter((path) => !(isMember && path === '/join'));
  };
  await hideJoin(member);
  document.addEventListener('redflag:member', () => hideJoin());
  onWipedElsewhere(showWiped);
  document.addEventListener('redflag:wiped', showWiped);
  await start(document.getElementById('main'), document.getElementById('nav'));
  dropEarly();
  document.documentElement.dataset.ready = 'true';
  // Sending the outbox: the form saves reports into it without this (outbox/items.js).
  const flushing = () => import('./outbox.js').then(({ keepFlushing }) => keepFlushing())
    .catch(() => setTimeout(flushing, 30_000));
  flushing();
  // After the first screen: the worker's install fetches the whole shell, which must not
  // compete with the first screen's files on a slow line.
  refreshAreas();
  loadExtras().catch(() => {});
  import('./update.js').then(({ registerServiceWorker }) => registerServiceWorker(document.getElementById('update')))
    .catch(() => {});
  // Members: the feed is on the phone before the signal goes.
  import('./alerts-store.js').then(({ sync }) => sync()).catch(() => {});
}

boot();
