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
