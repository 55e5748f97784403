// The one place that talks to the API (/api/v1, JSON).
//
// - Authentication is the HttpOnly session cookie the server sets: every call is made with
//   `credentials: 'include'`; this code never sees, stores or sends a session token.
// - Unsafe methods carry the session's CSRF token in `X-CSRF-Token`. The token lives in this
//   module's memory only (never localStorage/sessionStorage); after a reload it is read again
//   from GET /me.
// - Errors arrive as the API's envelope {"error":{"code","message","request_id","fields"?}} and
//   are thrown as ApiError. Three answers are handled here for every caller, through hooks the
//   app installs (main.js):
//     401 session_expired / session_revoked / unauthenticated → onExpired (back to login,
//                                             "your session expired" or "you were signed out
//                                             from another device");
//     403 step_up_required                  → onStepUp (re-authentication dialog), then the
//                                             original request is sent once more;
//     403 mfa_enrollment_required           → onEnrollmentRequired (enrolment-only screen);
//     403 email_verification_required       → onVerificationRequired (the "confirm your
//                                             e-mail" screen).
//   Errors handled that way are marked `handled`, so views don't show them a second time.
//   The messages here are English fallbacks: the SPA shows its own text per error code
//   (errorText in ui.js, from the catalogue of the UI language).

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
const hooks = {
  onExpired: null,
  onStepUp: null,
  onEnrollmentRequired: null,
  onVerificationRequired: null,
};
let stepUpInFlight = null;

export class ApiError extends Error {
  constructor({ status = 0, code = 'error', message = 'Something went wrong.', requestId = null,
    fields = null, retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.fields = fields && typeof fields === 'object' ? fields : null;
    this.retryAfter = retryAfter;
    this.handled = false;
  }
}

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' && token ? token : null;
}

export function hasCsrfToken() {
  return csrfToken !== null;
}

export function configureApi(newHooks) {
  Object.assign(hooks, newHooks);
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.round((date - Date.now()) / 1000));
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'include', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError({
      status: 0,
      code: 'network_error',
      message: 'The service cannot be reached. Check your connection and try again.',
    });
  }
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok) return data ?? {};
  const envelope = data && typeof data.error === 'object' && data.error ? data.error : {};
  throw new ApiError({
    status: response.status,
    code: typeof envelope.code === 'string' ? envelope.code : `http_${response.status}`,
    message: typeof envelope.message === 'string' && envelope.message
      ? envelope.message
      : defaultMessage(response.status),
    requestId: envelope.request_id || response.headers.get('X-Request-Id'),
    fields: envelope.fields,
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
  });
}

function defaultMessage(status) {
  if (status === 404) return 'Not found.';
  if (status === 405) return 'This action is not available on this server yet.';
  if (status === 429) return 'Too many requests. Try again later.';
  if (status >= 500) return 'The service had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

/**
 * api('GET', '/memories?limit=10') → parsed JSON body.
 * options.public: a call made without a session (login, register): a 401 there is an answer
 *   for the form, not an expired session.
 * options.noStepUp: don't open the re-authentication dialog (the dialog's own call).
 */
export async function api(method, path, body, options = {}) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401 && !options.public &&
        (error.code === 'session_expired' || error.code === 'session_revoked'
          || error.code === 'unauthenticated')) {
      error.handled = true;
      if (hooks.onExpired) hooks.onExpired(error);
      throw error;
    }
    if (error.status === 403 && error.code === 'mfa_enrollment_required') {
      error.handled = true;
      if (hooks.onEnrollmentRequired) hooks.onEnrollmentRequired(error);
      throw error;
    }
    if (error.status === 403 && error.code === 'email_verification_required') {
      error.handled = true;
      if (hooks.onVerificationRequired) hooks.onVerificationRequired(error);
      throw error;
    }
    if (error.status === 403 && error.code === 'step_up_required' && !options.noStepUp &&
        hooks.onStepUp) {
      // Several requests may need it at once: they share one dialog.
      if (!stepUpInFlight) {
        stepUpInFlight = Promise.resolve(hooks.onStepUp(error)).finally(() => {
          stepUpInFlight = null;
        });
      }
      const confirmed = await stepUpInFlight;
      if (confirmed) return api(method, path, body, { ...options, noStepUp: true });
      if (confirmed === null) throw error; // no prompt possible here (enrolment-only session)
      error.message = 'The action was cancelled: it needs you to confirm it is you.';
      error.code = 'step_up_cancelled';
    }
    throw error;
  }
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body, options);
export const patch = (path, body, options) => api('PATCH', path, body, options);
export const del = (path, options) => api('DELETE', path, undefined, options);

/** A query string from an object, leaving out empty values: qs({limit: 10, tag: ''}) → "?limit=10". */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Every page of a list (for small lists such as contexts), up to `max` items. */
export async function getAll(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...(page.data || []));
    cursor = page.page && page.page.has_more ? page.page.next_cursor : null;
  } while (cursor && items.length < max);
  return items;
}
