// Prints what web/report-payload.js gives the server, as JSON, for tests/api/test_web.py:
// its vocabulary, and a report built from a form with every part filled in.
// Run: node tests/js/print-vocabulary.js
import {
  INCIDENT_TYPES, OFFERED_INCIDENT_TYPES, PARTS_OF_DAY, POLICE_CONSENT, LEGACY_POLICE, CONTACT_METHODS, PICKERS, WORDS, LISTS, VEHICLE, CONTACT,
  PERPETRATOR_KINDS, TARGETED_BECAUSE,
  buildReport,
} from '../../web/report-payload.js';

const fields = {
  occurred_on: process.argv[2] || '2026-03-01', area: 'hackney', incident_types: OFFERED_INCIDENT_TYPES,
  description: 'Every part filled in.', part_of_day: PARTS_OF_DAY[0], publish: 'yes',
  police: POLICE_CONSENT[1], support: ['yes'], on_behalf: ['yes'], 'offender.marks': 'A scar',
  'contact.note': 'Evenings only', perpetrator: PERPETRATOR_KINDS[PERPETRATOR_KINDS.length - 1],
  targeted_because: TARGETED_BECAUSE, come_back: ['yes'],
};
for (const [name, values] of Object.entries(PICKERS)) fields[`offender.${name}`] = values[values.length - 1];
for (const name of WORDS) fields[`offender.${name}`] = `some ${name}`;
for (const [name, type] of Object.entries(LISTS)) {
  fields[`offender.${name}`] = type === 'email' ? 'a@example.org\nb@example.org'
    : type === 'tel' ? '07700 900123\n07700 900456' : `one ${name}\nanother ${name}`;
}
for (const name of VEHICLE) fields[`vehicle.${name}`] = `a ${name}`;
for (const name of CONTACT) fields[`contact.${name}`] = name === 'email' ? 'me@example.org' : `my ${name}`;

console.log(JSON.stringify({
  incident_types: INCIDENT_TYPES,
  parts_of_day: PARTS_OF_DAY,
  police_consent: POLICE_CONSENT,
  legacy_police: LEGACY_POLICE,
  contact_methods: CONTACT_METHODS,
  perpetrator_kinds: PERPETRATOR_KINDS,
  targeted_because: TARGETED_BECAUSE,
  pickers: PICKERS,
  report: buildReport(fields, '5b0a6a52-4a53-4f4e-9d4c-0a6d1c0b8e11'),
}));
