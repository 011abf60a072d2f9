// Settings: language, wipe, quick exit, my areas, notifications, storage.
// addSettingsSection({id, render}): render(section) fills an empty <section>, heading
// included (may be async); id "notifications" (notifications.js) fills that section.
import { h, status } from '../dom.js';
import { t, LANGUAGES, chosen, setLanguage } from '../i18n.js';
import * as db from '../db.js';
import * as outbox from '../outbox.js';
import { cachedAreas, refreshAreas, myAreas, setMyAreas, areaChips } from '../areas.js';
import { memberToken } from '../api.js';
import { wipe } from '../wipe.js';

const extra = new Map();

export function addSettingsSection({ id, render }) {
  extra.set(id, render);
}

function section(id, title, ...content) {
  return h('section', { class: 'setting', 'aria-labelledby': `set-${id}` }, h('h2', { id: `set-${id}` }, title), ...content);
}

// My areas (also what Alerts shows): a long list, folded under how many are chosen.
async function areasSection() {
  const box = h('div', {});
  const summary = h('summary', {});
  const folded = h('details', { class: 'areas-list' }, summary, box);
  const message = status();
  const count = (n) => { summary.textContent = n ? t('settings.areas_choose', { n }) : t('settings.areas_none'); };
  const draw = async (list) => {
    const mine = await myAreas();
    count(mine.length);
    if (!list.length) {
      box.replaceChildren(h('p', { class: 'hint' }, t('settings.areas_offline')));
      return;
    }
    box.replaceChildren(...areaChips(list, 'my-areas', mine));
  };
  box.addEventListener('change', async () => {
    const slugs = [...box.querySelectorAll('input:checked')].map((el) => el.value);
    await setMyAreas(slugs);
    count(slugs.length);
    message.textContent = t('settings.saved');
  });
  const list = await cachedAreas();
  await draw(list);
  if (!list.length) refreshAreas().then((fresh) => fresh.length && draw(fresh));
  return section('areas', t('settings.areas'), h('p', { class: 'hint' }, t('settings.areas_hint')), folded, message);
}

async function languageSection() {
  const id = 'language-select';
  const select = h('select', { id, name: 'language' },
    h('option', { value: '' }, t('settings.language_auto')),
    Object.entries(LANGUAGES).map(([code, name]) => h('option', { value: code, lang: code }, name)));
  select.value = await chosen();
  select.addEventListener('change', () => setLanguage(select.value));
  return section('language', t('settings.language'),
    h('div', { class: 'field' }, h('label', { for: id }, t('settings.language_label')), select));
}

// Quick exit: what it does; keep a half-written report after it (off by default).
async function exitSection() {
  const id = 'keep-draft';
  const box = h('input', { type: 'checkbox', id, name: id, checked: Boolean(await db.get('kv', 'keep-draft')) });
  const message = status();
  box.addEventListener('change', async () => {
    await db.put('kv', box.checked, 'keep-draft');
    message.textContent = t('settings.saved');
  });
  return section('exit', t('settings.exit'), h('p', {}, t('exit.help')),
    h('label', { class: 'check', for: id }, box, h('span', {}, t('settings.keep_draft'))),
    h('p', { class: 'hint' }, t('settings.keep_draft_hint')), message);
}

async function notificationsSection() {
  const own = extra.get('notifications');
  const box = section('notifications', t('settings.notifications'));
  if (own) await own(box);
  else box.append(h('p', {}, t('settings.notifications_later')));
  return box;
}

async function storageSection() {
  const state = h('p', { class: 'persist-state' });
  const ask = h('button', { type: 'button', class: 'secondary', hidden: true }, t('settings.persist_ask'));
  const draw = async () => {
    const value = await db.persistence();
    state.textContent = t(`persist.${value}`);
    ask.hidden = value === 'kept' || value === 'unsupported';
  };
  ask.addEventListener('click', async () => {
    await db.askPersistence();
    await draw();
  });
  await draw();
  const member = await memberToken();
  return section('storage', t('settings.storage'), state, ask,
    h('p', {}, member ? t('join.member') : t('join.not_member')));
}

async function wipeSection() {
  const message = status();
  const start = h('button', { type: 'button', class: 'danger' }, t('settings.wipe'));
  const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-labelledby': 'wipe-question' },
    h('p', { id: 'wipe-question' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', 'data-action': 'wipe' }, t('settings.wipe_yes')),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, t('settings.wipe_no'))));
  start.addEventListener('click', async () => {
    const waiting = await outbox.waitingCount();
    confirmBox.querySelector('p').textContent = waiting
      ? `${t('settings.wipe_question')} ${t('settings.wipe_waiting', { n: waiting })}`
      : t('settings.wipe_question');
    confirmBox.hidden = false;
    start.hidden = true;
    confirmBox.querySelector('[data-action="cancel"]').focus();
  });
  confirmBox.querySelector('[data-action="cancel"]').addEventListener('click', () => {
    confirmBox.hidden = true;
    start.hidden = false;
    start.focus();
  });
  confirmBox.querySelector('[data-action="wipe"]').addEventListener('click', async () => {
    message.textContent = t('settings.wiping');
    await wipe();
    document.dispatchEvent(new CustomEvent('redflag:wiped'));
  });
  return section('wipe', t('settings.wipe'), h('p', {}, t('settings.wipe_hint')), start, confirmBox, message);
}

// Language and Wipe first: the two a worker may need in a hurry.
export async function render(main) {
  main.append(h('h1', {}, t('settings.title')));
  const sections = await Promise.all([languageSection(), wipeSection(), exitSection(), areasSection(),
    notificationsSection(), storageSection()]);
  main.append(...sections);
  for (const [id, draw] of extra) {
    if (id !== 'notifications') {
      const box = h('section', { class: 'setting' }); // its render adds its own heading
      await draw(box);
      main.append(box);
    }
  }
}
