// The password policy's refusals as HTTP answers (DESIGN §7, §8): auth
// decides (check_account_password, app/auth/account.h), this maps.
#pragma once

#include <string>
#include <vector>

namespace portcullis {

// Throws ApiError 400 when check_account_password() refuses the password:
// validation_failed (too short, too long) or password_blocklisted (block list,
// context words), with the error on `field`.
void enforce_password_policy(const std::string& password,
                             const std::vector<std::string>& context_words,
                             const char* field,
                             bool tenant_requires_mfa = false);

}  // namespace portcullis
