// Alerts as staff see them: newest first, by status, with their delivery counts (queued,
// sent, gone, failed); edit a draft, retract a published alert (after a confirmation).
import { h, field, status } from '../dom.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { call, frame, problem, isModerator } from './staff.js';
import { when, confirmStep } from './tools.js';

const PAGE = 25;
const STATUSES = ['draft', 'published', 'expired', 'retracted'];
const COUNTS = ['queued', 'sent', 'gone', 'failed'];

function card(alert, staff, retract) {
  const deliveries = alert.deliveries || {};
  const retractButton = h('button', { type: 'button', class: 'danger' }, t('alertlist.retract'));
  retractButton.addEventListener('click', async () => {
    if (await confirmStep(retractButton, t('alertlist.retract_confirm'), t('alertlist.retract_yes'))) retract(alert);
  });
  return h('li', { class: `row ${alert.status}`, 'data-id': alert.id },
    h('h2', {}, alert.status === 'draft'
      ? h('a', { href: `/staff/alert?id=${encodeURIComponent(alert.id)}` }, alert.title) : alert.title),
    h('p', { class: 'meta' }, h('span', { class: `rstatus ${alert.status}` }, t(`astatus.${alert.status}`)), ' ',
      h('span', { class: `severity ${alert.severity}` }, t(`severity.${alert.severity}`)), ' · ',
      alert.areas.map((area) => area.name).join(', '), ' · ',
      alert.published_at ? t('alertlist.published_at', { when: when(alert.published_at) })
        : t('alertlist.created_at', { when: when(alert.created_at) })),
    alert.status === 'draft' ? null : h('p', { class: 'counts' }, `${t('alertlist.deliveries')} `,
      COUNTS.map((name, i) => [i ? ' · ' : '', h('span', { 'data-count': name },
        t(`delivery.${name}`, { n: deliveries[name] ?? 0 }))])),
    alert.status === 'published' && isModerator(staff) ? h('div', { class: 'actions' }, retractButton) : null);
}

export async function render(main, { params }) {
  const staff = await frame(main, '/staff/alerts');
  if (!staff) return;
  const filter = field({ name: 'status', label: t('alertlist.show'),
    options: [['', t('queue.any')], ...STATUSES.map((v) => [v, t(`astatus.${v}`)])] });
  const select = filter.querySelector('select');
  select.value = params.get('status') || '';
  const refresh = h('button', { type: 'button', class: 'secondary' }, t('alertlist.refresh'));
  const message = status();
  const list = h('ul', { class: 'rows' });
  const pager = h('div', { class: 'actions pager' });
  main.append(h('h1', {}, t('alertlist.title')), h('div', { class: 'filters' }, filter, refresh), message, list, pager);
  if (params.get('done')) message.textContent = t(`alertlist.done_${params.get('done')}`);

  const offset = Math.max(0, Number.parseInt(params.get('offset'), 10) || 0);
  const address = (at) => {
    const query = new URLSearchParams();
    if (select.value) query.set('status', select.value);
    if (at) query.set('offset', at);
    const text = query.toString();
    return `/staff/alerts${text ? `?${text}` : ''}`;
  };
  select.addEventListener('change', () => navigate(address(0)));

  const load = async () => {
    const query = new URLSearchParams({ limit: PAGE, offset });
    if (select.value) query.set('status', select.value);
    const response = await call(`/api/v1/staff/alerts?${query}`);
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = problem(response);
      return;
    }
    const { alerts, total } = response.data;
    list.replaceChildren(...alerts.map((alert) => card(alert, staff, retract)));
    if (!alerts.length) list.append(h('li', { class: 'empty' }, t('alertlist.none')));
    pager.replaceChildren(
      offset > 0 ? h('a', { class: 'button secondary', href: address(Math.max(0, offset - PAGE)) }, t('queue.newer')) : '',
      offset + alerts.length < total ? h('a', { class: 'button secondary', href: address(offset + PAGE) }, t('queue.older')) : '');
  };

  async function retract(alert) {
    message.textContent = t('staff.working');
    const response = await call(`/api/v1/staff/alerts/${alert.id}/retract`, { method: 'POST' });
    if (response.ended) return;
    message.textContent = response.ok ? t('alertlist.done_retracted') : problem(response);
    if (response.ok) await load();
  }

  refresh.addEventListener('click', async () => {
    await load();
    message.textContent = t('alertlist.refreshed');
  });
  await load();
}
