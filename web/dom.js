// A tiny DOM builder, and the form controls every screen uses. No inline styles anywhere:
// the Content-Security-Policy forbids them; looks live in styles.css.
import { t } from './i18n.js';

export { formatDate, formatDateTime } from './i18n.js';

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

// h('button', {class: 'primary', onclick: fn}, 'Send')
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// One of the app's icons (icons/icons.svg), always beside a word: hidden from screen readers.
// The server writes the sprite's symbols into the page as #icon-NAME: a <use> of an external
// file (and innerHTML) cost a slow phone a fetch and a parse per icon, and a second SVG document.
export function icon(name) {
  const SVG = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#icon-${name}`);
  svg.append(use);
  return svg;
}

// Focus an answer and scroll it clear of the bars (focus() alone may leave it under one).
export function reveal(el) {
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: 'start' });
}

// A row of large toggles (checkboxes or radios) in a fieldset with a visible legend.
// options: [[value, labelKey, iconName?], ...]
export function chips({ name, legend, options, type = 'checkbox', hint, required }) {
  const hintId = hint ? uid('hint') : null;
  return h('fieldset', { class: 'group', 'aria-describedby': hintId, 'data-field': name },
    h('legend', {}, legend, required ? h('span', { class: 'required' }, ` ${t('form.required')}`) : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('div', { class: 'chips' }, options.map(([value, label, iconName]) => h('label', { class: 'chip' },
      h('input', { type, name, value }),
      h('span', {}, iconName ? icon(iconName) : null, t(label))))));
}

// A labelled text input, textarea or select, with an optional hint below the label.
export function field({ name, label, type = 'text', hint, multiline, options, required, ...attrs }) {
  const id = uid(name.replace(/\W/g, '-'));
  const hintId = hint ? uid('hint') : null;
  let control;
  if (options) {
    control = h('select', { id, name, 'aria-describedby': hintId, required, ...attrs },
      options.map((option) => (option.group
        ? h('optgroup', { label: option.group },
          option.options.map(([value, text]) => h('option', { value }, text)))
        : h('option', { value: option[0] }, option[1]))));
  } else if (multiline) {
    control = h('textarea', { id, name, rows: 4, 'aria-describedby': hintId, required, ...attrs });
  } else {
    control = h('input', { id, name, type, 'aria-describedby': hintId, required, ...attrs });
  }
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label,
      required ? h('span', { class: 'required' }, ` ${t('form.required')}`) : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control);
}

// A polite live region for "saved", "sent" and the like.
export function status(props = {}) {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite', ...props });
}

// The server's field errors ({"area": ["unknown_area"], "offender": {"phones": {"0": [...]}}})
// as lines in the app's language: a code is translated (error.<code>), else "check it".
export function errorList(errors) {
  const lines = [];
  const walk = (value, path) => {
    if (Array.isArray(value)) {
      for (const message of value) {
        if (typeof message === 'object' && message !== null) walk(message, path);
        else lines.push([path, String(message)]);
      }
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
    } else if (value !== undefined && value !== null) {
      lines.push([path, String(value)]);
    }
  };
  walk(errors || {}, []);
  return h('ul', { class: 'errors' }, lines.map(([path, message]) => {
    const named = path.filter((part) => !/^\d+$/.test(part) && !part.startsWith('_') && part !== 'json');
    const key = `field.${named.join('.')}`;
    const label = named.length && t(key) !== key ? t(key) : ''; // a field path, never shown raw
    const code = /^[a-z][a-z0-9_]*$/.test(message) ? `error.${message}` : null;
    const text = code && t(code) !== code ? t(code) : t('error.field');
    return h('li', {}, label ? `${label}: ${text}` : text);
  }));
}
