// Security notices through the real stack (app/auth/notify.h), on SQLite and
// PostgreSQL: each event through nginx enqueues its one template mail in the
// change's transaction; `portcullis mail deliver --once` sends it to the
// loopback SMTP sink, where the test reads it. No mail carries a password, a
// TOTP secret, a backup code or a session token; links come from
// PUBLIC_BASE_URL; at most NOTIFY_MAX_PER_HOUR (10) per account per hour.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/auth_client.h"
#include "tests/integration/http_client.h"
#include "tests/integration/mail_sink.h"

namespace portcullis::testing {
namespace {

using mail_sink::SmtpSink;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kFirefoxLinux =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr const char* kChromeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

constexpr const char* kNewDevice = "New sign-in to your portcullis account";
constexpr const char* kMfaEnabled = "Two-factor authentication was turned on";
constexpr const char* kMfaDisabled = "Two-factor authentication was turned off";
constexpr const char* kMfaReset = "Your two-factor authentication was reset";
constexpr const char* kCodesRegenerated = "New backup codes were made for your account";
constexpr const char* kCodeUsed = "A backup code was used on your account";
constexpr const char* kRoleChanged = "Your role in portcullis changed";
constexpr const char* kLocked = "Sign-in to your account is paused";

HttpResponse login_as(const std::string& email,
                      const std::string& ua,
                      const std::string& password = kPassword) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/auth/login";
  r.body = R"({"email":")" + email + R"(","password":")" + password + R"(","remember_me":false})";
  r.headers = {"Content-Type: application/json", "User-Agent: " + ua};
  r.source_ip = "127.0.0.1";
  return send(r);
}

std::string outbox_rows(const std::string& address) {
  return db_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE to_address = :a", address);
}

std::vector<std::string> string_list(const HttpResponse& r, const char* member) {
  std::vector<std::string> out;
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember(member) && d[member].IsArray()) {
    for (const auto& v : d[member].GetArray()) {
      out.push_back(v.GetString());
    }
  }
  return out;
}

// None of `secrets` in any of `mails`.
void expect_no_secret(const std::vector<std::string>& mails,
                      const std::vector<std::string>& secrets) {
  for (const std::string& m : mails) {
    for (const std::string& s : secrets) {
      ASSERT_FALSE(s.empty());
      EXPECT_THAT(m, Not(HasSubstr(s)));
    }
  }
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

TEST_F(NotifyTest, NOTIFY_NewDeviceSendsOneMailTheFirstLoginAndAKnownDeviceNone) {
  SmtpSink sink;
  Registered who = register_tenant("notify-device");
  // The account's first sign-in, then the same device again: no mail.
  ASSERT_EQ(login_as(who.email, kFirefoxLinux).status, 200);
  ASSERT_EQ(login_as(who.email, kFirefoxLinux).status, 200);
  EXPECT_EQ(outbox_rows(who.email), "0");
  // Another browser and OS: one mail; the same again: none more.
  HttpResponse fresh = login_as(who.email, kChromeWindows);
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  std::string token = session_token_from(fresh);
  ASSERT_EQ(login_as(who.email, kChromeWindows).status, 200);
  EXPECT_EQ(outbox_rows(who.email), "1");

  std::string out = sink.deliver();
  std::vector<std::string> all = sink.messages_to(who.email);
  ASSERT_EQ(all.size(), 1u) << out;
  const std::string& m = all[0];
  EXPECT_THAT(m, HasSubstr("\r\nSubject: " + std::string(kNewDevice) + "\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nTo: Test User <" + who.email + ">\r\n"));
  EXPECT_THAT(m, HasSubstr("Browser: Chrome"));
  EXPECT_THAT(m, HasSubstr("Windows"));
  EXPECT_THAT(m, HasSubstr("IP:      127.0.0.1"));
  EXPECT_THAT(m, HasSubstr(" UTC"));
  EXPECT_THAT(m, HasSubstr("https://app.portcullis.test/#/sessions"));
  expect_no_secret(all, {kPassword, token});
}

TEST_F(NotifyTest, NOTIFY_MfaOnCodesRegeneratedCodesUsedAndMfaOffEachSendTheirMail) {
  SmtpSink sink;
  Enrolled e = enroll("notify-mfa");
  ASSERT_FALSE(e.backup_codes.empty());
  HttpResponse regen = e.browser.call("POST", "/api/v1/mfa/backup-codes");
  ASSERT_EQ(regen.status, 200) << regen.body;
  std::vector<std::string> codes = string_list(regen, "backup_codes");
  ASSERT_GE(codes.size(), 3u);
  // The second step with a backup code (the same device: no new-device mail).
  Browser pending = pending_login(e.who.email);
  HttpResponse verified =
      pending.call("POST", "/api/v1/auth/mfa/verify", R"({"backup_code":")" + codes[0] + "\"}");
  ASSERT_EQ(verified.status, 200) << verified.body;
  Browser full = browser_from(verified);
  HttpResponse off = full.call(
      "POST", "/api/v1/mfa/totp/disable",
      R"({"password":")" + std::string(kPassword) + R"(","backup_code":")" + codes[1] + "\"}");
  ASSERT_EQ(off.status, 200) << off.body;

  std::string out = sink.deliver();
  std::vector<std::string> all = sink.messages_to(e.who.email);
  EXPECT_EQ(all.size(), 5u) << out;
  EXPECT_EQ(sink.messages_to(e.who.email, kMfaEnabled).size(), 1u);
  EXPECT_EQ(sink.messages_to(e.who.email, kCodesRegenerated).size(), 1u);
  EXPECT_EQ(sink.messages_to(e.who.email, kMfaDisabled).size(), 1u);
  std::vector<std::string> used = sink.messages_to(e.who.email, kCodeUsed);
  ASSERT_EQ(used.size(), 2u);
  std::string left_after_first = "Backup codes left: " + std::to_string(codes.size() - 1) + ".";
  std::string left_after_second = "Backup codes left: " + std::to_string(codes.size() - 2) + ".";
  bool first_then_second = used[0].find(left_after_first) != std::string::npos
                               ? used[1].find(left_after_second) != std::string::npos
                               : used[0].find(left_after_second) != std::string::npos &&
                                     used[1].find(left_after_first) != std::string::npos;
  EXPECT_TRUE(first_then_second) << used[0] << used[1];
  std::vector<std::string> secrets = {kPassword, e.secret, full.cookie, pending.cookie};
  secrets.insert(secrets.end(), e.backup_codes.begin(), e.backup_codes.end());
  secrets.insert(secrets.end(), codes.begin(), codes.end());
  expect_no_secret(all, secrets);
}

TEST_F(NotifyTest, NOTIFY_RoleChangeAndResetMfaByAnAdminOrTheCliEachSendOneMail) {
  SmtpSink sink;
  Registered owner = register_tenant("notify-owner");
  Browser ob = login(owner.email);
  Enrolled mfa_user = enroll("notify-cli");  // an MFA user of another tenant
  // The member of the owner's tenant joins by invitation.
  std::string email = unique_email("notify-member");
  HttpResponse inv = ob.call("POST", "/api/v1/members/invitations",
                             R"({"email":")" + email + R"(","role":"member"})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  std::string token = parse(inv)["token"].GetString();
  ASSERT_EQ(post_json("/api/v1/auth/register",
                      R"({"email":")" + email + R"(","password":")" + kPassword +
                          R"(","display_name":"Joiner","invite_token":")" + token + "\"}")
                .status,
            201);
  std::string id = db_text("SELECT CAST(id AS TEXT) FROM users WHERE email = :e", email);
  HttpResponse r = ob.call("PATCH", "/api/v1/members/" + id, R"({"role":"admin"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = ob.call("PATCH", "/api/v1/members/" + id, R"({"role":"admin"})");  // no change: no mail
  ASSERT_EQ(r.status, 200) << r.body;
  r = ob.call("POST", "/api/v1/members/" + id + "/reset-mfa");
  ASSERT_EQ(r.status, 200) << r.body;
  // The CLI's reset of the other tenant's MFA user.
  int rc = 0;
  std::string cli = mail_sink::shell_output(
      mail_sink::env_of("PORTCULLIS_TEST_BIN") + " user reset-mfa --email " + mfa_user.who.email +
          " --env-file " + mail_sink::env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1",
      &rc);
  ASSERT_EQ(rc, 0) << cli;

  std::string out = sink.deliver();
  EXPECT_EQ(sink.messages_to(email).size(), 2u) << out;
  std::vector<std::string> role = sink.messages_to(email, kRoleChanged);
  ASSERT_EQ(role.size(), 1u);
  EXPECT_THAT(role[0], HasSubstr("from member to admin"));
  EXPECT_THAT(role[0], HasSubstr("\r\nTo: Joiner <" + email + ">\r\n"));
  EXPECT_EQ(sink.messages_to(email, kMfaReset).size(), 1u);
  std::vector<std::string> cli_reset = sink.messages_to(mfa_user.who.email, kMfaReset);
  ASSERT_EQ(cli_reset.size(), 1u);
  EXPECT_THAT(cli_reset[0], HasSubstr("https://app.portcullis.test/"));
  expect_no_secret(sink.messages_to(email), {kPassword, token});
  std::vector<std::string> secrets = {kPassword, mfa_user.secret};
  secrets.insert(secrets.end(), mfa_user.backup_codes.begin(), mfa_user.backup_codes.end());
  expect_no_secret(sink.messages_to(mfa_user.who.email), secrets);
  // The admin hears nothing of their own actions.
  EXPECT_TRUE(sink.messages_to(owner.email).empty());
}

TEST_F(NotifyTest, RATE3_LockoutMailsTheOwnerOnceAndAnUnknownAddressNobody) {
  SmtpSink sink;
  Registered who = register_tenant("notify-lock");
  const std::string wrong = "definitely not the password 1234";
  int locked_at = -1;
  for (int i = 0; i < 8; ++i) {
    HttpResponse r = login_as(who.email, kFirefoxLinux, wrong);
    if (r.status == 429 && locked_at < 0) {
      locked_at = i;
    }
  }
  EXPECT_GT(locked_at, 0);
  db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'";
  std::string nobody = unique_email("notify-nobody");
  for (int i = 0; i < 8; ++i) {
    (void)login_as(nobody, kFirefoxLinux, wrong);
  }

  std::string out = sink.deliver();
  std::vector<std::string> all = sink.messages_to(who.email);
  ASSERT_EQ(all.size(), 1u) << out;
  EXPECT_THAT(all[0], HasSubstr("\r\nSubject: " + std::string(kLocked) + "\r\n"));
  EXPECT_THAT(all[0], HasSubstr("minutes"));
  expect_no_secret(all, {wrong, kPassword});
  EXPECT_EQ(outbox_rows(nobody), "0");
  EXPECT_TRUE(sink.messages_to(nobody).empty());
  db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'";
}

TEST_F(NotifyTest, NOTIFY_AtMostTenNoticesPerAccountPerHourAndTheSkipIsLogged) {
  SmtpSink sink;
  Registered owner = register_tenant("notify-cap-owner");
  Browser ob = login(owner.email);
  std::string email = unique_email("notify-cap");
  HttpResponse inv = ob.call("POST", "/api/v1/members/invitations",
                             R"({"email":")" + email + R"(","role":"member"})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  ASSERT_EQ(
      post_json("/api/v1/auth/register", R"({"email":")" + email + R"(","password":")" + kPassword +
                                             R"(","display_name":"Capped","invite_token":")" +
                                             parse(inv)["token"].GetString() + "\"}")
          .status,
      201);
  std::string id = db_text("SELECT CAST(id AS TEXT) FROM users WHERE email = :e", email);
  // The invitation's own mail (no account yet, outside the cap) is not what
  // this test counts.
  db() << "DELETE FROM outbox WHERE to_address = :a AND kind = 'invitation_request'",
      soci::use(email);
  // 13 role changes: 10 mails.
  for (int i = 0; i < 13; ++i) {
    HttpResponse r = ob.call("PATCH", "/api/v1/members/" + id,
                             i % 2 == 0 ? R"({"role":"admin"})" : R"({"role":"member"})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(outbox_rows(email), "10");
  std::string out = sink.deliver();
  EXPECT_EQ(sink.messages_to(email, kRoleChanged).size(), 10u) << out;

  // The skips are logged with the user id and kind, never the address.
  std::string capped;
  for (int i = 0; i < 50 && capped.empty(); ++i) {
    std::ifstream log(mail_sink::env_of("PORTCULLIS_TEST_LOG"));
    std::string line;
    while (std::getline(log, line)) {
      if (line.find("mail.notice_capped") != std::string::npos &&
          line.find(id) != std::string::npos) {
        capped += line + "\n";
      }
    }
    if (capped.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_THAT(capped, HasSubstr("role_changed"));
  EXPECT_THAT(capped, Not(HasSubstr(email)));
}

}  // namespace
}  // namespace portcullis::testing
