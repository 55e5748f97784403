#include "app/log/audit.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/crypto/random.h"

namespace portcullis {

std::string details_json(const std::vector<std::pair<std::string, std::string>>& details) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [k, v] : details) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

namespace {
LogRecord to_log_record(const AuditEvent& e) {
  LogRecord r;
  r.event = e.event;
  r.outcome = e.outcome;
  r.request_id = e.request_id;
  r.tenant_id = e.tenant_id;
  r.user_id = e.user_id;
  r.session = e.session_id;
  r.ip = e.ip;
  r.user_agent = e.user_agent;
  r.target_type = e.target_type;
  r.target_id = e.target_id;
  r.details = e.details;
  if (!e.reason.empty()) {
    r.details.emplace_back("reason", e.reason);
  }
  return r;
}

Level level_for(const AuditEvent& e) {
  return e.outcome == "success" ? Level::kInfo : Level::kWarning;
}

// A bind value where an empty string becomes SQL NULL.
struct Nullable {
  explicit Nullable(const std::string& s) : value(s), ind(s.empty() ? soci::i_null : soci::i_ok) {}
  std::string value;
  soci::indicator ind;
};
}  // namespace

void Audit::record(soci::session& db, const AuditEvent& e) {
  std::string id = uuid_v7();
  std::string ts = now_rfc3339();
  std::string details = details_json(e.details);
  std::string ua = e.user_agent.substr(0, 256);
  const char* sql =
      db.get_backend_name() == "postgresql"
          // Through the owner's function: the row's tenant may not be the
          // request's tenant context yet (a failed login of a known account).
          ? "SELECT portcullis_audit_insert(CAST(:id AS uuid), CAST(:ts AS timestamptz), "
            "CAST(:tenant AS uuid), CAST(:user AS uuid), :event, :outcome, :session, :ip, :ua, "
            ":rid, :ttype, :tid, CAST(:details AS jsonb))"
          : "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome, session_id, ip, "
            "user_agent, request_id, target_type, target_id, details) VALUES (:id, :ts, :tenant, "
            ":user, :event, :outcome, :session, :ip, :ua, :rid, :ttype, :tid, :details)";
  Nullable tenant(e.tenant_id);
  Nullable user(e.user_id);
  Nullable session(e.session_id);
  Nullable ip(e.ip);
  Nullable agent(ua);
  Nullable rid(e.request_id);
  Nullable ttype(e.target_type);
  Nullable tid(e.target_id);
  db << sql, soci::use(id), soci::use(ts), soci::use(tenant.value, tenant.ind),
      soci::use(user.value, user.ind), soci::use(e.event), soci::use(e.outcome),
      soci::use(session.value, session.ind), soci::use(ip.value, ip.ind),
      soci::use(agent.value, agent.ind), soci::use(rid.value, rid.ind),
      soci::use(ttype.value, ttype.ind), soci::use(tid.value, tid.ind), soci::use(details);
  if (db_ == nullptr || !db_->is_session(db)) {
    log_record(level_for(e), to_log_record(e));
    return;
  }
  log_when_done(e);
}

void Audit::log_when_done(const AuditEvent& e) {
  Level level = level_for(e);
  LogRecord line = to_log_record(e);
  if (db_ == nullptr) {
    log_record(level, line);
    return;
  }
  db_->after_transaction([level, line = std::move(line)](bool committed) {
    if (committed) {
      log_record(level, line);
      return;
    }
    // The row went with the rollback; say so instead of the intended outcome.
    LogRecord failed = line;
    failed.outcome = "failure";
    failed.details.emplace_back("rolled_back", "true");
    failed.details.emplace_back("intended_outcome", line.outcome);
    log_record(Level::kWarning, failed);
  });
}

void Audit::log_only(const AuditEvent& e) { log_record(level_for(e), to_log_record(e)); }

}  // namespace portcullis
