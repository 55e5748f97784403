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

}  // namespace

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
