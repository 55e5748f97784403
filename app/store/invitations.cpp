#include "app/store/invitations.h"

namespace portcullis::store::invitations {
namespace {

constexpr TenantStatement kInsert{
    "invitations.insert",
    "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, "
    "expires_at) VALUES ($2, $1, $3, $4, $5, $6, $7, $8)"};
constexpr TenantStatement kPage{
    "invitations.page",
    "SELECT id, email, role, created_at, expires_at FROM invitations WHERE tenant_id = $1 AND "
    "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 AND id < $3 "
    "ORDER BY id DESC LIMIT $4"};
constexpr TenantStatement kOpenRole{
    "invitations.open_role",
    "SELECT role FROM invitations WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL AND "
    "revoked_at IS NULL"};
// The role is part of the condition, so the row revoked is the one checked.
constexpr TenantStatement kRevoke{
    "invitations.revoke",
    "UPDATE invitations SET revoked_at = $4 WHERE tenant_id = $1 AND id = $2 AND role = $3 AND "
    "accepted_at IS NULL AND revoked_at IS NULL"};
// PostgreSQL: the tenant is not bound yet, and row-level security would hide
// every invitation; the owner's SECURITY DEFINER function finds it.
constexpr Statement kFindByTokenHash{
    "invitations.find_by_token_hash",
    "SELECT id, tenant_id, email, role, expires_at, CAST((accepted_at IS NOT NULL OR revoked_at IS "
    "NOT NULL) AS INTEGER), tenant_name FROM portcullis_invitation_lookup(CAST($1 AS text))",
    "SELECT i.id, i.tenant_id, i.email, i.role, i.expires_at, CASE WHEN i.accepted_at IS NOT NULL "
    "OR i.revoked_at IS NOT NULL THEN 1 ELSE 0 END, t.name FROM invitations i JOIN tenants t ON "
    "t.id = i.tenant_id WHERE i.token_hash = $1 OR i.mail_token_hash = $1"};
// The mailed token, while the invitation may still be used. A retried
// delivery mints again: only the newest mailed token works.
constexpr TenantStatement kSetMailToken{
    "invitations.set_mail_token",
    "UPDATE invitations SET mail_token_hash = $3 WHERE tenant_id = $1 AND id = $2 AND "
    "accepted_at IS NULL AND revoked_at IS NULL AND "
    "expires_at > CAST($4 AS timestamptz)",
    "UPDATE invitations SET mail_token_hash = $3 WHERE tenant_id = $1 AND id = $2 AND "
    "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4"};
constexpr TenantStatement kFind{
    "invitations.find",
    "SELECT id, email, role, created_at, expires_at FROM invitations WHERE tenant_id = $1 AND "
    "id = $2"};
// One use only: the row is claimed atomically.
constexpr TenantStatement kAccept{
    "invitations.accept",
    "UPDATE invitations SET accepted_at = $3 WHERE id = $2 AND tenant_id = $1 AND "
    "accepted_at IS NULL AND revoked_at IS NULL"};

}  // namespace

void insert(TenantTx& tx,
            const Invitation& inv,
            const std::string& token_hash,
            const std::string& invited_by) {
  tx.run(kInsert, {inv.id, inv.email, to_string(inv.role), token_hash, invited_by, inv.created_at,
                   inv.expires_at});
}

std::vector<Invitation> page(TenantTx& tx,
                             const std::string& now,
                             const std::string& before_id,
                             int limit) {
  Rows rows = tx.run(kPage, {now, before_id, limit});
  std::vector<Invitation> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    Invitation inv;
    inv.id = row.text(0);
    inv.email = row.text(1);
    inv.role = role_from_column(row.text(2));
    inv.created_at = row.text(3);
    inv.expires_at = row.text(4);
    out.push_back(std::move(inv));
  }
  return out;
}

std::optional<Role> open_role(TenantTx& tx, const std::string& id) {
  std::optional<Row> row = tx.run(kOpenRole, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  return role_from_column(row->text(0));
}

bool revoke(TenantTx& tx, const std::string& id, Role role, const std::string& now) {
  return tx.run(kRevoke, {id, to_string(role), now}).affected > 0;
}

std::optional<TokenInvitation> find_by_token_hash(Db& db, const std::string& token_hash) {
  std::optional<Row> row = db.run(kFindByTokenHash, {token_hash}).first();
  if (!row) {
    return std::nullopt;
  }
  TokenInvitation inv;
  inv.id = row->text(0);
  inv.tenant_id = row->text(1);
  inv.email = row->text(2);
  inv.role = role_from_column(row->text(3));
  inv.expires_at = row->text(4);
  inv.closed = row->boolean(5);
  inv.tenant_name = row->text(6);
  return inv;
}

std::optional<Invitation> set_mail_token(TenantTx& tx,
                                         const std::string& id,
                                         const std::string& mail_token_hash,
                                         const std::string& now) {
  if (tx.run(kSetMailToken, {id, mail_token_hash, now}).affected != 1) {
    return std::nullopt;
  }
  std::optional<Row> row = tx.run(kFind, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  Invitation inv;
  inv.id = row->text(0);
  inv.email = row->text(1);
  inv.role = role_from_column(row->text(2));
  inv.created_at = row->text(3);
  inv.expires_at = row->text(4);
  return inv;
}

bool accept(TenantTx& tx, const std::string& id, const std::string& now) {
  return tx.run(kAccept, {id, now}).affected == 1;
}

}  // namespace portcullis::store::invitations
