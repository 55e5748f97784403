#include "app/auth/authenticate.h"

#include "app/auth/email_verification.h"
#include "app/crypto/hash.h"
#include "app/db/time.h"
#include "app/store/sessions.h"

namespace portcullis {

TokenOutcome authenticate_token(Db& db, const std::string& token, const Config& config) {
  TokenOutcome outcome;
  // A token is 43 base64url characters; anything else cannot match a row.
  if (token.size() != 43) {
    return outcome;
  }
  // The steady state's only statement: the session with its user and tenant,
  // autocommit, one round trip. The writes below happen only when needed.
  std::optional<SessionAccount> found = find_session_with_account(db, token);
  int64_t now = now_ms();
  if (!found) {
    // A miss only: was it revoked elsewhere (a tombstone), or just gone?
    if (revoked_session_reason(db, token, now)) {
      outcome.refusal = SessionRefusal::kRevoked;
    }
    return outcome;
  }
  Session& s = found->session;
  const Account& account = found->account;
  // The idle timeout applies to every state (pending and enrolment-only
  // sessions too); only a full remember-me session has none inside its 7 days.
  bool idle_exempt = s.remember_me && s.auth_state == "full";
  bool idle = !idle_exempt &&
              now - s.last_seen_at > static_cast<int64_t>(config.session_idle_seconds) * 1000;
  if (now >= s.expires_at || idle) {
    store::sessions::remove(db, s.id);
    return outcome;
  }
  // A suspended user's sessions were revoked with the suspension; one that
  // slipped through (a race, a CLI change) is revoked now. The pending one of
  // a password step stays for MFA verify, which refuses it (see the header).
  if (account.disabled && s.auth_state != "mfa_pending") {
    store::sessions::revoke(db, s.id, kRevokedSuspended, now);
    outcome.refusal = SessionRefusal::kRevoked;
    return outcome;
  }
  if (now - s.last_seen_at >= static_cast<int64_t>(config.session_touch_seconds) * 1000) {
    touch_session(db, s.id, now);
    s.last_seen_at = now;
  }
  // The tenant requires MFA and this user has none: whatever the session was
  // issued as, from this request on it may only enrol (DESIGN §7). Decided
  // here, once, so a require_mfa switched on reaches live sessions.
  if (s.auth_state == "full" && account.tenant_require_mfa && !account.mfa_enabled) {
    store::sessions::require_enrolment(db, s.id);
    s.auth_state = "enrollment_required";
  }
  Authenticated out;
  out.principal.user_id = s.user_id;
  out.principal.tenant_id = s.tenant_id;
  out.principal.role = account.role;
  out.principal.session_id = s.id;
  out.principal.auth_state = s.auth_state;
  // The effective state, in this order of precedence:
  //  1. the second factor: an mfa_pending session reaches only MFA verify
  //     and logout, whatever else holds;
  //  2. e-mail verification: the tenant requires a verified address and
  //     this account's is unproven. The session may reach only me, the
  //     verify and resend routes and logout. Not stored: decided here on
  //     every request, so the request after verifying is full (or
  //     enrolment-only) again, and a setting switched on reaches live
  //     sessions;
  //  3. MFA enrolment: enrollment_required (stored, above).
  // The session row keeps its stored state; only the principal carries the
  // effective one, which the router policy enforces (app/http/dispatch.cpp).
  if (s.auth_state != "mfa_pending" && email_verification::required(account)) {
    out.principal.auth_state = "verification_required";
  }
  out.session = std::move(s);
  out.account = account;
  outcome.authenticated = std::move(out);
  return outcome;
}

bool origin_allowed(const std::string& sec_fetch_site,
                    const std::string& origin,
                    const Config& config) {
  if (sec_fetch_site == "cross-site") {
    return false;
  }
  if (origin.empty()) {
    return true;
  }
  for (const std::string& allowed : config.allowed_origins) {
    if (origin == allowed) {
      return true;
    }
  }
  return false;
}

bool csrf_token_matches(const std::string& presented, const Session& session) {
  return !presented.empty() && constant_time_equals(presented, session.csrf_token);
}

}  // namespace portcullis
