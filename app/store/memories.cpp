#include "app/store/memories.h"

namespace portcullis::store::memories {
namespace {

#define PC_MEMORY_COLUMNS                                                                          \
  "m.id, m.context_id, m.title, m.content_enc, CAST(m.tags AS TEXT), m.created_by, m.created_at, " \
  "m.updated_at"

constexpr TenantStatement kPage{
    "memories.page",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m WHERE m.tenant_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"};
constexpr TenantStatement kPageInContext{
    "memories.page_in_context",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m WHERE m.tenant_id = $1 AND m.context_id = $2 AND m.id < $3"
    " ORDER BY m.id DESC LIMIT $4"};
// Keyset through the tag index: (tenant_id, tag, memory_id).
constexpr TenantStatement kPageByTag{
    "memories.page_by_tag",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m JOIN memory_tags mt ON mt.memory_id = m.id"
    " WHERE mt.tenant_id = $1 AND mt.tag = $2 AND m.tenant_id = $1 AND mt.memory_id < $3"
    " ORDER BY mt.memory_id DESC LIMIT $4"};
constexpr TenantStatement kPageByTagInContext{
    "memories.page_by_tag_in_context",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m JOIN memory_tags mt ON mt.memory_id = m.id"
    " WHERE mt.tenant_id = $1 AND mt.tag = $2 AND m.tenant_id = $1 AND m.context_id = $3"
    " AND mt.memory_id < $4 ORDER BY mt.memory_id DESC LIMIT $5"};
constexpr TenantStatement kFind{"memories.find",
                                "SELECT " PC_MEMORY_COLUMNS
                                " FROM memories m WHERE m.tenant_id = $1 AND m.id = $2"};
constexpr TenantStatement kInsert{
    "memories.insert",
    "INSERT INTO memories (id, tenant_id, context_id, title, content_enc, tags, created_by, "
    "created_at, updated_at) VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9)"};
constexpr TenantStatement kUpdate{
    "memories.update",
    "UPDATE memories SET title = $3, context_id = $4, content_enc = $5, tags = $6, "
    "updated_at = $7 WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kDelete{"memories.delete",
                                  "DELETE FROM memories WHERE tenant_id = $1 AND id = $2"};
constexpr TenantStatement kDeleteTags{
    "memories.delete_tags", "DELETE FROM memory_tags WHERE tenant_id = $1 AND memory_id = $2"};
constexpr TenantStatement kInsertTag{
    "memories.insert_tag",
    "INSERT INTO memory_tags (memory_id, tenant_id, tag) VALUES ($2, $1, $3)"};

#undef PC_MEMORY_COLUMNS

Memory from_row(const Row& row) {
  Memory m;
  m.id = row.text(0);
  m.context_id = row.optional_text(1);
  m.title = row.text(2);
  m.content_enc = row.text(3);
  m.tags_json = row.text(4);
  m.created_by = row.optional_text(5);
  m.created_at = row.text(6);
  m.updated_at = row.text(7);
  return m;
}

}  // namespace

std::vector<Memory> page(TenantTx& tx,
                         const Filter& filter,
                         const std::string& before_id,
                         int limit) {
  Rows rows;
  if (!filter.tag.empty() && !filter.context_id.empty()) {
    rows = tx.run(kPageByTagInContext, {filter.tag, filter.context_id, before_id, limit});
  } else if (!filter.tag.empty()) {
    rows = tx.run(kPageByTag, {filter.tag, before_id, limit});
  } else if (!filter.context_id.empty()) {
    rows = tx.run(kPageInContext, {filter.context_id, before_id, limit});
  } else {
    rows = tx.run(kPage, {before_id, limit});
  }
  std::vector<Memory> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

std::optional<Memory> find(TenantTx& tx, const std::string& id) {
  std::optional<Row> row = tx.run(kFind, {id}).first();
  if (!row) {
    return std::nullopt;
  }
  return from_row(*row);
}

void insert(TenantTx& tx, const Memory& m) {
  tx.run(kInsert, {m.id, m.context_id, m.title, m.content_enc, m.tags_json, m.created_by,
                   m.created_at, m.updated_at});
}

void update(TenantTx& tx, const Memory& m) {
  tx.run(kUpdate, {m.id, m.title, m.context_id, m.content_enc, m.tags_json, m.updated_at});
}

bool remove(TenantTx& tx, const std::string& id) { return tx.run(kDelete, {id}).affected > 0; }

void add_tags(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) {
    tx.run(kInsertTag, {memory_id, tag});
  }
}

void replace_tags(TenantTx& tx,
                  const std::string& memory_id,
                  const std::vector<std::string>& tags) {
  tx.run(kDeleteTags, {memory_id});
  add_tags(tx, memory_id, tags);
}

}  // namespace portcullis::store::memories
