// Authentication phase (DESIGN §3 step 3): resolves the Principal of a
// request from the __Host-portcullis cookie's token, and nothing else.
// Headers such as X-Customer-ID, X-Tenant-ID or X-User-ID, and any tenant id
// in a body or query, play no part: the tenant comes from the session row
// alone. These services return outcomes; app/http/auth_phase.h reads the
// request and turns a refusal into its HTTP answer.
#pragma once

#include <optional>
#include <string>

#include "app/auth/account.h"
#include "app/auth/principal.h"
#include "app/auth/sessions.h"
#include "app/config/config.h"
#include "app/db/connection.h"

namespace portcullis {

struct Authenticated {
  Principal principal;
  Session session;
  Account account;  // the caller's user and tenant; password_hash left empty
};

// Why a cookie token named no live session.
enum class SessionRefusal {
  kExpired,  // malformed, unknown, past its lifetime, idle, logged out, rotated away
  kRevoked,  // ended by someone or something else (a tombstone, app/auth/sessions.h)
};

struct [[nodiscard]] TokenOutcome {
  std::optional<Authenticated> authenticated;  // set when the session is live
  SessionRefusal refusal = SessionRefusal::kExpired;
};

// The live session a cookie token names, with its user and tenant; else why
// not: kRevoked when a tombstone of the token is younger than
// kRevokedSessionRetentionMs (looked up only after the live lookup missed, so
// a live session still costs one statement), or when the session's user is
// disabled (the session is revoked here, reason "suspended"); kExpired for
// the rest (dead rows are deleted). An MFA-pending session of a disabled user
// stays: it reaches only MFA verify and logout, and MFA verify refuses it
// with the suspension once the second factor is right (issue 12).
// Writes last_seen_at at most once per config.session_touch_seconds; turns a
// full session of a user without MFA in a tenant that requires it into an
// enrolment-only one.
TokenOutcome authenticate_token(Db& db, const std::string& token, const Config& config);

// The Origin check (DESIGN §3 step 5, API-8), for every unsafe request, with
// or without a session (a cross-site page must not log a victim into its
// account): Sec-Fetch-Site, when sent, must not be cross-site; an Origin,
// when sent, must be one of config.allowed_origins. Empty = not sent.
[[nodiscard]] bool origin_allowed(const std::string& sec_fetch_site,
                                  const std::string& origin,
                                  const Config& config);

// The CSRF token check of a cookie-authenticated unsafe request: the
// X-CSRF-Token sent (empty = none) equals the session's (constant-time).
[[nodiscard]] bool csrf_token_matches(const std::string& presented, const Session& session);

}  // namespace portcullis
