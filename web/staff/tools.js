// What only the network-only staff screens use (drop-in mode needs none of it), so it
// is loaded from the network with them and not kept in the app shell.
import { h } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';

// Ask before something that cannot be undone, in place (no pop-up): shows the question
// with Yes and Cancel after `button`; resolves true for Yes.
export function confirmStep(button, question, yes) {
  button.hidden = true;
  return new Promise((resolve) => {
    const answer = (value) => () => {
      box.remove();
      button.hidden = false;
      if (!value) button.focus();
      resolve(value);
    };
    const ok = h('button', { type: 'button', class: 'danger', onclick: answer(true) }, yes);
    const box = h('div', { class: 'confirm', role: 'group', 'aria-label': question },
      h('p', {}, question),
      h('div', { class: 'actions' }, ok,
        h('button', { type: 'button', class: 'secondary', onclick: answer(false) }, t('staff.cancel'))));
    button.after(box);
    ok.focus();
  });
}

// A date and time in the app's language and the deployment's region (i18n.js).
export const when = formatDateTime;

// Report and alert ids are UUIDs; people read and compare the first 8 characters.
export const shortId = (id) => String(id).slice(0, 8);
