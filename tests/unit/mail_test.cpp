// Mail composition (app/mail/compose.h): headers from validated addresses,
// encoded-words for anything but printable ASCII, and no header injection
// through any user-controlled field.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config/config.h"
#include "app/crypto/random.h"
#include "app/mail/compose.h"
#include "app/mail/deliver.h"

namespace portcullis::mail {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

ComposeSettings settings() {
  ComposeSettings s;
  s.templates_dir = std::string(PORTCULLIS_SOURCE_DIR) + "/mail/templates";
  s.from_address = "no-reply@example.org";
  s.from_name = "portcullis";
  s.public_base_url = "https://app.example.org";
  return s;
}

store::outbox::OutboxMail password_changed(const std::string& name) {
  store::outbox::OutboxMail m;
  m.kind = "password_changed";
  m.to_address = "ada@example.test";
  m.to_name = name;
  m.params = {{"name", name}};
  return m;
}

// The header block: everything before the first empty line.
std::vector<std::string> header_lines(const std::string& data) {
  std::string head = data.substr(0, data.find("\r\n\r\n"));
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= head.size()) {
    size_t end = head.find("\r\n", pos);
    lines.push_back(head.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) {
      break;
    }
    pos = end + 2;
  }
  return lines;
}

// Header field names present (continuation lines start with white space).
std::vector<std::string> header_names(const std::string& data) {
  std::vector<std::string> names;
  for (const std::string& line : header_lines(data)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '\t') {
      names.push_back(line.substr(0, line.find(':')));
    }
  }
  return names;
}

TEST(MailComposeTest, PasswordChangedHasBothPartsTheHeadersAndNoTrackingOrUnsubscribe) {
  Composed c = compose(settings(), "0190a0b0-0000-7000-8000-000000000001",
                       password_changed("Ada Lovelace"), 1'790'000'000'000);
  EXPECT_THAT(header_names(c.data),
              ::testing::ElementsAre("Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
                                     "Auto-Submitted", "Content-Type"));
  EXPECT_THAT(c.data, HasSubstr("\r\nFrom: portcullis <no-reply@example.org>\r\n"));
  EXPECT_THAT(c.data, HasSubstr("\r\nTo: Ada Lovelace <ada@example.test>\r\n"));
  EXPECT_THAT(c.data, HasSubstr("\r\nSubject: Your portcullis password was changed\r\n"));
  EXPECT_EQ(c.message_id, "<0190a0b0-0000-7000-8000-000000000001@example.org>");
  EXPECT_THAT(c.data, StartsWith("Date: Mon, 21 Sep 2026 "));
  EXPECT_THAT(c.data, HasSubstr("Content-Type: text/plain; charset=utf-8"));
  EXPECT_THAT(c.data, HasSubstr("Content-Type: text/html; charset=utf-8"));
  EXPECT_THAT(c.data, HasSubstr("https://app.example.org/"));
  EXPECT_THAT(c.data, Not(HasSubstr("List-Unsubscribe")));
  EXPECT_THAT(c.data, Not(HasSubstr("<img")));
  // Every line ends in CRLF and no line is longer than SMTP allows.
  for (size_t i = 0; i < c.data.size(); ++i) {
    if (c.data[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(c.data[i - 1], '\r') << i;
    }
  }
}

TEST(MailComposeTest, RFC5322DateIsFixedFormatUtc) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1'790'000'000'000), "Mon, 21 Sep 2026 14:13:20 +0000");
}

TEST(MailComposeTest, NonAsciiNamesAndSubjectsBecomeEncodedWords) {
  EXPECT_EQ(encode_display_name("Zoë"), "=?UTF-8?B?" + base64_encode("Zoë") + "?=");
  EXPECT_EQ(encode_display_name("O'Brien, Pat"),
            "=?UTF-8?B?" + base64_encode("O'Brien, Pat") + "?=");
  EXPECT_EQ(encode_display_name("Plain Name"), "Plain Name");
  EXPECT_EQ(encode_unstructured("Grüße"), "=?UTF-8?B?" + base64_encode("Grüße") + "?=");
  // Long text: several words, each ≤ 75 characters, folded with CRLF SP.
  std::string long_name(120, 'x');
  long_name += "é";
  std::string encoded = encode_display_name(long_name);
  for (const std::string& word : {encoded.substr(0, encoded.find("\r\n "))}) {
    EXPECT_LE(word.size(), 75u);
  }
  EXPECT_THAT(encoded, HasSubstr("?=\r\n =?UTF-8?B?"));
}

TEST(MailComposeTest, HTMLPartEscapesParametersAndTextPartDoesNot) {
  Composed c = compose(settings(), "id", password_changed("<b>Eve</b> & \"co\""), 0);
  EXPECT_THAT(c.data, HasSubstr("&lt;b&gt;Eve&lt;/b&gt; &amp; &quot;co&quot;"));
  EXPECT_THAT(c.data, Not(HasSubstr("Hello <b>Eve</b>\r\n<")));
}

TEST(MailComposeTest, MissingTemplateOrValueIsAMailErrorNamingNoValue) {
  store::outbox::OutboxMail m = password_changed("Ada");
  m.params.clear();
  EXPECT_THROW(compose(settings(), "id", m, 0), MailError);
  m = password_changed("Ada");
  m.kind = "no_such_template";
  EXPECT_THROW(compose(settings(), "id", m, 0), MailError);
  m.kind = "../../etc/passwd";
  EXPECT_THROW(compose(settings(), "id", m, 0), MailError);
}

TEST(MailComposeTest, RecipientThatNoHeaderMayCarryIsRefused) {
  for (const std::string& bad :
       {std::string("a@b.test\r\nBcc: evil@example.test"), std::string("a@b.test>, <evil@x.test"),
        std::string("\"a b\"@x.test"), std::string("zoë@example.test"), std::string("a(b)@x.test"),
        std::string("nobody")}) {
    store::outbox::OutboxMail m = password_changed("Ada");
    m.to_address = bad;
    EXPECT_THROW(compose(settings(), "id", m, 0), std::invalid_argument) << bad;
  }
}

// SECURITY-BAR: no header injection through any field a user controls.
TEST(MailComposeTest, HeaderInjectionThroughNameOrParamsAddsNoHeader) {
  const std::vector<std::string> payloads = {
      "\r\nBcc: evil@example.test",
      "\nBcc: evil@example.test",
      "\rBcc: evil@example.test",
      "x\r\n\r\nBcc: evil@example.test",
      "x\xE2\x80\xA8"
      "Bcc: evil@example.test",  // U+2028 LINE SEPARATOR
      "x\xE2\x80\xA9"
      "Bcc: evil@example.test",  // U+2029 PARAGRAPH SEPARATOR
      "x\xC2\x85"
      "Bcc: evil@example.test",  // U+0085 NEXT LINE
      "x\x0B\x0C"
      "Bcc: evil@example.test",
      "x\xC0\x8A"
      "Bcc: evil@example.test",  // overlong LF
      "=?UTF-8?B?DQpCY2M6IGV2aWxAZXhhbXBsZS50ZXN0?=",
  };
  const std::vector<std::string> expected = {"Date",           "From",        "To",
                                             "Subject",        "Message-ID",  "MIME-Version",
                                             "Auto-Submitted", "Content-Type"};
  for (const std::string& p : payloads) {
    store::outbox::OutboxMail m = password_changed("Mallory" + p);
    Composed c = compose(settings(), "id", m, 0);
    EXPECT_EQ(header_names(c.data), expected) << p;
    for (const std::string& line : header_lines(c.data)) {
      EXPECT_THAT(line, Not(HasSubstr("Bcc"))) << p;
      EXPECT_THAT(line, Not(StartsWith("Bcc"))) << p;
      for (char ch : line) {
        EXPECT_TRUE(ch >= 0x20 && ch <= 0x7E) << "non-ASCII or control byte in a header: " << p;
      }
    }
    EXPECT_THAT(c.data, Not(HasSubstr("\r\nBcc:"))) << p;
    EXPECT_THAT(c.data, Not(HasSubstr("\nBcc:"))) << p;
  }
}

TEST(MailComposeTest, SubjectTemplateParameterCannotInjectAHeader) {
  // A subject built from a parameter: use the text template as a subject.
  std::string subject =
      render("Hi {{name}}", {{"name", "x\r\nBcc: evil@example.test"}}, false, "probe.subject");
  EXPECT_THAT(encode_unstructured(subject), Not(HasSubstr("\n")));
  EXPECT_THAT(encode_unstructured(subject), Not(HasSubstr("\r")));
}

TEST(MailComposeTest, QuotedPrintableKeepsLinesShortAndEncodesDotsAndEquals) {
  std::string qp = quoted_printable(std::string(200, 'a') + "\n.\n= é \n");
  size_t start = 0;
  while (start < qp.size()) {
    size_t end = qp.find("\r\n", start);
    std::string line = qp.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EXPECT_LE(line.size(), 76u) << line;
    start = end == std::string::npos ? qp.size() : end + 2;
  }
  EXPECT_THAT(qp, HasSubstr("\r\n=2E\r\n"));
  EXPECT_THAT(qp, HasSubstr("=3D =C3=A9=20"));
}

TEST(MailDeliverTest, BackoffDoublesFromTheBaseAndIsCapped) {
  EXPECT_EQ(backoff_ms(1, 60), 60'000);
  EXPECT_EQ(backoff_ms(2, 60), 120'000);
  EXPECT_EQ(backoff_ms(4, 60), 480'000);
  EXPECT_EQ(backoff_ms(40, 60), 6LL * 3600 * 1000);
  EXPECT_EQ(backoff_ms(3, 0), 0);
}

}  // namespace
}  // namespace portcullis::mail
