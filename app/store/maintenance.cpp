#include "app/store/maintenance.h"

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
constexpr Statement kPurgeThrottle{
    "auth_throttle.purge_old",
    "DELETE FROM auth_throttle WHERE window_start < now() - interval '1 day' AND "
    "(locked_until IS NULL OR locked_until < now())",
    "DELETE FROM auth_throttle WHERE window_start < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', "
    "'-1 day') AND (locked_until IS NULL OR locked_until < $1)"};

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

}  // namespace portcullis::store::maintenance
