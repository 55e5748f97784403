// Invitations (admins and owners): create one and copy its join link (shown once), list the
// pending ones, revoke.

import { get, post, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { isOwner } from '../session.js';
import { t } from '../i18n.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
import {
  busy, button, clearFormErrors, confirmDialog, copyButton, CursorPager, emptyState, field,
  flash, form, loading, pageHeader, pagerNav, showError, showFormErrors,
} from '../ui.js';

export async function invitationsView(root) {
  root.append(pageHeader(t('title.invitations'), { subtitle: t('invitations.subtitle') }));

  const email = field({ label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'off', spellcheck: 'false' });
  const role = field({
    label: t('field.role'), name: 'role', type: 'select', required: true, value: 'member',
    options: [
      { value: 'member', label: t('role_label.member') },
      ...(isOwner() ? [{ value: 'admin', label: t('role_label.admin') }, { value: 'owner', label: t('role_label.owner') }] : []),
    ],
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('invitations.create'));
  const createForm = form({ class: 'form', id: 'invitation-form' },
    h('div', { class: 'form-row' }, email.wrapper, role.wrapper),
    h('div', { class: 'form-actions' }, submit));
  const result = h('div', { id: 'invitation-result' });
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'invitation-list', tabindex: '-1' }, loading(t('invitations.loading')));
  const pagerSlot = h('div');
  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'new-invitation-title' },
      h('h2', { class: 'card-title', id: 'new-invitation-title' }, t('invitations.new')),
      createForm, result),
    h('h2', { class: 'section-title' }, t('invitations.pending')),
    errorSlot, list, pagerSlot);
  const pager = new CursorPager();

  async function load() {
    let page;
    try {
      page = await get(`/members/invitations${qs({ limit: 20, cursor: pager.cursor })}`);
    } catch (error) {
      replace(list);
      showError(errorSlot, error);
      return;
    }
    pager.loaded(page.page);
    const items = page.data || [];
    replace(list, items.length
      ? h('ul', { class: 'item-list' }, items.map(invitationRow))
      : emptyState(t('invitations.none')));
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: t('invitations.pages'),
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  function invitationRow(inv) {
    const revoke = button(t('sessions.revoke'), { variant: 'danger', class: 'btn-small', 'aria-label': t('invitations.revoke_label', { email: inv.email }) });
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('invitations.revoke_title', { email: inv.email }),
        message: t('invitations.revoke_text'),
        confirmLabel: t('invitations.revoke_confirm'),
        danger: true,
      });
      if (!ok) return;
      try {
        await busy(revoke, t('sessions.revoking'), () => del(`/members/invitations/${encodeURIComponent(inv.id)}`));
        flash(t('invitations.revoked', { email: inv.email }), 'success');
        pager.reset();
        await load();
        list.focus();
      } catch (error) {
        showError(errorSlot, error);
      }
    });
    return h('li', { class: 'item', dataset: { id: inv.id, email: inv.email } },
      h('div', { class: 'item-main' },
        h('p', { class: 'item-title' }, inv.email, h('span', { class: 'badge capitalise' }, t(`role.${inv.role}`))),
        h('p', { class: 'item-meta muted' }, t('invitations.sent'), ' ', timeEl(inv.created_at), ' · ', t('sessions.expires'), ' ', timeEl(inv.expires_at))),
      h('div', { class: 'item-actions' }, revoke));
  }

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(createForm);
    replace(result);
    const values = { email: email.input.value.trim(), role: role.input.value };
    if (!checkForm(createForm, [{ name: 'email', value: values.email, required: true, email: true, max: rule(await loadPolicy(), 'email', 'max_length') }])) return;
    try {
      const inv = await busy(submit, t('auth.creating'), () => post('/members/invitations', values));
      email.input.value = '';
      const link = h('input', {
        class: 'input input-code', id: 'join-link', readonly: true, value: inv.join_url,
        'aria-describedby': 'join-link-hint', spellcheck: 'false',
      });
      link.addEventListener('focus', () => link.select());
      replace(result, h('div', { class: 'notice notice-success invitation-created', role: 'status' },
        h('p', { class: 'notice-title' }, t('invitations.created', { email: inv.email })),
        h('label', { for: 'join-link' }, t('invitations.join_link')),
        h('div', { class: 'input-group' }, link, copyButton(() => inv.join_url, { label: t('invitations.copy_link'), what: t('invitations.join_link') })),
        h('p', { class: 'hint', id: 'join-link-hint' }, t('invitations.link_hint'), ' ', timeEl(inv.expires_at), '.')));
      link.focus();
      pager.reset();
      await load();
    } catch (error) {
      showFormErrors(createForm, error);
    }
  });

  await load();
}
