// The MFA store: a user's TOTP secret and last used step (columns of users)
// and their backup codes (backup_codes). Rows only: app/auth/mfa.h encrypts
// the secret, checks codes and hashes backup codes. Every function but
// mark_session_verified takes the request's TenantTx, whose tenant is $1 of
// every statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/tenant_tx.h"
#include "app/db/tx.h"

namespace portcullis::store::mfa {

struct TotpState {
  bool enabled = false;     // users.mfa_enabled
  bool has_secret = false;  // a secret is stored (pending while !enabled)
};

// nullopt when the user is not in the tenant.
std::optional<TotpState> state(TenantTx& tx, const std::string& user_id);

struct TotpSecret {
  std::optional<std::string> secret_enc;  // field-encrypted; nullopt when none is stored
  bool enabled = false;
};

// nullopt when the user is not in the tenant.
std::optional<TotpSecret> secret(TenantTx& tx, const std::string& user_id);

// Stores a new secret with last step 0, unless MFA is already enabled.
// `now` is format_time_ms() text (updated_at).
void store_pending_secret(TenantTx& tx,
                          const std::string& user_id,
                          const std::string& secret_enc,
                          const std::string& now);

// Spends TOTP step `step`: true when the stored last step was below it (one
// atomic UPDATE, so of parallel uses of one step exactly one gets true).
[[nodiscard]] bool spend_step(TenantTx& tx, const std::string& user_id, int64_t step);

void enable(TenantTx& tx, const std::string& user_id, const std::string& now);
// MFA off: secret removed, last step 0, backup codes deleted.
void disable(TenantTx& tx, const std::string& user_id, const std::string& now);

// Spends the unused backup code with this hash: true when there was one (one
// atomic UPDATE … WHERE used_at IS NULL).
[[nodiscard]] bool spend_backup_code(TenantTx& tx,
                                     const std::string& user_id,
                                     const std::string& code_hash,
                                     const std::string& now);
void delete_backup_codes(TenantTx& tx, const std::string& user_id);
void insert_backup_code(TenantTx& tx,
                        const std::string& id,
                        const std::string& user_id,
                        const std::string& code_hash,
                        const std::string& now);
int unused_backup_codes(TenantTx& tx, const std::string& user_id);

// The session's MFA verification and re-authentication times become `now`
// (enrolment just checked a code). sessions is not under row-level security:
// a plain statement in the caller's transaction.
void mark_session_verified(Tx& tx, const std::string& session_id, const std::string& now);

}  // namespace portcullis::store::mfa
