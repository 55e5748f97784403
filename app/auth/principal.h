// Principal: who is calling, resolved from the session cookie only (never
// from a header, body or query). The authentication issue fills it in; on
// Public routes there is none.
#pragma once

#include <string>

#include "app/store/role.h"

namespace portcullis {

struct Principal {
  std::string user_id;
  std::string tenant_id;
  Role role = Role::kMember;
  std::string session_id;  // public session id, never the token
  // The effective state: full | mfa_pending | enrollment_required (as
  // stored) | verification_required (decided per request, never stored).
  std::string auth_state;
};

}  // namespace portcullis
