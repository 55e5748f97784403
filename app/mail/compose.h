// Composition of one outbox row into an RFC 5322 message (DESIGN §5, §6):
// templates from files (<dir>/<kind>.subject, .txt, .html) with {{name}}
// placeholders filled from the row's params and {{base_url}} (only ever
// PUBLIC_BASE_URL, never a request's Host); a multipart/alternative body
// (text and HTML, quoted-printable, UTF-8); Date, From, To, Subject,
// Message-ID. No tracking pixels, no List-Unsubscribe.
//
// Header safety: every header value is built here, from validated addresses
// and from text that has lost every control character (CR, LF, NEL, U+2028,
// U+2029 …) before it is used; display names and subjects with anything but
// plain printable ASCII become RFC 2047 encoded-words (UTF-8, B). So nothing a
// user controls can end a header line or start another.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "app/store/outbox.h"

namespace portcullis::mail {

// A row that cannot be composed (missing template, missing value). The
// message names the template and the placeholder, never a value.
class MailError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ComposeSettings {
  std::string templates_dir;
  std::string from_address;  // MAIL_FROM, validated
  std::string from_name = "portcullis";
  std::string public_base_url;  // no trailing slash
};

struct Composed {
  std::string message_id;  // <row-id@from-domain>, the same on every attempt
  std::string data;        // the whole message, CRLF line ends
};

// The templates directory: `configured` when set; else the installed
// <prefix>/share/portcullis/mail/templates next to the binary's prefix; else
// <repo>/mail/templates from a build tree; else "mail/templates".
std::string default_templates_dir(const std::string& configured);

// valid_email() and nothing a header treats specially: printable ASCII only,
// none of ()<>[]:;,\" and no white space.
bool header_safe_address(const std::string& address);

// `text` with invalid UTF-8 replaced (U+FFFD) and every control or line/
// paragraph separator replaced by a space.
std::string single_line(const std::string& text);
// A Subject value: single_line(), at most 200 code points, as is when it is
// printable ASCII, else RFC 2047 encoded-words folded with CRLF SP.
std::string encode_unstructured(const std::string& text);
// A display name for From/To: as is when it is atoms and spaces, else
// encoded-words. "" for an empty name.
std::string encode_display_name(const std::string& name);
// RFC 5322 date-time, e.g. "Tue, 01 Dec 2026 10:00:00 +0000".
std::string rfc5322_date(int64_t ms);
// Quoted-printable (RFC 2045 §6.7) of text whose lines end in LF or CRLF.
std::string quoted_printable(const std::string& text);
// Fills {{name}} placeholders; values HTML-escaped when `html`. Throws
// MailError naming the first placeholder without a value.
std::string render(const std::string& tmpl,
                   const std::map<std::string, std::string>& values,
                   bool html,
                   const std::string& template_name);

// The message for row `row_id`. Throws MailError (template) or
// std::invalid_argument (recipient not header_safe_address()).
Composed compose(const ComposeSettings& settings,
                 const std::string& row_id,
                 const store::outbox::OutboxMail& mail,
                 int64_t now_ms);

}  // namespace portcullis::mail
