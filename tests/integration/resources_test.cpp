// Contexts and memories through nginx (issue: tenant-scoped resources).
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/crypto/random.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string field_error(const HttpResponse& r, const char* field) {
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember("error") && d["error"].HasMember("fields") &&
      d["error"]["fields"].HasMember(field)) {
    return d["error"]["fields"][field].GetString();
  }
  return "";
}

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

struct Tenant {
  Registered who;
  Browser browser;
};

Tenant new_tenant(const std::string& tag) {
  Tenant t;
  t.who = register_tenant(tag);
  t.browser = login(t.who.email);
  return t;
}

std::string create_context(const Browser& b, const std::string& name) {
  HttpResponse r = b.call("POST", "/api/v1/contexts", "{\"name\":" + json_string(name) + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember("id") ? d["id"].GetString() : "";
}

std::string create_memory(const Browser& b,
                          const std::string& title,
                          const std::string& content,
                          const std::string& context_id = "",
                          const std::string& tags = "[]") {
  std::string body = "{\"title\":" + json_string(title) + ",\"content\":" + json_string(content) +
                     ",\"tags\":" + tags +
                     (context_id.empty() ? "" : ",\"context_id\":\"" + context_id + "\"") + "}";
  HttpResponse r = b.call("POST", "/api/v1/memories", body);
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember("id") ? d["id"].GetString() : "";
}

class ResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

TEST_F(ResourcesTest, ContextsCrudUniqueNameAndCascade) {
  Tenant a = new_tenant("ctx");
  std::string id = create_context(a.browser, "Work");
  HttpResponse dup = a.browser.call("POST", "/api/v1/contexts", R"({"name":"Work"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(a.browser.call("POST", "/api/v1/contexts", R"({"name":""})").status, 400);
  EXPECT_EQ(field_error(a.browser.call("POST", "/api/v1/contexts",
                                       "{\"name\":\"" + std::string(101, 'x') + "\"}"),
                        "name"),
            "must be at most 100 characters");
  HttpResponse got = a.browser.call("GET", "/api/v1/contexts/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_THAT(got.body, HasSubstr("\"name\":\"Work\""));
  HttpResponse renamed = a.browser.call("PATCH", "/api/v1/contexts/" + id, R"({"name":"Office"})");
  EXPECT_EQ(renamed.status, 200);
  EXPECT_THAT(renamed.body, HasSubstr("Office"));
  create_memory(a.browser, "in office", "text", id);
  HttpResponse refused = a.browser.call("DELETE", "/api/v1/contexts/" + id);
  EXPECT_EQ(refused.status, 409);
  HttpResponse cascade = a.browser.call("DELETE", "/api/v1/contexts/" + id + "?cascade=true");
  EXPECT_EQ(cascade.status, 200) << cascade.body;
  EXPECT_EQ(a.browser.call("GET", "/api/v1/contexts/" + id).status, 404);
}

TEST_F(ResourcesTest, MemoriesCrudAndFieldValidation) {
  Tenant a = new_tenant("mem");
  std::string ctx = create_context(a.browser, "Notes");
  std::string id = create_memory(a.browser, "First", "hello\nworld ✓", ctx, R"(["x","y","x"])");
  HttpResponse got = a.browser.call("GET", "/api/v1/memories/" + id);
  ASSERT_EQ(got.status, 200);
  rapidjson::Document d = parse(got);
  EXPECT_STREQ(d["content"].GetString(), "hello\nworld ✓");
  EXPECT_STREQ(d["context_id"].GetString(), ctx.c_str());
  EXPECT_EQ(d["tags"].Size(), 2u);  // de-duplicated
  EXPECT_STREQ(d["created_by"].GetString(), a.who.user_id.c_str());
  HttpResponse patched = a.browser.call("PATCH", "/api/v1/memories/" + id,
                                        R"({"title":"Renamed","context_id":null,"tags":[]})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  rapidjson::Document p = parse(patched);
  EXPECT_TRUE(p["context_id"].IsNull());
  EXPECT_STREQ(p["title"].GetString(), "Renamed");
  EXPECT_STREQ(p["content"].GetString(), "hello\nworld ✓");
  // Validation errors name the field.
  EXPECT_EQ(field_error(a.browser.call("POST", "/api/v1/memories", R"({"title":""})"), "title"),
            "is required");
  EXPECT_FALSE(field_error(a.browser.call("POST", "/api/v1/memories",
                                          "{\"title\":\"" + std::string(201, 't') + "\"}"),
                           "title")
                   .empty());
  EXPECT_FALSE(field_error(a.browser.call("POST", "/api/v1/memories",
                                          "{\"title\":\"t\",\"content\":\"" +
                                              std::string(32 * 1024 + 1, 'c') + "\"}"),
                           "content")
                   .empty());
  std::string many = "[";
  for (int i = 0; i < 21; ++i) {
    many += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  }
  many += "]";
  EXPECT_FALSE(field_error(a.browser.call("POST", "/api/v1/memories",
                                          "{\"title\":\"t\",\"tags\":" + many + "}"),
                           "tags")
                   .empty());
  EXPECT_FALSE(
      field_error(a.browser.call("POST", "/api/v1/memories",
                                 "{\"title\":\"t\",\"tags\":[\"" + std::string(41, 'g') + "\"]}"),
                  "tags")
          .empty());
  // TEN-7: tenant_id, id or unknown fields are refused and change nothing.
  HttpResponse sneaky =
      a.browser.call("PATCH", "/api/v1/memories/" + id,
                     R"({"title":"x","tenant_id":"00000000-0000-0000-0000-000000000000"})");
  EXPECT_EQ(sneaky.status, 400);
  EXPECT_THAT(a.browser.call("GET", "/api/v1/memories/" + id).body, HasSubstr("Renamed"));
  EXPECT_EQ(a.browser.call("DELETE", "/api/v1/memories/" + id).status, 200);
  EXPECT_EQ(a.browser.call("GET", "/api/v1/memories/" + id).status, 404);
  EXPECT_EQ(a.browser.call("GET", "/api/v1/memories/not-a-uuid").status, 404);
}

TEST_F(ResourcesTest, TEN1_OtherTenantsRowsAreNotFoundAndNeverListed) {
  Tenant a = new_tenant("iso-a");
  Tenant b = new_tenant("iso-b");
  std::string a_ctx = create_context(a.browser, "Secret plans");
  std::string a_mem = create_memory(a.browser, "A's secret", "launch codes 1234", a_ctx);
  for (const char* method : {"GET", "PATCH", "DELETE"}) {
    HttpResponse r = b.browser.call(method, "/api/v1/memories/" + a_mem,
                                    std::string(method) == "PATCH" ? R"({"title":"pwned"})" : "");
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_THAT(r.body, Not(HasSubstr("launch codes")));
    HttpResponse c = b.browser.call(method, "/api/v1/contexts/" + a_ctx,
                                    std::string(method) == "PATCH" ? R"({"name":"pwned"})" : "");
    EXPECT_EQ(c.status, 404) << method;
  }
  HttpResponse list = b.browser.call("GET", "/api/v1/memories");
  EXPECT_THAT(list.body, Not(HasSubstr(a_mem)));
  EXPECT_EQ(b.browser.call("GET", "/api/v1/memories?context_id=" + a_ctx).status, 404);
  HttpResponse ctxs = b.browser.call("GET", "/api/v1/contexts");
  EXPECT_THAT(ctxs.body, Not(HasSubstr(a_ctx)));
  // B cannot attach a memory to A's context either.
  HttpResponse attach = b.browser.call("POST", "/api/v1/memories",
                                       "{\"title\":\"x\",\"context_id\":\"" + a_ctx + "\"}");
  EXPECT_EQ(attach.status, 400);
  // Headers naming A's tenant change nothing.
  HttpResponse spoof =
      b.browser.call("GET", "/api/v1/memories", "",
                     {"X-Tenant-ID: " + a.who.tenant_id, "X-Customer-ID: " + a.who.tenant_id});
  EXPECT_THAT(spoof.body, Not(HasSubstr(a_mem)));
  EXPECT_THAT(a.browser.call("GET", "/api/v1/memories/" + a_mem).body, HasSubstr("launch codes"));
}

TEST_F(ResourcesTest, TEN6_WalkingAllPagesSeesEveryMemoryOnceNewestFirst) {
  Tenant a = new_tenant("pages");
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(create_memory(a.browser, "m" + std::to_string(i), "c"));
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    HttpResponse r = a.browser.call(
        "GET", "/api/v1/memories?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = parse(r);
    EXPECT_EQ(d["page"]["limit"].GetInt(), 10);
    for (const auto& m : d["data"].GetArray()) {
      seen.push_back(m["id"].GetString());
    }
    ++pages;
    if (pages == 1) {
      // Rows inserted while walking do not disturb the walk.
      create_memory(a.browser, "late", "c");
    }
    if (!d["page"]["has_more"].GetBool()) {
      EXPECT_TRUE(d["page"]["next_cursor"].IsNull());
      break;
    }
    cursor = d["page"]["next_cursor"].GetString();
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);
  // Default 20, max 100, above is 400.
  rapidjson::Document def = parse(a.browser.call("GET", "/api/v1/memories"));
  EXPECT_EQ(def["page"]["limit"].GetInt(), 20);
  EXPECT_EQ(def["data"].Size(), 20u);
  EXPECT_EQ(a.browser.call("GET", "/api/v1/memories?limit=101").status, 400);
  EXPECT_EQ(a.browser.call("GET", "/api/v1/memories?limit=abc").status, 400);
  // Tampered, foreign-list and foreign-tenant cursors are 400.
  std::string good =
      parse(a.browser.call("GET", "/api/v1/memories?limit=5"))["page"]["next_cursor"].GetString();
  std::string tampered = good;
  tampered[3] = tampered[3] == 'x' ? 'y' : 'x';
  EXPECT_EQ(code_of(a.browser.call("GET", "/api/v1/memories?cursor=" + tampered)),
            "invalid_cursor");
  EXPECT_EQ(code_of(a.browser.call("GET", "/api/v1/contexts?cursor=" + good)), "invalid_cursor");
  Tenant b = new_tenant("pages-b");
  EXPECT_EQ(code_of(b.browser.call("GET", "/api/v1/memories?cursor=" + good)), "invalid_cursor");
}

TEST_F(ResourcesTest, FiltersByContextAndTag) {
  Tenant a = new_tenant("filter");
  std::string c1 = create_context(a.browser, "One");
  std::string c2 = create_context(a.browser, "Two");
  std::string m1 = create_memory(a.browser, "a", "", c1, R"(["red"])");
  std::string m2 = create_memory(a.browser, "b", "", c2, R"(["red","blue"])");
  std::string m3 = create_memory(a.browser, "c", "", c1, R"(["blue"])");
  auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    rapidjson::Document d = parse(a.browser.call("GET", "/api/v1/memories" + query));
    for (const auto& m : d["data"].GetArray()) {
      out.push_back(m["id"].GetString());
    }
    return out;
  };
  EXPECT_EQ(ids("?context_id=" + c1), (std::vector<std::string>{m3, m1}));
  EXPECT_EQ(ids("?tag=red"), (std::vector<std::string>{m2, m1}));
  EXPECT_EQ(ids("?tag=blue&context_id=" + c1), (std::vector<std::string>{m3}));
  EXPECT_TRUE(ids("?tag=green").empty());
}

TEST_F(ResourcesTest, CRY1_ContentIsEncryptedAtRestAndBoundToItsRow) {
  Tenant a = new_tenant("crypt");
  Tenant b = new_tenant("crypt-b");
  std::string secret = "canary-" + random_hex(8);
  std::string m1 = create_memory(a.browser, "one", secret);
  std::string m2 = create_memory(a.browser, "two", "other text");
  std::string b1 = create_memory(b.browser, "b", "b's text");
  std::string stored = db_text("SELECT content_enc FROM memories WHERE id = :id", m1);
  EXPECT_EQ(stored.rfind("v1.", 0), 0u) << stored;
  EXPECT_THAT(stored, Not(HasSubstr(secret)));
  // CRY-2: a ciphertext copied into another row, or another tenant's row,
  // fails to decrypt: a generic 500 for the client, an alert in the log.
  db() << "UPDATE memories SET content_enc = :c WHERE id = :id", soci::use(stored), soci::use(m2);
  db() << "UPDATE memories SET content_enc = :c WHERE id = :id", soci::use(stored), soci::use(b1);
  for (auto [browser, id] : {std::pair{&a.browser, m2}, std::pair{&b.browser, b1}}) {
    HttpResponse r = browser->call("GET", "/api/v1/memories/" + id);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(code_of(r), "internal_error");
    EXPECT_THAT(r.body, Not(HasSubstr(secret)));
    EXPECT_THAT(r.body, Not(HasSubstr("v1.")));
  }
  EXPECT_THAT(a.browser.call("GET", "/api/v1/memories/" + m1).body, HasSubstr(secret));
  std::ifstream log(std::getenv("PORTCULLIS_TEST_LOG"));
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(all, HasSubstr("crypto.decrypt_failed"));
  EXPECT_THAT(all, Not(HasSubstr(secret)));
}

// #9 item 24: 57 memories in pages of 10 are 6 pages, each memory exactly
// once, newest first, and the last page says there is no more.
TEST_F(ResourcesTest, TEN6_FiftySevenMemoriesInPagesOfTenHaveNoGapsOrDuplicates) {
  Tenant a = new_tenant("pages57");
  std::vector<std::string> ids;
  for (int i = 0; i < 57; ++i) {
    ids.push_back(create_memory(a.browser, "m" + std::to_string(i), "c"));
  }
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  std::string cursor;
  for (int guard = 0; guard < 20; ++guard) {
    HttpResponse r = a.browser.call(
        "GET", "/api/v1/memories?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = parse(r);
    page_sizes.push_back(d["data"].Size());
    for (const auto& m : d["data"].GetArray()) {
      seen.push_back(m["id"].GetString());
    }
    if (!d["page"]["has_more"].GetBool()) {
      EXPECT_TRUE(d["page"]["next_cursor"].IsNull());
      break;
    }
    cursor = d["page"]["next_cursor"].GetString();
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{10, 10, 10, 10, 10, 7}));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size()) << "duplicates";
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend())) << "gaps or disorder";
}

// #9 item 22: creating, reading, updating and deleting a memory and creating
// and renaming a context each leave exactly one audit record carrying the
// answer's X-Request-Id, and a log line; the memory's text is in neither.
TEST_F(ResourcesTest, LOG1_MemoryAndContextActionsAreAuditedOnceWithoutContent) {
  Tenant a = new_tenant("audit-mem");
  const std::string title = "title-canary-" + random_hex(6);
  const std::string content = "content-canary-" + random_hex(6);
  const std::string content2 = "content-canary-" + random_hex(6);
  struct Action {
    std::string event;
    std::string target;
    HttpResponse answer;
  };
  std::vector<Action> actions;
  auto act = [&](const std::string& event, HttpResponse r, const char* id_key = "id") {
    EXPECT_LT(r.status, 300) << event << " " << r.body;
    rapidjson::Document d = parse(r);
    std::string target = d.IsObject() && d.HasMember(id_key) ? d[id_key].GetString() : "";
    actions.push_back({event, target, std::move(r)});
    return target;
  };
  std::string ctx =
      act("context.created", a.browser.call("POST", "/api/v1/contexts", R"({"name":"Audited"})"));
  act("context.renamed",
      a.browser.call("PATCH", "/api/v1/contexts/" + ctx, R"({"name":"Audited too"})"));
  std::string mem = act(
      "memory.created",
      a.browser.call("POST", "/api/v1/memories",
                     "{\"title\":" + json_string(title) + ",\"content\":" + json_string(content) +
                         ",\"context_id\":\"" + ctx + "\",\"tags\":[\"t\"]}"));
  act("memory.read", a.browser.call("GET", "/api/v1/memories/" + mem));
  act("memory.updated", a.browser.call("PATCH", "/api/v1/memories/" + mem,
                                       "{\"content\":" + json_string(content2) + "}"));
  HttpResponse deleted = a.browser.call("DELETE", "/api/v1/memories/" + mem);
  actions.push_back({"memory.deleted", mem, deleted});
  EXPECT_EQ(deleted.status, 200);
  // Negative: a read of an id that is not there is no memory.read.
  HttpResponse missing = a.browser.call("GET", "/api/v1/memories/" + mem);
  EXPECT_EQ(missing.status, 404);

  HttpResponse trail = a.browser.call("GET", "/api/v1/audit-events?limit=100");
  ASSERT_EQ(trail.status, 200) << trail.body;
  rapidjson::Document d = parse(trail);
  std::ifstream log_file(std::getenv("PORTCULLIS_TEST_LOG"));
  std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  std::string missing_rid = missing.header("x-request-id");
  for (const Action& action : actions) {
    std::string rid = action.answer.header("x-request-id");
    ASSERT_FALSE(rid.empty()) << action.event;
    int with_rid = 0;
    int matching = 0;
    for (const auto& e : d["data"].GetArray()) {
      if (!e["request_id"].IsString() || e["request_id"].GetString() != rid) {
        continue;
      }
      ++with_rid;
      if (e["event"].GetString() == action.event && e["target"]["id"].IsString() &&
          e["target"]["id"].GetString() == action.target) {
        ++matching;
      }
    }
    EXPECT_EQ(matching, 1) << action.event << " " << rid << "\n" << trail.body;
    EXPECT_EQ(with_rid, 1) << action.event << " " << rid;
    bool logged = false;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      logged = logged || (line.find(rid) != std::string::npos &&
                          line.find("\"" + action.event + "\"") != std::string::npos);
    }
    EXPECT_TRUE(logged) << "no log line for " << action.event << " " << rid;
  }
  EXPECT_THAT(trail.body, Not(HasSubstr(missing_rid)));
  // Fields are named, values are not.
  EXPECT_THAT(trail.body, HasSubstr(R"("fields":"content")"));
  for (const std::string& text : {title, content, content2}) {
    EXPECT_THAT(trail.body, Not(HasSubstr(text)));
    EXPECT_THAT(log, Not(HasSubstr(text)));
    // Every text column of every audit row, read from the database.
    const std::string pattern = "%" + text + "%";
    int rows = -1;
    db() << "SELECT COUNT(*) FROM audit_events WHERE (event || ' ' || COALESCE(session_id, '') || "
            "' ' || COALESCE(user_agent, '') || ' ' || COALESCE(target_type, '') || ' ' || "
            "COALESCE(target_id, '') || ' ' || CAST(details AS TEXT)) LIKE :p",
        soci::use(pattern), soci::into(rows);
    EXPECT_EQ(rows, 0) << text;
  }
}

}  // namespace
}  // namespace portcullis::testing
