// Areas from /api/v1/areas, kept in IndexedDB so the report form works offline.
// "My areas" (chosen in Settings) are the areas this device cares about: the report form
// offers them first, and the alerts screen will subscribe to them.
import * as db from './db.js';
import { api } from './api.js';

export async function cachedAreas() {
  const cached = await db.get('kv', 'areas');
  return cached ? cached.list : [];
}

// Fetch the list when online; keep the cached one when not.
export async function refreshAreas() {
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
