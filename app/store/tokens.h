// The user tokens store: one-time tokens mailed to a user (password reset;
// later e-mail verification and change). Rows hold only the keyed hash of a
// token (app/auth/recovery.h computes it); this file only reads and writes
// rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"

namespace portcullis::store::tokens {

struct FoundToken {
  std::string id;
  std::string tenant_id;
  std::string user_id;
  std::string expires_at;  // as stored; parse_time_ms() reads both backends' forms
  bool used = false;
  std::string email;  // the address the token is about (email_change, its revert); "" otherwise
};

// The token stored under `token_hash` for `purpose`, if it is the newest of
// its user and purpose (an older one is never returned). Before the tenant
// is known: autocommit, on PostgreSQL through the owner's SECURITY DEFINER
// lookup. No validity check: the caller decides.
std::optional<FoundToken> find_newest_by_hash(Db& db,
                                              const std::string& token_hash,
                                              const std::string& purpose);

// Marks every unused token of `user_id` and `purpose` used at `now`
// (voided). Returns how many.
int64_t void_unused(TenantTx& tx,
                    const std::string& user_id,
                    const std::string& purpose,
                    int64_t now);

// A new token row; returns its id. `email` is the address the token is
// about (the new address of an email_change, the old one of an
// email_change_revert); empty = none.
std::string insert(TenantTx& tx,
                   const std::string& user_id,
                   const std::string& purpose,
                   const std::string& token_hash,
                   int64_t expires_at,
                   int64_t now,
                   const std::string& email = "");

// The newest unused token of `user_id` and `purpose`, expired or not (the
// caller decides), in the caller's tenant.
std::optional<FoundToken> newest_unused(TenantTx& tx,
                                        const std::string& user_id,
                                        const std::string& purpose);

// Spends the token `id` at `now`: false when it is not the caller's user's
// or already used (a parallel reset won).
[[nodiscard]] bool consume(TenantTx& tx,
                           const std::string& id,
                           const std::string& user_id,
                           int64_t now);

}  // namespace portcullis::store::tokens
