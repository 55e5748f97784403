// DOM helpers. Every piece of text from the server goes into the page as a text node
// (textContent), never as HTML: nothing here touches innerHTML, and nothing sets a `style`
// attribute (the CSP forbids inline styles; all looks come from /app.css classes).

import { locale, t } from './i18n.js';

/**
 * h('button', {class: 'btn', onclick: fn, disabled: true}, 'Save') → HTMLButtonElement.
 * Attributes: `class` (string or array), `text`, `dataset` (object), `on<event>` (function,
 * added with addEventListener), booleans (set when true, left out when false/null/undefined),
 * anything else as a string attribute. Children: nodes, strings, numbers, arrays; null and
 * false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'style') {
      throw new Error('inline styles are not allowed (CSP): use a class');
    } else if (key === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
/** A unique id for label/description wiring. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// --- time -----------------------------------------------------------------------------------

// Every format follows the language of the words on screen (i18n.js), not the browser's own.
function dateTimeFormat() {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTimeFormat().format(d);
}

/** "3 minutes ago", "in 2 hours"; falls back to the absolute time beyond a week. */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '—';
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return String(iso);
  const diff = at - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (abs < 45 * 1000) return diff < 0 ? t('time.just_now') : t('time.in_a_moment');
  if (abs < 45 * 60 * 1000) return rtf.format(Math.round(diff / 60000), 'minute');
  if (abs < 22 * 3600 * 1000) return rtf.format(Math.round(diff / 3600000), 'hour');
  if (abs < 7 * 86400 * 1000) return rtf.format(Math.round(diff / 86400000), 'day');
  return formatTime(iso);
}

/** A <time> element showing a relative time, the exact time in its title and datetime. */
export function timeEl(iso, relative = false) {
  return h('time', { datetime: iso || '', title: iso ? formatTime(iso) : '' },
    relative ? relativeTime(iso) : formatTime(iso));
}

/** "15 minutes", "1 hour 5 minutes", "40 seconds" for a wait in seconds, in the UI language. */
export function formatDuration(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  const unit = (value, name) => new Intl.NumberFormat(locale(), {
    style: 'unit', unit: name, unitDisplay: 'long',
  }).format(value);
  if (s < 60) return unit(s, 'second');
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${unit(hours, 'hour')} ${unit(rest, 'minute')}` : unit(hours, 'hour');
}

/** "14:05" (or "2:05 PM"): a time of day today, in the UI language. */
export function formatClock(date) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(date);
}

/** A short description of a browser from its User-Agent: "Chrome on Linux". */
export function describeUserAgent(ua) {
  if (!ua) return t('device.unknown_device');
  let browser = t('device.unknown_browser');
  if (/HeadlessChrome\//.test(ua)) browser = t('device.headless_chrome');
  else if (/Edg\//.test(ua)) browser = 'Edge';
  else if (/OPR\//.test(ua)) browser = 'Opera';
  else if (/Firefox\//.test(ua)) browser = 'Firefox';
  else if (/Chrom(e|ium)\//.test(ua)) browser = 'Chrome';
  else if (/Safari\//.test(ua)) browser = 'Safari';
  else if (/^curl\//.test(ua)) browser = 'curl';
  let os = '';
  if (/Android/.test(ua)) os = 'Android';
  else if (/iPhone|iPad|iPod/.test(ua)) os = 'iOS';
  else if (/Windows/.test(ua)) os = 'Windows';
  else if (/Mac OS X|Macintosh/.test(ua)) os = 'macOS';
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  return os ? t('device.browser_on_os', { browser, os }) : browser;
}
