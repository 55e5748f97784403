// What the connection itself says about its tenant binding, for the tests
// that prove the binding never outlives its transaction (test-only routes).
#pragma once

#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"

namespace portcullis::store::diagnostics {

// portcullis.tenant_id on the connection, read outside any transaction:
// "" when nothing is bound (PostgreSQL; always "" on SQLite, which has no
// row-level security).
std::string bound_tenant(Db& db);
// The same, read inside `tx` (its tenant on PostgreSQL).
std::string bound_tenant(TenantTx& tx);
// A statement that fails in the database after the tenant was bound in the
// same transaction (an integer overflow on both backends). Always throws.
[[noreturn]] void fail_after_binding(TenantTx& tx);

}  // namespace portcullis::store::diagnostics
