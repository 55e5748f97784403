// The MFA checks that login, re-authentication and the MFA handlers share
// (DESIGN §7). All take the request's TenantTx (row-level security).
//  - TOTP: the secret is field-encrypted (AAD users.totp_secret_enc|tenant|user);
//    codes for steps T-1..T+1 are accepted, and a step is used at most once:
//    `UPDATE … SET totp_last_step = :s WHERE … AND totp_last_step < :s`, so
//    parallel submissions of one code give exactly one success (MFA-3).
//  - Backup codes: stored as HMAC-SHA-256 under the "backup-code" purpose key,
//    consumed by one atomic UPDATE … WHERE used_at IS NULL (MFA-6).
// The cipher and the backup-code key come from the worker's WorkerKeys
// (app/crypto/worker_keys.h), built once per worker process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/crypto/worker_keys.h"
#include "app/db/tenant_tx.h"

namespace portcullis {

struct MfaState {
  bool enabled = false;
  bool pending = false;  // a secret from setup awaits its first code
};

MfaState mfa_state(TenantTx& tx, const std::string& user_id);

// Stores a new (pending) secret, encrypted. Returns it raw (20 bytes).
std::string start_totp_enrollment(TenantTx& tx, const WorkerKeys& keys, const std::string& user_id);

enum class CodeResult {
  kOk,       // valid, and its step is now spent
  kInvalid,  // wrong code, wrong format, or no secret
  kReplay,   // right code for a step already used (MFA-3): refused
};

// Checks `code` against the user's secret (pending or enabled as
// `allow_pending` says) at steps T-1..T+1.
[[nodiscard]] CodeResult check_totp_code(TenantTx& tx,
                                         const WorkerKeys& keys,
                                         const std::string& user_id,
                                         const std::string& code,
                                         bool allow_pending = false);

// True when `code` is one of the user's unused backup codes; it is spent.
[[nodiscard]] bool consume_backup_code(TenantTx& tx,
                                       const WorkerKeys& keys,
                                       const std::string& user_id,
                                       const std::string& code);

// Deletes the user's backup codes and makes 10 new ones (returned once).
// The second factor as the login step, step-up and disable take it: a TOTP
// `code` if given, else a `backup_code` (spent on success). Exactly one of
// them is expected; with neither the result is kInvalid.
[[nodiscard]] CodeResult check_second_factor(TenantTx& tx,
                                             const WorkerKeys& keys,
                                             const std::string& user_id,
                                             const std::optional<std::string>& code,
                                             const std::optional<std::string>& backup_code);

std::vector<std::string> replace_backup_codes(TenantTx& tx,
                                              const WorkerKeys& keys,
                                              const std::string& user_id);

int backup_codes_remaining(TenantTx& tx, const std::string& user_id);

void enable_mfa(TenantTx& tx, const std::string& user_id);
// Turns MFA off: secret and backup codes are deleted.
void disable_mfa(TenantTx& tx, const std::string& user_id);

}  // namespace portcullis
