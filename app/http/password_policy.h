// The password policy's refusals as HTTP answers (DESIGN §7, §8): auth
// decides (check_account_password, app/auth/account.h), this maps.
#pragma once

#include <string>
#include <vector>

#include "app/http/body.h"

namespace portcullis {

// The password policy's refusals (check_account_password) recorded in `body` on `field` (one-pass
// validation, issue 12 item 6): they join the body's other field errors and are thrown by
// body.finish(). The block list and context words keep their code password_blocklisted when they
// are the only errors.
void record_password_policy(JsonBody& body,
                            const std::string& password,
                            const std::vector<std::string>& context_words,
                            const char* field,
                            bool tenant_requires_mfa = false);

}  // namespace portcullis
