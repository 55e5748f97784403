// The request pipeline of DESIGN §3 after the worker built the Request:
// guards → route match (404/405) → access policy → handler, with one catch
// point that maps every error to the JSON envelope.
#pragma once

#include <exception>

#include "app/config/config.h"
#include "app/crypto/worker_keys.h"
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
  const WorkerKeys& keys;
};

// Never throws. Sets X-Request-Id and Cache-Control on every answer.
Response handle_request(Request& request, Services& services);

struct Authenticated;
// Applies a route's policy to an authenticated request. Throws ApiError
// (401 for an MFA-pending session off its routes, 403
// email_verification_required, 403 mfa_enrollment_required,
// 403 csrf_failed, 403 forbidden for the role, 403 step_up_required).
void enforce_access(const Access& access,
                    const Authenticated& auth,
                    const Request& request,
                    const Config& config);

// The one error mapper: ApiError → its envelope; a database lock not had
// within the busy timeout → 503 database_busy + Retry-After; a database
// connection failure → 503 database_unavailable; anything else → generic 500.
// Details go to the log only, and for a database error only its first line
// and the statement's name (never what(), which carries bound values).
Response to_error_response(const std::exception_ptr& error, const Request& request, Db* db);

}  // namespace portcullis
