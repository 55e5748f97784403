// Where the app goes after the moments that move a user between views: login, logout, the
// end of a session. Kept apart from main.js so views can use it without importing the router.

import { get, post } from './api.js';
import { navigate } from './router.js';
import { session, applyLogin, clearSession, isLoggedIn } from './session.js';
import { flashNext } from './ui.js';
import { t, language, languagePicked, setLanguage } from './i18n.js';

// The view a logged-out visit asked for, or the one an ended session was on, to open after
// logging in: {path, query, email?}.
let returnTo = null;

export function setReturnTo(target) {
  returnTo = target;
}

export function homePath() {
  // A tenant that requires a confirmed address lets nothing else through first (not even MFA
  // enrolment), so that screen comes before the enrolment one.
  if (session.verificationOnly) return '/verify-required';
  if (session.enrollmentOnly) return '/enrol';
  return isLoggedIn() ? '/memories' : '/login';
}

/** After a login answer: to the enrolment screen, the page asked for, or the memories. */
export function afterLogin() {
  if (session.verificationOnly || session.enrollmentOnly) {
    navigate(homePath());
    return;
  }
  const target = returnTo;
  returnTo = null;
  // A page left by an ended session is offered back to the same person only.
  const sameUser = !target || !target.email || (session.user && session.user.email === target.email);
  if (target && sameUser) navigate(target.path, Object.fromEntries(target.query));
  else navigate('/memories');
}

export async function logout({ message = t('session.logged_out') } = {}) {
  // The logout answer's Clear-Site-Data empties this origin's storage, the picked language with
  // it: a display preference, not session data, so it is put back.
  const picked = languagePicked() ? language() : null;
  try {
    await post('/auth/logout', undefined, { public: true });
  } catch {
    /* already logged out on the server, or offline: forget the session here all the same */
  }
  if (picked) setLanguage(picked);
  returnTo = null;
  clearSession();
  if (message) flashNext(message, 'success');
  navigate('/login');
}

/**
 * Ask the server who this browser is signed in as, after something that may have changed it
 * outside this page's knowledge (a password reset or an e-mail change ends sessions; a
 * confirmed address lifts the verification-only state). Resolves true while a session lasts.
 */
export async function refreshSession() {
  try {
    applyLogin(await get('/me', { public: true }));
    return true;
  } catch (error) {
    if (error && error.status === 401) {
      clearSession();
      return false;
    }
    // Offline or a server fault: keep what we know; the next request will tell.
    return session.user !== null;
  }
}
