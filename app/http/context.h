// Context: everything a handler may touch, so a new dependency shows in one
// place. Handlers return a Response or throw ApiError.
#pragma once

#include <string>

#include "app/auth/principal.h"
#include "app/config/config.h"
#include "app/db/connection.h"
#include "app/http/request.h"
#include "app/log/audit.h"

namespace portcullis {

struct Context {
  Request& request;
  const Principal* principal;  // null only on Access::kPublic routes
  Db& db;
  Audit& audit;
  const Config& config;

  // Value of a `{name}` path segment. REQUIRES: the route declares it.
  const std::string& path_param(const std::string& name) const {
    return request.path_params.at(name);
  }
};

}  // namespace portcullis
