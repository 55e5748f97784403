// Tokens from the links in mails (#/reset?token=…, #/verify-email?token=…, …), kept in this
// module's memory only: the router takes a token out of the address before the view runs, so
// it is never left in the history, shown in the address bar or written to storage. A reload
// of the page loses it, and the page then asks for the link again.

const tokens = new Map();

/** Remember the token of the link that opened `route` (replacing an older one). */
export function keepLinkToken(route, token) {
  const value = String(token || '').trim();
  if (value) tokens.set(route, value);
  else tokens.delete(route);
}

/** The token kept for `route`, or null. */
export function linkToken(route) {
  return tokens.get(route) || null;
}

/** Forget the token of `route` (once it was used, or the API refused it). */
export function dropLinkToken(route) {
  tokens.delete(route);
}
