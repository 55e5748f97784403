// Helpers for the authentication tests: a browser-like session (cookie and
// CSRF token), registration and login over HTTP, and direct database access
// for what a test must arrange or inspect (expired sessions, stored hashes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "tests/integration/http_client.h"

namespace portcullis::testing {

inline constexpr const char* kPassword = "correct horse battery staple 42";

struct Browser {
  std::string cookie;  // the session token, as the cookie carries it
  std::string csrf;
  std::string origin;  // sent on unsafe requests when non-empty

  // Sends with the cookie, and with X-CSRF-Token on unsafe methods.
  HttpResponse call(const std::string& method,
                    const std::string& path,
                    const std::string& body = "",
                    std::vector<std::string> extra_headers = {}) const;
};

struct Registered {
  std::string email;
  std::string user_id;
  std::string tenant_id;
  std::string tenant_name;
};

// A fresh e-mail for this test run (unique per call).
std::string unique_email(const std::string& tag);
Registered register_tenant(const std::string& tag);
HttpResponse login_raw(const std::string& email,
                       const std::string& password,
                       bool remember_me = false,
                       const std::vector<std::string>& extra_headers = {});
// Logs in and returns the browser state; fails the test on a non-200.
Browser login(const std::string& email, const std::string& password = kPassword);
// The token from a Set-Cookie of the session cookie ("" if none).
std::string session_token_from(const HttpResponse& r);
std::string set_cookie_header(const HttpResponse& r);

// The test database (as the schema owner on PostgreSQL).
soci::session& db();
bool is_postgres();
// Runs fn on the db; the value as text.
std::string db_text(const std::string& sql, const std::string& param);

}  // namespace portcullis::testing
