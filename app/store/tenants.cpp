#include "app/store/tenants.h"

#include "app/db/time.h"

namespace portcullis::store::tenants {
namespace {

constexpr Statement kFind{"tenants.find",
                          "SELECT id, name, CAST(require_mfa AS INTEGER), created_at, "
                          "CAST(require_verified_email AS INTEGER) FROM tenants WHERE id = $1"};
constexpr TenantStatement kInsert{
    "tenants.insert",
    "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)"};
constexpr TenantStatement kSetName{"tenants.set_name",
                                   "UPDATE tenants SET name = $2, updated_at = $3 WHERE id = $1"};
constexpr TenantStatement kSetRequireMfa{
    "tenants.set_require_mfa",
    "UPDATE tenants SET require_mfa = $2, updated_at = $3 WHERE id = $1"};
constexpr TenantStatement kSetRequireVerifiedEmail{
    "tenants.set_require_verified_email",
    "UPDATE tenants SET require_verified_email = $2, updated_at = $3 WHERE id = $1"};

}  // namespace

std::optional<Tenant> find(Db& db, const std::string& id) {
  std::optional<Row> row = db.run(kFind, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  Tenant t;
  t.id = row->text(0);
  t.name = row->text(1);
  t.require_mfa = row->boolean(2);
  t.created_at = parse_time_ms(row->text(3)).value_or(0);
  t.require_verified_email = row->boolean(4);
  return t;
}

void insert(TenantTx& tx, const std::string& name, int64_t now) {
  tx.run(kInsert, {name, format_time_ms(now)});
}

void set_name(TenantTx& tx, const std::string& name, int64_t now) {
  tx.run(kSetName, {name, format_time_ms(now)});
}

void set_require_mfa(TenantTx& tx, bool require_mfa, int64_t now) {
  tx.run(kSetRequireMfa, {require_mfa, format_time_ms(now)});
}

void set_require_verified_email(TenantTx& tx, bool require, int64_t now) {
  tx.run(kSetRequireVerifiedEmail, {require, format_time_ms(now)});
}

}  // namespace portcullis::store::tenants
