// Every string the app shows goes through t() (English is the fallback). Dates and
// numbers follow the language and the region (<meta name="redflag-region">), Latin digits.
import * as db from './db.js';

// The app's languages, each in its own words. A new one also needs locales/<code>.json,
// server/locales/<code>.json and its part of docs/glossary.md (tests/test_catalogues.py).
export const LANGUAGES = {
  en: 'English',
  es: 'Español',
  'pt-BR': 'Português (Brasil)',
  ro: 'Română',
  bg: 'Български',
  pl: 'Polski',
  hu: 'Magyar',
  th: 'ไทย',
  'zh-CN': '简体中文',
  ar: 'العربية',
};

const RTL = new Set(['ar']);

// A browser tag -> one of ours or null: "pt-PT" -> "pt-BR", "zh-Hans" -> "zh-CN".
function match(tag) {
  const lower = String(tag || '').toLowerCase();
  const codes = Object.keys(LANGUAGES);
  return codes.find((code) => code.toLowerCase() === lower)
    || codes.find((code) => code.toLowerCase().split('-')[0] === lower.split('-')[0]) || null;
}

// The chosen language ("" for none), else the browser's first we have, else English.
export function pick(choice, browserLanguages = []) {
  if (LANGUAGES[choice]) return choice;
  for (const tag of browserLanguages) if (match(tag)) return match(tag);
  return 'en';
}

const catalogueUrl = (code) => `/static/locales/${code}.json`;

let language = 'en';
let strings = {};
let english = {};
let formats = null;
const listeners = new Set();

async function load(lang) {
  const response = await fetch(catalogueUrl(lang));
  if (!response.ok) throw new Error(`no catalogue for ${lang}`);
  return response.json();
}

export function locale() {
  const meta = document.querySelector('meta[name="redflag-region"]');
  const region = (meta?.content || 'GB').toUpperCase();
  return `${language.includes('-') ? language : `${language}-${region}`}-u-nu-latn`;
}

function makeFormats() {
  const tags = [locale(), `${language}-u-nu-latn`];
  const date = { day: 'numeric', month: 'short', year: 'numeric' };
  return {
    date: new Intl.DateTimeFormat(tags, date),
    dateTime: new Intl.DateTimeFormat(tags, { ...date, hour: '2-digit', minute: '2-digit' }),
    number: new Intl.NumberFormat(tags),
    plural: new Intl.PluralRules(language),
  };
}

// A calendar day "2026-11-30" -> "30 Nov 2026" (a day, so no time zone shift).
export function formatDate(iso) {
  if (!iso) return '';
  const [y, m, d] = String(iso).slice(0, 10).split('-').map(Number);
  return formats.date.format(new Date(y, m - 1, d));
}

// A moment -> "30 Nov 2026, 16:10" in this phone's time.
export const formatDateTime = (moment) => (moment ? formats.dateTime.format(new Date(moment)) : '');
export const formatNumber = (n) => formats.number.format(n);

const browserLanguages = () => navigator.languages || [navigator.language];

// The language chosen here ("" to follow the phone; undefined: never asked).
const stored = () => db.get('kv', 'language').catch(() => '');
export const chosen = async () => (await stored()) || '';
export const asked = async () => (await stored()) !== undefined;

export async function setLanguage(choice) {
  await db.put('kv', choice, 'language');
  await use(pick(choice, browserLanguages()));
}

// The shell holds English only: the language in use goes into the worker's cache.
// Best effort: each start tries.
async function keepOffline(lang) {
  try {
    await navigator.serviceWorker.ready;
    const name = (await caches.keys()).find((key) => key.startsWith('redflag-shell-'));
    const cache = name && await caches.open(name);
    if (cache && !(await cache.match(catalogueUrl(lang)))) await cache.add(catalogueUrl(lang));
  } catch {
    // Offline, no room, or no caches in this browser.
  }
}

async function use(lang) {
  if (!english['app.name']) english = await load('en');
  strings = lang === 'en' ? english : await load(lang).catch(() => english);
  language = strings === english ? 'en' : lang;
  formats = makeFormats();
  document.documentElement.lang = language;
  document.documentElement.dir = RTL.has(language) ? 'rtl' : 'ltr';
  if (language !== 'en') keepOffline(language);
  listeners.forEach((fn) => fn(language));
}

// English is fetched while the choice is read (a failed fetch is tried again by use()).
export async function init() {
  const en = load('en').catch(() => english);
  const choice = await chosen();
  english = await en;
  await use(pick(choice, browserLanguages()));
}

export const current = () => language;

export function onLanguageChange(fn) {
  listeners.add(fn);
}

// t('reports.waiting', {n: 2}) -> "2 reports waiting to send": with a number `n`, the
// plural form the language's rules pick (_one, _few, _many... _other).
export function t(key, params = {}) {
  let text;
  if (typeof params.n === 'number') {
    const form = formats ? formats.plural.select(params.n) : 'other';
    text = strings[`${key}_${form}`] ?? strings[`${key}_other`] ?? english[`${key}_other`];
  }
  text = text ?? strings[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => {
    if (!(name in params)) return match;
    return typeof params[name] === 'number' && formats ? formatNumber(params[name]) : String(params[name]);
  });
}

// Fill elements marked in index.html: data-i18n (text) and data-i18n-label (aria-label).
export function translate(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-label]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  });
}
