// Areas from /api/v1/areas, kept in IndexedDB so the report form works offline. "My
// areas" (Settings): offered first on the report form, and what Alerts shows.
import * as db from './db.js';
import { api } from './api.js';
import { h } from './dom.js';

// The list the page came with (server/web.py writes it into index.html): a first open
// fills the form without waiting for the API; [] in the service worker or a bare page.
export function pageAreas() {
  const element = globalThis.document && document.getElementById('areas');
  try {
    const list = element ? JSON.parse(element.textContent || '[]') : [];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

// The list a fetch kept on this device; null before the first one.
export async function keptAreas() {
  const cached = await db.get('kv', 'areas');
  return cached ? cached.list : null;
}

// The kept list, else the page's.
export async function cachedAreas() {
  return (await keptAreas()) ?? pageAreas();
}

// Fetch the list when online; keep the cached one when not. Callers at the same time
// (the app's start and the first screen) share one request.
let refreshing = null;
export function refreshAreas() {
  if (!refreshing) refreshing = fetchAreas().finally(() => { refreshing = null; });
  return refreshing;
}

async function fetchAreas() {
  try {
    const response = await api('/api/v1/areas');
    if (response.ok && Array.isArray(response.data)) {
      await db.put('kv', { list: response.data, at: Date.now() }, 'areas');
      return response.data;
    }
  } catch {
    // Offline: the cached list stays.
  }
  return cachedAreas();
}

export async function myAreas() {
  return (await db.get('kv', 'my-areas')) || [];
}

export async function setMyAreas(slugs) {
  await db.put('kv', slugs, 'my-areas');
}

export function areaName(list, slug) {
  const area = list.find((a) => a.slug === slug);
  return area ? area.name : slug || '';
}

// [{group: region name, options: [[slug, name], ...]}, ...] for a <select>.
export function byRegion(list) {
  const groups = new Map();
  for (const area of list) {
    const region = area.region_name || area.region;
    if (!groups.has(region)) groups.set(region, []);
    groups.get(region).push([area.slug, area.name]);
  }
  return [...groups].map(([group, options]) => ({ group, options }));
}

// A fieldset of checkboxes per region; `ticked` slugs checked.
export function areaChips(list, name, ticked) {
  return byRegion(list).map((group) => h('fieldset', { class: 'group' }, h('legend', {}, group.group),
    h('div', { class: 'chips' }, group.options.map(([slug, label]) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', name, value: slug, checked: ticked.includes(slug) }), h('span', {}, label))))));
}
