// MFA through nginx (issue: MFA). Codes come from oathtool, an independent
// RFC 6238 implementation, never from the product's own code.
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
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

rapidjson::Document parse(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

std::string code_of(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember("error") ? d["error"]["code"].GetString() : "";
}

// The TOTP code for `secret` at now + offset_steps * 30 s, from oathtool.
std::string oathtool(const std::string& secret, int offset_steps = 0) {
  long long t = static_cast<long long>(std::time(nullptr)) + offset_steps * 30LL;
  std::string cmd = "oathtool --totp -b -N @" + std::to_string(t) + " " + secret;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 64> buf{};
  std::string out;
  if (p != nullptr && std::fgets(buf.data(), buf.size(), p) != nullptr) {
    out = buf.data();
  }
  if (p != nullptr) {
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

// Boundary-sensitive checks wait until at least 8 s of the current step remain.
void wait_for_fresh_step() {
  while (std::time(nullptr) % 30 > 21) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

struct Enrolled {
  Registered who;
  Browser browser;
  std::string secret;
  std::vector<std::string> backup_codes;
};

Enrolled enroll(const std::string& tag) {
  Enrolled e;
  e.who = register_tenant(tag);
  e.browser = login(e.who.email);
  HttpResponse setup = e.browser.call("POST", "/api/v1/mfa/totp/setup");
  EXPECT_EQ(setup.status, 200) << setup.body;
  rapidjson::Document s = parse(setup);
  if (!s.IsObject() || !s.HasMember("secret")) {
    return e;
  }
  e.secret = s["secret"].GetString();
  wait_for_fresh_step();
  HttpResponse enable = e.browser.call("POST", "/api/v1/mfa/totp/enable",
                                       R"({"code":")" + oathtool(e.secret) + "\"}");
  EXPECT_EQ(enable.status, 200) << enable.body;
  rapidjson::Document d = parse(enable);
  if (d.IsObject() && d.HasMember("backup_codes")) {
    for (const auto& c : d["backup_codes"].GetArray()) {
      e.backup_codes.push_back(c.GetString());
    }
  }
  return e;
}

// Password step: returns the MFA-pending browser.
Browser pending_login(const std::string& email) {
  HttpResponse r = login_raw(email, kPassword);
  EXPECT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = parse(r);
  EXPECT_TRUE(d.IsObject() && d.HasMember("mfa_required") && d["mfa_required"].GetBool()) << r.body;
  EXPECT_FALSE(d.HasMember("user")) << "no account data before the second factor";
  Browser b;
  b.cookie = session_token_from(r);
  if (d.IsObject() && d.HasMember("csrf_token")) {
    b.csrf = d["csrf_token"].GetString();
  }
  return b;
}

class MfaTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

TEST_F(MfaTest, MFA1_SetupGivesSecretUriAndCspSafeQr) {
  Registered who = register_tenant("setup");
  Browser b = login(who.email);
  HttpResponse r = b.call("POST", "/api/v1/mfa/totp/setup");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = parse(r);
  std::string secret = d["secret"].GetString();
  EXPECT_EQ(secret.size(), 32u);  // 160 bits in base32
  std::string uri = d["otpauth_uri"].GetString();
  std::string email_enc = who.email;
  size_t at = email_enc.find('@');
  email_enc.replace(at, 1, "%40");
  EXPECT_EQ(uri, "otpauth://totp/portcullis:" + email_enc + "?secret=" + secret +
                     "&issuer=portcullis&algorithm=SHA1&digits=6&period=30");
  std::string svg = d["qr_svg"].GetString();
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, Not(HasSubstr("style")));
  EXPECT_THAT(svg, Not(HasSubstr("data:")));
  EXPECT_THAT(svg, Not(HasSubstr("<script")));
  // MFA-4: nothing is on until a valid code arrives; the secret is encrypted.
  EXPECT_EQ(code_of(b.call("POST", "/api/v1/mfa/totp/enable", R"({"code":"000000"})")),
            "invalid_code");
  HttpResponse status = b.call("GET", "/api/v1/mfa");
  EXPECT_THAT(status.body, HasSubstr("\"totp_enabled\":false"));
  EXPECT_THAT(status.body, Not(HasSubstr(secret)));
  std::string stored = db_text("SELECT totp_secret_enc FROM users WHERE id = :u", who.user_id);
  EXPECT_EQ(stored.rfind("v1.", 0), 0u);
  EXPECT_THAT(stored, Not(HasSubstr(secret)));
}

TEST_F(MfaTest, MFA5_TwoStepLoginWithTotpIssuesAFreshFullSession) {
  Enrolled e = enroll("twostep");
  ASSERT_EQ(e.backup_codes.size(), 10u);
  HttpResponse st = e.browser.call("GET", "/api/v1/mfa");
  EXPECT_THAT(st.body, HasSubstr("\"backup_codes_remaining\":10"));
  Browser pending = pending_login(e.who.email);
  // The pending session reaches nothing but verify and logout.
  EXPECT_EQ(pending.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(pending.call("GET", "/api/v1/memories").status, 401);
  // The enrolment code's step is spent (replay); the next step's code works.
  HttpResponse replay =
      pending.call("POST", "/api/v1/auth/mfa/verify", R"({"code":")" + oathtool(e.secret) + "\"}");
  EXPECT_EQ(code_of(replay), "invalid_code");
  HttpResponse ok = pending.call("POST", "/api/v1/auth/mfa/verify",
                                 R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string full_cookie = session_token_from(ok);
  EXPECT_NE(full_cookie, pending.cookie);
  EXPECT_EQ(pending.call("GET", "/api/v1/me").status, 401) << "pending token must be dead";
  Browser full;
  full.cookie = full_cookie;
  full.csrf = parse(ok)["csrf_token"].GetString();
  EXPECT_EQ(full.call("GET", "/api/v1/me").status, 200);
  // The same code once more, on another pending session: refused (MFA-3).
  Browser again = pending_login(e.who.email);
  EXPECT_EQ(code_of(again.call("POST", "/api/v1/auth/mfa/verify",
                               R"({"code":")" + oathtool(e.secret, 1) + "\"}")),
            "invalid_code");
}

TEST_F(MfaTest, MFA2_OnlyAdjacentStepsAreAccepted) {
  Enrolled e = enroll("window");
  wait_for_fresh_step();
  Browser pending = pending_login(e.who.email);
  EXPECT_EQ(code_of(pending.call("POST", "/api/v1/auth/mfa/verify",
                                 R"({"code":")" + oathtool(e.secret, 2) + "\"}")),
            "invalid_code");
  EXPECT_EQ(code_of(pending.call("POST", "/api/v1/auth/mfa/verify",
                                 R"({"code":")" + oathtool(e.secret, -2) + "\"}")),
            "invalid_code");
  EXPECT_EQ(code_of(pending.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"12345"})")),
            "invalid_code");
  // One step ago is accepted while unused: enrolment spent the current step,
  // so the test forgets it in the database first.
  db() << "UPDATE users SET totp_last_step = 0 WHERE id = :u", soci::use(e.who.user_id);
  Browser earlier = pending_login(e.who.email);
  HttpResponse back = earlier.call("POST", "/api/v1/auth/mfa/verify",
                                   R"({"code":")" + oathtool(e.secret, -1) + "\"}");
  EXPECT_EQ(back.status, 200) << back.body;
  // A forged Date header changes nothing.
  HttpResponse ok = pending.call("POST", "/api/v1/auth/mfa/verify",
                                 R"({"code":")" + oathtool(e.secret, 1) + "\"}",
                                 {"Date: Mon, 01 Jan 2001 00:00:00 GMT"});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(MfaTest, MFA3_TwentyParallelSubmissionsOfOneCodeSucceedOnce) {
  Enrolled e = enroll("parallel");
  wait_for_fresh_step();
  std::vector<Browser> pendings;
  for (int i = 0; i < 20; ++i) {
    pendings.push_back(pending_login(e.who.email));
  }
  std::string code = oathtool(e.secret, 1);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (const Browser& b : pendings) {
    threads.emplace_back([&, b] {
      if (b.call("POST", "/api/v1/auth/mfa/verify", R"({"code":")" + code + "\"}").status == 200) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 1);
}

TEST_F(MfaTest, MFA6_BackupCodesAreSingleUseEvenInParallel) {
  Enrolled e = enroll("backup");
  ASSERT_EQ(e.backup_codes.size(), 10u);
  Browser p1 = pending_login(e.who.email);
  HttpResponse used =
      p1.call("POST", "/api/v1/auth/mfa/verify", R"({"backup_code":")" + e.backup_codes[0] + "\"}");
  EXPECT_EQ(used.status, 200) << used.body;
  Browser p2 = pending_login(e.who.email);
  EXPECT_EQ(code_of(p2.call("POST", "/api/v1/auth/mfa/verify",
                            R"({"backup_code":")" + e.backup_codes[0] + "\"}")),
            "invalid_code");
  std::vector<Browser> pendings;
  for (int i = 0; i < 20; ++i) {
    pendings.push_back(pending_login(e.who.email));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (const Browser& b : pendings) {
    threads.emplace_back([&, b] {
      if (b.call("POST", "/api/v1/auth/mfa/verify",
                 R"({"backup_code":")" + e.backup_codes[1] + "\"}")
              .status == 200) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 1);
  // The 19 losers were wrong codes and count toward the lockout: start over.
  std::string key = "email:" + e.who.email;
  db() << "DELETE FROM auth_throttle WHERE key = :k", soci::use(key);
  // Stored as HMACs, not as the codes.
  EXPECT_EQ(db_text("SELECT id FROM backup_codes WHERE code_hash = :c", e.backup_codes[2]), "");
  // A full session again (20 logins evicted the oldest sessions: at most 10
  // per user), then regeneration kills the old set.
  Browser p_full = pending_login(e.who.email);
  HttpResponse full = p_full.call("POST", "/api/v1/auth/mfa/verify",
                                  R"({"backup_code":")" + e.backup_codes[3] + "\"}");
  ASSERT_EQ(full.status, 200) << full.body;
  Browser owner;
  owner.cookie = session_token_from(full);
  owner.csrf = parse(full)["csrf_token"].GetString();
  HttpResponse regen = owner.call("POST", "/api/v1/mfa/backup-codes");
  ASSERT_EQ(regen.status, 200) << regen.body;
  Browser p3 = pending_login(e.who.email);
  EXPECT_EQ(code_of(p3.call("POST", "/api/v1/auth/mfa/verify",
                            R"({"backup_code":")" + e.backup_codes[2] + "\"}")),
            "invalid_code");
  std::string fresh = parse(regen)["backup_codes"][0].GetString();
  EXPECT_EQ(
      p3.call("POST", "/api/v1/auth/mfa/verify", R"({"backup_code":")" + fresh + "\"}").status,
      200);
}

TEST_F(MfaTest, RATE5_WrongCodesCountTowardLockout) {
  Enrolled e = enroll("mfalock");
  Browser pending = pending_login(e.who.email);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(pending.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"000000"})").status, 400)
        << i;
  }
  // MFA-5: the lockout also ended the challenge; even the right code is refused.
  HttpResponse after = pending.call("POST", "/api/v1/auth/mfa/verify",
                                    R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  EXPECT_EQ(after.status, 401);
  HttpResponse locked = login_raw(e.who.email, kPassword);
  EXPECT_EQ(locked.status, 429);
  EXPECT_FALSE(locked.header("retry-after").empty());
}

TEST_F(MfaTest, MFA7_StepUpNeedsACodeAndDisableNeedsPasswordAndCode) {
  Enrolled e = enroll("stepup");
  std::string stale = format_time_ms(now_ms() - 16 * 60000);
  db() << "UPDATE sessions SET reauthenticated_at = :s WHERE user_id = :u", soci::use(stale),
      soci::use(e.who.user_id);
  const std::string disable = std::string(R"({"password":")") + kPassword + R"(","code":")";
  EXPECT_EQ(code_of(e.browser.call("POST", "/api/v1/mfa/totp/disable", disable + "000000\"}")),
            "step_up_required");
  HttpResponse pw_only = e.browser.call("POST", "/api/v1/auth/reauthenticate",
                                        std::string(R"({"password":")") + kPassword + "\"}");
  EXPECT_EQ(pw_only.status, 400);
  wait_for_fresh_step();
  HttpResponse reauth = e.browser.call("POST", "/api/v1/auth/reauthenticate",
                                       R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  ASSERT_EQ(reauth.status, 200) << reauth.body;
  EXPECT_EQ(code_of(e.browser.call("POST", "/api/v1/mfa/totp/disable", disable + "000000\"}")),
            "invalid_code");
  HttpResponse off = e.browser.call("POST", "/api/v1/mfa/totp/disable",
                                    std::string(R"({"password":")") + kPassword +
                                        R"(","backup_code":")" + e.backup_codes[0] + "\"}");
  EXPECT_EQ(off.status, 200) << off.body;
  HttpResponse plain = login_raw(e.who.email, kPassword);
  EXPECT_THAT(plain.body, HasSubstr("\"user\""));
  EXPECT_EQ(db_text("SELECT totp_secret_enc FROM users WHERE id = :u", e.who.user_id), "");
}

TEST_F(MfaTest, TenantRequiringMfaGivesEnrolmentOnlySessions) {
  Registered who = register_tenant("require");
  Browser owner = login(who.email);
  HttpResponse set = owner.call("PATCH", "/api/v1/tenant", R"({"require_mfa":true})");
  ASSERT_EQ(set.status, 200) << set.body;
  HttpResponse r = login_raw(who.email, kPassword);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"mfa_enrollment_required\":true"));
  Browser b;
  b.cookie = session_token_from(r);
  b.csrf = parse(r)["csrf_token"].GetString();
  EXPECT_EQ(code_of(b.call("GET", "/api/v1/memories")), "mfa_enrollment_required");
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 200);
  HttpResponse setup = b.call("POST", "/api/v1/mfa/totp/setup");
  ASSERT_EQ(setup.status, 200) << setup.body;
  std::string secret = parse(setup)["secret"].GetString();
  wait_for_fresh_step();
  HttpResponse enable =
      b.call("POST", "/api/v1/mfa/totp/enable", R"({"code":")" + oathtool(secret) + "\"}");
  ASSERT_EQ(enable.status, 200) << enable.body;
  Browser full;
  full.cookie = session_token_from(enable);
  ASSERT_FALSE(full.cookie.empty()) << "enrolment completes the session with a new token";
  EXPECT_NE(full.cookie, b.cookie);
  EXPECT_EQ(full.call("GET", "/api/v1/memories").status, 200);
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
}

TEST_F(MfaTest, RecoveryResetsMfaAndEndsSessions) {
  Enrolled e = enroll("recover");
  // The owner invites an admin, who resets the owner's MFA? Admins manage
  // members only: the owner resets a member's MFA instead.
  std::string member_email = unique_email("recover-member");
  HttpResponse inv = e.browser.call("POST", "/api/v1/members/invitations",
                                    R"({"email":")" + member_email + R"(","role":"member"})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  std::string token = parse(inv)["token"].GetString();
  ASSERT_EQ(post_json("/api/v1/auth/register",
                      R"({"email":")" + member_email + R"(","password":")" + kPassword +
                          R"(","display_name":"M","invite_token":")" + token + "\"}")
                .status,
            201);
  Browser member = login(member_email);
  HttpResponse setup = member.call("POST", "/api/v1/mfa/totp/setup");
  std::string secret = parse(setup)["secret"].GetString();
  wait_for_fresh_step();
  ASSERT_EQ(
      member.call("POST", "/api/v1/mfa/totp/enable", R"({"code":")" + oathtool(secret) + "\"}")
          .status,
      200);
  std::string member_id = db_text("SELECT id FROM users WHERE email = :e", member_email);
  HttpResponse reset = e.browser.call("POST", "/api/v1/members/" + member_id + "/reset-mfa");
  EXPECT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(member.call("GET", "/api/v1/me").status, 401);
  HttpResponse plain = login_raw(member_email, kPassword);
  EXPECT_THAT(plain.body, HasSubstr("\"user\""));  // no second step any more
  EXPECT_EQ(db_text("SELECT event FROM audit_events WHERE event = :e LIMIT 1", "mfa.reset"),
            "mfa.reset");
}

TEST_F(MfaTest, AUTH1_EightCharacterPasswordsOnlyWhereMfaIsRequired) {
  Registered who = register_tenant("short-pw");
  Browser owner = login(who.email);
  auto invite_and_join = [&](const std::string& password) {
    std::string email = unique_email("short");
    HttpResponse inv = owner.call("POST", "/api/v1/members/invitations",
                                  R"({"email":")" + email + R"(","role":"member"})");
    std::string token = parse(inv)["token"].GetString();
    return post_json("/api/v1/auth/register",
                     R"({"email":")" + email + R"(","password":")" + password +
                         R"(","display_name":"S","invite_token":")" + token + "\"}");
  };
  EXPECT_EQ(invite_and_join("Vq7#kp2Lz9").status, 400);  // 10 characters, single factor
  ASSERT_EQ(owner.call("PATCH", "/api/v1/tenant", R"({"require_mfa":true})").status, 200);
  EXPECT_EQ(invite_and_join("Vq7#kp2Lz9").status, 201);
  EXPECT_EQ(invite_and_join("Vq7#kp2").status, 400);  // 7 is too short everywhere
}

}  // namespace
}  // namespace portcullis::testing
