// Issue #9, core request path, through nginx on SQLite and PostgreSQL:
// concurrent writes (item 3), bound SQL values kept out of the log (item 4),
// strict JSON strings (items 5, 10, 11), a fault while writing an answer
// (item 17) and audit log lines that follow the transaction's outcome (item 18).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/random.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

std::string error_code(const HttpResponse& r) {
  rapidjson::Document d = parse(r.body);
  if (d.IsObject() && d.HasMember("error") && d["error"].IsObject() &&
      d["error"].HasMember("code") && d["error"]["code"].IsString()) {
    return d["error"]["code"].GetString();
  }
  return "";
}

bool has_field_error(const HttpResponse& r, const char* field) {
  rapidjson::Document d = parse(r.body);
  return d.IsObject() && d.HasMember("error") && d["error"].HasMember("fields") &&
         d["error"]["fields"].HasMember(field);
}

std::string string_member(const HttpResponse& r, const char* name) {
  rapidjson::Document d = parse(r.body);
  return d.IsObject() && d.HasMember(name) && d[name].IsString() ? d[name].GetString() : "";
}

// The server's log (JSON lines) from byte `from` on.
std::string log_path() {
  const char* p = std::getenv("PORTCULLIS_TEST_LOG");
  return p == nullptr ? "" : p;
}

std::streamoff log_size() {
  struct stat st {};
  return ::stat(log_path().c_str(), &st) == 0 ? static_cast<std::streamoff>(st.st_size) : 0;
}

std::string log_since(std::streamoff from) {
  std::ifstream in(log_path(), std::ios::binary);
  in.seekg(from);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parsed log lines (the journald prefix `<N>` skipped) from byte `from` on.
std::vector<rapidjson::Document> log_records_since(std::streamoff from) {
  std::vector<rapidjson::Document> out;
  std::istringstream lines(log_since(from));
  std::string line;
  while (std::getline(lines, line)) {
    size_t brace = line.find('{');
    if (brace == std::string::npos) {
      continue;
    }
    rapidjson::Document d;
    d.Parse(line.c_str() + brace);
    if (!d.HasParseError() && d.IsObject()) {
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::string member(const rapidjson::Value& v, const char* name) {
  return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

// A memory's title as stored, read in the tenant's context (RLS on PostgreSQL).
std::optional<std::string> stored_title(const std::string& tenant_id, const std::string& id) {
  soci::session& s = db();
  soci::transaction tx(s);
  if (is_postgres()) {
    std::string ignored;
    s << "SELECT set_config('portcullis.tenant_id', :t, true)", soci::use(tenant_id),
        soci::into(ignored);
  }
  std::string title;
  soci::indicator ind = soci::i_null;
  s << "SELECT title FROM memories WHERE tenant_id = :t AND id = :id", soci::use(tenant_id),
      soci::use(id), soci::into(title, ind);
  tx.commit();
  if (!s.got_data() || ind != soci::i_ok) {
    return std::nullopt;
  }
  return title;
}

int session_rows(const std::string& user_id) {
  int n = -1;
  db() << "SELECT COUNT(*) FROM sessions WHERE user_id = :u", soci::use(user_id), soci::into(n);
  return n;
}

struct Owner {
  Registered who;
  Browser browser;
};

Owner new_owner(const std::string& tag) {
  Owner o;
  o.who = register_tenant(tag);
  o.browser = login(o.who.email);
  return o;
}

std::string create_memory(const Browser& b, const std::string& title) {
  HttpResponse r =
      b.call("POST", "/api/v1/memories", R"({"title":")" + title + R"(","content":"c"})");
  EXPECT_EQ(r.status, 201) << r.body;
  return string_member(r, "id");
}

class RequestPathTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

// ---------------------------------------------------------------------------
// #9 item 3: 8 threads × 25 PATCH over two tenants, with memory creates and
// logins running beside them. At the default busy timeout nothing may fail:
// no 500 and no 503, and every write that was answered 2xx is stored.
TEST_F(RequestPathTest, Item3_ParallelPatchesCreatesAndLoginsAcrossTenantsAllSucceed) {
  constexpr int kPatchThreads = 8;
  constexpr int kPatchesEach = 25;
  constexpr int kCreateThreads = 4;
  constexpr int kCreatesEach = 10;
  constexpr int kLoginThreads = 2;
  constexpr int kLoginsEach = 5;

  Owner tenants[2] = {new_owner("item3-a"), new_owner("item3-b")};
  std::vector<std::string> memory(kPatchThreads);
  for (int i = 0; i < kPatchThreads; ++i) {
    memory[i] = create_memory(tenants[i % 2].browser, "start-" + std::to_string(i));
    ASSERT_FALSE(memory[i].empty());
  }
  std::vector<Registered> login_users;
  for (int i = 0; i < kLoginThreads; ++i) {
    login_users.push_back(register_tenant("item3-login"));
  }

  std::mutex mu;
  std::map<long, int> statuses;  // every answer's status → count
  std::vector<std::string> last_ok_title(kPatchThreads);
  std::vector<std::pair<int, std::string>> created;  // tenant index, id
  std::map<int, int> logins_ok;                      // login thread → 200s
  auto count = [&](long status) {
    std::lock_guard<std::mutex> lock(mu);
    ++statuses[status];
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kPatchThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPatchesEach; ++k) {
        std::string title = "p-" + std::to_string(t) + "-" + std::to_string(k);
        HttpResponse r = tenants[t % 2].browser.call("PATCH", "/api/v1/memories/" + memory[t],
                                                     R"({"title":")" + title + R"("})");
        count(r.status);
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          last_ok_title[t] = title;
        }
      }
    });
  }
  for (int t = 0; t < kCreateThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kCreatesEach; ++k) {
        HttpResponse r = tenants[t % 2].browser.call("POST", "/api/v1/memories",
                                                     R"({"title":"c-)" + std::to_string(t) + "-" +
                                                         std::to_string(k) + R"(","content":"x"})");
        count(r.status);
        if (r.status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          created.emplace_back(t % 2, string_member(r, "id"));
        }
      }
    });
  }
  for (int t = 0; t < kLoginThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kLoginsEach; ++k) {
        HttpResponse r = login_raw(login_users[t].email, kPassword);
        count(r.status);
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          ++logins_ok[t];
        }
      }
    });
  }
  for (std::thread& th : threads) {
    th.join();
  }

  int total = 0;
  int server_errors = 0;
  std::ostringstream seen;
  for (const auto& [status, n] : statuses) {
    total += n;
    if (status >= 500) {
      server_errors += n;
    }
    seen << status << "×" << n << " ";
  }
  EXPECT_EQ(total, kPatchThreads * kPatchesEach + kCreateThreads * kCreatesEach +
                       kLoginThreads * kLoginsEach);
  EXPECT_EQ(server_errors, 0) << seen.str();
  EXPECT_EQ(statuses[500], 0) << seen.str();
  EXPECT_EQ(statuses[503], 0) << seen.str();
  EXPECT_EQ(statuses[200], kPatchThreads * kPatchesEach + kLoginThreads * kLoginsEach)
      << seen.str();
  EXPECT_EQ(statuses[201], kCreateThreads * kCreatesEach) << seen.str();

  // Every 2xx write is in the database: each memory holds its thread's last
  // accepted title, each created memory exists in its tenant, each login's
  // session row exists.
  for (int t = 0; t < kPatchThreads; ++t) {
    EXPECT_EQ(stored_title(tenants[t % 2].who.tenant_id, memory[t]).value_or("<missing>"),
              last_ok_title[t])
        << "memory of thread " << t;
  }
  for (const auto& [tenant, id] : created) {
    EXPECT_TRUE(stored_title(tenants[tenant].who.tenant_id, id).has_value()) << id;
  }
  for (int t = 0; t < kLoginThreads; ++t) {
    EXPECT_EQ(session_rows(login_users[t].user_id), logins_ok[t]);
  }
}

// ---------------------------------------------------------------------------
// #9 item 4 (LOG-3): a statement that binds a secret fails a constraint. The
// client gets the generic 500; the log names the statement and the database's
// reason but holds no trace of the bound value.
TEST_F(RequestPathTest, Item4_LOG3_FailedStatementLogsNoBoundValue) {
  const std::string secret = "canary" + random_hex(16);
  std::streamoff from = log_size();
  HttpResponse r = post_json("/api/v1/test/db-fault", R"({"secret":")" + secret + R"("})");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(error_code(r), "internal_error");
  EXPECT_THAT(r.body, Not(HasSubstr(secret)));
  const std::string request_id = r.header("x-request-id");
  ASSERT_FALSE(request_id.empty());

  bool logged = false;
  for (int i = 0; i < 50 && !logged; ++i) {
    for (const rapidjson::Document& rec : log_records_since(from)) {
      if (member(rec, "event") == "request.database_error" &&
          member(rec, "request_id") == request_id) {
        logged = true;
        ASSERT_TRUE(rec.HasMember("details"));
        EXPECT_EQ(member(rec["details"], "statement"), "insert sessions");
        EXPECT_FALSE(member(rec["details"], "error").empty());
      }
    }
    if (!logged) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(logged) << "no request.database_error line for " << request_id;
  EXPECT_THAT(log_since(from), Not(HasSubstr(secret)));
  EXPECT_THAT(log_since(0), Not(HasSubstr(secret)));
}

// ---------------------------------------------------------------------------
// #9 item 5: a JSON escape that decodes to a lone surrogate is not text. Every
// endpoint refuses it with 400 naming the field; nothing is stored.
TEST_F(RequestPathTest, Item5_LoneSurrogateIs400NamingTheField) {
  const std::string email = unique_email("item5");
  HttpResponse bad_name =
      post_json("/api/v1/auth/register", R"({"tenant_name":"Org item5","email":")" + email +
                                             R"(","password":")" + kPassword +
                                             R"(","display_name":"x\udc00y"})");
  EXPECT_EQ(bad_name.status, 400) << bad_name.body;
  EXPECT_TRUE(has_field_error(bad_name, "display_name")) << bad_name.body;

  HttpResponse bad_email =
      post_json("/api/v1/auth/register", R"({"tenant_name":"Org item5","email":"x\udc00)" + email +
                                             R"(","password":")" + kPassword +
                                             R"(","display_name":"Item Five"})");
  EXPECT_EQ(bad_email.status, 400) << bad_email.body;
  EXPECT_TRUE(has_field_error(bad_email, "email")) << bad_email.body;
  EXPECT_EQ(db_text("SELECT id FROM users WHERE email LIKE :e", "%" + email), "");

  HttpResponse bad_login = post_json("/api/v1/auth/login", R"({"email":"\udc00@example.test",)"
                                                           R"("password":"whatever at all 123"})");
  EXPECT_EQ(bad_login.status, 400) << bad_login.body;
  EXPECT_TRUE(has_field_error(bad_login, "email")) << bad_login.body;

  Owner o = new_owner("item5");
  HttpResponse bad_title =
      o.browser.call("POST", "/api/v1/memories", R"({"title":"\udc00","content":"c"})");
  EXPECT_EQ(bad_title.status, 400) << bad_title.body;
  EXPECT_TRUE(has_field_error(bad_title, "title")) << bad_title.body;
  HttpResponse bad_tag = o.browser.call("POST", "/api/v1/memories",
                                        R"({"title":"t","content":"c","tags":["ok","\udfff"]})");
  EXPECT_EQ(bad_tag.status, 400) << bad_tag.body;
  EXPECT_TRUE(has_field_error(bad_tag, "tags")) << bad_tag.body;
  HttpResponse lone_high =
      o.browser.call("POST", "/api/v1/memories", R"({"title":"\ud800x","content":"c"})");
  EXPECT_EQ(lone_high.status, 400) << lone_high.body;

  // A proper pair is one code point (U+1F600) and round-trips.
  HttpResponse pair =
      o.browser.call("POST", "/api/v1/memories", R"({"title":"smile \ud83d\ude00","content":"c"})");
  ASSERT_EQ(pair.status, 201) << pair.body;
  EXPECT_EQ(stored_title(o.who.tenant_id, string_member(pair, "id")).value_or(""),
            "smile \xF0\x9F\x98\x80");
}

// #9 item 10: null is not a value for a required string.
TEST_F(RequestPathTest, Item10_NullForRequiredStringIs400) {
  const std::string email = unique_email("item10");
  HttpResponse reg = post_json("/api/v1/auth/register",
                               R"({"tenant_name":"Org item10","email":null,)"
                               R"("password":")" +
                                   std::string(kPassword) + R"(","display_name":"Item Ten"})");
  EXPECT_EQ(reg.status, 400) << reg.body;
  EXPECT_TRUE(has_field_error(reg, "email")) << reg.body;
  EXPECT_EQ(db_text("SELECT id FROM users WHERE email = :e", ""), "");

  HttpResponse login_null_email = post_json(
      "/api/v1/auth/login", R"({"email":null,"password":")" + std::string(kPassword) + R"("})");
  EXPECT_EQ(login_null_email.status, 400) << login_null_email.body;
  EXPECT_TRUE(has_field_error(login_null_email, "email"));

  Owner o = new_owner("item10");
  HttpResponse login_null_password =
      post_json("/api/v1/auth/login", R"({"email":")" + o.who.email + R"(","password":null})");
  EXPECT_EQ(login_null_password.status, 400) << login_null_password.body;
  EXPECT_TRUE(has_field_error(login_null_password, "password"));

  HttpResponse create =
      o.browser.call("POST", "/api/v1/memories", R"({"title":null,"content":"c"})");
  EXPECT_EQ(create.status, 400) << create.body;
  EXPECT_TRUE(has_field_error(create, "title")) << create.body;

  std::string id = create_memory(o.browser, "keep-me");
  HttpResponse patch = o.browser.call("PATCH", "/api/v1/memories/" + id, R"({"title":null})");
  EXPECT_EQ(patch.status, 400) << patch.body;
  EXPECT_EQ(stored_title(o.who.tenant_id, id).value_or(""), "keep-me");
}

// #9 item 11: a field name is compared with its length, and a name with a
// control character is refused before any handler sees it.
TEST_F(RequestPathTest, Item11_KeyWithNulOrControlCharacterIs400) {
  Owner o = new_owner("item11");
  for (const char* body :
       {R"({"title":"t","title\u0000":"x"})", R"({"title":"t","content":"c","con\u0001tent":"x"})",
        R"({"title\u0000":"t"})", R"({"title":"t","ti\ttle":"x"})"}) {
    HttpResponse r = o.browser.call("POST", "/api/v1/memories", body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body;
    EXPECT_EQ(error_code(r), "validation_failed") << body;
  }
  HttpResponse list = o.browser.call("GET", "/api/v1/memories");
  ASSERT_EQ(list.status, 200);
  rapidjson::Document d = parse(list.body);
  EXPECT_EQ(d["data"].Size(), 0u) << list.body;

  HttpResponse login =
      post_json("/api/v1/auth/login", R"({"email":")" + o.who.email + R"(","password":")" +
                                          kPassword + R"(","email\u0000":"x"})");
  EXPECT_EQ(login.status, 400) << login.body;
}

// ---------------------------------------------------------------------------
// #9 item 17 (ERR-2): an answer that cannot be written (its header would
// inject another) costs that request a 500 envelope, not the worker: no
// worker dies, and the worker that hit it is still alive and serving.
TEST_F(RequestPathTest, Item17_ERR2_AnswerThatCannotBeWrittenLeavesTheWorkerServing) {
  std::streamoff from = log_size();
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = get("/api/v1/test/unsendable");
    EXPECT_EQ(r.status, 500) << r.body << r.error;
    EXPECT_EQ(error_code(r), "internal_error") << r.body;
    EXPECT_FALSE(r.has_header("x-injected"));
    EXPECT_FALSE(r.header("x-request-id").empty());
  }
  std::set<std::string> faulted;
  std::set<std::string> recycled;
  for (const rapidjson::Document& rec : log_records_since(from)) {
    std::string event = member(rec, "event");
    EXPECT_NE(event, "server.worker_died") << "a worker died";
    EXPECT_NE(event, "worker.fault");
    if (event == "request.worker_fault") {
      faulted.insert(member(rec, "pid"));
    }
    if (event == "worker.recycle") {
      recycled.insert(member(rec, "pid"));
    }
  }
  ASSERT_FALSE(faulted.empty()) << "the fault was not logged";
  // Each worker that hit the fault still runs (unless it was recycled on
  // purpose) and answers again: poll the pid route until it does.
  for (const std::string& pid : faulted) {
    if (recycled.count(pid) != 0) {
      continue;
    }
    EXPECT_EQ(::access(("/proc/" + pid).c_str(), F_OK), 0) << "worker " << pid << " is gone";
    bool answered = false;
    for (int i = 0; i < 60 && !answered; ++i) {
      HttpResponse r = get("/api/v1/test/pid");
      ASSERT_EQ(r.status, 200) << r.body;
      rapidjson::Document d = parse(r.body);
      answered = std::to_string(d["pid"].GetInt64()) == pid;
    }
    EXPECT_TRUE(answered || recycled.count(pid) != 0) << "worker " << pid << " never answered";
  }
  EXPECT_EQ(get("/api/v1/health").status, 200);
}

// ---------------------------------------------------------------------------
// #9 item 18: the audit log line follows the transaction. A change that rolls
// back leaves no "success" line (and no row), but a failure line saying so;
// a committed one logs its success.
TEST_F(RequestPathTest, Item18_RolledBackAuditIsLoggedAsFailureAndCommittedAsSuccess) {
  std::streamoff from = log_size();
  HttpResponse rolled = post_json("/api/v1/test/audit-probe", R"({"commit":false})");
  EXPECT_EQ(rolled.status, 409) << rolled.body;
  HttpResponse committed = post_json("/api/v1/test/audit-probe", R"({"commit":true})");
  EXPECT_EQ(committed.status, 200) << committed.body;
  const std::string rolled_id = rolled.header("x-request-id");
  const std::string committed_id = committed.header("x-request-id");

  std::map<std::string, std::vector<std::string>> outcomes;  // request id → outcomes
  std::string rolled_details;
  for (const rapidjson::Document& rec : log_records_since(from)) {
    if (member(rec, "event") != "test.audit_probe") {
      continue;
    }
    outcomes[member(rec, "request_id")].push_back(member(rec, "outcome"));
    if (member(rec, "request_id") == rolled_id && rec.HasMember("details")) {
      rolled_details = member(rec["details"], "rolled_back");
    }
  }
  EXPECT_THAT(outcomes[rolled_id], ::testing::ElementsAre("failure"));
  EXPECT_EQ(rolled_details, "true");
  EXPECT_THAT(outcomes[committed_id], ::testing::ElementsAre("success"));
  EXPECT_EQ(db_text("SELECT outcome FROM audit_events WHERE request_id = :r", rolled_id), "");
  EXPECT_EQ(db_text("SELECT outcome FROM audit_events WHERE request_id = :r", committed_id),
            "success");
}

}  // namespace
}  // namespace portcullis::testing
