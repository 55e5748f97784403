#include "app/store/audit.h"

#include <optional>

#include "app/crypto/random.h"
#include "app/db/time.h"

namespace portcullis::store::audit {
namespace {

constexpr Statement kInsert{
    "audit_events.insert",
    "SELECT portcullis_audit_insert(CAST($1 AS uuid), CAST($2 AS timestamptz), CAST($3 AS uuid), "
    "CAST($4 AS uuid), $5, $6, $7, $8, $9, $10, $11, $12, CAST($13 AS jsonb))",
    "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome, session_id, ip, "
    "user_agent, request_id, target_type, target_id, details) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7, $8, $9, $10, $11, $12, $13)"};

// "" is stored as NULL.
std::optional<std::string> nullable(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

}  // namespace

void insert(Db& db, const AuditEvent& e) {
  db.run(kInsert, {uuid_v7(), now_rfc3339(), nullable(e.tenant_id), nullable(e.user_id), e.event,
                   e.outcome, nullable(e.session_id), nullable(e.ip),
                   nullable(e.user_agent.substr(0, 256)), nullable(e.request_id),
                   nullable(e.target_type), nullable(e.target_id), details_json(e.details)});
}

void record(Audit& audit, Db& db, const AuditEvent& event) {
  insert(db, event);
  audit.log_when_done(event);
}

}  // namespace portcullis::store::audit
