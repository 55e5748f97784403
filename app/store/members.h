// The members store: the users of the caller's tenant as its members list
// shows them and as an admin changes them (role, suspension, removal). Each
// function takes the request's TenantTx, whose tenant is $1 of every
// statement, so no member of another tenant can be read or changed here.
// Who may do what to whom (ranks, the last owner) is handlers/members.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/db/tenant_tx.h"
#include "app/store/role.h"

namespace portcullis::store::members {

struct Member {
  std::string id;
  std::string email;
  std::string display_name;
  Role role = Role::kMember;
  bool mfa_enabled = false;
  bool disabled = false;
  std::string created_at;  // as stored; parse_time_ms() reads both backends' forms
  std::optional<std::string> last_login_at;
};

// Up to `limit` members with ids below `before_id`, newest first (keyset on
// the (tenant_id, id) index).
std::vector<Member> page(TenantTx& tx, const std::string& before_id, int limit);
std::optional<Member> find(TenantTx& tx, const std::string& id);
// Owners of the tenant who are not suspended.
int64_t active_owners(TenantTx& tx);
// The owners of the tenant who are not suspended, oldest first.
std::vector<Member> active_owner_list(TenantTx& tx);
// `updated_at` as format_time_ms() writes it.
void set_role(TenantTx& tx, const std::string& id, Role role, const std::string& updated_at);
void set_disabled(TenantTx& tx,
                  const std::string& id,
                  bool disabled,
                  const std::string& updated_at);
// Deletes the member; their sessions and other rows go by the schema's
// cascades. Nothing happens when there is no such member in the tenant.
void remove(TenantTx& tx, const std::string& id);

}  // namespace portcullis::store::members
