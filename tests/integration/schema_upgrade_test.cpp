// Issue #9 item 19 (TEN-2): composite foreign keys. A database migrated to
// the version before them (0005), with data in every table, is migrated to
// the latest: nothing is lost, a cross-tenant reference is then refused by
// the database itself, and an ON DELETE SET NULL reference nulls only its own
// column (never tenant_id). On both backends: SQLite in a private file under
// PORTCULLIS_TEST_DIR, PostgreSQL in the scratch database run.sh creates for
// this (PORTCULLIS_TEST_SCRATCH_DB_URL, as the schema owner), not the
// database the running server uses.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/db/migrate.h"

namespace portcullis::testing {
namespace {

constexpr const char* kLastVersionBeforeCompositeKeys = "0005";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// SOCI's placeholders are named: each '?' in sql becomes :p1, :p2, …
std::string placeholders(const std::string& sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += ":p" + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// Runs sql with positional string binds; NULL for a bind equal to kNull.
const std::string kNull = "\x01NULL";
void exec(soci::session& s, const std::string& sql, std::vector<std::string> params = {}) {
  soci::statement st(s);
  std::vector<soci::indicator> inds(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    inds[i] = params[i] == kNull ? soci::i_null : soci::i_ok;
    st.exchange(soci::use(params[i], inds[i]));
  }
  st.alloc();
  st.prepare(placeholders(sql));
  st.define_and_bind();
  st.execute(true);
}

long long count_of(soci::session& s, const std::string& sql, std::vector<std::string> params = {}) {
  long long n = -1;
  soci::statement st(s);
  st.exchange(soci::into(n));
  for (std::string& p : params) {
    st.exchange(soci::use(p));
  }
  st.alloc();
  st.prepare(placeholders(sql));
  st.define_and_bind();
  st.execute(true);
  return n;
}

std::string error_of(soci::session& s,
                     const std::string& sql,
                     const std::vector<std::string>& params) {
  try {
    soci::transaction tx(s);
    exec(s, sql, params);
    tx.rollback();
  } catch (const soci::soci_error& e) {
    return e.what();
  }
  return "";
}

// A UUID-shaped id (valid for PostgreSQL's uuid and SQLite's TEXT).
std::string new_id() {
  std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

class SchemaUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("PORTCULLIS_TEST_BACKEND").empty() || env("PORTCULLIS_TEST_MIGRATIONS_DIR").empty()) {
      GTEST_SKIP() << "run through tests/integration/run.sh";
    }
    postgres_ = env("PORTCULLIS_TEST_BACKEND") == "postgresql";
    backend_ = postgres_ ? Backend::kPostgresql : Backend::kSqlite;
    std::string url;
    if (postgres_) {
      url = env("PORTCULLIS_TEST_SCRATCH_DB_URL");
      ASSERT_FALSE(url.empty()) << "run.sh sets PORTCULLIS_TEST_SCRATCH_DB_URL";
    } else {
      url = "sqlite://" + env("PORTCULLIS_TEST_DIR") + "/upgrade-" + random_hex(4) + ".db";
    }
    DbOptions options;
    options.statement_timeout_ms = 60000;
    db_ = open_session(url, options);
    if (postgres_) {
      // A clean schema each time (the scratch database belongs to the owner).
      *db_ << "DROP SCHEMA IF EXISTS public CASCADE";
      *db_ << "CREATE SCHEMA public";
    }
    all_ = load_migrations(env("PORTCULLIS_TEST_MIGRATIONS_DIR"), backend_);
  }

  void migrate_up_to(const std::string& last_version) {
    std::vector<MigrationFile> files;
    for (const MigrationFile& f : all_) {
      if (f.version <= last_version) {
        files.push_back(f);
      }
    }
    migrate(*db_, backend_, files);
  }

  std::vector<std::string> tables() {
    std::vector<std::string> names;
    std::string sql = postgres_ ? "SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                                  "ORDER BY table_name"
                                : "SELECT name FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%' ORDER BY name";
    soci::rowset<std::string> rows = (db_->prepare << sql);
    for (const std::string& n : rows) {
      names.push_back(n);
    }
    return names;
  }

  std::map<std::string, long long> row_counts() {
    std::map<std::string, long long> counts;
    for (const std::string& t : tables()) {
      if (t == "schema_migrations") {
        continue;  // grows by the migrations applied
      }
      // t comes from the catalogue, not from input.
      counts[t] = count_of(*db_, "SELECT COUNT(*) FROM \"" + t + "\"");
    }
    return counts;
  }

  struct Tenant {
    std::string id, user, admin, context, memory;
  };

  // One tenant with a row in every tenant table; `now` is an RFC 3339 string.
  Tenant seed_tenant(const std::string& label) {
    const std::string now = "2026-11-30T12:00:00.000Z";
    const std::string later = "2026-12-30T12:00:00.000Z";
    Tenant t{new_id(), new_id(), new_id(), new_id(), new_id()};
    exec(*db_, "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
         {t.id, "Upgrade " + label, now, now});
    for (const auto& [uid, role] :
         std::vector<std::pair<std::string, std::string>>{{t.admin, "owner"}, {t.user, "member"}}) {
      exec(*db_,
           "INSERT INTO users (id, tenant_id, email, display_name, password_hash, role, "
           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           {uid, t.id, "upgrade-" + random_hex(6) + "@example.test", "U " + label,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", role, now, now});
    }
    exec(*db_,
         "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
         "created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, 'full', ?, ?, ?, ?)",
         {new_id(), random_hex(32), t.user, t.id, random_hex(16), now, now, later});
    exec(*db_,
         "INSERT INTO backup_codes (id, user_id, tenant_id, code_hash, created_at) "
         "VALUES (?, ?, ?, ?, ?)",
         {new_id(), t.user, t.id, random_hex(32), now});
    exec(*db_,
         "INSERT INTO contexts (id, tenant_id, name, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?)",
         {t.context, t.id, "ctx " + label, now, now});
    exec(*db_,
         "INSERT INTO memories (id, tenant_id, context_id, title, content_enc, created_by, "
         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         {t.memory, t.id, t.context, "title", "v1.k1.AAAA", t.user, now, now});
    exec(*db_, "INSERT INTO memory_tags (memory_id, tenant_id, tag) VALUES (?, ?, ?)",
         {t.memory, t.id, "tag-" + label});
    exec(*db_,
         "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, "
         "created_at, expires_at) VALUES (?, ?, ?, 'member', ?, ?, ?, ?)",
         {new_id(), t.id, "invitee-" + random_hex(6) + "@example.test", random_hex(32), t.user, now,
          later});
    exec(*db_,
         "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome) "
         "VALUES (?, ?, ?, ?, 'test.upgrade', 'success')",
         {new_id(), now, t.id, t.user});
    exec(*db_,
         "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome) "
         "VALUES (?, ?, ?, ?, 'test.upgrade', 'failure')",
         {new_id(), now, kNull, kNull});
    exec(*db_, "INSERT INTO auth_throttle (key, failures, window_start) VALUES (?, 1, ?)",
         {"email:upgrade-" + random_hex(6) + "@example.test", now});
    return t;
  }

  bool postgres_ = false;
  Backend backend_ = Backend::kSqlite;
  std::unique_ptr<soci::session> db_;
  std::vector<MigrationFile> all_;
};

// #9 item 19: nothing is lost (the SQLite rebuild with foreign keys left on
// cascaded DROP TABLE memories into memory_tags), and afterwards the database
// refuses every cross-tenant reference.
TEST_F(SchemaUpgradeTest, TEN_2_UpgradeKeepsEveryRowAndRefusesCrossTenantReferences) {
  migrate_up_to(kLastVersionBeforeCompositeKeys);
  Tenant a = seed_tenant("a");
  Tenant b = seed_tenant("b");
  std::map<std::string, long long> before = row_counts();
  for (const auto& [table, n] : before) {
    EXPECT_GT(n, 0) << "no seed data in " << table << "; seed every table";
  }

  migrate_up_to("9999");
  // Every table that existed keeps every row; tables the later migrations add
  // (e.g. 0007's outbox) start empty.
  std::map<std::string, long long> after = row_counts();
  for (const auto& [table, n] : after) {
    if (before.count(table) == 0) {
      EXPECT_EQ(n, 0) << table;
    }
  }
  std::erase_if(after, [&](const auto& kv) { return before.count(kv.first) == 0; });
  EXPECT_EQ(after, before);

  const std::string now = "2026-11-30T12:00:00.000Z";
  // Tenant b's rows pointing at tenant a's: each refused by a foreign key.
  struct Case {
    const char* what;
    std::string sql;
    std::vector<std::string> params;
  };
  std::vector<Case> cases = {
      {"memory -> other tenant's context",
       "INSERT INTO memories (id, tenant_id, context_id, title, content_enc, created_at, "
       "updated_at) VALUES (?, ?, ?, 't', 'v1.k1.AAAA', ?, ?)",
       {new_id(), b.id, a.context, now, now}},
      {"memory created_by -> other tenant's user",
       "INSERT INTO memories (id, tenant_id, title, content_enc, created_by, created_at, "
       "updated_at) VALUES (?, ?, 't', 'v1.k1.AAAA', ?, ?, ?)",
       {new_id(), b.id, a.user, now, now}},
      {"memory moved to other tenant's context",
       "UPDATE memories SET context_id = ? WHERE id = ?",
       {a.context, b.memory}},
      {"tag -> other tenant's memory",
       "INSERT INTO memory_tags (memory_id, tenant_id, tag) VALUES (?, ?, 'x')",
       {a.memory, b.id}},
      {"session -> other tenant's user",
       "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
       "created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, 'full', 'c', ?, ?, ?)",
       {new_id(), random_hex(32), a.user, b.id, now, now, now}},
      {"backup code -> other tenant's user",
       "INSERT INTO backup_codes (id, user_id, tenant_id, code_hash, created_at) "
       "VALUES (?, ?, ?, ?, ?)",
       {new_id(), a.user, b.id, random_hex(32), now}},
      {"invitation invited_by -> other tenant's user",
       "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, "
       "expires_at) VALUES (?, ?, 'x@example.test', 'member', ?, ?, ?, ?)",
       {new_id(), b.id, random_hex(32), a.user, now, now}},
      {"audit event -> other tenant's user",
       "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome) "
       "VALUES (?, ?, ?, ?, 'x', 'success')",
       {new_id(), now, b.id, a.user}},
  };
  for (const Case& c : cases) {
    std::string error = error_of(*db_, c.sql, c.params);
    EXPECT_THAT(error, ::testing::AnyOf(::testing::HasSubstr("FOREIGN KEY constraint failed"),
                                        ::testing::HasSubstr("violates foreign key constraint")))
        << c.what;
  }
  // The same rows inside their own tenant are accepted (the refusals above
  // are about the tenant, not the statements).
  EXPECT_EQ(error_of(*db_, cases[0].sql, {new_id(), a.id, a.context, now, now}), "");
  EXPECT_EQ(error_of(*db_, cases[3].sql, {b.memory, b.id}), "");

  // Deleting a user nulls only the referencing column; tenant_id stays.
  exec(*db_, "DELETE FROM users WHERE id = ?", {a.user});
  EXPECT_EQ(count_of(*db_,
                     "SELECT COUNT(*) FROM memories WHERE id = ? AND tenant_id = ? "
                     "AND created_by IS NULL",
                     {a.memory, a.id}),
            1);
  EXPECT_EQ(
      count_of(*db_, "SELECT COUNT(*) FROM invitations WHERE tenant_id = ? AND invited_by IS NULL",
               {a.id}),
      1);
  EXPECT_EQ(count_of(*db_,
                     "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ? AND user_id IS NULL "
                     "AND event = 'test.upgrade'",
                     {a.id}),
            1);
  // … and cascades where it did before.
  EXPECT_EQ(count_of(*db_, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", {a.user}), 0);
  EXPECT_EQ(count_of(*db_, "SELECT COUNT(*) FROM backup_codes WHERE user_id = ?", {a.user}), 0);
  // Deleting a context still takes its memories and their tags with it.
  exec(*db_, "DELETE FROM contexts WHERE id = ?", {b.context});
  EXPECT_EQ(count_of(*db_, "SELECT COUNT(*) FROM memory_tags WHERE memory_id = ?", {b.memory}), 0);

  // Deleting a whole tenant still works through both kinds of reference;
  // its audit rows stay, detached from it.
  exec(*db_, "DELETE FROM tenants WHERE id = ?", {b.id});
  for (const char* table : {"users", "sessions", "memories", "memory_tags", "invitations",
                            "backup_codes", "contexts"}) {
    EXPECT_EQ(count_of(*db_, std::string("SELECT COUNT(*) FROM ") + table + " WHERE tenant_id = ?",
                       {b.id}),
              0)
        << table;
  }
  EXPECT_EQ(count_of(*db_, "SELECT COUNT(*) FROM audit_events WHERE tenant_id IS NULL"), 3);

  if (!postgres_) {
    int fk = 0;
    *db_ << "PRAGMA foreign_keys", soci::into(fk);
    EXPECT_EQ(fk, 1) << "the migrator left foreign keys off";
  }
}

}  // namespace
}  // namespace portcullis::testing
