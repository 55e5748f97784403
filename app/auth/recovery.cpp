#include "app/auth/recovery.h"

#include "app/auth/account.h"
#include "app/auth/sessions.h"
#include "app/auth/throttle.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/store/audit.h"
#include "app/store/outbox.h"
#include "app/store/tokens.h"

namespace portcullis::recovery {
std::string token_hash(const std::string& key, const std::string& token) {
  return to_hex(hmac_sha256(key, token));
}

std::string mint_token(TenantTx& tx,
                       const std::string& key,
                       const std::string& user_id,
                       const std::string& purpose,
                       int64_t ttl_ms,
                       int64_t now,
                       const std::string& email) {
  std::string token = new_token();  // 256 bits (SECURITY-BAR: floor 128)
  store::tokens::void_unused(tx, user_id, purpose, now);
  (void)store::tokens::insert(tx, user_id, purpose, token_hash(key, token), now + ttl_ms, now,
                              email);
  return token;
}

std::optional<store::tokens::FoundToken> find_live_token(Db& db,
                                                         const std::string& key,
                                                         const std::string& token,
                                                         const std::string& purpose,
                                                         int64_t now) {
  if (token.empty() || token.size() > 128) {
    return std::nullopt;
  }
  std::optional<store::tokens::FoundToken> found =
      store::tokens::find_newest_by_hash(db, token_hash(key, token), purpose);
  if (!found || found->used || parse_time_ms(found->expires_at).value_or(0) <= now) {
    return std::nullopt;
  }
  return found;
}

std::optional<MintedReset> mint_password_reset(Db& db,
                                               const std::string& key,
                                               const std::string& email,
                                               int64_t now) {
  if (!valid_email(email)) {
    return std::nullopt;
  }
  std::optional<Account> account = find_account_by_email(db, email);
  if (!account || account->disabled) {
    return std::nullopt;
  }
  account->password_hash.clear();
  TenantTx tx(db, account->tenant_id);
  MintedReset minted{
      mint_token(tx, key, account->user_id, kPasswordResetPurpose, kResetTokenTtlMs, now),
      *account};
  tx.commit();
  return minted;
}

std::optional<ResetTarget> find_reset_target(Db& db,
                                             const std::string& key,
                                             const std::string& token,
                                             int64_t now) {
  std::optional<store::tokens::FoundToken> found =
      find_live_token(db, key, token, kPasswordResetPurpose, now);
  if (!found) {
    return std::nullopt;
  }
  TenantTx tx(db, found->tenant_id, TxKind::kRead);
  std::optional<Account> account = find_account_by_id(tx, found->user_id);
  tx.commit();
  if (!account || account->disabled) {
    return std::nullopt;
  }
  account->password_hash.clear();
  return ResetTarget{found->id, *account};
}

std::optional<long> complete_password_reset(Db& db,
                                            Audit& audit,
                                            const ResetTarget& target,
                                            const std::string& new_hash,
                                            AuditEvent event,
                                            int64_t now) {
  const Account& a = target.account;
  TenantTx tx(db, a.tenant_id);
  if (!store::tokens::consume(tx, target.token_id, a.user_id, now)) {
    return std::nullopt;  // rolled back: a parallel reset spent it
  }
  store::accounts::set_password(tx, a.user_id, new_hash, now);
  void_reset_tokens(tx, a.user_id, now);
  long revoked = delete_user_sessions(tx, a.user_id, "", kRevokedPasswordReset);
  reset_email_failures(tx.tx(), a.email);
  store::outbox::OutboxMail notice;
  notice.kind = "password_changed";
  notice.to_address = a.email;
  notice.to_name = a.display_name;
  notice.params = {{"name", a.display_name.empty() ? a.email : a.display_name}};
  notice.tenant_id = a.tenant_id;
  notice.user_id = a.user_id;
  store::outbox::enqueue(tx.tx(), notice);
  event.tenant_id = a.tenant_id;
  event.user_id = a.user_id;
  event.target_type = "user";
  event.target_id = a.user_id;
  event.details.emplace_back("sessions_revoked", std::to_string(revoked));
  store::audit::record(audit, db, event);
  tx.commit();
  return revoked;
}

void void_reset_tokens(TenantTx& tx, const std::string& user_id, int64_t now) {
  store::tokens::void_unused(tx, user_id, kPasswordResetPurpose, now);
}

}  // namespace portcullis::recovery
