#include "app/http/password_policy.h"

#include "app/auth/account.h"
#include "app/http/api_error.h"

namespace portcullis {

// 400 for a password the policy refuses; the message names the rule.
void enforce_password_policy(const std::string& password,
                             const std::vector<std::string>& context_words,
                             const char* field,
                             bool tenant_requires_mfa) {
  switch (check_account_password(password, context_words, tenant_requires_mfa)) {
    case PasswordProblem::kNone:
      return;
    case PasswordProblem::kTooShort: {
      ApiError e = ApiError::validation_failed();
      e.with_field(field, "must be at least " +
                              std::to_string(min_password_code_points(tenant_requires_mfa)) +
                              " characters");
      throw e;
    }
    case PasswordProblem::kTooLong: {
      ApiError e = ApiError::validation_failed();
      e.with_field(field, "must be at most 128 characters");
      throw e;
    }
    case PasswordProblem::kBlocklisted: {
      ApiError e{400, "password_blocklisted", "This password is too common. Choose another."};
      e.with_field(field, "is too common or too easy to guess");
      throw e;
    }
    case PasswordProblem::kContextWord: {
      ApiError e{400, "password_blocklisted",
                 "The password must not contain your name, e-mail or organisation."};
      e.with_field(field, "must not contain your name, e-mail or organisation name");
      throw e;
    }
  }
}

}  // namespace portcullis
