// Shared UI pieces: page headers, form fields with their error slots, API error display,
// busy buttons, flash messages, confirmation dialogs, pagers and copy buttons.

import { h, replace, uid, formatDuration, formatClock } from './dom.js';
import { hasText, language, t } from './i18n.js';

// --- flash messages -------------------------------------------------------------------------

let pendingFlash = null;

/** Show a message in the page-wide live region now. kind: info | success | error. */
export function flash(message, kind = 'info') {
  const region = document.getElementById('flash');
  if (!region) return;
  if (!message) {
    region.replaceChildren();
    return;
  }
  const close = h('button', {
    type: 'button', class: 'flash-close', 'aria-label': t('flash.dismiss'),
    onclick: () => region.replaceChildren(),
  }, '×');
  replace(region, h('div', { class: ['flash', `flash-${kind}`], dataset: { kind } },
    h('p', { class: 'flash-text' }, message), close));
}

/** Show a message after the next view has rendered (e.g. across a redirect to login). */
export function flashNext(message, kind = 'info') {
  pendingFlash = { message, kind };
}

/** Called by the router once a view is on screen. */
export function showPendingFlash() {
  if (pendingFlash) {
    flash(pendingFlash.message, pendingFlash.kind);
    pendingFlash = null;
  } else {
    flash(null);
  }
}

// --- page structure ----------------------------------------------------------------------------

/** The view's heading. The router moves focus to it after each navigation. */
export function pageHeader(title, { subtitle = null, actions = [] } = {}) {
  return h('div', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      h('h1', { id: 'page-title', tabindex: '-1' }, title),
      subtitle ? h('p', { class: 'page-subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function card(...children) {
  return h('section', { class: 'card' }, children);
}

export function loading(text = t('common.loading')) {
  return h('p', { class: 'loading', role: 'status' }, text);
}

export function emptyState(text, action = null) {
  return h('div', { class: 'empty' }, h('p', {}, text), action);
}

// --- errors -----------------------------------------------------------------------------------

/**
 * The wait of a 429 in words: "Try again in 15 minutes (at 14:05)." in the UI language, or
 * "Try again later." without a Retry-After.
 */
export function retryText(error) {
  const seconds = error ? error.retryAfter : null;
  if (seconds === null || seconds === undefined) return t('error.retry_later');
  const at = new Date(Date.now() + Number(seconds) * 1000);
  return t('error.retry_in', { duration: formatDuration(seconds), time: formatClock(at) });
}

const DETAILED_CODES = new Set(['conflict', 'forbidden', 'invalid_token', 'invalid_code']);

/**
 * The sentence to show for an ApiError (or any error). The API's own messages are English;
 * the SPA says its own sentence per error code, in the UI language, and falls back to the
 * API's message only for a code it does not know (and only in English).
 */
export function errorText(error) {
  if (!error) return t('error.generic');
  // A view may have said it already, in the UI language.
  if (typeof error.localized === 'string' && error.localized) return error.localized;
  if (error.code === 'rate_limited') return `${t('error.rate_limited')} ${retryText(error)}`;
  if (error.status === 404 && error.code === 'not_found') return t('error.not_found');
  if (error.status === 405 || error.code === 'method_not_allowed') return t('error.method_not_allowed');
  if (error.code === 'validation_failed' && error.fields && Object.keys(error.fields).length) {
    return t('error.fields_marked', { n: Object.keys(error.fields).length });
  }
  // Codes whose API message carries the detail (which conflict, which refusal): English pages
  // show it; other languages say the code's own sentence.
  if (language() === 'en' && error.message && DETAILED_CODES.has(error.code)) return error.message;
  if (error.code && hasText(`error.${error.code}`)) return t(`error.${error.code}`);
  if (error.status >= 500) return t('error.server');
  if (language() === 'en' && error.message) return error.message;
  return t('error.generic');
}

/** Whether a support reference helps: server trouble and refusals the user can't explain. */
function showsReference(error) {
  return error.status === 0 || error.status >= 500 || error.code === 'csrf_failed' || error.code === 'forbidden';
}

/** A notice box for an error (role=alert), with the request id for support. */
export function errorNotice(error, { title = null } = {}) {
  return h('div', { class: 'notice notice-error', role: 'alert', tabindex: '-1' },
    title ? h('p', { class: 'notice-title' }, title) : null,
    h('p', {}, errorText(error)),
    error && error.requestId && showsReference(error)
      ? h('p', { class: 'notice-ref' }, t('error.reference', { id: error.requestId })) : null);
}

/** Put an error (or nothing) into a container; ignores errors the API layer already handled. */
export function showError(container, error) {
  if (error && error.handled) return;
  if (!container) return;
  if (!error) {
    container.replaceChildren();
    return;
  }
  replace(container, errorNotice(error));
}

// --- forms ----------------------------------------------------------------------------------------

/**
 * A labelled control with a hint and an error slot, wired with aria-describedby.
 * opts: label, name, type (text|email|password|textarea|select|checkbox|...), value, options
 * ([{value,label}] for select), hint, required, autocomplete, inputmode, maxlength, minlength,
 * rows, placeholder, readonly, id.
 */
export function field(opts) {
  const id = opts.id || uid(opts.name || 'field');
  const hintId = opts.hint ? `${id}-hint` : null;
  let control;
  const common = {
    id,
    name: opts.name,
    required: opts.required || false,
    autocomplete: opts.autocomplete,
    inputmode: opts.inputmode,
    maxlength: opts.maxlength,
    minlength: opts.minlength,
    placeholder: opts.placeholder,
    readonly: opts.readonly || false,
    spellcheck: opts.spellcheck,
    pattern: opts.pattern,
    'aria-describedby': hintId,
  };
  if (opts.type === 'textarea') {
    control = h('textarea', { ...common, rows: opts.rows || 6, class: 'input' });
    control.value = opts.value ?? '';
  } else if (opts.type === 'select') {
    control = h('select', { ...common, class: 'input' },
      (opts.options || []).map((o) => h('option', { value: o.value }, o.label)));
    control.value = opts.value ?? '';
  } else if (opts.type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', class: 'checkbox' });
    control.checked = Boolean(opts.checked);
    return {
      wrapper: h('div', { class: 'field field-checkbox', dataset: { field: opts.name } },
        control,
        h('label', { for: id }, opts.label),
        opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null),
      input: control,
    };
  } else {
    control = h('input', { ...common, type: opts.type || 'text', class: 'input' });
    control.value = opts.value ?? '';
  }
  const wrapper = h('div', { class: ['field', opts.short ? 'field-short' : null], dataset: { field: opts.name } },
    h('label', { for: id }, opts.label,
      opts.required || opts.showOptional === false ? null : h('span', { class: 'optional' }, ` ${t('field.optional')}`)),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    control);
  if (opts.type === 'password' && opts.reveal !== false) {
    const toggle = h('button', {
      type: 'button', class: 'btn btn-quiet btn-small reveal', 'aria-controls': id,
      'aria-pressed': 'false',
      onclick: () => {
        const show = control.type === 'password';
        control.type = show ? 'text' : 'password';
        toggle.textContent = show ? t('field.hide') : t('field.show');
        toggle.setAttribute('aria-pressed', String(show));
        toggle.setAttribute('aria-label', t(show ? 'field.hide_what' : 'field.show_what', { what: opts.label }));
      },
      'aria-label': t('field.show_what', { what: opts.label }),
    }, t('field.show'));
    control.classList.add('input-with-button');
    // Moving the control into the group takes it out of the wrapper; the group goes in its place.
    wrapper.append(h('div', { class: 'input-group' }, control, toggle));
  }
  return { wrapper, input: control };
}

/** A form with an error summary slot at the top. onSubmit(form, event) may be async. */
export function form(attrs, ...children) {
  const summary = h('div', { class: 'form-errors', dataset: { role: 'form-errors' } });
  const el = h('form', { novalidate: true, ...attrs }, summary, children);
  return el;
}

/** Remove every error message a previous submit left on this form. */
export function clearFormErrors(formEl) {
  // Each submit starts clean: the outcome of the previous one (a toast in the live region
  // included) goes, so an old "Saved" never stands beside a new error.
  flash(null);
  for (const node of formEl.querySelectorAll('.field-error')) node.remove();
  for (const node of formEl.querySelectorAll('[aria-invalid="true"]')) {
    node.removeAttribute('aria-invalid');
    const ids = (node.getAttribute('aria-describedby') || '').split(' ')
      .filter((x) => x && !x.endsWith('-error'));
    if (ids.length) node.setAttribute('aria-describedby', ids.join(' '));
    else node.removeAttribute('aria-describedby');
  }
  const summary = formEl.querySelector('[data-role="form-errors"]');
  if (summary) summary.replaceChildren();
}

function markFieldError(control, message) {
  const errorId = `${control.id}-error`;
  const text = h('p', { class: 'field-error', id: errorId }, message);
  const wrapper = control.closest('.field');
  if (wrapper) wrapper.append(text);
  else control.after(text);
  control.setAttribute('aria-invalid', 'true');
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  described.push(errorId);
  control.setAttribute('aria-describedby', described.join(' '));
}

/** The label a field error speaks of ("E-mail", "Tags"), from the catalogue. */
function fieldLabel(key) {
  return hasText(`field.${key}`) ? t(`field.${key}`) : key.replace(/_/g, ' ');
}

// The API's field messages are English sentences without codes; the few it sends are matched
// here to the catalogue's own words, so a German page does not show them in English.
const FIELD_MESSAGES = [
  [/^is required$/, () => t('check.required')],
  [/^must be at least (\d+) characters?/, (m) => t('check.min_length', { n: Number(m[1]) })],
  [/^must be at most (\d+) characters?/, (m) => t('check.max_length', { n: Number(m[1]) })],
  [/^must be at most (\d+) bytes?/, (m) => t('check.max_bytes', { n: Number(m[1]) })],
  [/^must be a valid e-?mail address/i, () => t('check.email')],
  [/^is not a valid e-?mail address/i, () => t('check.email')],
  [/^is too common or too easy to guess/, () => t('check.common_password')],
  [/^must not contain your name/, () => t('check.password_context')],
  [/^is incorrect$/, () => t('check.incorrect')],
  [/^does not exist$/, () => t('check.does_not_exist')],
  [/^must be the invited address$/, () => t('check.invited_address')],
  [/^is invalid, used or expired$/, () => t('check.invite_invalid')],
  [/^must differ from the current/, () => t('check.same_password')],
  [/^(must not be|is) the same as/, () => t('check.same_password')],
];

// Messages that read wrong after their label in any language ("Tags each tag must be …").
const COPY_FIXES = [
  [/^each tag must be (\d+) to (\d+) characters/, (m) => t('check.tag_length', { min: Number(m[1]), max: Number(m[2]) })],
  [/^must hold at most (\d+) tags/, (m) => t('check.max_items', { n: Number(m[1]) })],
];

/**
 * A field message in the UI language: the SPA's own checks pass {text}; the API's are kept as
 * they are on an English page (but for the copy fixes) and mapped on any other.
 */
function fieldMessage(message) {
  if (message && typeof message === 'object' && message.text) return message.text;
  const text = String(message || '').replace(/\.$/, '');
  const table = language() === 'en' ? COPY_FIXES : [...COPY_FIXES, ...FIELD_MESSAGES];
  for (const [pattern, say] of table) {
    const m = pattern.exec(text);
    if (m) return say(m);
  }
  return language() === 'en' ? text : t('check.invalid');
}

/**
 * Show an API error on a form: each of error.fields beside its control (matched by name), the
 * message and any field without a control in the summary. Focus goes to the first invalid
 * control, else to the summary.
 */
export function showFormErrors(formEl, error, { fieldMap = {} } = {}) {
  clearFormErrors(formEl);
  if (!error || error.handled) return;
  const summary = formEl.querySelector('[data-role="form-errors"]');
  const unplaced = [];
  let first = null;
  for (const [key, message] of Object.entries(error.fields || {})) {
    const name = fieldMap[key] || key;
    const control = formEl.querySelector(`[name="${CSS.escape(name)}"]`);
    const sentence = t('check.sentence', { label: fieldLabel(key), message: fieldMessage(message) });
    if (control) {
      markFieldError(control, sentence);
      first = first || control;
    } else {
      unplaced.push(sentence);
    }
  }
  if (first && !unplaced.length) {
    // Every message sits beside its field (and is read out with it): no summary needed.
    first.focus();
    return;
  }
  const notice = errorNotice(error);
  if (unplaced.length) {
    notice.append(h('ul', { class: 'notice-list' }, unplaced.map((t) => h('li', {}, t))));
  }
  if (summary) summary.append(notice);
  if (first) first.focus();
  else notice.focus();
}

/**
 * The account's e-mail as a hidden username field, so password managers know which account a
 * password form is for (Chromium asks for one on every password form).
 */
export function usernameHint(email) {
  return h('input', {
    type: 'text', name: 'username', autocomplete: 'username', value: email || '', readonly: true,
    class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true',
  });
}

/** A wrong TOTP or backup code (400 invalid_code) is marked on the field it came from. */
export function codeErrorOnField(error, name) {
  if (error && error.code === 'invalid_code' && !error.fields) {
    error.fields = { [name]: { text: t('check.code_invalid') } };
  }
  return error;
}

/** Client-side check result shown like an API field error. */
export function fieldError(formEl, name, message) {
  showFormErrors(formEl, { code: 'validation_failed', fields: { [name]: message } });
}

/**
 * Run fn while a button shows a busy label and the form is marked aria-busy.
 * Returns fn's result; rethrows its error.
 */
export async function busy(button, busyLabel, fn) {
  const label = button ? button.textContent : null;
  const formEl = button ? button.closest('form') : null;
  if (button) {
    button.disabled = true;
    button.textContent = busyLabel;
    button.classList.add('is-busy');
  }
  if (formEl) formEl.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    if (button) {
      button.disabled = false;
      button.textContent = label;
      button.classList.remove('is-busy');
    }
    if (formEl) formEl.removeAttribute('aria-busy');
  }
}

export function button(label, attrs = {}) {
  const { variant = 'secondary', class: extra = null, ...rest } = attrs;
  return h('button', { type: 'button', ...rest, class: ['btn', `btn-${variant}`, extra] }, label);
}

// --- dialogs --------------------------------------------------------------------------------------

/** A modal <dialog> (focus is kept inside by the browser; Escape cancels). */
export function modal({ title, body, actions, labelledBy = uid('dialog-title'), onClose = null }) {
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': labelledBy },
    h('h2', { id: labelledBy, class: 'dialog-title' }, title),
    body,
    actions ? h('div', { class: 'dialog-actions' }, actions) : null);
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose(dialog.returnValue);
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** confirmDialog({title, message, confirmLabel, danger}) → Promise<boolean>. */
export function confirmDialog({ title, message, confirmLabel = t('common.confirm'), danger = false }) {
  return new Promise((resolve) => {
    let result = false;
    const ok = button(confirmLabel, {
      variant: danger ? 'danger' : 'primary',
      onclick: () => { result = true; dialog.close('confirm'); },
    });
    const cancel = button(t('common.cancel'), { onclick: () => dialog.close('cancel') });
    const dialog = modal({
      title,
      body: h('p', { class: 'dialog-text' }, message),
      actions: [cancel, ok],
      onClose: () => resolve(result),
    });
    cancel.focus();
  });
}

// --- lists ------------------------------------------------------------------------------------------

/**
 * Keyset pagination over opaque cursors, kept client-side: stack[i] is the cursor that loads
 * page i (null for the first). "Previous page" pops back to the cursor before.
 */
export class CursorPager {
  constructor() {
    this.reset();
  }

  reset() {
    this.stack = [null];
    this.index = 0;
    this.next = null;
  }

  get cursor() {
    return this.stack[this.index];
  }

  get pageNumber() {
    return this.index + 1;
  }

  get hasPrevious() {
    return this.index > 0;
  }

  get hasNext() {
    return Boolean(this.next);
  }

  /** Record the answer of the page just loaded. */
  loaded(page) {
    this.next = page && page.has_more && page.next_cursor ? page.next_cursor : null;
  }

  forward() {
    if (!this.next) return false;
    this.stack = this.stack.slice(0, this.index + 1);
    this.stack.push(this.next);
    this.index += 1;
    return true;
  }

  back() {
    if (this.index === 0) return false;
    this.index -= 1;
    return true;
  }
}

/** Previous/next buttons for a CursorPager. */
export function pagerNav(pager, { onPrevious, onNext, label = t('pager.label') }) {
  const previous = button(t('pager.previous'), {
    class: 'pager-prev', disabled: !pager.hasPrevious, onclick: onPrevious,
  });
  const next = button(t('pager.next'), { class: 'pager-next', disabled: !pager.hasNext, onclick: onNext });
  return h('nav', { class: 'pager', 'aria-label': label },
    previous,
    h('span', { class: 'pager-status', 'aria-live': 'polite' }, t('pager.page', { n: pager.pageNumber })),
    next);
}

// --- clipboard and downloads -----------------------------------------------------------------------

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* denied: fall back to a selection */
  }
  const scratch = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  scratch.value = text;
  const previous = document.activeElement;
  document.body.append(scratch);
  scratch.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  scratch.remove();
  if (previous && typeof previous.focus === 'function') previous.focus();
  return ok;
}

/** A "Copy" button for text (the clipboard API, else a selection and the copy command). */
export function copyButton(getText, { label = t('copy.copy'), what = t('copy.text') } = {}) {
  const btn = button(label, {
    class: 'copy-button',
    onclick: async () => {
      const ok = await copyText(getText());
      btn.textContent = ok ? t('copy.copied') : t('copy.select');
      flash(ok ? t('copy.done', { what }) : t('copy.blocked'), ok ? 'success' : 'info');
      setTimeout(() => { btn.textContent = label; }, 2500);
    },
  });
  return btn;
}

/** A button that saves `text` as a file (a blob: URL, revoked right after). */
export function downloadButton(filename, getText, { label = t('copy.download') } = {}) {
  return button(label, {
    class: 'download-button',
    onclick: () => {
      const url = URL.createObjectURL(new Blob([getText()], { type: 'text/plain;charset=utf-8' }));
      const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    },
  });
}
