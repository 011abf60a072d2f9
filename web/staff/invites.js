// Invites: make a single-use code, shown large to read out, with its join link; and the
// member devices, each of which can be revoked. (No QR code: drawing one needs either a
// dependency or an encoder of our own; the link can be sent or typed instead.)
import { h, field, status } from '../dom.js';
import { t } from '../i18n.js';
import { call, frame, problem } from './staff.js';
import { when, confirmStep } from './tools.js';

function memberRow(member, revoke) {
  const button = h('button', { type: 'button', class: 'secondary' }, t('invites.revoke'));
  button.addEventListener('click', async () => {
    if (await confirmStep(button, t('invites.revoke_confirm'), t('invites.revoke_yes'))) revoke(member);
  });
  return h('li', { class: 'row', 'data-id': member.id },
    h('p', {}, t('invites.member', { id: member.id, when: when(member.created_at) }),
      member.note ? ` · ${member.note}` : ''),
    member.revoked_at ? h('p', { class: 'meta' }, t('invites.revoked', { when: when(member.revoked_at) }))
      // Outreach may revoke only the members who joined with their own invites.
      : member.revocable === false ? null : h('div', { class: 'actions' }, button));
}

export async function render(main) {
  if (!(await frame(main, '/staff/invites'))) return;
  const message = status();
  const result = h('div', { class: 'invite', hidden: true });
  const form = h('form', { class: 'invite-form', novalidate: true },
    field({ name: 'note', label: t('invites.note'), hint: t('invites.note_hint'), maxlength: 120, autocomplete: 'off' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('invites.create'))));
  const members = h('ul', { class: 'rows' });
  main.append(h('h1', {}, t('invites.title')), h('p', { class: 'lead' }, t('invites.lead')), form, message, result,
    h('h2', {}, t('invites.members')), members);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const note = form.elements.note.value.trim();
    message.textContent = t('staff.working');
    const response = await call('/api/v1/staff/invites', { method: 'POST', body: note ? { note } : {} });
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = problem(response);
      return;
    }
    const { code, join_url: joinUrl, expires_at: expires } = response.data;
    const link = new URL(joinUrl, location.origin).href;
    form.elements.note.value = '';
    message.textContent = t('invites.made');
    result.replaceChildren(
      h('h2', {}, t('invites.code')),
      h('p', { class: 'invite-code' }, code),
      // Not a link: opening it here would use the code up on this device.
      h('p', {}, t('invites.link'), ' ', h('code', { class: 'join-link' }, link)),
      h('p', { class: 'hint' }, t('invites.expires', { when: when(expires) })));
    result.hidden = false;
  });

  const load = async () => {
    const response = await call('/api/v1/staff/members');
    if (response.ended) return;
    if (!response.ok) {
      members.replaceChildren(h('li', { class: 'empty' }, problem(response)));
      return;
    }
    members.replaceChildren(...response.data.map((member) => memberRow(member, revoke)));
    if (!response.data.length) members.append(h('li', { class: 'empty' }, t('invites.no_members')));
  };
  async function revoke(member) {
    const response = await call(`/api/v1/staff/members/${member.id}/revoke`, { method: 'POST' });
    if (response.ended) return;
    message.textContent = response.ok ? t('invites.done_revoked') : problem(response);
    if (response.ok) await load();
  }
  await load();
}
