// Object to a warning: for someone who believes an alert wrongly describes them. No
// account and nothing kept on this device: they get a dispute number and a code to
// write down, and follow the outcome with both. The server keeps no address, and the
// answer to filing is the same whether or not any warning carries what they name.
import { h, field, status, chips } from '../dom.js';
import { t } from '../i18n.js';
import { api, NetworkError } from '../api.js';

const KINDS = ['phone', 'email', 'handle', 'plate'];

async function send(path, options, message) {
  try {
    return await api(path, options);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    message.textContent = t('dispute.offline');
    return null;
  }
}

function outcome(view) {
  return h('div', { class: 'notice dispute-outcome' },
    h('p', {}, h('strong', {}, t(`dispute.status.${view.status}`))),
    view.reason ? h('p', { class: 'text' }, view.reason) : null);
}

function followForm(params) {
  const message = status();
  const result = h('div');
  const form = h('form', { class: 'dispute-follow', novalidate: true },
    h('h2', {}, t('dispute.follow_title')),
    field({ name: 'id', label: t('dispute.number'), inputmode: 'numeric', autocomplete: 'off', required: true }),
    field({ name: 'receipt', label: t('dispute.code'), autocomplete: 'off', spellcheck: 'false', required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, t('dispute.follow'))),
    message, result);
  form.elements.id.value = params.get('id') || '';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = form.elements.id.value.trim();
    const receipt = form.elements.receipt.value.trim().toUpperCase();
    if (!/^\d+$/.test(id) || !receipt) {
      message.textContent = t('dispute.need_both');
      return;
    }
    message.textContent = '';
    const response = await send(`/api/v1/disputes/${id}`, { headers: { 'X-Receipt': receipt } }, message);
    if (!response) return;
    if (!response.ok) {
      result.replaceChildren();
      message.textContent = response.status === 404 ? t('dispute.not_found') : t('dispute.failed');
      return;
    }
    result.replaceChildren(outcome(response.data));
  });
  return form;
}

export async function render(main, { params }) {
  const message = status();
  const done = h('div', { class: 'dispute-filed', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'dispute-form', novalidate: true },
    chips({ name: 'identifier_kind', legend: t('dispute.kind'), type: 'radio',
      options: KINDS.map((kind) => [kind, `identifier.${kind}`]), required: true }),
    field({ name: 'identifier', label: t('dispute.identifier'), hint: t('dispute.identifier_hint'),
      maxlength: 254, autocomplete: 'off', required: true }),
    field({ name: 'statement', label: t('dispute.statement'), hint: t('dispute.statement_hint'),
      multiline: true, maxlength: 5000, required: true }),
    field({ name: 'contact', label: t('dispute.contact'), hint: t('dispute.contact_hint'),
      maxlength: 254, autocomplete: 'off' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('dispute.send'))),
    message);
  main.append(h('h1', { tabindex: '-1' }, t('dispute.title')),
    h('p', { class: 'lead' }, t('dispute.lead')),
    h('p', {}, t('dispute.how')),
    form, done, followForm(params));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = (form.querySelector('[name="identifier_kind"]:checked') || {}).value;
    const body = {
      identifier_kind: kind,
      identifier: form.elements.identifier.value.trim(),
      statement: form.elements.statement.value.trim(),
    };
    const contact = form.elements.contact.value.trim();
    if (contact) body.contact = contact;
    if (!kind || !body.identifier || !body.statement) {
      message.textContent = t('dispute.need_fields');
      return;
    }
    message.textContent = t('dispute.sending');
    const response = await send('/api/v1/disputes', { method: 'POST', body }, message);
    if (!response) return;
    if (!response.ok) {
      if (response.status === 429) message.textContent = t('dispute.too_many');
      else if (response.status === 422) message.textContent = t('dispute.invalid');
      else message.textContent = t('dispute.failed');
      return;
    }
    form.reset();
    form.hidden = true;
    message.textContent = '';
    done.replaceChildren(
      h('h2', {}, t('dispute.filed_title')),
      h('p', {}, t('dispute.filed_keep')),
      h('dl', { class: 'pairs' },
        h('dt', {}, t('dispute.number')), h('dd', { class: 'dispute-number' }, String(response.data.id)),
        h('dt', {}, t('dispute.code')), h('dd', {}, h('code', { class: 'dispute-code' }, response.data.receipt))));
    done.hidden = false;
    done.focus();
  });
}
