// Mail helpers for the password-recovery tests: the loopback SMTP sink and
// `portcullis mail deliver --once` (mail_sink.h), and reading the reset link
// out of a delivered message.
#pragma once

#include <cctype>
#include <string>
#include <vector>

#include "tests/integration/mail_sink.h"

namespace portcullis::testing::recovery_mail {

using mail_sink::SmtpSink;

// The token of the (first) reset link in a decoded message (as
// SmtpSink::messages_to gives it; decoding twice would turn a token's "=AB…"
// into a byte): "" when there is none.
inline std::string reset_token_in(const std::string& text) {
  const std::string marker = "/#/reset?token=";
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

// The reset messages among `messages`.
inline std::vector<std::string> reset_mails(const std::vector<std::string>& messages) {
  std::vector<std::string> out;
  for (const std::string& m : messages) {
    if (m.find("\r\nSubject: Reset your portcullis password\r\n") != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace portcullis::testing::recovery_mail
