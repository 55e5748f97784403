#include "app/store/memories.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/text/normalise.h"

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
// `keys reindex`: a batch of memories, locked on PostgreSQL until the batch
// commits, so a concurrent change of one of them (which updates the row
// before its index rows) waits and then writes its own index over ours.
// SQLite's write transaction already excludes every other writer.
constexpr TenantStatement kPageForReindex{
    "memories.page_for_reindex",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m WHERE m.tenant_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"
    " FOR UPDATE",
    "SELECT " PC_MEMORY_COLUMNS
    " FROM memories m WHERE m.tenant_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"};
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

// Counts walk the same index as the page they describe, and stop after
// kCountCap + 1 rows: cheap at any size.
constexpr TenantStatement kCount{
    "memories.count",
    "SELECT COUNT(*) FROM (SELECT 1 FROM memories m WHERE m.tenant_id = $1 LIMIT $2) c"};
constexpr TenantStatement kCountInContext{
    "memories.count_in_context",
    "SELECT COUNT(*) FROM (SELECT 1 FROM memories m WHERE m.tenant_id = $1 AND m.context_id = $2"
    " LIMIT $3) c"};
constexpr TenantStatement kCountByTag{
    "memories.count_by_tag",
    "SELECT COUNT(*) FROM (SELECT 1 FROM memory_tags mt WHERE mt.tenant_id = $1 AND mt.tag = $2"
    " LIMIT $3) c"};
constexpr TenantStatement kCountByTagInContext{
    "memories.count_by_tag_in_context",
    "SELECT COUNT(*) FROM (SELECT 1 FROM memory_tags mt JOIN memories m ON m.id = mt.memory_id"
    " WHERE mt.tenant_id = $1 AND mt.tag = $2 AND m.tenant_id = $1 AND m.context_id = $3"
    " LIMIT $4) c"};

// Search. $2 is the driving term (the rarest): its index range
// (tenant_id, term_hash, memory_id) is walked backwards from $12, newest
// first; $3..$9 are the other terms or NULL, each probed per row on an
// index; $10 is the context or NULL, $11 the folded tag or NULL, $13 the
// row limit.
// On PostgreSQL each probe ends in OFFSET 0, which keeps the planner from
// turning the EXISTS into a semi-join (that reads every row of the other
// terms, and sorts them): a probe stays one index lookup per candidate row.
// And the search is planned for its values every time (kCustomPlans): a
// generic plan cannot tell an unused slot from a term, guesses the filter
// far too selective and fetches and sorts the whole range of a common term.
#define PC_PROBE(n, TEXT, FENCE)                                            \
  " AND (" n TEXT                                                           \
  " IS NULL OR EXISTS (SELECT 1 FROM memory_terms x WHERE x.tenant_id = $1" \
  " AND x.term_hash = " n TEXT " AND x.memory_id = t.memory_id" FENCE "))"
#define PC_SEARCH_FROM(UUID, TEXT, FENCE)                                                          \
  " FROM memory_terms t JOIN memories m ON m.tenant_id = t.tenant_id AND m.id = t.memory_id"       \
  " WHERE t.tenant_id = $1 AND t.term_hash = $2 AND t.memory_id < $12" UUID PC_PROBE(              \
      "$3", TEXT, FENCE) PC_PROBE("$4", TEXT, FENCE) PC_PROBE("$5", TEXT, FENCE)                   \
      PC_PROBE("$6", TEXT, FENCE) PC_PROBE("$7", TEXT, FENCE) PC_PROBE("$8", TEXT, FENCE)          \
          PC_PROBE("$9", TEXT,                                                                     \
                   FENCE) " AND ($10" UUID " IS NULL OR m.context_id = $10" UUID                   \
                          ")"                                                                      \
                          " AND ($11" TEXT                                                         \
                          " IS NULL OR EXISTS (SELECT 1 FROM memory_tags g WHERE g.tenant_id = $1" \
                          " AND g.tag = $11" TEXT " AND g.memory_id = t.memory_id" FENCE "))"

constexpr Statement kCustomPlans{"memories.search_custom_plans",
                                 "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)",
                                 "SELECT 1"};
constexpr TenantStatement kSearch{
    "memories.search",
    "SELECT " PC_MEMORY_COLUMNS PC_SEARCH_FROM(
        "::uuid", "::text", " OFFSET 0") " ORDER BY t.memory_id DESC LIMIT $13",
    "SELECT " PC_MEMORY_COLUMNS PC_SEARCH_FROM("", "", "") " ORDER BY t.memory_id DESC LIMIT $13"};
// The count reads at most kCountWindow index entries of the driving term:
// $14 is the id of the oldest of them (the nil UUID when the term has no
// more), so a count over a sparse match of common words stays bounded and
// is then a lower bound.
constexpr TenantStatement kSearchCount{
    "memories.search_count",
    "SELECT COUNT(*) FROM (SELECT 1" PC_SEARCH_FROM(
        "::uuid", "::text", " OFFSET 0") " AND t.memory_id >= $14::uuid LIMIT $13) c",
    "SELECT COUNT(*) FROM (SELECT 1" PC_SEARCH_FROM(
        "", "", "") " AND t.memory_id >= $14 LIMIT $13) c"};
// The id kCountWindow entries down the driving term's range, if it is that long.
constexpr TenantStatement kCountWindowFloor{
    "memories.count_window_floor",
    "SELECT memory_id FROM memory_terms WHERE tenant_id = $1 AND term_hash = $2"
    " ORDER BY memory_id DESC LIMIT 1 OFFSET $3"};

#define PC_TERM_COUNT(n)                                                                      \
  "(SELECT COUNT(*) FROM (SELECT 1 FROM memory_terms WHERE tenant_id = $1 AND term_hash = " n \
  " LIMIT $10) c)"
constexpr TenantStatement kTermCounts{
    "memories.term_counts",
    "SELECT " PC_TERM_COUNT("$2") ", " PC_TERM_COUNT("$3") ", " PC_TERM_COUNT("$4") ", " PC_TERM_COUNT(
        "$5") ", " PC_TERM_COUNT("$6") ", " PC_TERM_COUNT("$7") ", " PC_TERM_COUNT("$8") ", " PC_TERM_COUNT("$9")};

// A memory's terms travel as one JSON array of hashes: one statement, one
// round trip, however many terms.
constexpr TenantStatement kInsertTerms{
    "memories.insert_terms",
    "INSERT INTO memory_terms (tenant_id, memory_id, term_hash)"
    " SELECT $1::uuid, $2::uuid, e.term FROM jsonb_array_elements_text($3::jsonb) AS e(term)",
    "INSERT INTO memory_terms (tenant_id, memory_id, term_hash)"
    " SELECT $1, $2, value FROM json_each($3)"};
constexpr TenantStatement kDeleteTerms{
    "memories.delete_terms", "DELETE FROM memory_terms WHERE tenant_id = $1 AND memory_id = $2"};

// A term's count stops here when ordering the terms: past it, a term is
// common and which common term drives matters little.
constexpr int kTermCountCap = 2000;

#undef PC_TERM_COUNT
#undef PC_SEARCH_FROM
#undef PC_PROBE
#undef PC_MEMORY_COLUMNS

std::string json_array(const std::vector<std::string>& values) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const std::string& v : values) {
    writer.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  writer.EndArray();
  return {buffer.GetString(), buffer.GetSize()};
}

// The statement parameters $2..$9: the hashes, then NULLs (or, with
// `pad`, the first hash again).
std::vector<Param> term_slots(const std::vector<std::string>& hashes, bool pad) {
  if (hashes.empty() || hashes.size() > kTermSlots) {
    throw std::invalid_argument("a search has 1 to 8 terms");
  }
  std::vector<Param> out;
  for (size_t i = 0; i < kTermSlots; ++i) {
    if (i < hashes.size() || pad) {
      out.emplace_back(i < hashes.size() ? hashes[i] : hashes.front());
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

// How a tag is stored in and looked up from memory_tags: folded (case and
// accents), or as given when folding leaves nothing (a tag of marks only),
// so such a tag still matches only itself.
std::string tag_key(const std::string& tag) {
  std::string folded = fold_text(tag);
  return folded.empty() ? tag : folded;
}

Param optional_param(const std::string& value) {
  return value.empty() ? Param(std::nullopt) : Param(value);
}

std::vector<Param> search_params(const std::vector<std::string>& hashes,
                                 const Filter& filter,
                                 const std::string& before_id,
                                 int limit) {
  std::vector<Param> params = term_slots(hashes, false);
  params.push_back(optional_param(filter.context_id));
  params.push_back(optional_param(filter.tag.empty() ? "" : tag_key(filter.tag)));
  params.emplace_back(before_id);
  params.emplace_back(limit);
  return params;
}

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
  const std::string tag = filter.tag.empty() ? "" : tag_key(filter.tag);
  if (!tag.empty() && !filter.context_id.empty()) {
    rows = tx.run(kPageByTagInContext, {tag, filter.context_id, before_id, limit});
  } else if (!tag.empty()) {
    rows = tx.run(kPageByTag, {tag, before_id, limit});
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

std::vector<Memory> page_for_reindex(TenantTx& tx, const std::string& before_id, int limit) {
  Rows rows = tx.run(kPageForReindex, {before_id, limit});
  std::vector<Memory> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

int count(TenantTx& tx, const Filter& filter) {
  const std::string tag = filter.tag.empty() ? "" : tag_key(filter.tag);
  const int cap = kCountCap + 1;
  Rows rows;
  if (!tag.empty() && !filter.context_id.empty()) {
    rows = tx.run(kCountByTagInContext, {tag, filter.context_id, cap});
  } else if (!tag.empty()) {
    rows = tx.run(kCountByTag, {tag, cap});
  } else if (!filter.context_id.empty()) {
    rows = tx.run(kCountInContext, {filter.context_id, cap});
  } else {
    rows = tx.run(kCount, {cap});
  }
  return rows.empty() ? 0 : static_cast<int>(rows[0].integer(0));
}

std::vector<Memory> search_page(TenantTx& tx,
                                const std::vector<std::string>& hashes,
                                const Filter& filter,
                                const std::string& before_id,
                                int limit) {
  tx.tx().run(kCustomPlans);
  Rows rows = tx.run(kSearch, search_params(hashes, filter, before_id, limit));
  std::vector<Memory> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    out.push_back(from_row(row));
  }
  return out;
}

Count search_count(TenantTx& tx, const std::vector<std::string>& hashes, const Filter& filter) {
  static constexpr const char* kAbove = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  static constexpr const char* kNil = "00000000-0000-0000-0000-000000000000";
  if (hashes.empty()) {
    throw std::invalid_argument("a search has 1 to 8 terms");
  }
  std::optional<Row> floor = tx.run(kCountWindowFloor, {hashes.front(), kCountWindow - 1}).first();
  std::vector<Param> params = search_params(hashes, filter, kAbove, kCountCap + 1);
  params.emplace_back(floor ? floor->text(0) : std::string(kNil));
  tx.tx().run(kCustomPlans);
  Rows rows = tx.run(kSearchCount, params);
  Count out;
  out.counted = rows.empty() ? 0 : static_cast<int>(rows[0].integer(0));
  out.window_full = floor.has_value();
  return out;
}

void rarest_first(TenantTx& tx, std::vector<std::string>& hashes) {
  if (hashes.size() < 2) {
    return;
  }
  std::vector<Param> params = term_slots(hashes, true);
  params.emplace_back(kTermCountCap);
  std::optional<Row> row = tx.run(kTermCounts, params).first();
  if (!row) {
    return;
  }
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (size_t i = 0; i < hashes.size(); ++i) {
    ranked.emplace_back(row->integer(i), hashes[i]);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < hashes.size(); ++i) {
    hashes[i] = ranked[i].second;
  }
}

void add_terms(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& hashes) {
  if (!hashes.empty()) {
    tx.run(kInsertTerms, {memory_id, json_array(hashes)});
  }
}

void replace_terms(TenantTx& tx,
                   const std::string& memory_id,
                   const std::vector<std::string>& hashes) {
  tx.run(kDeleteTerms, {memory_id});
  add_terms(tx, memory_id, hashes);
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
  std::set<std::string> keys;
  for (const std::string& tag : tags) {
    keys.insert(tag_key(tag));
  }
  for (const std::string& tag : keys) {
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
