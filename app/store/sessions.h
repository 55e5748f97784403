// The sessions store: every statement on sessions. A session row is the
// server side of a cookie (DESIGN §6, §7); app/auth/sessions.h decides what
// a session may do, this file only reads and writes rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace portcullis {

struct Session {
  std::string id;
  std::string user_id;
  std::string tenant_id;
  std::string auth_state;  // full | mfa_pending | enrollment_required
  std::string csrf_token;
  bool remember_me = false;
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> reauthenticated_at;
  std::optional<int64_t> mfa_verified_at;
  std::string ip;
  std::string user_agent;
};

}  // namespace portcullis
