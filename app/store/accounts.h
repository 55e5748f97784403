// The accounts store: users with their tenant, as login, me, members and the
// CLI read them.
#pragma once

#include <string>

#include "app/store/role.h"
#include "app/store/sessions.h"

namespace portcullis {

struct Account {
  std::string user_id;
  std::string email;
  std::string display_name;
  Role role = Role::kMember;
  std::string password_hash;  // never serialised
  bool mfa_enabled = false;
  bool disabled = false;
  std::string tenant_id;
  std::string tenant_name;
  bool tenant_require_mfa = false;
};

struct SessionAccount {
  Session session;
  Account account;  // password_hash left empty
};

}  // namespace portcullis
