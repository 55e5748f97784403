// The accounts store: users with their tenant, as login, me, members and the
// CLI read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/store/role.h"
#include "app/store/sessions.h"

namespace portcullis {

struct Account {
  std::string user_id;
  std::string email;
  std::string display_name;
  Role role = Role::kMember;
  std::string password_hash;  // never serialised
  bool mfa_enabled = false;
  bool disabled = false;
  std::string tenant_id;
  std::string tenant_name;
  bool tenant_require_mfa = false;
  bool email_verified = false;                 // users.email_verified_at is set
  bool tenant_require_verified_email = false;  // the tenant's setting
};

struct SessionAccount {
  Session session;
  Account account;  // password_hash left empty
};

namespace store::accounts {

// ---- lookups before the tenant is known (autocommit; on PostgreSQL through
// the owner's SECURITY DEFINER functions, since users are under row-level
// security) -----------------------------------------------------------------

// The account with this (normalised) e-mail, in any tenant (login, CLI).
std::optional<Account> find_by_email(Db& db, const std::string& email);
// Is the e-mail used by any account, in any tenant?
[[nodiscard]] bool email_taken(Db& db, const std::string& email);
// The unrevoked session stored under `token_hash` with its user and tenant,
// in one statement and one round trip, no tenant bound (the authentication
// phase's only steady-state statement). No validity check: the caller decides.
std::optional<SessionAccount> find_by_session_token_hash(Db& db, const std::string& token_hash);

// ---- in the caller's tenant --------------------------------------------------

std::optional<Account> find_by_id(TenantTx& tx, const std::string& user_id);
// Inserts a.user_id in the transaction's tenant with a.email, a.display_name,
// a.role and a.password_hash, its address proven at `now` when
// a.email_verified (invitation, CLI) and unproven otherwise. False when the database refuses it as
// a constraint violation (the e-mail taken meanwhile, PostgreSQL); other failures throw.
[[nodiscard]] bool insert(TenantTx& tx, const Account& a, int64_t now);
// A new hash of the same password (parameters upgraded at login): updated_at stays.
void rehash_password(TenantTx& tx, const std::string& user_id, const std::string& hash);
// A new password.
void set_password(TenantTx& tx, const std::string& user_id, const std::string& hash, int64_t now);
void set_display_name(TenantTx& tx,
                      const std::string& user_id,
                      const std::string& display_name,
                      int64_t now);
void set_last_login(TenantTx& tx, const std::string& user_id, int64_t now);
// The account proved its address at `now` (a verification link, an
// invitation, the CLI). Idempotent: an earlier proof is kept.
void set_email_verified(TenantTx& tx, const std::string& user_id, int64_t now);
// A new (normalised) address, proven at `now` (a confirmed change, or a
// revert to the address the account had). False when the database refuses
// it as a constraint violation (the address taken meanwhile).
[[nodiscard]] bool set_email(TenantTx& tx,
                             const std::string& user_id,
                             const std::string& email,
                             int64_t now);

}  // namespace store::accounts
}  // namespace portcullis
