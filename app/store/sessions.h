// The sessions store: every statement on sessions. A session row is the
// server side of a cookie (DESIGN §6, §7); app/auth/sessions.h decides what
// a session may do, this file only reads and writes rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/db/tx.h"

namespace portcullis {

struct Session {
  std::string id;
  std::string user_id;
  std::string tenant_id;
  std::string auth_state;  // full | mfa_pending | enrollment_required
  std::string csrf_token;
  bool remember_me = false;
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> reauthenticated_at;
  std::optional<int64_t> mfa_verified_at;
  std::string ip;
  std::string user_agent;
  // The sign-in's device (app/auth/device.h): browser and OS families ("" on
  // rows from before they were recorded), and whether it was a new device.
  std::string browser;
  std::string os;
  bool new_device = false;
};

namespace store::sessions {

// Which of a user's sessions a cap counts: the MFA-pending ones, or all others.
enum class Kind { kPending, kOthers };

// ---- reads ------------------------------------------------------------------

// The unrevoked session stored under `token_hash` (SHA-256 hex of the cookie
// token), live or not: the caller decides.
std::optional<Session> find_by_token_hash(Tx& tx, const std::string& token_hash);
// Up to `limit` of the user's live full sessions with ids below `before_id`
// ("" = from the newest), newest first (keyset). Autocommit.
std::vector<Session> page_for_user(
    Db& db, const std::string& user_id, int64_t now, const std::string& before_id, int limit);
// Ids of the user's live sessions of `kind`, newest first, at most `limit`;
// `spare_id` ("" = none) is left out.
std::vector<std::string> live_ids(Tx& tx,
                                  const std::string& user_id,
                                  Kind kind,
                                  const std::string& spare_id,
                                  int64_t now,
                                  int limit);

// ---- writes in a transaction -------------------------------------------------

// Inserts `s` stored under `token_hash`, in the transaction's tenant (the
// row's tenant_id is the TenantTx's; s.tenant_id is not read).
void insert(TenantTx& tx, const Session& s, const std::string& token_hash);
// Rotation: s.id gets `token_hash`, s.csrf_token and s.auth_state.
void rotate(Tx& tx, const Session& s, const std::string& token_hash);
// MFA completion: as rotate(), and s.expires_at, s.mfa_verified_at,
// s.reauthenticated_at, s.last_seen_at, s.browser, s.os and s.new_device.
void complete_mfa(Tx& tx, const Session& s, const std::string& token_hash);
void set_reauthenticated(Tx& tx, const std::string& id, int64_t at);
// False when there was no such session.
bool remove(Tx& tx, const std::string& id);
// Deletes session `id` of `user_id`; false when there is none (or it is
// another user's).
[[nodiscard]] bool remove_for_user(Tx& tx, const std::string& user_id, const std::string& id);
// Deletes every session of `user_id` but `keep_id` ("" = none). Returns how many.
int64_t remove_all_for_user(Tx& tx, const std::string& user_id, const std::string& keep_id);

// Revocations: as remove(), remove_for_user() and remove_all_for_user(), and
// each session deleted leaves a tombstone (revoked_sessions: its token hash,
// `reason`, `now`) in the same transaction, so its cookie can be told
// session_revoked rather than session_expired.
bool revoke(Tx& tx, const std::string& id, const std::string& reason, int64_t now);
[[nodiscard]] bool revoke_for_user(Tx& tx,
                                   const std::string& user_id,
                                   const std::string& id,
                                   const std::string& reason,
                                   int64_t now);
int64_t revoke_all_for_user(Tx& tx,
                            const std::string& user_id,
                            const std::string& keep_id,
                            const std::string& reason,
                            int64_t now);

// ---- autocommit (the authentication phase, refusals outside a transaction) ----

void touch(Db& db, const std::string& id, int64_t now);
// A full session becomes enrolment-only (a tenant that requires MFA, a user
// without it); any other state stays.
void require_enrolment(Db& db, const std::string& id);
// Autocommit outside a transaction (joins one open on `db`). False when
// there was no such session.
bool remove(Db& db, const std::string& id);
// Autocommit: revoke() of one session (its user found disabled).
bool revoke(Db& db, const std::string& id, const std::string& reason, int64_t now);
// The reason of the tombstone stored under `token_hash` when it was written
// after `since` (ms); nullopt when there is none.
std::optional<std::string> revoked_reason(Db& db, const std::string& token_hash, int64_t since);

}  // namespace store::sessions
}  // namespace portcullis
