// Password recovery, logged out: "Forgot password?" (ask for a link by e-mail) and the page the
// link opens (choose a new password, with the second factor when the account has one).
//
// The link's token reaches this view through link-token.js: the router has already taken it
// out of the address bar and the history. It stays in memory only, and is forgotten once used
// or refused.

import { post } from '../api.js';
import { h, replace } from '../dom.js';
import { refreshSession } from '../flow.js';
import { dropLinkToken, linkToken } from '../link-token.js';
import { navigate } from '../router.js';
import { rememberedDisplay, session } from '../session.js';
import { t } from '../i18n.js';
import { checkForm } from '../policy.js';
import {
  busy, button, card, clearFormErrors, codeErrorOnField, field, flashNext, form,
  pageHeader, showFormErrors, usernameHint,
} from '../ui.js';

// The address typed on the login page, offered again on the forgot-password page (memory only).
let typedEmail = '';

/** The login form tells this view what was typed in its e-mail field. */
export function rememberTypedEmail(email) {
  typedEmail = String(email || '').trim();
}

/** A notice that takes focus, so a screen reader reads the outcome and keyboard users start there. */
function outcome(kind, ...children) {
  return h('div', { class: ['notice', `notice-${kind}`, 'outcome'], id: 'outcome', tabindex: '-1', role: kind === 'error' ? 'alert' : 'status' },
    children);
}

function focusOutcome(root) {
  const el = root.querySelector('#outcome');
  if (el) el.focus();
}

// --- forgot password ----------------------------------------------------------------------------

export function forgotView(root) {
  const remembered = rememberedDisplay();
  const email = field({
    label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'username',
    spellcheck: 'false', value: typedEmail || (remembered ? remembered.email : ''),
    hint: t('recovery.email_hint'),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('recovery.send'));
  const formEl = form({ class: 'form', id: 'forgot-form', 'aria-labelledby': 'page-title' },
    h('p', {}, t('recovery.intro')),
    email.wrapper, submit);
  const body = card(formEl);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const address = email.input.value.trim();
    if (!checkForm(formEl, [{ name: 'email', value: address, required: true }])) return;
    let answer;
    try {
      answer = await busy(submit, t('security.sending'), () => post('/auth/password/forgot', { email: address }, { public: true }));
    } catch (error) {
      showFormErrors(formEl, error);
      return;
    }
    typedEmail = address;
    // The same answer for every address (the API never says whether an account exists).
    // (The API's message says the same in English; the page says it in its own language.)
    if (!answer) return;
    replace(body,
      outcome('success',
        h('p', { class: 'notice-title' }, t('recovery.check_mail')),
        h('p', { id: 'forgot-message' }, t('recovery.sent')),
        h('p', {}, t('recovery.sent_more'))),
      h('div', { class: 'button-row' },
        button(t('recovery.ask_again'), {
          variant: 'secondary',
          onclick: () => {
            replace(body, formEl);
            email.input.focus();
          },
        })));
    focusOutcome(root);
  });

  root.append(h('div', { class: 'auth-layout' },
    pageHeader(t('title.forgot'), { subtitle: t('recovery.forgot_subtitle') }),
    body,
    h('p', { class: 'auth-alt' }, t('recovery.remembered'), ' ', h('a', { href: '#/login' }, t('auth.login')), '.')));
}

// --- choose a new password -------------------------------------------------------------------------

/** 6 digits: a code from the authenticator app; anything else: a backup code. */
function secondFactor(value) {
  const compact = value.replace(/[\s-]+/g, '');
  if (!compact) return {};
  return /^\d{6}$/.test(compact) ? { code: compact } : { backup_code: compact };
}

function invalidLink(body) {
  replace(body, outcome('error',
    h('p', { class: 'notice-title' }, t('recovery.invalid_title')),
    h('p', {}, t('recovery.invalid_text')),
    h('p', {}, h('a', { href: '#/forgot', id: 'request-new-link' }, t('recovery.new_link')), '.')));
}

export function resetView(root) {
  const route = '/reset';
  const body = card();
  root.append(h('div', { class: 'auth-layout' },
    pageHeader(t('title.reset'), { subtitle: t('recovery.reset_subtitle') }),
    body,
    h('p', { class: 'auth-alt' }, h('a', { href: '#/login' }, t('recovery.back_login')))));

  if (!linkToken(route)) {
    replace(body, outcome('info',
      h('p', { class: 'notice-title' }, t('recovery.open_link_title')),
      h('p', {}, t('recovery.open_link_text')),
      h('p', {}, h('a', { href: '#/forgot', id: 'request-new-link' }, t('recovery.new_link')), '.')));
    return;
  }

  const fresh = field({
    label: t('field.new_password'), name: 'new_password', type: 'password', required: true, autocomplete: 'new-password',
    hint: t('security.password_hint', { min: 15, max: 128 }),
  });
  const second = field({
    label: t('recovery.code_label'), name: 'code', required: true, autocomplete: 'one-time-code',
    maxlength: 32, short: true, spellcheck: 'false', hint: t('recovery.code_hint'),
  });
  second.wrapper.hidden = true;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('recovery.set'));
  const formEl = form({ class: 'form', id: 'reset-form', 'aria-labelledby': 'page-title' },
    h('p', { class: 'muted' }, t('recovery.reset_note')),
    // Lets a password manager store the new password; the address is not known here.
    usernameHint(''),
    fresh.wrapper, second.wrapper, submit);
  replace(body, formEl);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const token = linkToken(route);
    if (!token) {
      invalidLink(body);
      focusOutcome(root);
      return;
    }
    // The length rule depends on the organisation (DESIGN §7): the API checks it.
    const factor = second.wrapper.hidden ? {} : secondFactor(second.input.value);
    if (!checkForm(formEl, [
      { name: 'new_password', value: fresh.input.value, required: true },
      { name: 'code', value: second.wrapper.hidden ? 'not asked' : Object.values(factor)[0] || '', required: true },
    ])) return;
    try {
      await busy(submit, t('common.saving'), () => post('/auth/password/reset',
        { token, new_password: fresh.input.value, ...factor }, { public: true }));
    } catch (error) {
      if (error.code === 'invalid_token') {
        dropLinkToken(route);
        invalidLink(body);
        focusOutcome(root);
        return;
      }
      if (error.code === 'mfa_code_required') {
        // The password passed the policy; the second factor is next. The token stays usable.
        second.wrapper.hidden = false;
        showFormErrors(formEl, { localized: t('recovery.code_needed') });
        second.input.focus();
        return;
      }
      showFormErrors(formEl, codeErrorOnField(error, 'code'));
      if (error.code === 'invalid_code') second.input.select();
      return;
    }
    dropLinkToken(route);
    fresh.input.value = '';
    second.input.value = '';
    // Every session of the account ended. If this browser was signed in, ask who it is now.
    if (session.user || session.mfaPending) await refreshSession();
    flashNext(t('recovery.changed'), 'success');
    navigate('/login');
  });
}
