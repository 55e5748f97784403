#include "app/http/dispatch.h"

#include <soci/soci.h>

#include "app/http/api_error.h"
#include "app/http/context.h"
#include "app/http/guards.h"
#include "app/log/logger.h"

namespace portcullis {
namespace {

void log_internal(const Request& request, const std::string& event, const std::string& detail) {
  LogRecord r;
  r.event = event;
  r.outcome = "failure";
  r.request_id = request.request_id;
  r.ip = request.client_ip;
  r.details.emplace_back("method", request.method);
  r.details.emplace_back("path", request.path.substr(0, 200));
  r.details.emplace_back("error", detail);
  log_record(Level::kError, r);
}

}  // namespace

Response to_error_response(const std::exception_ptr& error, const Request& request, Db* db) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    Response r = json_error(e.status(), e.code(), e.message(), request.request_id, e.fields());
    for (const auto& [name, value] : e.headers()) {
      r.set_header(name, value);
    }
    return r;
  } catch (const soci::soci_error& e) {
    // what() carries the SQL and the server's message: log it, never send it.
    log_internal(request, "request.database_error", e.what());
    bool connection_lost = false;
    if (db != nullptr) {
      db->check_after_error();
      connection_lost = !db->connected();
    }
    if (connection_lost || e.get_error_category() == soci::soci_error::connection_error) {
      ApiError unavailable = ApiError::database_unavailable();
      return json_error(unavailable.status(), unavailable.code(), unavailable.message(),
                        request.request_id);
    }
  } catch (const std::exception& e) {
    log_internal(request, "request.internal_error", e.what());
  } catch (...) {
    log_internal(request, "request.internal_error", "non-standard exception");
  }
  return json_error(500, "internal_error", "Something went wrong.", request.request_id);
}

Response handle_request(Request& request, Services& services) {
  Response response;
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
    // Access policy. Only Public exists in the server core; every other
    // policy is refused here until authentication resolves a Principal.
    const Principal* principal = nullptr;
    if (!match.route->access.is_public()) {
      throw ApiError::unauthenticated();
    }
    Context ctx{request, principal, services.db, services.audit, services.config};
    response = match.route->handler(ctx);
  } catch (...) {
    response = to_error_response(std::current_exception(), request, &services.db);
  }
  response.set_header("X-Request-Id", request.request_id);
  response.set_header("Cache-Control", "no-store");
  return response;
}

}  // namespace portcullis
