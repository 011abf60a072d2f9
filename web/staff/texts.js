// Text members: enrol a person's phone number at the drop-in, with
// their consent, for alerts by text in their areas and language; and the text members,
// each of which can be wiped (number and areas forgotten, texts not yet sent stopped).
import { h, chips, field, status, errorList } from '../dom.js';
import { t } from '../i18n.js';
import { cachedAreas, refreshAreas, byRegion, areaName } from '../areas.js';
import { call, frame, problem } from './staff.js';
import { when, confirmStep } from './tools.js';

const STYLES = [['neutral', 'texts.style_neutral'], ['detailed', 'texts.style_detailed']];

function row(member, areas, languages, wipe) {
  const button = h('button', { type: 'button', class: 'secondary' }, t('texts.wipe'));
  button.addEventListener('click', async () => {
    if (await confirmStep(button, t('texts.wipe_confirm'), t('texts.wipe_yes'))) wipe(member);
  });
  const state = member.wiped_at ? t('texts.wiped', { when: when(member.wiped_at) })
    : member.revoked_at ? t('invites.revoked', { when: when(member.revoked_at) })
      : member.stopped_at ? t('texts.stopped') : null;
  return h('li', { class: 'row', 'data-id': member.id },
    h('p', {}, member.phone || '—', ' · ', member.areas.map((a) => areaName(areas, a.slug)).join(', '),
      ' · ', languages[member.language] || member.language, ' · ', t(`texts.style_${member.style}`)),
    h('p', { class: 'meta' }, t('texts.enrolled', { when: when(member.created_at) }), state ? ` · ${state}` : ''),
    member.wiped_at ? null : h('div', { class: 'actions' }, button));
}

export async function render(main) {
  if (!(await frame(main, '/staff/texts'))) return;
  const message = status();
  const problems = h('div', { class: 'problems', tabindex: '-1', hidden: true });
  const list = h('ul', { class: 'rows' });
  const answer = await call('/api/v1/staff/sms/languages');
  const languages = Object.fromEntries(((answer.ok && answer.data) || []).map((l) => [l.code, l.name]));
  const areas = (await cachedAreas()).length ? await cachedAreas() : await refreshAreas();
  const form = h('form', { class: 'text-form', novalidate: true },
    field({ name: 'phone', label: t('texts.phone'), hint: t('texts.phone_hint'), type: 'tel',
      autocomplete: 'off', maxlength: 40, required: true }),
    h('fieldset', { class: 'group' }, h('legend', {}, t('texts.areas'),
      h('span', { class: 'required' }, ` ${t('form.required')}`)),
    byRegion(areas).map((group) => h('fieldset', { class: 'group' }, h('legend', {}, group.group),
      h('div', { class: 'chips' }, group.options.map(([slug, name]) => h('label', { class: 'chip' },
        h('input', { type: 'checkbox', name: 'areas', value: slug }), h('span', {}, name))))))),
    field({ name: 'language', label: t('texts.language'), options: Object.entries(languages) }),
    chips({ name: 'style', legend: t('texts.style'), type: 'radio', options: STYLES, hint: t('texts.style_hint') }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'consent' }), h('span', {}, t('texts.consent'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('texts.enrol'))));
  form.querySelector('input[name="style"][value="neutral"]').checked = true;

  const load = async () => {
    const response = await call('/api/v1/staff/sms/members');
    if (response.ended) return;
    if (!response.ok) {
      list.replaceChildren(h('li', { class: 'empty' }, problem(response)));
      return;
    }
    list.replaceChildren(...response.data.map((member) => row(member, areas, languages, wipe)));
    if (!response.data.length) list.append(h('li', { class: 'empty' }, t('texts.none')));
  };
  async function wipe(member) {
    const response = await call(`/api/v1/staff/sms/members/${member.id}/wipe`, { method: 'POST' });
    if (response.ended) return;
    message.textContent = response.ok ? t('texts.done_wiped') : problem(response);
    if (response.ok) await load();
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problems.hidden = true;
    message.textContent = t('staff.working');
    const ticked = [...form.querySelectorAll('input[name="areas"]:checked')].map((el) => el.value);
    const response = await call('/api/v1/staff/sms/members', { method: 'POST', body: {
      phone: form.elements.phone.value.trim(), areas: ticked, language: form.elements.language.value,
      style: form.querySelector('input[name="style"]:checked').value, consent: form.elements.consent.checked,
    } });
    if (response.ended) return;
    message.textContent = '';
    if (!response.ok) {
      const errors = response.data && response.data.errors && response.data.errors.json;
      problems.replaceChildren(h('p', {}, problem(response)), errors ? errorList(errors) : '');
      problems.hidden = false;
      problems.focus();
      return;
    }
    form.reset();
    form.querySelector('input[name="style"][value="neutral"]').checked = true;
    message.textContent = t('texts.done_enrolled');
    await load();
  });
  main.append(h('h1', {}, t('texts.title')), h('p', { class: 'lead' }, t('texts.lead')),
    form, problems, message, h('h2', {}, t('texts.members')), list);
  await load();
}
