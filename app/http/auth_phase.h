// The authentication phase of a request as HTTP (DESIGN §3 steps 3 and 5):
// reads the cookie and headers, asks auth (app/auth/authenticate.h) and turns
// its refusals into ApiError.
#pragma once

#include <string>

#include "app/auth/authenticate.h"
#include "app/config/config.h"
#include "app/db/connection.h"
#include "app/http/request.h"

namespace portcullis {

// Throws ApiError:
//  - 401 unauthenticated when there is no session cookie;
//  - 401 session_revoked (with a Set-Cookie that clears the cookie) when the
//    cookie's session was ended by someone or something else (a tombstone);
//  - 401 session_expired (the same Set-Cookie) when the cookie names no live
//    session otherwise.
Authenticated authenticate(Db& db, const Request& request, const Config& config);

// Checks for an unsafe method (POST/PUT/PATCH/DELETE) on a cookie-authenticated
// request (DESIGN §3 step 5, API-8): origin_allowed() and csrf_token_matches()
// with the X-CSRF-Token header. Throws 403 csrf_failed.
void check_csrf(const Request& request, const Session& session, const Config& config);

// The Origin check alone, for unsafe requests without a session (login and
// register: a cross-site page must not log a victim into its account).
// Throws 403 csrf_failed.
void check_origin(const Request& request, const Config& config);

bool is_unsafe_method(const std::string& method);

}  // namespace portcullis
