// Your sessions: every browser or device logged in to your account — its browser and OS (as
// the server reads them from the User-Agent), address, last activity, and a mark on a device
// not seen before. The session of this browser is pinned first. Revoke one, or log out
// everywhere except here.

import { get, post, del, qs } from '../api.js';
import { describeUserAgent, h, relativeTime, replace, timeEl } from '../dom.js';
import { logout } from '../flow.js';
import { t } from '../i18n.js';
import {
  busy, button, confirmDialog, CursorPager, flash, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

export async function sessionsView(root) {
  const revokeOthers = button(t('sessions.revoke_others'), { variant: 'danger', id: 'revoke-others' });
  root.append(pageHeader(t('title.sessions'), {
    subtitle: t('sessions.subtitle'),
    actions: [revokeOthers],
  }));
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'session-list', tabindex: '-1' }, loading(t('sessions.loading')));
  const pagerSlot = h('div');
  root.append(errorSlot, list, pagerSlot);
  const pager = new CursorPager();

  async function load() {
    showError(errorSlot, null);
    let page;
    try {
      page = await get(`/sessions${qs({ limit: 20, cursor: pager.cursor })}`);
    } catch (error) {
      replace(list);
      showError(errorSlot, error);
      return;
    }
    pager.loaded(page.page);
    // This browser's session first (it may come on any page of the list: it is shown on each).
    const sessions = (page.data || []).slice().sort((a, b) => Number(Boolean(b.current)) - Number(Boolean(a.current)));
    revokeOthers.disabled = sessions.length <= 1 && !pager.hasNext && !pager.hasPrevious;
    replace(list, h('ul', { class: 'item-list session-list' }, sessions.map((s) => sessionRow(s))));
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: t('sessions.pages'),
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  function sessionRow(s) {
    const device = deviceName(s);
    const action = s.current
      ? button(t('shell.logout'), { variant: 'quiet', onclick: () => logout() })
      : button(t('sessions.revoke'), {
        variant: 'danger',
        class: 'revoke-session',
        'aria-label': t('sessions.revoke_label', { device, when: relativeTime(s.last_seen_at) }),
        onclick: async (event) => {
          const ok = await confirmDialog({
            title: t('sessions.revoke_title'),
            message: t('sessions.revoke_text', { device, ip: s.ip || t('sessions.unknown_address') }),
            confirmLabel: t('sessions.revoke_confirm'),
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(event.target, t('sessions.revoking'), () => del(`/sessions/${encodeURIComponent(s.id)}`));
            flash(t('sessions.revoked', { device }), 'success');
            pager.reset();
            await load();
            list.focus();
          } catch (error) {
            showError(errorSlot, error);
          }
        },
      });
    return h('li', { class: ['item', s.current ? 'item-current' : null], dataset: { id: s.id, current: String(s.current) } },
      h('div', { class: 'item-main' },
        h('p', { class: 'item-title' }, h('span', { class: 'session-device' }, device),
          s.current ? h('span', { class: 'badge badge-success current-badge' }, t('sessions.this_device')) : null,
          s.new_device ? h('span', {
            class: 'badge badge-warning new-device-badge',
            title: t('sessions.new_device_hint'),
          }, t('sessions.new_device')) : null,
          s.remember_me ? h('span', { class: 'badge' }, t('sessions.remembered')) : null),
        h('p', { class: 'item-meta muted' },
          h('span', { class: 'session-ip' }, s.ip || t('sessions.unknown_address')),
          ' · ', t('sessions.last_active'), ' ', h('span', { class: 'session-last-seen' }, timeEl(s.last_seen_at, true)),
          ' · ', t('sessions.logged_in'), ' ', timeEl(s.created_at),
          ' · ', t('sessions.expires'), ' ', timeEl(s.expires_at))),
      h('div', { class: 'item-actions' }, action));
  }

  revokeOthers.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: t('sessions.revoke_others_title'),
      message: t('sessions.revoke_others_text'),
      confirmLabel: t('sessions.revoke_others_confirm'),
      danger: true,
    });
    if (!ok) return;
    try {
      const answer = await busy(revokeOthers, t('sessions.logging_out'), () => post('/sessions/revoke-all', { keep_current: true }));
      flash(t('sessions.revoked_others', { n: answer.sessions_revoked ?? 0 }), 'success');
      pager.reset();
      await load();
    } catch (error) {
      showError(errorSlot, error);
    }
  });

  await load();
}

/**
 * "Firefox on Linux" from the families the server reports (browser, os); older answers
 * without them fall back to reading the User-Agent here. "Other" is the server's unknown.
 */
function deviceName(s) {
  const known = (value) => (typeof value === 'string' && value && value !== 'Other' ? value : null);
  if (typeof s.browser !== 'string' && typeof s.os !== 'string') return describeUserAgent(s.user_agent);
  const browser = known(s.browser);
  const os = known(s.os);
  if (browser && os) return t('device.browser_on_os', { browser, os });
  if (browser) return browser;
  if (os) return t('device.a_browser_on_os', { os });
  return t('device.unknown_browser');
}
