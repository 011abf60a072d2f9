// The report queue: newest first, filtered by area, incident type and status, or a search
// of every report by one identifier (a phone written any way, a plate...), a page at a
// time. The filters and the page are in the address, so Back and reload keep them. Pages
// go by key (the server's opaque `next` / `previous`), never by count or offset.
import { h, field, formatDate } from '../dom.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { cachedAreas, refreshAreas, byRegion } from '../areas.js';
import { INCIDENT_TYPES } from '../report-payload.js';
import { call, frame, problem } from './staff.js';
import { when } from './tools.js';

const PAGE = 25;
const FILTERS = ['area', 'incident_type', 'status', 'identifier_kind', 'identifier'];
const IDENTIFIER_KINDS = ['phone', 'email', 'handle', 'plate', 'name'];
export const REPORT_STATUSES = ['received', 'in_review', 'published', 'not_published'];

export function flags(report) {
  return [
    report.consent && !report.consent.publish ? ['no-publish', 'queue.no_publish'] : null,
    report.support_requested ? ['', 'queue.support'] : null,
    report.on_behalf ? ['', 'queue.on_behalf'] : null,
    report.linked_to ? ['', 'queue.linked'] : null,
  ].filter(Boolean).map(([kind, key]) => h('span', { class: `flag ${kind}` }, t(key)));
}

function row(report) {
  const title = [formatDate(report.occurred_on), report.area ? report.area.name : ''].filter(Boolean).join(' · ');
  return h('li', { class: `row ${report.status}`, 'data-id': report.id },
    h('h2', {}, h('a', { href: `/staff/report?id=${encodeURIComponent(report.id)}` }, title)),
    h('p', { class: 'types' }, report.incident_types.map((type) => t(`incident.${type}`)).join(', ')),
    h('p', { class: 'meta' }, h('span', { class: `rstatus ${report.status}` }, t(`rstatus.${report.status}`)), ' ',
      t('queue.received', { when: when(report.received_at) }), ' ', flags(report)));
}

export async function render(main, { params }) {
  if (!(await frame(main, '/staff/queue'))) return;
  const areas = (await cachedAreas()).length ? await cachedAreas() : await refreshAreas();
  const choose = (name, label, options) => field({ name, label, options: [['', t('queue.any')], ...options] });
  const form = h('form', { class: 'filters' },
    choose('area', t('queue.area'), byRegion(areas)),
    choose('incident_type', t('queue.type'), INCIDENT_TYPES.map((v) => [v, t(`incident.${v}`)])),
    choose('status', t('queue.status'), REPORT_STATUSES.map((v) => [v, t(`rstatus.${v}`)])),
    field({ name: 'identifier_kind', label: t('queue.search_kind'),
      options: IDENTIFIER_KINDS.map((v) => [v, t(`identifier.${v}`)]) }),
    field({ name: 'identifier', label: t('queue.search'), type: 'search', maxlength: 254 }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, t('queue.filter'))));
  for (const name of FILTERS) form.elements[name].value = params.get(name) || '';
  if (!form.elements.identifier_kind.value) form.elements.identifier_kind.value = 'phone';
  // The kind only means something with a value to search for.
  const chosen = (name, read) => read(name) && (name !== 'identifier_kind' || read('identifier'));
  const list = h('ul', { class: 'rows' });
  const count = h('p', { class: 'count', role: 'status' });
  const pager = h('div', { class: 'actions pager' });
  main.append(h('h1', {}, t('queue.title')), form, count, list, pager);

  const address = (position) => {
    const query = new URLSearchParams();
    const read = (name) => form.elements[name].value.trim();
    for (const name of FILTERS) if (chosen(name, read)) query.set(name, read(name));
    for (const [way, cursor] of Object.entries(position || {})) query.set(way, cursor);
    const text = query.toString();
    return `/staff/queue${text ? `?${text}` : ''}`;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(address());
  });

  const query = new URLSearchParams({ limit: PAGE });
  const given = (name) => params.get(name);
  for (const name of FILTERS) if (chosen(name, given)) query.set(name, given(name));
  const way = ['after', 'before'].find((name) => params.get(name));
  if (way) query.set(way, params.get(way));
  const response = await call(`/api/v1/staff/reports?${query}`);
  if (response.ended) return;
  if (!response.ok) {
    count.textContent = problem(response);
    return;
  }
  const { reports, next, previous } = response.data;
  count.textContent = reports.length ? '' : t('queue.none');
  list.replaceChildren(...reports.map(row));
  if (previous || (way && !reports.length)) {
    pager.append(h('a', { class: 'button secondary', href: address(previous ? { before: previous } : {}) }, t('queue.newer')));
  }
  if (next) {
    pager.append(h('a', { class: 'button secondary', href: address({ after: next }) }, t('queue.older')));
  }
}
