// The conversation with the project about one sent report, read and answered with the
// report's receipt alone (no account). Messages are fetched when the person opens them
// and kept in the page only: nothing of their content is stored on the phone or shown
// in a notification.
import { h, field, status, formatDate } from './dom.js';
import { t } from './i18n.js';
import { api, NetworkError } from './api.js';

const MAX_REPLY = 2000;

function path(item) {
  return `/api/v1/reports/${encodeURIComponent(item.id)}/messages`;
}

function when(iso) {
  return iso ? formatDate(iso.slice(0, 10)) : '';
}

function thread(messages) {
  if (!messages.length) return h('p', { class: 'hint' }, t('messages.none'));
  return h('ol', { class: 'messages' }, messages.map((message) => h('li', {
    class: `message from-${message.sender}`,
  }, h('p', { class: 'who' }, t(`messages.from_${message.sender}`), ' · ', when(message.at)),
  h('p', { class: 'text' }, message.body === null ? t('messages.unreadable') : message.body))));
}

// Draw the conversation into `box` (an element of the report's card). onRead(): the
// project's messages were read (the card's "new message" line can go).
export async function open(box, item, onRead) {
  const message = status();
  box.replaceChildren(h('p', {}, t('messages.loading')));
  let response;
  try {
    response = await api(path(item), { headers: { 'X-Receipt': item.receipt } });
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    box.replaceChildren(h('p', { class: 'problems' }, t('messages.offline')));
    return;
  }
  if (!response.ok) {
    box.replaceChildren(h('p', { class: 'problems' }, t('messages.failed')));
    return;
  }
  onRead();
  const draw = (conversation) => {
    const parts = [h('h3', {}, t('messages.title')), thread(conversation.messages)];
    if (conversation.can_reply) {
      const text = field({ name: 'reply', label: t('messages.reply'), multiline: true,
        maxlength: MAX_REPLY, hint: t('messages.reply_hint') });
      const send = h('button', { type: 'submit', class: 'primary' }, t('messages.send'));
      const form = h('form', { class: 'reply', novalidate: true }, text, send, message);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = form.elements.reply.value.trim();
        if (!body) {
          message.textContent = t('messages.need_text');
          return;
        }
        send.disabled = true;
        try {
          const sent = await api(path(item), {
            method: 'POST', body: { body }, headers: { 'X-Receipt': item.receipt } });
          if (sent.ok) {
            draw(sent.data);
            box.querySelector('.status').textContent = t('messages.sent');
            return;
          }
          message.textContent = sent.status === 429 ? t('messages.too_many') : t('messages.failed');
        } catch (error) {
          if (!(error instanceof NetworkError)) throw error;
          message.textContent = t('messages.offline');
        }
        send.disabled = false;
      });
      parts.push(form);
    } else {
      parts.push(h('p', { class: 'hint' }, t(conversation.case ? 'messages.closed' : 'messages.no_case')),
        message);
    }
    box.replaceChildren(...parts);
  };
  draw(response.data);
}
