// Statements prepared once per connection. The store declares each SQL text
// once, as a Statement constant; the first run on a connection prepares it
// and every later run on that connection reuses it, for the worker's life:
//   PostgreSQL: a named prepared statement, parsed in the same round trip as
//     its first execution (libpq pipeline mode); never deallocated.
//   SQLite: sqlite3_prepare_v3(SQLITE_PREPARE_PERSISTENT), reset and its
//     bindings cleared after every use, so a kept statement never holds a
//     read snapshot (or the write lock) past the call that used it.
// SOCI stays the connection and general query layer: the statements run on
// the native handle of the connection SOCI opened.
//
// Parameters are written $1..$n (PostgreSQL's syntax); for SQLite they are
// rewritten ?1..?n when prepared. All values travel as text on PostgreSQL,
// as SOCI sent them, so the server infers each parameter's type from the
// statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis {

enum class Backend { kSqlite, kPostgresql };

// True if `sql` mentions the parameter $n (and not only $n0, $n1, …).
consteval bool mentions_parameter(std::string_view sql, char n) {
  for (size_t i = 0; i + 1 < sql.size(); ++i) {
    if (sql[i] == '$' && sql[i + 1] == n &&
        (i + 2 >= sql.size() || sql[i + 2] < '0' || sql[i + 2] > '9')) {
      return true;
    }
  }
  return false;
}

// One SQL statement of the store. Declare as `constexpr Statement kX{…}` at
// namespace scope: its address identifies it in each connection's cache.
class Statement {
 public:
  // The same text on both backends.
  consteval Statement(const char* name, const char* sql)
      : name_(name), postgresql_(sql), sqlite_(sql) {}
  // Backend-specific texts (e.g. a SECURITY DEFINER function on PostgreSQL).
  consteval Statement(const char* name, const char* postgresql, const char* sqlite)
      : name_(name), postgresql_(postgresql), sqlite_(sqlite) {}

  const char* name() const { return name_; }
  const char* text(Backend backend) const {
    return backend == Backend::kPostgresql ? postgresql_ : sqlite_;
  }

 private:
  const char* name_;
  const char* postgresql_;
  const char* sqlite_;
};

// A statement on tenant data: $1 is the tenant id, bound by the TenantTx that
// runs it (from the principal), never by the caller. Checked at compile time:
// a TenantStatement whose texts do not use $1 does not build.
class TenantStatement {
 public:
  consteval TenantStatement(const char* name, const char* sql) : TenantStatement(name, sql, sql) {}
  consteval TenantStatement(const char* name, const char* postgresql, const char* sqlite)
      : statement_(name, postgresql, sqlite) {
    if (!mentions_parameter(postgresql, '1') || !mentions_parameter(sqlite, '1')) {
      throw "a tenant statement binds the tenant id as $1";  // not a constant expression: no build
    }
  }
  const Statement& statement() const { return statement_; }

 private:
  Statement statement_;
};

// A bound value: NULL, text, integer or boolean.
class Param {
 public:
  enum class Kind { kNull, kText, kInteger, kBoolean };

  Param(std::nullopt_t) : kind_(Kind::kNull) {}  // NOLINT: implicit by design
  Param(std::string text) : kind_(Kind::kText), text_(std::move(text)) {}  // NOLINT
  Param(const char* text) : kind_(Kind::kText), text_(text) {}             // NOLINT
  Param(std::string_view text) : kind_(Kind::kText), text_(text) {}        // NOLINT
  Param(int64_t value) : kind_(Kind::kInteger), integer_(value) {}         // NOLINT
  Param(int value) : kind_(Kind::kInteger), integer_(value) {}             // NOLINT
  Param(bool value) : kind_(Kind::kBoolean), integer_(value ? 1 : 0) {}    // NOLINT
  Param(const std::optional<std::string>& text)                            // NOLINT
      : kind_(text ? Kind::kText : Kind::kNull), text_(text.value_or("")) {}
  Param(const std::optional<int64_t>& value)  // NOLINT
      : kind_(value ? Kind::kInteger : Kind::kNull), integer_(value.value_or(0)) {}

  Kind kind() const { return kind_; }
  const std::string& text() const { return text_; }
  int64_t integer() const { return integer_; }

 private:
  Kind kind_;
  std::string text_;
  int64_t integer_ = 0;
};

// One result row; columns by position. Integers and booleans are read from
// their text form (PostgreSQL's text format; SQLite's column text).
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool is_null(size_t i) const { return !cells_.at(i).has_value(); }
  // "" when NULL.
  const std::string& text(size_t i) const;
  const std::optional<std::string>& optional_text(size_t i) const { return cells_.at(i); }
  // 0 when NULL. Throws std::runtime_error when the column is not an integer.
  int64_t integer(size_t i) const;
  std::optional<int64_t> optional_integer(size_t i) const;
  // true for PostgreSQL's t/true and SQLite's non-zero integers.
  bool boolean(size_t i) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};

struct Rows {
  std::vector<Row> rows;
  int64_t affected = 0;  // rows changed by an INSERT, UPDATE or DELETE

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  const Row& operator[](size_t i) const { return rows.at(i); }
  std::vector<Row>::const_iterator begin() const { return rows.begin(); }
  std::vector<Row>::const_iterator end() const { return rows.end(); }
  std::optional<Row> first() const {
    return rows.empty() ? std::nullopt : std::optional<Row>(rows.front());
  }
};

// The SQLite text of a statement: $n → ?n outside quotes.
std::string sqlite_placeholders(std::string_view sql);

}  // namespace portcullis
