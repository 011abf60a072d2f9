// The report payload (POST /api/v1/sync): vocabulary, form fields <-> payload, and what
// must be there. Pure (no DOM, storage or clock), so tests/js/ checks it. Fields:
// {name: string | [string]}; parts named `offender.NAME`, `vehicle.NAME`, `contact.NAME`.

// The server's enums (server/reports/models.py), in its order.
export const INCIDENT_TYPES = [
  'physical_assault', 'sexual_assault', 'rape', 'robbery', 'theft', 'refused_to_pay',
  'condom_removal', 'threats', 'harassment_or_stalking', 'drugging', 'posing_as_police',
  'outing_or_blackmail', 'other', 'outing', 'blackmail', 'image_based_abuse', 'doxxing',
];
// Still accepted and shown on old reports, no longer offered ("outing" and "blackmail" are).
export const RETIRED_INCIDENT_TYPES = ['outing_or_blackmail'];
export const OFFERED_INCIDENT_TYPES = INCIDENT_TYPES.filter((v) => !RETIRED_INCIDENT_TYPES.includes(v));
export const PARTS_OF_DAY = ['morning', 'afternoon', 'evening', 'night'];
export const POLICE_CONSENT = ['none', 'anonymous_intelligence', 'contact_via_project', 'full_report'];
// Levels of earlier versions (a draft or a parked report saved before an upgrade): the
// nearest level that widens nothing, as the server stores them.
export const LEGACY_POLICE = { offender_only: 'anonymous_intelligence', with_contact: 'full_report' };
export const CONTACT_METHODS = ['street', 'online_ad', 'phone', 'venue', 'app', 'other'];
// Who did it (left out: not said).
export const PERPETRATOR_KINDS = ['client', 'police_officer', 'manager_or_venue_staff', 'landlord', 'other'];
// Hate crime as the reporter feels it: what they were targeted for (none ticked: not said).
export const TARGETED_BECAUSE = [
  'sex_work', 'race_or_ethnicity', 'religion', 'sexual_orientation', 'gender_identity', 'disability', 'other',
];
// Offender parts picked from a list. Only contact_method is an enum on the server; the
// others are free text there, and these are the form's choices.
export const PICKERS = {
  gender: ['man', 'woman', 'other'],
  age_range: ['under 25', '25-34', '35-44', '45-54', '55+'],
  height: ['short', 'average', 'tall'],
  build: ['slim', 'average', 'heavy', 'muscular'],
  contact_method: CONTACT_METHODS,
};
// Offender parts typed as words, and the long one.
export const WORDS = ['skin', 'hair', 'accent'];
// Offender parts typed one per line, with the input type each gets.
export const LISTS = { phones: 'tel', emails: 'email', handles: 'text', names: 'text' };
export const VEHICLE = ['make', 'model', 'colour', 'plate'];
export const CONTACT = ['name', 'phone', 'email'];
export const EARLIEST_DATE = '2000-01-01';

// The local calendar date `offsetDays` from `now` (ms), as YYYY-MM-DD.
export function localDate(offsetDays = 0, now = Date.now()) {
  const d = new Date(now + offsetDays * 86400000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

// The calendar day after `date` (YYYY-MM-DD): a day ahead is allowed, as on the server
// (the reporter's calendar may be ahead of the server's).
function nextDay(date) {
  return new Date(Date.parse(date) + 86400000).toISOString().slice(0, 10);
}

// The form's fields -> the report payload, under `id` (a UUID made on the device).
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
  if (one('perpetrator')) report.perpetrator = one('perpetrator');
  if (ticked('targeted_because').length) report.targeted_because = ticked('targeted_because');
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
  // Drop-in: the person will come back for follow-up, instead of giving contact details.
  if (ticked('come_back').includes('yes')) report.support = { ...(report.support || {}), come_back: true };
  if (ticked('on_behalf').includes('yes')) report.on_behalf = true;
  return report;
}

// The payload -> the form's fields (to fix a report the server refused).
export function fieldsFromReport(report) {
  const fields = {
    occurred_on: report.occurred_on || '',
    area: report.area || '',
    incident_types: report.incident_types || [],
    description: report.description || '',
    part_of_day: report.part_of_day || '',
    publish: report.consent?.publish === false ? 'no' : 'yes',
    police: LEGACY_POLICE[report.consent?.police] || report.consent?.police || 'none',
    support: report.support?.requested ? ['yes'] : [],
    come_back: report.support?.come_back ? ['yes'] : [],
    on_behalf: report.on_behalf ? ['yes'] : [],
    perpetrator: report.perpetrator || '',
    targeted_because: report.targeted_because || [],
  };
  const offender = report.offender || {};
  for (const [name, value] of Object.entries(offender)) {
    if (name === 'vehicle') {
      for (const [part, v] of Object.entries(value || {})) fields[`vehicle.${part}`] = v;
    } else {
      fields[`offender.${name}`] = Array.isArray(value) ? value.join('\n') : value;
    }
  }
  const contact = report.support?.contact || {};
  for (const [name, value] of Object.entries(contact)) fields[`contact.${name}`] = value;
  return fields;
}

// What must be there before a report goes to the outbox: [[field name, message key]].
// haveAreas: the device knows the areas (offline on first use it may not, and the server
// parks a report without one); today: the local date, YYYY-MM-DD.
export function problems(report, { haveAreas = true, today = localDate() } = {}) {
  const found = [];
  if (!report.incident_types.length) found.push(['incident_types', 'report.need_type']);
  if (!report.description) found.push(['description', 'report.need_description']);
  if (!report.occurred_on) found.push(['occurred_on', 'report.need_date']);
  else if (report.occurred_on > nextDay(today) || report.occurred_on < EARLIEST_DATE) {
    found.push(['occurred_on', 'report.bad_date']);
  }
  if (!report.area && haveAreas) found.push(['area', 'report.need_area']);
  return found;
}

// Drop-in mode asks the person about consent, never assumes it: each question left
// unanswered in `fields` -> [field name, message key].
export function unansweredConsent(fields) {
  return ['publish', 'police'].filter((name) => !fields[name]).map((name) => [name, `dropin.need_${name}`]);
}
