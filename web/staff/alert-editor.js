// Writing an alert from one or more reports: title, sanitised summary, severity, incident
// types, areas, and for each identifier of the offender whether members see it in full,
// partly masked or not at all. Save as a draft, publish, or throw the draft away.
//   /staff/alert?report=<report id>   a new alert from that report
//   /staff/alert?id=<alert id>        an existing draft
// Publishing is refused by the server for a report whose reporter said "don't publish":
// its message is shown as it is.
import { h, chips, field, status, errorList } from '../dom.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { cachedAreas, refreshAreas, byRegion } from '../areas.js';
import { INCIDENT_TYPES } from '../report-payload.js';
import { call, frame, problem } from './staff.js';
import { shortId, confirmStep } from './tools.js';

const SEVERITIES = ['dangerous', 'risky', 'nuisance'];
const DISPLAYS = ['full', 'masked', 'hidden'];
const key = (item) => `${item.kind}\n${item.value}`;

async function reportDetail(id) {
  return call(`/api/v1/staff/reports/${encodeURIComponent(id)}`);
}

function identifierChoice(item, index) {
  const name = `display-${index}`;
  const shown = { full: item.value, masked: item.masked || '…', hidden: t('editor.hidden_note') };
  const kind = t(`kind.${item.kind}`);
  const box = h('fieldset', { class: 'group identifier', 'data-key': key(item) },
    h('legend', {}, `${kind.charAt(0).toUpperCase()}${kind.slice(1)}: `, h('code', {}, item.value)),
    h('div', { class: 'chips' }, DISPLAYS.map((display) => h('label', { class: 'chip' },
      h('input', { type: 'radio', name, value: display, checked: display === item.display }),
      h('span', {}, h('span', {}, `${t(`display.${display}`)}: `, h('code', { class: 'preview' }, shown[display])))))));
  box.addEventListener('change', () => { item.display = box.querySelector('input:checked').value; });
  return box;
}

export async function render(main, { params }) {
  if (!(await frame(main, '/staff/alerts'))) return;
  let alertId = params.get('id');
  const message = status();
  const problems = h('div', { class: 'problems', tabindex: '-1', hidden: true });
  const heading = h('h1', {}, t(alertId ? 'editor.edit_title' : 'editor.new_title'));
  main.append(heading, problems);

  const showProblem = (response) => {
    const errors = response.data && response.data.errors && response.data.errors.json;
    problems.replaceChildren(h('p', {}, problem(response)), errors ? errorList(errors) : '');
    problems.hidden = false;
    problems.focus();
  };

  // What the alert starts from: an existing draft, or a report.
  let alert = null;
  let reportIds;
  if (alertId) {
    const response = await call(`/api/v1/staff/alerts/${encodeURIComponent(alertId)}`);
    if (response.ended) return;
    if (!response.ok) return showProblem(response);
    alert = response.data;
    if (alert.status !== 'draft') {
      main.append(h('p', {}, t('editor.not_draft', { status: t(`astatus.${alert.status}`) })),
        h('p', {}, h('a', { href: '/staff/alerts' }, t('editor.to_alerts'))));
      return;
    }
    reportIds = alert.reports;
  } else {
    reportIds = [params.get('report') || ''];
  }
  const details = new Map();
  for (const id of reportIds) {
    const response = await reportDetail(id);
    if (response.ended) return;
    if (!response.ok) return showProblem(response);
    details.set(id, response.data);
  }
  const first = details.get(reportIds[0]);

  // Identifiers: those of every report in the alert (masked preview from the server),
  // and any the draft has that no report has any more.
  const identifiers = new Map();
  const addIdentifiers = (report) => {
    for (const item of report.identifiers) {
      if (!identifiers.has(key(item))) identifiers.set(key(item), { ...item, display: 'masked' });
    }
  };
  details.forEach(addIdentifiers);
  for (const item of (alert && alert.identifiers) || []) {
    const known = identifiers.get(key(item));
    if (known) known.display = item.display;
    else identifiers.set(key(item), { ...item, orphan: true, masked: item.display === 'masked' ? item.shown_as : null });
  }
  // Those of the reports now ticked (a linked report may be ticked and unticked again).
  const chosenReports = () => new Set([...reportIds,
    ...[...main.querySelectorAll('input[name="also"]:checked')].map((el) => el.value)]);
  const current = () => {
    const chosen = chosenReports();
    return [...identifiers.values()].filter((item) => item.orphan || [...chosen].some((id) => details.has(id)
      && details.get(id).identifiers.some((own) => key(own) === key(item))));
  };

  // Reports of the same incident (linked) may go into the alert too.
  const linked = first.linked_reports.filter((other) => !reportIds.includes(other.id));
  const reportsBox = h('fieldset', { class: 'group' }, h('legend', {}, t('editor.reports')),
    h('p', {}, reportIds.map((id, i) => [i ? ', ' : '', h('a', { href: `/staff/report?id=${id}` }, shortId(id))])),
    linked.map((other) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'also', value: other.id }),
      h('span', {}, t('editor.also', { id: shortId(other.id) })))));

  const areas = (await cachedAreas()).length ? await cachedAreas() : await refreshAreas();
  const timesReported = Math.max(...[...details.values()].map((r) => r.times_reported || 0));
  const summary = field({ name: 'summary', label: t('editor.summary'), hint: t('editor.summary_hint'),
    multiline: true, maxlength: 2000, required: true });
  const repeat = timesReported > 1 ? h('div', { class: 'repeat' },
    h('p', {}, t('detail.times_reported', { n: timesReported })),
    h('button', { type: 'button', class: 'secondary', onclick: () => {
      const text = summary.querySelector('textarea');
      text.value = `${text.value.trim()} ${t('editor.reported_sentence', { n: timesReported })}`.trim();
      text.focus();
    } }, t('editor.add_count'))) : null;
  const identifierBox = h('div', {});
  const drawIdentifiers = () => {
    const items = current();
    identifierBox.replaceChildren(...(items.length ? items.map(identifierChoice)
      : [h('p', { class: 'hint' }, t('editor.no_identifiers'))]));
  };

  const form = h('form', { class: 'alert-form', novalidate: true },
    reportsBox,
    field({ name: 'title', label: t('editor.title'), hint: t('editor.title_hint'), maxlength: 120, required: true }),
    summary, repeat,
    chips({ name: 'severity', legend: t('editor.severity'), type: 'radio', required: true,
      options: SEVERITIES.map((v) => [v, `severity.${v}`, v]) }),
    chips({ name: 'incident_types', legend: t('editor.types'), required: true,
      options: INCIDENT_TYPES.map((v) => [v, `incident.${v}`, v]) }),
    h('fieldset', { class: 'group' }, h('legend', {}, t('editor.areas'),
      h('span', { class: 'required' }, ` ${t('form.required')}`)),
    byRegion(areas).map((group) => h('fieldset', { class: 'group' }, h('legend', {}, group.group),
      h('div', { class: 'chips' }, group.options.map(([slug, name]) => h('label', { class: 'chip' },
        h('input', { type: 'checkbox', name: 'areas', value: slug }), h('span', {}, name))))))),
    h('fieldset', { class: 'group' }, h('legend', {}, t('editor.identifiers')),
      h('p', { class: 'hint' }, t('editor.identifiers_hint')), identifierBox));
  const saveButton = h('button', { type: 'button', class: 'secondary' }, t('editor.save'));
  const publishButton = h('button', { type: 'button', class: 'primary' }, t('editor.publish'));
  const deleteButton = h('button', { type: 'button', class: 'danger', hidden: !alertId }, t('editor.delete'));
  // Delete stands apart: never a red button right under "Yes, publish".
  main.append(form, h('div', { class: 'actions' }, publishButton, saveButton),
    h('div', { class: 'danger-zone' }, deleteButton), message);
  drawIdentifiers();

  // Fill the form: from the draft, or from the report.
  const tick = (name, values) => form.querySelectorAll(`input[name="${name}"]`)
    .forEach((input) => { input.checked = values.includes(input.value); });
  if (alert) {
    form.elements.title.value = alert.title;
    form.elements.summary.value = alert.summary;
    tick('severity', [alert.severity]);
    tick('incident_types', alert.incident_types);
    tick('areas', alert.areas.map((area) => area.slug));
  } else {
    tick('incident_types', first.incident_types);
    tick('areas', first.area ? [first.area.slug] : []);
  }

  form.addEventListener('change', async (event) => {
    if (event.target.name !== 'also') return;
    const id = event.target.value;
    if (event.target.checked && !details.has(id)) {
      const response = await reportDetail(id);
      if (response.ended) return;
      if (!response.ok) return showProblem(response);
      details.set(id, response.data);
    }
    if (details.has(id)) addIdentifiers(details.get(id));
    drawIdentifiers();
  });

  const body = () => {
    const ticked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => el.value);
    return {
      reports: [...chosenReports()],
      title: form.elements.title.value.trim(),
      summary: form.elements.summary.value.trim(),
      severity: ticked('severity')[0],
      incident_types: ticked('incident_types'),
      areas: ticked('areas'),
      identifiers: current().map(({ kind, value, display }) => ({ kind, value, display })),
    };
  };

  const save = async () => {
    problems.hidden = true;
    message.textContent = t('staff.working');
    const response = alertId
      ? await call(`/api/v1/staff/alerts/${alertId}`, { method: 'PATCH', body: body() })
      : await call('/api/v1/staff/alerts', { method: 'POST', body: body() });
    if (response.ended) return false;
    message.textContent = '';
    if (!response.ok) {
      showProblem(response);
      return false;
    }
    if (!alertId) {
      alertId = response.data.id;
      // The address now names the draft, so a reload opens it rather than a new one.
      history.replaceState(null, '', `/staff/alert?id=${alertId}`);
      heading.textContent = t('editor.edit_title');
      deleteButton.hidden = false;
    }
    return true;
  };

  saveButton.addEventListener('click', async () => {
    if (await save()) message.textContent = t('editor.saved');
  });
  publishButton.addEventListener('click', async () => {
    // How many texts publishing sends, and their SMS segments, counted by the server.
    const texts = await call('/api/v1/staff/sms/preview', { method: 'POST', body: body() });
    if (texts.ended) return;
    const question = texts.ok && texts.data.texts ? `${t('editor.publish_confirm')} ${t('editor.publish_texts',
      { n: texts.data.texts, segments: texts.data.segments })}` : t('editor.publish_confirm');
    if (!(await confirmStep(publishButton, question, t('editor.publish_yes')))) return;
    if (!(await save())) return;
    message.textContent = t('staff.working');
    const response = await call(`/api/v1/staff/alerts/${alertId}/publish`, { method: 'POST' });
    if (response.ended) return;
    if (!response.ok) {
      message.textContent = '';
      showProblem(response);
      return;
    }
    navigate('/staff/alerts?done=published');
  });
  deleteButton.addEventListener('click', async () => {
    if (!(await confirmStep(deleteButton, t('editor.delete_confirm'), t('editor.delete_yes')))) return;
    const response = await call(`/api/v1/staff/alerts/${alertId}`, { method: 'DELETE' });
    if (response.ended) return;
    if (!response.ok) return showProblem(response);
    navigate('/staff/alerts?done=deleted');
  });
}
