// The Support queue: cases of reports that asked for support (or people who will come
// back to the drop-in), new ones first, oldest first within each status, so nobody waits
// longest. Filter by status or "mine". A moderator also records police requests here:
// the police quote a pack reference, and the reporter is asked through their case.
import { h, field, status, formatDate } from '../dom.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { call, frame, problem, isModerator } from './staff.js';
import { when } from './tools.js';

export const CASE_STATUSES = ['new', 'contacted', 'closed'];
const PAGE = 25;

function row(item) {
  const title = [formatDate(item.occurred_on), item.area ? item.area.name : ''].filter(Boolean).join(' · ');
  const flags = [
    item.reporter_wrote ? ['reply', 'support.reporter_wrote'] : null,
    item.come_back ? ['', 'support.come_back'] : null,
    !item.come_back && !item.has_contact ? ['', 'support.no_contact'] : null,
    item.on_behalf ? ['', 'queue.on_behalf'] : null,
  ].filter(Boolean).map(([kind, key]) => h('span', { class: `flag ${kind}` }, t(key)));
  return h('li', { class: `row case-${item.status}`, 'data-id': item.id },
    h('h2', {}, h('a', { href: `/staff/case?id=${item.id}` }, title)),
    h('p', { class: 'types' }, item.incident_types.map((type) => t(`incident.${type}`)).join(', ')),
    h('p', { class: 'meta' }, h('span', { class: 'rstatus' }, t(`case.status.${item.status}`)), ' ',
      item.assigned_to ? t('support.assigned', { name: item.assigned_to }) : t('support.unassigned'), ' ',
      t('support.opened', { when: when(item.opened_at) }), ' ', flags));
}

function policeForm() {
  const message = status();
  const form = h('form', { class: 'police-request', novalidate: true },
    h('h2', {}, t('support.police_title')),
    h('p', { class: 'hint' }, t('support.police_hint')),
    field({ name: 'reference', label: t('support.police_reference'), maxlength: 20, autocomplete: 'off',
      required: true }),
    field({ name: 'request', label: t('support.police_request'), multiline: true, maxlength: 5000,
      required: true }),
    field({ name: 'message', label: t('support.police_message'), hint: t('support.police_message_hint'),
      multiline: true, maxlength: 2000, required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, t('support.police_record'))),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(['reference', 'request', 'message']
      .map((name) => [name, form.elements[name].value.trim()]));
    if (Object.values(body).some((value) => !value)) {
      message.textContent = t('support.police_need_all');
      return;
    }
    const response = await call('/api/v1/staff/police-requests', { method: 'POST', body });
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = response.status === 404 ? t('support.police_unknown') : problem(response);
      return;
    }
    navigate(`/staff/case?id=${response.data.id}`);
  });
  return form;
}

export async function render(main, { params }) {
  const staff = await frame(main, '/staff/support');
  if (!staff) return;
  const filters = h('form', { class: 'filters' },
    field({ name: 'status', label: t('support.status'),
      options: [['', t('support.open')], ...CASE_STATUSES.map((v) => [v, t(`case.status.${v}`)]), ['all', t('queue.any')]] }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'mine', value: 'true' }),
      h('span', {}, t('support.mine'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, t('queue.filter'))));
  filters.elements.status.value = params.get('status') || '';
  filters.elements.mine.checked = params.get('mine') === 'true';
  const count = h('p', { class: 'count', role: 'status' });
  const list = h('ul', { class: 'rows' });
  const pager = h('div', { class: 'actions pager' });
  main.append(h('h1', {}, t('support.title')), filters, count, list, pager);
  if (isModerator(staff)) main.append(policeForm());

  const address = (offset) => {
    const query = new URLSearchParams();
    if (filters.elements.status.value) query.set('status', filters.elements.status.value);
    if (filters.elements.mine.checked) query.set('mine', 'true');
    if (offset) query.set('offset', offset);
    const text = query.toString();
    return `/staff/support${text ? `?${text}` : ''}`;
  };
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(address(0));
  });

  const offset = Math.max(0, Number.parseInt(params.get('offset'), 10) || 0);
  const query = new URLSearchParams({ limit: PAGE, offset });
  const chosen = params.get('status') || '';
  // By default the open cases: new and contacted.
  if (!chosen) ['new', 'contacted'].forEach((value) => query.append('status', value));
  else if (chosen !== 'all') query.set('status', chosen);
  if (params.get('mine') === 'true') query.set('mine', 'true');
  const response = await call(`/api/v1/staff/cases?${query}`);
  if (response.ended) return;
  if (!response.ok) {
    count.textContent = problem(response);
    return;
  }
  const { cases, total } = response.data;
  count.textContent = total
    ? t('queue.showing', { from: offset + 1, to: offset + cases.length, total })
    : t('support.none');
  list.replaceChildren(...cases.map(row));
  if (offset > 0) pager.append(h('a', { class: 'button secondary', href: address(Math.max(0, offset - PAGE)) }, t('queue.newer')));
  if (offset + cases.length < total) pager.append(h('a', { class: 'button secondary', href: address(offset + PAGE) }, t('queue.older')));
}
