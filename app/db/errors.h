// What a database error may tell the log and the client. SOCI's what() holds
// the failing SQL and every bound value (password hashes, token hashes, CSRF
// tokens, user text), and PostgreSQL's DETAIL line repeats row values
// ("Key (email)=(…)", "Failing row contains (…)"). Nothing here returns either.
#pragma once

#include <exception>
#include <string>

#include <soci/soci.h>

namespace portcullis {

// True when the database could not give a lock in time: SQLite SQLITE_BUSY /
// SQLITE_LOCKED after the busy timeout; PostgreSQL serialization failure,
// deadlock, lock_not_available or a statement timeout. The request may be
// retried: the mapper answers 503 database_busy with Retry-After.
[[nodiscard]] bool is_busy(const soci::soci_error& e);

// The first line of get_error_message(), with quoted text removed unless it
// names a schema object (constraint, relation, column …), at most 300 bytes.
[[nodiscard]] std::string loggable_message(const soci::soci_error& e);
[[nodiscard]] std::string loggable_message(const std::string& message);

// For a catch-all: loggable_message() for a soci_error, what() otherwise.
[[nodiscard]] std::string loggable_what(const std::exception& e);

// A short name for a statement from its SQL text (placeholders only):
// "insert sessions", "update users", "select memories", "begin".
[[nodiscard]] std::string statement_name(const std::string& sql);

}  // namespace portcullis
