#include "app/db/migrate.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "app/crypto/hash.h"
#include "app/log/logger.h"

namespace portcullis {

std::vector<MigrationFile> load_migrations(const std::string& dir, Backend backend) {
  std::filesystem::path sub =
      std::filesystem::path(dir) / (backend == Backend::kSqlite ? "sqlite" : "postgresql");
  std::error_code ec;
  if (!std::filesystem::is_directory(sub, ec)) {
    throw MigrationError("migrations directory not found: " + sub.string());
  }
  std::vector<MigrationFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(sub)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") {
      continue;
    }
    if (name.size() < 6 || !std::all_of(name.begin(), name.begin() + 4, ::isdigit) ||
        name[4] != '_') {
      throw MigrationError("migration file name must look like NNNN_name.sql: " + name);
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    MigrationFile f{name.substr(0, 4), name, ss.str(), ""};
    f.checksum = sha256_hex(f.sql);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.name < b.name; });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      throw MigrationError("two migrations share version " + files[i].version);
    }
  }
  return files;
}

namespace {
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// True while `statement` is a CREATE [TEMP] TRIGGER whose body has not yet
// reached its closing END: its ';'s separate the body's statements.
bool inside_trigger_body(const std::string& statement) {
  std::istringstream words(upper(statement));
  std::string w1, w2, w3;
  words >> w1 >> w2 >> w3;
  bool trigger = w1 == "CREATE" &&
                 (w2 == "TRIGGER" || ((w2 == "TEMP" || w2 == "TEMPORARY") && w3 == "TRIGGER"));
  if (!trigger) {
    return false;
  }
  size_t e = statement.find_last_not_of(" \t\r\n");
  if (e == std::string::npos || e < 2) {
    return true;
  }
  bool ends_with_end =
      upper(statement.substr(e - 2, 3)) == "END" && (e < 3 || !is_word_char(statement[e - 3]));
  return !ends_with_end;
}
}  // namespace

std::vector<std::string> split_sql(const std::string& script) {
  std::vector<std::string> out;
  std::string current;
  size_t i = 0;
  auto flush = [&]() {
    size_t b = current.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) {
      size_t e = current.find_last_not_of(" \t\r\n");
      out.push_back(current.substr(b, e - b + 1));
    }
    current.clear();
  };
  while (i < script.size()) {
    char c = script[i];
    if (c == '-' && i + 1 < script.size() && script[i + 1] == '-') {
      size_t nl = script.find('\n', i);
      i = nl == std::string::npos ? script.size() : nl;  // drop the comment
      continue;
    }
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      while (end < script.size()) {
        if (script[end] == c) {
          if (end + 1 < script.size() && script[end + 1] == c) {
            end += 2;  // doubled quote
            continue;
          }
          break;
        }
        ++end;
      }
      current.append(script, i, end - i + 1);
      i = end + 1;
      continue;
    }
    if (c == '$') {
      size_t close = script.find('$', i + 1);
      if (close != std::string::npos) {
        std::string tag = script.substr(i, close - i + 1);
        bool is_tag = std::all_of(tag.begin() + 1, tag.end() - 1, [](char t) {
          return std::isalnum(static_cast<unsigned char>(t)) || t == '_';
        });
        if (is_tag) {
          size_t end = script.find(tag, close + 1);
          end = end == std::string::npos ? script.size() : end + tag.size();
          current.append(script, i, end - i);
          i = end;
          continue;
        }
      }
    }
    if (c == ';' && !inside_trigger_body(current)) {
      flush();
      ++i;
      continue;
    }
    current.push_back(c);
    ++i;
  }
  flush();
  return out;
}

namespace {
void ensure_table(soci::session& db, Backend backend) {
  if (backend == Backend::kPostgresql) {
    db << "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())";
  } else {
    db << "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version TEXT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
          "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))";
  }
}

// PRAGMA foreign_keys=OFF for one migration, set outside its transaction;
// back ON when the migration is done, committed or rolled back.
class ForeignKeysOff {
 public:
  ForeignKeysOff(soci::session& db, bool active) : db_(db), active_(active) {
    if (active_) {
      db_ << "PRAGMA foreign_keys = OFF";
      int on = 1;
      db_ << "PRAGMA foreign_keys", soci::into(on);
      if (on != 0) {
        throw MigrationError("could not turn foreign keys off (inside a transaction?)");
      }
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;
  ~ForeignKeysOff() {
    if (active_) {
      try {
        db_ << "PRAGMA foreign_keys = ON";
      } catch (const std::exception&) {
        log_event(Level::kError, "db.migration_foreign_keys",
                  "foreign keys could not be turned back on; reopen the connection");
      }
    }
  }

 private:
  soci::session& db_;
  bool active_;
};

// Any row that PRAGMA foreign_key_check reports fails the migration.
void check_foreign_keys(soci::session& db, const std::string& name) {
  soci::rowset<soci::row> rows = (db.prepare << "PRAGMA foreign_key_check");
  long long violations = 0;
  std::string first;
  for (const soci::row& r : rows) {
    if (violations++ == 0) {
      first = r.get<std::string>(0) + " -> " + r.get<std::string>(2);
    }
  }
  if (violations > 0) {
    throw MigrationError("migration " + name + " leaves " + std::to_string(violations) +
                         " foreign key violation(s), first in " + first +
                         "; rolled back, nothing changed");
  }
}
}  // namespace

MigrateResult migrate(soci::session& db, Backend backend, const std::vector<MigrationFile>& files) {
  ensure_table(db, backend);
  if (backend == Backend::kPostgresql) {
    // One migrator at a time across machines.
    db << "SELECT pg_advisory_lock(7231001)";
  }
  MigrateResult result;
  try {
    std::map<std::string, std::string> applied;
    {
      soci::rowset<soci::row> rows =
          (db.prepare << "SELECT version, checksum FROM schema_migrations");
      for (const soci::row& r : rows) {
        applied[r.get<std::string>(0)] = r.get<std::string>(1);
      }
    }
    for (const auto& [version, checksum] : applied) {
      bool present = std::any_of(files.begin(), files.end(),
                                 [&](const MigrationFile& f) { return f.version == version; });
      if (!present) {
        throw MigrationError("migration " + version +
                             " is recorded as applied but its file is missing");
      }
    }
    for (const MigrationFile& f : files) {
      auto it = applied.find(f.version);
      if (it != applied.end()) {
        if (it->second != f.checksum) {
          throw MigrationError("migration " + f.name +
                               " changed after it was applied (checksum differs); restore the "
                               "original file and add a new migration instead");
        }
        ++result.already_applied;
        continue;
      }
      bool foreign_keys_off =
          backend == Backend::kSqlite && f.sql.rfind(kForeignKeysOffMarker, 0) == 0;
      ForeignKeysOff guard(db, foreign_keys_off);
      soci::transaction tx(db);
      for (const std::string& statement : split_sql(f.sql)) {
        db << statement;
      }
      if (foreign_keys_off) {
        check_foreign_keys(db, f.name);
      }
      std::string version = f.version;
      std::string name = f.name;
      std::string checksum = f.checksum;
      db << "INSERT INTO schema_migrations (version, name, checksum) VALUES (:v, :n, :c)",
          soci::use(version), soci::use(name), soci::use(checksum);
      tx.commit();
      result.applied.push_back(f.version);
      LogRecord r;
      r.event = "db.migration_applied";
      r.outcome = "success";
      r.target_type = "migration";
      r.target_id = f.name;
      log_record(Level::kInfo, r);
    }
  } catch (...) {
    if (backend == Backend::kPostgresql) {
      try {
        db << "SELECT pg_advisory_unlock(7231001)";
      } catch (...) {
      }
    }
    throw;
  }
  if (backend == Backend::kPostgresql) {
    db << "SELECT pg_advisory_unlock(7231001)";
  }
  return result;
}

std::string default_migrations_dir(const std::string& configured) {
  if (!configured.empty()) {
    return configured;
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed =
        exe.parent_path().parent_path() / "share/portcullis/migrations";
    if (std::filesystem::is_directory(installed, ec)) {
      return installed.string();
    }
    // Build tree: <repo>/build*/portcullis → <repo>/db/migrations
    std::filesystem::path repo = exe.parent_path().parent_path() / "db/migrations";
    if (std::filesystem::is_directory(repo, ec)) {
      return repo.string();
    }
  }
  return "db/migrations";
}

}  // namespace portcullis
