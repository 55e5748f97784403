// Your sessions: every browser or device logged in to your account — its browser and OS (as
// the server reads them from the User-Agent), address, last activity, and a mark on a device
// not seen before. Revoke one, or log out everywhere except here.

import { get, post, del, qs } from '../api.js';
import { describeUserAgent, h, relativeTime, replace, timeEl } from '../dom.js';
import { logout } from '../flow.js';
import {
  busy, button, confirmDialog, CursorPager, flash, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

export async function sessionsView(root) {
  const revokeOthers = button('Log out all other devices', { variant: 'danger', id: 'revoke-others' });
  root.append(pageHeader('Sessions', {
    subtitle: 'Where your account is logged in. Revoke anything you don’t recognise.',
    actions: [revokeOthers],
  }));
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'session-list', tabindex: '-1' }, loading('Loading sessions…'));
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
    const sessions = page.data || [];
    revokeOthers.disabled = sessions.length <= 1 && !pager.hasNext && !pager.hasPrevious;
    replace(list, h('ul', { class: 'item-list session-list' }, sessions.map((s) => sessionRow(s))));
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: 'Session pages',
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  function sessionRow(s) {
    const device = deviceName(s);
    const action = s.current
      ? button('Log out', { variant: 'quiet', onclick: () => logout() })
      : button('Revoke', {
        variant: 'danger',
        class: 'revoke-session',
        'aria-label': `Revoke the session of ${device}, last active ${relativeTime(s.last_seen_at)}`,
        onclick: async (event) => {
          const ok = await confirmDialog({
            title: 'Revoke this session?',
            message: `${device} (${s.ip || 'unknown address'}) will be logged out at its next request.`,
            confirmLabel: 'Revoke session',
            danger: true,
          });
          if (!ok) return;
          try {
            await busy(event.target, 'Revoking…', () => del(`/sessions/${encodeURIComponent(s.id)}`));
            flash(`Revoked the session of ${device}.`, 'success');
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
          s.current ? h('span', { class: 'badge badge-success current-badge' }, 'This device') : null,
          s.new_device ? h('span', {
            class: 'badge badge-warning new-device-badge',
            title: 'The first sign-in from this browser, system and network in 90 days',
          }, 'New device') : null,
          s.remember_me ? h('span', { class: 'badge' }, 'Remembered') : null),
        h('p', { class: 'item-meta muted' },
          h('span', { class: 'session-ip' }, s.ip || 'Unknown address'),
          ' · Last active ', h('span', { class: 'session-last-seen' }, timeEl(s.last_seen_at, true)),
          ' · Logged in ', timeEl(s.created_at),
          ' · Expires ', timeEl(s.expires_at))),
      h('div', { class: 'item-actions' }, action));
  }

  revokeOthers.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Log out all other devices?',
      message: 'Every other session of your account ends now. This device stays logged in.',
      confirmLabel: 'Log out other devices',
      danger: true,
    });
    if (!ok) return;
    try {
      const answer = await busy(revokeOthers, 'Logging out…', () => post('/sessions/revoke-all', { keep_current: true }));
      const n = answer.sessions_revoked ?? 0;
      flash(n === 1 ? 'Logged out 1 other session.' : `Logged out ${n} other sessions.`, 'success');
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
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `A browser on ${os}`;
  return 'Unknown browser';
}
