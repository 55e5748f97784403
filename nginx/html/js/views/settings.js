// Organisation settings (owners): name, and whether every member must use two-factor
// authentication.

import { get, patch } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { updateTenant } from '../session.js';
import {
  busy, card, clearFormErrors, field, flash, form, loading, pageHeader, showFormErrors,
} from '../ui.js';

export async function settingsView(root) {
  root.append(pageHeader('Organisation settings', { subtitle: 'Only owners can change these.' }));
  const slot = h('div', {}, loading());
  root.append(slot);
  const tenant = await get('/tenant');
  const name = field({ label: 'Organisation name', name: 'name', required: true, maxlength: 100, value: tenant.name, autocomplete: 'organization' });
  const requireMfa = field({
    label: 'Require two-factor authentication for every member', name: 'require_mfa', type: 'checkbox',
    checked: tenant.require_mfa,
    hint: 'Members without it must set it up at their next login before they can do anything else.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save settings');
  const formEl = form({ class: 'form', id: 'settings-form' },
    name.wrapper, requireMfa.wrapper,
    h('p', { class: 'muted' }, 'Created ', timeEl(tenant.created_at), '.'),
    h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const value = name.input.value.trim();
    if (!value) {
      showFormErrors(formEl, { message: 'Please fill in the name.', fields: { name: 'is required' } });
      return;
    }
    try {
      const saved = await busy(submit, 'Saving…', () => patch('/tenant', { name: value, require_mfa: requireMfa.input.checked }));
      updateTenant({ name: saved.name });
      requireMfa.input.checked = saved.require_mfa;
      flash(saved.require_mfa
        ? 'Settings saved. Every member now needs two-factor authentication.'
        : 'Settings saved.', 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  replace(slot, card(formEl));
}
