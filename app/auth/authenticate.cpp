#include "app/auth/authenticate.h"

#include <soci/soci.h>

#include "app/crypto/hash.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/log/logger.h"

namespace portcullis {
namespace {

ApiError session_expired() {
  ApiError e{401, "session_expired", "Your session has expired. Please log in again."};
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
  // A token is 43 base64url characters; anything else cannot match a row.
  const std::string& token = cookie->second;
  if (token.size() != 43) {
    throw session_expired();
  }
  soci::session& sql = db.session();
  // One round trip: the session with its user and tenant.
  std::optional<SessionAccount> found = find_session_with_account(sql, token);
  if (!found) {
    throw session_expired();
  }
  Session& s = found->session;
  const Account& account = found->account;
  int64_t now = now_ms();
  // The idle timeout applies to every state (pending and enrolment-only
  // sessions too); only a full remember-me session has none inside its 7 days.
  bool idle_exempt = s.remember_me && s.auth_state == "full";
  bool idle = !idle_exempt &&
              now - s.last_seen_at > static_cast<int64_t>(config.session_idle_seconds) * 1000;
  if (account.disabled || now >= s.expires_at || idle) {
    sql << "DELETE FROM sessions WHERE id = :id", soci::use(s.id);
    throw session_expired();
  }
  if (now - s.last_seen_at >= static_cast<int64_t>(config.session_touch_seconds) * 1000) {
    touch_session(sql, s.id, now);
    s.last_seen_at = now;
  }
  // The tenant requires MFA and this user has none: whatever the session was
  // issued as, from this request on it may only enrol (DESIGN §7). Decided
  // here, once, so a require_mfa switched on reaches live sessions.
  if (s.auth_state == "full" && account.tenant_require_mfa && !account.mfa_enabled) {
    std::string enrolment = "enrollment_required";
    std::string full = "full";
    sql << "UPDATE sessions SET auth_state = :e WHERE id = :id AND auth_state = :f",
        soci::use(enrolment), soci::use(s.id), soci::use(full);
    s.auth_state = enrolment;
  }
  Authenticated out;
  out.principal.user_id = s.user_id;
  out.principal.tenant_id = s.tenant_id;
  out.principal.role = account.role;
  out.principal.session_id = s.id;
  out.principal.auth_state = s.auth_state;
  out.session = std::move(s);
  out.account = account;
  return out;
}

void check_origin(const Request& request, const Config& config) {
  std::string site = request.header("sec-fetch-site");
  if (site == "cross-site") {
    throw csrf_failed();
  }
  std::string origin = request.header("origin");
  if (origin.empty()) {
    return;
  }
  for (const std::string& allowed : config.allowed_origins) {
    if (origin == allowed) {
      return;
    }
  }
  throw csrf_failed();
}

void check_csrf(const Request& request, const Session& session, const Config& config) {
  if (!is_unsafe_method(request.method)) {
    return;
  }
  check_origin(request, config);
  std::string token = request.header("x-csrf-token");
  if (token.empty() || !constant_time_equals(token, session.csrf_token)) {
    throw csrf_failed();
  }
}

}  // namespace portcullis
