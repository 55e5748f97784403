// Account and security: display name, e-mail address (change, with a confirmation link to the
// new address), password, two-factor authentication (enrol, backup codes, turn off). Also the
// enrolment-only screen for organisations that require MFA.

import { get, patch, post } from '../api.js';
import { h, replace } from '../dom.js';
import { afterLogin, logout } from '../flow.js';
import { backupCodesPanel, totpEnrolment } from '../mfa.js';
import { applyLogin, session, updateUser } from '../session.js';
import { t } from '../i18n.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
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
    label: t('security.display_name'), name: 'display_name', required: true, autocomplete: 'name',
    value: session.user ? session.user.display_name : '',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('security.save_name'));
  const formEl = form({ class: 'form', id: 'profile-form' },
    h('dl', { class: 'meta-list' },
      h('div', {}, h('dt', {}, t('field.email')), h('dd', {}, session.user ? session.user.email : '')),
      h('div', {}, h('dt', {}, t('security.organisation')), h('dd', {}, session.tenant ? session.tenant.name : '')),
      h('div', {}, h('dt', {}, t('field.role')), h('dd', { class: 'capitalise' }, session.user ? t(`role.${session.user.role}`) : ''))),
    name.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const value = name.input.value.trim();
    if (!checkForm(formEl, [{ name: 'display_name', value, required: true, max: rule(await loadPolicy(), 'display_name', 'max_length') }])) return;
    try {
      const me = await busy(submit, t('common.saving'), () => patch('/me', { display_name: value }));
      updateUser({ display_name: me.user ? me.user.display_name : value });
      flash(t('security.name_saved'), 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return section('profile', t('security.profile'), formEl);
}

function emailSection() {
  const email = session.user ? session.user.email : '';
  const verified = session.user ? session.user.email_verified : undefined;
  const fresh = field({
    label: t('field.new_email'), name: 'new_email', type: 'email', required: true, autocomplete: 'email',
    spellcheck: 'false', hint: t('security.email_hint'),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('security.change_email'));
  const result = h('div', { class: 'email-change-result' });
  const formEl = form({ class: 'form', id: 'email-form' },
    h('p', {}, t('security.you_log_in_with'), ' ',
      h('strong', { id: 'current-email' }, email),
      verified === true ? h('span', { class: 'badge badge-success', id: 'email-status' }, t('security.confirmed')) : null,
      verified === false ? h('span', { class: 'badge badge-warning', id: 'email-status' }, t('security.not_confirmed')) : null),
    // Not confirmed: the banner over the page offers "Resend the link".
    fresh.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    result.replaceChildren();
    const value = fresh.input.value.trim();
    if (!checkForm(formEl, [{ name: 'new_email', value, required: true, email: true, max: rule(await loadPolicy(), 'email', 'max_length') }])) return;
    try {
      // A change of address needs a recent authentication: api.js opens the prompt on
      // 403 step_up_required and sends the request again.
      await busy(submit, t('security.sending'), () => post('/me/email', { new_email: value }));
    } catch (error) {
      showFormErrors(formEl, error);
      return;
    }
    fresh.input.value = '';
    const notice = h('div', { class: 'notice notice-success', id: 'email-change-sent', role: 'status', tabindex: '-1' },
      h('p', {}, t('security.email_sent', { email: value })));
    replace(result, notice);
    notice.focus();
  });
  return section('email', t('security.email_title'), formEl, result);
}

function passwordSection() {
  const current = field({ label: t('field.current_password'), name: 'current_password', type: 'password', required: true, autocomplete: 'current-password' });
  const fresh = field({
    label: t('field.new_password'), name: 'new_password', type: 'password', required: true, autocomplete: 'new-password',
    hint: t('security.password_hint', { min: 15, max: 128 }),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('security.change_password'));
  const formEl = form({ class: 'form', id: 'password-form' },
    h('p', { class: 'muted' }, t('security.password_note')),
    usernameHint(session.user ? session.user.email : ''),
    current.wrapper, fresh.wrapper, h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    // The minimum length depends on the organisation (DESIGN §7): the API checks it.
    const fields = {};
    if (!current.input.value) fields.current_password = { text: t('check.required') };
    if (!fresh.input.value) fields.new_password = { text: t('check.required') };
    else if (fresh.input.value === current.input.value) fields.new_password = { text: t('check.same_password') };
    else {
      const max = rule(await loadPolicy(), 'password', 'max_length');
      if (max && [...fresh.input.value].length > max) fields.new_password = { text: t('check.max_length', { n: max }) };
    }
    if (Object.keys(fields).length) {
      showFormErrors(formEl, { code: 'validation_failed', fields });
      return;
    }
    try {
      const answer = await busy(submit, t('security.changing'), () => post('/me/password', {
        current_password: current.input.value, new_password: fresh.input.value,
      }));
      current.input.value = '';
      fresh.input.value = '';
      const n = answer.sessions_revoked ?? 0;
      flash(n ? `${t('security.password_changed')} ${t('security.others_logged_out', { n })}` : t('security.password_changed'), 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return section('password', t('field.password'), formEl);
}

function disableForm(container, rerender) {
  let useBackup = false;
  const password = field({ label: t('field.password'), name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  const code = field({ label: t('auth.code_label'), name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6, short: true });
  const backup = field({ label: t('field.backup_code'), name: 'backup_code', required: true, autocomplete: 'off', maxlength: 32, short: true });
  backup.wrapper.hidden = true;
  const toggle = button(t('auth.use_backup'), { variant: 'link' });
  toggle.addEventListener('click', () => {
    useBackup = !useBackup;
    code.wrapper.hidden = useBackup;
    backup.wrapper.hidden = !useBackup;
    toggle.textContent = useBackup ? t('auth.use_code') : t('auth.use_backup');
    (useBackup ? backup : code).input.focus();
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger' }, t('security.mfa_turn_off_full'));
  const cancel = button(t('common.cancel'), { variant: 'quiet', onclick: rerender });
  const formEl = form({ class: 'form', id: 'totp-disable-form' },
    h('p', {}, t('security.mfa_off_text')),
    usernameHint(session.user ? session.user.email : ''),
    password.wrapper, code.wrapper, backup.wrapper, toggle,
    h('div', { class: 'form-actions' }, submit, cancel));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const second = (useBackup ? backup : code).input.value.replace(/\s+/g, '');
    if (!checkForm(formEl, [
      { name: 'password', value: password.input.value, required: true },
      { name: useBackup ? 'backup_code' : 'code', value: second, required: true },
    ])) return;
    try {
      await busy(submit, t('security.turning_off'), () => post('/mfa/totp/disable', {
        password: password.input.value, ...(useBackup ? { backup_code: second } : { code: second }),
      }));
      updateUser({ mfa_enabled: false });
      flash(t('security.mfa_is_off'), 'success');
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
  const el = section('mfa', t('title.login_verify'), body);

  async function render() {
    let status;
    try {
      status = await get('/mfa');
    } catch (error) {
      if (!error.handled) replace(body, errorNotice(error));
      return;
    }
    if (!status.totp_enabled) {
      replace(body, h('p', {}, h('span', { class: 'badge badge-muted', id: 'mfa-status' }, t('security.off'))));
      const slot = h('div');
      body.append(slot);
      totpEnrolment(slot, {
        onTurnedOn: () => {
          const badge = body.querySelector('#mfa-status');
          if (badge) {
            badge.textContent = t('security.on');
            badge.className = 'badge badge-success';
          }
        },
        onEnabled: () => {
          flash(t('security.mfa_is_on'), 'success');
          render().then(() => el.querySelector('h2').focus());
        },
      });
      return;
    }
    const remaining = status.backup_codes_remaining ?? 0;
    const regenerate = button(t('security.regenerate'), { id: 'regenerate-backup-codes' });
    const turnOff = button(t('security.turn_off'), { variant: 'danger', id: 'disable-totp' });
    const actions = h('div', { class: 'button-row' }, regenerate, turnOff);
    replace(body,
      h('p', {}, h('span', { class: 'badge badge-success', id: 'mfa-status' }, t('security.on')),
        ' ', t('security.mfa_on_text')),
      h('p', { class: remaining <= 3 ? 'notice notice-warning' : 'muted', id: 'backup-codes-remaining' },
        t('security.codes_left', { n: remaining }),
        remaining <= 3 ? ` ${t('security.codes_soon')}` : ''),
      actions);
    regenerate.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('security.regenerate_title'),
        message: t('security.regenerate_text'),
        confirmLabel: t('security.regenerate_confirm'),
      });
      if (!ok) return;
      try {
        const answer = await busy(regenerate, t('security.generating'), () => post('/mfa/backup-codes'));
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
  root.append(pageHeader(t('title.security'), { subtitle: t('security.subtitle') }));
  root.append(h('div', { class: 'stack' }, profileSection(), emailSection(), passwordSection(), mfaSection()));
}

// --- enrolment-only screen --------------------------------------------------------------------------

export function enrolView(root) {
  const org = session.tenant ? session.tenant.name : t('security.your_org');
  root.append(pageHeader(t('title.enrol'), { subtitle: t('security.enrol_subtitle', { org }) }));
  const slot = h('div');
  const outside = h('p', { class: 'auth-alt' },
    h('button', { type: 'button', class: 'btn btn-link', onclick: () => logout() }, t('shell.logout')));
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
      flashNext(t('security.enrolled'), 'success');
      afterLogin();
    },
    onStepUpImpossible: () => {
      replace(slot,
        h('div', { class: 'notice notice-info', role: 'alert' },
          h('p', {}, t('security.enrol_too_late'))),
        h('div', { class: 'button-row' },
          button(t('security.log_in_again'), { variant: 'primary', onclick: () => logout({ message: null }) })));
    },
  });
}
