// The re-authentication prompt for 403 step_up_required (DESIGN §7: sensitive actions need an
// authentication within the last 15 minutes). A user with two-factor authentication confirms
// with a code from the authenticator app, anyone else with the password. On success the API
// layer sends the original request again.

import { post } from './api.js';
import { h } from './dom.js';
import { session } from './session.js';
import {
  busy, button, codeErrorOnField, field, form, modal, showFormErrors, usernameHint,
} from './ui.js';
import { t } from './i18n.js';

/** Opens the dialog; resolves true once the server accepted the password or code. */
export function reauthenticate() {
  return new Promise((resolve) => {
    const withCode = Boolean(session.user && session.user.mfa_enabled);
    let confirmed = false;
    const input = withCode
      ? field({
        label: t('reauth.authentication_code'), name: 'code', required: true, autocomplete: 'one-time-code',
        inputmode: 'numeric', maxlength: 6, short: true, hint: t('reauth.the_digit_code_from'),
      })
      : field({ label: t('reauth.password'), name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('reauth.confirm'));
    const cancel = button(t('reauth.cancel'), { onclick: () => dialog.close('cancel') });
    const formEl = form({ class: 'form dialog-form', id: 'reauth-form' },
      h('p', { class: 'dialog-text' }, withCode
        ? t('reauth.for_your_security_enter')
        : t('reauth.for_your_security_confirm')),
      usernameHint(session.user ? session.user.email : ''),
      input.wrapper,
      h('div', { class: 'dialog-actions' }, cancel, submit));
    formEl.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = input.input.value.trim();
      if (!value) {
        showFormErrors(formEl, {
          message: t('reauth.please_fill_in_the'),
          fields: { [withCode ? 'code' : 'password']: 'is required' },
        });
        return;
      }
      try {
        await busy(submit, 'Checking…', () => post('/auth/reauthenticate',
          withCode ? { code: value.replace(/\s+/g, '') } : { password: input.input.value },
          { noStepUp: true }));
        confirmed = true;
        dialog.close('confirmed');
      } catch (error) {
        if (error.handled) {
          dialog.close('cancel');
          return;
        }
        // A wrong password is a 401 invalid_credentials for this form, not a lost session.
        if (error.code === 'invalid_credentials') {
          error.fields = { password: 'is incorrect' };
          error.message = t('reauth.that_password_is_not');
        }
        showFormErrors(formEl, codeErrorOnField(error, 'code'));
        input.input.select();
      }
    });
    const dialog = modal({
      title: t('reauth.confirm_it_s_you'),
      body: formEl,
      onClose: () => resolve(confirmed),
    });
    dialog.id = 'reauth-dialog';
    input.input.focus();
  });
}
