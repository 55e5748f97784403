// LOG-2, LOG-4: one JSON object per line, injection-safe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/db/connection.h"
#include "app/db/migrate.h"
#include "app/db/tx.h"
#include "app/log/audit.h"
#include "app/log/logger.h"
#include "app/store/audit.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(LogTest, LOG4_NewlinesInValuesCannotForgeARecord) {
  LogRecord r;
  r.event = "auth.login";
  r.outcome = "failure";
  r.user_agent = "a\n{\"event\":\"auth.login\",\"outcome\":\"success\"}";
  std::string line = format_log_line(Level::kWarning, r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["event"].GetString(), "auth.login");
  EXPECT_STREQ(doc["outcome"].GetString(), "failure");
  EXPECT_STREQ(doc["level"].GetString(), "warning");
}

TEST(LogTest, LOG2_TimestampIsRfc3339UtcWithMilliseconds) {
  std::string ts = now_rfc3339();
  EXPECT_EQ(ts.size(), 24u);
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(AuditTest, RecordWritesRowInCallersTransaction) {
  Db db("sqlite://:memory:", DbOptions{});
  migrate(db.session(), Backend::kSqlite,
          load_migrations(std::string(PORTCULLIS_SOURCE_DIR) + "/db/migrations", Backend::kSqlite));
  Audit audit(db);
  AuditEvent e;
  e.event = "test.event";
  e.outcome = "success";
  e.ip = "127.0.0.1";
  e.details = {{"k", "v"}};
  e.reason = "log-only-reason";
  {
    Tx tx(db);
    store::audit::record(audit, db, e);
    // not committed: rolled back with the transaction
  }
  int count = -1;
  db.session() << "SELECT COUNT(*) FROM audit_events", soci::into(count);
  EXPECT_EQ(count, 0);
  {
    Tx tx(db);
    store::audit::record(audit, db, e);
    tx.commit();
  }
  std::string details;
  std::string event;
  db.session() << "SELECT event, details FROM audit_events", soci::into(event), soci::into(details);
  EXPECT_EQ(event, "test.event");
  EXPECT_EQ(details, R"({"k":"v"})");
  EXPECT_THAT(details, Not(HasSubstr("log-only-reason")));
}

}  // namespace
}  // namespace portcullis
