// The per-connection cache of prepared statements (app/db/statement.h) and
// the native calls that run them. Owned by Db, one per live connection, and
// dropped before the connection closes. Used by Db only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "app/db/statement.h"

namespace portcullis {

// What must reach PostgreSQL before a statement, in the same round trip:
// the BEGIN of a write transaction and the tenant binding for row-level
// security (set_config('portcullis.tenant_id', …, true): transaction-local).
struct Preamble {
  bool begin = false;
  const std::string* tenant_id = nullptr;  // null: bind nothing
};

class PreparedStatements {
 public:
  virtual ~PreparedStatements() = default;
  // Sends the preamble and the statement and waits for the answer: one round
  // trip on PostgreSQL (two on a connection's first use of the statement:
  // none, the Parse travels with it). Throws soci_error (the backend's
  // subclass, with its SQLSTATE or result code) when the database refuses.
  virtual Rows run(const Statement& statement,
                   const std::vector<Param>& params,
                   const Preamble& preamble) = 0;
  // Sends only the preamble (a transaction about to be used through SOCI).
  virtual void send(const Preamble& preamble) = 0;
  // Round trips waited for since the connection opened (PostgreSQL only).
  virtual uint64_t round_trips() const = 0;
};

std::unique_ptr<PreparedStatements> make_prepared_statements(soci::session& session,
                                                             Backend backend);

}  // namespace portcullis
