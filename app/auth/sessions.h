// Server-side sessions (DESIGN §6, §7). The cookie carries a 32-byte random
// token; only its SHA-256 is stored, so a database leak yields no usable
// cookie. A session is renewed (new token, new CSRF token) on login, MFA
// completion, refresh and privilege change; rotation keeps created_at and
// expires_at, so the absolute lifetime never grows.
//
// Rows are read and written through app/store/sessions.h; this file decides
// what a session is (lifetimes, caps, rotation). Each function takes the
// transaction it belongs in: a TenantTx where it locks the user's row
// (users is under row-level security on PostgreSQL, so the lock must run
// with the tenant bound), a Tx for the rest, a Db for autocommit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/config/config.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/db/tx.h"
#include "app/store/sessions.h"

namespace portcullis {

inline constexpr const char* kSessionCookie = "__Host-portcullis";
// MFA-pending sessions a user may hold at once; a new one replaces the oldest.
inline constexpr int kMaxPendingSessionsPerUser = 3;

struct IssuedSession {
  std::string token;  // goes into the cookie only; never stored, logged or returned in a body
  Session session;
};

struct SessionRequestInfo {
  std::string ip;
  std::string user_agent;
};

// Creates a session. mfa_pending sessions live config.session_mfa_pending_seconds
// and keep the remember-me choice for MFA completion; at most
// kMaxPendingSessionsPerUser of them (the oldest replaced), and they neither
// count toward nor evict from the cap of config.max_sessions_per_user other
// sessions (a password alone must not log the user out elsewhere). Other
// states evict the user's oldest non-pending sessions beyond that cap. The
// session is the TenantTx's tenant's; the user's row is locked first
// (serialise_writers) so the caps count every session committed before.
// The session records the browser and OS families of info.user_agent; a
// session that is a completed sign-in (not mfa_pending) also records its
// device and whether it is new (record_device_sign_in, app/auth/device.h,
// under keys.device_key()), in `tx`.
IssuedSession create_session(TenantTx& tx,
                             const Config& config,
                             const WorkerKeys& keys,
                             const std::string& user_id,
                             const std::string& auth_state,
                             bool remember_me,
                             const SessionRequestInfo& info);

// The session whose token hashes to SHA-256(token), if any (no validity check).
std::optional<Session> find_session_by_token(Tx& tx, const std::string& token);

// New token and CSRF token for the same session row; created_at and
// expires_at stay. `new_state` changes auth_state (MFA completion).
IssuedSession rotate_session(Tx& tx, const Session& session, const std::string& new_state = "");
inline IssuedSession rotate_session(TenantTx& tx,
                                    const Session& session,
                                    const std::string& new_state = "") {
  return rotate_session(tx.tx(), session, new_state);
}

// MFA completion (DESIGN §7): the pending session becomes a full one with a
// new token and CSRF token; expires_at = its created_at (the password step) +
// the absolute lifetime, or + the remember-me lifetime when chosen at the
// password step; mfa_verified_at, reauthenticated_at and last_seen_at = now.
// The session now counts toward the cap: the user's oldest other full
// sessions beyond it are evicted (the user's row locked first, as above).
// The sign-in is complete: its device (from `info`, the completing request)
// is recorded and judged new or not, as in create_session.
IssuedSession complete_mfa_session(TenantTx& tx,
                                   const Config& config,
                                   const WorkerKeys& keys,
                                   const Session& pending,
                                   const SessionRequestInfo& info,
                                   int64_t now);

// Autocommit: the authentication phase runs outside any transaction.
void touch_session(Db& db, const std::string& session_id, int64_t now);
void mark_reauthenticated(Tx& tx, const std::string& session_id, int64_t now);
// Revocation (issue 12): a session ended by someone or something other than
// its own logout or expiry leaves a tombstone for kRevokedSessionRetentionMs
// (its token hash and the reason, app/store/sessions.h), so its cookie is
// answered 401 session_revoked, not session_expired, until maintenance
// purges it. The reasons (audit and log words, never shown as such):
inline constexpr const char* kRevokedByUser =
    "revoked_by_user";  // DELETE sessions/{id}, revoke-all
inline constexpr const char* kRevokedByAdmin = "revoked_by_admin";  // members/{id}/revoke-sessions
inline constexpr const char* kRevokedPasswordChanged = "password_changed";
inline constexpr const char* kRevokedPasswordReset = "password_reset";
inline constexpr const char* kRevokedMfaReset = "mfa_reset";
inline constexpr const char* kRevokedSuspended = "suspended";
inline constexpr const char* kRevokedRemoved = "removed";
inline constexpr const char* kRevokedSessionLimit = "session_limit";  // evicted by the caps
inline constexpr const char* kRevokedOther = "revoked";
inline constexpr int64_t kRevokedSessionRetentionMs = 7LL * 24 * 3600 * 1000;

// Revokes one session of `user_id`; false when it does not exist or is another user's.
[[nodiscard]] bool delete_user_session(Tx& tx,
                                       const std::string& user_id,
                                       const std::string& id,
                                       const char* reason = kRevokedByUser);
// Revokes all of a user's sessions but `keep_id` (may be empty). Returns how many.
long delete_user_sessions(Tx& tx,
                          const std::string& user_id,
                          const std::string& keep_id,
                          const char* reason = kRevokedOther);
inline long delete_user_sessions(TenantTx& tx,
                                 const std::string& user_id,
                                 const std::string& keep_id,
                                 const char* reason = kRevokedOther) {
  return delete_user_sessions(tx.tx(), user_id, keep_id, reason);
}

// The tombstone's reason when `token` names a session revoked within
// kRevokedSessionRetentionMs before `now`; nullopt otherwise. Autocommit
// (the authentication phase, only after the live lookup missed).
std::optional<std::string> revoked_session_reason(Db& db, const std::string& token, int64_t now);

// One page of the user's live sessions, newest first (keyset on id). Autocommit.
std::vector<Session> list_user_sessions(
    Db& db, const std::string& user_id, int64_t now, const std::string& before_id, int limit);

// Set-Cookie values (exact attributes of DESIGN §7). A remember-me cookie
// carries Max-Age = what is left of the session's lifetime; others (an
// MFA-pending one too, whatever it will become) none.
std::string session_cookie(const IssuedSession& issued);
std::string clear_session_cookie();

// 32 random bytes, base64url (session tokens, CSRF tokens).
std::string new_token();

}  // namespace portcullis
