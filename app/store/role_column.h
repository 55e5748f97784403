// Role as a database value: SOCI reads and binds a Role through its text
// (users.role, invitations.role), so queries use into(role) / use(role) and no
// role string travels further than the statement. The columns' CHECK
// constraint admits only the three names; anything else read back is a fault
// (std::runtime_error, a generic 500), never a guessed role.
#pragma once

#include <stdexcept>
#include <string>

#include <soci/soci.h>

#include "app/store/role.h"

namespace soci {

template <>
struct type_conversion<portcullis::Role> {
  using base_type = std::string;

  static void from_base(const std::string& text, indicator ind, portcullis::Role& role) {
    std::optional<portcullis::Role> parsed =
        ind == i_ok ? portcullis::role_from_string(text) : std::nullopt;
    if (!parsed) {
      throw std::runtime_error("a role column holds no known role");
    }
    role = *parsed;
  }

  static void to_base(const portcullis::Role& role, std::string& text, indicator& ind) {
    text = portcullis::to_string(role);
    ind = i_ok;
  }
};

}  // namespace soci
