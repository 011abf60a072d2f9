// Screens by path. Each screen is a module exporting `render(main, {params})`, which may
// return a cleanup function called when the user leaves the screen.
//
// To add a screen: add it to SCREENS in server/web.py. The server writes that list into
// the page (app.js adds each with addScreen) and into the service worker, and puts every
// file under web/ in the app shell.
import { h } from './dom.js';
import { t } from './i18n.js';

const screens = new Map();
let main = null;
let nav = null;
let cleanup = null;
let rendering = 0;

export function addScreen(path, { load, title, nav: inNav = false }) {
  screens.set(path, { load, title, inNav });
}

function drawNav() {
  nav.replaceChildren(h('ul', {}, [...screens].filter(([, s]) => s.inNav).map(([path, s]) => h('li', {},
    h('a', { href: path, 'aria-current': path === currentPath() ? 'page' : null }, t(s.title))))));
}

function currentPath() {
  const path = location.pathname;
  if (path === '/') return '/report';
  return screens.has(path) ? path : '/report';
}

export async function render({ focus = false } = {}) {
  const ticket = ++rendering;
  const path = currentPath();
  const screen = screens.get(path);
  const module = await screen.load();
  if (ticket !== rendering) return; // the user went on before this screen loaded
  if (cleanup) cleanup();
  cleanup = null;
  main.replaceChildren();
  document.title = `${t(screen.title)} · ${t('app.name')}`;
  drawNav();
  const params = new URLSearchParams(location.search);
  cleanup = (await module.render(main, { params })) || null;
  // Move focus to the new screen so screen readers hear it; not on first load.
  if (focus) main.focus();
}

// Screens replace each other in one history entry: quick exit replaces that entry, so
// Back from the neutral site cannot land on any screen of the app.
export function navigate(path) {
  history.replaceState(null, '', path);
  return render({ focus: true });
}

export function start(mainElement, navElement) {
  main = mainElement;
  nav = navElement;
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey
        || event.shiftKey || event.altKey) return;
    if (link.getAttribute('href').startsWith('#')) {
      // A jump within the screen: focus the target without adding a history entry.
      const target = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
      if (target) {
        event.preventDefault();
        target.focus();
        target.scrollIntoView({ block: 'center' });
      }
      return;
    }
    const url = new URL(link.href);
    if (url.origin !== location.origin || !screens.has(url.pathname === '/' ? '/report' : url.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  addEventListener('popstate', () => render({ focus: true }));
  return render();
}
