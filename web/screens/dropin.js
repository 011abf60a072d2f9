// Drop-in mode: an outreach worker on a shared tablet files reports for the people in
// front of them: the report form, every report on behalf, consent asked, straight on to
// the next person; nothing of a delivered report stays on the tablet. It opens offline:
// the staff session is checked only when there is a connection.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as outbox from '../outbox.js';
import { frame } from '../staff/staff.js';
import { OWN_REPORT, renderForm } from './report.js';

// The report form's mode for drop-in (see OWN_REPORT in screens/report.js).
const DROPIN = {
  ...OWN_REPORT,
  draftKey: 'dropin-draft',
  defaults: () => ({ ...OWN_REPORT.defaults(), publish: '', police: '' }),
  title: 'dropin.title',
  lead: 'dropin.lead',
  clearLabel: 'dropin.next',
  clearConfirm: null,
  cleared: 'dropin.ready',
  saved: 'dropin.saved',
  fixes: false,
  alwaysOnBehalf: true,
  askConsent: true,
  nextPerson: true,
  voice: 'dropin', // spoken to the outreach worker, about the person in front of them
  comeBack: true,
};

export async function render(main) {
  if (!(await frame(main, '/staff/dropin', { offline: true }))) return null;
  const cleanup = await renderForm(main, DROPIN);
  const waiting = h('p', { class: 'count dropin-count', role: 'status' });
  main.querySelector('.lead').after(waiting);
  const count = async () => {
    const n = (await outbox.list()).filter((item) => item.report?.on_behalf).length;
    waiting.textContent = n ? t('dropin.waiting', { n }) : t('dropin.none_waiting');
  };
  const stop = outbox.onChange(count);
  await count();
  return () => {
    stop();
    if (cleanup) cleanup();
  };
}
