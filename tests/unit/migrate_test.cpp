#include "app/db/migrate.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/db/connection.h"

namespace portcullis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SplitSqlTest, SplitsOnTopLevelSemicolonsOnly) {
  auto parts = split_sql(
      "CREATE TABLE a (x text DEFAULT 'a;b'); -- c;d\n"
      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"
      "INSERT INTO a VALUES ('it''s;');  ;\n");
  EXPECT_THAT(parts, ElementsAre("CREATE TABLE a (x text DEFAULT 'a;b')",
                                 "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                                 "INSERT INTO a VALUES ('it''s;')"));
}

TEST(SplitSqlTest, KeepsATriggerBodyWholeUpToItsEnd) {
  auto parts = split_sql(
      "CREATE TABLE t (x TEXT);\n"
      "CREATE TRIGGER t_del BEFORE DELETE ON t BEGIN\n"
      "  UPDATE t SET x = 'end;' WHERE x = OLD.x;\n"
      "  DELETE FROM t WHERE x = 'backend';\n"
      "END;\n"
      "create temp trigger t_ins after insert on t begin select 1; end;\n"
      "SELECT 2;");
  EXPECT_THAT(parts, ElementsAre("CREATE TABLE t (x TEXT)",
                                 "CREATE TRIGGER t_del BEFORE DELETE ON t BEGIN\n"
                                 "  UPDATE t SET x = 'end;' WHERE x = OLD.x;\n"
                                 "  DELETE FROM t WHERE x = 'backend';\n"
                                 "END",
                                 "create temp trigger t_ins after insert on t begin select 1; end",
                                 "SELECT 2"));
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portcullis-migrate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "sqlite");
    write("0001_first.sql", "CREATE TABLE one (id INTEGER PRIMARY KEY);");
    write("0002_second.sql",
          "CREATE TABLE two (id INTEGER PRIMARY KEY); INSERT INTO two VALUES (1);");
    db_ = open_session("sqlite://:memory:", DbOptions{});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& sql) {
    std::ofstream(dir_ / "sqlite" / name) << sql;
  }
  MigrateResult run() {
    return migrate(*db_, Backend::kSqlite, load_migrations(dir_.string(), Backend::kSqlite));
  }

  std::filesystem::path dir_;
  std::unique_ptr<soci::session> db_;
};

TEST_F(MigrateTest, AppliesInOrderAndTwiceIsANoOp) {
  MigrateResult first = run();
  EXPECT_THAT(first.applied, ElementsAre("0001", "0002"));
  MigrateResult second = run();
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, 2);
  int rows = 0;
  *db_ << "SELECT COUNT(*) FROM two", soci::into(rows);
  EXPECT_EQ(rows, 1);  // the INSERT ran once
}

TEST_F(MigrateTest, RefusesWhenAnAppliedFileChanged) {
  run();
  write("0001_first.sql", "CREATE TABLE one (id INTEGER PRIMARY KEY, extra TEXT);");
  try {
    run();
    FAIL() << "a changed migration was accepted";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("0001_first.sql changed"));
  }
}

TEST_F(MigrateTest, FailedMigrationRollsBackAndKeepsEarlierOnes) {
  write("0003_broken.sql", "CREATE TABLE three (id INTEGER); THIS IS NOT SQL;");
  EXPECT_ANY_THROW(run());
  int recorded = 0;
  *db_ << "SELECT COUNT(*) FROM schema_migrations", soci::into(recorded);
  EXPECT_EQ(recorded, 2);
  int tables = 0;
  *db_ << "SELECT COUNT(*) FROM sqlite_master WHERE name = 'three'", soci::into(tables);
  EXPECT_EQ(tables, 0);
}

// #9 item 19: a SQLite table rebuild (create, copy, drop, rename) of a
// parent table. The child table has rows that reference the parent.
constexpr const char* kParentChild =
    "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
    "CREATE TABLE child (id INTEGER PRIMARY KEY,"
    "  parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);"
    "INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (10, 1), (20, 2);";
constexpr const char* kRebuildParent =
    "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, note TEXT);"
    "INSERT INTO parent_new (id) SELECT id FROM parent;"
    "DROP TABLE parent;"
    "ALTER TABLE parent_new RENAME TO parent;";

// Why the mode exists: with foreign keys on (the connection's default) the
// pragma is a no-op inside the migration's transaction and DROP TABLE
// cascades into the child table.
TEST_F(MigrateTest, RebuildWithoutTheMarkerLosesChildRows) {
  write("0003_parent_child.sql", kParentChild);
  write("0004_rebuild.sql", std::string("PRAGMA foreign_keys = OFF;") + kRebuildParent);
  run();
  int children = -1;
  *db_ << "SELECT COUNT(*) FROM child", soci::into(children);
  EXPECT_EQ(children, 0);
}

TEST_F(MigrateTest, ForeignKeysOffMarkerRebuildsWithoutLosingChildRows) {
  write("0003_parent_child.sql", kParentChild);
  write("0004_rebuild.sql", std::string(kForeignKeysOffMarker) + "\n" + kRebuildParent);
  MigrateResult result = run();
  EXPECT_THAT(result.applied, ElementsAre("0001", "0002", "0003", "0004"));
  int children = -1;
  *db_ << "SELECT COUNT(*) FROM child", soci::into(children);
  EXPECT_EQ(children, 2);
  int fk = 0;
  *db_ << "PRAGMA foreign_keys", soci::into(fk);
  EXPECT_EQ(fk, 1) << "foreign keys must be on again after the migration";
  // And they are enforced again.
  EXPECT_ANY_THROW((*db_ << "INSERT INTO child VALUES (30, 99)"));
}

TEST_F(MigrateTest, ForeignKeysOffMigrationThatLeavesAViolationRollsBack) {
  write("0003_parent_child.sql", kParentChild);
  write("0004_orphan.sql", std::string(kForeignKeysOffMarker) + "\n" + kRebuildParent +
                               "DELETE FROM parent WHERE id = 2;");
  try {
    run();
    FAIL() << "a migration leaving an orphan row was accepted";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("foreign key violation"));
  }
  int parents = -1;
  int recorded = -1;
  int note_columns = -1;
  *db_ << "SELECT COUNT(*) FROM parent", soci::into(parents);
  *db_ << "SELECT COUNT(*) FROM schema_migrations", soci::into(recorded);
  *db_ << "SELECT COUNT(*) FROM pragma_table_info('parent') WHERE name = 'note'",
      soci::into(note_columns);
  EXPECT_EQ(parents, 2);
  EXPECT_EQ(recorded, 3);
  EXPECT_EQ(note_columns, 0) << "the rebuild was not rolled back";
  int fk = 0;
  *db_ << "PRAGMA foreign_keys", soci::into(fk);
  EXPECT_EQ(fk, 1);
}

TEST_F(MigrateTest, ProductMigrationsApplyOnSqlite) {
  auto files =
      load_migrations(std::string(PORTCULLIS_SOURCE_DIR) + "/db/migrations", Backend::kSqlite);
  ASSERT_FALSE(files.empty());
  migrate(*db_, Backend::kSqlite, files);
  for (const char* table : {"tenants", "users", "sessions", "audit_events", "auth_throttle"}) {
    int n = 0;
    std::string name = table;
    *db_ << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :n",
        soci::use(name), soci::into(n);
    EXPECT_EQ(n, 1) << table;
  }
  int fk = 0;
  *db_ << "PRAGMA foreign_keys", soci::into(fk);
  EXPECT_EQ(fk, 1);
}

}  // namespace
}  // namespace portcullis
