// Logged-out views: log in (with the second step for two-factor authentication and the way to
// "Forgot password?"), create an organisation, join one with an invitation. Creating an
// account (either way) signs the new user in with what was just typed: the API keeps its one
// path to a session, POST /auth/login.

import { post } from '../api.js';
import { h } from '../dom.js';
import { afterLogin, logout } from '../flow.js';
import { t } from '../i18n.js';
import { dropLinkToken, linkToken } from '../link-token.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
import { navigate } from '../router.js';
import { applyLogin, applyMfaPending, clearSession, rememberedDisplay, session } from '../session.js';
import { rememberTypedEmail } from './recovery.js';
import {
  busy, card, clearFormErrors, codeErrorOnField, errorText, field, flashNext, form, pageHeader,
  showFormErrors,
} from '../ui.js';

// The e-mail to put in the login form after registering (in memory only).
let prefillEmail = null;

/** The rules every new account's fields follow, with the server's numbers when known. */
function accountRules(policy, values) {
  return [
    { name: 'tenant_name', value: values.tenant_name, required: 'tenant_name' in values, max: rule(policy, 'tenant_name', 'max_length') },
    { name: 'display_name', value: values.display_name, required: true, max: rule(policy, 'display_name', 'max_length') },
    { name: 'email', value: values.email, required: true, email: true, max: rule(policy, 'email', 'max_length') },
    {
      name: 'password', value: values.password, required: true,
      min: values.invite_token ? null : rule(policy, 'password', 'min_length'),
      max: rule(policy, 'password', 'max_length'),
    },
  ].filter((r) => r.name in values);
}

function forgotLink(emailInput) {
  return h('a', {
    href: '#/forgot', class: 'forgot-link',
    onclick: () => rememberTypedEmail(emailInput ? emailInput.value : ''),
  }, t('auth.forgot'));
}

// --- log in -----------------------------------------------------------------------------------------

export function loginView(root) {
  const remembered = rememberedDisplay();
  const email = field({
    label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'username',
    value: prefillEmail || (remembered ? remembered.email : ''), spellcheck: 'false',
  });
  prefillEmail = null;
  const password = field({
    label: t('field.password'), name: 'password', type: 'password', required: true, autocomplete: 'current-password',
  });
  // Right under the password, where it is looked for; the address typed so far goes along.
  const forgot = h('p', { class: 'field-link' }, h('a', {
    href: '#/forgot', id: 'forgot-password',
    onclick: () => rememberTypedEmail(email.input.value),
  }, t('auth.forgot')));
  const remember = field({
    label: t('auth.remember'), name: 'remember_me', type: 'checkbox', hint: t('auth.remember_hint'),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('auth.login'));
  const formEl = form({ class: 'form', id: 'login-form', 'aria-labelledby': 'page-title' },
    email.wrapper, password.wrapper, forgot, remember.wrapper, submit);

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    if (!checkForm(formEl, [
      { name: 'email', value: email.input.value, required: true },
      { name: 'password', value: password.input.value, required: true },
    ])) return;
    try {
      const answer = await busy(submit, t('auth.logging_in'), () => post('/auth/login', {
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
        flashNext(t('auth.welcome_back', { name: session.user.display_name || session.user.email }), 'success');
      }
      afterLogin();
    } catch (error) {
      if (error.code === 'invalid_credentials' || error.code === 'account_suspended') {
        // One message for both fields: the API never says which one was wrong.
        password.input.value = '';
      }
      showFormErrors(formEl, error);
      if (error.code === 'rate_limited') {
        // A lockout says when to try again and offers the way out that needs no password.
        const notice = formEl.querySelector('[data-role="form-errors"] .notice');
        if (notice) notice.append(h('p', {}, forgotLink(email.input)));
      }
      if (error.code === 'invalid_credentials') password.input.focus();
    }
  });

  root.append(
    h('div', { class: 'auth-layout' },
      pageHeader(t('auth.login_title'), { subtitle: t('auth.login_subtitle') }),
      card(formEl),
      h('p', { class: 'auth-alt' }, t('auth.new_here'), ' ', h('a', { href: '#/register' }, t('auth.create_org_link')), '.'),
      h('p', { class: 'auth-alt muted' }, t('auth.invited_hint'))),
  );
}

// --- second factor ----------------------------------------------------------------------------------

export function verifyView(root, { setTitle }) {
  let useBackup = false;
  const code = field({
    label: t('auth.code_label'), name: 'code', required: true, autocomplete: 'one-time-code',
    inputmode: 'numeric', maxlength: 6, short: true, hint: t('auth.code_hint'), spellcheck: 'false',
  });
  const backup = field({
    label: t('field.backup_code'), name: 'backup_code', required: true, autocomplete: 'off', maxlength: 32, short: true,
    hint: t('auth.backup_hint'), spellcheck: 'false',
  });
  backup.wrapper.hidden = true;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('auth.verify'));
  const toggle = h('button', { type: 'button', class: 'btn btn-link', id: 'use-backup-code' }, t('auth.use_backup'));
  const cancel = h('button', { type: 'button', class: 'btn btn-link' }, t('auth.start_over'));
  const formEl = form({ class: 'form', id: 'mfa-form', 'aria-labelledby': 'page-title' },
    code.wrapper, backup.wrapper, submit);

  toggle.addEventListener('click', () => {
    useBackup = !useBackup;
    code.wrapper.hidden = useBackup;
    backup.wrapper.hidden = !useBackup;
    toggle.textContent = useBackup ? t('auth.use_code') : t('auth.use_backup');
    clearFormErrors(formEl);
    setTitle(useBackup ? t('field.backup_code') : t('title.login_verify'));
    (useBackup ? backup : code).input.focus();
  });
  cancel.addEventListener('click', () => logout({ message: null }));

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const active = useBackup ? backup : code;
    const value = active.input.value.replace(/\s+/g, '');
    if (!checkForm(formEl, [{ name: useBackup ? 'backup_code' : 'code', value, required: true }])) return;
    try {
      const answer = await busy(submit, t('auth.verifying'), () => post('/auth/mfa/verify',
        useBackup ? { backup_code: value } : { code: value }, { public: true }));
      applyLogin(answer);
      if (!session.verificationOnly) {
        flashNext(t('auth.welcome_back', { name: session.user.display_name || session.user.email }), 'success');
      }
      afterLogin();
    } catch (error) {
      if (error.status === 401 || error.code === 'rate_limited' || error.code === 'account_suspended') {
        // The half-finished login ended (it lasts a few minutes, a lockout ends it too, and a
        // suspended account is told so only now that both factors checked out).
        clearSession();
        flashNext(error.code === 'rate_limited' || error.code === 'account_suspended'
          ? errorText(error) : t('auth.login_too_long'), 'error');
        navigate('/login');
        return;
      }
      showFormErrors(formEl, codeErrorOnField(error, useBackup ? 'backup_code' : 'code'));
      active.input.select();
    }
  });

  root.append(h('div', { class: 'auth-layout' },
    pageHeader(t('title.login_verify'), { subtitle: t('auth.verify_subtitle') }),
    card(formEl, h('div', { class: 'form-footer' }, toggle, cancel))));
}

/**
 * Sign in with the address and password just used to create the account, and go on as a
 * login does (second factor, verification-only screen, or the memories with their welcome).
 * Falls back to the login form, filled in, when the login is refused.
 */
async function signInNewAccount(values, readyText) {
  let answer;
  try {
    answer = await post('/auth/login', { email: values.email, password: values.password, remember_me: false },
      { public: true });
  } catch {
    prefillEmail = values.email;
    flashNext(`${readyText} ${t('auth.log_in_to_continue')}`, 'success');
    navigate('/login');
    return;
  }
  if (answer.mfa_required) {
    applyMfaPending(answer);
    navigate('/login/verify');
    return;
  }
  applyLogin(answer);
  flashNext(readyText, 'success');
  afterLogin();
}

// --- create an organisation -----------------------------------------------------------------------

export function registerView(root) {
  const tenant = field({
    label: t('field.tenant_name'), name: 'tenant_name', required: true, autocomplete: 'organization',
  });
  const name = field({ label: t('field.display_name'), name: 'display_name', required: true, autocomplete: 'name' });
  const email = field({ label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'username', spellcheck: 'false' });
  const password = field({
    label: t('field.password'), name: 'password', type: 'password', required: true, autocomplete: 'new-password',
    hint: t('auth.password_hint', { min: 15, max: 128 }),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('auth.create_org'));
  const formEl = form({ class: 'form', id: 'register-form', 'aria-labelledby': 'page-title' },
    tenant.wrapper, name.wrapper, email.wrapper, password.wrapper, submit);
  root.append(h('div', { class: 'auth-layout' },
    pageHeader(t('auth.register_title'), { subtitle: t('auth.register_subtitle') }),
    card(formEl),
    h('p', { class: 'auth-alt' }, t('auth.have_account'), ' ', h('a', { href: '#/login' }, t('auth.login')), '.')));

  // The hint says the server's numbers once they are known.
  loadPolicy().then((policy) => {
    const min = rule(policy, 'password', 'min_length');
    const max = rule(policy, 'password', 'max_length');
    const hint = formEl.querySelector(`#${CSS.escape(password.input.id)}-hint`);
    if (min && max && hint) hint.textContent = t('auth.password_hint', { min, max });
  });

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const values = {
      tenant_name: tenant.input.value.trim(),
      display_name: name.input.value.trim(),
      email: email.input.value.trim(),
      password: password.input.value,
    };
    // Without the server's rules (GET /policy failed) nothing is checked here: the server then
    // reports every field error of the one request at once.
    const policy = await loadPolicy();
    if (policy && !checkForm(formEl, accountRules(policy, values))) return;
    try {
      const answer = await busy(submit, t('auth.creating'), async () => {
        const created = await post('/auth/register', values, { public: true });
        await signInNewAccount(values, t('auth.org_ready', {
          name: created.tenant ? created.tenant.name : values.tenant_name,
        }));
        return created;
      });
      password.input.value = '';
      return answer;
    } catch (error) {
      showFormErrors(formEl, error);
      return undefined;
    }
  });
}

// --- join with an invitation ---------------------------------------------------------------------------

/** The token from a pasted join link (…#/join?token=…) or a bare token. */
function tokenFrom(text) {
  const value = String(text || '').trim();
  const m = /[?&]token=([^&#\s]+)/.exec(value);
  return m ? decodeURIComponent(m[1]) : value;
}

export async function joinView(root) {
  const header = pageHeader(t('auth.join_title'), { subtitle: t('auth.join_subtitle') });
  if (session.user) {
    root.append(h('div', { class: 'auth-layout' }, header, card(
      h('p', {}, t('auth.join_logged_in', { email: session.user.email })),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => logout({ message: null }).then(() => navigate('/join')) }, t('auth.logout_continue')))));
    return;
  }
  // The token came in the link (#/join?token=…): the router keeps it in memory only and took it
  // out of the address before this view ran.
  const fromLink = tokenFrom(linkToken('/join'));
  const token = field({
    label: t('field.invite_token'), name: 'invite_token', required: true, autocomplete: 'off',
    hint: t('auth.paste_link'), spellcheck: 'false',
  });
  token.input.value = fromLink;
  const about = h('div', { class: 'invitation-about', id: 'invitation-about', 'aria-live': 'polite' });
  const name = field({ label: t('field.display_name'), name: 'display_name', required: true, autocomplete: 'name' });
  const email = field({
    label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'username', spellcheck: 'false',
    hint: t('auth.invited_address_hint'),
  });
  const password = field({
    label: t('field.password'), name: 'password', type: 'password', required: true, autocomplete: 'new-password',
    hint: t('auth.join_password_hint', { min: 15 }),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('auth.join'));
  const formEl = form({ class: 'form', id: 'join-form', 'aria-labelledby': 'page-title' },
    about, token.wrapper, name.wrapper, email.wrapper, password.wrapper, submit);
  root.append(h('div', { class: 'auth-layout' }, header, card(formEl),
    h('p', { class: 'auth-alt' }, t('auth.have_account'), ' ', h('a', { href: '#/login' }, t('auth.login')), '.')));

  // The invited address comes from the invitation itself (POST, so the token stays out of
  // paths and logs); the field is then read-only. Without an answer the address is typed.
  let lookedUp = '';
  async function lookUp(value) {
    if (!value || value === lookedUp) return;
    lookedUp = value;
    let invitation;
    try {
      invitation = await post('/auth/invitation', { token: value }, { public: true });
    } catch (error) {
      email.input.readOnly = false;
      if (error.code === 'invalid_token' || error.code === 'validation_failed') {
        token.wrapper.hidden = false;
        dropLinkToken('/join');
        about.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', id: 'invitation-invalid' },
          t('auth.invitation_invalid')));
      } else {
        about.replaceChildren();
      }
      return;
    }
    if (typeof invitation.email === 'string' && invitation.email) {
      email.input.value = invitation.email;
      email.input.readOnly = true;
      email.input.classList.add('input-readonly');
    }
    token.wrapper.hidden = true;
    about.replaceChildren(h('p', { class: 'notice notice-info', id: 'invitation-ready' },
      invitation.tenant_name
        ? t('auth.invitation_for', { tenant: invitation.tenant_name, role: t(`role.${invitation.role || 'member'}`) })
        : t('auth.invitation_ready')));
  }
  token.input.addEventListener('change', () => lookUp(tokenFrom(token.input.value)));

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const values = {
      invite_token: tokenFrom(token.input.value),
      display_name: name.input.value.trim(),
      email: email.input.value.trim(),
      password: password.input.value,
    };
    const policy = await loadPolicy();
    if (policy && !checkForm(formEl, [
      { name: 'invite_token', value: values.invite_token, required: true },
      ...accountRules(policy, values),
    ])) return;
    try {
      await busy(submit, t('auth.joining'), async () => {
        const answer = await post('/auth/register', values, { public: true });
        dropLinkToken('/join');
        await signInNewAccount(values, t('auth.joined', {
          name: answer.tenant ? answer.tenant.name : t('auth.your_org'),
        }));
      });
    } catch (error) {
      if (error.fields && error.fields.invite_token) token.wrapper.hidden = false;
      showFormErrors(formEl, error);
    }
  });

  if (fromLink) {
    token.wrapper.hidden = true;
    about.append(h('p', { class: 'notice notice-info' }, t('auth.invitation_ready')));
    await lookUp(fromLink);
  }
}
