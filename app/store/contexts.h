// The contexts store: every statement on contexts, in the caller's tenant.
// Each function takes the request's TenantTx, whose tenant is $1 of every
// statement, so no query here can leave the tenant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/db/tenant_tx.h"

namespace portcullis::store::contexts {

struct ContextRow {
  std::string id;
  std::string name;
  std::string created_at;  // as stored; parse_time_ms() reads both backends' forms
};

// Is `id` a context of the tenant? False for anything that is not a UUID.
[[nodiscard]] bool exists(TenantTx& tx, const std::string& id);

// Up to `limit` contexts with ids below `before_id`, newest first (keyset on
// the (tenant_id, id) index).
std::vector<ContextRow> page(TenantTx& tx, const std::string& before_id, int limit);
// REQUIRES: `id` is a UUID (a path parameter checked by dispatch).
std::optional<ContextRow> find(TenantTx& tx, const std::string& id);
// Does another context of the tenant (not `except_id`; "" = none) have this
// name?
[[nodiscard]] bool name_in_use(TenantTx& tx, const std::string& name, const std::string& except_id);
// Inserts the context (updated_at = created_at). False when the name is
// taken, found by the (tenant_id, name) constraint: a writer that got past
// name_in_use() at the same time. On PostgreSQL the transaction is then
// aborted: the caller can only roll back.
[[nodiscard]] bool insert(TenantTx& tx, const ContextRow& context);
// `updated_at` as format_time_ms() writes it.
void rename(TenantTx& tx,
            const std::string& id,
            const std::string& name,
            const std::string& updated_at);
// Memories filed in context `id`.
int64_t count_memories(TenantTx& tx, const std::string& id);
// Deletes context `id` and the memories filed in it (their tags go by the
// schema's cascade).
void remove_with_memories(TenantTx& tx, const std::string& id);

}  // namespace portcullis::store::contexts
