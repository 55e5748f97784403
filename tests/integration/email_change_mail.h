// Mail helpers for the e-mail change tests: the links of the confirmation
// and of the "this wasn't me" notices, and the token they carry.
#pragma once

#include <cctype>
#include <string>

namespace portcullis::testing::email_change_mail {

inline constexpr const char* kConfirmSubject = "Confirm your new portcullis e-mail address";
inline constexpr const char* kRequestedSubject =
    "A change of your portcullis e-mail address was requested";
inline constexpr const char* kConfirmLink = "https://app.portcullis.test/#/confirm-email?token=";
inline constexpr const char* kRevertLink = "https://app.portcullis.test/#/revert-email?token=";

// The token after the first `link` in a decoded message (as
// SmtpSink::messages_to gives it): "" when there is none.
inline std::string token_after(const std::string& text, const std::string& link) {
  size_t at = text.find(link);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + link.size();
  size_t end = start;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                               text[end] == '-' || text[end] == '_')) {
    ++end;
  }
  return text.substr(start, end - start);
}

}  // namespace portcullis::testing::email_change_mail
