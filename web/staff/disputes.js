// The Disputes queue (moderators): objections to alerts, open ones first. Opening one
// shows the objector's statement, how to reach them and the alerts that carry what they
// name; the decision is upheld (withdrawn from checks and taken out of those alerts, and
// optionally the alerts retracted) or not upheld, each with a reason the objector reads.
import { h, field, status, chips } from '../dom.js';
import { t } from '../i18n.js';
import { call, frame, problem } from './staff.js';
import { when, confirmStep } from './tools.js';

function row(item) {
  return h('li', { class: `row dispute-${item.status}`, 'data-id': item.id },
    h('h2', {}, h('a', { href: `/staff/disputes?id=${item.id}` },
      t('disputes.item', { id: item.id, kind: t(`identifier.${item.identifier_kind}`), value: item.identifier }))),
    h('p', { class: 'meta' }, h('span', { class: 'rstatus' }, t(`dispute.status.${item.status}`)), ' ',
      t('disputes.filed', { when: when(item.filed_at) })));
}

function decision(item, decided) {
  const message = status();
  const reason = field({ name: 'reason', label: t('disputes.reason'), hint: t('disputes.reason_hint'),
    multiline: true, maxlength: 2000, required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, t('disputes.decide'));
  const form = h('form', { class: 'dispute-decision', novalidate: true },
    chips({ name: 'outcome', legend: t('disputes.outcome'), type: 'radio',
      options: [['upheld', 'disputes.upheld'], ['not_upheld', 'disputes.not_upheld']], required: true }),
    reason,
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'retract', value: 'yes' }),
      h('span', {}, t('disputes.retract'))),
    h('div', { class: 'actions' }, button), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = (form.querySelector('[name="outcome"]:checked') || {}).value;
    const text = form.elements.reason.value.trim();
    if (!outcome || !text) {
      message.textContent = t('disputes.need_both');
      return;
    }
    if (!(await confirmStep(button, t(`disputes.confirm_${outcome}`), t('disputes.yes')))) return;
    const response = await call(`/api/v1/staff/disputes/${item.id}/decide`, { method: 'POST',
      body: { outcome, reason: text, retract: outcome === 'upheld' && form.elements.retract.checked } });
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = problem(response);
      return;
    }
    decided();
  });
  return form;
}

async function detail(main, id) {
  const box = h('div', { class: 'detail' });
  main.append(h('p', {}, h('a', { href: '/staff/disputes' }, t('disputes.back'))), box);
  const load = async (note) => {
    const response = await call(`/api/v1/staff/disputes/${encodeURIComponent(id)}`);
    if (response.ended) return;
    if (!response.ok) {
      box.replaceChildren(h('p', { class: 'problems' }, problem(response)));
      return;
    }
    const item = response.data;
    box.replaceChildren(
      h('h1', {}, t('disputes.title_one', { id: item.id })),
      note ? h('p', { class: 'status', role: 'status' }, note) : null,
      h('dl', { class: 'pairs' },
        h('dt', {}, t('disputes.identifier')), h('dd', {}, `${t(`identifier.${item.identifier_kind}`)}: ${item.identifier}`),
        h('dt', {}, t('disputes.state')), h('dd', {}, t(`dispute.status.${item.status}`)),
        h('dt', {}, t('disputes.contact')), h('dd', {}, item.contact || t('detail.nothing')),
        item.reason ? [h('dt', {}, t('disputes.reason')), h('dd', {}, item.reason)] : null),
      h('h2', {}, t('disputes.statement')),
      h('p', { class: 'text' }, item.statement === null ? t('messages.unreadable') : item.statement),
      h('h2', {}, t('disputes.alerts')),
      item.alerts.length ? h('ul', {}, item.alerts.map((alert) => h('li', {},
        h('a', { href: `/staff/alert?id=${encodeURIComponent(alert.id)}` }, alert.title), ' · ',
        t(`astatus.${alert.status}`)))) : h('p', { class: 'hint' }, t('disputes.no_alerts')),
      item.status === 'open' ? decision(item, () => load(t('disputes.done'))) : null);
  };
  await load();
}

export async function render(main, { params }) {
  if (!(await frame(main, '/staff/disputes'))) return;
  if (params.get('id')) {
    await detail(main, params.get('id'));
    return;
  }
  const count = h('p', { class: 'count', role: 'status' });
  const list = h('ul', { class: 'rows' });
  main.append(h('h1', {}, t('disputes.title')), h('p', { class: 'hint' }, t('disputes.lead')), count, list);
  const response = await call('/api/v1/staff/disputes?limit=100');
  if (response.ended) return;
  if (!response.ok) {
    count.textContent = problem(response);
    return;
  }
  count.textContent = response.data.total ? t('disputes.count', { n: response.data.total }) : t('disputes.none');
  list.replaceChildren(...response.data.disputes.map(row));
}
