// Accounts: a user with their tenant, as login, me and the CLI need them,
// and the JSON shapes of DESIGN §8 that the SPA, tests and handlers share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/auth/passwords.h"
#include "app/auth/sessions.h"
#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/store/accounts.h"
#include "app/store/role.h"

namespace portcullis {

// Trimmed and lower-cased (ASCII). E-mail is unique across the product.
std::string normalize_email(const std::string& email);
// A pragmatic check: 3–kMaxEmailBytes (254) bytes, one '@', non-empty local part ≤ 64, a
// dotted domain, no whitespace or control characters.
bool valid_email(const std::string& email);

// By e-mail, across tenants (login, CLI), autocommit. On PostgreSQL through
// the owner's SECURITY DEFINER lookup, since the tenant is not known yet.
std::optional<Account> find_account_by_email(Db& db, const std::string& email);
// By id, inside the caller's tenant (row-level security applies).
std::optional<Account> find_account_by_id(TenantTx& tx, const std::string& user_id);
// Is an e-mail used by any account, in any tenant?
[[nodiscard]] bool email_taken(Db& db, const std::string& email);

// The live-or-not session for a cookie token together with its user and
// tenant: one statement, one round trip, autocommit with no tenant bound (on
// PostgreSQL through the owner's SECURITY DEFINER lookup, since users are
// under row-level security). No validity check: authenticate() decides.
std::optional<SessionAccount> find_session_with_account(Db& db, const std::string& token);

// The shortest password an account may have: 15 code points, 8 in a tenant
// that requires MFA (DESIGN §7, 63B §3.1.1.2).
[[nodiscard]] size_t min_password_code_points(bool tenant_requires_mfa);
// The password policy of DESIGN §7 for an account (length with the minimum
// above, at most 128 code points; block list; context words). kNone when the
// password may be used; app/http/password_policy.h turns the rest into 400s.
[[nodiscard]] PasswordProblem check_account_password(const std::string& password,
                                                     const std::vector<std::string>& context_words,
                                                     bool tenant_requires_mfa);

// {"id","email","display_name","role","mfa_enabled"}
rapidjson::Value user_json(const Account& a, rapidjson::Document::AllocatorType& alloc);
// {"id","name"}
rapidjson::Value tenant_json(const Account& a, rapidjson::Document::AllocatorType& alloc);
// The login shape: {"user","tenant","session":{"id","expires_at","remember_me"},"csrf_token"}
rapidjson::Document login_shape(const Account& a, const Session& s);

}  // namespace portcullis
