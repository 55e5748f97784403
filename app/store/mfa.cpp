#include "app/store/mfa.h"

namespace portcullis::store::mfa {
namespace {

constexpr TenantStatement kState{
    "users.mfa_state",
    "SELECT CAST(mfa_enabled AS INTEGER), CASE WHEN totp_secret_enc IS NULL THEN 0 ELSE 1 END "
    "FROM users WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSecret{
    "users.totp_secret",
    "SELECT totp_secret_enc, CAST(mfa_enabled AS INTEGER) FROM users WHERE tenant_id = $1 AND "
    "id = $2"};
constexpr TenantStatement kStorePendingSecret{
    "users.store_pending_totp_secret",
    "UPDATE users SET totp_secret_enc = $3, totp_last_step = 0, updated_at = $4 "
    "WHERE tenant_id = $1 AND id = $2 AND mfa_enabled = FALSE"};
// 0 rows: this step (or a later one) was already used (MFA-3).
constexpr TenantStatement kSpendStep{
    "users.spend_totp_step",
    "UPDATE users SET totp_last_step = $3 WHERE tenant_id = $1 AND id = $2 "
    "AND totp_last_step < $3"};
constexpr TenantStatement kEnable{
    "users.enable_mfa",
    "UPDATE users SET mfa_enabled = TRUE, updated_at = $3 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kDisable{
    "users.disable_mfa",
    "UPDATE users SET mfa_enabled = FALSE, totp_secret_enc = NULL, totp_last_step = 0, "
    "updated_at = $3 WHERE tenant_id = $1 AND id = $2"};

constexpr TenantStatement kSpendBackupCode{
    "backup_codes.spend",
    "UPDATE backup_codes SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND "
    "code_hash = $3 AND used_at IS NULL"};
constexpr TenantStatement kDeleteBackupCodes{
    "backup_codes.delete_for_user",
    "DELETE FROM backup_codes WHERE tenant_id = $1 AND user_id = $2"};
constexpr TenantStatement kInsertBackupCode{
    "backup_codes.insert",
    "INSERT INTO backup_codes (id, user_id, tenant_id, code_hash, created_at) VALUES "
    "($2, $3, $1, $4, $5)"};
constexpr TenantStatement kCountUnused{
    "backup_codes.count_unused",
    "SELECT COUNT(*) FROM backup_codes WHERE tenant_id = $1 AND user_id = $2 AND "
    "used_at IS NULL"};

constexpr Statement kMarkSessionVerified{
    "sessions.mark_mfa_verified",
    "UPDATE sessions SET mfa_verified_at = $1, reauthenticated_at = $1 WHERE id = $2"};

}  // namespace

std::optional<TotpState> state(TenantTx& tx, const std::string& user_id) {
  std::optional<Row> row = tx.run(kState, {user_id}).first();
  if (!row) {
    return std::nullopt;
  }
  TotpState s;
  s.enabled = row->integer(0) != 0;
  s.has_secret = row->integer(1) != 0;
  return s;
}

std::optional<TotpSecret> secret(TenantTx& tx, const std::string& user_id) {
  std::optional<Row> row = tx.run(kSecret, {user_id}).first();
  if (!row) {
    return std::nullopt;
  }
  TotpSecret s;
  s.secret_enc = row->optional_text(0);
  s.enabled = row->integer(1) != 0;
  return s;
}

void store_pending_secret(TenantTx& tx,
                          const std::string& user_id,
                          const std::string& secret_enc,
                          const std::string& now) {
  tx.run(kStorePendingSecret, {user_id, secret_enc, now});
}

bool spend_step(TenantTx& tx, const std::string& user_id, int64_t step) {
  return tx.run(kSpendStep, {user_id, step}).affected == 1;
}

void enable(TenantTx& tx, const std::string& user_id, const std::string& now) {
  tx.run(kEnable, {user_id, now});
}

void disable(TenantTx& tx, const std::string& user_id, const std::string& now) {
  tx.run(kDisable, {user_id, now});
  tx.run(kDeleteBackupCodes, {user_id});
}

bool spend_backup_code(TenantTx& tx,
                       const std::string& user_id,
                       const std::string& code_hash,
                       const std::string& now) {
  return tx.run(kSpendBackupCode, {user_id, code_hash, now}).affected == 1;
}

void delete_backup_codes(TenantTx& tx, const std::string& user_id) {
  tx.run(kDeleteBackupCodes, {user_id});
}

void insert_backup_code(TenantTx& tx,
                        const std::string& id,
                        const std::string& user_id,
                        const std::string& code_hash,
                        const std::string& now) {
  tx.run(kInsertBackupCode, {id, user_id, code_hash, now});
}

int unused_backup_codes(TenantTx& tx, const std::string& user_id) {
  std::optional<Row> row = tx.run(kCountUnused, {user_id}).first();
  return row ? static_cast<int>(row->integer(0)) : 0;
}

void mark_session_verified(Tx& tx, const std::string& session_id, const std::string& now) {
  tx.run(kMarkSessionVerified, {now, session_id});
}

}  // namespace portcullis::store::mfa
