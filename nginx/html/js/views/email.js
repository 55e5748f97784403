// The pages the e-mail links open, and the verification-only screen:
//   #/verify-email   confirm the account's address (POST /auth/email/verify)
//   #/confirm-email  confirm a new address after a change (POST /auth/email/change/confirm)
//   #/revert-email   undo a change from the old address (POST /auth/email/change/revert):
//                    the old address comes back, the account is locked and every session ends
//   #/verify-required  the organisation requires a confirmed address and this one is not yet
// Each link's token reaches the view through link-token.js, already out of the address bar and
// the history; it is sent once in a POST body and then forgotten.

import { post } from '../api.js';
import { h, replace } from '../dom.js';
import { afterLogin, homePath, logout, refreshSession } from '../flow.js';
import { dropLinkToken, linkToken } from '../link-token.js';
import { navigate } from '../router.js';
import { isLoggedIn, session } from '../session.js';
import { busy, button, card, errorText, flashNext, loading, pageHeader } from '../ui.js';
import { resendControl } from '../verification.js';
import { t } from '../i18n.js';

/** An outcome notice; it takes focus so it is read out and keyboard users start from it. */
function outcome(kind, ...children) {
  return h('div', {
    class: ['notice', `notice-${kind}`, 'outcome'], id: 'outcome', tabindex: '-1',
    role: kind === 'error' ? 'alert' : 'status',
  }, children);
}

function show(body, ...children) {
  replace(body, children);
  const el = body.querySelector('#outcome');
  if (el) el.focus();
}

/** Where to go next: the app when a session lasts, else the login page. */
function nextLink() {
  if (session.user || session.mfaPending) {
    return h('p', {}, h('a', { href: `#${homePath()}`, id: 'continue-link' }, t('email.continue_to_portcullis')));
  }
  return h('p', {}, h('a', { href: '#/login', id: 'login-link' }, t('email.log_in')));
}

function missingLink(body, what) {
  show(body, outcome('info',
    h('p', { class: 'notice-title' }, t('email.open_the_link_from')),
    h('p', {}, t('email.this_page_works_with', { what }))),
  nextLink());
}

function layout(root, title, subtitle) {
  const body = card(loading(t('email.checking_your_link')));
  root.append(h('div', { class: 'auth-layout' }, pageHeader(title, { subtitle }), body));
  return body;
}

// --- confirm the account's address -----------------------------------------------------------------

export async function verifyEmailView(root) {
  const route = '/verify-email';
  const body = layout(root, t('email.confirm_your_e_mail'), null);
  const token = linkToken(route);
  if (!token) {
    missingLink(body, t('email.to_confirm_your_address'));
    return;
  }
  try {
    await post('/auth/email/verify', { token }, { public: true });
  } catch (error) {
    dropLinkToken(route);
    if (error.handled) return;
    if (error.code === 'invalid_token') {
      const signedIn = session.user !== null && session.user.email_verified === false;
      show(body, outcome('error',
        h('p', { class: 'notice-title' }, t('email.this_confirmation_link_can')),
        h('p', {}, t('email.it_is_not_valid')),
        h('p', {}, signedIn
          ? t('email.ask_for_a_new')
          : t('email.log_in_and_ask'))),
      signedIn ? resendControl(session.user.email) : nextLink());
      return;
    }
    show(body, outcome('error', h('p', {}, errorText(error))), nextLink());
    return;
  }
  dropLinkToken(route);
  // A signed-in browser learns the new state (the banner or verification-only screen goes).
  if (session.user) await refreshSession();
  if (session.user && !session.verificationOnly) {
    show(body, outcome('success',
      h('p', { class: 'notice-title' }, t('email.your_e_mail_address')),
      h('p', {}, t('email.thank_you'))),
    h('div', { class: 'button-row' }, button(t('email.continue'), { variant: 'primary', id: 'continue-button', onclick: () => afterLogin() })));
    return;
  }
  show(body, outcome('success',
    h('p', { class: 'notice-title' }, t('email.your_e_mail_address')),
    h('p', {}, session.user ? t('email.thank_you') : t('email.you_can_log_in'))),
  nextLink());
}

// --- confirm a new address after a change ------------------------------------------------------------

export async function confirmEmailView(root) {
  const route = '/confirm-email';
  const body = layout(root, t('email.confirm_your_new_e'), null);
  const token = linkToken(route);
  if (!token) {
    missingLink(body, t('email.to_your_new_address'));
    return;
  }
  let answer;
  try {
    answer = await post('/auth/email/change/confirm', { token }, { public: true });
  } catch (error) {
    dropLinkToken(route);
    if (error.handled) return;
    if (error.code === 'invalid_token') {
      show(body, outcome('error',
        h('p', { class: 'notice-title' }, t('email.this_confirmation_link_can')),
        h('p', {}, t('email.it_is_not_valid_2'))),
      nextLink());
      return;
    }
    if (error.code === 'email_taken' || error.status === 409) {
      show(body, outcome('error',
        h('p', { class: 'notice-title' }, t('email.your_address_was_not')),
        h('p', {}, t('email.another_account_uses_this'))),
      nextLink());
      return;
    }
    show(body, outcome('error', h('p', {}, errorText(error))), nextLink());
    return;
  }
  dropLinkToken(route);
  if (session.user) await refreshSession();
  const address = answer && typeof answer.email === 'string' ? answer.email : null;
  show(body, outcome('success',
    h('p', { class: 'notice-title' }, t('email.your_e_mail_address_2')),
    h('p', { id: 'new-address' }, address
      ? t('email.you_log_in_with', { address })
      : t('email.you_log_in_with_2'))),
  nextLink());
}

// --- undo a change from the old address -------------------------------------------------------------

export function revertEmailView(root) {
  const route = '/revert-email';
  const body = card();
  root.append(h('div', { class: 'auth-layout' },
    pageHeader(t('email.undo_the_e_mail'), { subtitle: t('email.for_when_someone_else') }),
    body));
  if (!linkToken(route)) {
    missingLink(body, t('email.to_your_previous_address'));
    return;
  }
  // A deliberate click, not on page load: this locks the account and ends every session, and
  // a link opened by a mail scanner must not do that on its own.
  const confirm = button(t('email.restore_my_previous_address'), { variant: 'danger', id: 'revert-email-button' });
  replace(body,
    h('p', {}, t('email.this_puts_your_previous')),
    h('div', { class: 'button-row' }, confirm));
  confirm.addEventListener('click', async () => {
    const token = linkToken(route);
    if (!token) {
      missingLink(body, t('email.to_your_previous_address'));
      return;
    }
    try {
      await busy(confirm, 'Restoring…', () => post('/auth/email/change/revert', { token }, { public: true }));
    } catch (error) {
      if (error.handled) return;
      if (error.code === 'invalid_token') {
        dropLinkToken(route);
        show(body, outcome('error',
          h('p', { class: 'notice-title' }, t('email.this_link_can_t')),
          h('p', {}, t('email.it_is_not_valid_3'))));
        return;
      }
      show(body, outcome('error', h('p', {}, errorText(error))), h('div', { class: 'button-row' }, confirm));
      return;
    }
    dropLinkToken(route);
    // Every session of the account ended, this browser's too if it was signed in to it.
    if (session.user || session.mfaPending) await refreshSession();
    show(body, outcome('success',
      h('p', { class: 'notice-title' }, t('email.your_previous_address_is')),
      h('p', {}, t('email.the_account_is_locked'))),
    h('p', {}, h('a', { href: '#/forgot' }, t('email.forgot_password'))));
  });
}

// --- verification-only screen -------------------------------------------------------------------------

export function verificationRequiredView(root) {
  const org = session.tenant ? session.tenant.name : t('email.your_organisation');
  const email = session.user ? session.user.email : '';
  root.append(pageHeader(t('email.confirm_your_e_mail_2'), {
    subtitle: t('email.org_requires_a_confirmed', { org }),
  }));
  const status = h('p', { class: 'check-status', role: 'status' });
  const check = button(t('email.i_have_confirmed_it'), { variant: 'primary', id: 'check-verified' });
  check.addEventListener('click', async () => {
    status.textContent = '';
    await busy(check, t('email.checking'), () => refreshSession());
    if (!session.user) {
      navigate('/login'); // the session ended meanwhile (refreshSession forgot it)
      return;
    }
    if (!session.verificationOnly) {
      flashNext(t('email.your_e_mail_address_3'), 'success');
      afterLogin();
      return;
    }
    status.textContent = t('email.your_address_is_not');
  });
  root.append(card(
    h('p', {}, t('email.we_sent_a_link', { email })),
    h('div', { class: 'button-row' }, check),
    status,
    h('h2', { class: ['card-title', 'card-title-later'] }, t('email.no_e_mail')),
    h('p', { class: 'muted' }, t('email.check_your_spam_folder')),
    resendControl(email, { onVerified: () => { if (isLoggedIn()) afterLogin(); } })),
  h('p', { class: 'auth-alt' },
    h('button', { type: 'button', class: 'btn btn-link', onclick: () => logout() }, t('email.log_out'))));
}
