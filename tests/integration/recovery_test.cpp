// Forgot / reset password through nginx (SECURITY-BAR REC-1…4, MFA-8,
// RATE-5): the request does the same work for every address, the deliverer
// resolves it and mails a link (real loopback SMTP, smtp_sink.py), and the
// token in that link resets the password once, never logs the user in, and
// ends every session.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/hash.h"
#include "app/crypto/random.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/http_client.h"
#include "tests/integration/recovery_mail.h"

namespace portcullis::testing {
namespace {

using recovery_mail::reset_mails;
using recovery_mail::reset_token_in;
using recovery_mail::SmtpSink;
using ::testing::HasSubstr;
using ::testing::Not;

const char* kNewPassword = "violet harbour lantern sings 7714";

HttpResponse forgot(const std::string& email) {
  return post_json("/api/v1/auth/password/forgot", R"({"email":")" + email + "\"}");
}

HttpResponse reset(const std::string& token,
                   const std::string& password,
                   const std::string& extra = "") {
  return post_json(
      "/api/v1/auth/password/reset",
      R"({"token":")" + token + R"(","new_password":")" + password + "\"" + extra + "}");
}

// The body without its request id (the only part that may differ).
std::string body_shape(const HttpResponse& r) { return r.body; }

std::string count_rows(const std::string& sql, const std::string& param) {
  return db_text("SELECT CAST(COUNT(*) AS TEXT) FROM " + sql, param);
}

// Asks for a reset of `email`, delivers, and returns the token of the newest
// reset mail the sink holds for it ("" if none).
std::string request_token(SmtpSink& sink, const std::string& email) {
  EXPECT_EQ(forgot(email).status, 202);
  size_t before = reset_mails(sink.messages_to(email)).size();
  std::string out = sink.deliver();
  std::vector<std::string> mails = reset_mails(sink.messages_to(email));
  EXPECT_EQ(mails.size(), before + 1) << out;
  if (mails.size() != before + 1) {
    return "";
  }
  // Files are named by a counter: the newest sorts last.
  std::vector<std::string> tokens;
  for (const std::string& m : mails) {
    tokens.push_back(reset_token_in(m));
  }
  // The new token is the one not seen before.
  static std::vector<std::string> seen;
  for (const std::string& t : tokens) {
    if (std::find(seen.begin(), seen.end(), t) == seen.end()) {
      seen.push_back(t);
      return t;
    }
  }
  return "";
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'reset-%'"; }
};

// REC-1: known and unknown addresses get the same 202 and body, and the
// request does the same work: one outbox row and one audit row, neither
// naming an account; no token exists before delivery.
TEST_F(RecoveryTest, REC1_KnownAndUnknownAddressSameAnswerSameWork) {
  Registered known = register_tenant("rec-known");
  std::string unknown = unique_email("rec-unknown");
  HttpResponse a = forgot(known.email);
  HttpResponse b = forgot(unknown);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(b.status, 202) << b.body;
  EXPECT_EQ(body_shape(a), body_shape(b));
  EXPECT_FALSE(a.has_header("set-cookie"));
  for (const auto& [email, r] : {std::pair{known.email, a}, std::pair{unknown, b}}) {
    EXPECT_EQ(count_rows("outbox WHERE to_address = :a", email), "1") << email;
    EXPECT_EQ(count_rows("outbox WHERE to_address = :a AND kind = 'password_reset_request' AND "
                         "tenant_id IS NULL AND user_id IS NULL AND status = 'pending'",
                         email),
              "1");
    std::string rid = r.header("x-request-id");
    EXPECT_EQ(audit_count(rid, "auth.password_reset_requested"), 1);
    EXPECT_EQ(count_rows("audit_events WHERE request_id = :r", rid), "1");
    EXPECT_EQ(count_rows("audit_events WHERE request_id = :r AND tenant_id IS NULL AND user_id "
                         "IS NULL AND outcome = 'success'",
                         rid),
              "1");
  }
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u", known.user_id), "0");
}

// REC-1: the time is printed, not asserted (the request never looks the
// account up, so both sides run the same statements).
TEST_F(RecoveryTest, REC1_TimingOfKnownAndUnknownAddressesIsPrinted) {
  ScopedServerEnv env({"PORTCULLIS_RESET_REQUESTS_PER_EMAIL=1000"});
  Registered known = register_tenant("rec-timing");
  std::string unknown = unique_email("rec-timing-unknown");
  using Clock = std::chrono::steady_clock;
  Clock::duration t_known{}, t_unknown{};
  const int kRounds = 60;  // 120 requests, alternating
  for (int i = 0; i < kRounds; ++i) {
    Clock::time_point t0 = Clock::now();
    ASSERT_EQ(forgot(known.email).status, 202);
    Clock::time_point t1 = Clock::now();
    ASSERT_EQ(forgot(unknown).status, 202);
    t_known += t1 - t0;
    t_unknown += Clock::now() - t1;
  }
  double ratio = static_cast<double>(t_known.count()) / static_cast<double>(t_unknown.count());
  std::printf(
      "[ REC-1 ] forgot-password timing over %d alternating requests: known/unknown = %.3f\n",
      2 * kRounds, ratio);
  // Drained so the other tests' deliveries stay small.
  db() << "UPDATE outbox SET status = 'dropped' WHERE to_address IN (:a, :b)",
      soci::use(known.email), soci::use(unknown);
}

// REC-1 / RATE-5: per address, the 4th request within the hour is 429 with
// Retry-After (known or not); a throttled IP is 429 too.
TEST_F(RecoveryTest, REC1_FourthRequestPerAddressAndBusyIpAre429) {
  std::string email = unique_email("rec-limit");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(forgot(email).status, 202);
  }
  HttpResponse r = forgot(email);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(code_of(r), "rate_limited");
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(count_rows("outbox WHERE to_address = :a", email), "3");

  ScopedServerEnv env({"PORTCULLIS_RESET_REQUESTS_PER_IP=2"});
  HttpRequest q;
  q.method = "POST";
  q.path = "/api/v1/auth/password/forgot";
  q.headers = {"Content-Type: application/json"};
  q.source_ip = "127.0.0.9";
  int limited = 0;
  for (int i = 0; i < 3; ++i) {
    q.body = R"({"email":")" + unique_email("rec-ip") + "\"}";
    limited += send(q).status == 429 ? 1 : 0;
  }
  EXPECT_EQ(limited, 1);
}

TEST_F(RecoveryTest, BadForgotBodiesAre400WithTheEnvelope) {
  for (const char* body : {R"({})", R"({"email":42})", R"({"email":"not-an-address"})",
                           R"({"email":"a@b.test","extra":1})", R"([1])"}) {
    HttpResponse r = post_json("/api/v1/auth/password/forgot", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_FALSE(code_of(r).empty()) << body;
  }
  for (const char* body : {R"({})", R"({"token":"x"})", R"({"token":1,"new_password":"x"})",
                           R"({"token":"x","new_password":"y","nope":true})"}) {
    HttpResponse r = post_json("/api/v1/auth/password/reset", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_FALSE(code_of(r).empty()) << body;
  }
}

// REC-2/3/4, MFA-8: only the known address gets a mail, built on
// PUBLIC_BASE_URL; its token resets once; no session is created; every old
// session ends; the notice follows; the token is stored only as a keyed hash.
TEST_F(RecoveryTest, REC4_MFA8_LinkResetsOnceKillsSessionsCreatesNone) {
  SmtpSink sink;
  Registered who = register_tenant("rec-flow");
  std::string unknown = unique_email("rec-flow-unknown");
  Browser old_session = login(who.email);
  ASSERT_EQ(forgot(unknown).status, 202);
  std::string token = request_token(sink, who.email);
  ASSERT_EQ(token.size(), 43u);  // 256 bits, base64url
  EXPECT_TRUE(sink.messages_to(unknown).empty());
  EXPECT_EQ(count_rows("outbox WHERE to_address = :a AND status = 'dropped'", unknown), "1");
  std::vector<std::string> mails = reset_mails(sink.messages_to(who.email));
  EXPECT_THAT(mails.back(), HasSubstr("https://app.portcullis.test/#/reset?token=" + token));

  // The raw token is nowhere in the database; its keyed hash is not SHA-256.
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u AND purpose = 'password_reset' AND "
                       "used_at IS NULL",
                       who.user_id),
            "1");
  std::string stored =
      db_text("SELECT token_hash FROM user_tokens WHERE user_id = :u", who.user_id);
  EXPECT_EQ(stored.size(), 64u);
  EXPECT_NE(stored, sha256_hex(token));
  for (const std::string table : {"user_tokens", "outbox", "audit_events"}) {
    const std::string url = mail_sink::env_of("PORTCULLIS_TEST_DB_URL");
    std::string dump = mail_sink::shell_output(
        is_postgres()
            ? "psql -X -At \"" + url + "\" -c 'SELECT CAST(t AS TEXT) FROM " + table + " t' 2>&1"
            : "sqlite3 \"" + url.substr(std::string("sqlite://").size()) + "\" '.dump " + table +
                  "' 2>&1");
    EXPECT_THAT(dump, Not(HasSubstr(token))) << table;
    EXPECT_THAT(dump, HasSubstr(table == "user_tokens" ? stored : who.email)) << table;
  }

  // Policy first: a weak password is refused and the token stays usable.
  HttpResponse weak = reset(token, "short");
  EXPECT_EQ(weak.status, 400) << weak.body;
  EXPECT_EQ(code_of(weak), "validation_failed");

  HttpResponse ok = reset(token, kNewPassword);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("\"reset\":true"));
  EXPECT_FALSE(ok.has_header("set-cookie"));
  EXPECT_EQ(audit_count(ok.header("x-request-id"), "auth.password_reset"), 1);

  // Once only.
  HttpResponse again = reset(token, "another strong passphrase 5521");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(code_of(again), "invalid_token");

  // Every old session is gone; the new password works; the old does not.
  EXPECT_EQ(old_session.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 401);
  EXPECT_EQ(login_raw(who.email, kNewPassword).status, 200);

  // The notice (REC-4) goes out with the next delivery.
  sink.deliver();
  int notices = 0;
  for (const std::string& m : sink.messages_to(who.email)) {
    notices += m.find("Subject: Your portcullis password was changed") != std::string::npos;
    EXPECT_THAT(m, Not(HasSubstr(kNewPassword)));
  }
  EXPECT_EQ(notices, 1);
}

// REC-2: invalid, expired, older and voided tokens all give the same 400.
TEST_F(RecoveryTest, REC2_ExpiredOlderAndVoidedTokensFailAlike) {
  SmtpSink sink;
  Registered who = register_tenant("rec-expiry");
  std::string first = request_token(sink, who.email);
  std::string second = request_token(sink, who.email);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  ASSERT_NE(first, second);

  HttpResponse bogus = reset(base64url_encode(random_bytes(32)), kNewPassword);
  HttpResponse older = reset(first, kNewPassword);
  EXPECT_EQ(bogus.status, 400);
  EXPECT_EQ(code_of(bogus), "invalid_token");
  EXPECT_EQ(older.status, 400);
  EXPECT_EQ(code_of(older), "invalid_token");

  // Expired: the newest, 31 minutes on.
  db() << (is_postgres() ? "UPDATE user_tokens SET expires_at = now() - interval '1 minute' "
                           "WHERE user_id = CAST(:u AS uuid)"
                         : "UPDATE user_tokens SET expires_at = '2000-01-01T00:00:00.000Z' "
                           "WHERE user_id = :u"),
      soci::use(who.user_id);
  HttpResponse expired = reset(second, kNewPassword);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(code_of(expired), "invalid_token");

  // A normal password change voids a live token.
  std::string third = request_token(sink, who.email);
  Browser b = login(who.email);
  ASSERT_EQ(b.call("POST", "/api/v1/me/password",
                   R"({"current_password":")" + std::string(kPassword) +
                       R"(","new_password":"quiet copper kettle hums 8080"})")
                .status,
            200);
  HttpResponse voided = reset(third, kNewPassword);
  EXPECT_EQ(voided.status, 400);
  EXPECT_EQ(code_of(voided), "invalid_token");
  // The bodies of every failure are the same but for the request id.
  auto strip = [](const HttpResponse& r) {
    rapidjson::Document d = parse(r);
    if (d.IsObject() && d.HasMember("error")) {
      d["error"].RemoveMember("request_id");
    }
    return d;
  };
  EXPECT_TRUE(strip(bogus) == strip(expired));
  EXPECT_TRUE(strip(older) == strip(voided));
}

// A token is bound to its user: A's token resets A, never B; a body naming
// B is refused (the API takes no e-mail).
TEST_F(RecoveryTest, REC2_TokenIsBoundToItsUser) {
  SmtpSink sink;
  Registered a = register_tenant("rec-bound-a");
  Registered b = register_tenant("rec-bound-b");
  std::string token = request_token(sink, a.email);
  HttpResponse named = post_json("/api/v1/auth/password/reset",
                                 R"({"token":")" + token + R"(","new_password":")" + kNewPassword +
                                     R"(","email":")" + b.email + "\"}");
  EXPECT_EQ(named.status, 400) << named.body;
  EXPECT_EQ(login_raw(b.email, kPassword).status, 200);
  ASSERT_EQ(reset(token, kNewPassword).status, 200);
  EXPECT_EQ(login_raw(a.email, kNewPassword).status, 200);
  EXPECT_EQ(login_raw(b.email, kPassword).status, 200);
  EXPECT_EQ(login_raw(b.email, kNewPassword).status, 401);
}

// MFA-8 / RATE-5: an MFA user needs the code; without it (or with a wrong
// one) the token is not spent; with a right TOTP the reset succeeds and the
// next login still asks for the second factor.
TEST_F(RecoveryTest, MFA8_ResetOfAnMfaUserNeedsTheCodeAndNeverLogsIn) {
  SmtpSink sink;
  Enrolled e = enroll("rec-mfa");
  std::string token = request_token(sink, e.who.email);
  HttpResponse missing = reset(token, kNewPassword);
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(code_of(missing), "mfa_code_required");
  HttpResponse wrong = reset(token, kNewPassword, R"(,"code":"000000")");
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_EQ(code_of(wrong), "invalid_code");
  EXPECT_EQ(login_raw(e.who.email, kNewPassword).status, 401);  // nothing changed

  HttpResponse ok = reset(token, kNewPassword, R"(,"code":")" + oathtool(e.secret, 1) + "\"");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(ok.has_header("set-cookie"));
  EXPECT_EQ(e.browser.call("GET", "/api/v1/me").status, 401);
  HttpResponse next = login_raw(e.who.email, kNewPassword);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_THAT(next.body, HasSubstr("\"mfa_required\":true"));
}

// RATE-1 + REC-4: a reset clears the e-mail's lockout.
TEST_F(RecoveryTest, REC4_ResetClearsTheLockout) {
  SmtpSink sink;
  Registered who = register_tenant("rec-lockout");
  for (int i = 0; i < 5; ++i) {
    login_raw(who.email, "wrong password number " + std::to_string(i));
  }
  ASSERT_EQ(login_raw(who.email, kPassword).status, 429);
  std::string token = request_token(sink, who.email);
  ASSERT_EQ(reset(token, kNewPassword).status, 200);
  EXPECT_EQ(login_raw(who.email, kNewPassword).status, 200);
}

}  // namespace
}  // namespace portcullis::testing
