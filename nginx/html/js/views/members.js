// Members of the organisation (admins and owners): role, suspend/reactivate, revoke sessions,
// reset two-factor authentication, remove. The API decides who may do what (owners manage
// everyone; admins manage members only; nobody acts on their own account here); the page
// offers only what the API would allow and shows its answer when it refuses.

import { get, patch, post, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { isOwner, session } from '../session.js';
import {
  busy, button, confirmDialog, CursorPager, flash, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

const ROLES = [
  { value: 'member', label: 'Member' },
  { value: 'admin', label: 'Admin' },
  { value: 'owner', label: 'Owner' },
];

export async function membersView(root) {
  const invite = h('a', { class: 'btn btn-primary', href: '#/invitations' }, 'Invite people');
  root.append(pageHeader('Members', { subtitle: 'People in your organisation.', actions: [invite] }));
  const errorSlot = h('div', { id: 'members-errors' });
  const list = h('div', { class: 'list-region', id: 'member-list', tabindex: '-1' }, loading('Loading members…'));
  const pagerSlot = h('div');
  root.append(errorSlot, list, pagerSlot);
  const pager = new CursorPager();

  async function load() {
    let page;
    try {
      page = await get(`/members${qs({ limit: 50, cursor: pager.cursor })}`);
    } catch (error) {
      replace(list);
      showError(errorSlot, error);
      return;
    }
    pager.loaded(page.page);
    replace(list, h('ul', { class: 'item-list member-list' }, (page.data || []).map(memberRow)));
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: 'Member pages',
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  /** Run an action, show its outcome, reload the list. */
  async function act(trigger, busyLabel, fn, success) {
    showError(errorSlot, null);
    try {
      await busy(trigger, busyLabel, fn);
      flash(success, 'success');
      await load();
    } catch (error) {
      showError(errorSlot, error);
      const notice = errorSlot.firstChild;
      if (notice) notice.focus();
    }
  }

  function memberRow(m) {
    const self = session.user && m.id === session.user.id;
    const name = m.display_name || m.email;
    // Admins manage members only, and grant no role above member.
    const manageable = !self && (isOwner() || m.role === 'member');
    const badges = [
      h('span', { class: 'badge capitalise' }, m.role),
      m.disabled ? h('span', { class: 'badge badge-danger' }, 'Suspended') : null,
      m.mfa_enabled ? h('span', { class: 'badge badge-success' }, '2FA on') : h('span', { class: 'badge badge-muted' }, '2FA off'),
      self ? h('span', { class: 'badge badge-accent' }, 'You') : null,
    ];
    const info = h('div', { class: 'item-main' },
      h('p', { class: 'item-title' }, name, ...badges),
      h('p', { class: 'item-meta muted' }, m.email, ' · ',
        m.last_login_at ? ['Last login ', timeEl(m.last_login_at, true)] : 'Never logged in',
        ' · Joined ', timeEl(m.created_at)));
    const row = h('li', { class: 'item member', dataset: { id: m.id, email: m.email } }, info);
    if (!manageable) {
      if (!self) row.append(h('p', { class: 'item-note muted' }, 'Only an owner can manage admins and owners.'));
      return row;
    }
    const roleSelect = h('select', { class: 'input input-small', 'aria-label': `Role of ${name}`, name: 'role' },
      ROLES.map((r) => h('option', { value: r.value, disabled: !isOwner() && r.value !== 'member' }, r.label)));
    roleSelect.value = m.role;
    const applyRole = button('Change role', { variant: 'secondary', class: 'btn-small', 'aria-label': `Change role of ${name}` });
    applyRole.addEventListener('click', async () => {
      const role = roleSelect.value;
      if (role === m.role) {
        flash(`${name} is already ${role === 'admin' ? 'an' : 'a'} ${role}.`, 'info');
        return;
      }
      const ok = await confirmDialog({
        title: `Make ${name} ${role === 'admin' || role === 'owner' ? 'an' : 'a'} ${role}?`,
        message: role === 'owner'
          ? 'Owners can manage everyone, including other owners, and the organisation settings.'
          : role === 'admin' ? 'Admins manage members, invitations and read the audit log.'
            : 'Members keep memories and contexts, nothing more.',
        confirmLabel: 'Change role',
      });
      if (!ok) {
        roleSelect.value = m.role;
        return;
      }
      await act(applyRole, 'Saving…', () => patch(`/members/${encodeURIComponent(m.id)}`, { role }), `${name} is now ${role === 'member' ? 'a' : 'an'} ${role}.`);
    });
    const suspend = m.disabled
      ? button('Reactivate', { class: 'btn-small', 'aria-label': `Reactivate ${name}` })
      : button('Suspend', { variant: 'danger', class: 'btn-small', 'aria-label': `Suspend ${name}` });
    suspend.addEventListener('click', async () => {
      if (!m.disabled) {
        const ok = await confirmDialog({
          title: `Suspend ${name}?`,
          message: `${name} is logged out everywhere at once and can’t log in until reactivated.`,
          confirmLabel: 'Suspend',
          danger: true,
        });
        if (!ok) return;
      }
      await act(suspend, m.disabled ? 'Reactivating…' : 'Suspending…',
        () => patch(`/members/${encodeURIComponent(m.id)}`, { disabled: !m.disabled }),
        m.disabled ? `${name} was reactivated.` : `${name} was suspended.`);
    });
    const revoke = button('Revoke sessions', { class: 'btn-small', 'aria-label': `Revoke all sessions of ${name}` });
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Log ${name} out everywhere?`,
        message: 'Every session of this member ends now. They can log in again.',
        confirmLabel: 'Revoke sessions',
        danger: true,
      });
      if (!ok) return;
      await act(revoke, 'Revoking…', () => post(`/members/${encodeURIComponent(m.id)}/revoke-sessions`), `${name} was logged out everywhere.`);
    });
    const resetMfa = button('Reset 2FA', { class: 'btn-small', 'aria-label': `Reset two-factor authentication of ${name}`, disabled: !m.mfa_enabled });
    resetMfa.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Reset two-factor authentication for ${name}?`,
        message: 'Use this when they lost their authenticator app and backup codes. They will set it up again at their next login if your organisation requires it.',
        confirmLabel: 'Reset 2FA',
        danger: true,
      });
      if (!ok) return;
      await act(resetMfa, 'Resetting…', async () => {
        try {
          return await post(`/members/${encodeURIComponent(m.id)}/reset-mfa`);
        } catch (error) {
          // A server without this route answers 404/405 (as for a member who is gone).
          if (error.status === 404 || error.status === 405) {
            error.message = `Two-factor authentication of ${name} could not be reset: this server does not offer it yet, or the member no longer exists.`;
            error.code = 'reset_mfa_unavailable';
          }
          throw error;
        }
      }, `Two-factor authentication of ${name} was reset.`);
    });
    const remove = button('Remove', { variant: 'danger', class: 'btn-small', 'aria-label': `Remove ${name}` });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Remove ${name}?`,
        message: `${name} loses access to the organisation at once. Their memories stay.`,
        confirmLabel: 'Remove member',
        danger: true,
      });
      if (!ok) return;
      await act(remove, 'Removing…', () => del(`/members/${encodeURIComponent(m.id)}`), `${name} was removed.`);
    });
    row.append(h('div', { class: 'member-actions' },
      h('div', { class: 'role-control' }, roleSelect, applyRole),
      h('div', { class: 'button-row' }, suspend, revoke, resetMfa, remove)));
    return row;
  }

  await load();
}

