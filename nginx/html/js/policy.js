// The server's input rules (GET /api/v1/policy: lengths and counts), so a form is checked in
// one pass before it is sent and a new user does not spend rate-limited attempts finding the
// rules one by one. Asked once per page load; when the answer can't be had, forms are sent
// without these checks and the server's answer (every field error at once) says the rest.

import { get } from './api.js';
import { t } from './i18n.js';
import { showFormErrors } from './ui.js';

let pending = null;

/** The policy object, or null when it could not be loaded. */
export function loadPolicy() {
  if (!pending) {
    pending = get('/policy', { public: true }).catch(() => {
      pending = null; // ask again next time
      return null;
    });
  }
  return pending;
}

const num = (value) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null);
const codePoints = (text) => [...String(text)].length;
const utf8Bytes = (text) => new TextEncoder().encode(String(text)).length;
// The form of an address: something@something.something, no spaces; the server decides more.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Check values against rules and the policy; returns {field: {text}} for every problem (all of
 * them, not the first). A rule: {name, value, required, min, max, maxBytes, email, items,
 * maxItems, itemMax}; min/max/... are numbers or null (null: no check).
 */
export function checkValues(rules) {
  const fields = {};
  for (const rule of rules) {
    const value = rule.value;
    const say = (key, params) => { fields[rule.name] = { text: t(key, params) }; };
    if (Array.isArray(value)) {
      if (num(rule.maxItems) && value.length > rule.maxItems) say('check.max_items', { n: rule.maxItems });
      else if (num(rule.itemMax) && value.some((v) => codePoints(v) > rule.itemMax)) {
        say('check.item_max_length', { n: rule.itemMax });
      }
      continue;
    }
    const text = String(value ?? '');
    if (!text.trim()) {
      if (rule.required) say('check.required');
      continue;
    }
    if (rule.email && !EMAIL.test(text.trim())) say('check.email');
    else if (num(rule.min) && codePoints(text) < rule.min) say('check.min_length', { n: rule.min });
    else if (num(rule.max) && codePoints(text) > rule.max) say('check.max_length', { n: rule.max });
    else if (num(rule.maxBytes) && utf8Bytes(text) > rule.maxBytes) say('check.too_long');
  }
  return fields;
}

/** Check a form: shows every problem at its field and returns false, or returns true. */
export function checkForm(formEl, rules) {
  const fields = checkValues(rules);
  if (!Object.keys(fields).length) return true;
  showFormErrors(formEl, { code: 'validation_failed', fields });
  return false;
}

/** policy.a.b, or null. */
export function rule(policy, section, key) {
  return policy && policy[section] ? num(policy[section][key]) : null;
}
