#include "app/auth/mfa.h"

#include <ctime>

#include "app/auth/totp.h"
#include "app/crypto/aead.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/log/integrity.h"
#include "app/store/mfa.h"

namespace portcullis {
namespace {

std::string secret_aad(const TenantTx& tx, const std::string& user_id) {
  return field_aad("users", "totp_secret_enc", tx.tenant_id(), user_id);
}

std::string code_hash(const WorkerKeys& keys, const std::string& normalized) {
  return to_hex(hmac_sha256(keys.backup_code_key(), normalized));
}

}  // namespace

MfaState mfa_state(TenantTx& tx, const std::string& user_id) {
  MfaState s;
  std::optional<store::mfa::TotpState> stored = store::mfa::state(tx, user_id);
  if (stored) {
    s.enabled = stored->enabled;
    s.pending = !s.enabled && stored->has_secret;
  }
  return s;
}

std::string start_totp_enrollment(TenantTx& tx,
                                  const WorkerKeys& keys,
                                  const std::string& user_id) {
  std::string secret = new_totp_secret();
  std::string blob = keys.field_cipher().encrypt(secret, secret_aad(tx, user_id));
  store::mfa::store_pending_secret(tx, user_id, blob, format_time_ms(now_ms()));
  return secret;
}

CodeResult check_totp_code(TenantTx& tx,
                           const WorkerKeys& keys,
                           const std::string& user_id,
                           const std::string& code,
                           bool allow_pending) {
  std::optional<store::mfa::TotpSecret> stored = store::mfa::secret(tx, user_id);
  if (!stored || !stored->secret_enc || (!stored->enabled && !allow_pending)) {
    return CodeResult::kInvalid;
  }
  std::string secret =
      decrypt_or_throw(keys.field_cipher(), *stored->secret_enc, secret_aad(tx, user_id),
                       "users.totp_secret_enc " + user_id);
  // The server's clock decides, never the client's (MFA-2).
  TotpMatch match = verify_totp(secret, code, static_cast<int64_t>(std::time(nullptr)));
  if (!match.ok) {
    return CodeResult::kInvalid;
  }
  // Not spent: this step (or a later one) was already used.
  return store::mfa::spend_step(tx, user_id, match.step) ? CodeResult::kOk : CodeResult::kReplay;
}

bool consume_backup_code(TenantTx& tx,
                         const WorkerKeys& keys,
                         const std::string& user_id,
                         const std::string& code) {
  std::string normalized = normalize_backup_code(code);
  if (normalized.empty()) {
    return false;
  }
  return store::mfa::spend_backup_code(tx, user_id, code_hash(keys, normalized),
                                       format_time_ms(now_ms()));
}

CodeResult check_second_factor(TenantTx& tx,
                               const WorkerKeys& keys,
                               const std::string& user_id,
                               const std::optional<std::string>& code,
                               const std::optional<std::string>& backup_code) {
  if (code) {
    return check_totp_code(tx, keys, user_id, *code);
  }
  if (backup_code && consume_backup_code(tx, keys, user_id, *backup_code)) {
    return CodeResult::kOk;
  }
  return CodeResult::kInvalid;
}

std::vector<std::string> replace_backup_codes(TenantTx& tx,
                                              const WorkerKeys& keys,
                                              const std::string& user_id) {
  store::mfa::delete_backup_codes(tx, user_id);
  std::vector<std::string> codes = new_backup_codes(10);
  std::string now = format_time_ms(now_ms());
  for (const std::string& c : codes) {
    store::mfa::insert_backup_code(tx, uuid_v7(), user_id,
                                   code_hash(keys, normalize_backup_code(c)), now);
  }
  return codes;
}

int backup_codes_remaining(TenantTx& tx, const std::string& user_id) {
  return store::mfa::unused_backup_codes(tx, user_id);
}

void enable_mfa(TenantTx& tx, const std::string& user_id) {
  store::mfa::enable(tx, user_id, format_time_ms(now_ms()));
}

void disable_mfa(TenantTx& tx, const std::string& user_id) {
  store::mfa::disable(tx, user_id, format_time_ms(now_ms()));
}

}  // namespace portcullis
