// Staff login: username, password and, when the account has one, the six-digit code.
// The session is an HttpOnly cookie; the CSRF token stays in memory (staff.js).
import { h, field, status } from '../dom.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { call, loggedIn, problem } from './staff.js';

// Only back to a staff screen of this app, never to an address someone put in the link.
function nextPath(params) {
  const next = params.get('next') || '';
  return /^\/staff\/[a-z-]+(\?[\w=&%.-]*)?$/.test(next) ? next : '/staff/queue';
}

export async function render(main, { params }) {
  const message = status();
  const note = params.get('ended') ? t('login.ended') : params.get('out') ? t('login.out') : '';
  const username = field({ name: 'username', label: t('login.username'), autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', maxlength: 80, required: true });
  const password = field({ name: 'password', label: t('login.password'), type: 'password',
    autocomplete: 'current-password', maxlength: 1024, required: true });
  const otp = field({ name: 'otp', label: t('login.otp'), hint: t('login.otp_hint'),
    autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6, pattern: '[0-9]{6}' });
  const form = h('form', { class: 'login-form', novalidate: true }, username, password, otp,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('login.submit'))));
  main.append(h('h1', {}, t('login.title')), note ? h('p', { class: 'notice' }, note) : '', form, message);

  // Already logged in (a reload, or Back): straight on.
  const me = await call('/api/v1/staff/me', { anonymous: true });
  if (me.ok) {
    loggedIn(me.data);
    navigate(nextPath(params));
    return;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { username: form.elements.username.value.trim(), password: form.elements.password.value };
    const code = form.elements.otp.value.trim();
    if (code) body.otp = code;
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    if (!body.username || !body.password) {
      message.textContent = t('login.need');
      (body.username ? form.elements.password : form.elements.username).focus();
      return;
    }
    message.textContent = t('login.working');
    const response = await call('/api/v1/staff/login', { method: 'POST', body, anonymous: true });
    if (response.ok) {
      form.elements.password.value = '';
      loggedIn(response.data);
      navigate(nextPath(params));
      return;
    }
    message.textContent = response.status === 429 ? t('login.busy') : problem(response);
    const otpNeeded = response.data && response.data.errors && response.data.errors.json
      && response.data.errors.json.otp;
    const wrong = otpNeeded ? form.elements.otp : form.elements.password;
    wrong.setAttribute('aria-invalid', 'true');
    wrong.focus();
  });
}
