#include "app/store/members.h"

namespace portcullis::store::members {
namespace {

#define PC_MEMBER_COLUMNS \
  "id, email, display_name, role, mfa_enabled, disabled, created_at, last_login_at"

constexpr TenantStatement kPage{"users.page_members", "SELECT " PC_MEMBER_COLUMNS
                                                      " FROM users WHERE tenant_id = $1 AND id < $2"
                                                      " ORDER BY id DESC LIMIT $3"};
constexpr TenantStatement kFind{"users.find_member",
                                "SELECT " PC_MEMBER_COLUMNS
                                " FROM users WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kActiveOwners{
    "users.count_active_owners",
    "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled = FALSE"};
constexpr TenantStatement kActiveOwnerList{
    "users.active_owner_list",
    "SELECT " PC_MEMBER_COLUMNS
    " FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled = FALSE ORDER BY id"};
constexpr TenantStatement kSetRole{
    "users.set_role",
    "UPDATE users SET role = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSetDisabled{
    "users.set_disabled",
    "UPDATE users SET disabled = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kDelete{"users.delete_member",
                                  "DELETE FROM users WHERE tenant_id = $1 AND id = $2"};

#undef PC_MEMBER_COLUMNS

Member from_row(const Row& row) {
  Member m;
  m.id = row.text(0);
  m.email = row.text(1);
  m.display_name = row.text(2);
  m.role = role_from_column(row.text(3));
  m.mfa_enabled = row.boolean(4);
  m.disabled = row.boolean(5);
  m.created_at = row.text(6);
  m.last_login_at = row.optional_text(7);
  return m;
}

}  // namespace

std::vector<Member> page(TenantTx& tx, const std::string& before_id, int limit) {
  Rows rows = tx.run(kPage, {before_id, limit});
  std::vector<Member> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

std::optional<Member> find(TenantTx& tx, const std::string& id) {
  std::optional<Row> row = tx.run(kFind, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  return from_row(*row);
}

int64_t active_owners(TenantTx& tx) {
  std::optional<Row> row = tx.run(kActiveOwners).first();
  return row ? row->integer(0) : 0;
}

std::vector<Member> active_owner_list(TenantTx& tx) {
  Rows rows = tx.run(kActiveOwnerList);
  std::vector<Member> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

void set_role(TenantTx& tx, const std::string& id, Role role, const std::string& updated_at) {
  tx.run(kSetRole, {id, to_string(role), updated_at});
}

void set_disabled(TenantTx& tx,
                  const std::string& id,
                  bool disabled,
                  const std::string& updated_at) {
  tx.run(kSetDisabled, {id, disabled, updated_at});
}

void remove(TenantTx& tx, const std::string& id) { tx.run(kDelete, {id}); }

}  // namespace portcullis::store::members
