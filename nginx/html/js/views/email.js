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
    return h('p', {}, h('a', { href: `#${homePath()}`, id: 'continue-link' }, 'Continue to portcullis'));
  }
  return h('p', {}, h('a', { href: '#/login', id: 'login-link' }, 'Log in'));
}

function missingLink(body, what) {
  show(body, outcome('info',
    h('p', { class: 'notice-title' }, 'Open the link from your e-mail'),
    h('p', {}, `This page works with the link we sent you ${what}. If you reloaded the page, open the link again.`)),
  nextLink());
}

function layout(root, title, subtitle) {
  const body = card(loading('Checking your link…'));
  root.append(h('div', { class: 'auth-layout' }, pageHeader(title, { subtitle }), body));
  return body;
}

// --- confirm the account's address -----------------------------------------------------------------

export async function verifyEmailView(root) {
  const route = '/verify-email';
  const body = layout(root, 'Confirm your e-mail address', null);
  const token = linkToken(route);
  if (!token) {
    missingLink(body, 'to confirm your address');
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
        h('p', { class: 'notice-title' }, 'This confirmation link can’t be used'),
        h('p', {}, 'It is not valid, has expired or was used already. Only the newest link works.'),
        h('p', {}, signedIn
          ? 'Ask for a new link below.'
          : 'Log in and ask for a new link from the notice at the top of the page.')),
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
      h('p', { class: 'notice-title' }, 'Your e-mail address is confirmed'),
      h('p', {}, 'Thank you.')),
    h('div', { class: 'button-row' }, button('Continue', { variant: 'primary', id: 'continue-button', onclick: () => afterLogin() })));
    return;
  }
  show(body, outcome('success',
    h('p', { class: 'notice-title' }, 'Your e-mail address is confirmed'),
    h('p', {}, session.user ? 'Thank you.' : 'You can log in now.')),
  nextLink());
}

// --- confirm a new address after a change ------------------------------------------------------------

export async function confirmEmailView(root) {
  const route = '/confirm-email';
  const body = layout(root, 'Confirm your new e-mail address', null);
  const token = linkToken(route);
  if (!token) {
    missingLink(body, 'to your new address');
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
        h('p', { class: 'notice-title' }, 'This confirmation link can’t be used'),
        h('p', {}, 'It is not valid, has expired or was used already, and your address was not changed. '
          + 'To change it, start again from the Security page.')),
      nextLink());
      return;
    }
    if (error.code === 'email_taken' || error.status === 409) {
      show(body, outcome('error',
        h('p', { class: 'notice-title' }, 'Your address was not changed'),
        h('p', {}, 'Another account uses this address now. Your account keeps its current address.')),
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
    h('p', { class: 'notice-title' }, 'Your e-mail address was changed'),
    h('p', { id: 'new-address' }, address
      ? `You log in with ${address} from now on.`
      : 'You log in with your new address from now on.')),
  nextLink());
}

// --- undo a change from the old address -------------------------------------------------------------

export function revertEmailView(root) {
  const route = '/revert-email';
  const body = card();
  root.append(h('div', { class: 'auth-layout' },
    pageHeader('Undo the e-mail change', { subtitle: 'For when someone else changed the address of your account.' }),
    body));
  if (!linkToken(route)) {
    missingLink(body, 'to your previous address');
    return;
  }
  // A deliberate click, not on page load: this locks the account and ends every session, and
  // a link opened by a mail scanner must not do that on its own.
  const confirm = button('Restore my previous address', { variant: 'danger', id: 'revert-email-button' });
  replace(body,
    h('p', {}, 'This puts your previous e-mail address back on your account. For your safety it also '
      + 'locks the account and logs out every session: an administrator of your organisation has to '
      + 're-enable it.'),
    h('div', { class: 'button-row' }, confirm));
  confirm.addEventListener('click', async () => {
    const token = linkToken(route);
    if (!token) {
      missingLink(body, 'to your previous address');
      return;
    }
    try {
      await busy(confirm, 'Restoring…', () => post('/auth/email/change/revert', { token }, { public: true }));
    } catch (error) {
      if (error.handled) return;
      if (error.code === 'invalid_token') {
        dropLinkToken(route);
        show(body, outcome('error',
          h('p', { class: 'notice-title' }, 'This link can’t be used'),
          h('p', {}, 'It is not valid, has expired or was used already. If someone else controls your '
            + 'account, contact an administrator of your organisation.')));
        return;
      }
      show(body, outcome('error', h('p', {}, errorText(error))), h('div', { class: 'button-row' }, confirm));
      return;
    }
    dropLinkToken(route);
    // Every session of the account ended, this browser's too if it was signed in to it.
    if (session.user || session.mfaPending) await refreshSession();
    show(body, outcome('success',
      h('p', { class: 'notice-title' }, 'Your previous address is back'),
      h('p', {}, 'The account is locked and every session was logged out. Ask an administrator of your '
        + 'organisation to re-enable it. Then choose a new password with “Forgot password?” on the '
        + 'login page, since someone else may know the current one.')),
    h('p', {}, h('a', { href: '#/forgot' }, 'Forgot password?')));
  });
}

// --- verification-only screen -------------------------------------------------------------------------

export function verificationRequiredView(root) {
  const org = session.tenant ? session.tenant.name : 'Your organisation';
  const email = session.user ? session.user.email : '';
  root.append(pageHeader('Confirm your e-mail address to continue', {
    subtitle: `${org} requires a confirmed e-mail address for every member.`,
  }));
  const status = h('p', { class: 'check-status', role: 'status' });
  const check = button('I have confirmed it', { variant: 'primary', id: 'check-verified' });
  check.addEventListener('click', async () => {
    status.textContent = '';
    await busy(check, 'Checking…', () => refreshSession());
    if (!session.user) {
      navigate('/login'); // the session ended meanwhile (refreshSession forgot it)
      return;
    }
    if (!session.verificationOnly) {
      flashNext('Your e-mail address is confirmed. Welcome!', 'success');
      afterLogin();
      return;
    }
    status.textContent = 'Your address is not confirmed yet. Open the link in the e-mail we sent you, then try again.';
  });
  root.append(card(
    h('p', {}, `We sent a link to ${email}. Open it to confirm that the address is yours, then continue here.`),
    h('div', { class: 'button-row' }, check),
    status,
    h('h2', { class: ['card-title', 'card-title-later'] }, 'No e-mail?'),
    h('p', { class: 'muted' }, 'Check your spam folder, or ask for a new link. Only the newest link works.'),
    resendControl(email, { onVerified: () => { if (isLoggedIn()) afterLogin(); } })),
  h('p', { class: 'auth-alt' },
    h('button', { type: 'button', class: 'btn btn-link', onclick: () => logout() }, 'Log out')));
}
