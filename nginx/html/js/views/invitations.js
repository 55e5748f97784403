// Invitations (admins and owners): create one and copy its join link (shown once), list the
// pending ones, revoke.

import { get, post, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { isOwner } from '../session.js';
import {
  busy, button, clearFormErrors, confirmDialog, copyButton, CursorPager, emptyState, field,
  flash, form, loading, pageHeader, pagerNav, showError, showFormErrors,
} from '../ui.js';

export async function invitationsView(root) {
  root.append(pageHeader('Invitations', { subtitle: 'Invite people to your organisation with a one-time link.' }));

  const email = field({ label: 'E-mail', name: 'email', type: 'email', required: true, autocomplete: 'off', spellcheck: 'false' });
  const role = field({
    label: 'Role', name: 'role', type: 'select', required: true, value: 'member',
    options: [
      { value: 'member', label: 'Member' },
      ...(isOwner() ? [{ value: 'admin', label: 'Admin' }, { value: 'owner', label: 'Owner' }] : []),
    ],
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create invitation');
  const createForm = form({ class: 'form', id: 'invitation-form' },
    h('div', { class: 'form-row' }, email.wrapper, role.wrapper),
    h('div', { class: 'form-actions' }, submit));
  const result = h('div', { id: 'invitation-result' });
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'invitation-list', tabindex: '-1' }, loading('Loading invitations…'));
  const pagerSlot = h('div');
  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'new-invitation-title' },
      h('h2', { class: 'card-title', id: 'new-invitation-title' }, 'New invitation'),
      createForm, result),
    h('h2', { class: 'section-title' }, 'Pending invitations'),
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
      : emptyState('No pending invitations.'));
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: 'Invitation pages',
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  function invitationRow(inv) {
    const revoke = button('Revoke', { variant: 'danger', class: 'btn-small', 'aria-label': `Revoke the invitation of ${inv.email}` });
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Revoke the invitation of ${inv.email}?`,
        message: 'The join link stops working at once.',
        confirmLabel: 'Revoke invitation',
        danger: true,
      });
      if (!ok) return;
      try {
        await busy(revoke, 'Revoking…', () => del(`/members/invitations/${encodeURIComponent(inv.id)}`));
        flash(`The invitation of ${inv.email} was revoked.`, 'success');
        pager.reset();
        await load();
        list.focus();
      } catch (error) {
        showError(errorSlot, error);
      }
    });
    return h('li', { class: 'item', dataset: { id: inv.id, email: inv.email } },
      h('div', { class: 'item-main' },
        h('p', { class: 'item-title' }, inv.email, h('span', { class: 'badge capitalise' }, inv.role)),
        h('p', { class: 'item-meta muted' }, 'Sent ', timeEl(inv.created_at), ' · Expires ', timeEl(inv.expires_at))),
      h('div', { class: 'item-actions' }, revoke));
  }

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(createForm);
    replace(result);
    const values = { email: email.input.value.trim(), role: role.input.value };
    if (!values.email) {
      showFormErrors(createForm, { message: 'Please fill in the e-mail.', fields: { email: 'is required' } });
      return;
    }
    try {
      const inv = await busy(submit, 'Creating…', () => post('/members/invitations', values));
      email.input.value = '';
      const link = h('input', {
        class: 'input input-code', id: 'join-link', readonly: true, value: inv.join_url,
        'aria-describedby': 'join-link-hint', spellcheck: 'false',
      });
      link.addEventListener('focus', () => link.select());
      replace(result, h('div', { class: 'notice notice-success invitation-created', role: 'status' },
        h('p', { class: 'notice-title' }, `Invitation for ${inv.email} created.`),
        h('label', { for: 'join-link' }, 'Join link'),
        h('div', { class: 'input-group' }, link, copyButton(() => inv.join_url, { label: 'Copy link', what: 'Join link' })),
        h('p', { class: 'hint', id: 'join-link-hint' },
          'Send this link to them yourself. It is shown only now, works once and expires ', timeEl(inv.expires_at), '.')));
      link.focus();
      pager.reset();
      await load();
    } catch (error) {
      showFormErrors(createForm, error);
    }
  });

  await load();
}
