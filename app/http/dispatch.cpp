#include "app/http/dispatch.h"

#include <soci/soci.h>

#include "app/crypto/random.h"
#include "app/db/errors.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/auth_phase.h"
#include "app/http/context.h"
#include "app/http/guards.h"
#include "app/log/logger.h"

namespace portcullis {
namespace {

void log_internal(const Request& request,
                  const std::string& event,
                  const std::string& detail,
                  const std::string& statement = "") {
  LogRecord r;
  r.event = event;
  r.outcome = "failure";
  r.request_id = request.request_id;
  r.ip = request.client_ip;
  r.details.emplace_back("method", request.method);
  r.details.emplace_back("path", request.path.substr(0, 200));
  r.details.emplace_back("error", detail);
  if (!statement.empty()) {
    r.details.emplace_back("statement", statement);
  }
  log_record(Level::kError, r);
}

SessionState state_of(const std::string& name) {
  if (name == "mfa_pending") {
    return kStateMfaPending;
  }
  if (name == "enrollment_required") {
    return kStateEnrollmentRequired;
  }
  if (name == "verification_required") {
    return kStateVerificationRequired;
  }
  return kStateFull;
}

}  // namespace

// The router's policy decision, in one place: session state, CSRF, role,
// recent authentication. Order matters: a foreign site learns nothing about
// roles because CSRF is refused first.
void enforce_access(const Access& access,
                    const Authenticated& auth,
                    const Request& request,
                    const Config& config) {
  // The effective state (authenticate.cpp): the stored one, or
  // verification_required, which is never stored.
  SessionState state = state_of(auth.principal.auth_state);
  if (!access.allows_state(state)) {
    if (state == kStateMfaPending) {
      throw ApiError::unauthenticated();  // a half-finished login reaches nothing else
    }
    if (state == kStateVerificationRequired) {
      throw ApiError{403, "email_verification_required", "Confirm your e-mail address first."};
    }
    if (state == kStateEnrollmentRequired) {
      throw ApiError{403, "mfa_enrollment_required",
                     "Your organisation requires two-factor authentication. Enrol first."};
    }
    throw ApiError::forbidden();
  }
  check_csrf(request, auth.session, config);
  if (!role_at_least(auth.principal.role, access.min_role())) {
    throw ApiError::forbidden();
  }
  if (access.recent_auth()) {
    int64_t window = static_cast<int64_t>(config.step_up_seconds) * 1000;
    if (!auth.session.reauthenticated_at || now_ms() - *auth.session.reauthenticated_at > window) {
      throw ApiError{403, "step_up_required", "Confirm your password to continue."};
    }
  }
}

namespace {
Response envelope(const ApiError& e, const Request& request) {
  Response r = json_error(e.status(), e.code(), e.message(), request.request_id, e.fields());
  for (const auto& [name, value] : e.headers()) {
    r.set_header(name, value);
  }
  return r;
}
}  // namespace

Response to_error_response(const std::exception_ptr& error, const Request& request, Db* db) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return envelope(e, request);
  } catch (const soci::soci_error& e) {
    // #9 item 4: what() appends every bound value (hashes, tokens, user
    // text) and PostgreSQL's DETAIL repeats row values. The log gets the
    // first line of the server's message and the statement's name; the
    // client gets neither.
    log_internal(request, "request.database_error", loggable_message(e),
                 db != nullptr ? statement_name(db->last_query()) : "");
    if (is_busy(e)) {
      return envelope(ApiError::database_busy(), request);
    }
    bool connection_lost = false;
    if (db != nullptr) {
      db->check_after_error();
      connection_lost = !db->connected();
    }
    if (connection_lost || e.get_error_category() == soci::soci_error::connection_error) {
      return envelope(ApiError::database_unavailable(), request);
    }
  } catch (const std::exception& e) {
    log_internal(request, "request.internal_error", loggable_what(e));
  } catch (...) {
    log_internal(request, "request.internal_error", "non-standard exception");
  }
  return json_error(500, "internal_error", "Something went wrong.", request.request_id);
}

Response handle_request(Request& request, Services& services) {
  Response response;
  bool public_route = false;
  try {
    run_guards(request);
    Router::Match match = services.router.match(request.method, request.path);
    if (match.route == nullptr) {
      if (!match.allow.empty()) {
        throw ApiError::method_not_allowed(match.allow);
      }
      throw ApiError::not_found();
    }
    request.path_params = std::move(match.params);
    const Access& access = match.route->access;
    std::optional<Authenticated> auth;
    if (access.is_public()) {
      public_route = true;
      // No session involved; still, a cross-site page must not post to
      // login or register (login CSRF).
      if (is_unsafe_method(request.method)) {
        check_origin(request, services.config);
      }
    } else {
      auth = authenticate(services.db, request, services.config);
      enforce_access(access, *auth, request, services.config);
    }
    // Every path parameter names a row by its UUID. Anything else is "not
    // found" here, for every route, after the access policy and before a handler or the database
    // sees it.
    for (const auto& [name, value] : request.path_params) {
      if (!is_uuid(value)) {
        throw ApiError::not_found();
      }
    }
    Context ctx{request,
                auth ? &auth->principal : nullptr,
                auth ? &auth->session : nullptr,
                auth ? &auth->account : nullptr,
                services.db,
                services.audit,
                services.config,
                services.keys};
    response = match.route->handler(ctx);
  } catch (...) {
    response = to_error_response(std::current_exception(), request, &services.db);
  }
  response.set_header("X-Request-Id", request.request_id);
  // no-store on every answer (SESS-9), except a successful public one with
  // no cookie whose handler chose its own (GET /api/v1/policy).
  bool cacheable = public_route && response.status == 200 &&
                   response.find_header("Set-Cookie") == nullptr &&
                   response.find_header("Cache-Control") != nullptr;
  if (!cacheable) {
    response.set_header("Cache-Control", "no-store");
  }
  return response;
}

}  // namespace portcullis
