#include "app/store/contexts.h"

#include <soci/soci.h>

#include "app/crypto/random.h"

namespace portcullis::store::contexts {
namespace {

constexpr TenantStatement kExists{"contexts.exists",
                                  "SELECT 1 FROM contexts WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kPage{"contexts.page",
                                "SELECT id, name, created_at FROM contexts WHERE tenant_id = $1 "
                                "AND id < $2 ORDER BY id DESC LIMIT $3"};
constexpr TenantStatement kFind{
    "contexts.find", "SELECT id, name, created_at FROM contexts WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kCountNamed{
    "contexts.count_named", "SELECT COUNT(*) FROM contexts WHERE tenant_id = $1 AND name = $2"};
constexpr TenantStatement kCountNamedOther{
    "contexts.count_named_other",
    "SELECT COUNT(*) FROM contexts WHERE tenant_id = $1 AND name = $2 AND id <> $3"};
constexpr TenantStatement kInsert{
    "contexts.insert",
    "INSERT INTO contexts (id, tenant_id, name, created_at, updated_at) VALUES ($2, $1, $3, $4, "
    "$4)"};
constexpr TenantStatement kRename{
    "contexts.rename",
    "UPDATE contexts SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2"};
// A context's memories, for its deletion (the memories store keeps the rest).
constexpr TenantStatement kCountMemories{
    "memories.count_in_context",
    "SELECT COUNT(*) FROM memories WHERE tenant_id = $1 AND context_id = $2"};
constexpr TenantStatement kDeleteMemories{
    "memories.delete_in_context", "DELETE FROM memories WHERE tenant_id = $1 AND context_id = $2"};
constexpr TenantStatement kDelete{"contexts.delete",
                                  "DELETE FROM contexts WHERE tenant_id = $1 AND id = $2"};

ContextRow from_row(const Row& row) { return ContextRow{row.text(0), row.text(1), row.text(2)}; }

int64_t count(const Rows& rows) { return rows.empty() ? 0 : rows[0].integer(0); }

}  // namespace

bool exists(TenantTx& tx, const std::string& id) {
  return is_uuid(id) && !tx.run(kExists, {id}).empty();
}

std::vector<ContextRow> page(TenantTx& tx, const std::string& before_id, int limit) {
  Rows rows = tx.run(kPage, {before_id, limit});
  std::vector<ContextRow> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

std::optional<ContextRow> find(TenantTx& tx, const std::string& id) {
  std::optional<Row> row = tx.run(kFind, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  return from_row(*row);
}

bool name_in_use(TenantTx& tx, const std::string& name, const std::string& except_id) {
  Rows rows =
      except_id.empty() ? tx.run(kCountNamed, {name}) : tx.run(kCountNamedOther, {name, except_id});
  return count(rows) > 0;
}

bool insert(TenantTx& tx, const ContextRow& c) {
  try {
    tx.run(kInsert, {c.id, c.name, c.created_at});
  } catch (const soci::soci_error& e) {
    if (e.get_error_category() == soci::soci_error::constraint_violation) {
      return false;
    }
    throw;
  }
  return true;
}

void rename(TenantTx& tx,
            const std::string& id,
            const std::string& name,
            const std::string& updated_at) {
  tx.run(kRename, {id, name, updated_at});
}

int64_t count_memories(TenantTx& tx, const std::string& id) {
  return count(tx.run(kCountMemories, {id}));
}

void remove_with_memories(TenantTx& tx, const std::string& id) {
  tx.run(kDeleteMemories, {id});
  tx.run(kDelete, {id});
}

}  // namespace portcullis::store::contexts
