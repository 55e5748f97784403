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

#include "app/log/transaction_hooks.h"

namespace portcullis {

enum class Backend { kSqlite, kPostgresql };

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
  ~Db() override = default;

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

  // Transaction bookkeeping, driven by Tx (app/db/tx.h) only. While a Tx is
  // open, work that must wait for its outcome (the audit log line of the
  // change, DESIGN §9) is queued with after_transaction() and runs once the
  // transaction ends: committed=true after COMMIT, false after ROLLBACK.
  // Outside a transaction it runs at once with committed=true, since
  // autocommit has already committed the statement.
  bool in_transaction() const { return in_transaction_; }
  // True if `sql` is this Db's live session.
  bool is_session(const soci::session& sql) const override { return session_.get() == &sql; }
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
  bool in_transaction_ = false;
  std::vector<std::function<void(bool)>> after_transaction_;
};

}  // namespace portcullis
