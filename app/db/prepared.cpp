#include "app/db/prepared.h"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>
#include <unordered_map>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace portcullis {

const std::string& Row::text(size_t i) const {
  static const std::string kEmpty;
  const std::optional<std::string>& cell = cells_.at(i);
  return cell ? *cell : kEmpty;
}

int64_t Row::integer(size_t i) const { return optional_integer(i).value_or(0); }

std::optional<int64_t> Row::optional_integer(size_t i) const {
  const std::optional<std::string>& cell = cells_.at(i);
  if (!cell) {
    return std::nullopt;
  }
  int64_t value = 0;
  const char* end = cell->data() + cell->size();
  auto [ptr, ec] = std::from_chars(cell->data(), end, value);
  if (ec != std::errc() || ptr != end) {
    throw std::runtime_error("column " + std::to_string(i) + " is not an integer");
  }
  return value;
}

bool Row::boolean(size_t i) const {
  const std::optional<std::string>& cell = cells_.at(i);
  if (!cell || cell->empty()) {
    return false;
  }
  if (*cell == "t" || *cell == "true") {
    return true;
  }
  if (*cell == "f" || *cell == "false") {
    return false;
  }
  return integer(i) != 0;
}

std::string sqlite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      c = '?';
    }
    out += c;
  }
  return out;
}

namespace {

// ---- PostgreSQL -------------------------------------------------------------

constexpr Statement kBeginStatement{"begin", "BEGIN"};
constexpr Statement kBindTenant{"bind tenant",
                                "SELECT set_config('portcullis.tenant_id', $1, true)"};

class PgStatements final : public PreparedStatements {
 public:
  explicit PgStatements(soci::session& session)
      : conn_(static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_) {}

  Rows run(const Statement& statement,
           const std::vector<Param>& params,
           const Preamble& preamble) override {
    return exchange(&statement, params, preamble);
  }

  void send(const Preamble& preamble) override {
    if (preamble.begin || preamble.tenant_id != nullptr) {
      exchange(nullptr, {}, preamble);
    }
  }

  uint64_t round_trips() const override { return round_trips_; }

 private:
  // One command queued in the pipeline, and what its result means.
  enum class Sent { kPrepare, kPreamble, kStatement };

  // Queues Parse (on first use on this connection) and Bind/Execute.
  void queue(const Statement& statement,
             const std::vector<Param>& params,
             Sent kind,
             std::vector<std::pair<Sent, const Statement*>>& sent) {
    auto [it, inserted] = names_.try_emplace(&statement, std::string());
    if (inserted) {
      it->second = "pc" + std::to_string(names_.size());
    }
    const std::string& name = it->second;
    if (!prepared_.count(&statement)) {
      if (PQsendPrepare(conn_, name.c_str(), statement.text(Backend::kPostgresql), 0, nullptr) !=
          1) {
        fail_connection();
      }
      sent.emplace_back(Sent::kPrepare, &statement);
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      switch (p.kind()) {
        case Param::Kind::kNull:
          break;
        case Param::Kind::kText:
          values[i] = p.text().c_str();
          break;
        case Param::Kind::kInteger:
          texts[i] = std::to_string(p.integer());
          values[i] = texts[i].c_str();
          break;
        case Param::Kind::kBoolean:
          texts[i] = p.integer() != 0 ? "true" : "false";
          values[i] = texts[i].c_str();
          break;
      }
    }
    // Text format both ways; libpq copies the values before returning.
    if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(),
                            nullptr, nullptr, 0) != 1) {
      fail_connection();
    }
    sent.emplace_back(kind, &statement);
  }

  Rows exchange(const Statement* statement,
                const std::vector<Param>& params,
                const Preamble& preamble) {
    if (PQenterPipelineMode(conn_) != 1) {
      fail_connection();
    }
    std::vector<std::pair<Sent, const Statement*>> sent;
    try {
      if (preamble.begin) {
        queue(kBeginStatement, {}, Sent::kPreamble, sent);
      }
      if (preamble.tenant_id != nullptr) {
        queue(kBindTenant, {Param(*preamble.tenant_id)}, Sent::kPreamble, sent);
      }
      if (statement != nullptr) {
        queue(*statement, params, Sent::kStatement, sent);
      }
      if (PQpipelineSync(conn_) != 1) {
        fail_connection();
      }
    } catch (...) {
      abandon();
      throw;
    }
    ++round_trips_;
    Rows rows;
    std::string error_message;
    std::string error_state;
    for (const auto& [kind, st] : sent) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {
        abandon();
        fail_connection();
      }
      ExecStatusType status = PQresultStatus(result);
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (kind == Sent::kPrepare) {
          prepared_.insert({st, true});
        } else if (kind == Sent::kStatement) {
          rows = read(result);
        }
      } else if (status != PGRES_PIPELINE_ABORTED && error_state.empty()) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        error_state = state != nullptr ? state : "XX000";
        const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
        error_message = message != nullptr ? message : PQerrorMessage(conn_);
      }
      PQclear(result);
      // Each command's results end with a null.
      while ((result = PQgetResult(conn_)) != nullptr) {
        PQclear(result);
      }
    }
    PGresult* sync = PQgetResult(conn_);
    bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || PQexitPipelineMode(conn_) != 1) {
      fail_connection();
    }
    if (!error_state.empty()) {
      throw soci::postgresql_soci_error(error_message, error_state.c_str());
    }
    return rows;
  }

  static Rows read(PGresult* result) {
    Rows rows;
    int n = PQntuples(result);
    int columns = PQnfields(result);
    rows.rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) {
      std::vector<std::optional<std::string>> cells(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, r, c) == 0) {
          cells[static_cast<size_t>(c)].emplace(PQgetvalue(result, r, c),
                                                static_cast<size_t>(PQgetlength(result, r, c)));
        }
      }
      rows.rows.emplace_back(std::move(cells));
    }
    const char* affected = PQcmdTuples(result);
    if (affected != nullptr && *affected != '\0') {
      rows.affected = std::stoll(affected);
    }
    return rows;
  }

  // Drains whatever is left of a pipeline after a send failed part-way.
  void abandon() noexcept {
    PQpipelineSync(conn_);
    for (int nulls = 0; nulls < 64;) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        ++nulls;
        if (PQstatus(conn_) == CONNECTION_BAD) {
          break;
        }
        continue;
      }
      bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) {
        break;
      }
    }
    PQexitPipelineMode(conn_);
  }

  [[noreturn]] void fail_connection() {
    // No SQLSTATE: the caller's error path pings and reconnects.
    throw soci::soci_error(std::string("database connection: ") + PQerrorMessage(conn_));
  }

  PGconn* conn_;
  std::unordered_map<const Statement*, std::string> names_;
  std::unordered_map<const Statement*, bool> prepared_;
  uint64_t round_trips_ = 0;
};

// ---- SQLite -----------------------------------------------------------------

// SOCI's header wraps sqlite3.h in this namespace.
using namespace sqlite_api;  // NOLINT(google-build-using-namespace)

class SqliteStatements final : public PreparedStatements {
 public:
  explicit SqliteStatements(soci::session& session)
      : conn_(static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_) {}

  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  ~SqliteStatements() override {
    for (auto& [st, handle] : kept_) {
      sqlite3_finalize(handle);
    }
  }

  Rows run(const Statement& statement,
           const std::vector<Param>& params,
           const Preamble& /*preamble: the Tx began at once; no RLS*/) override {
    sqlite3_stmt* st = prepared(statement);
    // Whatever happens below, the statement is reset and unbound before the
    // call returns: a kept statement that stayed mid-step would hold its read
    // snapshot and block every writer's checkpoint or lock upgrade.
    struct Reset {
      sqlite3_stmt* st;
      ~Reset() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    } reset{st};
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      int index = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      switch (p.kind()) {
        case Param::Kind::kNull:
          rc = sqlite3_bind_null(st, index);
          break;
        case Param::Kind::kText:
          // SQLITE_STATIC: `params` outlives the reset above.
          rc = sqlite3_bind_text(st, index, p.text().data(), static_cast<int>(p.text().size()),
                                 SQLITE_STATIC);
          break;
        case Param::Kind::kInteger:
        case Param::Kind::kBoolean:
          rc = sqlite3_bind_int64(st, index, p.integer());
          break;
      }
      if (rc != SQLITE_OK) {
        fail(statement);
      }
    }
    Rows rows;
    int columns = sqlite3_column_count(st);
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        fail(statement);
      }
      std::vector<std::optional<std::string>> cells(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(st, c) != SQLITE_NULL) {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          cells[static_cast<size_t>(c)].emplace(text != nullptr ? text : "",
                                                static_cast<size_t>(sqlite3_column_bytes(st, c)));
        }
      }
      rows.rows.emplace_back(std::move(cells));
    }
    if (sqlite3_stmt_readonly(st) == 0) {
      rows.affected = sqlite3_changes(conn_);
    }
    return rows;
  }

  void send(const Preamble& /*preamble*/) override {}
  uint64_t round_trips() const override { return 0; }

 private:
  sqlite3_stmt* prepared(const Statement& statement) {
    auto it = kept_.find(&statement);
    if (it != kept_.end()) {
      return it->second;
    }
    std::string text = sqlite_placeholders(statement.text(Backend::kSqlite));
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(conn_, text.c_str(), static_cast<int>(text.size()) + 1,
                           SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      fail(statement);
    }
    kept_.emplace(&statement, st);
    return st;
  }

  [[noreturn]] void fail(const Statement& statement) {
    int code = sqlite3_extended_errcode(conn_);
    throw soci::sqlite3_soci_error(std::string(statement.name()) + ": " + sqlite3_errmsg(conn_),
                                   code);
  }

  sqlite3* conn_;
  std::unordered_map<const Statement*, sqlite3_stmt*> kept_;
};

}  // namespace

std::unique_ptr<PreparedStatements> make_prepared_statements(soci::session& session,
                                                             Backend backend) {
  if (backend == Backend::kPostgresql) {
    return std::make_unique<PgStatements>(session);
  }
  return std::make_unique<SqliteStatements>(session);
}

}  // namespace portcullis
