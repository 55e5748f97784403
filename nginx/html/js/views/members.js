// Members of the organisation (admins and owners): role, suspend/reactivate, revoke sessions,
// reset two-factor authentication, remove. The API decides who may do what (owners manage
// everyone; admins manage members only; nobody acts on their own account here); the page
// offers only what the API would allow and shows its answer when it refuses.

import { get, patch, post, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { isOwner, session } from '../session.js';
import { t } from '../i18n.js';
import {
  busy, button, confirmDialog, CursorPager, flash, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

const ROLES = ['member', 'admin', 'owner'];

export async function membersView(root) {
  const invite = h('a', { class: 'btn btn-primary', href: '#/invitations' }, t('members.invite'));
  root.append(pageHeader(t('title.members'), { subtitle: t('members.subtitle'), actions: [invite] }));
  const errorSlot = h('div', { id: 'members-errors' });
  const list = h('div', { class: 'list-region', id: 'member-list', tabindex: '-1' }, loading(t('members.loading')));
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
      label: t('members.pages'),
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
      h('span', { class: 'badge capitalise' }, t(`role.${m.role}`)),
      m.disabled ? h('span', { class: 'badge badge-danger' }, t('members.suspended')) : null,
      m.mfa_enabled ? h('span', { class: 'badge badge-success' }, t('members.mfa_on')) : h('span', { class: 'badge badge-muted' }, t('members.mfa_off')),
      self ? h('span', { class: 'badge badge-accent' }, t('members.you')) : null,
    ];
    const info = h('div', { class: 'item-main' },
      h('p', { class: 'item-title' }, name, ...badges),
      h('p', { class: 'item-meta muted' }, m.email, ' · ',
        m.last_login_at ? [t('members.last_login'), ' ', timeEl(m.last_login_at, true)] : t('members.never'),
        ' · ', t('members.joined'), ' ', timeEl(m.created_at)));
    const row = h('li', { class: 'item member', dataset: { id: m.id, email: m.email } }, info);
    if (!manageable) {
      if (!self) row.append(h('p', { class: 'item-note muted' }, t('members.owner_only')));
      return row;
    }
    const roleSelect = h('select', { class: 'input input-small', 'aria-label': t('members.role_of', { name }), name: 'role' },
      ROLES.map((r) => h('option', { value: r, disabled: !isOwner() && r !== 'member' }, t(`role_label.${r}`))));
    roleSelect.value = m.role;
    const applyRole = button(t('members.change_role'), { variant: 'secondary', class: 'btn-small', 'aria-label': t('members.change_role_of', { name }) });
    applyRole.addEventListener('click', async () => {
      const role = roleSelect.value;
      if (role === m.role) {
        flash(t('members.already', { name, role: t(`role_a.${role}`) }), 'info');
        return;
      }
      const ok = await confirmDialog({
        title: t('members.make', { name, role: t(`role_a.${role}`) }),
        message: t(`members.role_text_${role}`),
        confirmLabel: t('members.change_role'),
      });
      if (!ok) {
        roleSelect.value = m.role;
        return;
      }
      await act(applyRole, t('common.saving'), () => patch(`/members/${encodeURIComponent(m.id)}`, { role }), t('members.now', { name, role: t(`role_a.${role}`) }));
    });
    const suspend = m.disabled
      ? button(t('members.reactivate'), { class: 'btn-small', 'aria-label': t('members.reactivate_label', { name }) })
      : button(t('members.suspend'), { variant: 'danger', class: 'btn-small', 'aria-label': t('members.suspend_label', { name }) });
    suspend.addEventListener('click', async () => {
      if (!m.disabled) {
        const ok = await confirmDialog({
          title: t('members.suspend_title', { name }),
          message: t('members.suspend_text', { name }),
          confirmLabel: t('members.suspend'),
          danger: true,
        });
        if (!ok) return;
      }
      await act(suspend, m.disabled ? t('members.reactivating') : t('members.suspending'),
        () => patch(`/members/${encodeURIComponent(m.id)}`, { disabled: !m.disabled }),
        m.disabled ? t('members.reactivated', { name }) : t('members.was_suspended', { name }));
    });
    const revoke = button(t('members.revoke_sessions'), { class: 'btn-small', 'aria-label': t('members.revoke_sessions_label', { name }) });
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('members.revoke_title', { name }),
        message: t('members.revoke_text'),
        confirmLabel: t('members.revoke_sessions'),
        danger: true,
      });
      if (!ok) return;
      await act(revoke, t('sessions.revoking'), () => post(`/members/${encodeURIComponent(m.id)}/revoke-sessions`), t('members.revoked', { name }));
    });
    const resetMfa = button(t('members.reset_mfa'), { class: 'btn-small', 'aria-label': t('members.reset_mfa_label', { name }), disabled: !m.mfa_enabled });
    resetMfa.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('members.reset_mfa_title', { name }),
        message: t('members.reset_mfa_text'),
        confirmLabel: t('members.reset_mfa'),
        danger: true,
      });
      if (!ok) return;
      await act(resetMfa, t('members.resetting'), async () => {
        try {
          return await post(`/members/${encodeURIComponent(m.id)}/reset-mfa`);
        } catch (error) {
          // A server without this route answers 404/405 (as for a member who is gone).
          if (error.status === 404 || error.status === 405) {
            error.localized = t('members.reset_mfa_unavailable', { name });
            error.message = error.localized;
            error.code = 'reset_mfa_unavailable';
          }
          throw error;
        }
      }, t('members.mfa_reset', { name }));
    });
    const remove = button(t('members.remove'), { variant: 'danger', class: 'btn-small', 'aria-label': t('members.remove_label', { name }) });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: t('members.remove_title', { name }),
        message: t('members.remove_text', { name }),
        confirmLabel: t('members.remove_confirm'),
        danger: true,
      });
      if (!ok) return;
      await act(remove, t('members.removing'), () => del(`/members/${encodeURIComponent(m.id)}`), t('members.removed', { name }));
    });
    row.append(h('div', { class: 'member-actions' },
      h('div', { class: 'role-control' }, roleSelect, applyRole),
      h('div', { class: 'button-row' }, suspend, revoke, resetMfa, remove)));
    return row;
  }

  await load();
}

