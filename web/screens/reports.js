// My reports: each report on this device, waiting (and why), to fix, or sent (its status
// read with its receipt); "Send now" and the number waiting.
import { h, status, errorList, formatDate } from '../dom.js';
import { t } from '../i18n.js';
import * as outbox from '../outbox.js';
import { cachedAreas, refreshAreas, areaName } from '../areas.js';

function stateLine(item) {
  if (item.state === 'waiting') {
    return h('p', { class: 'state waiting' }, h('strong', {}, t('state.waiting')), ' ',
      t(`reason.${item.reason || 'new'}`));
  }
  if (item.state === 'parked') {
    return h('div', { class: 'state parked' },
      h('p', {}, h('strong', {}, t('state.parked')), ' ', t(`result.${item.result}`)),
      errorList(item.errors));
  }
  return h('p', { class: 'state sent' }, h('strong', {}, t('state.sent')), ' ',
    t('reports.status', { status: t(`status.${item.status || 'received'}`) }));
}

function card(item, areas, refresh) {
  const summary = item.summary || {};
  const types = (summary.incident_types || []).map((type) => t(`incident.${type}`)).join(', ');
  const title = [formatDate(summary.occurred_on), areaName(areas, summary.area)].filter(Boolean).join(' · ');
  const remove = async () => {
    const question = item.state === 'sent' ? t('reports.forget_confirm') : t('reports.discard_confirm');
    if (!confirm(question)) return;
    await outbox.remove(item.id);
    refresh();
  };
  const talk = h('div', { class: 'conversation', hidden: true });
  const canTalk = item.state === 'sent' && item.receipt && item.hasCase;
  const news = canTalk && item.newMessages
    ? h('p', { class: 'notice new-message' }, t('messages.new')) : null;
  const toggle = canTalk ? h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false' },
    t('messages.open')) : null;
  if (toggle) {
    toggle.addEventListener('click', async () => {
      const opening = talk.hidden;
      talk.hidden = !opening;
      toggle.setAttribute('aria-expanded', String(opening));
      toggle.textContent = t(opening ? 'messages.close' : 'messages.open');
      if (!opening) {
        talk.replaceChildren(); // nothing of the messages stays in the page once closed
        return;
      }
      // Messages need the server anyway, so conversation.js is loaded then, not kept offline.
      const conversation = await import('../conversation.js').catch(() => null);
      if (!conversation) {
        talk.replaceChildren(h('p', { class: 'problems' }, t('messages.offline')));
        return;
      }
      await conversation.open(talk, item, async () => {
        if (news) news.remove();
        await outbox.markMessagesRead(item.id);
      });
    });
  }
  return h('li', { class: `card ${item.state}`, 'data-id': item.id },
    h('h2', {}, title || t('reports.untitled')),
    types ? h('p', { class: 'types' }, types) : null,
    stateLine(item),
    news,
    talk,
    h('div', { class: 'actions' },
      toggle,
      item.state === 'parked'
        ? h('a', { class: 'button primary', href: `/report?fix=${encodeURIComponent(item.id)}` }, t('reports.fix'))
        : null,
      item.state === 'waiting' ? null : h('button', { type: 'button', class: 'secondary', onclick: remove },
        item.state === 'sent' ? t('reports.forget') : t('reports.discard'))));
}

export async function render(main, { params }) {
  const count = h('p', { class: 'count' });
  // No Background Sync (Firefox, Safari): sent only while the app is open.
  const noSync = h('p', { class: 'hint no-background-sync', hidden: true }, t('reports.no_background_sync'));
  const message = status();
  const list = h('ul', { class: 'cards' });
  const sendButton = h('button', { type: 'button', class: 'primary' }, t('reports.send_now'));
  main.append(h('h1', {}, t('reports.title')), count, noSync, h('div', { class: 'actions' }, sendButton), message, list);
  if (params.get('saved')) message.textContent = t('reports.saved');

  let areas = await cachedAreas();
  const draw = async () => {
    const items = await outbox.list();
    const waiting = items.filter((item) => item.state === 'waiting').length;
    count.textContent = waiting ? t('reports.waiting', { n: waiting }) : t('reports.none_waiting');
    noSync.hidden = !waiting || 'SyncManager' in globalThis;
    // The line under "Send now" follows the reports: once none waits, all is sent.
    if (!waiting && message.textContent) {
      message.textContent = items.some((item) => item.state === 'parked') ? '' : t('reports.all_sent');
    }
    list.replaceChildren(...items.map((item) => card(item, areas, draw)));
    if (!items.length) list.replaceChildren(h('li', { class: 'empty' }, t('reports.empty')));
  };

  sendButton.addEventListener('click', async () => {
    sendButton.disabled = true;
    message.textContent = t('reports.sending');
    try {
      const outcome = await outbox.sendNow();
      if (outcome.skipped) message.textContent = t('reports.already_sending');
      else if (outcome.error) message.textContent = `${t('reports.not_sent')} ${t(`reason.${outcome.error}`)}`;
      else message.textContent = t('reports.sent_count', { n: outcome.sent });
      await draw();
    } finally {
      sendButton.disabled = false;
    }
  });

  const stop = outbox.onChange(draw);
  await draw();
  refreshAreas().then((fresh) => { areas = fresh; draw(); });
  outbox.refreshStatuses().catch(() => {});
  return stop;
}
