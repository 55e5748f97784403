#include "app/store/devices.h"

#include "app/db/time.h"

namespace portcullis::store::devices {
namespace {

// known_devices is under row-level security on PostgreSQL; every statement
// also names the tenant ($1) itself. sessions is not, and is read here by
// tenant and user.
constexpr TenantStatement kHistory{
    "known_devices.history",
    "SELECT CAST(EXISTS (SELECT 1 FROM known_devices WHERE tenant_id = $1 AND user_id = $2 AND "
    "device_hash = $3 AND last_seen_at >= $4) AS INTEGER), "
    "CAST(EXISTS (SELECT 1 FROM known_devices WHERE tenant_id = $1 AND user_id = $2) OR "
    "EXISTS (SELECT 1 FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $5 AND "
    "auth_state <> 'mfa_pending') AS INTEGER)"};
constexpr TenantStatement kRemember{
    "known_devices.remember",
    "INSERT INTO known_devices (tenant_id, user_id, device_hash, first_seen_at, last_seen_at) "
    "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant_id, user_id, device_hash) DO UPDATE SET "
    "last_seen_at = excluded.last_seen_at"};
constexpr Statement kPurge{"known_devices.purge_unused",
                           "SELECT portcullis_purge_known_devices($1)",
                           "DELETE FROM known_devices WHERE last_seen_at < $1"};

}  // namespace

DeviceHistory history(TenantTx& tx,
                      const std::string& user_id,
                      const std::string& device_hash,
                      const std::string& session_id,
                      int64_t since) {
  std::optional<Row> row =
      tx.run(kHistory, {user_id, device_hash, format_time_ms(since), session_id}).first();
  DeviceHistory out;
  if (row) {
    out.known = row->boolean(0);
    out.has_history = row->boolean(1);
  }
  return out;
}

void remember(TenantTx& tx,
              const std::string& user_id,
              const std::string& device_hash,
              int64_t now) {
  tx.run(kRemember, {user_id, device_hash, format_time_ms(now)});
}

int64_t purge_unused_since(Tx& tx, int64_t before) {
  Rows rows = tx.run(kPurge, {format_time_ms(before)});
  if (tx.db().backend() == Backend::kPostgresql) {
    std::optional<Row> row = rows.first();
    return row ? row->integer(0) : 0;
  }
  return rows.affected;
}

}  // namespace portcullis::store::devices
