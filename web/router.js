// Screens by path. Each screen is a module exporting `render(main, {params})`, which may
// return a cleanup function called when the user leaves the screen.
// To add a screen: add it to SCREENS in server/web.py.
import { h, icon } from './dom.js';
import { t } from './i18n.js';

const screens = new Map();
let main = null;
let nav = null;
let cleanup = null;
let rendering = 0;
let showInNav = () => true;

// `icon`: the name of its icon in icons/icons.svg, shown beside the tab's word.
export function addScreen(path, { load, title, nav: inNav = false, icon: iconName = null }) {
  screens.set(path, { load, title, inNav, iconName });
}

// Which nav screens to show right now, e.g. no Join tab on a member's phone.
export function setNavFilter(fn) {
  showInNav = fn;
  if (nav) drawNav();
}

// The tabs, and the button that shows them as a menu when they do not fit as a bar
// (fit() below). The button names the screen you are on.
function drawNav() {
  const here = screens.get(currentPath());
  nav.classList.remove('open');
  const toggle = h('button', { type: 'button', class: 'menu-toggle secondary', 'aria-expanded': 'false',
    'aria-controls': 'nav-list' }, here.iconName ? icon(here.iconName) : null, h('span', {}, t(here.title)),
  h('span', { class: 'menu-more', 'aria-hidden': 'true' }, '▾'));
  toggle.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  nav.replaceChildren(toggle, h('ul', { id: 'nav-list' }, [...screens]
    .filter(([path, s]) => s.inNav && showInNav(path))
    .map(([path, s]) => h('li', {},
      h('a', { href: path, 'aria-current': path === currentPath() ? 'page' : null },
        s.iconName ? icon(s.iconName) : null, h('span', {}, t(s.title)))))));
  fit();
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

// The layout at any text size: tabs take two rows ("tabs-two"), else become a menu
// ("tabs-flow"); a header taller than a sixth of the screen scrolls away ("head-static").
const root = document.documentElement;

function barFits(nav) {
  return [...nav.querySelectorAll('ul a')].every((link) => {
    const label = link.querySelector('span');
    const line = parseFloat(getComputedStyle(label).lineHeight) || 20;
    return label.scrollWidth <= link.clientWidth + 1 && label.offsetHeight <= line * 2.2;
  }) && nav.offsetHeight <= innerHeight / 5;
}

// Measured in the compact form; the class goes back at once if it does not fit.
function toggle(name, tooBig) {
  root.classList.remove(name);
  root.classList.toggle(name, tooBig());
  return root.classList.contains(name);
}

export function fit() {
  const nav = document.getElementById('nav');
  const head = document.querySelector('header.bar');
  if (!nav || !head) return;
  // One row of six tabs; else two rows of three; else the menu. Measured in that order,
  // with no paint in between.
  root.classList.remove('tabs-flow', 'tabs-two');
  const flow = !barFits(nav) && (root.classList.add('tabs-two'), !barFits(nav));
  if (flow) root.classList.replace('tabs-two', 'tabs-flow');
  root.style.setProperty('--bar-h', flow ? '0px' : `${nav.offsetHeight}px`);
  const tall = toggle('head-static', () => head.offsetHeight > innerHeight / 6);
  root.style.setProperty('--head-h', tall ? '0px' : `${head.offsetHeight}px`);
}

export function keepFitting() {
  let queued = false;
  const soon = () => {
    if (!queued) requestAnimationFrame(() => { queued = false; fit(); });
    queued = true;
  };
  addEventListener('resize', soon);
  // The text size changes the bars' size without any resize event.
  const observer = new ResizeObserver(soon);
  observer.observe(document.getElementById('nav'));
  observer.observe(document.querySelector('header.bar'));
  fit();
}
