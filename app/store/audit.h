// The audit store: audit_events rows (DESIGN §9). A row joins whatever
// transaction is open on the Db (so it commits or rolls back with the change
// it describes) and autocommits outside one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/log/audit.h"

namespace portcullis::store::audit {

// Inserts the row. On PostgreSQL through the owner's SECURITY DEFINER
// function: the row's tenant may not be the request's tenant context yet (a
// failed login of a known account). Throws soci_error if the insert fails: an
// action whose audit row cannot be written must not commit.
void insert(Db& db, const AuditEvent& event);

// The row now, the log line once the open transaction ends (Audit says how).
void record(Audit& audit, Db& db, const AuditEvent& event);

// A row as the tenant's audit list shows it.
struct StoredEvent {
  std::string id;
  std::string ts;  // as stored; parse_time_ms() reads both backends' forms
  std::string event;
  std::string outcome;
  std::optional<std::string> user_id;
  std::optional<std::string> ip;
  std::optional<std::string> request_id;
  std::optional<std::string> target_type;
  std::optional<std::string> target_id;
  std::string details_json;  // JSON object text
};

// Up to `limit` of the tenant's events with ids below `before_id`, newest
// first (keyset on audit_events_tenant_id_idx, see the EXPLAIN test).
std::vector<StoredEvent> page(TenantTx& tx, const std::string& before_id, int limit);

}  // namespace portcullis::store::audit
