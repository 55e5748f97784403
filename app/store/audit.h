// The audit store: audit_events rows (DESIGN §9). A row joins whatever
// transaction is open on the Db (so it commits or rolls back with the change
// it describes) and autocommits outside one.
#pragma once

#include "app/db/connection.h"
#include "app/log/audit.h"

namespace portcullis::store::audit {

// Inserts the row. On PostgreSQL through the owner's SECURITY DEFINER
// function: the row's tenant may not be the request's tenant context yet (a
// failed login of a known account). Throws soci_error if the insert fails: an
// action whose audit row cannot be written must not commit.
void insert(Db& db, const AuditEvent& event);

// The row now, the log line once the open transaction ends (Audit says how).
void record(Audit& audit, Db& db, const AuditEvent& event);

}  // namespace portcullis::store::audit
