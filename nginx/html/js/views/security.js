// Account and security: display name, e-mail address (change, with a confirmation link to the
// new address), password, two-factor authentication (enrol, backup codes, turn off). Also the
// enrolment-only screen for organisations that require MFA.

import { get, patch, post } from '../api.js';
import { h, replace } from '../dom.js';
import { afterLogin, logout } from '../flow.js';
import { backupCodesPanel, totpEnrolment } from '../mfa.js';
import { applyLogin, session, updateUser } from '../session.js';
import {
  busy, button, card, clearFormErrors, codeErrorOnField, confirmDialog, errorNotice, field, flash, flashNext, form,
  loading, pageHeader, showFormErrors, usernameHint,
} from '../ui.js';

function section(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title`, class: 'card-title' }, title), children);
}

function profileSection() {
  const name = field({
    label: 'Display name', name: 'display_name', required: true, maxlength: 100, autocomplete: 'name',
    value: session.user ? session.user.display_name : '',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save name');
  const formEl = form({ class: 'form', id: 'profile-form' },
    h('dl', { class: 'meta-list' },
      h('div', {}, h('dt', {}, 'E-mail'), h('dd', {}, session.user ? session.user.email : '')),
      h('div', {}, h('dt', {}, 'Organisation'), h('dd', {}, session.tenant ? session.tenant.name : '')),
      h('div', {}, h('dt', {}, 'Role'), h('dd', { class: 'capitalise' }, session.user ? session.user.role : ''))),
    name.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const value = name.input.value.trim();
    if (!value) {
      showFormErrors(formEl, { message: 'Please fill in your name.', fields: { display_name: 'is required' } });
      return;
    }
    try {
      const me = await busy(submit, 'Saving…', () => patch('/me', { display_name: value }));
      updateUser({ display_name: me.user ? me.user.display_name : value });
      flash('Your name was saved.', 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return section('profile', 'Profile', formEl);
}

function emailSection() {
  const email = session.user ? session.user.email : '';
  const verified = session.user ? session.user.email_verified : undefined;
  const fresh = field({
    label: 'New e-mail address', name: 'new_email', type: 'email', required: true, autocomplete: 'email',
    maxlength: 254, spellcheck: 'false',
    hint: 'We send a confirmation link there. Your address changes only when you open it; your current '
      + 'address is told about the change.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change e-mail address');
  const result = h('div', { class: 'email-change-result' });
  const formEl = form({ class: 'form', id: 'email-form' },
    h('p', {}, 'You log in with ',
      h('strong', { id: 'current-email' }, email),
      verified === true ? h('span', { class: 'badge badge-success', id: 'email-status' }, 'Confirmed') : null,
      verified === false ? h('span', { class: 'badge badge-warning', id: 'email-status' }, 'Not confirmed') : null),
    // Not confirmed: the banner over the page offers "Resend the link".
    fresh.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    result.replaceChildren();
    const value = fresh.input.value.trim();
    if (!value) {
      showFormErrors(formEl, { message: 'Please fill in the new address.', fields: { new_email: 'is required' } });
      return;
    }
    try {
      // A change of address needs a recent authentication: api.js opens the prompt on
      // 403 step_up_required and sends the request again.
      await busy(submit, 'Sending…', () => post('/me/email', { new_email: value }));
    } catch (error) {
      showFormErrors(formEl, error);
      return;
    }
    fresh.input.value = '';
    const notice = h('div', { class: 'notice notice-success', id: 'email-change-sent', role: 'status', tabindex: '-1' },
      h('p', {}, `We sent a confirmation link to ${value}. Your address changes when you open it.`));
    replace(result, notice);
    notice.focus();
  });
  return section('email', 'E-mail address', formEl, result);
}

function passwordSection() {
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', required: true, autocomplete: 'current-password' });
  const fresh = field({
    label: 'New password', name: 'new_password', type: 'password', required: true, autocomplete: 'new-password',
    maxlength: 128,
    hint: 'At least 15 characters (8 where your organisation requires two-factor authentication), '
      + 'at most 128. Not a common password, and not your name, e-mail or organisation.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const formEl = form({ class: 'form', id: 'password-form' },
    h('p', { class: 'muted' }, 'Changing your password logs out every other session of your account.'),
    usernameHint(session.user ? session.user.email : ''),
    current.wrapper, fresh.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const missing = {};
    if (!current.input.value) missing.current_password = 'is required';
    // The length rule depends on the organisation (DESIGN §7): the API checks it.
    if (!fresh.input.value) missing.new_password = 'is required';
    if (Object.keys(missing).length) {
      showFormErrors(formEl, { message: 'Please correct the marked fields.', fields: missing });
      return;
    }
    try {
      const answer = await busy(submit, 'Changing…', () => post('/me/password', {
        current_password: current.input.value, new_password: fresh.input.value,
      }));
      current.input.value = '';
      fresh.input.value = '';
      const n = answer.sessions_revoked ?? 0;
      flash(`Your password was changed.${n ? ` ${n} other session${n === 1 ? ' was' : 's were'} logged out.` : ''}`, 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return section('password', 'Password', formEl);
}

function disableForm(container, rerender) {
  let useBackup = false;
  const password = field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  const code = field({ label: 'Authentication code', name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6, short: true });
  const backup = field({ label: 'Backup code', name: 'backup_code', required: true, autocomplete: 'off', maxlength: 32, short: true });
  backup.wrapper.hidden = true;
  const toggle = button('Use a backup code instead', { variant: 'link' });
  toggle.addEventListener('click', () => {
    useBackup = !useBackup;
    code.wrapper.hidden = useBackup;
    backup.wrapper.hidden = !useBackup;
    toggle.textContent = useBackup ? 'Use an authentication code instead' : 'Use a backup code instead';
    (useBackup ? backup : code).input.focus();
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger' }, 'Turn off two-factor authentication');
  const cancel = button('Cancel', { variant: 'quiet', onclick: rerender });
  const formEl = form({ class: 'form', id: 'totp-disable-form' },
    h('p', {}, 'Confirm with your password and a code. Your backup codes stop working too.'),
    usernameHint(session.user ? session.user.email : ''),
    password.wrapper, code.wrapper, backup.wrapper, toggle,
    h('div', { class: 'form-actions' }, submit, cancel));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const second = (useBackup ? backup : code).input.value.replace(/\s+/g, '');
    const missing = {};
    if (!password.input.value) missing.password = 'is required';
    if (!second) missing[useBackup ? 'backup_code' : 'code'] = 'is required';
    if (Object.keys(missing).length) {
      showFormErrors(formEl, { message: 'Please fill in the marked fields.', fields: missing });
      return;
    }
    try {
      await busy(submit, 'Turning off…', () => post('/mfa/totp/disable', {
        password: password.input.value, ...(useBackup ? { backup_code: second } : { code: second }),
      }));
      updateUser({ mfa_enabled: false });
      flash('Two-factor authentication is off.', 'success');
      rerender();
    } catch (error) {
      showFormErrors(formEl, codeErrorOnField(error, useBackup ? 'backup_code' : 'code'));
    }
  });
  replace(container, formEl);
  password.input.focus();
}

function mfaSection() {
  const body = h('div', { class: 'mfa-body' }, loading());
  const el = section('mfa', 'Two-factor authentication', body);

  async function render() {
    let status;
    try {
      status = await get('/mfa');
    } catch (error) {
      if (!error.handled) replace(body, errorNotice(error));
      return;
    }
    if (!status.totp_enabled) {
      replace(body, h('p', {}, h('span', { class: 'badge badge-muted', id: 'mfa-status' }, 'Off')));
      const slot = h('div');
      body.append(slot);
      totpEnrolment(slot, {
        onTurnedOn: () => {
          const badge = body.querySelector('#mfa-status');
          if (badge) {
            badge.textContent = 'On';
            badge.className = 'badge badge-success';
          }
        },
        onEnabled: () => {
          flash('Two-factor authentication is on. You will be asked for a code when you log in.', 'success');
          render().then(() => el.querySelector('h2').focus());
        },
      });
      return;
    }
    const remaining = status.backup_codes_remaining ?? 0;
    const regenerate = button('Generate new backup codes', { id: 'regenerate-backup-codes' });
    const turnOff = button('Turn off', { variant: 'danger', id: 'disable-totp' });
    const actions = h('div', { class: 'button-row' }, regenerate, turnOff);
    replace(body,
      h('p', {}, h('span', { class: 'badge badge-success', id: 'mfa-status' }, 'On'),
        ' You enter a code from your authenticator app when you log in.'),
      h('p', { class: remaining <= 3 ? 'notice notice-warning' : 'muted', id: 'backup-codes-remaining' },
        `${remaining} backup code${remaining === 1 ? '' : 's'} left.`,
        remaining <= 3 ? ' Generate new ones soon.' : ''),
      actions);
    regenerate.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Generate new backup codes?',
        message: 'Your current backup codes stop working and you get 10 new ones.',
        confirmLabel: 'Generate new codes',
      });
      if (!ok) return;
      try {
        const answer = await busy(regenerate, 'Generating…', () => post('/mfa/backup-codes'));
        const panel = backupCodesPanel(answer.backup_codes || [], { onDone: () => render() });
        replace(body, panel);
        panel.querySelector('h2').focus();
      } catch (error) {
        if (!error.handled) body.prepend(errorNotice(error));
      }
    });
    turnOff.addEventListener('click', () => disableForm(actions, render));
  }

  render();
  return el;
}

export function securityView(root) {
  root.append(pageHeader('Account and security', {
    subtitle: 'Your profile, e-mail address, password and two-factor authentication.',
  }));
  root.append(h('div', { class: 'stack' }, profileSection(), emailSection(), passwordSection(), mfaSection()));
}

// --- enrolment-only screen --------------------------------------------------------------------------

export function enrolView(root) {
  const org = session.tenant ? session.tenant.name : 'Your organisation';
  root.append(pageHeader('Set up two-factor authentication', {
    subtitle: `${org} requires two-factor authentication for every member. Set it up to continue.`,
  }));
  const slot = h('div');
  const outside = h('p', { class: 'auth-alt' },
    h('button', { type: 'button', class: 'btn btn-link', onclick: () => logout() }, 'Log out'));
  root.append(card(slot), outside);
  totpEnrolment(slot, {
    autoStart: true,
    onEnabled: async () => {
      try {
        applyLogin(await get('/me'));
      } catch (error) {
        if (!error.handled) replace(slot, errorNotice(error));
        return;
      }
      flashNext('Two-factor authentication is on. Welcome!', 'success');
      afterLogin();
    },
    onStepUpImpossible: () => {
      replace(slot,
        h('div', { class: 'notice notice-info', role: 'alert' },
          h('p', {}, 'For your security, setup has to start soon after you log in. Log in again to continue.')),
        h('div', { class: 'button-row' },
          button('Log in again', { variant: 'primary', onclick: () => logout({ message: null }) })));
    },
  });
}
