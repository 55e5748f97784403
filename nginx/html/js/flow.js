// Where the app goes after the moments that move a user between views: login, logout, the
// end of a session. Kept apart from main.js so views can use it without importing the router.

import { post } from './api.js';
import { navigate } from './router.js';
import { session, clearSession, isLoggedIn } from './session.js';
import { flashNext } from './ui.js';

// The view a logged-out visit asked for, or the one an ended session was on, to open after
// logging in: {path, query, email?}.
let returnTo = null;

export function setReturnTo(target) {
  returnTo = target;
}

export function homePath() {
  if (session.enrollmentOnly) return '/enrol';
  return isLoggedIn() ? '/memories' : '/login';
}

/** After a login answer: to the enrolment screen, the page asked for, or the memories. */
export function afterLogin() {
  if (session.enrollmentOnly) {
    navigate('/enrol');
    return;
  }
  const target = returnTo;
  returnTo = null;
  // A page left by an ended session is offered back to the same person only.
  const sameUser = !target || !target.email || (session.user && session.user.email === target.email);
  if (target && sameUser) navigate(target.path, Object.fromEntries(target.query));
  else navigate('/memories');
}

export async function logout({ message = 'You have logged out.' } = {}) {
  try {
    await post('/auth/logout', undefined, { public: true });
  } catch {
    /* already logged out on the server, or offline: forget the session here all the same */
  }
  returnTo = null;
  clearSession();
  if (message) flashNext(message, 'success');
  navigate('/login');
}
