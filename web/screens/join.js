// Join: redeem an invite code, typed or from a link /join#CODE (a QR code can carry it).
// The member token comes back once; it is kept in IndexedDB (see api.js) and sent with
// every API call from then on.
import { h, field, status } from '../dom.js';
import { t } from '../i18n.js';
import { api, memberToken, setMemberToken, NetworkError } from '../api.js';

export async function render(main) {
  const member = Boolean(await memberToken());
  const message = status();
  const state = h('p', { class: 'member-state' }, member ? t('join.member') : t('join.not_member'));
  const code = field({ name: 'code', label: t('join.code'), hint: t('join.code_hint'),
    autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxlength: 64, required: true });
  const input = code.querySelector('input');
  const form = h('form', { class: 'join-form', novalidate: true }, code,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('join.submit'))));

  main.append(h('h1', {}, t('join.title')), h('p', { class: 'lead' }, t('join.lead')), state, form, message);

  const redeem = async () => {
    const value = input.value.trim().toUpperCase();
    if (!value) {
      input.setAttribute('aria-invalid', 'true');
      message.textContent = t('join.need_code');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    message.textContent = t('join.joining');
    let response;
    try {
      response = await api('/api/v1/members/redeem', { method: 'POST', body: { code: value } });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      message.textContent = t('join.offline');
      return;
    }
    if (response.ok && response.data && response.data.token) {
      await setMemberToken(response.data.token);
      input.value = '';
      state.textContent = t('join.member');
      message.textContent = t('join.welcome');
    } else if (response.status === 429) {
      message.textContent = t('join.busy');
    } else {
      input.setAttribute('aria-invalid', 'true');
      message.textContent = (response.data && response.data.message) || t('join.failed');
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    redeem();
  });

  // A code in the link: take it out of the address bar (and history) and use it.
  if (location.hash.length > 1) {
    input.value = decodeURIComponent(location.hash.slice(1));
    history.replaceState(null, '', '/join');
    redeem();
  }
}
