// Context: everything a handler may touch, so a new dependency shows in one
// place. Handlers return a Response or throw ApiError.
#pragma once

#include <string>

#include "app/auth/account.h"
#include "app/auth/principal.h"
#include "app/auth/sessions.h"
#include "app/config/config.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/db/tx.h"
#include "app/http/request.h"
#include "app/log/audit.h"
#include "app/store/audit.h"

namespace portcullis {

struct Context {
  Request& request;
  const Principal* principal;  // null only on Access::kPublic routes
  const Session* session;      // the caller's session; null only on Access::kPublic routes
  const Account* account;      // the caller's user and tenant (no password hash); ditto
  Db& db;
  Audit& audit;
  const Config& config;
  const WorkerKeys& keys;  // the worker's cipher and purpose keys, built at its start

  // An audit event pre-filled with who and where: request id, client IP,
  // user agent, and the principal's tenant, user and session when there is one.
  AuditEvent audit_event(const std::string& event, const std::string& outcome) const {
    AuditEvent e;
    e.event = event;
    e.outcome = outcome;
    e.request_id = request.request_id;
    e.ip = request.client_ip;
    e.user_agent = request.header("user-agent");
    if (principal != nullptr) {
      e.tenant_id = principal->tenant_id;
      e.user_id = principal->user_id;
      e.session_id = principal->session_id;
    }
    return e;
  }

  // Records an audit event: the row in `tx`, the log line once `tx` ends
  // (a failure line instead if it rolls back).
  void record(Tx& tx, const AuditEvent& event) const {
    store::audit::record(audit, tx.db(), event);
  }
  void record(TenantTx& tx, const AuditEvent& event) const { record(tx.tx(), event); }
  // Outside any transaction: the row autocommits, the line follows at once.
  void record_now(const AuditEvent& event) const { store::audit::record(audit, db, event); }

  // Value of a `{name}` path segment. REQUIRES: the route declares it.
  const std::string& path_param(const std::string& name) const {
    return request.path_params.at(name);
  }
};

}  // namespace portcullis
