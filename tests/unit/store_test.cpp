// The store's statement layer (app/db/statement.h, app/db/prepared.cpp) and
// the tenant handle (app/db/tenant_tx.h): statements kept per connection on
// SQLite never hold a read snapshot, parameters are rewritten for SQLite, and
// a tenant-data function cannot be called without a tenant transaction.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "app/db/connection.h"
#include "app/db/statement.h"
#include "app/db/tenant_tx.h"
#include "app/db/tx.h"
#include "app/store/accounts.h"
#include "app/store/audit.h"
#include "app/store/contexts.h"
#include "app/store/devices.h"
#include "app/store/invitations.h"
#include "app/store/members.h"
#include "app/store/memories.h"
#include "app/store/mfa.h"
#include "app/store/sessions.h"
#include "app/store/tenants.h"

namespace portcullis {
namespace {

// ---- a tenant-data function needs a TenantTx (compile time) -----------------

// True when F can be called with a TenantTx& first and with neither a Tx& nor
// a Db& in its place.
template <auto F, typename... Rest>
constexpr bool needs_tenant_tx = std::is_invocable_v<decltype(F), TenantTx&, Rest...> &&
                                 !std::is_invocable_v<decltype(F), Tx&, Rest...> &&
                                 !std::is_invocable_v<decltype(F), Db&, Rest...> &&
                                 !std::is_invocable_v<decltype(F), soci::session&, Rest...>;

using S = const std::string&;
static_assert(needs_tenant_tx<&store::memories::page, const store::memories::Filter&, S, int>);
static_assert(needs_tenant_tx<&store::memories::find, S>);
static_assert(needs_tenant_tx<&store::memories::insert, const store::memories::Memory&>);
static_assert(needs_tenant_tx<&store::memories::update, const store::memories::Memory&>);
static_assert(needs_tenant_tx<&store::memories::remove, S>);
static_assert(needs_tenant_tx<&store::memories::replace_tags, S, const std::vector<std::string>&>);
static_assert(needs_tenant_tx<&store::contexts::exists, S>);

// Every tenant-data function of the store takes a TenantTx& first (and a
// TenantTx is made only from a non-empty tenant, see below); a Tx, a Db or a
// SOCI session does not convert to one (tests/store_statements_compile.sh).
template <typename R, typename... Args>
constexpr bool takes_tenant_tx(R (*)(TenantTx&, Args...)) {
  return true;
}
template <typename R, typename First, typename... Args>
constexpr bool takes_tenant_tx(R (*)(First, Args...)) {
  return false;
}
static_assert(!std::is_convertible_v<Tx&, TenantTx&> && !std::is_convertible_v<Db&, TenantTx&> &&
              !std::is_convertible_v<soci::session&, TenantTx&>);
static_assert(takes_tenant_tx(&store::accounts::find_by_id), "store::accounts::find_by_id");
static_assert(takes_tenant_tx(&store::devices::history), "store::devices::history");
static_assert(takes_tenant_tx(&store::devices::remember), "store::devices::remember");
static_assert(takes_tenant_tx(&store::accounts::insert), "store::accounts::insert");
static_assert(takes_tenant_tx(&store::accounts::rehash_password),
              "store::accounts::rehash_password");
static_assert(takes_tenant_tx(&store::accounts::set_password), "store::accounts::set_password");
static_assert(takes_tenant_tx(&store::accounts::set_display_name),
              "store::accounts::set_display_name");
static_assert(takes_tenant_tx(&store::accounts::set_last_login), "store::accounts::set_last_login");
static_assert(takes_tenant_tx(&store::audit::page), "store::audit::page");
static_assert(takes_tenant_tx(&store::contexts::exists), "store::contexts::exists");
static_assert(takes_tenant_tx(&store::contexts::page), "store::contexts::page");
static_assert(takes_tenant_tx(&store::contexts::find), "store::contexts::find");
static_assert(takes_tenant_tx(&store::contexts::name_in_use), "store::contexts::name_in_use");
static_assert(takes_tenant_tx(&store::contexts::insert), "store::contexts::insert");
static_assert(takes_tenant_tx(&store::contexts::rename), "store::contexts::rename");
static_assert(takes_tenant_tx(&store::contexts::count_memories), "store::contexts::count_memories");
static_assert(takes_tenant_tx(&store::contexts::remove_with_memories),
              "store::contexts::remove_with_memories");
static_assert(takes_tenant_tx(&store::invitations::insert), "store::invitations::insert");
static_assert(takes_tenant_tx(&store::invitations::page), "store::invitations::page");
static_assert(takes_tenant_tx(&store::invitations::open_role), "store::invitations::open_role");
static_assert(takes_tenant_tx(&store::invitations::revoke), "store::invitations::revoke");
static_assert(takes_tenant_tx(&store::invitations::accept), "store::invitations::accept");
static_assert(takes_tenant_tx(&store::members::page), "store::members::page");
static_assert(takes_tenant_tx(&store::members::find), "store::members::find");
static_assert(takes_tenant_tx(&store::members::active_owners), "store::members::active_owners");
static_assert(takes_tenant_tx(&store::members::set_role), "store::members::set_role");
static_assert(takes_tenant_tx(&store::members::set_disabled), "store::members::set_disabled");
static_assert(takes_tenant_tx(&store::members::remove), "store::members::remove");
static_assert(takes_tenant_tx(&store::memories::page), "store::memories::page");
static_assert(takes_tenant_tx(&store::memories::find), "store::memories::find");
static_assert(takes_tenant_tx(&store::memories::insert), "store::memories::insert");
static_assert(takes_tenant_tx(&store::memories::update), "store::memories::update");
static_assert(takes_tenant_tx(&store::memories::remove), "store::memories::remove");
static_assert(takes_tenant_tx(&store::memories::add_tags), "store::memories::add_tags");
static_assert(takes_tenant_tx(&store::memories::replace_tags), "store::memories::replace_tags");
static_assert(takes_tenant_tx(&store::mfa::state), "store::mfa::state");
static_assert(takes_tenant_tx(&store::mfa::secret), "store::mfa::secret");
static_assert(takes_tenant_tx(&store::mfa::store_pending_secret),
              "store::mfa::store_pending_secret");
static_assert(takes_tenant_tx(&store::mfa::spend_step), "store::mfa::spend_step");
static_assert(takes_tenant_tx(&store::mfa::enable), "store::mfa::enable");
static_assert(takes_tenant_tx(&store::mfa::disable), "store::mfa::disable");
static_assert(takes_tenant_tx(&store::mfa::spend_backup_code), "store::mfa::spend_backup_code");
static_assert(takes_tenant_tx(&store::mfa::delete_backup_codes), "store::mfa::delete_backup_codes");
static_assert(takes_tenant_tx(&store::mfa::insert_backup_code), "store::mfa::insert_backup_code");
static_assert(takes_tenant_tx(&store::mfa::unused_backup_codes), "store::mfa::unused_backup_codes");
static_assert(takes_tenant_tx(&store::sessions::insert), "store::sessions::insert");
static_assert(takes_tenant_tx(&store::tenants::insert), "store::tenants::insert");
static_assert(takes_tenant_tx(&store::tenants::set_name), "store::tenants::set_name");
static_assert(takes_tenant_tx(&store::tenants::set_require_mfa), "store::tenants::set_require_mfa");

// A tenant statement must use $1 (the tenant): the check is consteval, so
// `constexpr TenantStatement bad{"x", "SELECT 1 FROM t WHERE id = $2"};` does
// not build (tests/store_statements_compile.sh builds exactly that and expects
// the error). Here, the scan it uses:
static_assert(mentions_parameter("SELECT 1 FROM t WHERE tenant_id = $1", '1'));
static_assert(mentions_parameter("VALUES ($2, $1)", '1'));
static_assert(!mentions_parameter("SELECT 1 FROM t WHERE id = $10", '1'));
static_assert(!mentions_parameter("SELECT 1 FROM t WHERE id = $2", '1'));

TEST(StoreTenantHandle, TEN_1_ATenantTransactionNeedsATenant) {
  Db db("sqlite://:memory:", DbOptions{});
  EXPECT_THROW(TenantTx(db, ""), std::invalid_argument);
  EXPECT_FALSE(db.in_transaction()) << "the refused transaction was rolled back";
}

TEST(StoreTenantHandle, TenantStatementsGetTheTenantAsFirstParameter) {
  Db db("sqlite://:memory:", DbOptions{});
  static constexpr TenantStatement kEcho{"test.echo", "SELECT $1, $2"};
  TenantTx tx(db, "tenant-a", TxKind::kRead);
  Rows rows = tx.run(kEcho, {std::string("x")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text(0), "tenant-a");
  EXPECT_EQ(rows[0].text(1), "x");
  tx.commit();
}

// ---- SQLite placeholders ----------------------------------------------------

TEST(StatementText, SqlitePlaceholdersOutsideQuotesOnly) {
  EXPECT_EQ(sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = '$2' AND d = $10"),
            "SELECT a FROM t WHERE b = ?1 AND c = '$2' AND d = ?10");
  EXPECT_EQ(sqlite_placeholders("SELECT \"$1\", $3"), "SELECT \"$1\", ?3");
}

TEST(StatementValues, RowsReadTextIntegersBooleansAndNulls) {
  Db db("sqlite://:memory:", DbOptions{});
  static constexpr Statement kValues{"test.values", "SELECT $1, $2, $3, $4, $5"};
  Rows rows = db.run(kValues, {std::string("text"), int64_t{-42}, true, std::nullopt,
                               std::optional<std::string>("opt")});
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  EXPECT_EQ(r.text(0), "text");
  EXPECT_EQ(r.integer(1), -42);
  EXPECT_TRUE(r.boolean(2));
  EXPECT_TRUE(r.is_null(3));
  EXPECT_EQ(r.text(3), "");
  EXPECT_EQ(r.optional_integer(3), std::nullopt);
  EXPECT_EQ(r.optional_text(4), "opt");
  EXPECT_THROW((void)r.integer(0), std::runtime_error);
}

// ---- SQLite: kept statements never hold a snapshot --------------------------

class KeptStatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portcullis-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    url_ = "sqlite://" + dir_ + "/kept.db";
    writer_ = std::make_unique<Db>(url_, DbOptions{5000, 200});
    writer_->session() << "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
    for (int i = 0; i < 50; ++i) {
      writer_->run(kInsert, {int64_t{i}, std::string("note")});
    }
    reader_ = std::make_unique<Db>(url_, DbOptions{5000, 200});
  }
  void TearDown() override {
    reader_.reset();
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  // PRAGMA wal_checkpoint(TRUNCATE) on the writer: 0 when every frame could
  // be moved back and the log truncated, i.e. no reader holds a snapshot.
  int checkpoint_busy() {
    int busy = -1;
    int log = 0;
    int done = 0;
    writer_->session() << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(log),
        soci::into(done);
    return busy;
  }

  static constexpr Statement kInsert{"notes.insert",
                                     "INSERT INTO notes (id, body) VALUES ($1, $2)"};
  static constexpr Statement kAll{"notes.all", "SELECT id, body FROM notes ORDER BY id"};
  static constexpr Statement kFirst{"notes.first", "SELECT id FROM notes ORDER BY id LIMIT 1"};

  std::string dir_;
  std::string url_;
  std::unique_ptr<Db> writer_;
  std::unique_ptr<Db> reader_;
};

TEST_F(KeptStatementTest, SqliteWriteAfterManyKeptReadsSucceeds) {
  for (int i = 0; i < 2000; ++i) {
    Rows rows = reader_->run(i % 2 == 0 ? kAll : kFirst, {});
    ASSERT_FALSE(rows.empty());
  }
  {
    TenantTx tx(*reader_, "t", TxKind::kRead);  // kept reads inside a read transaction too
    for (int i = 0; i < 100; ++i) {
      (void)tx.tx().run(kAll);
    }
    tx.commit();
  }
  // Another connection writes and checkpoints the whole log: nothing the
  // reader kept holds a snapshot or a lock.
  {
    Tx tx(*writer_);
    tx.run(kInsert, {int64_t{1000}, std::string("after reads")});
    tx.commit();
  }
  EXPECT_EQ(checkpoint_busy(), 0);
  // And the reader itself can take the write lock.
  Tx tx(*reader_);
  tx.run(kInsert, {int64_t{1001}, std::string("reader writes")});
  tx.commit();
  EXPECT_EQ(reader_->run(kAll, {}).size(), 52u);
}

// The control: a statement stepped and left un-reset (what a kept statement
// without the reset would do) holds its snapshot, and the checkpoint above
// sees it. So the test would catch a missing reset.
TEST_F(KeptStatementTest, AStatementLeftMidStepWouldHoldTheSnapshot) {
  (void)reader_->run(kAll, {});
  auto* backend = static_cast<soci::sqlite3_session_backend*>(reader_->session().get_backend());
  sqlite_api::sqlite3_stmt* raw = nullptr;
  ASSERT_EQ(
      sqlite_api::sqlite3_prepare_v2(backend->conn_, "SELECT id FROM notes", -1, &raw, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite_api::sqlite3_step(raw), SQLITE_ROW);
  {
    Tx tx(*writer_);
    tx.run(kInsert, {int64_t{2000}, std::string("while a read is open")});
    tx.commit();
  }
  EXPECT_NE(checkpoint_busy(), 0) << "an open read must block a full checkpoint";
  sqlite_api::sqlite3_finalize(raw);
  EXPECT_EQ(checkpoint_busy(), 0);
}

}  // namespace
}  // namespace portcullis
