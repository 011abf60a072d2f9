// Join: redeem an invite code, typed or from a link /join#CODE (a QR code can carry it).
// The member token comes back once; it is kept in IndexedDB (see api.js) and sent with
// every API call from then on. A member sees what membership gives, not an empty code box.
import { h, field, status, icon, reveal } from '../dom.js';
import { t } from '../i18n.js';
import { api, memberToken, setMemberToken, NetworkError } from '../api.js';

function memberPanel(main, justJoined) {
  main.replaceChildren(h('h1', { tabindex: '-1' }, t('join.done_title')),
    h('p', { class: 'status', role: 'status' }, justJoined ? t('join.welcome') : t('join.member')),
    h('p', {}, t('join.gives')),
    h('p', { class: 'member-links' },
      h('a', { class: 'button primary', href: '/alerts' }, icon('alerts'), t('join.to_alerts')),
      h('a', { class: 'button secondary', href: '/check' }, icon('check'), t('join.to_check'))));
  if (justJoined) reveal(main.querySelector('h1'));
}

export async function render(main) {
  const member = Boolean(await memberToken());
  if (member && location.hash.length <= 1) {
    memberPanel(main, false);
    return;
  }
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
    if (response.ok && response.data?.token) {
      await setMemberToken(response.data.token);
      input.value = '';
      memberPanel(main, true);
      document.dispatchEvent(new CustomEvent('redflag:member'));
    } else if (response.status === 429) {
      message.textContent = t('join.busy');
    } else {
      // The server's own words are English, for developers: the app says it in its own.
      input.setAttribute('aria-invalid', 'true');
      const code = response.data?.error; // the stable code (server/errors.py)
      message.textContent = code && t(`error.${code}`) !== `error.${code}` ? t(`error.${code}`) : t('join.failed');
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
