// Authentication and sessions through nginx (issue: authentication). Test
// names cite SECURITY-BAR rows.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/auth/account.h"
#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/http/context.h"

#include "handlers/routes.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string error_code(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember("error") && d["error"].HasMember("code")) {
    return d["error"]["code"].GetString();
  }
  return "";
}

// Inserts a session row directly and returns its cookie token.
std::string insert_session(const Registered& who,
                           const std::string& state,
                           int64_t created,
                           int64_t last_seen,
                           int64_t expires,
                           bool revoked = false,
                           int64_t reauth = 0) {
  std::string token = base64url_encode(random_bytes(32));
  std::string id = uuid_v7();
  std::string hash = sha256_hex(token);
  std::string csrf = base64url_encode(random_bytes(32));
  std::string c = format_time_ms(created), l = format_time_ms(last_seen),
              e = format_time_ms(expires), r = format_time_ms(now_ms()),
              ra = format_time_ms(reauth == 0 ? created : reauth);
  soci::indicator rind = revoked ? soci::i_ok : soci::i_null;
  db() << "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
          "remember_me, created_at, last_seen_at, expires_at, reauthenticated_at, revoked_at) "
          "VALUES (:id, :h, :u, :t, :s, :c, FALSE, :cr, :ls, :ex, :ra, :rv)",
      soci::use(id), soci::use(hash), soci::use(who.user_id), soci::use(who.tenant_id),
      soci::use(state), soci::use(csrf), soci::use(c), soci::use(l), soci::use(e), soci::use(ra),
      soci::use(r, rind);
  return token;
}

void clear_ip_throttle() { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { clear_ip_throttle(); }
  void TearDown() override { clear_ip_throttle(); }
};

// ---------------------------------------------------------------------------
// Default deny: every non-Public route, every kind of bad session.
TEST_F(AuthTest, SESS_RouteTableWalkRefusesEveryBadSession) {
  Registered who = register_tenant("walk");
  int64_t now = now_ms();
  struct Case {
    const char* name;
    std::string cookie;
    const char* code;
  };
  Router router = build_router();
  int checked = 0;
  for (const Route& route : router.routes()) {
    if (route.access.is_public()) {
      continue;
    }
    std::string path = route.pattern;
    size_t brace = path.find('{');
    if (brace != std::string::npos) {
      path = path.substr(0, brace) + uuid_v7() + path.substr(path.find('}') + 1);
    }
    std::vector<Case> cases = {
        {"no cookie", "", "unauthenticated"},
        {"garbage", "garbage-not-a-token", "session_expired"},
        {"unknown", base64url_encode(random_bytes(32)), "session_expired"},
        {"expired", insert_session(who, "full", now - 9 * 3600000LL, now - 60000, now - 1000),
         "session_expired"},
        {"idle", insert_session(who, "full", now - 3600000, now - 31 * 60000, now + 3600000),
         "session_expired"},
        {"revoked", insert_session(who, "full", now, now, now + 3600000, true), "session_expired"},
    };
    if (!route.access.allows_state(kStateMfaPending)) {
      cases.push_back({"mfa pending", insert_session(who, "mfa_pending", now, now, now + 300000),
                       "unauthenticated"});
    }
    for (const Case& c : cases) {
      Browser b;
      b.cookie = c.cookie;
      b.csrf = "x";
      HttpResponse r = b.call(route.method, path, route.method == "GET" ? "" : "{}");
      EXPECT_EQ(r.status, 401) << route.method << " " << route.pattern << " with " << c.name;
      EXPECT_EQ(error_code(r), c.code) << route.method << " " << route.pattern << " " << c.name;
      if (std::string(c.code) == "session_expired") {
        EXPECT_THAT(set_cookie_header(r), HasSubstr("Max-Age=0"))
            << "the dead cookie is cleared: " << route.pattern;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST_F(AuthTest, SESS_PublicRoutesAreOnlyHealthRegisterLogin) {
  std::set<std::string> allowed = {"/api/v1/health",
                                   "/api/health",
                                   "/api/v1/auth/register",
                                   "/api/register",
                                   "/api/v1/auth/login",
                                   "/api/login",
                                   "/api/v1/auth/password/forgot",
                                   "/api/v1/auth/password/reset",
                                   "/api/v1/auth/email/verify",
                                   "/api/v1/auth/email/change/confirm",
                                   "/api/v1/auth/email/change/revert",
                                   "/api/v1/auth/invitation",
                                   "/api/v1/policy"};
  Router router = build_router();
  for (const Route& route : router.routes()) {
    if (route.access.is_public() && route.pattern.rfind("/api/v1/test/", 0) != 0) {
      EXPECT_TRUE(allowed.count(route.pattern)) << route.pattern << " is public";
    }
  }
}

// --- register ------------------------------------------------------------------
TEST_F(AuthTest, AUTH5_RegisterCreatesTenantAndOwnerWithoutCookie) {
  std::string email = unique_email("  Reg.Case");
  HttpResponse r = post_json("/api/v1/auth/register", R"({"tenant_name":"Acme","email":")" + email +
                                                          R"(","password":")" + kPassword +
                                                          R"(","display_name":"Ann"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(set_cookie_header(r).empty());
  rapidjson::Document d = parse(r);
  EXPECT_STREQ(d["user"]["role"].GetString(), "owner");
  EXPECT_STREQ(d["tenant"]["name"].GetString(), "Acme");
  // E-mail normalised: trimmed, lower-case.
  std::string stored = d["user"]["email"].GetString();
  EXPECT_EQ(stored, normalize_email(email));
  EXPECT_THAT(r.body, Not(HasSubstr("password")));
  // Duplicate → 409, whatever the case.
  HttpResponse dup = post_json("/api/v1/auth/register", R"({"tenant_name":"Other","email":")" +
                                                            stored + R"(","password":")" +
                                                            kPassword + R"(","display_name":"B"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(error_code(dup), "email_taken");
}

TEST_F(AuthTest, AUTH1_RegisterRefusesWeakPasswordsWithFieldErrors) {
  auto attempt = [](const std::string& password, const std::string& tenant = "Blue Widgets") {
    return post_json("/api/v1/auth/register", R"({"tenant_name":")" + tenant + R"(","email":")" +
                                                  unique_email("weak") + R"(","password":")" +
                                                  password + R"(","display_name":"Weak"})");
  };
  HttpResponse short_pw = attempt("only14chars!!!");
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(error_code(short_pw), "validation_failed");
  EXPECT_THAT(short_pw.body, HasSubstr("\"password\""));
  HttpResponse common = attempt("password1234567890");
  EXPECT_EQ(common.status, 400);
  EXPECT_EQ(error_code(common), "password_blocklisted");
  HttpResponse context = attempt("bluewidgets are the best ever", "BlueWidgets");
  EXPECT_EQ(context.status, 400);
  EXPECT_EQ(error_code(context), "password_blocklisted");
  HttpResponse fields = post_json("/api/v1/auth/register", R"({"email":"not-an-email"})");
  EXPECT_EQ(fields.status, 400);
  rapidjson::Document d = parse(fields);
  ASSERT_TRUE(d["error"].HasMember("fields"));
  EXPECT_TRUE(d["error"]["fields"].HasMember("email"));
  EXPECT_TRUE(d["error"]["fields"].HasMember("password"));
  EXPECT_TRUE(d["error"]["fields"].HasMember("tenant_name"));
}

TEST_F(AuthTest, TEN7_UnknownFieldsAreRefused) {
  HttpResponse r =
      post_json("/api/v1/auth/register", R"({"tenant_name":"X","email":")" + unique_email("f") +
                                             R"(","password":")" + kPassword +
                                             R"(","display_name":"X","role":"admin"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"role\""));
}

// --- login and the cookie ----------------------------------------------------------
TEST_F(AuthTest, SESS2_LoginSetsHostCookieWithExactAttributes) {
  Registered who = register_tenant("cookie");
  HttpResponse r = login_raw(who.email, kPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  std::regex exact(
      "^__Host-portcullis=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict$");
  EXPECT_TRUE(std::regex_match(set_cookie_header(r), exact)) << set_cookie_header(r);
  EXPECT_EQ(r.header("cache-control"), "no-store");
  rapidjson::Document d = parse(r);
  EXPECT_STREQ(d["user"]["email"].GetString(), who.email.c_str());
  EXPECT_STREQ(d["tenant"]["id"].GetString(), who.tenant_id.c_str());
  EXPECT_FALSE(d["session"]["remember_me"].GetBool());
  EXPECT_EQ(std::string(d["csrf_token"].GetString()).size(), 43u);
  HttpResponse remember = login_raw(who.email, kPassword, true);
  std::regex with_age(
      "^__Host-portcullis=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict; "
      "Max-Age=(60479[0-9]|604800)$");
  EXPECT_TRUE(std::regex_match(set_cookie_header(remember), with_age))
      << set_cookie_header(remember);
}

TEST_F(AuthTest, SESS_OnlyTheTokenHashIsStored) {
  Registered who = register_tenant("hash");
  Browser b = login(who.email);
  std::string stored = db_text("SELECT token_hash FROM sessions WHERE user_id = :u", who.user_id);
  EXPECT_NE(stored, b.cookie);
  EXPECT_EQ(stored, sha256_hex(b.cookie));
  int plain = 0;
  db() << "SELECT COUNT(*) FROM sessions WHERE token_hash = :t OR csrf_token = :t2",
      soci::use(b.cookie), soci::use(b.cookie), soci::into(plain);
  EXPECT_EQ(plain, 0);
}

TEST_F(AuthTest, AUTH_WrongPasswordAndUnknownEmailAnswerAlike) {
  Registered who = register_tenant("alike");
  HttpResponse wrong = login_raw(who.email, "wrong password for sure 123");
  HttpResponse unknown = login_raw(unique_email("nobody"), "wrong password for sure 123");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(error_code(wrong), "invalid_credentials");
  auto strip = [](std::string body) {
    return std::regex_replace(body, std::regex("\"request_id\":\"[^\"]*\""), "");
  };
  EXPECT_EQ(strip(wrong.body), strip(unknown.body));
}

TEST_F(AuthTest, SESS_FixationPlantedCookieIsNeverAdopted) {
  Registered attacker = register_tenant("attacker");
  Registered victim = register_tenant("victim");
  Browser planted = login(attacker.email);
  HttpResponse r =
      login_raw(victim.email, kPassword, false, {"Cookie: __Host-portcullis=" + planted.cookie});
  ASSERT_EQ(r.status, 200);
  std::string fresh = session_token_from(r);
  EXPECT_NE(fresh, planted.cookie);
  EXPECT_EQ(planted.call("GET", "/api/v1/me").status, 401) << "planted session still alive";
  Browser v;
  v.cookie = fresh;
  HttpResponse me = v.call("GET", "/api/v1/me");
  EXPECT_EQ(me.status, 200);
  EXPECT_THAT(me.body, HasSubstr(victim.email));
}

TEST_F(AuthTest, SESS_RefreshRotatesTokenAndCsrfButKeepsExpiry) {
  Registered who = register_tenant("refresh");
  Browser b = login(who.email);
  std::string expires_before =
      db_text("SELECT expires_at FROM sessions WHERE user_id = :u", who.user_id);
  HttpResponse r = b.call("POST", "/api/v1/auth/refresh");
  ASSERT_EQ(r.status, 200) << r.body;
  Browser after;
  after.cookie = session_token_from(r);
  after.csrf = parse(r)["csrf_token"].GetString();
  EXPECT_NE(after.cookie, b.cookie);
  EXPECT_NE(after.csrf, b.csrf);
  EXPECT_EQ(db_text("SELECT expires_at FROM sessions WHERE user_id = :u", who.user_id),
            expires_before);
  HttpResponse old = b.call("GET", "/api/v1/me");
  EXPECT_EQ(old.status, 401);
  EXPECT_EQ(error_code(old), "session_expired");
  EXPECT_EQ(after.call("GET", "/api/v1/me").status, 200);
  // The old CSRF token is dead too.
  Browser mixed = after;
  mixed.csrf = b.csrf;
  EXPECT_EQ(mixed.call("PATCH", "/api/v1/me", R"({"display_name":"x"})").status, 403);
}

TEST_F(AuthTest, SESS_LogoutDeletesSessionAndClearsCookie) {
  Registered who = register_tenant("logout");
  Browser b = login(who.email);
  HttpResponse r = b.call("POST", "/api/v1/auth/logout");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(set_cookie_header(r), HasSubstr("Max-Age=0"));
  EXPECT_EQ(r.header("clear-site-data"), "\"cookies\", \"storage\"");
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(db_text("SELECT id FROM sessions WHERE user_id = :u", who.user_id), "");
}

TEST_F(AuthTest, SESS_AuthenticatedAnswersAreNoStore) {
  Registered who = register_tenant("nostore");
  Browser b = login(who.email);
  for (const char* path : {"/api/v1/me", "/api/v1/tenant", "/api/v1/sessions"}) {
    HttpResponse r = b.call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("cache-control"), "no-store") << path;
  }
}

// --- tenant isolation ------------------------------------------------------------------
TEST_F(AuthTest, TEN1_TenantComesFromSessionNotHeaders) {
  Registered a = register_tenant("tena");
  Registered b = register_tenant("tenb");
  Browser ba = login(a.email);
  std::vector<std::string> spoof = {"X-Customer-ID: " + b.tenant_id, "X-Tenant-ID: " + b.tenant_id,
                                    "X-User-ID: " + b.user_id};
  HttpResponse me = ba.call("GET", "/api/v1/me", "", spoof);
  EXPECT_EQ(me.status, 200);
  EXPECT_THAT(me.body, HasSubstr(a.tenant_id));
  EXPECT_THAT(me.body, Not(HasSubstr(b.tenant_id)));
  HttpResponse tenant = ba.call("GET", "/api/v1/tenant?tenant_id=" + b.tenant_id, "", spoof);
  EXPECT_THAT(tenant.body, HasSubstr(a.tenant_id));
  EXPECT_THAT(tenant.body, Not(HasSubstr(b.tenant_name)));
  HttpResponse patch =
      ba.call("PATCH", "/api/v1/tenant", R"({"name":"Hijack","tenant_id":")" + b.tenant_id + "\"}");
  EXPECT_EQ(patch.status, 400);
  EXPECT_EQ(db_text("SELECT name FROM tenants WHERE id = :t", b.tenant_id), b.tenant_name);
}

// --- CSRF ---------------------------------------------------------------------------------
TEST_F(AuthTest, API8_CsrfTokenAndOriginAreEnforced) {
  Registered who = register_tenant("csrf");
  Browser b = login(who.email);
  const std::string body = R"({"display_name":"Changed"})";
  Browser none = b;
  none.csrf = "";
  HttpResponse r1 = none.call("PATCH", "/api/v1/me", body);
  EXPECT_EQ(r1.status, 403);
  EXPECT_EQ(error_code(r1), "csrf_failed");
  Browser wrong = b;
  wrong.csrf = base64url_encode(random_bytes(32));
  EXPECT_EQ(error_code(wrong.call("PATCH", "/api/v1/me", body)), "csrf_failed");
  Browser evil = b;
  evil.origin = "https://evil.test";
  EXPECT_EQ(error_code(evil.call("PATCH", "/api/v1/me", body)), "csrf_failed");
  EXPECT_EQ(error_code(b.call("PATCH", "/api/v1/me", body, {"Sec-Fetch-Site: cross-site"})),
            "csrf_failed");
  EXPECT_EQ(db_text("SELECT display_name FROM users WHERE id = :u", who.user_id), "Test User");
  Browser good = b;
  good.origin = base_url();
  HttpResponse ok = good.call("PATCH", "/api/v1/me", body);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(db_text("SELECT display_name FROM users WHERE id = :u", who.user_id), "Changed");
  // Login CSRF: a foreign page cannot post a login.
  HttpResponse cross = login_raw(who.email, kPassword, false, {"Origin: https://evil.test"});
  EXPECT_EQ(cross.status, 403);
}

// --- lockout and throttling ------------------------------------------------------------------
TEST_F(AuthTest, RATE1_LockoutAtSixthAttemptSameForUnknownEmail) {
  Registered who = register_tenant("lock");
  std::string unknown = unique_email("ghost");
  for (const std::string& email : {who.email, unknown}) {
    for (int i = 1; i <= 5; ++i) {
      HttpResponse r = login_raw(email, "not the password " + std::to_string(i));
      EXPECT_EQ(r.status, 401) << email << " attempt " << i;
    }
    HttpResponse sixth = login_raw(email, kPassword);
    EXPECT_EQ(sixth.status, 429) << email;
    EXPECT_EQ(error_code(sixth), "rate_limited");
    int retry = std::atoi(sixth.header("retry-after").c_str());
    EXPECT_GT(retry, 800);
    EXPECT_LE(retry, 900);
  }
  // The lock window passes (moved in the database, not slept): login works
  // and the counter starts over.
  std::string past = format_time_ms(now_ms() - 1000);
  std::string key = "email:" + who.email;
  db() << "UPDATE auth_throttle SET locked_until = :p WHERE key = :k", soci::use(past),
      soci::use(key);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);
  EXPECT_EQ(db_text("SELECT key FROM auth_throttle WHERE key = :k", key), "");
}

TEST_F(AuthTest, RATE2_ParallelGuessesCannotPassTheThreshold) {
  Registered who = register_tenant("burst");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  std::atomic<int> refused{0};
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      long status = login_raw(who.email, "parallel wrong guess " + std::to_string(i)).status;
      ok += status == 200 ? 1 : 0;
      wrong += status == 401 ? 1 : 0;
      refused += status == 429 ? 1 : 0;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 0);
  // Exactly the threshold of guesses was evaluated; the rest were refused unchecked.
  EXPECT_EQ(wrong.load(), 5);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 429);
}

TEST_F(AuthTest, RATE4_IpThrottleAfter30FailuresIgnoresForwardedFor) {
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(login_raw(unique_email("ip"), "wrong wrong wrong wrong").status, 401) << i;
  }
  HttpResponse r = login_raw(unique_email("ip"), "wrong wrong wrong wrong");
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(r.header("retry-after").empty());
  HttpResponse spoofed = login_raw(unique_email("ip"), "wrong wrong wrong wrong", false,
                                   {"X-Forwarded-For: 203.0.113." + std::to_string(7)});
  EXPECT_EQ(spoofed.status, 429);
}

// --- step-up, password change, sessions ----------------------------------------------------------
TEST_F(AuthTest, MFA7_PasswordChangeNeedsRecentAuthAndRevokesOtherSessions) {
  Registered who = register_tenant("pwchange");
  Browser first = login(who.email);
  Browser second = login(who.email);
  // Make the step-up stale.
  std::string stale = format_time_ms(now_ms() - 16 * 60000);
  db() << "UPDATE sessions SET reauthenticated_at = :s WHERE user_id = :u", soci::use(stale),
      soci::use(who.user_id);
  const std::string change = std::string(R"({"current_password":")") + kPassword +
                             R"(","new_password":"a brand new passphrase 2026"})";
  HttpResponse denied = first.call("POST", "/api/v1/me/password", change);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "step_up_required");
  // Without MFA the step-up takes the password; a code alone is refused, not a crash.
  HttpResponse code_only =
      first.call("POST", "/api/v1/auth/reauthenticate", R"({"code":"123456"})");
  EXPECT_EQ(code_only.status, 400);
  EXPECT_THAT(code_only.body, HasSubstr("\"password\""));
  EXPECT_EQ(
      first.call("POST", "/api/v1/auth/reauthenticate", R"({"password":"wrong one here"})").status,
      401);
  EXPECT_EQ(first
                .call("POST", "/api/v1/auth/reauthenticate",
                      std::string(R"({"password":")") + kPassword + "\"}")
                .status,
            200);
  HttpResponse changed = first.call("POST", "/api/v1/me/password", change);
  EXPECT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(second.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(first.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 401);
  EXPECT_EQ(login_raw(who.email, "a brand new passphrase 2026").status, 200);
}

TEST_F(AuthTest, SESS_SessionsListRevokeAndRevokeAll) {
  Registered who = register_tenant("sessions");
  Registered other = register_tenant("other");
  Browser a = login(who.email);
  Browser b = login(who.email);
  Browser c = login(who.email);
  Browser stranger = login(other.email);
  HttpResponse list = a.call("GET", "/api/v1/sessions");
  ASSERT_EQ(list.status, 200);
  rapidjson::Document d = parse(list);
  ASSERT_EQ(d["data"].Size(), 3u);
  int current = 0;
  for (const auto& s : d["data"].GetArray()) {
    current += s["current"].GetBool() ? 1 : 0;
    EXPECT_TRUE(s.HasMember("ip") && s.HasMember("user_agent") && s.HasMember("last_seen_at"));
  }
  EXPECT_EQ(current, 1);
  EXPECT_FALSE(d["page"]["has_more"].GetBool());
  // Another user's session id is not found.
  std::string strangers = db_text("SELECT id FROM sessions WHERE user_id = :u", other.user_id);
  HttpResponse foreign = a.call("DELETE", "/api/v1/sessions/" + strangers);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(stranger.call("GET", "/api/v1/me").status, 200);
  // Revoke b by id.
  std::string b_id = db_text("SELECT id FROM sessions WHERE token_hash = :h", sha256_hex(b.cookie));
  EXPECT_EQ(a.call("DELETE", "/api/v1/sessions/" + b_id).status, 200);
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  // Revoke all but this one.
  HttpResponse keep = a.call("POST", "/api/v1/sessions/revoke-all", R"({"keep_current":true})");
  EXPECT_EQ(keep.status, 200);
  EXPECT_EQ(c.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(a.call("GET", "/api/v1/me").status, 200);
  HttpResponse all = a.call("POST", "/api/v1/sessions/revoke-all");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/me").status, 401);
}

TEST_F(AuthTest, TEN6_SessionPagesAndTamperedCursor) {
  Registered who = register_tenant("pages");
  std::vector<Browser> browsers;
  for (int i = 0; i < 5; ++i) {
    browsers.push_back(login(who.email));
  }
  Browser& b = browsers.back();
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    HttpResponse r =
        b.call("GET", "/api/v1/sessions?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = parse(r);
    for (const auto& s : d["data"].GetArray()) {
      EXPECT_TRUE(seen.insert(s["id"].GetString()).second);
    }
    if (!d["page"]["has_more"].GetBool()) {
      break;
    }
    cursor = d["page"]["next_cursor"].GetString();
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(b.call("GET", "/api/v1/sessions?limit=101").status, 400);
  EXPECT_EQ(b.call("GET", "/api/v1/sessions?limit=0").status, 400);
  HttpResponse first = b.call("GET", "/api/v1/sessions?limit=1");
  std::string good = parse(first)["page"]["next_cursor"].GetString();
  std::string tampered = good;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  HttpResponse bad = b.call("GET", "/api/v1/sessions?cursor=" + tampered);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_code(bad), "invalid_cursor");
  // Another user's cursor is refused too.
  Registered other = register_tenant("pages2");
  Browser o = login(other.email);
  EXPECT_EQ(error_code(o.call("GET", "/api/v1/sessions?cursor=" + good)), "invalid_cursor");
}

TEST_F(AuthTest, TenantRenameIsOwnerOnly) {
  Registered who = register_tenant("owner");
  Browser owner = login(who.email);
  HttpResponse r = owner.call("PATCH", "/api/v1/tenant", R"({"name":"Renamed Org"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("Renamed Org"));
  // A member of the same tenant is forbidden.
  std::string member_email = unique_email("member");
  std::string id = uuid_v7(), now = format_time_ms(now_ms());
  std::string hash = db_text("SELECT password_hash FROM users WHERE id = :u", who.user_id);
  db() << "INSERT INTO users (id, tenant_id, email, display_name, password_hash, role, created_at, "
          "updated_at) VALUES (:i, :t, :e, 'M', :h, 'member', :c, :u)",
      soci::use(id), soci::use(who.tenant_id), soci::use(member_email), soci::use(hash),
      soci::use(now), soci::use(now);
  Browser member = login(member_email);
  HttpResponse denied = member.call("PATCH", "/api/v1/tenant", R"({"name":"Mine now"})");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "forbidden");
}

TEST_F(AuthTest, SeedAliasesAnswerWithDeprecation) {
  Registered who = register_tenant("alias");
  HttpResponse r = post_json("/api/login",
                             R"({"email":")" + who.email + R"(","password":")" + kPassword + "\"}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("link"), "</api/v1/auth/login>; rel=\"successor-version\"");
  EXPECT_TRUE(r.has_header("deprecation"));
}

TEST_F(AuthTest, LOG3_NoAnswerCarriesHashesOrOtherTokens) {
  Registered who = register_tenant("leak");
  Browser a = login(who.email);
  Browser b = login(who.email);
  std::vector<HttpResponse> answers = {
      a.call("GET", "/api/v1/me"), a.call("GET", "/api/v1/sessions"),
      a.call("GET", "/api/v1/tenant"), a.call("POST", "/api/v1/auth/refresh")};
  std::string hash = db_text("SELECT password_hash FROM users WHERE id = :u", who.user_id);
  for (const HttpResponse& r : answers) {
    EXPECT_THAT(r.body, Not(HasSubstr("$argon2")));
    EXPECT_THAT(r.body, Not(HasSubstr(hash)));
    EXPECT_THAT(r.body, Not(HasSubstr(b.cookie)));
    EXPECT_THAT(r.body, Not(HasSubstr(sha256_hex(b.cookie))));
    EXPECT_THAT(r.body, Not(HasSubstr(sha256_hex(a.cookie))));
    EXPECT_THAT(r.body, Not(HasSubstr("token_hash")));
  }
  // And the log never holds a token or password.
  std::ifstream log(std::getenv("PORTCULLIS_TEST_LOG"));
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(all, Not(HasSubstr(a.cookie)));
  EXPECT_THAT(all, Not(HasSubstr(kPassword)));
}

TEST_F(AuthTest, LOG1_AuditRowsForLoginFailureAndLockout) {
  Registered who = register_tenant("audit");
  login_raw(who.email, "definitely the wrong one");
  std::string outcome = db_text(
      "SELECT outcome FROM audit_events WHERE user_id = :u AND event = 'auth.login' ORDER BY id "
      "DESC LIMIT 1",
      who.user_id);
  EXPECT_EQ(outcome, "failure");
  std::string details = db_text(
      "SELECT CAST(details AS TEXT) FROM audit_events WHERE user_id = :u AND event = 'auth.login' "
      "ORDER BY id DESC LIMIT 1",
      who.user_id);
  EXPECT_THAT(details, Not(HasSubstr("bad_password")));  // the reason is in the log only
}

// --- #9: one verification service, atomic throttles, typed e-mails -------------------------------

// #9 item 2: a rejected new password is the caller's choice, not a failed check.
TEST_F(AuthTest, RATE1_RejectedNewPasswordsAreNotFailedChecks) {
  Registered who = register_tenant("weaknew");
  Browser b = login(who.email);
  const std::string weak =
      std::string(R"({"current_password":")") + kPassword + R"(","new_password":"short"})";
  for (int i = 1; i <= 7; ++i) {
    HttpResponse r = b.call("POST", "/api/v1/me/password", weak);
    EXPECT_EQ(r.status, 400) << "attempt " << i << ": " << r.body;
    EXPECT_EQ(error_code(r), "validation_failed") << i;
  }
  EXPECT_EQ(db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k AND "
                    "failures > 0",
                    "email:" + who.email),
            "");
  HttpResponse after = login_raw(who.email, kPassword);
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_FALSE(after.has_header("retry-after"));
}

// #9 item 2 (guard): wrong current passwords on a password change lock like
// login, and the lock has an end (locked_until) from the attempt that set it.
TEST_F(AuthTest, RATE1_WrongCurrentPasswordsLockWithAnEnd) {
  Registered who = register_tenant("lockend");
  Browser b = login(who.email);
  const std::string wrong = R"({"current_password":"not my password at all","new_password":")"
                            "a brand new passphrase 2027\"}";
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(b.call("POST", "/api/v1/me/password", wrong).status, 400) << i;
  }
  HttpResponse sixth = b.call("POST", "/api/v1/me/password", wrong);
  EXPECT_EQ(sixth.status, 429);
  int retry = std::atoi(sixth.header("retry-after").c_str());
  EXPECT_GT(retry, 800);
  EXPECT_LE(retry, 900);
  EXPECT_NE(db_text("SELECT CAST(locked_until AS TEXT) FROM auth_throttle WHERE key = :k",
                    "email:" + who.email),
            "");
  EXPECT_EQ(login_raw(who.email, kPassword).status, 429);
}

// #9 item 16: the per-IP throttle counts in one statement; a parallel burst
// cannot pass it.
TEST_F(AuthTest, RATE4_ParallelBurstFromOneIpStopsAtTheLimit) {
  constexpr int kBurst = 45;  // the limit is 30
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  for (int i = 0; i < kBurst; ++i) {
    threads.emplace_back([&] {
      long status = login_raw(unique_email("ipburst"), "wrong wrong wrong wrong").status;
      (status == 401 ? wrong : status == 429 ? refused : other) += 1;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(wrong.load(), 30);
  EXPECT_EQ(refused.load(), kBurst - 30);
  EXPECT_EQ(
      db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k", "ip:127.0.0.1"),
      std::to_string(kBurst));
}

// #9 item 14: what is typed into the e-mail field is stored and logged only as
// a valid, normalised address, or else as a keyed hash.
TEST_F(AuthTest, LOG3_TypedEmailIsKeptOnlyAsAValidAddressOrAKeyedHash) {
  const std::string typed = "Hunter2 Secret Passphrase " + random_hex(6);
  HttpResponse r = login_raw(typed, "whatever it is");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "invalid_credentials");
  std::string rid = r.header("x-request-id");
  ASSERT_FALSE(rid.empty());
  std::string target = db_text(
      "SELECT target_id FROM audit_events WHERE request_id = :r AND event = 'auth.login'", rid);
  ASSERT_FALSE(target.empty());
  EXPECT_THAT(target, Not(HasSubstr("Secret")));
  EXPECT_THAT(target, Not(HasSubstr("secret")));
  EXPECT_TRUE(std::regex_match(target, std::regex("h:[0-9a-f]{64}"))) << target;
  // The same typed text gives the same key (it is counted), and nothing stored holds it.
  EXPECT_EQ(db_text("SELECT key FROM auth_throttle WHERE key = :k", "email:" + target),
            "email:" + target);
  int stored = 0;
  std::string like = "%" + typed.substr(typed.size() - 12) + "%";
  db() << "SELECT COUNT(*) FROM auth_throttle WHERE key LIKE :l", soci::use(like),
      soci::into(stored);
  EXPECT_EQ(stored, 0);
  db() << "SELECT COUNT(*) FROM audit_events WHERE target_id LIKE :l OR CAST(details AS TEXT) "
          "LIKE :l2",
      soci::use(like), soci::use(like), soci::into(stored);
  EXPECT_EQ(stored, 0);
  std::ifstream log(std::getenv("PORTCULLIS_TEST_LOG"));
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(all, Not(HasSubstr(typed.substr(typed.size() - 12))));
  // A valid address is kept as itself, normalised.
  Registered who = register_tenant("typed");
  std::string upper = who.email;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  HttpResponse v = login_raw("  " + upper, "wrong password here");
  EXPECT_EQ(v.status, 401);
  EXPECT_EQ(
      db_text("SELECT target_id FROM audit_events WHERE request_id = :r", v.header("x-request-id")),
      who.email);
}

// #9 item 8: require_mfa reaches sessions that already exist.
TEST_F(AuthTest, MFA_RequireMfaMakesLiveSessionsEnrolmentOnly) {
  Registered who = register_tenant("reqlive");
  Browser owner = login(who.email);
  Browser other = login(who.email);
  ASSERT_EQ(other.call("GET", "/api/v1/memories").status, 200);
  ASSERT_EQ(owner.call("PATCH", "/api/v1/tenant", R"({"require_mfa":true})").status, 200);
  HttpResponse denied = other.call("GET", "/api/v1/memories");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "mfa_enrollment_required");
  HttpResponse me = other.call("GET", "/api/v1/me");
  EXPECT_EQ(me.status, 200);
  EXPECT_THAT(me.body, HasSubstr("\"mfa_enrollment_required\":true"));
  EXPECT_EQ(other.call("POST", "/api/v1/mfa/totp/setup").status, 200);
  EXPECT_EQ(error_code(owner.call("GET", "/api/v1/sessions")), "mfa_enrollment_required");
  EXPECT_EQ(
      db_text("SELECT auth_state FROM sessions WHERE token_hash = :h", sha256_hex(other.cookie)),
      "enrollment_required");
}

// #9 item 9: an enrolment-only session idles out like any other.
TEST_F(AuthTest, SESS4_EnrolmentOnlySessionsIdleOut) {
  Registered who = register_tenant("enridle");
  Browser owner = login(who.email);
  ASSERT_EQ(owner.call("PATCH", "/api/v1/tenant", R"({"require_mfa":true})").status, 200);
  Browser enrolling = login(who.email);
  ASSERT_EQ(enrolling.call("GET", "/api/v1/me").status, 200);
  // 31 minutes without a request (moved in the database, not slept).
  std::string idle = format_time_ms(now_ms() - 31 * 60000);
  std::string hash = sha256_hex(enrolling.cookie);
  db() << "UPDATE sessions SET last_seen_at = :l WHERE token_hash = :h", soci::use(idle),
      soci::use(hash);
  HttpResponse r = enrolling.call("GET", "/api/v1/me");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "session_expired");
  EXPECT_EQ(db_text("SELECT id FROM sessions WHERE token_hash = :h", sha256_hex(enrolling.cookie)),
            "");
}

// #9 item 9: the idle timeout applies to every state, a pending session too
// (here one whose expiry is still an hour away).
TEST_F(AuthTest, SESS4_PendingSessionsIdleOutToo) {
  Registered who = register_tenant("pendidle");
  int64_t now = now_ms();
  std::string token =
      insert_session(who, "mfa_pending", now - 40 * 60000, now - 31 * 60000, now + 3600000);
  Browser pending;
  pending.cookie = token;
  pending.csrf =
      db_text("SELECT csrf_token FROM sessions WHERE token_hash = :h", sha256_hex(token));
  HttpResponse r = pending.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"123456"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "session_expired");
}

// #9 item 24: each audited event of these flows is written exactly once.
TEST_F(AuthTest, LOG1_AuthEventsAreAuditedExactlyOnce) {
  Registered who;
  who.email = unique_email("once");
  HttpResponse reg = post_json("/api/v1/auth/register", R"({"tenant_name":"Once Org","email":")" +
                                                            who.email + R"(","password":")" +
                                                            kPassword + R"(","display_name":"O"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(audit_count(reg.header("x-request-id"), "auth.register"), 1);
  Browser a = login(who.email);
  Browser b = login(who.email);
  HttpResponse refresh = a.call("POST", "/api/v1/auth/refresh");
  ASSERT_EQ(refresh.status, 200);
  EXPECT_EQ(audit_count(refresh.header("x-request-id"), "auth.refresh"), 1);
  a = browser_from(refresh);
  std::string b_id = db_text("SELECT id FROM sessions WHERE token_hash = :h", sha256_hex(b.cookie));
  HttpResponse revoke = a.call("DELETE", "/api/v1/sessions/" + b_id);
  ASSERT_EQ(revoke.status, 200);
  EXPECT_EQ(audit_count(revoke.header("x-request-id"), "session.revoked"), 1);
  HttpResponse change = a.call("POST", "/api/v1/me/password",
                               std::string(R"({"current_password":")") + kPassword +
                                   R"(","new_password":"another fine passphrase 99"})");
  ASSERT_EQ(change.status, 200) << change.body;
  EXPECT_EQ(audit_count(change.header("x-request-id"), "auth.password_changed"), 1);
  HttpResponse logout = a.call("POST", "/api/v1/auth/logout");
  ASSERT_EQ(logout.status, 200);
  EXPECT_EQ(audit_count(logout.header("x-request-id"), "auth.logout"), 1);
  // Lockout: the failure that locks writes it once; the refusals after it none.
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(
        login_raw(who.email, "wrong guess number " + std::to_string(i)).header("x-request-id"));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(audit_count(ids[i], "auth.lockout"), i == 4 ? 1 : 0) << i;
    EXPECT_EQ(audit_count(ids[i], "auth.login"), 1) << i;
  }
}

}  // namespace
}  // namespace portcullis::testing
