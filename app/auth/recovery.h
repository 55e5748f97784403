// Password recovery (DESIGN §6, second slice; SECURITY-BAR REC-1…4, MFA-8):
// the token side of forgot / reset. The request itself only records an
// outbox row (handlers/recovery.cpp); the deliverer resolves the address and
// mints the token (app/mail/deliver.cpp); the reset spends it.
//
// Tokens: 256 bits from the CSPRNG, base64url (43 characters). Only
// HMAC-SHA-256 of a token under WorkerKeys::recovery_token_key() is stored
// (user_tokens.token_hash); the raw token exists only in the mail. A token
// lives 30 minutes, is spent once, and only the newest of a user is
// accepted: minting one voids the user's earlier unused ones, and so does any
// password change. Outcomes only, never HTTP errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/log/audit.h"
#include "app/store/accounts.h"
#include "app/store/tokens.h"

namespace portcullis::recovery {

inline constexpr int64_t kResetTokenTtlMs = 30LL * 60 * 1000;
inline constexpr const char* kPasswordResetPurpose = "password_reset";

// Hex HMAC-SHA-256 of `token` under `key` (the recovery-token purpose key).
std::string token_hash(const std::string& key, const std::string& token);

// The one way a mailed token is made (reset, verification, change, revert):
// 256 bits from the CSPRNG (new_token()), stored in `tx` as its keyed hash,
// valid for `ttl_ms`, about `email` when given; the user's earlier unused
// tokens of `purpose` are voided, so only the newest works. Returns the raw
// token, for the mail and nowhere else.
std::string mint_token(TenantTx& tx,
                       const std::string& key,
                       const std::string& user_id,
                       const std::string& purpose,
                       int64_t ttl_ms,
                       int64_t now,
                       const std::string& email = "");

// The one way a presented token is looked up: the stored token of `purpose`
// it names, if it is the newest of its user, unused and unexpired at `now`.
// nullopt for every other case alike (a malformed token included). Before the
// tenant is known: autocommit.
std::optional<store::tokens::FoundToken> find_live_token(Db& db,
                                                         const std::string& key,
                                                         const std::string& token,
                                                         const std::string& purpose,
                                                         int64_t now);

struct MintedReset {
  std::string token;  // the raw token: into the mail, nowhere else
  Account account;    // no password hash
};

// For a forgot-password request for `email` (normalised): the account when
// one exists and is not disabled, with a fresh reset token stored (its
// user's earlier unused reset tokens voided, in the same transaction);
// nullopt otherwise (nothing written).
std::optional<MintedReset> mint_password_reset(Db& db,
                                               const std::string& key,
                                               const std::string& email,
                                               int64_t now);

struct ResetTarget {
  std::string token_id;
  Account account;  // the token's user, in the token's tenant
};

// The account a presented reset token may reset: the token known by its
// keyed hash, the newest of its user, unused and unexpired at `now`, and its
// user enabled. nullopt for every other case alike.
std::optional<ResetTarget> find_reset_target(Db& db,
                                             const std::string& key,
                                             const std::string& token,
                                             int64_t now);

// The reset, in one transaction: the token spent, the new hash set, every
// other reset token of the user voided, every session of the user revoked,
// the e-mail's lockout cleared, the password_changed notice enqueued and
// `event` (auth.password_reset, filled with tenant, user and
// sessions_revoked here) recorded. No session is created. nullopt when the
// token was spent meanwhile (nothing changed); else the sessions revoked.
std::optional<long> complete_password_reset(Db& db,
                                            Audit& audit,
                                            const ResetTarget& target,
                                            const std::string& new_hash,
                                            AuditEvent event,
                                            int64_t now);

// A password changed by any route voids the user's unused reset tokens
// (REC-2), in the change's transaction.
void void_reset_tokens(TenantTx& tx, const std::string& user_id, int64_t now);

}  // namespace portcullis::recovery
