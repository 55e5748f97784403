// "Sign-in from a new device" through nginx, on SQLite and PostgreSQL: each
// session records its browser and OS families and whether its sign-in came
// from a new device (browser + OS + /24 network, remembered 90 days as a
// keyed hash in known_devices); the sessions list shows the three fields and
// the login audit event says new_device=true|false. The network is varied by
// connecting from another loopback /24 (127.0.1.x), the browser by the
// User-Agent header.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/db/time.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr const char* kFirefoxLinux =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr const char* kChromeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr const char* kEdgeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
constexpr const char* kHere = "127.0.0.1";
constexpr const char* kOtherNetwork = "127.0.1.1";  // another /24 of the loopback

struct SignIn {
  std::string session_id;
  std::string browser;
  std::string os;
  bool new_device = false;
  Browser b;
};

HttpResponse login_as(const std::string& email, const std::string& ua, const std::string& from) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/auth/login";
  r.body = R"({"email":")" + email + R"(","password":")" + kPassword + R"(","remember_me":false})";
  r.headers = {"Content-Type: application/json", "User-Agent: " + ua};
  r.source_ip = from;
  return send(r);
}

// The current session as GET /api/v1/sessions shows it.
SignIn current_session(const Browser& b) {
  SignIn out;
  out.b = b;
  HttpResponse list = b.call("GET", "/api/v1/sessions");
  EXPECT_EQ(list.status, 200) << list.body;
  rapidjson::Document d = parse(list);
  if (!d.IsObject() || !d.HasMember("data")) {
    ADD_FAILURE() << list.body;
    return out;
  }
  for (const auto& s : d["data"].GetArray()) {
    // Every field the list had before is still there.
    for (const char* field : {"id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent",
                              "remember_me", "current"}) {
      EXPECT_TRUE(s.HasMember(field)) << field;
    }
    EXPECT_TRUE(s.HasMember("browser") && s["browser"].IsString());
    EXPECT_TRUE(s.HasMember("os") && s["os"].IsString());
    EXPECT_TRUE(s.HasMember("new_device") && s["new_device"].IsBool());
    if (s["current"].GetBool()) {
      out.session_id = s["id"].GetString();
      out.browser = s["browser"].GetString();
      out.os = s["os"].GetString();
      out.new_device = s["new_device"].GetBool();
    }
  }
  EXPECT_FALSE(out.session_id.empty());
  return out;
}

SignIn sign_in(const std::string& email, const std::string& ua, const std::string& from = kHere) {
  HttpResponse r = login_as(email, ua, from);
  EXPECT_EQ(r.status, 200) << r.body << r.error;
  return current_session(browser_from(r));
}

// The details of the success audit row of `event` for a session.
std::string audit_details(const std::string& event, const std::string& session_id) {
  return db_text("SELECT CAST(details AS TEXT) FROM audit_events WHERE event = '" + event +
                     "' AND outcome = 'success' AND session_id = :s",
                 session_id);
}

int known_devices_of(const std::string& user_id) {
  int n = 0;
  db() << "SELECT COUNT(*) FROM known_devices WHERE user_id = :u", soci::use(user_id),
      soci::into(n);
  return n;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DevicesTest, FirstSignInIsNotNewThenAnotherBrowserOrNetworkIsNewOnce) {
  Registered who = register_tenant("devices");
  // The account's first sign-in only records its device.
  SignIn first = sign_in(who.email, kFirefoxLinux);
  EXPECT_FALSE(first.new_device);
  EXPECT_EQ(first.browser, "Firefox");
  EXPECT_EQ(first.os, "Linux");
  EXPECT_THAT(audit_details("auth.login", first.session_id), HasSubstr("\"new_device\""));
  EXPECT_THAT(audit_details("auth.login", first.session_id), HasSubstr("false"));
  EXPECT_EQ(known_devices_of(who.user_id), 1);

  // The same device again: not new.
  SignIn again = sign_in(who.email, kFirefoxLinux);
  EXPECT_FALSE(again.new_device);
  EXPECT_EQ(known_devices_of(who.user_id), 1);

  // Another browser: new exactly once.
  SignIn chrome = sign_in(who.email, kChromeWindows);
  EXPECT_TRUE(chrome.new_device);
  EXPECT_EQ(chrome.browser, "Chrome");
  EXPECT_EQ(chrome.os, "Windows");
  EXPECT_THAT(audit_details("auth.login", chrome.session_id), HasSubstr("true"));
  SignIn chrome_again = sign_in(who.email, kChromeWindows);
  EXPECT_FALSE(chrome_again.new_device);
  // Edge sends "Chrome/" too, but it is another browser.
  SignIn edge = sign_in(who.email, kEdgeWindows);
  EXPECT_TRUE(edge.new_device);
  EXPECT_EQ(edge.browser, "Edge");

  // The known browser from another /24: new once, then known.
  SignIn elsewhere = sign_in(who.email, kFirefoxLinux, kOtherNetwork);
  EXPECT_TRUE(elsewhere.new_device);
  EXPECT_EQ(db_text("SELECT ip FROM sessions WHERE id = :id", elsewhere.session_id), kOtherNetwork);
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux, kOtherNetwork).new_device);
  // Another address of the first /24 is the first device.
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux, "127.0.0.2").new_device);
  EXPECT_EQ(known_devices_of(who.user_id), 4);

  // Each session keeps what its own sign-in found: the list still says so.
  HttpResponse list = elsewhere.b.call("GET", "/api/v1/sessions?limit=20");
  ASSERT_EQ(list.status, 200);
  int new_ones = 0;
  rapidjson::Document listed = parse(list);
  for (const auto& s : listed["data"].GetArray()) {
    new_ones += s["new_device"].GetBool() ? 1 : 0;
  }
  EXPECT_EQ(new_ones, 3);  // chrome, edge, elsewhere
}

TEST(DevicesTest, ADeviceUnusedFor90DaysIsUnknownAgainAndMaintenancePurgesIt) {
  Registered who = register_tenant("devices-old");
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux).new_device);
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux).new_device);
  // 89 days: still known (and its last use refreshed by the sign-in).
  const std::string days89 = format_time_ms(now_ms() - 89LL * 24 * 3600 * 1000);
  db() << "UPDATE known_devices SET last_seen_at = :t WHERE user_id = :u", soci::use(days89),
      soci::use(who.user_id);
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux).new_device);
  EXPECT_NE(db_text("SELECT CAST(last_seen_at AS TEXT) FROM known_devices WHERE user_id = :u",
                    who.user_id),
            days89);
  // 91 days: unknown, so new; the sign-in makes it known again.
  const std::string days91 = format_time_ms(now_ms() - 91LL * 24 * 3600 * 1000);
  db() << "UPDATE known_devices SET last_seen_at = :t WHERE user_id = :u", soci::use(days91),
      soci::use(who.user_id);
  EXPECT_TRUE(sign_in(who.email, kFirefoxLinux).new_device);
  EXPECT_FALSE(sign_in(who.email, kFirefoxLinux).new_device);

  // Maintenance deletes rows unused for 90 days (of every tenant) and keeps the rest.
  SignIn chrome = sign_in(who.email, kChromeWindows);
  EXPECT_TRUE(chrome.new_device);
  ASSERT_EQ(known_devices_of(who.user_id), 2);
  db() << "UPDATE known_devices SET last_seen_at = :t WHERE user_id = :u AND last_seen_at = "
          "(SELECT MIN(last_seen_at) FROM known_devices WHERE user_id = :u2)",
      soci::use(days91), soci::use(who.user_id), soci::use(who.user_id);
  const std::string cmd = std::string(std::getenv("PORTCULLIS_TEST_BIN")) +
                          " maintenance --env-file " + std::getenv("PORTCULLIS_TEST_ENV_FILE") +
                          " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(known_devices_of(who.user_id), 1);
}

// The stored device is a keyed hash: no address, network or User-Agent in
// the row, none of it (nor the hash) in the audit details or the server log.
TEST(DevicesTest, StoredDeviceIsAKeyedHashWithoutAddressOrUserAgent) {
  Registered who = register_tenant("devices-hash");
  const std::string canary = "Mozilla/5.0 (X11; Linux x86_64) CanaryZq7 Firefox/121.0";
  SignIn first = sign_in(who.email, canary);
  SignIn other = sign_in(who.email, kChromeWindows, kOtherNetwork);
  EXPECT_TRUE(other.new_device);
  std::vector<std::string> rows;
  {
    soci::rowset<soci::row> rs =
        (db().prepare << "SELECT CAST(tenant_id AS TEXT), CAST(user_id AS TEXT), device_hash, "
                         "CAST(first_seen_at AS TEXT), CAST(last_seen_at AS TEXT) "
                         "FROM known_devices WHERE user_id = :u",
         soci::use(who.user_id));
    for (const soci::row& r : rs) {
      std::string all;
      for (size_t i = 0; i < r.size(); ++i) {
        all += r.get<std::string>(i) + "|";
      }
      EXPECT_THAT(r.get<std::string>(2), MatchesRegex("^[0-9a-f]{64}$"));
      rows.push_back(r.get<std::string>(2));
      for (const char* leak : {"127.0", "CanaryZq7", "Firefox", "Chrome", "Linux", "Windows"}) {
        EXPECT_THAT(all, Not(HasSubstr(leak)));
      }
    }
  }
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[0], rows[1]);
  // The same device of another user has another hash (the user is in the message).
  Registered someone = register_tenant("devices-hash2");
  sign_in(someone.email, canary);
  const std::string theirs =
      db_text("SELECT device_hash FROM known_devices WHERE user_id = :u", someone.user_id);
  EXPECT_THAT(rows, Not(::testing::Contains(theirs)));
  const std::string log = read_all(std::getenv("PORTCULLIS_TEST_LOG"));
  for (const std::string& hash : rows) {
    EXPECT_THAT(audit_details("auth.login", first.session_id), Not(HasSubstr(hash)));
    EXPECT_THAT(audit_details("auth.login", other.session_id), Not(HasSubstr(hash)));
    EXPECT_THAT(log, Not(HasSubstr(hash)));
  }
}

// MFA: the password step alone makes no device known; the sign-in completes
// (and is judged) at MFA verification.
TEST(DevicesTest, MfaSignInIsJudgedAtVerificationNotAtThePasswordStep) {
  Enrolled e = enroll("devices-mfa");  // its first sign-in: libcurl, no User-Agent
  ASSERT_EQ(known_devices_of(e.who.user_id), 1);
  HttpResponse password_step = login_as(e.who.email, kChromeWindows, kOtherNetwork);
  ASSERT_EQ(password_step.status, 200) << password_step.body;
  Browser pending = browser_from(password_step);
  EXPECT_EQ(known_devices_of(e.who.user_id), 1);
  const std::string pending_id = db_text(
      "SELECT id FROM sessions WHERE user_id = :u AND auth_state = 'mfa_pending'", e.who.user_id);
  EXPECT_EQ(db_text("SELECT CAST(new_device AS INTEGER) FROM sessions WHERE id = :id", pending_id),
            "0");
  EXPECT_EQ(db_text("SELECT browser FROM sessions WHERE id = :id", pending_id), "Chrome");
  HttpResponse ok = pending.call("POST", "/api/v1/auth/mfa/verify",
                                 R"({"backup_code":")" + e.backup_codes[0] + "\"}",
                                 {"User-Agent: " + std::string(kChromeWindows)});
  ASSERT_EQ(ok.status, 200) << ok.body;
  SignIn done = current_session(browser_from(ok));
  EXPECT_EQ(done.session_id, pending_id);
  EXPECT_TRUE(done.new_device);
  EXPECT_EQ(done.browser, "Chrome");
  EXPECT_EQ(done.os, "Windows");
  EXPECT_THAT(audit_details("mfa.verify", done.session_id), HasSubstr("\"new_device\""));
  EXPECT_THAT(audit_details("mfa.verify", done.session_id), HasSubstr("true"));
  EXPECT_EQ(known_devices_of(e.who.user_id), 2);
}

}  // namespace
}  // namespace portcullis::testing
