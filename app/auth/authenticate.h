// Authentication phase (DESIGN §3 step 3): resolves the Principal of a
// request from the __Host-portcullis cookie, and nothing else. Headers such
// as X-Customer-ID, X-Tenant-ID or X-User-ID, and any tenant id in a body or
// query, play no part: the tenant comes from the session row alone.
#pragma once

#include <string>

#include "app/auth/account.h"
#include "app/auth/principal.h"
#include "app/auth/sessions.h"
#include "app/config/config.h"
#include "app/db/connection.h"
#include "app/http/request.h"

namespace portcullis {

struct Authenticated {
  Principal principal;
  Session session;
  Account account;  // the caller's user and tenant; password_hash left empty
};

// Throws ApiError:
//  - 401 unauthenticated when there is no session cookie;
//  - 401 session_expired (with a Set-Cookie that clears the cookie) when the
//    cookie names no live session: unknown, revoked, past its absolute
//    lifetime, idle too long, or its user is disabled. Dead rows are deleted.
// Writes last_seen_at at most once per config.session_touch_seconds.
Authenticated authenticate(Db& db, const Request& request, const Config& config);

// Checks for an unsafe method (POST/PUT/PATCH/DELETE) on a cookie-authenticated
// request (DESIGN §3 step 5, API-8): an Origin, when sent, must be one of
// config.allowed_origins; Sec-Fetch-Site, when sent, must not be cross-site;
// X-CSRF-Token must equal the session's token (constant-time). Throws 403
// csrf_failed.
void check_csrf(const Request& request, const Session& session, const Config& config);

// The Origin check alone, for unsafe requests without a session (login and
// register: a cross-site page must not log a victim into its account).
void check_origin(const Request& request, const Config& config);

bool is_unsafe_method(const std::string& method);

}  // namespace portcullis
