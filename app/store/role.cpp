#include "app/store/role.h"

#include <stdexcept>

namespace portcullis {

const char* to_string(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kAdmin:
      return "admin";
    case Role::kMember:
      return "member";
  }
  return "member";
}

std::optional<Role> role_from_string(const std::string& name) {
  if (name == "owner") {
    return Role::kOwner;
  }
  if (name == "admin") {
    return Role::kAdmin;
  }
  if (name == "member") {
    return Role::kMember;
  }
  return std::nullopt;
}

Role role_from_column(const std::string& text) {
  std::optional<Role> role = role_from_string(text);
  if (!role) {
    throw std::runtime_error("a role column holds no known role");
  }
  return *role;
}

}  // namespace portcullis
