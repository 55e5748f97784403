// #9 items 3, 4 and 18 without nginx: write transactions on a real SQLite
// file (BEGIN IMMEDIATE, the busy timeout, 503 database_busy), what a
// database error may put in the log, and audit log lines after the commit.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <soci/postgresql/soci-postgresql.h>

#include "app/db/connection.h"
#include "app/db/errors.h"
#include "app/db/migrate.h"
#include "app/db/tx.h"
#include "app/http/dispatch.h"
#include "app/log/audit.h"
#include "app/store/audit.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SqliteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portcullis-db-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    url_ = "sqlite://" + dir_ + "/test.db";
    auto s = open_session(url_, DbOptions{});
    *s << "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)";
    *s << "INSERT INTO counter (id, n) VALUES (1, 0)";
    *s << "CREATE TABLE secrets (id INTEGER PRIMARY KEY, token TEXT NOT NULL, owner TEXT NOT NULL)";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static DbOptions busy_ms(int ms) {
    DbOptions o;
    o.busy_timeout_ms = ms;
    return o;
  }

  std::string dir_;
  std::string url_;
};

// Read, then write what was read: the pattern of every PATCH. With a plain
// (deferred) BEGIN, a transaction whose snapshot another writer has moved
// past gets SQLITE_BUSY at once, without waiting. A write Tx takes the lock
// first and waits for it, so all commit and no increment is lost.
TEST_F(SqliteFileTest, Item3_ReadThenWriteTransactionsInParallelAllCommit) {
  constexpr int kThreads = 4;
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Db db(url_, DbOptions{});
      for (int i = 0; i < kEach; ++i) {
        try {
          Tx tx(db);
          int n = 0;
          tx.sql() << "SELECT n FROM counter WHERE id = 1", soci::into(n);
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          tx.sql() << "UPDATE counter SET n = :n WHERE id = 1", soci::use(n + 1);
          tx.commit();
        } catch (const soci::soci_error&) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  Db db(url_, DbOptions{});
  int n = 0;
  db.session() << "SELECT n FROM counter WHERE id = 1", soci::into(n);
  EXPECT_EQ(n, kThreads * kEach);
}

// A writer waits for the lock up to the busy timeout, then gives up with an
// error that is_busy() knows, which the mapper answers with 503
// database_busy, Retry-After and the envelope (never 500). Readers are not
// held up by the writer (WAL).
TEST_F(SqliteFileTest, Item3_LockHeldPastTheBusyTimeoutIs503DatabaseBusy) {
  Db holder(url_, DbOptions{});
  Db waiter(url_, busy_ms(200));
  std::exception_ptr error;
  {
    Tx held(holder);
    held.sql() << "UPDATE counter SET n = 41 WHERE id = 1";
    auto start = std::chrono::steady_clock::now();
    try {
      Tx blocked(waiter);
      FAIL() << "the write lock was granted twice";
    } catch (const soci::soci_error& e) {
      EXPECT_TRUE(is_busy(e)) << e.get_error_message();
      error = std::current_exception();
    }
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, std::chrono::milliseconds(150));  // it did wait on the timeout
    EXPECT_FALSE(waiter.in_transaction());
    {
      Tx read(waiter, TxKind::kRead);
      int n = -1;
      read.sql() << "SELECT n FROM counter WHERE id = 1", soci::into(n);
      EXPECT_EQ(n, 0);  // the holder's change is not committed yet
      read.commit();
    }
    held.commit();
  }
  ASSERT_TRUE(error);
  Request request;
  request.request_id = "req-busy";
  Response r = to_error_response(error, request, &waiter);
  EXPECT_EQ(r.status, 503);
  ASSERT_NE(r.find_header("Retry-After"), nullptr);
  EXPECT_EQ(*r.find_header("Retry-After"), "1");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  EXPECT_STREQ(d["error"]["code"].GetString(), "database_busy");
  EXPECT_STREQ(d["error"]["request_id"].GetString(), "req-busy");

  // Once the lock is free the same connection writes again.
  Tx again(waiter);
  again.sql() << "UPDATE counter SET n = 42 WHERE id = 1";
  again.commit();
}

// A lock released within the busy timeout is waited for, not refused.
TEST_F(SqliteFileTest, Item3_WriterWaitsForALockReleasedInsideTheTimeout) {
  Db holder(url_, DbOptions{});
  std::atomic<bool> locked{false};
  std::thread t([&] {
    Tx held(holder);
    held.sql() << "UPDATE counter SET n = n + 1 WHERE id = 1";
    locked = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    held.commit();
  });
  while (!locked) {
    std::this_thread::yield();
  }
  Db waiter(url_, busy_ms(5000));
  EXPECT_NO_THROW({
    Tx tx(waiter);
    tx.sql() << "UPDATE counter SET n = n + 1 WHERE id = 1";
    tx.commit();
  });
  t.join();
  int n = 0;
  waiter.session() << "SELECT n FROM counter WHERE id = 1", soci::into(n);
  EXPECT_EQ(n, 2);
}

TEST(DbErrorTest, Item3_PostgresLockAndSerializationFailuresAreBusy) {
  EXPECT_TRUE(is_busy(soci::postgresql_soci_error("could not serialize access", "40001")));
  EXPECT_TRUE(is_busy(soci::postgresql_soci_error("deadlock detected", "40P01")));
  EXPECT_TRUE(is_busy(soci::postgresql_soci_error("could not obtain lock", "55P03")));
  EXPECT_TRUE(is_busy(soci::postgresql_soci_error("canceling statement due to timeout", "57014")));
  EXPECT_FALSE(is_busy(soci::postgresql_soci_error("duplicate key value", "23505")));
  EXPECT_FALSE(is_busy(soci::soci_error("database is locked")));  // not a backend error
}

// SOCI's what() appends every bound value; the log gets neither it nor
// PostgreSQL's DETAIL line, and quoted values are dropped.
TEST_F(SqliteFileTest, Item4_LOG3_LoggableMessageCarriesNoBoundValue) {
  const std::string secret = "canary-token-6f1c2d";
  Db db(url_, DbOptions{});
  try {
    db.session() << "INSERT INTO secrets (id, token) VALUES (:id, :token)", soci::use(7),
        soci::use(secret);
    FAIL() << "the NOT NULL constraint did not fire";
  } catch (const soci::soci_error& e) {
    // The premise: SOCI 4.0.3 puts the value in what().
    EXPECT_THAT(std::string(e.what()), HasSubstr(secret));
    EXPECT_THAT(loggable_message(e), Not(HasSubstr(secret)));
    EXPECT_THAT(loggable_message(e), HasSubstr("NOT NULL constraint failed"));
    EXPECT_EQ(statement_name(db.last_query()), "insert secrets");
  }
}

TEST(DbErrorTest, Item4_PostgresDetailAndQuotedValuesAreDropped) {
  std::string not_null = loggable_message(
      "ERROR:  null value in column \"user_id\" of relation \"sessions\" violates not-null "
      "constraint\nDETAIL:  Failing row contains (0190, hash-secret, null).\n");
  EXPECT_THAT(not_null, HasSubstr("\"user_id\""));
  EXPECT_THAT(not_null, HasSubstr("\"sessions\""));
  EXPECT_THAT(not_null, Not(HasSubstr("hash-secret")));
  std::string unique = loggable_message(
      "ERROR:  duplicate key value violates unique constraint \"users_email_key\"\nDETAIL:  Key "
      "(email)=(alice@example.test) already exists.");
  EXPECT_THAT(unique, HasSubstr("users_email_key"));
  EXPECT_THAT(unique, Not(HasSubstr("alice")));
  std::string syntax =
      loggable_message("ERROR:  invalid input syntax for type uuid: \"my-secret-value\"");
  EXPECT_THAT(syntax, Not(HasSubstr("my-secret-value")));
  EXPECT_THAT(loggable_message("unterminated \"secret"), Not(HasSubstr("secret")));
  EXPECT_LE(loggable_message(std::string(5000, 'x')).size(), 300u);
}

TEST(DbErrorTest, Item4_StatementNamesComeFromTheSqlText) {
  EXPECT_EQ(statement_name("INSERT INTO sessions (id) VALUES (:id)"), "insert sessions");
  EXPECT_EQ(statement_name("  update users SET a = :a WHERE id = :id"), "update users");
  EXPECT_EQ(statement_name("DELETE FROM memories WHERE id = :id"), "delete memories");
  EXPECT_EQ(statement_name("SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id"),
            "select sessions");
  EXPECT_EQ(statement_name("SELECT portcullis_audit_insert(CAST(:id AS uuid))"),
            "select portcullis_audit_insert");
  EXPECT_EQ(statement_name("BEGIN IMMEDIATE"), "begin");
  EXPECT_EQ(statement_name(""), "");
}

// #9 item 18: the audit line is written after the COMMIT; a rollback logs a
// failure line instead; outside a transaction the line is written at once.
class AuditAfterCommitTest : public SqliteFileTest {
 protected:
  void SetUp() override {
    SqliteFileTest::SetUp();
    db_ = std::make_unique<Db>(url_, DbOptions{});
    migrate(
        db_->session(), Backend::kSqlite,
        load_migrations(std::string(PORTCULLIS_SOURCE_DIR) + "/db/migrations", Backend::kSqlite));
  }

  static AuditEvent event(const std::string& request_id) {
    AuditEvent e;
    e.event = "test.audit_order";
    e.outcome = "success";
    e.request_id = request_id;
    return e;
  }

  int rows(const std::string& request_id) {
    int n = -1;
    db_->session() << "SELECT COUNT(*) FROM audit_events WHERE request_id = :r",
        soci::use(request_id), soci::into(n);
    return n;
  }

  std::unique_ptr<Db> db_;
};

TEST_F(AuditAfterCommitTest, Item18_LineWaitsForTheCommit) {
  Audit audit(*db_);
  Tx tx(*db_);
  ::testing::internal::CaptureStdout();
  store::audit::record(audit, *db_, event("req-commit"));
  std::string before = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(before, Not(HasSubstr("req-commit")));  // not committed yet
  ::testing::internal::CaptureStdout();
  tx.commit();
  std::string after = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(after, HasSubstr("\"request_id\":\"req-commit\""));
  EXPECT_THAT(after, HasSubstr("\"outcome\":\"success\""));
  EXPECT_EQ(rows("req-commit"), 1);
}

TEST_F(AuditAfterCommitTest, Item18_RollbackLogsAFailureAndNoSuccess) {
  Audit audit(*db_);
  ::testing::internal::CaptureStdout();
  {
    Tx tx(*db_);
    store::audit::record(audit, *db_, event("req-rollback"));
  }
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("\"request_id\":\"req-rollback\""));
  EXPECT_THAT(out, Not(HasSubstr("\"outcome\":\"success\"")));
  EXPECT_THAT(out, HasSubstr("\"outcome\":\"failure\""));
  EXPECT_THAT(out, HasSubstr("\"rolled_back\":\"true\""));
  EXPECT_EQ(rows("req-rollback"), 0);
}

TEST_F(AuditAfterCommitTest, Item18_OutsideATransactionTheLineIsWrittenAtOnce) {
  Audit audit(*db_);
  ::testing::internal::CaptureStdout();
  store::audit::record(audit, *db_, event("req-autocommit"));
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("\"request_id\":\"req-autocommit\""));
  EXPECT_THAT(out, HasSubstr("\"outcome\":\"success\""));
  EXPECT_EQ(rows("req-autocommit"), 1);
}

}  // namespace
}  // namespace portcullis
