// Who is logged in, as far as the page knows. The real session is the HttpOnly cookie the
// browser keeps; this is what the API told us about it (login shape, DESIGN §8), in memory.
//
// localStorage holds display data only — the display name and e-mail, so the login form can
// offer the last e-mail and the header can greet before GET /me answers. Never a token: the
// CSRF token stays in api.js's memory and the session token is never visible to script at all.

import { setCsrfToken } from './api.js';

const DISPLAY_KEY = 'portcullis.display';

export const session = {
  user: null, // {id, email, display_name, role, mfa_enabled, email_verified}
  tenant: null, // {id, name}
  info: null, // {id, expires_at, remember_me}
  enrollmentOnly: false, // the tenant requires MFA and this user has none yet
  // The tenant requires a confirmed e-mail address and this user has none yet: the API then
  // answers only /me, the verification routes and logout.
  verificationOnly: false,
  mfaPending: false, // password accepted, second factor still to give
};

const listeners = new Set();

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify() {
  for (const fn of listeners) fn(session);
}

/** Take a login-shaped answer (login, mfa/verify, refresh, GET /me). */
export function applyLogin(shape) {
  session.user = shape.user || null;
  // The API says whether the address is proven beside the user, not in it.
  if (session.user && typeof shape.email_verified === 'boolean') {
    session.user.email_verified = shape.email_verified;
  }
  session.tenant = shape.tenant || null;
  session.info = shape.session || null;
  session.enrollmentOnly = shape.mfa_enrollment_required === true;
  session.verificationOnly = shape.email_verification_required === true;
  session.mfaPending = false;
  if (shape.csrf_token) setCsrfToken(shape.csrf_token);
  if (session.user) {
    saveDisplay({ display_name: session.user.display_name, email: session.user.email });
  }
  notify();
}

/** The password step succeeded; the second factor is next. */
export function applyMfaPending(shape) {
  session.user = null;
  session.tenant = null;
  session.info = null;
  session.enrollmentOnly = false;
  session.verificationOnly = false;
  session.mfaPending = true;
  setCsrfToken(shape.csrf_token);
  notify();
}

export function updateUser(fields) {
  if (!session.user) return;
  Object.assign(session.user, fields);
  saveDisplay({ display_name: session.user.display_name, email: session.user.email });
  notify();
}

export function updateTenant(fields) {
  if (!session.tenant) return;
  Object.assign(session.tenant, fields);
  notify();
}

export function clearSession({ forgetDisplay = false } = {}) {
  session.user = null;
  session.tenant = null;
  session.info = null;
  session.enrollmentOnly = false;
  session.verificationOnly = false;
  session.mfaPending = false;
  setCsrfToken(null);
  if (forgetDisplay) {
    try {
      localStorage.removeItem(DISPLAY_KEY);
    } catch {
      /* storage may be unavailable (private mode): nothing to forget */
    }
  }
  notify();
}

export const isLoggedIn = () => session.user !== null && !session.enrollmentOnly
  && !session.verificationOnly;
/** A session that may reach only one screen: e-mail confirmation or MFA enrolment. */
export const isRestricted = () => session.user !== null
  && (session.enrollmentOnly || session.verificationOnly);
/** Signed in with an address not confirmed yet (false when the API does not say). */
export const needsEmailVerification = () => session.user !== null
  && session.user.email_verified === false;
export const role = () => (session.user ? session.user.role : null);
export const isAdmin = () => role() === 'admin' || role() === 'owner';
export const isOwner = () => role() === 'owner';

function saveDisplay(display) {
  try {
    localStorage.setItem(DISPLAY_KEY, JSON.stringify({
      display_name: String(display.display_name || ''),
      email: String(display.email || ''),
    }));
  } catch {
    /* display data only: losing it is harmless */
  }
}

/** {display_name, email} remembered from the last login on this browser, or null. */
export function rememberedDisplay() {
  try {
    const value = JSON.parse(localStorage.getItem(DISPLAY_KEY) || 'null');
    if (value && typeof value === 'object') {
      return { display_name: String(value.display_name || ''), email: String(value.email || '') };
    }
  } catch {
    /* ignore broken or unavailable storage */
  }
  return null;
}
