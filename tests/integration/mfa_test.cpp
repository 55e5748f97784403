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
  // A user holds at most 3 pending sessions (#9 item 7): the race runs on
  // 3 of them and 17 re-authentications of the full session at once.
  std::vector<Browser> pendings;
  for (int i = 0; i < 3; ++i) {
    pendings.push_back(pending_login(e.who.email));
  }
  std::string code = oathtool(e.secret, 1);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    const Browser b = i < 3 ? pendings[static_cast<size_t>(i)] : e.browser;
    const char* path = i < 3 ? "/api/v1/auth/mfa/verify" : "/api/v1/auth/reauthenticate";
    threads.emplace_back([&, b, path] {
      if (b.call("POST", path, R"({"code":")" + code + "\"}").status == 200) {
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
  // At most 3 pending sessions (#9 item 7): 3 of them and 17 re-authentications race.
  std::vector<Browser> pendings;
  for (int i = 0; i < 3; ++i) {
    pendings.push_back(pending_login(e.who.email));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    const Browser b = i < 3 ? pendings[static_cast<size_t>(i)] : e.browser;
    const char* path = i < 3 ? "/api/v1/auth/mfa/verify" : "/api/v1/auth/reauthenticate";
    threads.emplace_back([&, b, path] {
      if (b.call("POST", path, R"({"backup_code":")" + e.backup_codes[1] + "\"}").status == 200) {
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
  // The owner has MFA: once the tenant requires it, an owner without it could
  // only enrol (#9 item 8).
  Enrolled e = enroll("short-pw");
  Browser& owner = e.browser;
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

// --- #9 -------------------------------------------------------------------------------------

// #9 item 7: password-only logins of an MFA user hold at most 3 pending
// sessions, which never count toward the 10-session cap nor evict a full one.
TEST_F(MfaTest, SESS8_PasswordOnlyLoginsNeverEvictFullSessions) {
  Enrolled e = enroll("pendcap");
  ASSERT_EQ(e.backup_codes.size(), 10u);
  std::vector<Browser> full = {e.browser};
  for (size_t i = 0; i < 9; ++i) {
    Browser p = pending_login(e.who.email);
    HttpResponse r = p.call("POST", "/api/v1/auth/mfa/verify",
                            R"({"backup_code":")" + e.backup_codes[i] + "\"}");
    ASSERT_EQ(r.status, 200) << r.body;
    full.push_back(browser_from(r));
  }
  std::vector<Browser> pendings;
  for (int i = 0; i < 12; ++i) {
    pendings.push_back(pending_login(e.who.email));
  }
  for (size_t i = 0; i < full.size(); ++i) {
    EXPECT_EQ(full[i].call("GET", "/api/v1/me").status, 200) << "full session " << i;
  }
  HttpResponse list = full.back().call("GET", "/api/v1/sessions?limit=20");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(parse(list)["data"].Size(), 10u);
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM sessions WHERE user_id = :u AND "
                    "auth_state = 'mfa_pending'",
                    e.who.user_id),
            "3");
  // The oldest pending ones were replaced; they are not password failures.
  EXPECT_EQ(pendings.front().call("POST", "/api/v1/auth/mfa/verify", R"({"code":"000000"})").status,
            401);
  EXPECT_EQ(db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k AND "
                    "failures > 0",
                    "email:" + e.who.email),
            "");
  // Completing one makes it a full session: now it counts, and the oldest full one goes.
  HttpResponse done = pendings.back().call("POST", "/api/v1/auth/mfa/verify",
                                           R"({"backup_code":")" + e.backup_codes[9] + "\"}");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(browser_from(done).call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(full.front().call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(full[1].call("GET", "/api/v1/me").status, 200);
}

// #9 item 7 under concurrency: parallel password-only logins all succeed,
// leave at most 3 pending sessions and never touch the full one.
TEST_F(MfaTest, SESS8_ParallelPasswordOnlyLoginsKeepAtMostThreePending) {
  Enrolled e = enroll("pendpar");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] { ok += login_raw(e.who.email, kPassword).status == 200 ? 1 : 0; });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM sessions WHERE user_id = :u AND "
                    "auth_state = 'mfa_pending'",
                    e.who.user_id),
            "3");
  EXPECT_EQ(e.browser.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k AND "
                    "failures > 0",
                    "email:" + e.who.email),
            "");
}

// #9 item 24 / item 2: disable needs the password; a missing one is a 400, a
// wrong one a counted failure that changes nothing.
TEST_F(MfaTest, MFA7_DisableRefusesAMissingOrWrongPassword) {
  Enrolled e = enroll("disablepw");
  wait_for_fresh_step();
  HttpResponse missing = e.browser.call("POST", "/api/v1/mfa/totp/disable",
                                        R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(code_of(missing), "validation_failed");
  EXPECT_THAT(missing.body, HasSubstr("\"password\""));
  HttpResponse wrong = e.browser.call(
      "POST", "/api/v1/mfa/totp/disable",
      R"({"password":"not the password at all","code":")" + oathtool(e.secret, 1) + "\"}");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(code_of(wrong), "validation_failed");
  EXPECT_THAT(wrong.body, HasSubstr("\"password\""));
  EXPECT_EQ(db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k",
                    "email:" + e.who.email),
            "1");
  EXPECT_EQ(parse(e.browser.call("GET", "/api/v1/mfa"))["totp_enabled"].GetBool(), true);
  EXPECT_EQ(audit_count(wrong.header("x-request-id"), "mfa.disabled"), 1);
  EXPECT_EQ(audit_count(wrong.header("x-request-id"), "mfa.backup_code_used"), 0);
}

// #9 item 2: wrong codes on disable lock like login does.
TEST_F(MfaTest, RATE1_WrongCodesOnDisableLockLikeLogin) {
  Enrolled e = enroll("disablelock");
  const std::string wrong = std::string(R"({"password":")") + kPassword + R"(","code":"000000"})";
  for (int i = 1; i <= 5; ++i) {
    HttpResponse r = e.browser.call("POST", "/api/v1/mfa/totp/disable", wrong);
    EXPECT_EQ(r.status, 400) << i;
    EXPECT_EQ(code_of(r), "invalid_code") << i;
  }
  wait_for_fresh_step();
  HttpResponse sixth = e.browser.call("POST", "/api/v1/mfa/totp/disable",
                                      std::string(R"({"password":")") + kPassword +
                                          R"(","code":")" + oathtool(e.secret, 1) + "\"}");
  EXPECT_EQ(sixth.status, 429);
  EXPECT_EQ(code_of(sixth), "rate_limited");
  int retry = std::atoi(sixth.header("retry-after").c_str());
  EXPECT_GT(retry, 800);
  EXPECT_LE(retry, 900);
  EXPECT_NE(db_text("SELECT CAST(locked_until AS TEXT) FROM auth_throttle WHERE key = :k",
                    "email:" + e.who.email),
            "");
  EXPECT_EQ(login_raw(e.who.email, kPassword).status, 429);
  EXPECT_EQ(parse(e.browser.call("GET", "/api/v1/mfa"))["totp_enabled"].GetBool(), true);
}

// #9 item 24: every MFA event is audited exactly once per request.
TEST_F(MfaTest, LOG1_MfaEventsAreAuditedExactlyOnce) {
  Registered who = register_tenant("mfaonce");
  Browser b = login(who.email);
  HttpResponse setup = b.call("POST", "/api/v1/mfa/totp/setup");
  ASSERT_EQ(setup.status, 200);
  EXPECT_EQ(audit_count(setup.header("x-request-id"), "mfa.setup"), 1);
  std::string secret = parse(setup)["secret"].GetString();
  wait_for_fresh_step();
  const std::string enable_code = oathtool(secret);
  HttpResponse enable =
      b.call("POST", "/api/v1/mfa/totp/enable", R"({"code":")" + enable_code + "\"}");
  ASSERT_EQ(enable.status, 200) << enable.body;
  EXPECT_EQ(audit_count(enable.header("x-request-id"), "mfa.enabled"), 1);
  std::string backup = parse(enable)["backup_codes"][0].GetString();

  Browser p = pending_login(who.email);
  HttpResponse bad = p.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"000000"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(audit_count(bad.header("x-request-id"), "mfa.verify"), 1);
  HttpResponse replay =
      p.call("POST", "/api/v1/auth/mfa/verify", R"({"code":")" + enable_code + "\"}");
  EXPECT_EQ(replay.status, 400);  // enabling spent this step
  EXPECT_EQ(audit_count(replay.header("x-request-id"), "mfa.replay_refused"), 1);
  EXPECT_EQ(audit_count(replay.header("x-request-id"), "mfa.verify"), 0);
  HttpResponse good =
      p.call("POST", "/api/v1/auth/mfa/verify", R"({"code":")" + oathtool(secret, 1) + "\"}");
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(audit_count(good.header("x-request-id"), "mfa.verify"), 1);
  Browser full = browser_from(good);

  Browser p2 = pending_login(who.email);
  HttpResponse used =
      p2.call("POST", "/api/v1/auth/mfa/verify", R"({"backup_code":")" + backup + "\"}");
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_EQ(audit_count(used.header("x-request-id"), "mfa.backup_code_used"), 1);
  EXPECT_EQ(audit_count(used.header("x-request-id"), "mfa.verify"), 1);

  HttpResponse regen = full.call("POST", "/api/v1/mfa/backup-codes");
  ASSERT_EQ(regen.status, 200);
  EXPECT_EQ(audit_count(regen.header("x-request-id"), "mfa.backup_codes_regenerated"), 1);
  std::string fresh = parse(regen)["backup_codes"][0].GetString();

  HttpResponse off = full.call(
      "POST", "/api/v1/mfa/totp/disable",
      std::string(R"({"password":")") + kPassword + R"(","backup_code":")" + fresh + "\"}");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(audit_count(off.header("x-request-id"), "mfa.disabled"), 1);
  EXPECT_EQ(audit_count(off.header("x-request-id"), "mfa.backup_code_used"), 1);
}

}  // namespace
}  // namespace portcullis::testing
