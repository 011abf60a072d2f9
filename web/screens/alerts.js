// Alerts: the members' warnings, newest first, kept on this phone for reading offline.
// /alerts?id=<number> shows one (a tapped notification opens it). Only the staff-written
// title and summary stay as written; the rest is in the reader's language.
import { h, status, icon } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { memberToken } from '../api.js';
import { cachedAreas, areaName, myAreas } from '../areas.js';
import * as store from '../alerts-store.js';

export const when = formatDateTime;

export const severityLabel = (severity) => (severity ? t(`severity.${severity}`) : '');

export function joinFirst(main, title) {
  main.append(h('h1', {}, title), h('p', {}, t('alerts.members_only')),
    h('p', {}, h('a', { class: 'button primary', href: '/join' }, t('alerts.join_link'))));
}

// Severity (with its icon), areas and date on one line.
export function facts(alert) {
  return h('p', { class: 'facts' },
    h('strong', { class: `severity ${alert.severity}` }, icon(alert.severity), severityLabel(alert.severity)), ' · ',
    (alert.areas || []).map((area) => area.name).join(', '), ' · ',
    h('time', { datetime: alert.published_at }, when(alert.published_at)));
}

// What they did: each incident type in words, with its icon.
export function types(alert) {
  const list = alert.incident_types || [];
  return list.length ? h('ul', { class: 'tags', 'aria-label': t('alerts.types') }, list.map((type) => h('li', {},
    icon(type), t(`incident.${type}`)))) : null;
}

function identifiers(alert) {
  const shown = alert.identifiers || [];
  return [
    shown.length ? h('ul', { class: 'identifiers' }, shown.map((item) => h('li', {},
      h('span', { class: 'kind' }, `${t(`identifier.${item.kind}`)}: `),
      h('span', { class: 'value' }, item.value)))) : null,
    alert.withheld_identifiers
      ? h('p', { class: 'withheld' }, t('alerts.withheld', { n: alert.withheld_identifiers })) : null,
  ];
}

function card(record, isNew, areas) {
  const link = `/alerts?id=${record.id}`;
  const badge = isNew ? h('span', { class: 'badge' }, t('alerts.new')) : null;
  const { alert } = record;
  if (!alert) {
    // Known from a push only, not yet fetched.
    return h('li', { class: `card alert ${record.severity || ''}`, 'data-id': record.id },
      h('h2', {}, badge, ' ', h('a', { href: link }, t('alerts.pending'))),
      h('p', { class: 'facts' }, [severityLabel(record.severity), areaName(areas, record.area)]
        .filter(Boolean).join(' · ')));
  }
  return h('li', { class: `card alert ${alert.severity}`, 'data-id': record.id },
    h('h2', {}, badge, badge ? ' ' : null, h('a', { href: link }, alert.title)),
    facts(alert),
    types(alert),
    h('p', { class: 'summary' }, alert.summary),
    identifiers(alert));
}

function syncLine(outcome) {
  if (!outcome) return t('alerts.updating');
  const at = outcome.at ? when(new Date(outcome.at).toISOString()) : null;
  if (!outcome.error) return t('alerts.updated', { at });
  if (outcome.error === 'offline') return at ? t('alerts.offline_since', { at }) : t('alerts.offline_never');
  return t('alerts.sync_failed');
}

async function feed(main) {
  const line = status({ class: 'status sync' });
  const list = h('ul', { class: 'cards' });
  const mine = h('p', { class: 'hint' });
  main.append(h('h1', {}, t('alerts.title')), mine, line, list);
  const areas = await cachedAreas();
  const chosen = await myAreas();
  mine.replaceChildren(chosen.length
    ? t('alerts.scope_mine', { areas: chosen.map((slug) => areaName(areas, slug)).join(', ') })
    : t('alerts.scope_all'), ' ', h('a', { href: '/settings' }, t('alerts.change_areas')));

  // "New" stays on the cards that were new when this visit began, until the next visit.
  const shownNew = new Set();
  const draw = async () => {
    const records = await store.list();
    records.filter((record) => record.fresh).forEach((record) => shownNew.add(record.id));
    list.replaceChildren(...records.map((record) => card(record, shownNew.has(record.id), areas)));
    if (!records.length) list.replaceChildren(h('li', { class: 'empty' }, t('alerts.empty')));
    await store.markSeen(records.filter((record) => record.fresh).map((record) => record.id));
  };
  const refresh = async () => {
    line.textContent = t('alerts.updating');
    const outcome = await store.sync();
    if (outcome.error === 'auth') line.textContent = t('alerts.members_only');
    else line.textContent = syncLine(outcome);
    line.dataset.synced = outcome.error || 'ok'; // for tests and styles: how the last sync went
  };
  await draw();
  const stop = store.onChange(draw);
  addEventListener('online', refresh);
  refresh();
  return () => { stop(); removeEventListener('online', refresh); };
}

async function detail(main, id) {
  const back = h('p', {}, h('a', { href: '/alerts' }, t('alerts.all')));
  const message = status();
  main.append(back);
  let record = await store.get(id);
  if (!record || !record.alert) {
    main.append(h('h1', {}, t('alerts.title')), message);
    message.textContent = t('alerts.loading');
    const outcome = await store.fetchOne(id);
    if (outcome.gone) message.textContent = t('alerts.gone');
    else if (outcome.error === 'offline') message.textContent = t('alerts.not_here_offline');
    else if (outcome.error === 'auth') message.textContent = t('alerts.members_only');
    else if (outcome.error) message.textContent = t('alerts.sync_failed');
    if (!outcome.alert) return;
    main.replaceChildren(back);
    record = outcome;
  }
  const { alert } = record;
  main.append(h('article', { class: `alert-detail ${alert.severity}`, 'data-id': id },
    h('h1', {}, alert.title),
    facts(alert),
    types(alert),
    h('p', { class: 'summary' }, alert.summary),
    identifiers(alert),
    alert.expires_at ? h('p', { class: 'hint' }, t('alerts.expires', { at: when(alert.expires_at) })) : null));
  await store.markSeen([id]);
}

export async function render(main, { params }) {
  if (!(await memberToken())) {
    joinFirst(main, t('alerts.title'));
    return null;
  }
  const id = params.get('id');
  if (id) {
    await detail(main, +id || id); // a number; a uuid from before numbers
    return null;
  }
  return feed(main);
}
