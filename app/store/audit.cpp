#include "app/store/audit.h"

#include <optional>
#include <utility>

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

constexpr TenantStatement kPage{
    "audit_events.page",
    "SELECT id, ts, event, outcome, user_id, ip, request_id, target_type, target_id, "
    "CAST(details AS TEXT) FROM audit_events WHERE tenant_id = $1 AND id < $2 "
    "ORDER BY id DESC LIMIT $3"};

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

std::vector<StoredEvent> page(TenantTx& tx, const std::string& before_id, int limit) {
  Rows rows = tx.run(kPage, {before_id, limit});
  std::vector<StoredEvent> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    StoredEvent e;
    e.id = row.text(0);
    e.ts = row.text(1);
    e.event = row.text(2);
    e.outcome = row.text(3);
    e.user_id = row.optional_text(4);
    e.ip = row.optional_text(5);
    e.request_id = row.optional_text(6);
    e.target_type = row.optional_text(7);
    e.target_id = row.optional_text(8);
    e.details_json = row.text(9);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace portcullis::store::audit
