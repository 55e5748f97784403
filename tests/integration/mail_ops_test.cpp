// Mail housekeeping and the notice cap under concurrency, on SQLite and
// PostgreSQL:
//  - `portcullis maintenance` (run as the app role, as the timer does)
//    deletes mail tokens used or expired over 7 days ago, of every tenant,
//    and sent or dropped outbox rows older than OUTBOX_RETENTION_DAYS; dead
//    letters and rows still to send stay. Rows are seeded old through the
//    test's own database access, and what remains is read back the same way.
//  - NOTIFY_MAX_PER_HOUR holds when many notices for one account race: 30
//    parallel requests, each one notice, leave exactly 10 outbox rows.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"
#include "app/db/time.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/http_client.h"
#include "tests/integration/mail_sink.h"

namespace portcullis::testing {
namespace {

using mail_sink::env_of;
using mail_sink::shell_output;
using ::testing::HasSubstr;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

std::string uuid() {
  std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-7" + h.substr(13, 3) + "-8" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

struct MaintenanceRun {
  int rc = -1;
  std::string out;
  long tokens = -1;
  long outbox = -1;
};

MaintenanceRun maintenance(const std::string& extra_env = "") {
  MaintenanceRun run;
  run.out =
      shell_output("env " + extra_env + " " + env_of("PORTCULLIS_TEST_BIN") +
                       " maintenance --env-file " + env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1",
                   &run.rc);
  size_t at = run.out.find("known devices, ");
  if (at != std::string::npos) {
    std::sscanf(run.out.c_str() + at, "known devices, %ld user tokens, %ld outbox rows deleted",
                &run.tokens, &run.outbox);
  }
  return run;
}

struct Token {
  std::string id;
  std::string tenant_id;
  std::string user_id;
  int64_t expires_at;
  int64_t used_at;  // 0 = unused
  bool kept;
  std::string what;
};

void insert_token(const Token& t) {
  std::string hash = random_hex(32);
  std::string expires = format_time_ms(t.expires_at);
  std::string used = t.used_at == 0 ? "" : format_time_ms(t.used_at);
  soci::indicator used_ind = t.used_at == 0 ? soci::i_null : soci::i_ok;
  std::string created = format_time_ms(t.expires_at - 30 * 60 * 1000);
  db() << "INSERT INTO user_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at, "
          "used_at, created_at) VALUES (:id, :t, :u, 'password_reset', :h, :e, :used, :c)",
      soci::use(t.id), soci::use(t.tenant_id), soci::use(t.user_id), soci::use(hash),
      soci::use(expires), soci::use(used, used_ind), soci::use(created);
}

struct Mail {
  std::string id;
  std::string status;
  int64_t age_days;
  bool kept_at_60;  // with OUTBOX_RETENTION_DAYS=60
  bool kept;        // with the default, 30
};

void insert_mail(const Mail& m, const std::string& address) {
  std::string created = format_time_ms(now_ms() - m.age_days * kDayMs);
  db() << "INSERT INTO outbox (id, kind, to_address, to_name, status, attempts, next_attempt_at, "
          "created_at) VALUES (:id, 'password_changed', :a, '', :s, 1, :n, :c)",
      soci::use(m.id), soci::use(address), soci::use(m.status), soci::use(created),
      soci::use(created);
}

bool token_exists(const std::string& id) {
  return !db_text("SELECT CAST(id AS TEXT) FROM user_tokens WHERE id = :id", id).empty();
}

bool mail_exists(const std::string& id) {
  return !db_text("SELECT CAST(id AS TEXT) FROM outbox WHERE id = :id", id).empty();
}

TEST(MailOpsTest, MaintenanceDeletesSpentTokensOfEveryTenantAndKeepsTheRest) {
  Registered a = register_tenant("purge-tokens-a");
  Registered b = register_tenant("purge-tokens-b");
  const int64_t now = now_ms();
  std::vector<Token> tokens = {
      {uuid(), a.tenant_id, a.user_id, now + 3600 * 1000, now - 8 * kDayMs, false,
       "used 8 days ago"},
      {uuid(), a.tenant_id, a.user_id, now + 3600 * 1000, now - 6 * kDayMs, true,
       "used 6 days ago"},
      {uuid(), b.tenant_id, b.user_id, now - 8 * kDayMs, 0, false, "expired 8 days ago (tenant b)"},
      {uuid(), a.tenant_id, a.user_id, now - 6 * kDayMs, 0, true, "expired 6 days ago"},
      {uuid(), b.tenant_id, b.user_id, now + 1800 * 1000, 0, true, "live"},
  };
  for (const Token& t : tokens) {
    insert_token(t);
  }
  MaintenanceRun run = maintenance();
  ASSERT_EQ(run.rc, 0) << run.out;
  EXPECT_GE(run.tokens, 2) << run.out;
  for (const Token& t : tokens) {
    EXPECT_EQ(token_exists(t.id), t.kept) << t.what;
  }
  // The run's audit event carries the counts.
  std::string details =
      db_text("SELECT CAST(details AS TEXT) FROM audit_events WHERE event = :e ORDER BY id DESC",
              "system.maintenance");
  EXPECT_THAT(details, HasSubstr("user_tokens_deleted"));
  EXPECT_THAT(details, HasSubstr("outbox_rows_deleted"));
}

TEST(MailOpsTest, MaintenanceDeletesOldSentAndDroppedMailAfterTheRetentionAndKeepsDeadLetters) {
  const std::string address = unique_email("purge-outbox");
  std::vector<Mail> mails = {
      {uuid(), "sent", 61, false, false},  {uuid(), "sent", 31, true, false},
      {uuid(), "sent", 29, true, true},    {uuid(), "dropped", 31, true, false},
      {uuid(), "dead", 90, true, true},    {uuid(), "pending", 90, true, true},
      {uuid(), "sending", 90, true, true},
  };
  for (const Mail& m : mails) {
    insert_mail(m, address);
  }
  // A longer retention first: only what is older than 60 days goes.
  MaintenanceRun run = maintenance("PORTCULLIS_OUTBOX_RETENTION_DAYS=60");
  ASSERT_EQ(run.rc, 0) << run.out;
  EXPECT_GE(run.outbox, 1) << run.out;
  for (const Mail& m : mails) {
    EXPECT_EQ(mail_exists(m.id), m.kept_at_60) << m.status << ", " << m.age_days << " days";
  }
  // The default, 30 days.
  run = maintenance();
  ASSERT_EQ(run.rc, 0) << run.out;
  EXPECT_GE(run.outbox, 2) << run.out;
  for (const Mail& m : mails) {
    EXPECT_EQ(mail_exists(m.id), m.kept) << m.status << ", " << m.age_days << " days";
  }
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE to_address = :a", address),
            "4");
  // An out-of-range setting is a configuration error.
  run = maintenance("PORTCULLIS_OUTBOX_RETENTION_DAYS=0");
  EXPECT_EQ(run.rc, 78) << run.out;
  EXPECT_THAT(run.out, HasSubstr("PORTCULLIS_OUTBOX_RETENTION_DAYS"));
  // The rows left are due and can never be composed (no params): removed
  // (as the schema owner), so a later suite's delivery does not retry them.
  db() << "DELETE FROM outbox WHERE to_address = :a", soci::use(address);
}

// P6-style race on the mail cap: the count and the insert of each notice are
// one step per account, so 30 notices at once leave exactly the cap. Through
// the test route that sends a notice and does nothing else: the real triggers
// (a role change, a sign-in) first update the users row, whose row lock
// happens to serialise them on PostgreSQL; the cap must not depend on that.
TEST(MailOpsTest, NOTIFY_ThirtyParallelNoticesForOneAccountLeaveExactlyTheCap) {
  Registered who = register_tenant("notify-race");
  // What the account already has counts too (a sign-up mail, if any).
  const std::string count_sql = "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE user_id = :u";
  const int before = std::stoi(db_text(count_sql, who.user_id));
  ASSERT_LT(before, 10);
  std::atomic<int> queued{0};
  std::atomic<int> capped{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 30; ++i) {
    threads.emplace_back([&] {
      HttpResponse r = post_json("/api/v1/test/notice-probe", R"({"email":")" + who.email + "\"}");
      if (r.status != 200) {
        ++failed;
      } else if (r.body.find("\"queued\":true") != std::string::npos) {
        ++queued;
      } else {
        ++capped;
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(queued.load(), 10 - before);
  EXPECT_EQ(capped.load(), 20 + before);
  EXPECT_EQ(db_text(count_sql, who.user_id), "10");
}

}  // namespace
}  // namespace portcullis::testing
