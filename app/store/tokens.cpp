#include "app/store/tokens.h"

#include "app/crypto/random.h"
#include "app/db/time.h"

namespace portcullis::store::tokens {
namespace {

constexpr Statement kFindNewest{
    "user_tokens.find_newest",
    "SELECT id, tenant_id, user_id, expires_at, used_at, email "
    "FROM portcullis_find_user_token($1, $2)",
    "SELECT t.id, t.tenant_id, t.user_id, t.expires_at, t.used_at, t.email FROM user_tokens t "
    "WHERE t.token_hash = $1 AND t.purpose = $2 AND NOT EXISTS (SELECT 1 FROM user_tokens n "
    "WHERE n.tenant_id = t.tenant_id AND n.user_id = t.user_id AND n.purpose = t.purpose "
    "AND n.id > t.id)"};
constexpr TenantStatement kVoidUnused{
    "user_tokens.void_unused",
    "UPDATE user_tokens SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 "
    "AND used_at IS NULL"};
constexpr TenantStatement kInsert{
    "user_tokens.insert",
    "INSERT INTO user_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at, "
    "created_at, email) VALUES ($2, $1, $3, $4, $5, $6, $7, $8)"};
constexpr TenantStatement kConsume{
    "user_tokens.consume",
    "UPDATE user_tokens SET used_at = $4 WHERE tenant_id = $1 AND id = $2 AND user_id = $3 "
    "AND used_at IS NULL"};
constexpr TenantStatement kNewestUnused{
    "user_tokens.newest_unused",
    "SELECT id, tenant_id, user_id, expires_at, used_at, email FROM user_tokens "
    "WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL "
    "ORDER BY id DESC LIMIT 1"};

}  // namespace

std::optional<FoundToken> find_newest_by_hash(Db& db,
                                              const std::string& token_hash,
                                              const std::string& purpose) {
  std::optional<Row> row = db.run(kFindNewest, {token_hash, purpose}).first();
  if (!row) {
    return std::nullopt;
  }
  return FoundToken{row->text(0), row->text(1),     row->text(2),
                    row->text(3), !row->is_null(4), row->text(5)};
}

int64_t void_unused(TenantTx& tx,
                    const std::string& user_id,
                    const std::string& purpose,
                    int64_t now) {
  return tx.run(kVoidUnused, {user_id, purpose, format_time_ms(now)}).affected;
}

std::string insert(TenantTx& tx,
                   const std::string& user_id,
                   const std::string& purpose,
                   const std::string& token_hash,
                   int64_t expires_at,
                   int64_t now,
                   const std::string& email) {
  std::string id = uuid_v7();
  std::optional<std::string> about;
  if (!email.empty()) {
    about = email;
  }
  tx.run(kInsert, {id, user_id, purpose, token_hash, format_time_ms(expires_at),
                   format_time_ms(now), about});
  return id;
}

std::optional<FoundToken> newest_unused(TenantTx& tx,
                                        const std::string& user_id,
                                        const std::string& purpose) {
  std::optional<Row> row = tx.run(kNewestUnused, {user_id, purpose}).first();
  if (!row) {
    return std::nullopt;
  }
  return FoundToken{row->text(0), row->text(1),     row->text(2),
                    row->text(3), !row->is_null(4), row->text(5)};
}

bool consume(TenantTx& tx, const std::string& id, const std::string& user_id, int64_t now) {
  return tx.run(kConsume, {id, user_id, format_time_ms(now)}).affected == 1;
}

}  // namespace portcullis::store::tokens
