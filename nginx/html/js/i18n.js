// The SPA's words, dates and numbers in one language at a time.
//
// Every UI string lives in one catalogue per language (js/i18n/en.js, js/i18n/de.js), looked
// up by key with t('memories.title') or t('memories.range_of', {first: 1, last: 10, total: 30}).
// An entry is a string with {name} placeholders, or a function of the parameters (for plurals).
// A key missing from a catalogue falls back to English, so a gap shows English, never a key.
//
// The language follows the browser (navigator.languages) unless the user picked one; the
// choice is a display preference kept in localStorage (like the remembered e-mail), never sent
// to the server. Dates, numbers and relative times are formatted with the same locale as the
// words, so a page never mixes languages. API error messages stay English: the SPA shows its
// own sentence per error code (errorText in ui.js).

import en from './i18n/en.js';
import de from './i18n/de.js';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
];
const CATALOGUES = { en, de };
const STORAGE_KEY = 'portcullis.language';

let lang = 'en';
let localeTag = 'en';
const listeners = new Set();

function stored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value && CATALOGUES[value] ? value : null;
  } catch {
    return null;
  }
}

/** The browser's first language we have a catalogue for, with its region ("de-AT"). */
function fromBrowser() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (CATALOGUES[base]) return { code: base, tag };
  }
  return { code: 'en', tag: 'en' };
}

function choose(code) {
  const browser = fromBrowser();
  lang = code && CATALOGUES[code] ? code : browser.code;
  // The browser's region when it speaks the same language (en-GB dates for en-GB), else the
  // language alone.
  localeTag = browser.code === lang ? browser.tag : lang;
  try {
    Intl.getCanonicalLocales(localeTag);
  } catch {
    localeTag = lang;
  }
  document.documentElement.lang = lang;
}

choose(stored());

export const language = () => lang;
/** The BCP 47 tag for Intl formatters: always the language of the words on screen. */
export const locale = () => localeTag;
/** Whether the user picked the language (false: it follows the browser). */
export const languagePicked = () => stored() !== null;

/** Pick a language ('' or null: follow the browser again) and tell the listeners. */
export function setLanguage(code) {
  try {
    if (code && CATALOGUES[code]) localStorage.setItem(STORAGE_KEY, code);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* a display preference: without storage it lasts for this page only */
  }
  choose(code);
  applyStaticText();
  for (const fn of listeners) fn(lang);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The text of `key` in the current language, its {placeholders} filled from params. */
export function t(key, params = {}) {
  let entry = CATALOGUES[lang][key];
  if (entry === undefined) entry = en[key];
  if (entry === undefined) return key;
  if (typeof entry === 'function') return entry(params, { number: formatNumber });
  return entry.replace(/\{([a-z_]+)\}/g, (m, name) => {
    const value = params[name];
    if (value === undefined || value === null) return m;
    return typeof value === 'number' ? formatNumber(value) : String(value);
  });
}

/** Whether the current catalogue (or English) has `key`. */
export const hasText = (key) => CATALOGUES[lang][key] !== undefined || en[key] !== undefined;

export function formatNumber(n) {
  return new Intl.NumberFormat(localeTag).format(n);
}

/** The words of the page shell in index.html, marked with data-i18n="key". */
export function applyStaticText() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  }
}
