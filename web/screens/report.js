// Report: a short guided form. Pickers come before typing, and everything about the
// offender is optional. The form is saved as a draft as the user types (a closed tab
// loses nothing); the report's id is made when the draft is first saved and stays with it
// into the outbox, so a resend is always recognised. Submitting works the same offline.
import { h, chips, field, status, errorList } from '../dom.js';
import { t } from '../i18n.js';
import * as db from '../db.js';
import * as outbox from '../outbox.js';
import { cachedAreas, myAreas, byRegion, refreshAreas } from '../areas.js';
import { navigate } from '../router.js';

// The server's vocabulary (server/reports/models.py), in its order.
export const INCIDENT_TYPES = [
  'physical_assault', 'sexual_assault', 'rape', 'robbery', 'theft', 'refused_to_pay',
  'condom_removal', 'threats', 'harassment_or_stalking', 'drugging', 'posing_as_police',
  'outing_or_blackmail', 'other', 'outing', 'blackmail', 'image_based_abuse', 'doxxing',
];
// Still accepted and shown on old reports, no longer offered ("outing" and "blackmail" are).
export const RETIRED_INCIDENT_TYPES = ['outing_or_blackmail'];
const OFFERED_INCIDENT_TYPES = INCIDENT_TYPES.filter((v) => !RETIRED_INCIDENT_TYPES.includes(v));
export const POLICE_CONSENT = ['none', 'anonymous_intelligence', 'contact_via_project', 'full_report'];
// A draft saved by an earlier version: the nearest level that widens nothing.
const LEGACY_POLICE = { offender_only: 'anonymous_intelligence', with_contact: 'full_report' };
const PARTS_OF_DAY = ['morning', 'afternoon', 'evening', 'night'];
const PICKERS = {
  gender: ['man', 'woman', 'other'],
  age_range: ['under 25', '25-34', '35-44', '45-54', '55+'],
  height: ['short', 'average', 'tall'],
  build: ['slim', 'average', 'heavy', 'muscular'],
  contact_method: ['street', 'online_ad', 'phone', 'venue', 'app', 'other'],
};
const WORDS = ['skin', 'hair', 'accent'];
const LISTS = { phones: 'tel', emails: 'email', handles: 'text', names: 'text' };
const VEHICLE = ['make', 'model', 'colour', 'plate'];
const CONTACT = ['name', 'phone', 'email'];
const DRAFT_DELAY_MS = 300;

function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

const DEFAULTS = () => ({ occurred_on: today(), part_of_day: '', publish: 'yes', police: 'none' });
// Drop-in mode (screens/dropin.js): the outreach worker asks the person; no consent is assumed.
const DROPIN_DEFAULTS = () => ({ ...DEFAULTS(), publish: '', police: '' });

// The form's state as a plain object: {name: value, or [values] for checkboxes}.
function readFields(form) {
  const fields = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') {
      fields[el.name] = fields[el.name] || [];
      if (el.checked) fields[el.name].push(el.value);
    } else if (el.type === 'radio') {
      if (el.checked) fields[el.name] = el.value;
    } else {
      fields[el.name] = el.value;
    }
  }
  return fields;
}

function writeFields(form, fields) {
  for (const el of form.elements) {
    if (!el.name || !(el.name in fields)) continue;
    const value = fields[el.name];
    if (el.type === 'checkbox') el.checked = [].concat(value).includes(el.value);
    else if (el.type === 'radio') el.checked = el.value === value;
    else el.value = value;
  }
}

// The form's fields -> the report payload of the API contract.
export function buildReport(fields, id) {
  const one = (name) => String(fields[name] || '').trim();
  const lines = (name) => one(name).split('\n').map((s) => s.trim()).filter(Boolean);
  const ticked = (name) => [].concat(fields[name] || []);
  const report = {
    id,
    occurred_on: one('occurred_on'),
    area: one('area'),
    incident_types: ticked('incident_types'),
    description: one('description'),
  };
  if (one('part_of_day')) report.part_of_day = one('part_of_day');
  const offender = {};
  for (const name of [...Object.keys(PICKERS), ...WORDS, 'marks']) {
    if (one(`offender.${name}`)) offender[name] = one(`offender.${name}`);
  }
  for (const name of Object.keys(LISTS)) {
    if (lines(`offender.${name}`).length) offender[name] = lines(`offender.${name}`);
  }
  const vehicle = {};
  for (const name of VEHICLE) if (one(`vehicle.${name}`)) vehicle[name] = one(`vehicle.${name}`);
  if (Object.keys(vehicle).length) offender.vehicle = vehicle;
  if (Object.keys(offender).length) report.offender = offender;
  report.consent = { publish: one('publish') !== 'no', police: one('police') || 'none' };
  if (ticked('support').includes('yes')) {
    const contact = {};
    for (const name of [...CONTACT, 'note']) if (one(`contact.${name}`)) contact[name] = one(`contact.${name}`);
    report.support = { requested: true };
    if (Object.keys(contact).length) report.support.contact = contact;
  }
  if (ticked('on_behalf').includes('yes')) report.on_behalf = true;
  return report;
}

// The payload -> the form's fields (to fix a report the server refused).
function fieldsFromReport(report) {
  const fields = {
    occurred_on: report.occurred_on || '',
    area: report.area || '',
    incident_types: report.incident_types || [],
    description: report.description || '',
    part_of_day: report.part_of_day || '',
    publish: report.consent && report.consent.publish === false ? 'no' : 'yes',
    police: LEGACY_POLICE[report.consent && report.consent.police]
      || (report.consent && report.consent.police) || 'none',
    support: report.support && report.support.requested ? ['yes'] : [],
    on_behalf: report.on_behalf ? ['yes'] : [],
  };
  const offender = report.offender || {};
  for (const [name, value] of Object.entries(offender)) {
    if (name === 'vehicle') {
      for (const [part, v] of Object.entries(value || {})) fields[`vehicle.${part}`] = v;
    } else {
      fields[`offender.${name}`] = Array.isArray(value) ? value.join('\n') : value;
    }
  }
  const contact = (report.support && report.support.contact) || {};
  for (const [name, value] of Object.entries(contact)) fields[`contact.${name}`] = value;
  return fields;
}

// What must be there before a report goes to the outbox.
function problems(report, haveAreas) {
  const found = [];
  if (!report.incident_types.length) found.push(['incident_types', t('report.need_type')]);
  if (!report.description) found.push(['description', t('report.need_description')]);
  if (!report.occurred_on) found.push(['occurred_on', t('report.need_date')]);
  else if (report.occurred_on > today(1) || report.occurred_on < '2000-01-01') {
    found.push(['occurred_on', t('report.bad_date')]);
  }
  if (!report.area && haveAreas) found.push(['area', t('report.need_area')]);
  return found;
}

function picker(name, label) {
  return field({
    name: `offender.${name}`,
    label: t(label),
    options: [['', t('report.not_sure')], ...PICKERS[name].map((v) => [v, t(`offender.${name}.${v}`)])],
  });
}

function section(number, title, ...content) {
  const id = `step-${number}`;
  return h('section', { class: 'step', 'aria-labelledby': id },
    h('h2', { id }, h('span', { class: 'step-number' }, `${number}`), ' ', title),
    ...content);
}

function buildForm(areaSelect) {
  const supportBox = h('div', { class: 'support-contact' },
    h('p', { class: 'hint' }, t('report.support_hint')),
    CONTACT.map((name) => field({
      name: `contact.${name}`,
      label: t(`contact.${name}`),
      type: name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text',
      maxlength: name === 'email' ? 254 : name === 'phone' ? 40 : 80,
      autocomplete: 'off',
    })),
    field({ name: 'contact.note', label: t('contact.note'), multiline: true, maxlength: 500 }));

  return h('form', { class: 'report-form', novalidate: true },
    section(1, t('report.what'),
      chips({ name: 'incident_types', legend: t('report.types'), hint: t('report.types_hint'),
        options: OFFERED_INCIDENT_TYPES.map((v) => [v, `incident.${v}`]), required: true }),
      field({ name: 'description', label: t('report.description'), hint: t('report.description_hint'),
        multiline: true, maxlength: 5000, required: true })),
    section(2, t('report.when'),
      field({ name: 'occurred_on', label: t('report.date'), type: 'date', min: '2000-01-01',
        max: today(1), required: true }),
      chips({ name: 'part_of_day', legend: t('report.part_of_day'), type: 'radio',
        options: [['', 'report.not_sure'], ...PARTS_OF_DAY.map((v) => [v, `part_of_day.${v}`])] })),
    section(3, t('report.where'), areaSelect),
    section(4, t('report.who'),
      h('details', { class: 'more' },
        h('summary', {}, t('report.who_open')),
        h('p', { class: 'hint' }, t('report.who_hint')),
        picker('gender', 'offender.gender'),
        picker('age_range', 'offender.age_range'),
        picker('height', 'offender.height'),
        picker('build', 'offender.build'),
        picker('contact_method', 'offender.contact_method'),
        Object.entries(LISTS).map(([name]) => field({
          name: `offender.${name}`, label: t(`offender.${name}`), hint: t('report.one_per_line'),
          multiline: true, autocomplete: 'off', spellcheck: 'false',
        })),
        h('fieldset', { class: 'group' },
          h('legend', {}, t('offender.vehicle')),
          VEHICLE.map((name) => field({
            name: `vehicle.${name}`, label: t(`vehicle.${name}`), maxlength: 40, autocomplete: 'off',
          }))),
        WORDS.map((name) => field({ name: `offender.${name}`, label: t(`offender.${name}`), maxlength: 80 })),
        field({ name: 'offender.marks', label: t('offender.marks'), multiline: true, maxlength: 500 }))),
    section(5, t('report.share'),
      chips({ name: 'publish', legend: t('report.publish'), hint: t('report.publish_hint'), type: 'radio',
        options: [['yes', 'report.publish_yes'], ['no', 'report.publish_no']] }),
      chips({ name: 'police', legend: t('report.police'), type: 'radio',
        options: POLICE_CONSENT.map((v) => [v, `police.${v}`]) })),
    section(6, t('report.support'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'support', value: 'yes' }),
        h('span', {}, t('report.support_yes'))),
      supportBox,
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'on_behalf', value: 'yes' }),
        h('span', {}, t('report.on_behalf')))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('report.submit')),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'clear' }, t('report.clear'))));
}

async function areaField(fix) {
  let list = await cachedAreas();
  const mine = await myAreas();
  const select = field({ name: 'area', label: t('report.area'), options: [['', t('report.area_choose')]],
    required: true });
  const control = select.querySelector('select');
  const hint = h('p', { class: 'hint', hidden: true }, t('report.areas_offline'));
  select.append(hint);
  const fill = (areas) => {
    const value = control.value;
    const own = areas.filter((a) => mine.includes(a.slug)).map((a) => [a.slug, a.name]);
    const groups = [...(own.length ? [{ group: t('report.my_areas'), options: own }] : []), ...byRegion(areas)];
    control.replaceChildren(h('option', { value: '' }, t('report.area_choose')),
      ...groups.map((g) => h('optgroup', { label: g.group },
        g.options.map(([slug, name]) => h('option', { value: slug }, name)))));
    control.value = value;
    control.required = areas.length > 0;
    hint.hidden = areas.length > 0;
    if (!value && own.length === 1 && !fix) control.value = own[0][0];
  };
  fill(list);
  if (!list.length) {
    refreshAreas().then((fresh) => {
      list = fresh;
      if (list.length) fill(list);
    });
  }
  return { element: select, control, haveAreas: () => list.length > 0, fill };
}

export async function render(main, { params, dropin = false }) {
  const fixId = dropin ? null : params.get('fix');
  const DRAFT = dropin ? 'dropin-draft' : 'draft';
  const defaults = dropin ? DROPIN_DEFAULTS : DEFAULTS;
  let fixing = fixId ? await outbox.get(fixId) : null;
  if (fixing && (fixing.state !== 'parked' || !fixing.report)) fixing = null;
  const area = await areaField(Boolean(fixing));
  const form = buildForm(area.element);
  const problemsBox = h('div', { class: 'problems', tabindex: '-1', hidden: true });
  const supportBox = form.querySelector('.support-contact');
  const message = status();
  const clearButton = form.querySelector('[data-action="clear"]');
  if (dropin) {
    // Always on behalf; "Next person" empties the form at once, without asking.
    form.querySelector('[name="on_behalf"]').closest('label').remove();
    clearButton.textContent = t('dropin.next');
  }

  main.append(
    h('h1', { tabindex: '-1' }, fixing ? t('report.fix_title') : t(dropin ? 'dropin.title' : 'report.title')),
    h('p', { class: 'lead' }, fixing ? t('report.fix_lead') : t(dropin ? 'dropin.lead' : 'report.lead')),
    problemsBox, form, message);

  let draft;
  if (fixing) {
    draft = { id: fixing.id, fields: fieldsFromReport(fixing.report) };
    problemsBox.replaceChildren(h('h2', {}, t('report.server_said')), errorList(fixing.errors));
    problemsBox.hidden = false;
  } else {
    draft = (await db.get('kv', DRAFT)) || { id: null, fields: defaults() };
  }
  if (LEGACY_POLICE[draft.fields.police]) draft.fields.police = LEGACY_POLICE[draft.fields.police];
  writeFields(form, { ...defaults(), ...draft.fields });
  const syncSupport = () => { supportBox.hidden = !form.elements.support.checked; };
  syncSupport();
  const who = form.querySelector('details');
  if (Object.keys(draft.fields).some((k) => /^(offender|vehicle)\./.test(k) && draft.fields[k])) who.open = true;

  let timer = null;
  const saveDraft = async () => {
    clearTimeout(timer);
    timer = null;
    if (fixing || db.isWiped()) return;
    // The id is made the first time anything is saved, and stays with the report.
    if (!draft.id) draft.id = crypto.randomUUID();
    draft = { ...draft, fields: readFields(form), savedAt: Date.now() };
    await db.put('kv', draft, DRAFT);
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(saveDraft, DRAFT_DELAY_MS);
  };
  form.addEventListener('input', soon);
  form.addEventListener('change', () => { syncSupport(); soon(); });
  const onHide = () => { if (timer) saveDraft(); };
  addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onHide);

  const reset = async () => {
    clearTimeout(timer);
    timer = null;
    draft = { id: null, fields: defaults() };
    form.reset();
    writeFields(form, defaults());
    syncSupport();
    who.open = false;
    problemsBox.hidden = true;
    if (!fixing) await db.remove('kv', DRAFT);
  };
  clearButton.addEventListener('click', async () => {
    if (!dropin && !confirm(t('report.clear_confirm'))) return;
    await reset();
    message.textContent = t(dropin ? 'dropin.ready' : 'report.cleared');
    if (dropin) main.querySelector('h1').focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    timer = null;
    const fields = readFields(form);
    let id = draft.id || crypto.randomUUID();
    // The server holds other content under this id: this one goes under a new id.
    if (fixing && fixing.result === 'conflict') id = crypto.randomUUID();
    const report = buildReport(fields, id);
    const found = problems(report, area.haveAreas());
    if (dropin) {
      report.on_behalf = true;
      for (const name of ['publish', 'police']) if (!fields[name]) found.push([name, t(`dropin.need_${name}`)]);
    }
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    if (found.length) {
      problemsBox.replaceChildren(h('h2', {}, t('report.check')), h('ul', {}, found.map(([name, text]) => {
        const target = form.querySelector(`[data-field="${name}"]`);
        const control = target.querySelector('input, select, textarea');
        control.setAttribute('aria-invalid', 'true');
        return h('li', {}, h('a', { href: `#${control.id || (control.id = `${name}-first`)}` }, text));
      })));
      problemsBox.hidden = false;
      problemsBox.focus();
      return;
    }
    if (fixing) await outbox.replace(fixing.id, report);
    else {
      await db.put('kv', { ...draft, id, fields }, DRAFT);
      await outbox.save(report);
      await db.remove('kv', DRAFT);
    }
    db.askPersistence().catch(() => {});
    if (dropin) {
      // Straight on to the next person; the outbox sends it (and then forgets it).
      await reset();
      message.textContent = t('dropin.saved');
      main.querySelector('h1').focus();
      outbox.sendNow();
      return;
    }
    await navigate('/reports?saved=1');
    outbox.sendNow();
  });

  return () => {
    if (timer) saveDraft();
    removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onHide);
  };
}
