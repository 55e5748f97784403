// E-mail verification (DESIGN §6, second slice; SECURITY-BAR REC-5): the
// token side of proving an address. Registration and resend only record an
// outbox row of kind email_verify_request (handlers); the deliverer mints
// the token at delivery time (app/mail/deliver.cpp) and mails the link; the
// verify route spends it.
//
// Tokens: 256 bits from the CSPRNG, base64url (43 characters). Only their
// HMAC under the recovery-token key is stored (recovery::token_hash), with
// the address the account had at mint time (user_tokens.email). A token
// lives 24 hours, is spent once, and only the newest of a user is accepted:
// minting one voids the user's earlier unused ones. A token for an address
// the account no longer has is refused. Outcomes only, never HTTP errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "app/db/connection.h"
#include "app/log/audit.h"
#include "app/store/accounts.h"

namespace portcullis::email_verification {

inline constexpr int64_t kVerifyTokenTtlMs = 24LL * 3600 * 1000;
inline constexpr const char* kEmailVerifyPurpose = "email_verify";
// The outbox kind of a request (registration, resend) and of the mail.
inline constexpr const char* kRequestKind = "email_verify_request";
inline constexpr const char* kMailKind = "email_verify";

// Does the account have to prove its address before it may use the
// product? (The tenant requires it and the address is unproven.)
[[nodiscard]] bool required(const Account& a);

// Adds "email_verified" to a login or me answer and, when the account is
// held back by verification, "email_verification_required": true.
void add_state(rapidjson::Document& d, const Account& a);

struct MintedVerification {
  std::string token;  // the raw token: into the mail, nowhere else
  Account account;    // no password hash
};

// For an email_verify_request of `user_id` in `tenant_id`: the account when
// it exists, is enabled and unverified, with a fresh token stored for its
// current address (its earlier unused verification tokens voided, in the
// same transaction); nullopt otherwise (nothing written: nothing to send).
std::optional<MintedVerification> mint(Db& db,
                                       const std::string& key,
                                       const std::string& tenant_id,
                                       const std::string& user_id,
                                       int64_t now);

// Spends a presented token, in one transaction: the token known by its
// keyed hash, the newest of its user, unused, unexpired at `now`, its user
// enabled and still at the address the token was minted for. Then the token
// is spent, the account marked verified and `event` (auth.email_verified,
// filled with tenant, user and target here) recorded. nullopt for every
// other case alike (nothing changed); else the account as it was.
std::optional<Account> confirm(Db& db,
                               Audit& audit,
                               const std::string& key,
                               const std::string& token,
                               AuditEvent event,
                               int64_t now);

}  // namespace portcullis::email_verification
