// Helpers for the authentication tests: a browser-like session (cookie and
// CSRF token), registration and login over HTTP, and direct database access
// for what a test must arrange or inspect (expired sessions, stored hashes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <soci/soci.h>

#include "tests/integration/http_client.h"

namespace portcullis::testing {

// The answer's body as JSON (a non-object when it is not JSON).
rapidjson::Document parse(const HttpResponse& r);
// The error envelope's code, or "" when the answer carries none.
std::string code_of(const HttpResponse& r);

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

// --- MFA -------------------------------------------------------------------------------------
// The TOTP code for `secret` (base32) at now + offset_steps * 30 s, from
// oathtool, an independent RFC 6238 implementation.
std::string oathtool(const std::string& secret, int offset_steps = 0);
// Boundary-sensitive checks wait until at least 8 s of the current step remain.
void wait_for_fresh_step();

struct Enrolled {
  Registered who;
  Browser browser;  // a full session with a fresh step-up
  std::string secret;
  std::vector<std::string> backup_codes;
};
// Registers a tenant whose owner enrols TOTP; fails the test on any error.
Enrolled enroll(const std::string& tag);
// Password step of an MFA login: returns the MFA-pending browser.
Browser pending_login(const std::string& email, bool remember_me = false);
// A browser for the session a 200 answer (login shape) set up.
Browser browser_from(const HttpResponse& r);

// --- server configuration -------------------------------------------------------------------
// Runs the server with extra PORTCULLIS_* settings for one scope: appends them
// to the harness's env file and rolls the workers (SIGHUP), waiting until all
// are new; the destructor restores the file and rolls again, so the suites
// that follow in this binary see the server as it was.
class ScopedServerEnv {
 public:
  explicit ScopedServerEnv(const std::vector<std::string>& lines);
  ~ScopedServerEnv();
  ScopedServerEnv(const ScopedServerEnv&) = delete;
  ScopedServerEnv& operator=(const ScopedServerEnv&) = delete;

 private:
  std::string original_;
};

// The number of audit rows with this event for a request id (X-Request-Id).
int audit_count(const std::string& request_id, const std::string& event);

// The test database (as the schema owner on PostgreSQL).
soci::session& db();
bool is_postgres();
// Runs fn on the db; the value as text.
std::string db_text(const std::string& sql, const std::string& param);

}  // namespace portcullis::testing
