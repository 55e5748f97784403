#include "app/store/sessions.h"

#include "app/db/time.h"

namespace portcullis::store::sessions {
namespace {

// Sessions are not under row-level security (the table is read before the
// tenant is known); every statement here names its row by id, token hash or
// user, as before the store.

#define PC_SESSION_COLUMNS                                                                       \
  "id, user_id, tenant_id, auth_state, csrf_token, CAST(remember_me AS INTEGER), created_at, "   \
  "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent, browser, os, " \
  "CAST(new_device AS INTEGER)"

constexpr Statement kFindByTokenHash{"sessions.find_by_token_hash",
                                     "SELECT " PC_SESSION_COLUMNS
                                     " FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL"};
// A sentinel above every UUID for page 1 keeps one statement for every page.
constexpr Statement kPageForUser{
    "sessions.page_for_user",
    "SELECT " PC_SESSION_COLUMNS
    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND "
    "auth_state = 'full' AND id < $3 ORDER BY id DESC LIMIT $4"};
constexpr Statement kLivePendingIds{
    "sessions.live_pending_ids",
    "SELECT id FROM sessions WHERE user_id = $1 AND auth_state = 'mfa_pending' AND id <> $2 AND "
    "expires_at > $3 ORDER BY id DESC LIMIT $4"};
constexpr Statement kLiveOtherIds{
    "sessions.live_other_ids",
    "SELECT id FROM sessions WHERE user_id = $1 AND auth_state <> 'mfa_pending' AND id <> $2 AND "
    "expires_at > $3 ORDER BY id DESC LIMIT $4"};
constexpr TenantStatement kInsert{
    "sessions.insert",
    "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
    "remember_me, created_at, last_seen_at, expires_at, reauthenticated_at, ip, user_agent, "
    "browser, os, new_device) "
    "VALUES ($2, $3, $4, $1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"};
constexpr Statement kRotate{
    "sessions.rotate",
    "UPDATE sessions SET token_hash = $2, csrf_token = $3, auth_state = $4 WHERE id = $1"};
constexpr Statement kCompleteMfa{
    "sessions.complete_mfa",
    "UPDATE sessions SET token_hash = $2, csrf_token = $3, auth_state = $4, expires_at = $5, "
    "mfa_verified_at = $6, reauthenticated_at = $7, last_seen_at = $8, browser = $9, os = $10, "
    "new_device = $11 WHERE id = $1"};
constexpr Statement kSetReauthenticated{
    "sessions.set_reauthenticated", "UPDATE sessions SET reauthenticated_at = $2 WHERE id = $1"};
constexpr Statement kTouch{"sessions.touch", "UPDATE sessions SET last_seen_at = $2 WHERE id = $1"};
constexpr Statement kRequireEnrolment{
    "sessions.require_enrolment",
    "UPDATE sessions SET auth_state = 'enrollment_required' WHERE id = $1 AND "
    "auth_state = 'full'"};
constexpr Statement kDelete{"sessions.delete", "DELETE FROM sessions WHERE id = $1"};
constexpr Statement kDeleteForUser{"sessions.delete_for_user",
                                   "DELETE FROM sessions WHERE id = $1 AND user_id = $2"};
constexpr Statement kDeleteAllForUser{"sessions.delete_all_for_user",
                                      "DELETE FROM sessions WHERE user_id = $1"};
constexpr Statement kDeleteAllForUserBut{"sessions.delete_all_for_user_but",
                                         "DELETE FROM sessions WHERE user_id = $1 AND id <> $2"};

// Tombstones (revoked_sessions, migration 0013): the token hash a session
// had when someone or something other than its own logout or expiry ended
// it, with why. Written just before the session rows are deleted, in the same
// transaction; the time is a parameter (CAST on PostgreSQL: an INSERT …
// SELECT does not infer it from the column).
#define PC_TOMBSTONE_PG                                                                            \
  "INSERT INTO revoked_sessions (token_hash, session_id, user_id, tenant_id, reason, revoked_at) " \
  "SELECT token_hash, id, user_id, tenant_id, CAST($2 AS text), CAST($3 AS timestamptz) "          \
  "FROM sessions "
#define PC_TOMBSTONE_SQLITE                                                                        \
  "INSERT INTO revoked_sessions (token_hash, session_id, user_id, tenant_id, reason, revoked_at) " \
  "SELECT token_hash, id, user_id, tenant_id, $2, $3 FROM sessions "
constexpr Statement kTombstone{"sessions.tombstone",
                               PC_TOMBSTONE_PG "WHERE id = $1 ON CONFLICT DO NOTHING",
                               PC_TOMBSTONE_SQLITE "WHERE id = $1 ON CONFLICT DO NOTHING"};
constexpr Statement kTombstoneForUser{
    "sessions.tombstone_for_user",
    PC_TOMBSTONE_PG "WHERE id = $1 AND user_id = $4 ON CONFLICT DO NOTHING",
    PC_TOMBSTONE_SQLITE "WHERE id = $1 AND user_id = $4 ON CONFLICT DO NOTHING"};
constexpr Statement kTombstoneAllForUserBut{
    "sessions.tombstone_all_for_user_but",
    PC_TOMBSTONE_PG "WHERE user_id = $1 AND id <> $4 ON CONFLICT DO NOTHING",
    PC_TOMBSTONE_SQLITE "WHERE user_id = $1 AND id <> $4 ON CONFLICT DO NOTHING"};
// Only tombstones younger than the cut-off answer (maintenance deletes the
// rest later).
constexpr Statement kFindRevoked{
    "sessions.find_revoked",
    "SELECT reason FROM revoked_sessions WHERE token_hash = $1 AND "
    "revoked_at > CAST($2 AS timestamptz)",
    "SELECT reason FROM revoked_sessions WHERE token_hash = $1 AND revoked_at > $2"};

#undef PC_TOMBSTONE_PG
#undef PC_TOMBSTONE_SQLITE
#undef PC_SESSION_COLUMNS

constexpr const char* kNilUuid = "00000000-0000-0000-0000-000000000000";
constexpr const char* kAboveEveryUuid = "ffffffff-ffff-ffff-ffff-ffffffffffff";

Session from_row(const Row& row) {
  Session s;
  s.id = row.text(0);
  s.user_id = row.text(1);
  s.tenant_id = row.text(2);
  s.auth_state = row.text(3);
  s.csrf_token = row.text(4);
  s.remember_me = row.boolean(5);
  s.created_at = parse_time_ms(row.text(6)).value_or(0);
  s.last_seen_at = parse_time_ms(row.text(7)).value_or(0);
  s.expires_at = parse_time_ms(row.text(8)).value_or(0);
  if (!row.is_null(9)) {
    s.reauthenticated_at = parse_time_ms(row.text(9));
  }
  if (!row.is_null(10)) {
    s.mfa_verified_at = parse_time_ms(row.text(10));
  }
  s.ip = row.text(11);  // "" when NULL
  s.user_agent = row.text(12);
  s.browser = row.text(13);  // "" when NULL
  s.os = row.text(14);
  s.new_device = row.boolean(15);
  return s;
}

std::optional<std::string> optional_time(const std::optional<int64_t>& ms) {
  return ms ? std::optional<std::string>(format_time_ms(*ms)) : std::nullopt;
}

}  // namespace

std::optional<Session> find_by_token_hash(Tx& tx, const std::string& token_hash) {
  std::optional<Row> row = tx.run(kFindByTokenHash, {token_hash}).first();
  if (!row) {
    return std::nullopt;
  }
  return from_row(*row);
}

std::vector<Session> page_for_user(
    Db& db, const std::string& user_id, int64_t now, const std::string& before_id, int limit) {
  Rows rows = db.run(kPageForUser, {user_id, format_time_ms(now),
                                    before_id.empty() ? kAboveEveryUuid : before_id, limit});
  std::vector<Session> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

std::vector<std::string> live_ids(Tx& tx,
                                  const std::string& user_id,
                                  Kind kind,
                                  const std::string& spare_id,
                                  int64_t now,
                                  int limit) {
  // A nil UUID when nothing is spared keeps one statement shape.
  Rows rows = tx.run(kind == Kind::kPending ? kLivePendingIds : kLiveOtherIds,
                     {user_id, spare_id.empty() ? kNilUuid : spare_id, format_time_ms(now), limit});
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const Row& row : rows) {
    ids.push_back(row.text(0));
  }
  return ids;
}

void insert(TenantTx& tx, const Session& s, const std::string& token_hash) {
  tx.run(kInsert, {s.id, token_hash, s.user_id, s.auth_state, s.csrf_token, s.remember_me,
                   format_time_ms(s.created_at), format_time_ms(s.last_seen_at),
                   format_time_ms(s.expires_at), optional_time(s.reauthenticated_at), s.ip,
                   s.user_agent, s.browser, s.os, s.new_device});
}

void rotate(Tx& tx, const Session& s, const std::string& token_hash) {
  tx.run(kRotate, {s.id, token_hash, s.csrf_token, s.auth_state});
}

void complete_mfa(Tx& tx, const Session& s, const std::string& token_hash) {
  tx.run(kCompleteMfa, {s.id, token_hash, s.csrf_token, s.auth_state, format_time_ms(s.expires_at),
                        optional_time(s.mfa_verified_at), optional_time(s.reauthenticated_at),
                        format_time_ms(s.last_seen_at), s.browser, s.os, s.new_device});
}

void set_reauthenticated(Tx& tx, const std::string& id, int64_t at) {
  tx.run(kSetReauthenticated, {id, format_time_ms(at)});
}

bool remove(Tx& tx, const std::string& id) { return tx.run(kDelete, {id}).affected > 0; }

bool revoke(Tx& tx, const std::string& id, const std::string& reason, int64_t now) {
  tx.run(kTombstone, {id, reason, format_time_ms(now)});
  return tx.run(kDelete, {id}).affected > 0;
}

bool revoke_for_user(Tx& tx,
                     const std::string& user_id,
                     const std::string& id,
                     const std::string& reason,
                     int64_t now) {
  tx.run(kTombstoneForUser, {id, reason, format_time_ms(now), user_id});
  return tx.run(kDeleteForUser, {id, user_id}).affected > 0;
}

int64_t revoke_all_for_user(Tx& tx,
                            const std::string& user_id,
                            const std::string& keep_id,
                            const std::string& reason,
                            int64_t now) {
  // A nil UUID when nothing is kept keeps one statement shape.
  tx.run(kTombstoneAllForUserBut,
         {user_id, reason, format_time_ms(now), keep_id.empty() ? kNilUuid : keep_id});
  return remove_all_for_user(tx, user_id, keep_id);
}

std::optional<std::string> revoked_reason(Db& db, const std::string& token_hash, int64_t since) {
  std::optional<Row> row = db.run(kFindRevoked, {token_hash, format_time_ms(since)}).first();
  if (!row) {
    return std::nullopt;
  }
  return row->text(0);
}

bool remove_for_user(Tx& tx, const std::string& user_id, const std::string& id) {
  return tx.run(kDeleteForUser, {id, user_id}).affected > 0;
}

int64_t remove_all_for_user(Tx& tx, const std::string& user_id, const std::string& keep_id) {
  if (keep_id.empty()) {
    return tx.run(kDeleteAllForUser, {user_id}).affected;
  }
  return tx.run(kDeleteAllForUserBut, {user_id, keep_id}).affected;
}

void touch(Db& db, const std::string& id, int64_t now) {
  db.run(kTouch, {id, format_time_ms(now)});
}

void require_enrolment(Db& db, const std::string& id) { db.run(kRequireEnrolment, {id}); }

bool remove(Db& db, const std::string& id) { return db.run(kDelete, {id}).affected > 0; }

bool revoke(Db& db, const std::string& id, const std::string& reason, int64_t now) {
  // The tombstone first: a failure between the two leaves a live session
  // with a tombstone, never a dead one without.
  db.run(kTombstone, {id, reason, format_time_ms(now)});
  return db.run(kDelete, {id}).affected > 0;
}

}  // namespace portcullis::store::sessions
