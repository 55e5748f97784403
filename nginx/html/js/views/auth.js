// Logged-out views: log in (with the second step for two-factor authentication and the way to
// "Forgot password?"), create an organisation, join one with an invitation.

import { post } from '../api.js';
import { h } from '../dom.js';
import { afterLogin, logout } from '../flow.js';
import { navigate } from '../router.js';
import { applyLogin, applyMfaPending, clearSession, rememberedDisplay, session } from '../session.js';
import { rememberTypedEmail } from './recovery.js';
import {
  busy, card, clearFormErrors, codeErrorOnField, field, flashNext, form, pageHeader, showFormErrors,
} from '../ui.js';

const PASSWORD_HINT = '15 to 128 characters. A few unrelated words make a strong passphrase '
  + 'that is easy to remember.';
// An organisation that requires two-factor authentication accepts 8 characters (DESIGN §7);
// the join form can't know which rule applies before the API answers.
const JOIN_PASSWORD_HINT = 'At least 15 characters (8 if your organisation requires two-factor '
  + 'authentication). A few unrelated words make a strong passphrase.';

// The e-mail to put in the login form after registering (in memory only).
let prefillEmail = null;

function requireFields(formEl, values) {
  const missing = {};
  for (const [name, value] of Object.entries(values)) {
    if (!String(value).trim()) missing[name] = 'is required';
  }
  if (Object.keys(missing).length) {
    const n = Object.keys(missing).length;
    showFormErrors(formEl, { message: `Please fill in the marked field${n === 1 ? '' : 's'}.`, fields: missing });
    return false;
  }
  return true;
}

// --- log in -----------------------------------------------------------------------------------------

export function loginView(root) {
  const remembered = rememberedDisplay();
  const email = field({
    label: 'E-mail', name: 'email', type: 'email', required: true, autocomplete: 'username',
    value: prefillEmail || (remembered ? remembered.email : ''), spellcheck: 'false',
  });
  prefillEmail = null;
  const password = field({
    label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password',
  });
  // Right under the password, where it is looked for; the address typed so far goes along.
  const forgot = h('p', { class: 'field-link' }, h('a', {
    href: '#/forgot', id: 'forgot-password',
    onclick: () => rememberTypedEmail(email.input.value),
  }, 'Forgot password?'));
  const remember = field({
    label: 'Keep me logged in on this device', name: 'remember_me', type: 'checkbox',
    hint: 'For 7 days. Leave this off on a shared computer.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const formEl = form({ class: 'form', id: 'login-form', 'aria-labelledby': 'page-title' },
    email.wrapper, password.wrapper, forgot, remember.wrapper, submit);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    if (!requireFields(formEl, { email: email.input.value, password: password.input.value })) return;
    try {
      const answer = await busy(submit, 'Logging in…', () => post('/auth/login', {
        email: email.input.value.trim(),
        password: password.input.value,
        remember_me: remember.input.checked,
      }, { public: true }));
      password.input.value = '';
      if (answer.mfa_required) {
        applyMfaPending(answer);
        navigate('/login/verify');
        return;
      }
      applyLogin(answer);
      if (!session.enrollmentOnly && !session.verificationOnly) {
        flashNext(`Welcome back, ${session.user.display_name || session.user.email}.`, 'success');
      }
      afterLogin();
    } catch (error) {
      if (error.code === 'invalid_credentials') {
        // One message for both fields: the API never says which one was wrong.
        password.input.value = '';
      }
      showFormErrors(formEl, error);
      if (error.code === 'invalid_credentials') password.input.focus();
    }
  });

  root.append(
    h('div', { class: 'auth-layout' },
      pageHeader('Log in', { subtitle: 'Welcome back to portcullis.' }),
      card(formEl),
      h('p', { class: 'auth-alt' }, 'New here? ', h('a', { href: '#/register' }, 'Create an organisation'), '.'),
      h('p', { class: 'auth-alt muted' }, 'Invited by a colleague? Open the link from your invitation.')),
  );
}

// --- second factor ----------------------------------------------------------------------------------

export function verifyView(root, { setTitle }) {
  let useBackup = false;
  const code = field({
    label: 'Authentication code', name: 'code', required: true, autocomplete: 'one-time-code',
    inputmode: 'numeric', maxlength: 6, short: true, hint: 'Open your authenticator app and enter the 6-digit code it shows for portcullis.',
    spellcheck: 'false',
  });
  const backup = field({
    label: 'Backup code', name: 'backup_code', required: true, autocomplete: 'off', maxlength: 32, short: true,
    hint: 'One of the backup codes you saved when you set up two-factor authentication. Each works once.',
    spellcheck: 'false',
  });
  backup.wrapper.hidden = true;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify');
  const toggle = h('button', { type: 'button', class: 'btn btn-link', id: 'use-backup-code' }, 'Use a backup code instead');
  const cancel = h('button', { type: 'button', class: 'btn btn-link' }, 'Cancel and start over');
  const formEl = form({ class: 'form', id: 'mfa-form', 'aria-labelledby': 'page-title' },
    code.wrapper, backup.wrapper, submit);

  toggle.addEventListener('click', () => {
    useBackup = !useBackup;
    code.wrapper.hidden = useBackup;
    backup.wrapper.hidden = !useBackup;
    toggle.textContent = useBackup ? 'Use an authentication code instead' : 'Use a backup code instead';
    clearFormErrors(formEl);
    setTitle(useBackup ? 'Backup code' : 'Two-factor authentication');
    (useBackup ? backup : code).input.focus();
  });
  cancel.addEventListener('click', () => logout({ message: null }));

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const active = useBackup ? backup : code;
    const value = active.input.value.replace(/\s+/g, '');
    if (!requireFields(formEl, { [useBackup ? 'backup_code' : 'code']: value })) return;
    try {
      const answer = await busy(submit, 'Verifying…', () => post('/auth/mfa/verify',
        useBackup ? { backup_code: value } : { code: value }, { public: true }));
      applyLogin(answer);
      if (!session.verificationOnly) {
        flashNext(`Welcome back, ${session.user.display_name || session.user.email}.`, 'success');
      }
      afterLogin();
    } catch (error) {
      if (error.status === 401 || error.code === 'rate_limited') {
        // The half-finished login ended (it lasts a few minutes, and a lockout ends it too).
        clearSession();
        flashNext(error.code === 'rate_limited'
          ? errorMessageForLockout(error)
          : 'The login took too long. Please start again.', 'error');
        navigate('/login');
        return;
      }
      showFormErrors(formEl, codeErrorOnField(error, useBackup ? 'backup_code' : 'code'));
      active.input.select();
    }
  });

  root.append(h('div', { class: 'auth-layout' },
    pageHeader('Two-factor authentication', { subtitle: 'Your password was right. One more step.' }),
    card(formEl, h('div', { class: 'form-footer' }, toggle, cancel))));
}

function errorMessageForLockout(error) {
  const minutes = error.retryAfter ? Math.ceil(error.retryAfter / 60) : null;
  return minutes
    ? `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
    : 'Too many failed attempts. Try again later.';
}

// --- create an organisation -----------------------------------------------------------------------

export function registerView(root) {
  const tenant = field({
    label: 'Organisation name', name: 'tenant_name', required: true, maxlength: 100, autocomplete: 'organization',
  });
  const name = field({ label: 'Your name', name: 'display_name', required: true, maxlength: 100, autocomplete: 'name' });
  const email = field({ label: 'E-mail', name: 'email', type: 'email', required: true, autocomplete: 'username', spellcheck: 'false' });
  const password = field({
    label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'new-password',
    minlength: 15, maxlength: 128, hint: PASSWORD_HINT,
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Create organisation');
  const formEl = form({ class: 'form', id: 'register-form', 'aria-labelledby': 'page-title' },
    tenant.wrapper, name.wrapper, email.wrapper, password.wrapper, submit);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const values = {
      tenant_name: tenant.input.value.trim(),
      display_name: name.input.value.trim(),
      email: email.input.value.trim(),
      password: password.input.value,
    };
    if (!requireFields(formEl, values)) return;
    try {
      const answer = await busy(submit, 'Creating…', () => post('/auth/register', values, { public: true }));
      prefillEmail = values.email;
      flashNext(`“${answer.tenant ? answer.tenant.name : values.tenant_name}” is ready. Log in to continue.`, 'success');
      navigate('/login');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });

  root.append(h('div', { class: 'auth-layout' },
    pageHeader('Create an organisation', { subtitle: 'You will be its owner and can invite your team.' }),
    card(formEl),
    h('p', { class: 'auth-alt' }, 'Already have an account? ', h('a', { href: '#/login' }, 'Log in'), '.')));
}

// --- join with an invitation ---------------------------------------------------------------------------

/** The token from a pasted join link (…#/join?token=…) or a bare token. */
function tokenFrom(text) {
  const value = String(text || '').trim();
  const m = /[?&]token=([^&#\s]+)/.exec(value);
  return m ? decodeURIComponent(m[1]) : value;
}

export function joinView(root, { query }) {
  const header = pageHeader('Join an organisation', {
    subtitle: 'You were invited to portcullis. Create your account to join your team.',
  });
  if (session.user) {
    root.append(h('div', { class: 'auth-layout' }, header, card(
      h('p', {}, `You are logged in as ${session.user.email}. Log out first to accept this invitation with a new account.`),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => logout({ message: null }).then(() => navigate('/join', Object.fromEntries(query))) }, 'Log out and continue'))));
    return;
  }
  const fromLink = tokenFrom(query.get('token'));
  const token = field({
    label: 'Invitation link or code', name: 'invite_token', required: true, autocomplete: 'off',
    hint: 'Paste the link from your invitation.', spellcheck: 'false',
  });
  if (fromLink) token.wrapper.hidden = true;
  token.input.value = fromLink;
  const name = field({ label: 'Your name', name: 'display_name', required: true, maxlength: 100, autocomplete: 'name' });
  const email = field({
    label: 'E-mail', name: 'email', type: 'email', required: true, autocomplete: 'username', spellcheck: 'false',
    hint: 'The address your invitation was sent to.',
  });
  const password = field({
    label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'new-password',
    maxlength: 128, hint: JOIN_PASSWORD_HINT,
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Join');
  const formEl = form({ class: 'form', id: 'join-form', 'aria-labelledby': 'page-title' },
    fromLink ? h('p', { class: 'notice notice-info' }, 'Your invitation is ready. Fill in your details below.') : null,
    token.wrapper, name.wrapper, email.wrapper, password.wrapper, submit);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const values = {
      invite_token: tokenFrom(token.input.value),
      display_name: name.input.value.trim(),
      email: email.input.value.trim(),
      password: password.input.value,
    };
    if (!requireFields(formEl, values)) return;
    try {
      const answer = await busy(submit, 'Joining…', () => post('/auth/register', values, { public: true }));
      prefillEmail = values.email;
      flashNext(`Welcome to “${answer.tenant ? answer.tenant.name : 'your organisation'}”. Log in to continue.`, 'success');
      navigate('/login');
    } catch (error) {
      if (error.fields && error.fields.invite_token) token.wrapper.hidden = false;
      showFormErrors(formEl, error);
    }
  });

  root.append(h('div', { class: 'auth-layout' }, header, card(formEl),
    h('p', { class: 'auth-alt' }, 'Already have an account? ', h('a', { href: '#/login' }, 'Log in'), '.')));
}

