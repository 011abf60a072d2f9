// Report: a short guided form, saved as a draft as the user types. The report's id is
// made when the draft is first saved and stays with it into the outbox.
import { h, chips, field, status, errorList, reveal } from '../dom.js';
import { t } from '../i18n.js';
import * as db from '../db.js';
// The outbox's items only: sending (outbox.js) is loaded after the first screen (app.js).
import * as outbox from '../outbox/items.js';
import { keptAreas, pageAreas, myAreas, byRegion, refreshAreas } from '../areas.js';
import { navigate } from '../router.js';
import { leaving } from '../quick-exit.js';
import {
  OFFERED_INCIDENT_TYPES, LEGACY_POLICE, PARTS_OF_DAY, POLICE_CONSENT, PICKERS, WORDS, LISTS, VEHICLE, CONTACT, EARLIEST_DATE,
  PERPETRATOR_KINDS, TARGETED_BECAUSE,
  localDate, buildReport, fieldsFromReport, problems, unansweredConsent,
} from '../report-payload.js';

const DRAFT_DELAY_MS = 300;

// "Send now" once the report is in the outbox; should sending fail to load, the outbox
// keeps the report and the app's own flushing (or the worker's sync) sends it.
const sendNow = () => import('../outbox.js').then((sending) => sending.sendNow()).catch(() => {});

// How the form behaves: here, or in drop-in mode (screens/dropin.js). draftKey: kv key of
// the draft; title, lead, clearLabel, cleared, clearConfirm, saved: message keys; fixes:
// opens ?fix=ID; alwaysOnBehalf; askConsent; nextPerson: saving goes on to an empty form;
// voice: this mode's wording prefix (say()); comeBack: "will come back" (no contact).
export const OWN_REPORT = {
  draftKey: 'draft',
  defaults: () => ({ occurred_on: localDate(), part_of_day: '', publish: '', police: '' }),
  title: 'report.title',
  lead: 'report.lead',
  clearLabel: 'report.clear',
  clearConfirm: 'report.clear_confirm',
  cleared: 'report.cleared',
  saved: null,
  fixes: true,
  alwaysOnBehalf: false,
  askConsent: true,
  nextPerson: false,
  voice: 'report',
  comeBack: false,
};

// A message in the mode's voice: "report.publish" is "dropin.publish" in drop-in mode,
// "police.full_report" is "dropin.police_full_report", when such a key exists.
function say(mode, key) {
  const own = `${mode.voice}.${key.replace(/^(report|dropin)\./, '').replace('.', '_')}`;
  return t(own) === own ? t(key) : t(own);
}

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

function picker(name) {
  return field({
    name: `offender.${name}`,
    label: t(`offender.${name}`),
    options: [['', t('report.not_sure')], ...PICKERS[name].map((v) => [v, t(`offender.${name}.${v}`)])],
  });
}

function section(number, title, ...content) {
  const id = `step-${number}`;
  return h('section', { class: 'step', 'aria-labelledby': id },
    h('h2', { id }, h('span', { class: 'step-number' }, `${number}`), ' ', title),
    ...content);
}

function buildForm(areaSelect, mode) {
  const supportBox = h('div', { class: 'support-contact' },
    h('p', { class: 'hint' }, say(mode, 'report.support_hint')),
    CONTACT.map((name) => field({
      name: `contact.${name}`,
      label: t(`contact.${name}`),
      type: name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text',
      maxlength: name === 'email' ? 254 : name === 'phone' ? 40 : 80,
      autocomplete: 'off',
    })),
    field({ name: 'contact.note', label: say(mode, 'contact.note'), multiline: true, maxlength: 500 }));

  return h('form', { class: 'report-form', novalidate: true },
    section(1, t('report.what'),
      chips({ name: 'incident_types', legend: t('report.types'), hint: t('report.types_hint'),
        options: OFFERED_INCIDENT_TYPES.map((v) => [v, `incident.${v}`, v]), required: true }),
      field({ name: 'description', label: t('report.description'), hint: say(mode, 'report.description_hint'),
        multiline: true, maxlength: 5000, required: true })),
    section(2, t('report.when'),
      field({ name: 'occurred_on', label: t('report.date'), type: 'date', min: EARLIEST_DATE,
        max: localDate(1), required: true }),
      chips({ name: 'part_of_day', legend: t('report.part_of_day'), type: 'radio',
        options: [['', 'report.not_sure'], ...PARTS_OF_DAY.map((v) => [v, `part_of_day.${v}`])] })),
    section(3, t('report.where'), areaSelect),
    section(4, t('report.who'),
      chips({ name: 'perpetrator', legend: say(mode, 'report.perpetrator'), type: 'radio',
        options: [['', 'report.not_say'], ...PERPETRATOR_KINDS.map((v) => [v, `perpetrator.${v}`])] }),
      // Hate crime is recorded on the person's own perception: asked plainly, never questioned.
      chips({ name: 'targeted_because', legend: say(mode, 'report.targeted'), hint: say(mode, 'report.targeted_hint'),
        options: TARGETED_BECAUSE.map((v) => [v, `targeted.${v}`]) }),
      h('details', { class: 'more' },
        h('summary', {}, t('report.who_open')),
        h('p', { class: 'hint' }, t('report.who_hint')),
        Object.keys(PICKERS).map(picker),
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
      chips({ name: 'publish', legend: say(mode, 'report.publish'), hint: say(mode, 'report.publish_hint'), type: 'radio',
        options: [['yes', say(mode, 'report.publish_yes')], ['no', say(mode, 'report.publish_no')]], required: true }),
      // Each choice says exactly what goes to the police, and what does not.
      chips({ name: 'police', legend: t('report.police'), hint: say(mode, 'report.police_hint'), type: 'radio',
        options: POLICE_CONSENT.map((v) => [v, say(mode, `police.${v}`)]), required: true })),
    section(6, t('report.support'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'support', value: 'yes' }),
        h('span', {}, say(mode, 'report.support_yes'))),
      supportBox,
      mode.comeBack ? h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'come_back', value: 'yes' }), h('span', {}, t('report.come_back'))) : null,
      mode.alwaysOnBehalf ? null : h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'on_behalf', value: 'yes' }), h('span', {}, t('report.on_behalf')))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('report.submit')),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'clear' }, t(mode.clearLabel))));
}

async function areaField(fix) {
  const [kept, mine] = await Promise.all([keptAreas(), myAreas()]);
  let list = kept ?? pageAreas();
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
  // None kept yet (a first open): the page's list, or none, until the fetch answers.
  if (!kept || !kept.length) {
    refreshAreas().then((fresh) => {
      if (!fresh.length) return;
      list = fresh;
      fill(list);
    });
  }
  return { element: select, control, haveAreas: () => list.length > 0, fill };
}

export function render(main, { params }) {
  return renderForm(main, OWN_REPORT, params.get('fix'));
}

// Draw the form in `main` as `mode` says; `fixId`: the outbox item to fix, if any.
// Returns the cleanup for the router.
export async function renderForm(main, mode, fixId = null) {
  const saved = db.get('kv', mode.draftKey);
  let fixing = mode.fixes && fixId ? await outbox.get(fixId) : null;
  if (fixing && (fixing.state !== 'parked' || !fixing.report)) fixing = null;
  const area = await areaField(Boolean(fixing));
  const form = buildForm(area.element, mode);
  const problemsBox = h('div', { class: 'problems', tabindex: '-1', hidden: true });
  const supportBox = form.querySelector('.support-contact');
  const message = status();
  const clearButton = form.querySelector('[data-action="clear"]');

  main.append(
    h('h1', { tabindex: '-1' }, t(fixing ? 'report.fix_title' : mode.title)),
    h('p', { class: 'lead' }, t(fixing ? 'report.fix_lead' : mode.lead)),
    problemsBox, form, message);

  let draft;
  if (fixing) {
    draft = { id: fixing.id, fields: fieldsFromReport(fixing.report) };
    problemsBox.replaceChildren(h('h2', {}, t('report.server_said')), errorList(fixing.errors));
    problemsBox.hidden = false;
  } else {
    draft = (await saved) || { id: null, fields: mode.defaults() };
  }
  if (LEGACY_POLICE[draft.fields.police]) draft.fields.police = LEGACY_POLICE[draft.fields.police];
  writeFields(form, { ...mode.defaults(), ...draft.fields });
  const syncSupport = () => { supportBox.hidden = !form.elements.support.checked; };
  syncSupport();
  const who = form.querySelector('details');
  if (Object.keys(draft.fields).some((k) => /^(offender|vehicle)\./.test(k) && draft.fields[k])) who.open = true;

  let timer = null;
  const saveDraft = async () => {
    clearTimeout(timer);
    timer = null;
    // After Quick exit nothing typed may be saved again (quick-exit.js deleted the draft).
    if (fixing || db.isWiped() || leaving()) return;
    // The id is made the first time anything is saved, and stays with the report.
    if (!draft.id) draft.id = crypto.randomUUID();
    draft = { ...draft, fields: readFields(form), savedAt: Date.now() };
    await db.put('kv', draft, mode.draftKey);
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
    draft = { id: null, fields: mode.defaults() };
    form.reset();
    writeFields(form, mode.defaults());
    syncSupport();
    who.open = false;
    problemsBox.hidden = true;
    if (!fixing) await db.remove('kv', mode.draftKey);
  };
  // Empty the form and say so; ready for the next person, focus goes back to the top.
  const emptied = async (text) => {
    await reset();
    message.textContent = t(text);
    if (mode.nextPerson) main.querySelector('h1').focus();
  };
  clearButton.addEventListener('click', async () => {
    if (mode.clearConfirm && !confirm(t(mode.clearConfirm))) return;
    await emptied(mode.cleared);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    timer = null;
    const fields = readFields(form);
    let id = draft.id || crypto.randomUUID();
    // The server holds other content under this id: this one goes under a new id.
    if (fixing?.result === 'conflict') id = crypto.randomUUID();
    const report = buildReport(fields, id);
    if (mode.alwaysOnBehalf) report.on_behalf = true;
    const found = [...problems(report, { haveAreas: area.haveAreas() }),
      ...(mode.askConsent ? unansweredConsent(fields) : [])];
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    if (found.length) {
      problemsBox.replaceChildren(h('h2', {}, t('report.check')), h('ul', {}, found.map(([name, key]) => {
        const target = form.querySelector(`[data-field="${name}"]`);
        const control = target.querySelector('input, select, textarea');
        control.setAttribute('aria-invalid', 'true');
        return h('li', {}, h('a', { href: `#${control.id || (control.id = `${name}-first`)}` }, say(mode, key)));
      })));
      problemsBox.hidden = false;
      reveal(problemsBox);
      return;
    }
    if (fixing) await outbox.replace(fixing.id, report);
    else {
      await db.put('kv', { ...draft, id, fields }, mode.draftKey);
      await outbox.save(report);
      await db.remove('kv', mode.draftKey);
    }
    db.askPersistence().catch(() => {});
    // The outbox sends it (and, filed for someone else, then forgets it).
    if (mode.nextPerson) await emptied(mode.saved);
    else await navigate('/reports?saved=1');
    sendNow();
  });

  return () => {
    if (timer) saveDraft();
    removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onHide);
  };
}
