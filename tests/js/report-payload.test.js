// The report payload (web/report-payload.js), with Node's own test runner: `node --test tests/js/`.
// Whether the vocabulary and a built report are what the server accepts is checked from
// the server's side, in tests/api/test_web.py (it runs tests/js/vocabulary.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  buildReport, fieldsFromReport, problems, unansweredConsent, localDate, PICKERS, CONTACT_METHODS,
  INCIDENT_TYPES, OFFERED_INCIDENT_TYPES, RETIRED_INCIDENT_TYPES,
} from '../../web/report-payload.js';

const ID = '5b0a6a52-4a53-4f4e-9d4c-0a6d1c0b8e11';

function filled(overrides = {}) {
  return {
    occurred_on: '2026-03-01', area: 'hackney', incident_types: ['robbery'],
    description: '  Took the money at the door.  ', part_of_day: '', publish: 'yes', police: 'none',
    ...overrides,
  };
}

test('a minimal form is the required parts, trimmed, with the default consent', () => {
  assert.deepEqual(buildReport(filled(), ID), {
    id: ID, occurred_on: '2026-03-01', area: 'hackney', incident_types: ['robbery'],
    description: 'Took the money at the door.', consent: { publish: true, police: 'none' },
  });
});

test('empty optional parts are left out, never sent empty', () => {
  const report = buildReport(filled({
    'offender.gender': ' ', 'offender.phones': '\n \n', 'vehicle.plate': '', support: [], on_behalf: [],
    'contact.name': 'Ann',
  }), ID);
  assert.equal('offender' in report, false);
  assert.equal('support' in report, false); // contact details only when support is asked for
  assert.equal('on_behalf' in report, false);
  assert.equal('part_of_day' in report, false);
});

test('lists are one per line; vehicle and contact are nested; refusals are kept', () => {
  const report = buildReport(filled({
    part_of_day: 'night', 'offender.gender': 'man', 'offender.contact_method': 'online_ad',
    'offender.phones': '07700 900123\n\n +44 7700 900456 ', 'offender.marks': 'Scar on chin',
    'vehicle.colour': 'red', 'vehicle.plate': 'AB12 CDE', publish: 'no', police: 'full_report',
    support: ['yes'], 'contact.phone': '07700 900999', 'contact.note': 'Evenings', on_behalf: ['yes'],
  }), ID);
  assert.equal(report.part_of_day, 'night');
  assert.deepEqual(report.offender, {
    gender: 'man', contact_method: 'online_ad', marks: 'Scar on chin',
    phones: ['07700 900123', '+44 7700 900456'], vehicle: { colour: 'red', plate: 'AB12 CDE' },
  });
  assert.deepEqual(report.consent, { publish: false, police: 'full_report' });
  assert.deepEqual(report.support, { requested: true, contact: { phone: '07700 900999', note: 'Evenings' } });
  assert.equal(report.on_behalf, true);
});

test('a report turned back into fields builds the same report (fixing a parked one)', () => {
  const report = buildReport(filled({
    part_of_day: 'evening', 'offender.names': 'Dave\nD', 'offender.build': 'heavy', 'vehicle.make': 'Ford',
    publish: 'no', police: 'contact_via_project', support: ['yes'], 'contact.email': 'a@example.org',
    on_behalf: ['yes'],
  }), ID);
  assert.deepEqual(buildReport(fieldsFromReport(report), ID), report);
});

test('what must be there: type, description, a date not ahead or before 2000, an area', () => {
  const empty = buildReport({}, ID);
  assert.deepEqual(problems(empty, { today: '2026-03-01' }), [
    ['incident_types', 'report.need_type'], ['description', 'report.need_description'],
    ['occurred_on', 'report.need_date'], ['area', 'report.need_area'],
  ]);
  // No areas known yet (offline on first use): the area is not asked for.
  assert.deepEqual(problems(empty, { today: '2026-03-01', haveAreas: false }).map(([name]) => name),
    ['incident_types', 'description', 'occurred_on']);
  const on = (date) => problems(buildReport(filled({ occurred_on: date }), ID), { today: '2026-03-01' });
  assert.deepEqual(on('2026-03-01'), []);
  assert.deepEqual(on('2026-03-02'), []); // a day ahead: the reporter's calendar may be ahead
  assert.deepEqual(on('2026-03-03'), [['occurred_on', 'report.bad_date']]);
  assert.deepEqual(on('2000-01-01'), []);
  assert.deepEqual(on('1999-12-31'), [['occurred_on', 'report.bad_date']]);
  // Month and year ends.
  assert.deepEqual(problems(buildReport(filled({ occurred_on: '2027-01-01' }), ID), { today: '2026-12-31' }), []);
});

test('drop-in consent must be answered, never assumed', () => {
  assert.deepEqual(unansweredConsent({ publish: '', police: '' }),
    [['publish', 'dropin.need_publish'], ['police', 'dropin.need_police']]);
  assert.deepEqual(unansweredConsent({ publish: 'no', police: 'none' }), []);
});

test('localDate is the calendar date here, as YYYY-MM-DD', () => {
  const now = Date.now();
  const here = new Date(now);
  const expected = [here.getFullYear(), here.getMonth() + 1, here.getDate()]
    .map((n) => String(n).padStart(2, '0')).join('-');
  assert.equal(localDate(0, now), expected);
  assert.match(localDate(1, now), /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(localDate(1, now) > expected);
});

test('the contact method picker is the server vocabulary', () => {
  assert.equal(PICKERS.contact_method, CONTACT_METHODS);
});

test('a parked report with an earlier police level opens at the nearest level that widens nothing', () => {
  const old = buildReport(filled({ police: 'offender_only' }), ID);
  assert.equal(fieldsFromReport(old).police, 'anonymous_intelligence');
  assert.equal(fieldsFromReport({ ...old, consent: { police: 'with_contact' } }).police, 'full_report');
});

test('retired incident types are not offered', () => {
  assert.ok(INCIDENT_TYPES.includes('outing_or_blackmail'));
  assert.equal(OFFERED_INCIDENT_TYPES.includes('outing_or_blackmail'), false);
  assert.deepEqual(OFFERED_INCIDENT_TYPES, INCIDENT_TYPES.filter((v) => !RETIRED_INCIDENT_TYPES.includes(v)));
});

test('who did it, hate-crime perception and "will come back" go out only when given', () => {
  const none = buildReport(filled({ perpetrator: '', targeted_because: [], come_back: [] }), ID);
  for (const name of ['perpetrator', 'targeted_because', 'support']) assert.equal(name in none, false);
  const report = buildReport(filled({
    perpetrator: 'landlord', targeted_because: ['sex_work', 'religion'], come_back: ['yes'],
  }), ID);
  assert.equal(report.perpetrator, 'landlord');
  assert.deepEqual(report.targeted_because, ['sex_work', 'religion']);
  assert.deepEqual(report.support, { come_back: true });
  const back = fieldsFromReport(report);
  assert.equal(back.perpetrator, 'landlord');
  assert.deepEqual(back.targeted_because, ['sex_work', 'religion']);
  assert.deepEqual(back.come_back, ['yes']);
  assert.deepEqual(buildReport({ ...filled(), ...back }, ID), report);
});
