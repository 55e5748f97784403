// Behaviour after time passes, with short windows configured for the test
// (#9 items 1 and 2): the server runs with the changed settings only inside
// each test (ScopedServerEnv restores them).
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/db/time.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Listed {
  int64_t created_at = 0;
  int64_t expires_at = 0;
  bool remember_me = false;
  bool found = false;
};

// The caller's own session as GET /sessions lists it.
Listed current_session(const Browser& b) {
  Listed out;
  HttpResponse r = b.call("GET", "/api/v1/sessions?limit=100");
  EXPECT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("data")) {
    return out;
  }
  for (const auto& s : d["data"].GetArray()) {
    if (s["current"].GetBool()) {
      out.created_at = parse_time_ms(s["created_at"].GetString()).value_or(0);
      out.expires_at = parse_time_ms(s["expires_at"].GetString()).value_or(0);
      out.remember_me = s["remember_me"].GetBool();
      out.found = true;
    }
  }
  return out;
}

int max_age_of(const HttpResponse& r) {
  std::string c = set_cookie_header(r);
  size_t at = c.find("Max-Age=");
  return at == std::string::npos ? -1 : std::atoi(c.c_str() + at + 8);
}

class SessionWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

// #9 item 1: MFA completion gives the lifetime of a password-only login,
// counted from the password step, with or without remember-me; the session
// outlives the pending window.
TEST_F(SessionWindowsTest, SESS4_MfaCompletionOutlivesThePendingWindow) {
  Enrolled e = enroll("mfa-lifetime");
  ASSERT_FALSE(e.backup_codes.empty());
  ScopedServerEnv env({"PORTCULLIS_SESSION_MFA_PENDING_SECONDS=10"});
  wait_for_fresh_step();
  Browser plain_pending = pending_login(e.who.email);
  Browser remembered_pending = pending_login(e.who.email, true);
  Browser abandoned = pending_login(e.who.email);
  auto started = std::chrono::steady_clock::now();

  HttpResponse plain_done = plain_pending.call("POST", "/api/v1/auth/mfa/verify",
                                               R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  ASSERT_EQ(plain_done.status, 200) << plain_done.body;
  EXPECT_EQ(max_age_of(plain_done), -1) << "a browser-session cookie, as a password-only login";
  HttpResponse remembered_done = remembered_pending.call(
      "POST", "/api/v1/auth/mfa/verify", R"({"backup_code":")" + e.backup_codes[0] + "\"}");
  ASSERT_EQ(remembered_done.status, 200) << remembered_done.body;
  EXPECT_GT(max_age_of(remembered_done), 7 * 86400 - 60);
  EXPECT_LE(max_age_of(remembered_done), 7 * 86400);

  Browser plain = browser_from(plain_done);
  Browser remembered = browser_from(remembered_done);
  Listed p = current_session(plain);
  Listed r = current_session(remembered);
  ASSERT_TRUE(p.found && r.found);
  EXPECT_FALSE(p.remember_me);
  EXPECT_EQ(p.expires_at - p.created_at, 8LL * 3600 * 1000);
  EXPECT_TRUE(r.remember_me);
  EXPECT_EQ(r.expires_at - r.created_at, 7LL * 86400 * 1000);
  EXPECT_THAT(remembered_done.body, HasSubstr("\"remember_me\":true"));

  // The pending window (10 s from the password step) passes.
  std::this_thread::sleep_until(started + std::chrono::milliseconds(10500));
  EXPECT_EQ(plain.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(remembered.call("GET", "/api/v1/me").status, 200);
  // A pending session left alone does end with its window.
  EXPECT_EQ(abandoned.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"000000"})").status, 401);
}

// #9 item 2: wrong codes on MFA disable lock like login, and the lock ends
// when locked_until says (a 4-second lock configured for the test).
TEST_F(SessionWindowsTest, RATE1_ALockEndsWhenLockedUntilSays) {
  Enrolled e = enroll("lock-ends");
  ScopedServerEnv env({"PORTCULLIS_LOCKOUT_SECONDS=4"});
  const std::string wrong = std::string(R"({"password":")") + kPassword + R"(","code":"000000"})";
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(code_of(e.browser.call("POST", "/api/v1/mfa/totp/disable", wrong)), "invalid_code")
        << i;
  }
  HttpResponse locked = e.browser.call("POST", "/api/v1/mfa/totp/disable", wrong);
  EXPECT_EQ(locked.status, 429);
  int retry = std::atoi(locked.header("retry-after").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 4);
  EXPECT_NE(db_text("SELECT CAST(locked_until AS TEXT) FROM auth_throttle WHERE key = :k",
                    "email:" + e.who.email),
            "");
  EXPECT_EQ(login_raw(e.who.email, kPassword).status, 429);
  std::this_thread::sleep_for(std::chrono::milliseconds(4300));
  HttpResponse after = login_raw(e.who.email, kPassword);
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_THAT(after.body, HasSubstr("\"mfa_required\":true"));
  EXPECT_THAT(after.body, Not(HasSubstr("\"user\"")));
}

}  // namespace
}  // namespace portcullis::testing
