// The memories store: every statement on memories and their tags. Each
// function takes the request's TenantTx, whose tenant is $1 of every
// statement (app/db/statement.h), so no query here can leave the tenant.
// Content stays as stored (AES-GCM ciphertext); sealing and opening it is the
// caller's (the field cipher lives with the worker).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/db/tenant_tx.h"

namespace portcullis::store::memories {

struct Memory {
  std::string id;
  std::optional<std::string> context_id;
  std::string title;
  std::string content_enc;
  std::string tags_json;  // JSON array text
  std::optional<std::string> created_by;
  std::string created_at;  // as stored; parse_time_ms() reads both backends' forms
  std::string updated_at;
};

// What selects a list's rows; "" = no filter. The tag is compared in its
// folded form (fold_text, app/text/normalise.h): "Work" finds "work".
struct Filter {
  std::string context_id;
  std::string tag;
};

// Counts stop after this many: a larger total is "more than 1 000".
inline constexpr int kCountCap = 1000;
// Slots for term hashes in one search statement (kMaxQueryWords of
// app/crypto/blind_index.h); unused slots repeat the first hash.
inline constexpr size_t kTermSlots = 8;

// Up to `limit` memories with ids below `before_id`, newest first (keyset;
// every variant walks an index, see the EXPLAIN test).
std::vector<Memory> page(TenantTx& tx,
                         const Filter& filter,
                         const std::string& before_id,
                         int limit);
// Like page() without a filter, for `portcullis keys reindex`: on
// PostgreSQL the rows stay locked (FOR UPDATE) until the transaction ends.
std::vector<Memory> page_for_reindex(TenantTx& tx, const std::string& before_id, int limit);
// How many memories the list of `filter` holds, counted up to kCountCap + 1
// along the same index as page().
int count(TenantTx& tx, const Filter& filter);

// Search (the blind index, memory_terms): up to `limit` memories below
// `before_id`, newest first, that have every hash of `hashes` (1..kTermSlots;
// the first one's index range is walked, the others are probed) and pass the
// filter.
std::vector<Memory> search_page(TenantTx& tx,
                                const std::vector<std::string>& hashes,
                                const Filter& filter,
                                const std::string& before_id,
                                int limit);
// How many memories match a search, counted up to kCountCap + 1 among the
// newest kCountWindow memories of the driving (first) term; window_full says
// the term has more, so the count is only a lower bound.
inline constexpr int kCountWindow = 2000;
struct Count {
  int counted = 0;
  bool window_full = false;
};
Count search_count(TenantTx& tx, const std::vector<std::string>& hashes, const Filter& filter);
// Orders `hashes` (1..kTermSlots) rarest first, so search_page walks the
// shortest range (one round trip; each count stops at a cap).
void rarest_first(TenantTx& tx, std::vector<std::string>& hashes);
// The blind-index rows of memory_id become exactly `hashes` (distinct).
void replace_terms(TenantTx& tx,
                   const std::string& memory_id,
                   const std::vector<std::string>& hashes);
// Adds the blind-index rows of a new memory.
void add_terms(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& hashes);

std::optional<Memory> find(TenantTx& tx, const std::string& id);
void insert(TenantTx& tx, const Memory& memory);
// Writes title, context, content, tags and updated_at of memory.id.
void update(TenantTx& tx, const Memory& memory);
// False when there was no such memory in the tenant.
[[nodiscard]] bool remove(TenantTx& tx, const std::string& id);
// Adds the tag index rows of a new memory (folded, each folded tag once).
void add_tags(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& tags);
// The tag index rows of a memory become exactly `tags`.
void replace_tags(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& tags);

}  // namespace portcullis::store::memories
