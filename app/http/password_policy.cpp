#include "app/http/password_policy.h"

#include "app/auth/account.h"
#include "app/auth/passwords.h"

namespace portcullis {

// The policy's refusals, as field messages; the message names the rule.
void record_password_policy(JsonBody& body,
                            const std::string& password,
                            const std::vector<std::string>& context_words,
                            const char* field,
                            bool tenant_requires_mfa) {
  if (body.failed(field)) {
    return;  // already refused (missing, not a string)
  }
  switch (check_account_password(password, context_words, tenant_requires_mfa)) {
    case PasswordProblem::kNone:
      return;
    case PasswordProblem::kTooShort:
      body.fail(field, "must be at least " +
                           std::to_string(min_password_code_points(tenant_requires_mfa)) +
                           " characters");
      return;
    case PasswordProblem::kTooLong:
      body.fail(field, "must be at most " + std::to_string(kMaxPasswordCodePoints) + " characters");
      return;
    case PasswordProblem::kBlocklisted:
      body.fail_with_code(field, "is too common or too easy to guess", "password_blocklisted",
                          "This password is too common. Choose another.");
      return;
    case PasswordProblem::kContextWord:
      body.fail_with_code(field, "must not contain your name, e-mail or organisation name",
                          "password_blocklisted",
                          "The password must not contain your name, e-mail or organisation.");
      return;
  }
}

}  // namespace portcullis
