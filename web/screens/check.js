// Check a number (or an email, online name or plate) against the published alerts before
// meeting someone. Members only; needs a connection: a lookup is never queued or kept on
// this phone (what was checked is nobody else's business).
import { h, field, status, errorList, reveal } from '../dom.js';
import { t } from '../i18n.js';
import { api, memberToken, NetworkError } from '../api.js';
import { facts, joinFirst } from './alerts.js';

const KINDS = {
  phone: { type: 'tel', autocomplete: 'off', inputmode: 'tel' },
  email: { type: 'email', autocomplete: 'off', inputmode: 'email' },
  handle: { type: 'text', autocomplete: 'off', autocapitalize: 'none' },
  plate: { type: 'text', autocomplete: 'off', autocapitalize: 'characters' },
};

function matches(alerts) {
  return h('ul', { class: 'cards' }, alerts.map((alert) => h('li', { class: `card alert ${alert.severity}` },
    h('h3', {}, h('a', { href: `/alerts?id=${alert.number}` }, alert.title)),
    facts(alert))));
}

function answer(data) {
  const parts = [];
  if (data.withheld) {
    parts.push(h('div', { class: 'answer warning' }, h('h2', { tabindex: '-1' }, t('check.withheld_title')),
      h('p', {}, t('check.withheld'))));
  }
  if (data.alerts.length) {
    parts.push(h('div', { class: 'answer found' },
      h('h2', { tabindex: '-1' }, t('check.found_title', { n: data.alerts.length })),
      h('p', {}, t('check.found')), matches(data.alerts)));
  }
  if (!parts.length) {
    parts.push(h('div', { class: 'answer none' }, h('h2', { tabindex: '-1' }, t('check.none_title')),
      h('p', {}, t('check.none'))));
  }
  return parts;
}

export async function render(main) {
  if (!(await memberToken())) {
    joinFirst(main, t('check.title'));
    return;
  }
  const kinds = h('fieldset', { class: 'group' }, h('legend', {}, t('check.kind')),
    h('div', { class: 'chips' }, Object.keys(KINDS).map((kind) => h('label', { class: 'chip' },
      h('input', { type: 'radio', name: 'kind', value: kind, checked: kind === 'phone' }),
      h('span', {}, t(`check.kind_${kind}`))))));
  const value = field({ name: 'value', label: t('check.value_phone'), hint: t('check.value_hint'),
    maxlength: 254, spellcheck: 'false', required: true, ...KINDS.phone });
  const input = value.querySelector('input');
  const label = value.querySelector('label');
  const button = h('button', { type: 'submit', class: 'primary' }, t('check.submit'));
  const form = h('form', { class: 'check-form', novalidate: true }, kinds, value,
    h('div', { class: 'actions' }, button));
  const message = status();
  const result = h('section', { class: 'result', 'aria-label': t('check.result') });
  main.append(h('h1', {}, t('check.title')), h('p', { class: 'lead' }, t('check.lead')), form, message, result);

  kinds.addEventListener('change', () => {
    const kind = form.elements.kind.value;
    label.firstChild.textContent = t(`check.value_${kind}`);
    for (const [name, setting] of Object.entries(KINDS[kind])) input.setAttribute(name, setting);
    result.replaceChildren();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = form.elements.kind.value;
    const text = input.value.trim();
    result.replaceChildren();
    if (text.length < 3) {
      input.setAttribute('aria-invalid', 'true');
      message.textContent = t('check.need_value');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    message.textContent = t('check.checking');
    button.disabled = true;
    let response;
    try {
      response = await api('/api/v1/checks', { method: 'POST', body: { kind, value: text } });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      message.textContent = t('check.offline');
      return;
    } finally {
      button.disabled = false;
    }
    if (response.ok && Array.isArray(response.data?.alerts)) {
      message.textContent = '';
      result.replaceChildren(...answer(response.data));
      // Scrolled to, not only focused: under the tab bar a focused heading counts as seen.
      reveal(result.querySelector('h2'));
    } else if (response.status === 429) {
      message.textContent = t('check.busy');
    } else if (response.status === 401) {
      message.textContent = t('alerts.members_only');
    } else if (response.status === 422 && response.data) {
      input.setAttribute('aria-invalid', 'true');
      message.replaceChildren(t('check.invalid'), errorList(response.data.errors));
    } else {
      message.textContent = t('check.failed');
    }
  });
}
