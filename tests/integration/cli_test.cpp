// Sysadmin CLI (issue: authentication, item 10), checked through nginx.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

struct Cli {
  int exit_code = -1;
  std::string output;
};

// Runs `portcullis ARGS --env-file …` with `input` on standard input.
Cli portcullis_cli(const std::string& args, const std::string& input = "") {
  std::string dir = std::getenv("PORTCULLIS_TEST_DIR");
  std::string in_file = dir + "/cli-stdin-" + random_hex(4);
  {
    FILE* f = std::fopen(in_file.c_str(), "w");
    std::fputs(input.c_str(), f);
    std::fclose(f);
  }
  std::string cmd = std::string(std::getenv("PORTCULLIS_TEST_BIN")) + " " + args + " --env-file " +
                    std::getenv("PORTCULLIS_TEST_ENV_FILE") + " < " + in_file + " 2>&1";
  Cli r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.output.append(buf.data(), n);
  }
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::remove(in_file.c_str());
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

TEST_F(CliTest, TenantCreateMakesAnOwnerWhoCanLogIn) {
  std::string email = unique_email("cli-owner");
  Cli r = portcullis_cli("tenant create --name 'Cli Org' --owner-email " + email,
                         std::string(kPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("created"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr(kPassword)));
  Browser b = login(email);
  HttpResponse me = b.call("GET", "/api/v1/me");
  EXPECT_THAT(me.body, HasSubstr("\"role\":\"owner\""));
  EXPECT_THAT(me.body, HasSubstr("Cli Org"));
  EXPECT_EQ(db_text("SELECT event FROM audit_events WHERE event = :e LIMIT 1", "tenant.created"),
            "tenant.created");
  // A weak password from stdin is refused with a non-zero exit.
  Cli weak = portcullis_cli("tenant create --name Weak --owner-email " + unique_email("cli-weak"),
                            "password1234567890\n");
  EXPECT_NE(weak.exit_code, 0);
}

TEST_F(CliTest, UserDisableRevokesSessionsAndRefusesLoginUntilEnabled) {
  Registered who = register_tenant("cli-disable");
  Browser b = login(who.email);
  Cli r = portcullis_cli("user disable --email " + who.email);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  // Issue 12: the right password of a suspended account is told so.
  EXPECT_EQ(login_raw(who.email, kPassword).status, 403);
  EXPECT_EQ(login_raw(who.email, "not the password at all 1").status, 401);
  ASSERT_EQ(portcullis_cli("user enable --email " + who.email).exit_code, 0);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);
}

TEST_F(CliTest, UserUnlockClearsALockout) {
  Registered who = register_tenant("cli-unlock");
  for (int i = 0; i < 5; ++i) {
    login_raw(who.email, "wrong wrong wrong wrong");
  }
  EXPECT_EQ(login_raw(who.email, kPassword).status, 429);
  ASSERT_EQ(portcullis_cli("user unlock --email " + who.email).exit_code, 0);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);
}

TEST_F(CliTest, UserResetPasswordReadsStdinAndRevokesSessions) {
  Registered who = register_tenant("cli-reset");
  Browser b = login(who.email);
  const std::string fresh = "an entirely new passphrase 77";
  Cli r = portcullis_cli("user reset-password --email " + who.email, fresh + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 401);
  EXPECT_EQ(login_raw(who.email, fresh).status, 200);
}

TEST_F(CliTest, UserResetMfaTakesAPositionalEmail) {
  Registered who = register_tenant("cli-mfa");
  Browser b = login(who.email);
  std::string enc = "v1.k1.placeholder";
  db() << "UPDATE users SET mfa_enabled = TRUE, totp_secret_enc = :s WHERE id = :u", soci::use(enc),
      soci::use(who.user_id);
  Cli r = portcullis_cli("user reset-mfa " + who.email);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(db_text("SELECT totp_secret_enc FROM users WHERE id = :u", who.user_id), "");
  HttpResponse plain = login_raw(who.email, kPassword);
  EXPECT_THAT(plain.body, HasSubstr("\"user\""));
}

TEST_F(CliTest, UserCreateAddsAMemberToATenant) {
  Registered who = register_tenant("cli-create");
  std::string email = unique_email("cli-member");
  Cli r = portcullis_cli("user create --tenant " + who.tenant_id + " --email " + email +
                             " --role member --name Member",
                         std::string(kPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Browser m = login(email);
  HttpResponse me = m.call("GET", "/api/v1/me");
  EXPECT_THAT(me.body, HasSubstr(who.tenant_id));
  EXPECT_THAT(me.body, HasSubstr("\"role\":\"member\""));
}

}  // namespace
}  // namespace portcullis::testing
