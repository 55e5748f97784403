#include "app/auth/mfa.h"

#include <ctime>

#include <soci/soci.h>

#include "app/auth/totp.h"
#include "app/crypto/aead.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/log/integrity.h"

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
  int enabled = 0;
  int has_secret = 0;
  tx.sql() << "SELECT CAST(mfa_enabled AS INTEGER), CASE WHEN totp_secret_enc IS NULL THEN 0 "
              "ELSE 1 END FROM users WHERE tenant_id = :t AND id = :u",
      soci::use(tx.tenant_id()), soci::use(user_id), soci::into(enabled), soci::into(has_secret);
  s.enabled = enabled != 0;
  s.pending = !s.enabled && has_secret != 0;
  return s;
}

std::string start_totp_enrollment(TenantTx& tx,
                                  const WorkerKeys& keys,
                                  const std::string& user_id) {
  std::string secret = new_totp_secret();
  std::string blob = keys.field_cipher().encrypt(secret, secret_aad(tx, user_id));
  std::string now = format_time_ms(now_ms());
  tx.sql() << "UPDATE users SET totp_secret_enc = :s, totp_last_step = 0, updated_at = :u "
              "WHERE tenant_id = :t AND id = :id AND mfa_enabled = FALSE",
      soci::use(blob), soci::use(now), soci::use(tx.tenant_id()), soci::use(user_id);
  return secret;
}

CodeResult check_totp_code(TenantTx& tx,
                           const WorkerKeys& keys,
                           const std::string& user_id,
                           const std::string& code,
                           bool allow_pending) {
  std::string blob;
  soci::indicator ind = soci::i_null;
  int enabled = 0;
  tx.sql() << "SELECT totp_secret_enc, CAST(mfa_enabled AS INTEGER) FROM users WHERE tenant_id = "
              ":t AND id = :u",
      soci::use(tx.tenant_id()), soci::use(user_id), soci::into(blob, ind), soci::into(enabled);
  if (!tx.sql().got_data() || ind != soci::i_ok || (enabled == 0 && !allow_pending)) {
    return CodeResult::kInvalid;
  }
  std::string secret = decrypt_or_throw(keys.field_cipher(), blob, secret_aad(tx, user_id),
                                        "users.totp_secret_enc " + user_id);
  // The server's clock decides, never the client's (MFA-2).
  TotpMatch match = verify_totp(secret, code, static_cast<int64_t>(std::time(nullptr)));
  if (!match.ok) {
    return CodeResult::kInvalid;
  }
  long long step = match.step;
  long long step2 = match.step;
  soci::statement st =
      (tx.sql().prepare << "UPDATE users SET totp_last_step = :s WHERE tenant_id = :t AND id = :u "
                           "AND totp_last_step < :s2",
       soci::use(step), soci::use(tx.tenant_id()), soci::use(user_id), soci::use(step2));
  st.execute(true);
  // 0 rows: this step (or a later one) was already used.
  return st.get_affected_rows() == 1 ? CodeResult::kOk : CodeResult::kReplay;
}

bool consume_backup_code(TenantTx& tx,
                         const WorkerKeys& keys,
                         const std::string& user_id,
                         const std::string& code) {
  std::string normalized = normalize_backup_code(code);
  if (normalized.empty()) {
    return false;
  }
  std::string hash = code_hash(keys, normalized);
  std::string now = format_time_ms(now_ms());
  soci::statement st =
      (tx.sql().prepare << "UPDATE backup_codes SET used_at = :n WHERE tenant_id = :t AND "
                           "user_id = :u AND code_hash = :h AND used_at IS NULL",
       soci::use(now), soci::use(tx.tenant_id()), soci::use(user_id), soci::use(hash));
  st.execute(true);
  return st.get_affected_rows() == 1;
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
  tx.sql() << "DELETE FROM backup_codes WHERE tenant_id = :t AND user_id = :u",
      soci::use(tx.tenant_id()), soci::use(user_id);
  std::vector<std::string> codes = new_backup_codes(10);
  std::string now = format_time_ms(now_ms());
  for (const std::string& c : codes) {
    std::string id = uuid_v7();
    std::string hash = code_hash(keys, normalize_backup_code(c));
    tx.sql() << "INSERT INTO backup_codes (id, user_id, tenant_id, code_hash, created_at) VALUES "
                "(:id, :u, :t, :h, :c)",
        soci::use(id), soci::use(user_id), soci::use(tx.tenant_id()), soci::use(hash),
        soci::use(now);
  }
  return codes;
}

int backup_codes_remaining(TenantTx& tx, const std::string& user_id) {
  int n = 0;
  tx.sql() << "SELECT COUNT(*) FROM backup_codes WHERE tenant_id = :t AND user_id = :u AND "
              "used_at IS NULL",
      soci::use(tx.tenant_id()), soci::use(user_id), soci::into(n);
  return n;
}

void enable_mfa(TenantTx& tx, const std::string& user_id) {
  std::string now = format_time_ms(now_ms());
  tx.sql() << "UPDATE users SET mfa_enabled = TRUE, updated_at = :n WHERE tenant_id = :t AND id = "
              ":u",
      soci::use(now), soci::use(tx.tenant_id()), soci::use(user_id);
}

void disable_mfa(TenantTx& tx, const std::string& user_id) {
  std::string now = format_time_ms(now_ms());
  tx.sql() << "UPDATE users SET mfa_enabled = FALSE, totp_secret_enc = NULL, totp_last_step = 0, "
              "updated_at = :n WHERE tenant_id = :t AND id = :u",
      soci::use(now), soci::use(tx.tenant_id()), soci::use(user_id);
  tx.sql() << "DELETE FROM backup_codes WHERE tenant_id = :t AND user_id = :u",
      soci::use(tx.tenant_id()), soci::use(user_id);
}

}  // namespace portcullis
