// Audit trail (DESIGN §9): every security-relevant event becomes one JSON log
// line and one audit_events row. The row is written by the store
// (app/store/audit.h) in the caller's transaction, so it lands with the
// change it describes (and is rolled back with it). The log line waits for that transaction's
// outcome (#9 item 18): it is written after the COMMIT, and when the
// transaction rolls back instead, a failure line (`rolled_back`) is written
// in its place, so the log never reports a change the database does not hold.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "app/log/logger.h"
#include "app/log/transaction_hooks.h"

namespace portcullis {

struct AuditEvent {
  std::string event;    // e.g. "auth.login"
  std::string outcome;  // success | failure | denied
  std::string tenant_id;
  std::string user_id;
  std::string session_id;
  std::string ip;
  std::string user_agent;
  std::string request_id;
  std::string target_type;
  std::string target_id;
  // Safe key/value details, stored as a JSON object. Never a secret.
  std::vector<std::pair<std::string, std::string>> details;
  // Why it failed: goes to the log line only, never to the row or client
  // (e.g. unknown_user vs bad_password must not be distinguishable).
  std::string reason;
};

class Audit {
 public:
  // A worker's Audit: knows the Db's transactions (see above).
  explicit Audit(TransactionHooks& db) : db_(&db) {}
  // Without a Db (tests, tools): the line is logged when recorded.
  Audit() = default;
  // The log line of an event whose row was just written (store::audit):
  // after the open transaction's outcome, at once outside one.
  void log_when_done(const AuditEvent& event);
  // Log line only, for events with no database (e.g. start-up, stop).
  void log_only(const AuditEvent& event);

 private:
  TransactionHooks* db_ = nullptr;
};

std::string details_json(const std::vector<std::pair<std::string, std::string>>& details);

}  // namespace portcullis
