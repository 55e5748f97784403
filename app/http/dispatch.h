// The request pipeline of DESIGN §3 after the worker built the Request:
// guards → route match (404/405) → access policy → handler, with one catch
// point that maps every error to the JSON envelope.
#pragma once

#include <exception>

#include "app/config/config.h"
#include "app/db/connection.h"
#include "app/http/request.h"
#include "app/http/response.h"
#include "app/http/router.h"
#include "app/log/audit.h"

namespace portcullis {

struct Services {
  const Router& router;
  Db& db;
  Audit& audit;
  const Config& config;
};

// Never throws. Sets X-Request-Id and Cache-Control on every answer.
Response handle_request(Request& request, Services& services);

// The one error mapper: ApiError → its envelope; a database connection
// failure → 503; anything else → generic 500 (details to the log only).
Response to_error_response(const std::exception_ptr& error, const Request& request, Db* db);

}  // namespace portcullis
