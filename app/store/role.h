// A user's role in their tenant (DESIGN §6: users.role owner|admin|member).
// One enum everywhere in the code; strings only at the edges: the database
// column (app/store/role_column.h), request bodies and JSON answers.
#pragma once

#include <optional>
#include <string>

namespace portcullis {

// Ordered: a higher role may do all that a lower one may.
enum class Role { kMember = 0, kAdmin = 1, kOwner = 2 };

// "member", "admin" or "owner": the column value and the JSON "role".
const char* to_string(Role role);
// The inverse; nullopt for any other text (a body's "role" field, a flag).
[[nodiscard]] std::optional<Role> role_from_string(const std::string& name);
// A role read back from users.role or invitations.role. The columns' CHECK
// constraint admits only the three names; anything else is a fault
// (std::runtime_error, a generic 500), never a guessed role.
Role role_from_column(const std::string& text);
// True if `role` ranks at least as high as `required`.
[[nodiscard]] inline bool role_at_least(Role role, Role required) {
  return static_cast<int>(role) >= static_cast<int>(required);
}

}  // namespace portcullis
