// Tx: one database transaction, rolled back unless commit() is called.
//
// It comes in two kinds. A write transaction on SQLite starts with
// BEGIN IMMEDIATE, which takes the database's write lock at once and waits
// for it on the busy timeout. A plain (deferred) BEGIN would take the lock
// only at the first write; under WAL, a transaction that read first and then
// finds another writer has committed gets SQLITE_BUSY at once and the busy
// timeout never applies. So every transaction that may write is a kWrite
// (the default). kRead is for transactions that only read. On PostgreSQL
// both kinds are a plain BEGIN (READ COMMITTED; row locks wait).
//
// When the lock cannot be had within the busy timeout the error surfaces as a
// soci_error that is_busy() (app/db/errors.h) recognises; the error mapper
// answers 503 database_busy with Retry-After.
//
// On PostgreSQL nothing is sent when a Tx is made: a write transaction's
// BEGIN travels with its first statement, and a read transaction has none
// (Db::begin() says why), so an authenticated read costs one round trip for
// its data. Statements run through run() (prepared once per connection);
// sql() gives the SOCI session for the rest; Db sends what was queued before
// a SOCI statement runs.
//
// The Db is told when the transaction begins and ends, so work queued with
// Db::after_transaction() (the audit log line) runs after the outcome is known.
// Neither copyable nor movable. REQUIRES: no other Tx open on the same Db.
#pragma once

#include <string>

#include <soci/soci.h>

#include "app/db/connection.h"

namespace portcullis {

class [[nodiscard]] Tx {
 public:
  // Throws soci_error when the transaction cannot begin (busy, connection).
  explicit Tx(Db& db, TxKind kind = TxKind::kWrite);
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  Tx(Tx&&) = delete;
  Tx& operator=(Tx&&) = delete;
  // Rolls back unless committed. Never throws.
  ~Tx();

  // Runs a store statement in this transaction.
  Rows run(const Statement& statement, const std::vector<Param>& params = {}) {
    return db_.run(statement, params);
  }
  soci::session& sql() { return db_.session(); }
  Db& db() { return db_; }
  // Throws soci_error if COMMIT fails; the destructor then rolls back.
  void commit();

 private:
  Db& db_;
  bool open_ = false;
};

// What serialise_writers() locks: changes to one tenant's members, or to one
// user's sessions.
enum class WriterScope { kTenant, kUser };

// Serialises the writers of one tenant (or user) until the caller's write
// transaction ends, so a check-then-write (the last owner, the session caps)
// sees every change committed before it. PostgreSQL: the row is locked
// (SELECT … FOR UPDATE). SQLite: nothing more to do, since a write Tx holds
// the database's write lock from its BEGIN IMMEDIATE. The one place that
// decides how such checks are serialised. REQUIRES: inside a kWrite Tx.
void serialise_writers(Tx& tx, WriterScope scope, const std::string& id);

}  // namespace portcullis
