// E-mail verification through nginx (SECURITY-BAR REC-5, AUTH-7, RATE):
// registration asks for a verification mail, the deliverer mints the token
// and mails the link (real loopback SMTP, smtp_sink.py), the token verifies
// the address once; resend is cooled down per account, also under
// concurrency; a tenant that requires verified addresses holds unverified
// sessions back to me, verify, resend and logout, after the second factor
// and before MFA enrolment; invited and CLI-made users start verified.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/http/router.h"

#include "handlers/routes.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/http_client.h"
#include "tests/integration/mail_sink.h"

namespace portcullis::testing {
namespace {

using mail_sink::SmtpSink;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSubject = "Confirm your portcullis e-mail address";
constexpr const char* kHeld = "email_verification_required";

std::string count_rows(const std::string& sql, const std::string& param) {
  return db_text("SELECT CAST(COUNT(*) AS TEXT) FROM " + sql, param);
}

// Verification requests recorded for a user (any status).
std::string request_rows(const std::string& user_id) {
  return count_rows("outbox WHERE user_id = :u AND kind = 'email_verify_request'", user_id);
}

// A new tenant and owner through the API, its verification request left
// pending (register_tenant() drops it).
Registered register_owner(const std::string& tag) {
  Registered out;
  out.email = unique_email(tag);
  out.tenant_name = "Verify " + random_hex(3);
  HttpResponse r =
      post_json("/api/v1/auth/register", R"({"tenant_name":")" + out.tenant_name +
                                             R"(","email":")" + out.email + R"(","password":")" +
                                             kPassword + R"(","display_name":"Vera"})");
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember("user")) {
    out.user_id = d["user"]["id"].GetString();
    out.tenant_id = d["tenant"]["id"].GetString();
  }
  return out;
}

// The token of the verification link in a decoded message ("" if none).
std::string token_in(const std::string& text) {
  const std::string marker = "https://app.portcullis.test/#/verify-email?token=";
  size_t at = text.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + marker.size();
  size_t end = start;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                               text[end] == '-' || text[end] == '_')) {
    ++end;
  }
  return text.substr(start, end - start);
}

// Delivers what is due and returns the verification tokens mailed to
// `email` that were not in the sink before (in no particular order).
std::vector<std::string> deliver_new_tokens(SmtpSink& sink, const std::string& email) {
  std::vector<std::string> before;
  for (const std::string& m : sink.messages_to(email, kSubject)) {
    before.push_back(token_in(m));
  }
  sink.deliver();
  std::vector<std::string> out;
  for (const std::string& m : sink.messages_to(email, kSubject)) {
    std::string t = token_in(m);
    if (std::find(before.begin(), before.end(), t) == before.end()) {
      out.push_back(t);
    }
  }
  return out;
}

// Delivers and returns the one new verification token for `email` ("" and
// a failure when there is not exactly one).
std::string deliver_token(SmtpSink& sink, const std::string& email) {
  std::vector<std::string> tokens = deliver_new_tokens(sink, email);
  EXPECT_EQ(tokens.size(), 1u) << email;
  return tokens.size() == 1 ? tokens[0] : "";
}

HttpResponse verify(const std::string& token) {
  return post_json("/api/v1/auth/email/verify", R"({"token":")" + token + "\"}");
}

HttpResponse resend(const Browser& b) { return b.call("POST", "/api/v1/auth/email/verify/resend"); }

void require_verified_email(const std::string& tenant_id, bool on = true) {
  const std::string value = on ? "1" : "0";  // bound by reference: must outlive the statement
  db() << (is_postgres() ? "UPDATE tenants SET require_verified_email = CAST(:v AS boolean) "
                           "WHERE id = CAST(:t AS uuid)"
                         : "UPDATE tenants SET require_verified_email = CAST(:v AS INTEGER) "
                           "WHERE id = :t"),
      soci::use(value), soci::use(tenant_id);
}

void require_mfa(const std::string& tenant_id) {
  db() << (is_postgres() ? "UPDATE tenants SET require_mfa = true WHERE id = CAST(:t AS uuid)"
                         : "UPDATE tenants SET require_mfa = 1 WHERE id = :t"),
      soci::use(tenant_id);
}

bool flag(const HttpResponse& r, const char* name) {
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember(name) && d[name].IsBool() && d[name].GetBool();
}

bool has_member(const HttpResponse& r, const char* name) {
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember(name);
}

std::string verified_at(const std::string& user_id) {
  return db_text("SELECT COALESCE(CAST(email_verified_at AS TEXT), '-') FROM users WHERE id = :u",
                 user_id);
}

// The error body without its request id (the only part that may differ).
rapidjson::Document without_request_id(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember("error") && d["error"].IsObject()) {
    d["error"].RemoveMember("request_id");
  }
  return d;
}

class VerificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%' OR key LIKE 'verify-resend:%'";
  }
};

// REC-5: one mail, a link from PUBLIC_BASE_URL, a 256-bit token stored only
// as its keyed hash with the address; it verifies once.
TEST_F(VerificationTest, REC5_RegisterMailsOneLinkWhoseTokenVerifiesOnce) {
  SmtpSink sink;
  Registered who = register_owner("verify-once");
  EXPECT_EQ(request_rows(who.user_id), "1");
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u", who.user_id), "0")
      << "no token before delivery";
  Browser b = login(who.email);
  HttpResponse me = b.call("GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_THAT(me.body, HasSubstr("\"email_verified\":false"));
  EXPECT_FALSE(has_member(me, kHeld)) << "the tenant does not require it";

  std::string out = sink.deliver();
  std::vector<std::string> mails = sink.messages_to(who.email);
  ASSERT_EQ(mails.size(), 1u) << out;
  EXPECT_THAT(mails[0], HasSubstr("\r\nSubject: " + std::string(kSubject) + "\r\n"));
  EXPECT_THAT(mails[0], Not(HasSubstr(kPassword)));
  EXPECT_THAT(mails[0], Not(HasSubstr(b.cookie)));
  std::string token = token_in(mails[0]);
  ASSERT_EQ(token.size(), 43u) << mails[0];

  // Stored: the keyed hash and the address, never the token.
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u AND purpose = 'email_verify' AND "
                       "used_at IS NULL",
                       who.user_id),
            "1");
  std::string stored =
      db_text("SELECT token_hash FROM user_tokens WHERE user_id = :u AND purpose = 'email_verify'",
              who.user_id);
  EXPECT_EQ(stored.size(), 64u);
  EXPECT_NE(stored, sha256_hex(token));
  EXPECT_EQ(db_text("SELECT email FROM user_tokens WHERE user_id = :u", who.user_id), who.email);
  const std::string url = mail_sink::env_of("PORTCULLIS_TEST_DB_URL");
  std::string dump = mail_sink::shell_output(
      is_postgres()
          ? "psql -X -At \"" + url + "\" -c 'SELECT CAST(t AS TEXT) FROM user_tokens t' 2>&1"
          : "sqlite3 \"" + url.substr(std::string("sqlite://").size()) +
                "\" '.dump user_tokens' 2>&1");
  EXPECT_THAT(dump, HasSubstr(stored));
  EXPECT_THAT(dump, Not(HasSubstr(token)));

  // A resend before verifying: its row is still pending when the link is
  // opened.
  ASSERT_EQ(resend(b).status, 202);
  HttpResponse ok = verify(token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(flag(ok, "verified")) << ok.body;
  EXPECT_FALSE(ok.has_header("set-cookie"));
  EXPECT_EQ(audit_count(ok.header("x-request-id"), "auth.email_verified"), 1);
  EXPECT_NE(verified_at(who.user_id), "-");
  HttpResponse after = b.call("GET", "/api/v1/me");
  EXPECT_THAT(after.body, HasSubstr("\"email_verified\":true"));

  // Once only; the failure is audited.
  HttpResponse again = verify(token);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(code_of(again), "invalid_token");
  EXPECT_EQ(db_text("SELECT outcome FROM audit_events WHERE request_id = :r",
                    again.header("x-request-id")),
            "failure");
  // A verified account is mailed nothing more: the pending request is
  // dropped at delivery and no token is minted.
  EXPECT_TRUE(deliver_new_tokens(sink, who.email).empty());
  EXPECT_EQ(count_rows("outbox WHERE user_id = :u AND kind = 'email_verify_request' AND "
                       "status = 'dropped'",
                       who.user_id),
            "1");
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u", who.user_id), "1");
}

// REC-5: an older, an expired, a foreign-address and an unknown token fail
// alike (400 invalid_token, same body), and none verifies.
TEST_F(VerificationTest, REC5_OlderExpiredAndMovedTokensFailAlike) {
  SmtpSink sink;
  Registered who = register_owner("verify-expiry");
  std::string first = deliver_token(sink, who.email);
  Browser b = login(who.email);
  ASSERT_EQ(resend(b).status, 202);
  std::string second = deliver_token(sink, who.email);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  ASSERT_NE(first, second);

  HttpResponse older = verify(first);
  EXPECT_EQ(older.status, 400) << older.body;
  EXPECT_EQ(code_of(older), "invalid_token");
  HttpResponse bogus = verify(base64url_encode(random_bytes(32)));
  EXPECT_EQ(bogus.status, 400);
  EXPECT_EQ(code_of(bogus), "invalid_token");

  // The newest, past its 24 hours.
  db() << (is_postgres() ? "UPDATE user_tokens SET expires_at = now() - interval '1 minute' "
                           "WHERE user_id = CAST(:u AS uuid)"
                         : "UPDATE user_tokens SET expires_at = '2000-01-01T00:00:00.000Z' "
                           "WHERE user_id = :u"),
      soci::use(who.user_id);
  HttpResponse expired = verify(second);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(code_of(expired), "invalid_token");
  EXPECT_EQ(verified_at(who.user_id), "-");
  EXPECT_TRUE(without_request_id(older) == without_request_id(expired));
  EXPECT_TRUE(without_request_id(bogus) == without_request_id(expired));
  EXPECT_EQ(parse(expired)["error"]["message"].GetString(),
            std::string("The verification link is not valid or has expired."));

  // A token for an address the account no longer has proves nothing.
  Registered moved = register_owner("verify-moved");
  std::string token = deliver_token(sink, moved.email);
  ASSERT_FALSE(token.empty());
  std::string elsewhere = unique_email("verify-elsewhere");
  db() << (is_postgres() ? "UPDATE users SET email = :e WHERE id = CAST(:u AS uuid)"
                         : "UPDATE users SET email = :e WHERE id = :u"),
      soci::use(elsewhere), soci::use(moved.user_id);
  HttpResponse stale = verify(token);
  EXPECT_EQ(stale.status, 400) << stale.body;
  EXPECT_EQ(code_of(stale), "invalid_token");
  EXPECT_EQ(verified_at(moved.user_id), "-");
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u AND used_at IS NULL", moved.user_id), "1")
      << "a refused token is not spent";
}

// RATE: one resend per account per cool-down (429 with Retry-After); a
// verified account gets 409.
TEST_F(VerificationTest, RATE_ResendIsCooledDownAndRefusedOnceVerified) {
  SmtpSink sink;
  Registered who = register_owner("verify-resend");
  Browser b = login(who.email);
  HttpResponse first = resend(b);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_TRUE(flag(first, "accepted"));
  EXPECT_EQ(audit_count(first.header("x-request-id"), "auth.email_verification_requested"), 1);
  EXPECT_EQ(request_rows(who.user_id), "2");
  HttpResponse second = resend(b);
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_EQ(code_of(second), "rate_limited");
  int retry = std::atoi(second.header("retry-after").c_str());
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(request_rows(who.user_id), "2");

  // Two requests, two mints: only the newest token verifies.
  std::vector<std::string> tokens = deliver_new_tokens(sink, who.email);
  ASSERT_EQ(tokens.size(), 2u);
  int verified = 0;
  for (const std::string& t : tokens) {
    verified += verify(t).status == 200;
  }
  EXPECT_EQ(verified, 1);
  db() << "DELETE FROM auth_throttle WHERE key LIKE 'verify-resend:%'";
  HttpResponse done = resend(b);
  EXPECT_EQ(done.status, 409) << done.body;
  EXPECT_EQ(code_of(done), "already_verified");
  EXPECT_EQ(request_rows(who.user_id), "2");
}

// RATE under concurrency: 8 parallel resends enqueue exactly one row.
TEST_F(VerificationTest, RATE_EightParallelResendsEnqueueOneRow) {
  Registered who = register_owner("verify-parallel");
  Browser b = login(who.email);
  std::atomic<int> accepted{0}, limited{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      int status = resend(b).status;
      (status == 202 ? accepted : status == 429 ? limited : other)++;
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(limited.load(), 7);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(request_rows(who.user_id), "2") << "registration's and one resend";
}

// REC-5: a tenant that requires verified addresses lets an unverified
// account sign in and reach me, verify, resend and logout only; the same
// session is full after verifying (the state is not stored).
TEST_F(VerificationTest, REC5_RequiredVerificationHoldsTheSessionBackUntilVerified) {
  SmtpSink sink;
  Registered who = register_owner("verify-required");
  require_verified_email(who.tenant_id);
  HttpResponse in = login_raw(who.email, kPassword);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_TRUE(flag(in, kHeld)) << in.body;
  EXPECT_THAT(in.body, HasSubstr("\"email_verified\":false"));
  Browser b = browser_from(in);

  HttpResponse me = b.call("GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_TRUE(flag(me, kHeld));
  HttpResponse memories = b.call("GET", "/api/v1/memories");
  EXPECT_EQ(memories.status, 403) << memories.body;
  EXPECT_EQ(code_of(memories), kHeld);
  EXPECT_EQ(parse(memories)["error"]["message"].GetString(),
            std::string("Confirm your e-mail address first."));
  HttpResponse create = b.call("POST", "/api/v1/memories", R"({"title":"held","content":"back"})");
  EXPECT_EQ(create.status, 403);
  EXPECT_EQ(code_of(create), kHeld);
  EXPECT_EQ(b.call("GET", "/api/v1/tenant").status, 403);
  EXPECT_EQ(b.call("POST", "/api/v1/auth/refresh").status, 403);

  // Logout works (another session of the same account).
  Browser other = login(who.email);
  HttpResponse out = other.call("POST", "/api/v1/auth/logout");
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(other.call("GET", "/api/v1/me").status, 401);

  // Resend works; the newest link verifies; the same session is full.
  ASSERT_EQ(resend(b).status, 202);
  std::vector<std::string> tokens = deliver_new_tokens(sink, who.email);
  ASSERT_EQ(tokens.size(), 2u);
  for (const std::string& t : tokens) {
    verify(t);
  }
  EXPECT_NE(verified_at(who.user_id), "-");
  HttpResponse now_full = b.call("GET", "/api/v1/memories");
  EXPECT_EQ(now_full.status, 200) << now_full.body;
  HttpResponse me_after = b.call("GET", "/api/v1/me");
  EXPECT_THAT(me_after.body, HasSubstr("\"email_verified\":true"));
  EXPECT_FALSE(has_member(me_after, kHeld));
  HttpResponse relogin = login_raw(who.email, kPassword);
  EXPECT_FALSE(has_member(relogin, kHeld)) << relogin.body;
}

// The owner turns the setting on and off through the API (owner, recent
// authentication, audited like require_mfa); GET shows it.
TEST_F(VerificationTest, REC5_TenantSettingIsShownPatchedAndAudited) {
  Registered who = register_owner("verify-setting");
  Browser b = login(who.email);
  HttpResponse before = b.call("GET", "/api/v1/tenant");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_THAT(before.body, HasSubstr("\"require_verified_email\":false"));
  HttpResponse wrong = b.call("PATCH", "/api/v1/tenant", R"({"require_verified_email":"yes"})");
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  // An owner whose own address is unproven may not turn it on: it would hold
  // their own session back, away from this very setting.
  HttpResponse self = b.call("PATCH", "/api/v1/tenant", R"({"require_verified_email":true})");
  EXPECT_EQ(self.status, 400) << self.body;
  EXPECT_THAT(self.body, HasSubstr("require_verified_email"));
  EXPECT_THAT(b.call("GET", "/api/v1/tenant").body, HasSubstr("\"require_verified_email\":false"));
  const std::string now_text = is_postgres() ? "2026-01-01T00:00:00Z" : "2026-01-01T00:00:00.000Z";
  db() << (is_postgres() ? "UPDATE users SET email_verified_at = CAST(:n AS timestamptz) "
                           "WHERE id = CAST(:u AS uuid)"
                         : "UPDATE users SET email_verified_at = :n WHERE id = :u"),
      soci::use(now_text), soci::use(who.user_id);
  HttpResponse on = b.call("PATCH", "/api/v1/tenant", R"({"require_verified_email":true})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_THAT(on.body, HasSubstr("\"require_verified_email\":true"));
  std::string rid = on.header("x-request-id");
  EXPECT_EQ(audit_count(rid, "tenant.updated"), 1);
  EXPECT_THAT(db_text("SELECT CAST(details AS TEXT) FROM audit_events WHERE request_id = :r", rid),
              HasSubstr("require_verified_email"));
  // The owner's own address is proven: the session is not held back.
  EXPECT_EQ(b.call("GET", "/api/v1/tenant").status, 200);

  // A member may not change it.
  Registered other = register_tenant("verify-setting-member");
  Browser ob = login(other.email);
  std::string email = unique_email("verify-setting-m");
  HttpResponse inv = ob.call("POST", "/api/v1/members/invitations",
                             R"({"email":")" + email + R"(","role":"admin"})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  ASSERT_EQ(
      post_json("/api/v1/auth/register", R"({"email":")" + email + R"(","password":")" + kPassword +
                                             R"(","display_name":"Admin","invite_token":")" +
                                             parse(inv)["token"].GetString() + "\"}")
          .status,
      201);
  Browser admin = login(email);
  HttpResponse refused =
      admin.call("PATCH", "/api/v1/tenant", R"({"require_verified_email":true})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(ob.call("GET", "/api/v1/tenant").body, HasSubstr("\"require_verified_email\":false"));
}

// Precedence: the second factor first. An unverified MFA user of a tenant
// that requires verification: the pending session reaches neither data nor
// me; after the code the session is held back by verification.
TEST_F(VerificationTest, REC5_SecondFactorComesBeforeVerification) {
  Enrolled e = enroll("verify-mfa");
  ASSERT_FALSE(e.backup_codes.empty());
  require_verified_email(e.who.tenant_id);
  EXPECT_EQ(e.browser.call("GET", "/api/v1/memories").status, 403) << "live sessions too";

  Browser pending = pending_login(e.who.email);
  EXPECT_EQ(pending.call("GET", "/api/v1/memories").status, 401);
  EXPECT_EQ(pending.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(resend(pending).status, 401);
  HttpResponse done = pending.call("POST", "/api/v1/auth/mfa/verify",
                                   R"({"backup_code":")" + e.backup_codes[0] + "\"}");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_TRUE(flag(done, kHeld)) << done.body;
  Browser full = browser_from(done);
  HttpResponse memories = full.call("GET", "/api/v1/memories");
  EXPECT_EQ(memories.status, 403);
  EXPECT_EQ(code_of(memories), kHeld);
  EXPECT_EQ(full.call("GET", "/api/v1/me").status, 200);
}

// Precedence: verification before MFA enrolment. A tenant requiring both,
// a user with neither: first 403 email_verification_required (MFA setup
// included), then, verified, enrolment only.
TEST_F(VerificationTest, REC5_VerificationComesBeforeMfaEnrolment) {
  SmtpSink sink;
  Registered who = register_owner("verify-enrol");
  require_verified_email(who.tenant_id);
  require_mfa(who.tenant_id);
  HttpResponse in = login_raw(who.email, kPassword);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_TRUE(flag(in, kHeld)) << in.body;
  EXPECT_FALSE(has_member(in, "mfa_enrollment_required")) << in.body;
  Browser b = browser_from(in);
  for (const char* path : {"/api/v1/mfa/totp/setup", "/api/v1/auth/reauthenticate"}) {
    HttpResponse r = b.call("POST", path, "{}");
    EXPECT_EQ(r.status, 403) << path << " " << r.body;
    EXPECT_EQ(code_of(r), kHeld) << path;
  }
  HttpResponse mfa = b.call("GET", "/api/v1/mfa");
  EXPECT_EQ(code_of(mfa), kHeld);
  HttpResponse me = b.call("GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_TRUE(flag(me, kHeld));
  EXPECT_FALSE(has_member(me, "mfa_enrollment_required"));

  std::string token = deliver_token(sink, who.email);
  ASSERT_EQ(verify(token).status, 200);
  HttpResponse memories = b.call("GET", "/api/v1/memories");
  EXPECT_EQ(memories.status, 403);
  EXPECT_EQ(code_of(memories), "mfa_enrollment_required");
  HttpResponse me_after = b.call("GET", "/api/v1/me");
  EXPECT_TRUE(flag(me_after, "mfa_enrollment_required")) << me_after.body;
  EXPECT_FALSE(has_member(me_after, kHeld));
  HttpResponse setup = b.call("POST", "/api/v1/mfa/totp/setup");
  EXPECT_EQ(setup.status, 200) << setup.body;
}

// Runs `portcullis ARGS --env-file …` with `input` on standard input.
int portcullis_cli(const std::string& args, const std::string& input, std::string* output) {
  std::string in_file = mail_sink::env_of("PORTCULLIS_TEST_DIR") + "/cli-stdin-" + random_hex(4);
  {
    FILE* f = std::fopen(in_file.c_str(), "w");
    std::fputs(input.c_str(), f);
    std::fclose(f);
  }
  int rc = -1;
  *output = mail_sink::shell_output(
      mail_sink::env_of("PORTCULLIS_TEST_BIN") + " " + args + " --env-file " +
          mail_sink::env_of("PORTCULLIS_TEST_ENV_FILE") + " < " + in_file + " 2>&1",
      &rc);
  std::remove(in_file.c_str());
  return rc;
}

// The invitation mail proved the invitee's address; the sysadmin vouches
// for the CLI's users. Neither is asked to verify.
TEST_F(VerificationTest, REC5_InvitedAndCliUsersStartVerified) {
  Registered owner = register_tenant("verify-inviter");
  require_verified_email(owner.tenant_id);
  db() << (is_postgres() ? "UPDATE users SET email_verified_at = now() WHERE id = CAST(:u AS uuid)"
                         : "UPDATE users SET email_verified_at = '2026-01-01T00:00:00.000Z' "
                           "WHERE id = :u"),
      soci::use(owner.user_id);
  Browser ob = login(owner.email);
  std::string email = unique_email("verify-invitee");
  HttpResponse inv = ob.call("POST", "/api/v1/members/invitations",
                             R"({"email":")" + email + R"(","role":"member"})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  HttpResponse joined =
      post_json("/api/v1/auth/register", R"({"email":")" + email + R"(","password":")" + kPassword +
                                             R"(","display_name":"Invitee","invite_token":")" +
                                             parse(inv)["token"].GetString() + "\"}");
  ASSERT_EQ(joined.status, 201) << joined.body;
  std::string id = db_text("SELECT CAST(id AS TEXT) FROM users WHERE email = :e", email);
  EXPECT_NE(verified_at(id), "-");
  EXPECT_EQ(request_rows(id), "0");
  HttpResponse in = login_raw(email, kPassword);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_FALSE(has_member(in, kHeld));
  Browser m = browser_from(in);
  EXPECT_THAT(m.call("GET", "/api/v1/me").body, HasSubstr("\"email_verified\":true"));
  EXPECT_EQ(m.call("GET", "/api/v1/memories").status, 200);
  EXPECT_EQ(resend(m).status, 409);

  std::string output;
  std::string cli_member = unique_email("verify-cli-member");
  ASSERT_EQ(portcullis_cli("user create --tenant " + owner.tenant_id + " --email " + cli_member +
                               " --role member --name Cli",
                           std::string(kPassword) + "\n", &output),
            0)
      << output;
  std::string cli_owner = unique_email("verify-cli-owner");
  ASSERT_EQ(portcullis_cli("tenant create --name 'Verify Cli' --owner-email " + cli_owner,
                           std::string(kPassword) + "\n", &output),
            0)
      << output;
  for (const std::string& address : {cli_member, cli_owner}) {
    std::string uid = db_text("SELECT CAST(id AS TEXT) FROM users WHERE email = :e", address);
    EXPECT_NE(verified_at(uid), "-") << address;
    EXPECT_EQ(request_rows(uid), "0") << address;
    Browser c = login(address);
    EXPECT_THAT(c.call("GET", "/api/v1/me").body, HasSubstr("\"email_verified\":true")) << address;
  }
}

// API-3: bad bodies to verify and resend are 400 envelopes.
TEST_F(VerificationTest, API3_BadBodiesAre400Envelopes) {
  Registered who = register_owner("verify-bodies");
  Browser b = login(who.email);
  struct Case {
    std::string path;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"/api/v1/auth/email/verify", "{}"},
      {"/api/v1/auth/email/verify", R"({"token":""})"},
      {"/api/v1/auth/email/verify", R"({"token":5})"},
      {"/api/v1/auth/email/verify", R"({"token":null})"},
      {"/api/v1/auth/email/verify", R"({"token":"abc","email":"x@example.test"})"},
      {"/api/v1/auth/email/verify", "[]"},
      {"/api/v1/auth/email/verify", R"({"token":"a","token":"b"})"},
      {"/api/v1/auth/email/verify/resend", R"({"email":"x@example.test"})"},
      {"/api/v1/auth/email/verify/resend", "[]"},
      {"/api/v1/auth/email/verify/resend", "\"x\""},
  };
  for (const Case& c : cases) {
    HttpResponse r = b.call("POST", c.path, c.body);
    EXPECT_EQ(r.status, 400) << c.path << " " << c.body << " " << r.body;
    rapidjson::Document d = parse(r);
    ASSERT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << r.body;
    EXPECT_TRUE(d["error"].HasMember("code")) << r.body;
    EXPECT_TRUE(d["error"].HasMember("request_id")) << r.body;
  }
  EXPECT_EQ(verified_at(who.user_id), "-");
  EXPECT_EQ(request_rows(who.user_id), "1");
  // A long token is refused like any other.
  HttpResponse huge = verify(std::string(5000, 'A'));
  EXPECT_EQ(huge.status, 400) << huge.body;
  // A cross-site page may not post the token (the public POSTs' Origin check).
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/auth/email/verify";
  r.body = R"({"token":"abc"})";
  r.headers = {"Content-Type: application/json", "Origin: https://evil.test"};
  EXPECT_EQ(send(r).status, 403);
}

// AUTH-7 / the router policy: a session held back by verification gets 403
// email_verification_required on every route but me, resend and logout
// (and the public ones), and changes nothing.
TEST_F(VerificationTest, AUTH7_RouteTableWalkHoldsAnUnverifiedSessionBack) {
  Registered who = register_owner("verify-walk");
  require_verified_email(who.tenant_id);
  Browser b = login(who.email);
  Router router = build_router();
  int held = 0;
  std::vector<std::string> reachable;
  for (const Route& route : router.routes()) {
    if (route.access.is_public() || route.pattern.rfind("/api/v1/test/", 0) == 0) {
      continue;
    }
    if (route.access.allows_state(kStateVerificationRequired)) {
      reachable.push_back(route.method + " " + route.pattern);
      continue;
    }
    std::string path = route.pattern;
    size_t brace = path.find('{');
    if (brace != std::string::npos) {
      path = path.substr(0, brace) + uuid_v7() + path.substr(path.find('}') + 1);
    }
    HttpResponse r = b.call(route.method, path, route.method == "GET" ? "" : "{}");
    EXPECT_EQ(r.status, 403) << route.method << " " << route.pattern << " " << r.body;
    EXPECT_EQ(code_of(r), kHeld) << route.method << " " << route.pattern;
    ++held;
  }
  std::sort(reachable.begin(), reachable.end());
  EXPECT_EQ(reachable,
            (std::vector<std::string>{"GET /api/v1/me", "POST /api/v1/auth/email/verify/resend",
                                      "POST /api/v1/auth/logout"}));
  EXPECT_GT(held, 30);
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 200) << "the session is alive";
  EXPECT_EQ(count_rows("memories WHERE tenant_id = :t", who.tenant_id), "0");
}

}  // namespace
}  // namespace portcullis::testing
