// Organisation settings (owners): name, and whether every member must use two-factor
// authentication.

import { get, patch } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { updateTenant } from '../session.js';
import { t } from '../i18n.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
import {
  busy, card, clearFormErrors, field, flash, form, loading, pageHeader, showFormErrors,
} from '../ui.js';

export async function settingsView(root) {
  root.append(pageHeader(t('title.settings'), { subtitle: t('settings.subtitle') }));
  const slot = h('div', {}, loading());
  root.append(slot);
  const tenant = await get('/tenant');
  const name = field({ label: t('field.tenant_name'), name: 'name', required: true, value: tenant.name, autocomplete: 'organization' });
  const requireMfa = field({
    label: t('settings.require_mfa'), name: 'require_mfa', type: 'checkbox',
    checked: tenant.require_mfa,
    hint: t('settings.require_mfa_hint'),
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings.save'));
  const formEl = form({ class: 'form', id: 'settings-form' },
    name.wrapper, requireMfa.wrapper,
    h('p', { class: 'muted' }, t('memories.created'), ' ', timeEl(tenant.created_at), '.'),
    h('div', { class: 'form-actions' }, submit));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const value = name.input.value.trim();
    if (!checkForm(formEl, [{ name: 'name', value, required: true, max: rule(await loadPolicy(), 'tenant_name', 'max_length') }])) return;
    try {
      const saved = await busy(submit, t('common.saving'), () => patch('/tenant', { name: value, require_mfa: requireMfa.input.checked }));
      updateTenant({ name: saved.name });
      requireMfa.input.checked = saved.require_mfa;
      flash(saved.require_mfa ? t('settings.saved_mfa') : t('settings.saved'), 'success');
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  replace(slot, card(formEl));
}
