// One report in full, for staff: what happened, the offender description, consent,
// support (the contact details for moderators only), linked reports, the other reports
// that share a phone or plate, the alerts made from it; and a moderator's actions:
// start review, reject with a reason, link to another report, write an alert.
import { h, field, status, formatDate } from '../dom.js';
import { t } from '../i18n.js';
import { call, frame, problem, isModerator } from './staff.js';
import { when, shortId, confirmStep } from './tools.js';
import { flags } from './queue.js';

const PICKED = ['gender', 'age_range', 'height', 'build', 'contact_method'];
const WORDS = ['skin', 'hair', 'accent', 'marks'];
const LISTS = ['names', 'phones', 'emails', 'handles'];
const VEHICLE = ['make', 'model', 'colour', 'plate'];

const reportLink = (id) => h('a', { href: `/staff/report?id=${encodeURIComponent(id)}` }, shortId(id));

function facts(pairs) {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== '');
  if (!shown.length) return h('p', { class: 'hint' }, t('detail.nothing'));
  return h('dl', { class: 'pairs' }, shown.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

function picked(name, value) {
  const key = `offender.${name}.${value}`;
  return t(key) === key ? value : t(key);
}

function offenderFacts(offender) {
  const vehicle = offender.vehicle || {};
  return facts([
    ...PICKED.map((name) => [t(`offender.${name}`), offender[name] && picked(name, offender[name])]),
    ...LISTS.map((name) => [t(`offender.${name}`), (offender[name] || []).join(', ')]),
    ...WORDS.map((name) => [t(`offender.${name}`), offender[name]]),
    ...VEHICLE.map((name) => [`${t('offender.vehicle')}: ${t(`vehicle.${name}`)}`, vehicle[name]]),
  ]);
}

function section(id, title, ...content) {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

// "2 other reports share this phone (07700 900123): a1b2c3d4, e5f6a7b8"
function repeats(report) {
  const shared = report.identifiers.filter((item) => item.other_reports.length);
  if (!shared.length && report.times_reported < 2) return null;
  return section('d-repeat', t('detail.repeat'),
    report.times_reported > 1 ? h('p', {}, t('detail.times_reported', { n: report.times_reported })) : null,
    h('ul', { class: 'shared' }, shared.map((item) => h('li', {},
      t('detail.shared', { n: item.other_reports.length, kind: t(`kind.${item.kind}`), value: item.value }), ' ',
      item.other_reports.flatMap((id, i) => [i ? ', ' : '', reportLink(id)])))));
}

// Phone numbers that could not be read as one number: staff judge them (never indexed).
function unreadable(report) {
  const items = report.unreadable_identifiers || [];
  if (!items.length) return null;
  return section('d-unreadable', t('detail.unreadable'),
    h('ul', {}, items.map((item) => h('li', {},
      t(`detail.unreadable.${item.problem}`, { value: item.value }),
      item.suggestion ? ` ${t('detail.unreadable.suggestion', { value: item.suggestion })}` : ''))));
}

function draw(report, staff) {
  const contact = report.support.contact;
  let supportText;
  if (!report.support.requested) supportText = t('detail.no_support');
  else if (contact) supportText = null;
  else if (report.support.has_contact) supportText = t('detail.contact_moderators');
  else supportText = t('detail.no_contact');
  return [
    h('h1', {}, t('detail.title', { id: shortId(report.id) })),
    h('p', { class: 'meta' }, h('span', { class: `rstatus ${report.status}` }, t(`rstatus.${report.status}`)), ' ',
      flags(report), ' ', h('code', { class: 'id' }, report.id)),
    report.consent.publish ? null : h('p', { class: 'notice no-publish' }, t('detail.no_publish')),
    section('d-what', t('detail.what'),
      facts([
        [t('detail.types'), report.incident_types.map((type) => t(`incident.${type}`)).join(', ')],
        [t('detail.occurred'), [formatDate(report.occurred_on),
          report.part_of_day ? t(`part_of_day.${report.part_of_day}`) : ''].filter(Boolean).join(', ')],
        [t('detail.area'), report.area && report.area.name],
        [t('detail.received'), when(report.received_at)],
        [t('detail.filed'), report.on_behalf ? t('detail.on_behalf') : t('detail.by_reporter')],
        [t('detail.filed_by'), report.filed_by],
        [t('detail.perpetrator'), report.perpetrator ? t(`perpetrator.${report.perpetrator}`) : t('detail.not_said')],
        [t('detail.targeted'), (report.targeted_because || []).length
          ? report.targeted_because.map((reason) => t(`targeted.${reason}`)).join(', ') : t('detail.not_said')],
        [t('detail.reject_reason'), report.reject_reason],
      ]),
      h('p', { class: 'text' }, report.description)),
    section('d-offender', t('detail.offender'), offenderFacts(report.offender)),
    repeats(report),
    unreadable(report),
    section('d-consent', t('detail.consent'), facts([
      [t('detail.publish'), report.consent.publish ? t('detail.publish_yes') : t('detail.publish_no')],
      [t('detail.police'), t(`police.${report.consent.police}`)],
    ]), isModerator(staff) && report.consent.police !== 'none' ? handling(report) : null),
    section('d-support', t('detail.support'),
      supportText ? h('p', {}, supportText) : facts(['name', 'phone', 'email', 'note']
        .map((name) => [t(`contact.${name}`), contact[name]]))),
    report.linked_reports.length ? section('d-linked', t('detail.linked'),
      h('ul', {}, report.linked_reports.map((other) => h('li', {}, reportLink(other.id), ' ',
        formatDate(other.occurred_on), ' · ', other.area ? other.area.name : '', ' · ',
        t(`rstatus.${other.status}`))))) : null,
    report.alerts.length ? section('d-alerts', t('detail.alerts'),
      h('ul', {}, report.alerts.map((alert) => h('li', {},
        h('a', { href: `/staff/alert?id=${encodeURIComponent(alert.id)}` }, alert.title), ' · ',
        t(`astatus.${alert.status}`))))) : null,
    isModerator(staff) ? null : h('p', { class: 'hint' }, t('detail.moderators_decide')),
  ];
}

// The handling note this report carries in police packs (moderators choose).
const HANDLING = ['intelligence_only', 'ask_project_before_action', 'may_act_on'];
function handling(report) {
  const message = status();
  const choice = field({ name: 'handling', label: t('detail.handling'),
    options: HANDLING.map((v) => [v, t(`handling.${v}`)]) });
  const select = choice.querySelector('select');
  select.value = report.police_handling || HANDLING[0];
  select.addEventListener('change', async () => {
    const response = await call(`/api/v1/staff/reports/${encodeURIComponent(report.id)}/police-handling`,
      { method: 'PUT', body: { handling: select.value } });
    if (response.ended) return;
    message.textContent = response.ok ? t('detail.handling_saved') : problem(response);
  });
  return h('div', { class: 'handling' }, choice, message);
}

function actions(report, act) {
  const write = h('a', { class: 'button primary', href: `/staff/alert?report=${encodeURIComponent(report.id)}` },
    t('detail.write_alert'));
  const review = ['received', 'not_published'].includes(report.status)
    ? h('button', { type: 'button', class: 'secondary', onclick: () => act('review') },
      t(report.status === 'received' ? 'detail.review' : 'detail.reopen'))
    : null;

  const reason = field({ name: 'reason', label: t('detail.reason'), hint: t('detail.reason_hint'),
    multiline: true, maxlength: 1000, required: true });
  const rejectButton = h('button', { type: 'submit', class: 'danger' }, t('detail.reject'));
  const reject = h('form', { class: 'reject', novalidate: true }, reason, rejectButton);
  reject.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = reject.elements.reason.value.trim();
    if (!text) {
      reject.elements.reason.setAttribute('aria-invalid', 'true');
      reject.elements.reason.focus();
      return;
    }
    if (await confirmStep(rejectButton, t('detail.reject_confirm'), t('detail.reject_yes'))) {
      act('reject', { reason: text });
    }
  });

  // Offer the reports that share an identifier with this one; any full id can be typed.
  const candidates = [...new Set(report.identifiers.flatMap((item) => item.other_reports))];
  const linkTo = field({ name: 'to', label: t('detail.link_to'), hint: t('detail.link_hint'),
    autocomplete: 'off', spellcheck: 'false', maxlength: 36, list: 'link-candidates' });
  const link = h('form', { class: 'link', novalidate: true }, linkTo,
    h('datalist', { id: 'link-candidates' }, candidates.map((other) => h('option', { value: other }))),
    h('button', { type: 'submit', class: 'secondary' }, t('detail.link')));
  link.addEventListener('submit', (event) => {
    event.preventDefault();
    act('link', { to: link.elements.to.value.trim() });
  });

  return section('d-actions', t('detail.actions'),
    h('div', { class: 'actions' }, write, review,
      report.linked_to || report.linked_reports.length
        ? h('button', { type: 'button', class: 'secondary', onclick: () => act('unlink') }, t('detail.unlink'))
        : null),
    report.status === 'published' || report.status === 'not_published' ? null : reject,
    link);
}

export async function render(main, { params }) {
  const staff = await frame(main, '/staff/queue');
  if (!staff) return;
  const id = params.get('id') || '';
  const box = h('div', { class: 'detail' });
  const message = status();
  main.append(box, message);

  const load = async () => {
    const response = await call(`/api/v1/staff/reports/${encodeURIComponent(id)}`);
    if (response.ended) return;
    if (!response.ok) {
      box.replaceChildren(h('h1', {}, t('detail.title', { id: shortId(id) })), h('p', { class: 'problems' },
        problem(response)));
      return;
    }
    const report = response.data;
    box.replaceChildren(...draw(report, staff).filter(Boolean), isModerator(staff) ? actions(report, act) : '');
  };

  async function act(action, body) {
    message.textContent = t('staff.working');
    const response = await call(`/api/v1/staff/reports/${encodeURIComponent(id)}/${action}`,
      { method: 'POST', body: body || {} });
    if (response.ended) return;
    if (!response.ok) {
      const errors = response.data && response.data.errors && response.data.errors.json;
      message.textContent = errors && errors.to ? errors.to.join(' ') : problem(response);
      return;
    }
    await load();
    message.textContent = t(`detail.done_${action}`);
  }

  await load();
}
