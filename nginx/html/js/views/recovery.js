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

const NEW_PASSWORD_HINT = 'At least 15 characters (8 where your organisation requires two-factor '
  + 'authentication), at most 128. Not a common password, and not your name, e-mail or organisation.';

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
    label: 'E-mail', name: 'email', type: 'email', required: true, autocomplete: 'username',
    spellcheck: 'false', value: typedEmail || (remembered ? remembered.email : ''),
    hint: 'The address you log in with.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send the reset link');
  const formEl = form({ class: 'form', id: 'forgot-form', 'aria-labelledby': 'page-title' },
    h('p', {}, 'Enter your e-mail address. If an account uses it, we send it a link to choose a new password.'),
    email.wrapper, submit);
  const body = card(formEl);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const address = email.input.value.trim();
    if (!address) {
      showFormErrors(formEl, { message: 'Please fill in your e-mail address.', fields: { email: 'is required' } });
      return;
    }
    let answer;
    try {
      answer = await busy(submit, 'Sending…', () => post('/auth/password/forgot', { email: address }, { public: true }));
    } catch (error) {
      showFormErrors(formEl, error);
      return;
    }
    typedEmail = address;
    // The same answer for every address (the API never says whether an account exists).
    const message = answer && typeof answer.message === 'string' && answer.message
      ? answer.message
      : 'If an account uses this address, a link to reset its password is on its way.';
    replace(body,
      outcome('success',
        h('p', { class: 'notice-title' }, 'Check your e-mail'),
        h('p', { id: 'forgot-message' }, message),
        h('p', {}, 'The link works once, for 30 minutes. Nothing arrived after a few minutes? '
          + 'Check your spam folder, or ask again.')),
      h('div', { class: 'button-row' },
        button('Ask again', {
          variant: 'secondary',
          onclick: () => {
            replace(body, formEl);
            email.input.focus();
          },
        })));
    focusOutcome(root);
  });

  root.append(h('div', { class: 'auth-layout' },
    pageHeader('Forgot your password?', { subtitle: 'We can send you a link to choose a new one.' }),
    body,
    h('p', { class: 'auth-alt' }, 'Remembered it? ', h('a', { href: '#/login' }, 'Log in'), '.')));
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
    h('p', { class: 'notice-title' }, 'This reset link can’t be used'),
    h('p', {}, 'It is not valid, has expired (links work for 30 minutes) or was used already. '
      + 'Only the newest link you asked for works.'),
    h('p', {}, h('a', { href: '#/forgot', id: 'request-new-link' }, 'Ask for a new link'), '.')));
}

export function resetView(root) {
  const route = '/reset';
  const body = card();
  root.append(h('div', { class: 'auth-layout' },
    pageHeader('Choose a new password', { subtitle: 'Pick a new password for your portcullis account.' }),
    body,
    h('p', { class: 'auth-alt' }, h('a', { href: '#/login' }, 'Back to log in'))));

  if (!linkToken(route)) {
    replace(body, outcome('info',
      h('p', { class: 'notice-title' }, 'Open the link from your e-mail'),
      h('p', {}, 'This page works with the link we sent you. If you reloaded it, open the link again; '
        + 'if it no longer works, ask for a new one.'),
      h('p', {}, h('a', { href: '#/forgot', id: 'request-new-link' }, 'Ask for a new link'), '.')));
    return;
  }

  const fresh = field({
    label: 'New password', name: 'new_password', type: 'password', required: true, autocomplete: 'new-password',
    maxlength: 128, hint: NEW_PASSWORD_HINT,
  });
  const second = field({
    label: 'Authentication code or backup code', name: 'code', required: true, autocomplete: 'one-time-code',
    maxlength: 32, short: true, spellcheck: 'false',
    hint: 'Your account uses two-factor authentication: enter the 6-digit code from your authenticator app, '
      + 'or one of your backup codes.',
  });
  second.wrapper.hidden = true;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set new password');
  const formEl = form({ class: 'form', id: 'reset-form', 'aria-labelledby': 'page-title' },
    h('p', { class: 'muted' }, 'Setting a new password logs out every session of your account.'),
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
    const missing = {};
    // The length rule depends on the organisation (DESIGN §7): the API checks it.
    if (!fresh.input.value) missing.new_password = 'is required';
    const factor = second.wrapper.hidden ? {} : secondFactor(second.input.value);
    if (!second.wrapper.hidden && !Object.keys(factor).length) missing.code = 'is required';
    if (Object.keys(missing).length) {
      showFormErrors(formEl, { message: 'Please fill in the marked fields.', fields: missing });
      return;
    }
    try {
      await busy(submit, 'Saving…', () => post('/auth/password/reset',
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
        showFormErrors(formEl, {
          message: 'Your account uses two-factor authentication: enter a code from your authenticator '
            + 'app or a backup code as well.',
        });
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
    flashNext('Your password was changed. Sign in with the new one.', 'success');
    navigate('/login');
  });
}
