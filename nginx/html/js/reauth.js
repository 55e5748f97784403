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

/** Opens the dialog; resolves true once the server accepted the password or code. */
export function reauthenticate() {
  return new Promise((resolve) => {
    const withCode = Boolean(session.user && session.user.mfa_enabled);
    let confirmed = false;
    const input = withCode
      ? field({
        label: 'Authentication code', name: 'code', required: true, autocomplete: 'one-time-code',
        inputmode: 'numeric', maxlength: 6, short: true, hint: 'The 6-digit code from your authenticator app.',
      })
      : field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm');
    const cancel = button('Cancel', { onclick: () => dialog.close('cancel') });
    const formEl = form({ class: 'form dialog-form', id: 'reauth-form' },
      h('p', { class: 'dialog-text' }, withCode
        ? 'For your security, enter a code from your authenticator app to continue.'
        : 'For your security, confirm your password to continue.'),
      usernameHint(session.user ? session.user.email : ''),
      input.wrapper,
      h('div', { class: 'dialog-actions' }, cancel, submit));
    formEl.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = input.input.value.trim();
      if (!value) {
        showFormErrors(formEl, {
          message: 'Please fill in the marked field.',
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
          error.message = 'That password is not correct.';
        }
        showFormErrors(formEl, codeErrorOnField(error, 'code'));
        input.input.select();
      }
    });
    const dialog = modal({
      title: 'Confirm it’s you',
      body: formEl,
      onClose: () => resolve(confirmed),
    });
    dialog.id = 'reauth-dialog';
    input.input.focus();
  });
}
