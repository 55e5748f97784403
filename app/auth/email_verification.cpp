#include "app/auth/email_verification.h"

#include "app/auth/account.h"
#include "app/auth/recovery.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/store/audit.h"
#include "app/store/tokens.h"

namespace portcullis::email_verification {
bool required(const Account& a) { return a.tenant_require_verified_email && !a.email_verified; }

void add_state(rapidjson::Document& d, const Account& a) {
  d.AddMember("email_verified", a.email_verified, d.GetAllocator());
  if (required(a)) {
    d.AddMember("email_verification_required", true, d.GetAllocator());
  }
}

std::optional<MintedVerification> mint(Db& db,
                                       const std::string& key,
                                       const std::string& tenant_id,
                                       const std::string& user_id,
                                       int64_t now) {
  if (tenant_id.empty() || user_id.empty()) {
    return std::nullopt;
  }
  TenantTx tx(db, tenant_id);
  std::optional<Account> account = find_account_by_id(tx, user_id);
  if (!account || account->disabled || account->email_verified) {
    return std::nullopt;  // rolled back: nothing written
  }
  account->password_hash.clear();
  MintedVerification minted{recovery::mint_token(tx, key, user_id, kEmailVerifyPurpose,
                                                 kVerifyTokenTtlMs, now, account->email),
                            *account};
  tx.commit();
  return minted;
}

std::optional<Account> confirm(Db& db,
                               Audit& audit,
                               const std::string& key,
                               const std::string& token,
                               AuditEvent event,
                               int64_t now) {
  std::optional<store::tokens::FoundToken> found =
      recovery::find_live_token(db, key, token, kEmailVerifyPurpose, now);
  if (!found) {
    return std::nullopt;
  }
  TenantTx tx(db, found->tenant_id);
  std::optional<Account> account = find_account_by_id(tx, found->user_id);
  // The address the link was mailed to must still be the account's: a
  // token never proves an address the account has since left.
  if (!account || account->disabled || found->email.empty() || account->email != found->email) {
    return std::nullopt;  // rolled back
  }
  if (!store::tokens::consume(tx, found->id, found->user_id, now)) {
    return std::nullopt;  // rolled back: a parallel request spent it
  }
  store::accounts::set_email_verified(tx, found->user_id, now);
  account->password_hash.clear();
  event.tenant_id = account->tenant_id;
  event.user_id = account->user_id;
  event.target_type = "user";
  event.target_id = account->user_id;
  store::audit::record(audit, db, event);
  tx.commit();
  return account;
}

}  // namespace portcullis::email_verification
