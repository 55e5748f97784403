// Schema migrations: db/migrations/<backend>/NNNN_name.sql, applied in order,
// each in its own transaction, recorded in schema_migrations with the file's
// SHA-256. A file whose checksum differs from the recorded one stops
// everything (an applied migration must never change). Applying twice is a
// no-op.
//
// SQLite table rebuilds: a file whose first line is kForeignKeysOffMarker runs
// with PRAGMA foreign_keys=OFF, set before its transaction opens (inside one
// the pragma is a no-op, and DROP TABLE of a parent would cascade into its
// children). PRAGMA foreign_key_check runs before the commit; any violation
// rolls the migration back. Foreign keys are on again afterwards either way.
// PostgreSQL alters constraints in place and ignores the marker.
#pragma once

#include <string>
#include <vector>

#include <soci/soci.h>

#include "app/db/connection.h"

namespace portcullis {

inline constexpr const char* kForeignKeysOffMarker = "-- portcullis: foreign_keys=off";

struct MigrationFile {
  std::string version;  // "0001"
  std::string name;     // "0001_init.sql"
  std::string sql;
  std::string checksum;  // sha256 hex of the file content
};

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads <dir>/<sqlite|postgresql>/*.sql sorted by name. Throws MigrationError
// on a file name without a 4-digit version prefix or a duplicate version.
std::vector<MigrationFile> load_migrations(const std::string& dir, Backend backend);

// Splits a script into statements on top-level ';' (outside quotes,
// dollar-quoted bodies and comments). Empty statements are dropped. A CREATE
// TRIGGER statement runs to the ';' after its closing END (so a CASE … END in
// a trigger body must not be directly followed by ';').
std::vector<std::string> split_sql(const std::string& script);

struct MigrateResult {
  std::vector<std::string> applied;  // versions applied now
  int already_applied = 0;
};

// Applies pending migrations. Throws MigrationError when an applied file
// changed, a recorded version has no file or a foreign-keys-off migration
// leaves a violation; soci_error on SQL failure (the failing migration is
// rolled back, earlier ones stay).
MigrateResult migrate(soci::session& db, Backend backend, const std::vector<MigrationFile>& files);

// The default migrations directory: $PORTCULLIS_MIGRATIONS_DIR, else
// <exe>/../share/portcullis/migrations when installed, else db/migrations.
std::string default_migrations_dir(const std::string& configured);

}  // namespace portcullis
