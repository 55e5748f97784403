// Mail through the real stack (README "Mail"): a password change through
// nginx enqueues its notice in the change's transaction; `portcullis mail
// deliver` sends it to a real SMTP server on loopback (python3-aiosmtpd,
// tests/integration/smtp_sink.py) or writes .eml files when SMTP_URL is unset.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/http_client.h"
#include "tests/integration/mail_sink.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

using mail_sink::env_of;
using mail_sink::port_open;
using mail_sink::read_all;
using mail_sink::shell_output;
using mail_sink::unused_port;

using SmtpSink = mail_sink::SmtpSink;

std::string mail_command(const std::string& args, const std::string& extra_env, int* rc) {
  return shell_output("env " + extra_env + " " + env_of("PORTCULLIS_TEST_BIN") + " mail " + args +
                          " --env-file " + env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1",
                      rc);
}

std::string smtp_env(int port, int max_attempts = 8) {
  return "PORTCULLIS_SMTP_URL=smtp://127.0.0.1:" + std::to_string(port) +
         " PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1 PORTCULLIS_MAIL_FROM=no-reply@portcullis.test"
         " PORTCULLIS_MAIL_RETRY_BASE_SECONDS=1 PORTCULLIS_MAIL_MAX_ATTEMPTS=" +
         std::to_string(max_attempts) + " PORTCULLIS_PUBLIC_BASE_URL=https://app.portcullis.test";
}

std::string deliver_once(const std::string& extra_env, int* rc = nullptr) {
  int code = 0;
  std::string out = mail_command("deliver --once", extra_env, &code);
  if (rc != nullptr) {
    *rc = code;
  }
  return out;
}

// Changes the password from `current` to `fresh` through nginx.
void change_password(const Browser& b, const std::string& current, const std::string& fresh) {
  HttpResponse r =
      b.call("POST", "/api/v1/me/password",
             R"({"current_password":")" + current + R"(","new_password":")" + fresh + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
}

std::string outbox_count(const std::string& address, const std::string& condition) {
  return db_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE to_address = :a AND " + condition,
                 address);
}

TEST(MailTest, PasswordChangeNoticeArrivesOverSmtpWithHeadersBothPartsAndNoSecret) {
  SmtpSink sink;
  Registered who = register_tenant("mail-notice");
  Browser b = login(who.email);
  const std::string fresh = "a fresh secret passphrase 7731";
  change_password(b, kPassword, fresh);
  EXPECT_EQ(outbox_count(who.email, "status = 'pending'"), "1");

  std::string out = deliver_once(smtp_env(sink.port()));
  std::vector<std::string> got = sink.raw_messages_to(who.email);
  ASSERT_EQ(got.size(), 1u) << out;
  const std::string& m = got[0];
  EXPECT_THAT(m, HasSubstr("X-Sink-Mail-From: <no-reply@portcullis.test>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nFrom: portcullis <no-reply@portcullis.test>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nTo: Test User <" + who.email + ">\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nSubject: Your portcullis password was changed\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nMessage-ID: <"));
  EXPECT_THAT(m, HasSubstr("\r\nDate: "));
  EXPECT_THAT(m, HasSubstr("multipart/alternative"));
  EXPECT_THAT(m, HasSubstr("Content-Type: text/plain; charset=utf-8"));
  EXPECT_THAT(m, HasSubstr("Content-Type: text/html; charset=utf-8"));
  EXPECT_THAT(m, HasSubstr("Hello Test User,"));
  EXPECT_THAT(m, HasSubstr("https://app.portcullis.test/"));
  // Links only from PUBLIC_BASE_URL, never the request's host.
  EXPECT_THAT(m, Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(m, Not(HasSubstr(fresh)));
  EXPECT_THAT(m, Not(HasSubstr(kPassword)));
  EXPECT_THAT(m, Not(HasSubstr("List-Unsubscribe")));
  EXPECT_EQ(outbox_count(who.email, "status = 'sent' AND message_id IS NOT NULL"), "1");
  // The log names the row, never the address or the body.
  EXPECT_THAT(out, HasSubstr("\"event\":\"mail.sent\""));
  EXPECT_THAT(out, Not(HasSubstr(who.email)));
  EXPECT_THAT(out, Not(HasSubstr("Hello Test User")));
  // A second run sends nothing more.
  deliver_once(smtp_env(sink.port()));
  EXPECT_EQ(sink.raw_messages_to(who.email).size(), 1u);
}

TEST(MailTest, OUTBOX_ServerDownTwentyChangesRetryThenArriveExactlyOnce) {
  int port = unused_port();
  Registered who = register_tenant("mail-outage");
  Browser b = login(who.email);
  std::string current = kPassword;
  for (int i = 0; i < 20; ++i) {
    std::string fresh = "orange lantern river " + std::to_string(i) + " twenty";
    change_password(b, current, fresh);
    current = fresh;
  }
  EXPECT_EQ(outbox_count(who.email, "status = 'pending'"), "20");
  // No server: every attempt fails and the rows wait for their next attempt.
  int rc = 0;
  std::string out = deliver_once(smtp_env(port), &rc);
  EXPECT_EQ(rc, 75) << out;
  EXPECT_THAT(out, HasSubstr("\"event\":\"mail.retry\""));
  EXPECT_EQ(outbox_count(who.email,
                         "status = 'pending' AND attempts = 1 AND last_error IS NOT "
                         "NULL AND next_attempt_at > created_at"),
            "20");
  // The server comes back; after the 1 s backoff everything arrives once.
  SmtpSink sink(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  out = deliver_once(smtp_env(port), &rc);
  std::vector<std::string> got = sink.raw_messages_to(who.email);
  EXPECT_EQ(got.size(), 20u) << out;
  std::set<std::string> ids;
  for (const std::string& m : got) {
    size_t at = m.find("\r\nMessage-ID: ");
    ids.insert(m.substr(at, m.find("\r\n", at + 2) - at));
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(outbox_count(who.email, "status = 'sent'"), "20");
  deliver_once(smtp_env(port));
  EXPECT_EQ(sink.raw_messages_to(who.email).size(), 20u);
}

TEST(MailTest, OUTBOX_RolledBackChangeSendsNothing) {
  SmtpSink sink;
  std::string rolled_back = unique_email("mail-rollback");
  std::string committed = unique_email("mail-commit");
  HttpResponse r = post_json("/api/v1/test/outbox-probe",
                             R"({"email":")" + rolled_back + R"(","commit":false})");
  EXPECT_EQ(r.status, 409) << r.body;
  r = post_json("/api/v1/test/outbox-probe", R"({"email":")" + committed + R"(","commit":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  // A failed password change (wrong current password) enqueues nothing either.
  Registered who = register_tenant("mail-badchange");
  Browser b = login(who.email);
  HttpResponse bad = b.call("POST", "/api/v1/me/password",
                            R"({"current_password":"not the password at all","new_password":)"
                            R"("another long passphrase 99"})");
  EXPECT_EQ(bad.status, 400);

  deliver_once(smtp_env(sink.port()));
  EXPECT_EQ(outbox_count(rolled_back, "1 = 1"), "0");
  EXPECT_TRUE(sink.raw_messages_to(rolled_back).empty());
  EXPECT_EQ(outbox_count(who.email, "1 = 1"), "0");
  EXPECT_TRUE(sink.raw_messages_to(who.email).empty());
  EXPECT_EQ(sink.raw_messages_to(committed).size(), 1u);
}

TEST(MailTest, OUTBOX_DeadLetterAfterMaxAttemptsShowsInStatusAndRetryRequeuesIt) {
  int port = unused_port();
  Registered who = register_tenant("mail-dead");
  Browser b = login(who.email);
  change_password(b, kPassword, "quiet harbour lantern 4242");
  std::string id =
      db_text("SELECT CAST(id AS TEXT) FROM outbox WHERE to_address = :a AND status = 'pending'",
              who.email);
  ASSERT_FALSE(id.empty());
  // Two attempts allowed, no server: the second failure makes it dead.
  std::string out = deliver_once(smtp_env(port, 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  out = deliver_once(smtp_env(port, 2));
  EXPECT_THAT(out, HasSubstr("\"event\":\"mail.dead\""));
  EXPECT_EQ(outbox_count(who.email, "status = 'dead' AND attempts = 2"), "1");

  int rc = 0;
  std::string status = mail_command("status", "", &rc);
  EXPECT_EQ(rc, 0) << status;
  EXPECT_THAT(status, HasSubstr(id + "  password_changed  2  smtp: "));
  EXPECT_THAT(status, Not(HasSubstr(who.email)));
  EXPECT_THAT(status, Not(HasSubstr("Test User")));

  mail_command("retry not-an-id", "", &rc);
  EXPECT_EQ(rc, 64);
  mail_command("retry " + id, "", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(outbox_count(who.email, "status = 'pending' AND attempts = 0"), "1");
  mail_command("retry " + id, "", &rc);
  EXPECT_EQ(rc, 1);  // no longer dead

  SmtpSink sink(port);
  deliver_once(smtp_env(port, 2));
  EXPECT_EQ(sink.raw_messages_to(who.email).size(), 1u);
}

TEST(MailTest, WithoutSmtpUrlDeliveryWritesEmlFiles0600) {
  Registered who = register_tenant("mail-files");
  Browser b = login(who.email);
  change_password(b, kPassword, "copper kettle whistle 5150");
  std::string dir = env_of("PORTCULLIS_TEST_DIR") + "/mail-files-" + random_hex(4);
  int rc = 0;
  std::string out = deliver_once("-u PORTCULLIS_SMTP_URL PORTCULLIS_MAIL_DIR=" + dir, &rc);
  EXPECT_EQ(rc, 0) << out;
  int mine = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().extension(), ".eml");
    EXPECT_THAT(out, HasSubstr(entry.path().string()));  // the path is printed
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << entry.path();
    std::string m = read_all(entry.path());
    if (m.find("\r\nTo: Test User <" + who.email + ">\r\n") != std::string::npos) {
      ++mine;
      EXPECT_THAT(m, Not(HasSubstr("copper kettle whistle")));
    }
  }
  EXPECT_EQ(mine, 1);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// The app role (the deliverer's and the workers') reads, inserts and updates
// outbox rows; deleting them is the owner's alone.
TEST(MailTest, OUTBOX_AppRoleMayNotDeleteOrTruncateOutboxRows) {
  if (env_of("PORTCULLIS_TEST_BACKEND") != "postgresql") {
    GTEST_SKIP() << "PostgreSQL roles only";
  }
  std::string psql =
      "psql -X -q -v ON_ERROR_STOP=1 \"" + env_of("PORTCULLIS_TEST_APP_DB_URL") + "\" -c ";
  int rc = 0;
  std::string out = shell_output(psql + "'SELECT COUNT(*) FROM outbox' 2>&1", &rc);
  EXPECT_EQ(rc, 0) << out;
  out = shell_output(psql + "'DELETE FROM outbox WHERE false' 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(out, HasSubstr("permission denied"));
  out = shell_output(psql + "'TRUNCATE outbox' 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(out, HasSubstr("permission denied"));
}

}  // namespace
}  // namespace portcullis::testing
