// One case: the report it follows up (link), status, "assign to me", the contact details
// (for the assigned caseworker and moderators), staff-only notes, the messages with the
// reporter (they read and reply through their receipt) and any police requests.
import { h, field, status, formatDate } from '../dom.js';
import { t } from '../i18n.js';
import { call, frame, problem } from './staff.js';
import { when, shortId } from './tools.js';
import { CASE_STATUSES } from './support.js';

function section(id, title, ...content) {
  return h('section', { class: 'detail-section', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function texts(items, empty, cls) {
  if (!items.length) return h('p', { class: 'hint' }, t(empty));
  return h('ol', { class: 'messages' }, items.map((item) => h('li', {
    class: `message ${cls || ''} ${item.sender ? `from-${item.sender}` : ''}`,
  }, h('p', { class: 'who' }, item.sender === 'reporter' ? t('case.reporter') : (item.staff || t('case.project')),
    ' · ', when(item.at)),
  h('p', { class: 'text' }, item.body === null ? t('messages.unreadable') : item.body))));
}

function textForm(name, label, hint, max, button, onSend) {
  const form = h('form', { class: `case-${name}`, novalidate: true },
    field({ name: 'body', label, hint, multiline: true, maxlength: max, required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, button)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = form.elements.body.value.trim();
    if (!body) {
      form.elements.body.setAttribute('aria-invalid', 'true');
      form.elements.body.focus();
      return;
    }
    onSend(body);
  });
  return form;
}

export async function render(main, { params }) {
  const staff = await frame(main, '/staff/support');
  if (!staff) return;
  const id = params.get('id') || '';
  const box = h('div', { class: 'detail' });
  const message = status();
  main.append(box, message);

  async function act(path, options, done) {
    message.textContent = t('staff.working');
    const response = await call(`/api/v1/staff/cases/${encodeURIComponent(id)}${path}`, options);
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = problem(response);
      return;
    }
    await load();
    message.textContent = t(done);
  }

  async function load() {
    const response = await call(`/api/v1/staff/cases/${encodeURIComponent(id)}`);
    if (response.ended) return;
    if (!response.ok) {
      box.replaceChildren(h('h1', {}, t('case.title', { id })), h('p', { class: 'problems' }, problem(response)));
      return;
    }
    const item = response.data;
    const statusField = field({ name: 'status', label: t('case.status'),
      options: CASE_STATUSES.map((v) => [v, t(`case.status.${v}`)]) });
    const select = statusField.querySelector('select');
    select.value = item.status;
    select.addEventListener('change', () => act('', { method: 'PATCH', body: { status: select.value } },
      'case.done_status'));
    const assign = item.assigned_to === staff.username ? null
      : h('button', { type: 'button', class: 'secondary',
        onclick: () => act('/assign', { method: 'POST', body: {} }, 'case.done_assign') }, t('case.assign_me'));
    let contact;
    if (item.contact) {
      contact = h('dl', { class: 'pairs' }, ['name', 'phone', 'email', 'note']
        .filter((name) => item.contact[name])
        .flatMap((name) => [h('dt', {}, t(`contact.${name}`)), h('dd', {}, item.contact[name])]));
    } else {
      let key = 'case.contact_none';
      if (item.come_back) key = 'case.contact_come_back';
      else if (item.has_contact) key = 'case.contact_assigned';
      contact = h('p', { class: item.come_back ? 'notice' : 'hint' }, t(key));
    }
    box.replaceChildren(
      h('h1', {}, t('case.title', { id: item.id })),
      h('p', { class: 'meta' },
        h('a', { href: `/staff/report?id=${encodeURIComponent(item.report_id)}` },
          t('case.report', { id: shortId(item.report_id) })), ' · ',
        formatDate(item.occurred_on), ' · ', item.area ? item.area.name : '', ' · ',
        item.assigned_to ? t('support.assigned', { name: item.assigned_to }) : t('support.unassigned')),
      h('div', { class: 'actions' }, statusField, assign),
      section('c-contact', t('case.contact'), contact),
      section('c-messages', t('case.messages'),
        h('p', { class: 'hint' }, t('case.messages_hint')),
        texts(item.messages, 'case.no_messages'),
        item.status === 'closed' ? h('p', { class: 'hint' }, t('case.closed_no_messages'))
          : textForm('message', t('case.write'), t('case.write_hint'), 2000, t('case.send'),
            (body) => act('/messages', { method: 'POST', body: { body } }, 'case.done_message'))),
      section('c-notes', t('case.notes'),
        h('p', { class: 'hint' }, t('case.notes_hint')),
        texts(item.notes, 'case.no_notes', 'note'),
        textForm('note', t('case.add_note'), null, 5000, t('case.save_note'),
          (body) => act('/notes', { method: 'POST', body: { body } }, 'case.done_note'))),
      item.police_requests.length ? section('c-police', t('case.police'),
        h('p', { class: 'hint' }, t('case.police_hint')),
        texts(item.police_requests, 'case.no_notes', 'note')) : null,
    );
  }
  await load();
}
