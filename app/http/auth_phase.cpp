#include "app/http/auth_phase.h"

#include "app/auth/sessions.h"
#include "app/http/api_error.h"

namespace portcullis {
namespace {

ApiError session_expired() {
  ApiError e{401, "session_expired", "Your session has expired. Please log in again."};
  e.with_header("Set-Cookie", clear_session_cookie());
  return e;
}

// A session ended by someone or something else (issue 12): said so, and the
// cookie cleared as for an expired one.
ApiError session_revoked() {
  ApiError e{401, "session_revoked", "You were signed out from another device."};
  e.with_header("Set-Cookie", clear_session_cookie());
  return e;
}

ApiError csrf_failed() {
  return ApiError{403, "csrf_failed", "The request failed the cross-site request check."};
}

}  // namespace

bool is_unsafe_method(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

Authenticated authenticate(Db& db, const Request& request, const Config& config) {
  auto cookie = request.cookies.find(kSessionCookie);
  if (cookie == request.cookies.end() || cookie->second.empty()) {
    throw ApiError::unauthenticated();
  }
  TokenOutcome found = authenticate_token(db, cookie->second, config);
  if (!found.authenticated) {
    if (found.refusal == SessionRefusal::kRevoked) {
      throw session_revoked();
    }
    throw session_expired();
  }
  return std::move(*found.authenticated);
}

void check_origin(const Request& request, const Config& config) {
  if (!origin_allowed(request.header("sec-fetch-site"), request.header("origin"), config)) {
    throw csrf_failed();
  }
}

void check_csrf(const Request& request, const Session& session, const Config& config) {
  if (!is_unsafe_method(request.method)) {
    return;
  }
  check_origin(request, config);
  if (!csrf_token_matches(request.header("x-csrf-token"), session)) {
    throw csrf_failed();
  }
}

}  // namespace portcullis
