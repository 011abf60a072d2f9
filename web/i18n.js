// Every string the app shows goes through t(). Catalogues are flat JSON files in
// locales/, one per language; English is complete and is the fallback for missing keys.
// To add a language: copy locales/en.json, translate it, and add it to LANGUAGES (the
// server puts every file of web/ in the service worker's shell).
import * as db from './db.js';

export const LANGUAGES = { en: 'English', es: 'Español' };

let language = 'en';
let strings = {};
let english = {};
const listeners = new Set();

async function load(lang) {
  const response = await fetch(`/static/locales/${lang}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${lang}`);
  return response.json();
}

// The browser's first language we have, else English.
function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES[base]) return base;
  }
  return 'en';
}

// The language chosen in Settings, or "" to follow the browser.
export async function chosen() {
  try {
    return (await db.get('kv', 'language')) || '';
  } catch {
    return '';
  }
}

export async function setLanguage(choice) {
  await db.put('kv', choice, 'language');
  await use(choice || fromBrowser());
}

async function use(lang) {
  if (!Object.keys(english).length) english = await load('en');
  strings = lang === 'en' ? english : await load(lang).catch(() => english);
  language = strings === english ? 'en' : lang;
  document.documentElement.lang = language;
  listeners.forEach((fn) => fn(language));
}

export async function init() {
  await use((await chosen()) || fromBrowser());
}

export function current() {
  return language;
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

// t('reports.waiting', {n: 2}) -> "2 waiting to send". A key with a `_one`/`_other`
// variant picks one by the plural rules of the language when `n` is given.
export function t(key, params = {}) {
  let text;
  if (typeof params.n === 'number') {
    const form = new Intl.PluralRules(language).select(params.n);
    text = strings[`${key}_${form}`] ?? english[`${key}_${form}`] ?? strings[`${key}_other`]
      ?? english[`${key}_other`];
  }
  text = text ?? strings[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

// Fill elements marked in index.html: data-i18n (text) and data-i18n-label (aria-label).
export function translate(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-label]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  });
}
