// Database connections (SOCI). One Db per worker process, opened after
// fork() (SOCI sessions are not shareable across processes). The backend is
// chosen by the URL: sqlite://PATH (sqlite:///abs/path, sqlite://rel/path,
// sqlite://:memory:) or postgresql://… (a libpq URI).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "app/db/prepared.h"
#include "app/db/statement.h"
#include "app/log/transaction_hooks.h"

namespace portcullis {

// A transaction that only reads, or one that may write (app/db/tx.h).
enum class TxKind { kRead, kWrite };

struct DbOptions {
  int statement_timeout_ms = 5000;  // PostgreSQL, per connection
  int busy_timeout_ms = 5000;       // SQLite
};

Backend backend_of(const std::string& url);

// Opens a session and applies the per-connection settings: SQLite WAL,
// busy_timeout, foreign_keys=ON; PostgreSQL statement_timeout and UTC.
// Throws soci::soci_error when the database cannot be reached.
std::unique_ptr<soci::session> open_session(const std::string& url, const DbOptions& options);

// A worker's connection that heals itself: after a failure is reported with
// mark_broken(), the next session() call reconnects (at most one attempt per
// kRetryInterval, so a dead database is not hammered).
class Db final : public TransactionHooks {
 public:
  Db(std::string url, DbOptions options);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  Db(Db&&) = delete;
  Db& operator=(Db&&) = delete;
  ~Db() override;

  // The live session. Throws soci::soci_error when (re)connecting fails.
  soci::session& session();
  Backend backend() const { return backend_; }
  // Called after an error that may have been the connection's fault: runs a
  // cheap ping and, if that fails too, drops the session.
  void check_after_error();
  void mark_broken();
  bool connected() const { return session_ != nullptr; }
  // The text of the last statement run (placeholders, never bound values),
  // or "" when there is no session.
  std::string last_query() const;

  // Runs a store statement (prepared once per connection, app/db/statement.h).
  // Outside a transaction it autocommits; inside one (Tx) it joins it, and on
  // PostgreSQL the transaction's start travels in the same round trip.
  // Throws soci_error (the backend's subclass) when the database refuses.
  Rows run(const Statement& statement, const std::vector<Param>& params);
  // PostgreSQL round trips this worker waited for (store statements, plus
  // COMMIT and ROLLBACK) and SOCI statements run (each at least one more),
  // since start, across reconnects. 0 on SQLite. For tests and benchmarks.
  uint64_t round_trips() const {
    return round_trips_before_ + (prepared_ ? prepared_->round_trips() : 0) + transaction_ends_;
  }
  uint64_t soci_statements() const { return soci_statements_; }

  // Transaction control, driven by Tx (app/db/tx.h) only.
  //   SQLite: BEGIN (kRead) or BEGIN IMMEDIATE (kWrite) at once.
  //   PostgreSQL kWrite: BEGIN is queued and sent with the first statement.
  //   PostgreSQL kRead: no BEGIN at all: each statement runs in the implicit
  //     transaction of its own pipeline segment (READ COMMITTED gives each
  //     statement its own snapshot anyway), with the tenant bound in it.
  void begin(TxKind kind);
  // Row-level security tenant for the open transaction (PostgreSQL:
  // set_config('portcullis.tenant_id', id, true), transaction-local, sent in
  // the round trip of the statement it scopes; SQLite: nothing to bind).
  void bind_tenant(const std::string& tenant_id);
  // Called by the session's logger before every SOCI statement: inside a
  // transaction, whatever was queued (BEGIN, tenant binding) is sent first,
  // and a PostgreSQL read transaction becomes an explicit one. So SQL written
  // with SOCI is always inside the Tx it is written in.
  void before_soci_statement(const std::string& query);
  void commit();
  // Never throws; a failed ROLLBACK drops the connection.
  void rollback() noexcept;

  // Transaction bookkeeping, driven by Tx (app/db/tx.h) only. While a Tx is
  // open, work that must wait for its outcome (the audit log line of the
  // change, DESIGN §9) is queued with after_transaction() and runs once the
  // transaction ends: committed=true after COMMIT, false after ROLLBACK.
  // Outside a transaction it runs at once with committed=true, since
  // autocommit has already committed the statement.
  bool in_transaction() const { return in_transaction_; }
  void after_transaction(std::function<void(bool committed)> fn) override;
  void transaction_began();
  // Never throws: runs the queued work, each item guarded.
  void transaction_ended(bool committed) noexcept;

  static constexpr std::chrono::milliseconds kRetryInterval{250};

 private:
  std::string url_;
  DbOptions options_;
  Backend backend_;
  std::unique_ptr<soci::session> session_;
  std::chrono::steady_clock::time_point last_attempt_{};
  void drop_session() noexcept;
  Preamble take_preamble();

  bool in_transaction_ = false;
  std::vector<std::function<void(bool)>> after_transaction_;
  // PostgreSQL transaction state (see begin()).
  bool begin_queued_ = false;   // a kWrite whose BEGIN has not been sent
  bool explicit_open_ = false;  // BEGIN sent: COMMIT or ROLLBACK owed
  bool tenant_queued_ = false;  // tenant_id_ not yet bound in the explicit transaction
  std::string tenant_id_;       // "" = no tenant
  // Declared after session_: destroyed first (SQLite statements must be
  // finalised before their connection closes).
  std::unique_ptr<PreparedStatements> prepared_;
  std::string last_query_;           // text of the last statement, store or SOCI
  uint64_t round_trips_before_ = 0;  // of earlier connections
  uint64_t transaction_ends_ = 0;    // COMMIT / ROLLBACK sent (PostgreSQL)
  uint64_t soci_statements_ = 0;
};

}  // namespace portcullis
