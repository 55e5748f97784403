#include "app/store/accounts.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "app/db/time.h"

namespace portcullis::store::accounts {
namespace {

#define PC_ACCOUNT_COLUMNS                                                                   \
  "u.id, u.email, u.display_name, u.role, u.password_hash, CAST(u.mfa_enabled AS INTEGER), " \
  "CAST(u.disabled AS INTEGER), t.id, t.name, CAST(t.require_mfa AS INTEGER), "              \
  "CAST(u.email_verified_at IS NOT NULL AS INTEGER), CAST(t.require_verified_email AS INTEGER)"

constexpr Statement kFindByEmail{
    "users.find_by_email",
    "SELECT user_id, email, display_name, role, password_hash, CAST(mfa_enabled AS INTEGER), "
    "CAST(disabled AS INTEGER), tenant_id, tenant_name, CAST(tenant_require_mfa AS INTEGER), "
    "CAST(email_verified AS INTEGER), CAST(tenant_require_verified_email AS INTEGER) "
    "FROM portcullis_login_lookup($1)",
    "SELECT " PC_ACCOUNT_COLUMNS
    " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1"};
constexpr Statement kEmailTaken{"users.email_taken",
                                "SELECT CAST(portcullis_email_taken($1) AS INTEGER)",
                                "SELECT COUNT(*) FROM users WHERE email = $1"};
// The hot path: the session row (outside RLS) with its user and tenant.
constexpr Statement kFindBySessionTokenHash{
    "sessions.find_with_account",
    "SELECT id, user_id, tenant_id, auth_state, csrf_token, remember_me, created_at, "
    "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent, email, "
    "display_name, role, mfa_enabled, disabled, tenant_name, tenant_require_mfa, "
    "email_verified, tenant_require_verified_email FROM portcullis_authenticate($1)",
    "SELECT s.id, s.user_id, s.tenant_id, s.auth_state, s.csrf_token, "
    "CAST(s.remember_me AS INTEGER), s.created_at, s.last_seen_at, s.expires_at, "
    "s.reauthenticated_at, s.mfa_verified_at, s.ip, s.user_agent, u.email, u.display_name, "
    "u.role, CAST(u.mfa_enabled AS INTEGER), CAST(u.disabled AS INTEGER), t.name, "
    "CAST(t.require_mfa AS INTEGER), CAST(u.email_verified_at IS NOT NULL AS INTEGER), "
    "CAST(t.require_verified_email AS INTEGER) FROM sessions s JOIN users u ON u.id = s.user_id "
    "AND "
    "u.tenant_id = s.tenant_id JOIN tenants t ON t.id = s.tenant_id WHERE s.token_hash = $1 "
    "AND s.revoked_at IS NULL"};
constexpr TenantStatement kFindById{
    "users.find_by_id",
    "SELECT " PC_ACCOUNT_COLUMNS
    " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1 AND u.id = $2"};
constexpr TenantStatement kInsert{
    "users.insert",
    "INSERT INTO users (id, tenant_id, email, display_name, password_hash, role, created_at, "
    "updated_at, email_verified_at) VALUES ($2, $1, $3, $4, $5, $6, $7, $7, $8)"};
constexpr TenantStatement kRehashPassword{
    "users.rehash_password",
    "UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSetPassword{
    "users.set_password",
    "UPDATE users SET password_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSetDisplayName{
    "users.set_display_name",
    "UPDATE users SET display_name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSetLastLogin{
    "users.set_last_login", "UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kSetEmailVerified{
    "users.set_email_verified",
    "UPDATE users SET email_verified_at = $3 WHERE tenant_id = $1 AND id = $2 "
    "AND email_verified_at IS NULL"};
constexpr TenantStatement kSetEmail{
    "users.set_email",
    "UPDATE users SET email = $3, email_verified_at = $4, updated_at = $4 "
    "WHERE tenant_id = $1 AND id = $2"};

#undef PC_ACCOUNT_COLUMNS

// A unique (or other constraint) violation. SOCI 4.0.3's SQLite error has no
// category, so its result code is read instead (and PostgreSQL's SQLSTATE
// class 23, whichever way the error was raised).
bool is_constraint_violation(const soci::soci_error& e) {
  if (const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    constexpr int kSqliteConstraint = 19;  // SQLITE_CONSTRAINT, the primary code
    return (s->result() & 0xff) == kSqliteConstraint;
  }
  if (const auto* p = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    return p->sqlstate().rfind("23", 0) == 0;  // integrity_constraint_violation
  }
  return e.get_error_category() == soci::soci_error::constraint_violation;
}

// The columns of PC_ACCOUNT_COLUMNS (and of portcullis_login_lookup).
Account account_from_row(const Row& row) {
  Account a;
  a.user_id = row.text(0);
  a.email = row.text(1);
  a.display_name = row.text(2);
  a.role = role_from_column(row.text(3));
  a.password_hash = row.text(4);
  a.mfa_enabled = row.boolean(5);
  a.disabled = row.boolean(6);
  a.tenant_id = row.text(7);
  a.tenant_name = row.text(8);
  a.tenant_require_mfa = row.boolean(9);
  a.email_verified = row.boolean(10);
  a.tenant_require_verified_email = row.boolean(11);
  return a;
}

}  // namespace

std::optional<Account> find_by_email(Db& db, const std::string& email) {
  std::optional<Row> row = db.run(kFindByEmail, {email}).first();
  if (!row) {
    return std::nullopt;
  }
  return account_from_row(*row);
}

bool email_taken(Db& db, const std::string& email) {
  std::optional<Row> row = db.run(kEmailTaken, {email}).first();
  return row && row->integer(0) > 0;
}

std::optional<SessionAccount> find_by_session_token_hash(Db& db, const std::string& token_hash) {
  std::optional<Row> row = db.run(kFindBySessionTokenHash, {token_hash}).first();
  if (!row) {
    return std::nullopt;
  }
  SessionAccount out;
  Session& s = out.session;
  s.id = row->text(0);
  s.user_id = row->text(1);
  s.tenant_id = row->text(2);
  s.auth_state = row->text(3);
  s.csrf_token = row->text(4);
  s.remember_me = row->boolean(5);
  s.created_at = parse_time_ms(row->text(6)).value_or(0);
  s.last_seen_at = parse_time_ms(row->text(7)).value_or(0);
  s.expires_at = parse_time_ms(row->text(8)).value_or(0);
  if (!row->is_null(9)) {
    s.reauthenticated_at = parse_time_ms(row->text(9));
  }
  if (!row->is_null(10)) {
    s.mfa_verified_at = parse_time_ms(row->text(10));
  }
  s.ip = row->text(11);  // "" when NULL
  s.user_agent = row->text(12);
  Account& a = out.account;
  a.user_id = s.user_id;
  a.tenant_id = s.tenant_id;
  a.email = row->text(13);
  a.display_name = row->text(14);
  a.role = role_from_column(row->text(15));
  a.mfa_enabled = row->boolean(16);
  a.disabled = row->boolean(17);
  a.tenant_name = row->text(18);
  a.tenant_require_mfa = row->boolean(19);
  a.email_verified = row->boolean(20);
  a.tenant_require_verified_email = row->boolean(21);
  return out;
}

std::optional<Account> find_by_id(TenantTx& tx, const std::string& user_id) {
  std::optional<Row> row = tx.run(kFindById, {user_id}).first();
  if (!row) {
    return std::nullopt;
  }
  return account_from_row(*row);
}

bool insert(TenantTx& tx, const Account& a, int64_t now) {
  try {
    std::optional<std::string> verified_at;
    if (a.email_verified) {
      verified_at = format_time_ms(now);
    }
    tx.run(kInsert, {a.user_id, a.email, a.display_name, a.password_hash, to_string(a.role),
                     format_time_ms(now), verified_at});
  } catch (const soci::soci_error& e) {
    if (e.get_error_category() == soci::soci_error::constraint_violation) {
      return false;
    }
    throw;
  }
  return true;
}

void rehash_password(TenantTx& tx, const std::string& user_id, const std::string& hash) {
  tx.run(kRehashPassword, {user_id, hash});
}

void set_password(TenantTx& tx, const std::string& user_id, const std::string& hash, int64_t now) {
  tx.run(kSetPassword, {user_id, hash, format_time_ms(now)});
}

void set_display_name(TenantTx& tx,
                      const std::string& user_id,
                      const std::string& display_name,
                      int64_t now) {
  tx.run(kSetDisplayName, {user_id, display_name, format_time_ms(now)});
}

void set_last_login(TenantTx& tx, const std::string& user_id, int64_t now) {
  tx.run(kSetLastLogin, {user_id, format_time_ms(now)});
}

void set_email_verified(TenantTx& tx, const std::string& user_id, int64_t now) {
  tx.run(kSetEmailVerified, {user_id, format_time_ms(now)});
}

bool set_email(TenantTx& tx, const std::string& user_id, const std::string& email, int64_t now) {
  try {
    tx.run(kSetEmail, {user_id, email, format_time_ms(now)});
  } catch (const soci::soci_error& e) {
    if (is_constraint_violation(e)) {
      return false;
    }
    throw;
  }
  return true;
}

}  // namespace portcullis::store::accounts
