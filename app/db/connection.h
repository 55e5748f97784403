// Database connections (SOCI). One Db per worker process, opened after
// fork() (SOCI sessions are not shareable across processes). The backend is
// chosen by the URL: sqlite://PATH (sqlite:///abs/path, sqlite://rel/path,
// sqlite://:memory:) or postgresql://… (a libpq URI).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <soci/soci.h>

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
class Db {
 public:
  Db(std::string url, DbOptions options);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The live session. Throws soci::soci_error when (re)connecting fails.
  soci::session& session();
  Backend backend() const { return backend_; }
  // Called after an error that may have been the connection's fault: runs a
  // cheap ping and, if that fails too, drops the session.
  void check_after_error();
  void mark_broken();
  bool connected() const { return session_ != nullptr; }

  static constexpr std::chrono::milliseconds kRetryInterval{250};

 private:
  std::string url_;
  DbOptions options_;
  Backend backend_;
  std::unique_ptr<soci::session> session_;
  std::chrono::steady_clock::time_point last_attempt_{};
};

}  // namespace portcullis
