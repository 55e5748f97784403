// SMTP over TLS with AUTH against real servers on loopback (README "Mail";
// app/mail/transport.h): python3-aiosmtpd (tests/integration/smtp_sink.py)
// with STARTTLS or implicit TLS and a user/password, and certificates made
// for this run by openssl: a throwaway CA (given to the deliverer as
// PORTCULLIS_SMTP_CA_FILE), a server certificate for 127.0.0.1, one signed by
// a CA nobody trusts, and one for another host name. No
// SMTP_ALLOW_PLAIN_LOOPBACK here: what is tested is the production path.
#include <chrono>
#include <filesystem>
#include <fstream>
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

using mail_sink::env_of;
using mail_sink::read_all;
using mail_sink::shell_output;
using SmtpSink = mail_sink::SmtpSink;

constexpr const char* kUser = "portcullis-mailer";
// The relay's password: it must show up nowhere but in the AUTH exchange.
constexpr const char* kRightPassword = "relay-pass-Quokka-4417-right";
constexpr const char* kWrongPassword = "relay-pass-Wombat-9923-wrong";

// A CA, a CA nobody trusts, and three server certificates (EC P-256, two
// days): 127.0.0.1 + localhost by the CA, the same names by the unknown CA,
// and mail.other.test by the CA.
constexpr const char* kMakeCertificates = R"SH(
set -e
cd "$1"
ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$1.key" -out "$1.pem" -subj "/CN=$1" 2>/dev/null
}
leaf() {
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$3" \
    >"$1.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca test-ca
ca unknown-ca
leaf server test-ca "IP:127.0.0.1,DNS:localhost"
leaf untrusted unknown-ca "IP:127.0.0.1,DNS:localhost"
leaf otherhost test-ca "DNS:mail.other.test"
printf '%s\n' "$2" >right-password
printf '%s\n' "$3" >wrong-password
chmod 0600 ./*.key ./*-password
)SH";

class MailTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = env_of("PORTCULLIS_TEST_DIR") + "/tls-" + random_hex(4);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/make.sh") << kMakeCertificates;
    int rc = 0;
    std::string out = shell_output(
        "sh " + dir_ + "/make.sh " + dir_ + " " + kRightPassword + " " + kWrongPassword + " 2>&1",
        &rc);
    ASSERT_EQ(rc, 0) << out;
  }

  static std::string path(const std::string& name) { return dir_ + "/" + name; }

  // smtp_sink.py options: a TLS mode with one of the certificates, and AUTH.
  static std::string sink_options(const std::string& mode, const std::string& cert) {
    return mode + " --cert " + path(cert + ".pem") + " --key " + path(cert + ".key") + " --auth " +
           kUser + " " + path("right-password");
  }

  // `portcullis mail deliver --once` to `url`, trusting the test CA.
  static std::string deliver(const std::string& url,
                             const std::string& password_file,
                             int max_attempts = 8) {
    std::string env =
        "PORTCULLIS_SMTP_URL=" + url + " PORTCULLIS_SMTP_CA_FILE=" + path("test-ca.pem") +
        " PORTCULLIS_SMTP_USER=" + kUser + " PORTCULLIS_SMTP_PASSWORD_FILE=" + password_file +
        " PORTCULLIS_MAIL_FROM=no-reply@portcullis.test"
        " PORTCULLIS_MAIL_RETRY_BASE_SECONDS=1 PORTCULLIS_MAIL_MAX_ATTEMPTS=" +
        std::to_string(max_attempts) + " PORTCULLIS_PUBLIC_BASE_URL=https://app.portcullis.test";
    return shell_output("env -u PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK -u CREDENTIALS_DIRECTORY " +
                        env + " " + env_of("PORTCULLIS_TEST_BIN") + " mail deliver --once" +
                        " --env-file " + env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1");
  }

  // One committed outbox row (a password_changed mail) to a fresh address.
  static std::string enqueue(const std::string& tag) {
    std::string email = unique_email(tag);
    HttpResponse r =
        post_json("/api/v1/test/outbox-probe", R"({"email":")" + email + R"(","commit":true})");
    EXPECT_EQ(r.status, 200) << r.body;
    return email;
  }

  static std::string row(const std::string& email, const std::string& column) {
    return db_text("SELECT CAST(" + column + " AS TEXT) FROM outbox WHERE to_address = :a", email);
  }

  // The row was not sent: waiting for another attempt, with the failure's
  // short reason, and the server received nothing for it.
  static void expect_refused(const SmtpSink& sink,
                             const std::string& email,
                             const std::string& out,
                             const std::string& reason) {
    EXPECT_TRUE(sink.raw_messages_to(email).empty()) << out;
    EXPECT_EQ(row(email, "status"), "pending") << out;
    EXPECT_EQ(row(email, "attempts"), "1");
    std::string error = row(email, "last_error");
    EXPECT_THAT(error, HasSubstr(reason)) << out;
    EXPECT_LE(error.size(), 200u);
    EXPECT_THAT(out, HasSubstr("\"event\":\"mail.retry\""));
  }

  static std::string dir_;
};

std::string MailTlsTest::dir_;

TEST_F(MailTlsTest, MAIL_StartTlsWithAuthDeliversOverTls) {
  SmtpSink sink(0, sink_options("--starttls", "server"));
  std::string email = enqueue("tls-starttls");
  std::string out =
      deliver("smtp://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  std::vector<std::string> got = sink.raw_messages_to(email);
  ASSERT_EQ(got.size(), 1u) << out;
  EXPECT_THAT(got[0], HasSubstr("X-Sink-TLS: yes\r\n"));
  EXPECT_THAT(got[0], HasSubstr("X-Sink-Auth: " + std::string(kUser) + "\r\n"));
  EXPECT_THAT(got[0], HasSubstr("\r\nSubject: Your portcullis password was changed\r\n"));
  EXPECT_EQ(row(email, "status"), "sent");
  EXPECT_THAT(out, Not(HasSubstr(kRightPassword)));
}

TEST_F(MailTlsTest, MAIL_ImplicitTlsWithAuthDelivers) {
  SmtpSink sink(0, sink_options("--implicit-tls", "server"));
  std::string email = enqueue("tls-implicit");
  std::string out =
      deliver("smtps://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  std::vector<std::string> got = sink.raw_messages_to(email);
  ASSERT_EQ(got.size(), 1u) << out;
  EXPECT_THAT(got[0], HasSubstr("X-Sink-TLS: yes\r\n"));
  EXPECT_THAT(got[0], HasSubstr("X-Sink-Auth: " + std::string(kUser) + "\r\n"));
  EXPECT_EQ(row(email, "status"), "sent");
}

// LOG-3 (no secret in logs): a refused login is retried, then a dead letter;
// the password is in no output, no log line and no column of the row.
TEST_F(MailTlsTest, LOG3_WrongPasswordIsRetriedThenDeadAndThePasswordIsNowhere) {
  SmtpSink sink(0, sink_options("--starttls", "server"));
  std::string email = enqueue("tls-badpass");
  std::string url = "smtp://127.0.0.1:" + std::to_string(sink.port());
  std::string out = deliver(url, path("wrong-password"), 2);
  expect_refused(sink, email, out, "smtp: Login denied");
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  out += deliver(url, path("wrong-password"), 2);
  EXPECT_EQ(row(email, "status"), "dead") << out;
  EXPECT_TRUE(sink.raw_messages_to(email).empty());

  int rc = 0;
  std::string status = shell_output(env_of("PORTCULLIS_TEST_BIN") + " mail status --env-file " +
                                        env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1",
                                    &rc);
  EXPECT_EQ(rc, 0) << status;
  std::string id = row(email, "id");
  EXPECT_THAT(status, HasSubstr(id + "  password_changed  2  smtp: Login denied"));

  std::string everything = db_text(
      "SELECT CAST(id AS TEXT) || kind || to_address || to_name || CAST(params AS TEXT) || "
      "status || COALESCE(last_error, '') || COALESCE(message_id, '') FROM outbox "
      "WHERE to_address = :a",
      email);
  ASSERT_FALSE(everything.empty());
  for (const std::string& where :
       {out, status, everything, read_all(env_of("PORTCULLIS_TEST_LOG"))}) {
    EXPECT_THAT(where, Not(HasSubstr(kWrongPassword)));
    EXPECT_THAT(where, Not(HasSubstr(kRightPassword)));
  }
}

// smtp:// means STARTTLS, required: a server that does not offer it gets
// nothing, not the message in clear (and not the password).
TEST_F(MailTlsTest, MAIL_ServerWithoutStartTlsGetsNothingInClear) {
  SmtpSink sink;  // plain SMTP, no STARTTLS
  std::string email = enqueue("tls-nostarttls");
  std::string out =
      deliver("smtp://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  expect_refused(sink, email, out, "smtp: Requested SSL level failed");
  EXPECT_THAT(out, Not(HasSubstr(kRightPassword)));
}

TEST_F(MailTlsTest, MAIL_CertificateFromAnUnknownCaIsRefused) {
  SmtpSink sink(0, sink_options("--starttls", "untrusted"));
  std::string email = enqueue("tls-unknownca");
  std::string out =
      deliver("smtp://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  expect_refused(sink, email, out, "smtp: SSL peer certificate");
}

TEST_F(MailTlsTest, MAIL_ImplicitTlsCertificateFromAnUnknownCaIsRefused) {
  SmtpSink sink(0, sink_options("--implicit-tls", "untrusted"));
  std::string email = enqueue("tls-unknownca-smtps");
  std::string out =
      deliver("smtps://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  expect_refused(sink, email, out, "smtp: SSL peer certificate");
}

TEST_F(MailTlsTest, MAIL_CertificateForAnotherHostNameIsRefused) {
  SmtpSink sink(0, sink_options("--starttls", "otherhost"));
  std::string email = enqueue("tls-otherhost");
  std::string out =
      deliver("smtp://127.0.0.1:" + std::to_string(sink.port()), path("right-password"));
  expect_refused(sink, email, out, "smtp: SSL peer certificate");
}

TEST_F(MailTlsTest, MAIL_UnreadableCaFileIsAConfigurationError) {
  int rc = 0;
  std::string out = shell_output(
      "env PORTCULLIS_SMTP_URL=smtp://127.0.0.1:25 PORTCULLIS_SMTP_CA_FILE=" + path("missing.pem") +
          " " + env_of("PORTCULLIS_TEST_BIN") + " mail deliver --once --env-file " +
          env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1",
      &rc);
  EXPECT_EQ(rc, 78) << out;
  EXPECT_THAT(out, HasSubstr("PORTCULLIS_SMTP_CA_FILE"));
  // A file that holds no certificate (a key, say) is refused the same way.
  out = shell_output("env PORTCULLIS_SMTP_URL=smtp://127.0.0.1:25 PORTCULLIS_SMTP_CA_FILE=" +
                         path("right-password") + " " + env_of("PORTCULLIS_TEST_BIN") +
                         " mail deliver --once --env-file " + env_of("PORTCULLIS_TEST_ENV_FILE") +
                         " 2>&1",
                     &rc);
  EXPECT_EQ(rc, 78) << out;
  EXPECT_THAT(out, Not(HasSubstr(kRightPassword)));
}

}  // namespace
}  // namespace portcullis::testing
