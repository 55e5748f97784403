#include "app/auth/role.h"

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

}  // namespace portcullis
