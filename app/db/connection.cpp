#include "app/db/connection.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace portcullis {

Backend backend_of(const std::string& url) {
  return url.rfind("sqlite:", 0) == 0 ? Backend::kSqlite : Backend::kPostgresql;
}

namespace {
std::string sqlite_path(const std::string& url) {
  std::string rest = url.substr(std::string("sqlite:").size());
  if (rest.rfind("//", 0) == 0) {
    rest = rest.substr(2);
  }
  return rest;
}

// SOCI's connect string for sqlite3 is a list of name=value; quote the path.
std::string sqlite_connect_string(const std::string& path, int busy_timeout_ms) {
  std::string quoted = "\"";
  for (char c : path) {
    if (c == '"') {
      quoted += "\\\"";
    } else {
      quoted += c;
    }
  }
  quoted += "\"";
  int seconds = busy_timeout_ms / 1000;
  return "db=" + quoted + " timeout=" + std::to_string(seconds > 0 ? seconds : 1);
}

// A new database file is created 0600 before SQLite opens it, whatever the
// umask (the unit's UMask=0077 covers production only): SQLite gives the
// -wal and -shm files the database file's mode. An existing file keeps its.
void create_private_file(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) {
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
}
}  // namespace

std::unique_ptr<soci::session> open_session(const std::string& url, const DbOptions& options) {
  auto s = std::make_unique<soci::session>();
  if (backend_of(url) == Backend::kSqlite) {
    std::string path = sqlite_path(url);
    create_private_file(path);
    s->open(*soci::factory_sqlite3(), sqlite_connect_string(path, options.busy_timeout_ms));
    *s << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms);
    *s << "PRAGMA foreign_keys = ON";
    std::string mode;
    *s << "PRAGMA journal_mode = WAL", soci::into(mode);
    *s << "PRAGMA synchronous = NORMAL";
  } else {
    s->open(*soci::factory_postgresql(), url);
    *s << "SET statement_timeout = " + std::to_string(options.statement_timeout_ms);
    *s << "SET TIME ZONE 'UTC'";
    // Statements are prepared once per connection (app/db/prepared.cpp) but
    // planned for each execution's values, as when each was prepared anew: a
    // generic plan cannot see which tenant, or how far down a keyset page,
    // and may pick another index for everyone.
    *s << "SET plan_cache_mode = force_custom_plan";
  }
  return s;
}

namespace {
// Every SOCI statement passes here just before it runs: a transaction's
// queued start (PostgreSQL: BEGIN, the tenant binding) is sent first, so SQL
// written with SOCI inside a Tx is always inside it. Also keeps the last
// query's text for error logs (SOCI's own logger, which this replaces, did).
class TransactionLogger final : public soci::logger_impl {
 public:
  explicit TransactionLogger(Db* db) : db_(db) {}
  void start_query(const std::string& query) override { db_->before_soci_statement(query); }
  std::string get_last_query() const override { return db_->last_query(); }

 private:
  soci::logger_impl* do_clone() const override { return new TransactionLogger(db_); }
  Db* db_;
};
}  // namespace

Db::Db(std::string url, DbOptions options)
    : url_(std::move(url)), options_(options), backend_(backend_of(url_)) {}

soci::session& Db::session() {
  if (!session_) {
    auto now = std::chrono::steady_clock::now();
    if (last_attempt_.time_since_epoch().count() != 0 && now - last_attempt_ < kRetryInterval) {
      throw soci::soci_error("database reconnect throttled");
    }
    last_attempt_ = now;
    session_ = open_session(url_, options_);
    session_->set_logger(new TransactionLogger(this));
    prepared_ = make_prepared_statements(*session_, backend_);
  }
  return *session_;
}

Db::~Db() { drop_session(); }

void Db::drop_session() noexcept {
  if (prepared_) {
    round_trips_before_ += prepared_->round_trips();
  }
  prepared_.reset();  // SQLite: finalised while the connection is open
  session_.reset();
  begin_queued_ = false;
  explicit_open_ = false;
  tenant_queued_ = false;
}

void Db::mark_broken() { drop_session(); }

std::string Db::last_query() const { return session_ ? last_query_ : ""; }

Preamble Db::take_preamble() {
  Preamble p;
  if (backend_ != Backend::kPostgresql || !in_transaction_) {
    return p;
  }
  if (begin_queued_) {
    p.begin = true;
    begin_queued_ = false;
    explicit_open_ = true;
  }
  if (!tenant_id_.empty() && (tenant_queued_ || !explicit_open_)) {
    // A read transaction binds the tenant in every statement's own implicit
    // transaction; an explicit one once, after its BEGIN.
    p.tenant_id = &tenant_id_;
    tenant_queued_ = false;
  }
  return p;
}

Rows Db::run(const Statement& statement, const std::vector<Param>& params) {
  session();  // (re)connects
  last_query_ = statement.text(backend_);
  Preamble preamble = take_preamble();
  return prepared_->run(statement, params, preamble);
}

void Db::begin(TxKind kind) {
  soci::session& s = session();
  if (backend_ == Backend::kSqlite) {
    // SOCI's begin() sends a deferred BEGIN; a writer must take the lock up
    // front (app/db/tx.h).
    if (kind == TxKind::kWrite) {
      s << "BEGIN IMMEDIATE";
    } else {
      s.begin();
    }
  } else {
    begin_queued_ = kind == TxKind::kWrite;
    explicit_open_ = false;
  }
  tenant_id_.clear();
  tenant_queued_ = false;
  transaction_began();
}

void Db::bind_tenant(const std::string& tenant_id) {
  tenant_id_ = tenant_id;
  tenant_queued_ = backend_ == Backend::kPostgresql;
}

void Db::before_soci_statement(const std::string& query) {
  last_query_ = query;
  if (backend_ == Backend::kPostgresql) {
    ++soci_statements_;
  }
  if (backend_ != Backend::kPostgresql || !in_transaction_ || !prepared_) {
    return;
  }
  if (!explicit_open_ && !begin_queued_) {
    begin_queued_ = true;  // a read transaction used through SOCI: make it explicit
    tenant_queued_ = !tenant_id_.empty();
  }
  prepared_->send(take_preamble());
}

void Db::commit() {
  if (!session_) {
    throw soci::soci_error("database connection lost inside a transaction");
  }
  if (backend_ == Backend::kSqlite || explicit_open_) {
    session_->commit();
    transaction_ends_ += backend_ == Backend::kPostgresql ? 1 : 0;
  }
  explicit_open_ = false;
  begin_queued_ = false;
  tenant_id_.clear();
  transaction_ended(true);
}

void Db::rollback() noexcept {
  bool owed = backend_ == Backend::kSqlite || explicit_open_;
  explicit_open_ = false;
  begin_queued_ = false;
  tenant_id_.clear();
  if (owed && session_) {
    try {
      transaction_ends_ += backend_ == Backend::kPostgresql ? 1 : 0;
      session_->rollback();
    } catch (...) {
      // The connection is in doubt: the next request reconnects.
      mark_broken();
    }
  }
  transaction_ended(false);
}

void Db::after_transaction(std::function<void(bool committed)> fn) {
  if (!in_transaction_) {
    fn(true);
    return;
  }
  after_transaction_.push_back(std::move(fn));
}

void Db::transaction_began() {
  in_transaction_ = true;
  after_transaction_.clear();
}

void Db::transaction_ended(bool committed) noexcept {
  in_transaction_ = false;
  std::vector<std::function<void(bool)>> pending;
  pending.swap(after_transaction_);
  for (auto& fn : pending) {
    try {
      fn(committed);
    } catch (...) {  // a log line that cannot be written must not end the request
    }
  }
}

void Db::check_after_error() {
  if (!session_) {
    return;
  }
  try {
    int one = 0;
    *session_ << "SELECT 1", soci::into(one);
  } catch (const std::exception&) {
    mark_broken();
  }
}

}  // namespace portcullis
