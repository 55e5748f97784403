#include "app/store/maintenance.h"

#include <optional>

#include "app/db/time.h"
#include "app/log/logger.h"
#include "app/store/devices.h"

namespace portcullis::store::maintenance {
namespace {

// SQLite stores times as RFC 3339 text, compared as text against now ($1).
constexpr Statement kPurgeSessions{
    "sessions.purge_expired",
    "DELETE FROM sessions WHERE expires_at < now() OR revoked_at IS NOT NULL",
    "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at IS NOT NULL"};
// Tombstones of revoked sessions (0013; not under row-level security).
constexpr Statement kPurgeRevokedSessions{
    "revoked_sessions.purge_old",
    "DELETE FROM revoked_sessions WHERE revoked_at < CAST($1 AS timestamptz)",
    "DELETE FROM revoked_sessions WHERE revoked_at < $1"};
constexpr Statement kPurgeThrottle{
    "auth_throttle.purge_old",
    "DELETE FROM auth_throttle WHERE window_start < now() - interval '1 day' AND "
    "(locked_until IS NULL OR locked_until < now())",
    "DELETE FROM auth_throttle WHERE window_start < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', "
    "'-1 day') AND (locked_until IS NULL OR locked_until < $1)"};

// Every tenant's rows, from a command with no tenant bound: on PostgreSQL
// through the owner's functions (migration 0011; user_tokens is under
// row-level security and the app role may not delete outbox rows), which
// return the count.
constexpr Statement kPurgeUserTokens{
    "user_tokens.purge_spent", "SELECT portcullis_purge_user_tokens($1)",
    "DELETE FROM user_tokens WHERE used_at < $1 OR expires_at < $1"};
constexpr Statement kPurgeOutbox{
    "outbox.purge_delivered", "SELECT portcullis_purge_outbox($1)",
    "DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND created_at < $1"};

int64_t purged(Tx& tx, const Statement& statement, int64_t before_ms) {
  Rows rows = tx.run(statement, {format_time_ms(before_ms)});
  if (tx.db().backend() == Backend::kPostgresql) {
    std::optional<Row> row = rows.first();
    return row ? row->integer(0) : 0;
  }
  return rows.affected;
}

std::vector<Param> now_param(Tx& tx) {
  if (tx.db().backend() == Backend::kPostgresql) {
    return {};
  }
  return {now_rfc3339()};
}

}  // namespace

int64_t purge_sessions(Tx& tx) { return tx.run(kPurgeSessions, now_param(tx)).affected; }

int64_t purge_throttle(Tx& tx) { return tx.run(kPurgeThrottle, now_param(tx)).affected; }

int64_t purge_known_devices(Tx& tx) {
  return devices::purge_unused_since(tx, now_ms() - devices::kKnownDeviceLifetimeMs);
}

int64_t purge_user_tokens(Tx& tx, int64_t before_ms) {
  return purged(tx, kPurgeUserTokens, before_ms);
}

int64_t purge_outbox(Tx& tx, int64_t before_ms) { return purged(tx, kPurgeOutbox, before_ms); }

int64_t purge_revoked_sessions(Tx& tx, int64_t before_ms) {
  return tx.run(kPurgeRevokedSessions, {format_time_ms(before_ms)}).affected;
}

}  // namespace portcullis::store::maintenance
