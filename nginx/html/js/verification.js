// E-mail verification while signed in: the "Resend the link" control shared by the banner (an
// address not confirmed yet) and the verification-only screen (the organisation requires a
// confirmed address), and the banner itself.
//
// POST /auth/email/verify/resend answers 202 (a new link is on its way), 409 already_verified
// (nothing to do: the page asks GET /me again so the banner or screen goes away) or 429 with
// Retry-After: the button then stays disabled, with the time left beside it, until the wait is
// over. The wait is kept in this module so a banner drawn again keeps it.

import { post } from './api.js';
import { formatDuration, h, replace } from './dom.js';
import { refreshSession } from './flow.js';
import { busy, errorText } from './ui.js';
import { t } from './i18n.js';

let coolDownUntil = 0; // ms since the epoch; 0 = no wait

function secondsLeft() {
  return Math.max(0, Math.ceil((coolDownUntil - Date.now()) / 1000));
}

/** "4:05" for a wait in seconds. */
function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * A "Resend the link" button with a status line (polite live region) for `email`.
 * onVerified runs when the API says the address is confirmed already (after GET /me).
 */
export function resendControl(email, { onVerified = null, label = t('verification.resend_the_link') } = {}) {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small resend-verification' }, label);
  // Read once, when it changes (role=status); the countdown beside the button is not.
  const status = h('p', { class: 'resend-status', role: 'status' });
  const wait = h('span', { class: 'resend-wait muted', 'aria-hidden': 'true' });
  let timer = null;

  function tick() {
    const left = secondsLeft();
    if (left <= 0) {
      clearInterval(timer);
      timer = null;
      button.disabled = false;
      wait.textContent = '';
      return;
    }
    button.disabled = true;
    wait.textContent = t('verification.available_again', { time: clock(left) });
  }

  function startCoolDown() {
    if (timer || secondsLeft() <= 0) return;
    tick();
    timer = setInterval(() => {
      if (!button.isConnected) {
        clearInterval(timer);
        timer = null;
        return;
      }
      tick();
    }, 1000);
  }

  function say(text, kind) {
    status.className = `resend-status resend-${kind}`;
    status.textContent = text;
  }

  button.addEventListener('click', async () => {
    say('', 'info');
    try {
      await busy(button, 'Sending…', () => post('/auth/email/verify/resend'));
      say(t('verification.we_sent_a_new', { email }), 'success');
    } catch (error) {
      if (error.handled) return;
      if (error.status === 409 || error.code === 'already_verified') {
        say(t('verification.your_e_mail_address'), 'success');
        await refreshSession();
        if (onVerified) onVerified();
        return;
      }
      if (error.code === 'rate_limited') {
        const seconds = error.retryAfter ?? 60;
        coolDownUntil = Date.now() + seconds * 1000;
        say(t('verification.a_link_was_sent', { duration: formatDuration(seconds) }), 'info');
        startCoolDown();
        return;
      }
      say(errorText(error), 'error');
    }
  });

  startCoolDown();
  return h('div', { class: 'resend' }, h('div', { class: 'resend-row' }, button, wait), status);
}

/** The banner over the pages of a signed-in user whose address is not confirmed yet. */
export function verificationBanner(email) {
  const text = h('p', { class: 'banner-text' },
    h('strong', {}, t('verification.please_confirm_your_e')), ' ',
    t('verification.we_sent_a_link', { email }));
  const banner = h('section', { class: 'banner', id: 'verify-banner', 'aria-label': t('verification.e_mail_confirmation') });
  replace(banner, text, resendControl(email));
  return banner;
}
