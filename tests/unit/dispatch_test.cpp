// The request pipeline without nginx: guards, routing, the error mapper.
#include "app/http/dispatch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/random.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/http/api_error.h"
#include "app/http/context.h"

#include "handlers/routes.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DispatchTest : public ::testing::Test {
 protected:
  DispatchTest()
      : db_("sqlite://:memory:", DbOptions{}),
        audit_(),
        keys_(random_bytes(32), {{"k1", random_bytes(32)}}, "k1") {
    router_ = build_router();
    router_.add("GET", "/api/v1/unit/throw", Access::kPublic, [](Context&) -> Response {
      throw std::runtime_error("SELECT password_hash FROM users -- internal");
    });
    router_.add("POST", "/api/v1/unit/echo", Access::kPublic, [](Context&) { return Response{}; });
    config_.max_body_bytes = 1024;
  }

  Response send(const std::string& method,
                const std::string& path,
                const std::string& body = "",
                const std::string& content_type = "application/json") {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.request_id = "req-123";
    if (!content_type.empty()) {
      r.headers["content-type"] = content_type;
    }
    r.body_too_large = body.size() > config_.max_body_bytes;
    Services s{router_, db_, audit_, config_, keys_};
    return handle_request(r, s);
  }

  static rapidjson::Document parse(const Response& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d;
  }

  void expect_envelope(const Response& r, int status, const char* code) {
    EXPECT_EQ(r.status, status);
    rapidjson::Document d = parse(r);
    ASSERT_TRUE(d.IsObject()) << r.body;
    ASSERT_TRUE(d.HasMember("error")) << r.body;
    EXPECT_STREQ(d["error"]["code"].GetString(), code);
    EXPECT_STREQ(d["error"]["request_id"].GetString(), "req-123");
    EXPECT_TRUE(d["error"]["message"].IsString());
    ASSERT_NE(r.find_header("X-Request-Id"), nullptr);
    EXPECT_EQ(*r.find_header("X-Request-Id"), "req-123");
  }

  Db db_;
  Audit audit_;
  Config config_;
  WorkerKeys keys_;
  Router router_;
};

TEST_F(DispatchTest, HealthIsOkOnAReachableDatabase) {
  Response r = send("GET", "/api/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok","database":"ok"})");
  EXPECT_EQ(*r.find_header("Cache-Control"), "no-store");
}

TEST_F(DispatchTest, API1_BodyOverLimitIs413BeforeRouting) {
  expect_envelope(send("POST", "/api/v1/nowhere", std::string(2000, ' ')), 413,
                  "payload_too_large");
}

TEST_F(DispatchTest, API1_NonJsonBodyIs415BeforeRouting) {
  expect_envelope(send("POST", "/api/v1/nowhere", "{}", "text/plain"), 415,
                  "unsupported_media_type");
  expect_envelope(send("POST", "/api/v1/unit/echo", "a=b", "application/x-www-form-urlencoded"),
                  415, "unsupported_media_type");
  expect_envelope(send("POST", "/api/v1/unit/echo", "{}", ""), 415, "unsupported_media_type");
  EXPECT_EQ(send("POST", "/api/v1/unit/echo", "{}", "Application/JSON; charset=utf-8").status, 200);
}

TEST_F(DispatchTest, API2_MalformedOrDeepJsonIs400) {
  expect_envelope(send("POST", "/api/v1/unit/echo", "{"), 400, "invalid_json");
  expect_envelope(send("POST", "/api/v1/unit/echo", std::string(33, '[') + std::string(33, ']')),
                  400, "invalid_json");
}

TEST_F(DispatchTest, API7_UnknownPathIs404AndWrongMethodIs405WithAllow) {
  expect_envelope(send("GET", "/api/v1/nothing-here"), 404, "not_found");
  Response r = send("DELETE", "/api/v1/health");
  expect_envelope(r, 405, "method_not_allowed");
  ASSERT_NE(r.find_header("Allow"), nullptr);
  EXPECT_EQ(*r.find_header("Allow"), "GET");
}

TEST_F(DispatchTest, ERR1_UnexpectedExceptionIsGeneric500WithoutDetails) {
  Response r = send("GET", "/api/v1/unit/throw");
  expect_envelope(r, 500, "internal_error");
  EXPECT_THAT(r.body, Not(HasSubstr("password_hash")));
  EXPECT_THAT(r.body, Not(HasSubstr("SELECT")));
}

TEST_F(DispatchTest, DeprecatedHealthAliasCarriesSuccessorHeaders) {
  Response r = send("GET", "/api/health");
  EXPECT_EQ(r.status, 200);
  ASSERT_NE(r.find_header("Deprecation"), nullptr);
  ASSERT_NE(r.find_header("Sunset"), nullptr);
  EXPECT_EQ(*r.find_header("Link"), "</api/v1/health>; rel=\"successor-version\"");
}

TEST_F(DispatchTest, PathIdsThatAreNotUuidsAreNotFoundBeforeTheHandler) {
  bool called = false;
  router_.add("GET", "/api/v1/unit/things/{id}", Access::kPublic, [&](Context&) {
    called = true;
    return Response{};
  });
  for (const char* bad :
       {"1", "not-a-uuid", "01A20E11-424D-7ABE-A1E5-277C7674908C", "'%20OR%201=1"}) {
    expect_envelope(send("GET", std::string("/api/v1/unit/things/") + bad), 404, "not_found");
  }
  EXPECT_FALSE(called);
  EXPECT_EQ(send("GET", "/api/v1/unit/things/01a20e11-424d-7abe-a1e5-277c7674908c").status, 200);
  EXPECT_TRUE(called);
}

TEST_F(DispatchTest, AUTH5_ClosedRegistrationIsRefused) {
  config_.registration = "closed";
  Response r =
      send("POST", "/api/v1/auth/register",
           R"({"tenant_name":"A","email":"a@example.test","password":"x","display_name":"A"})");
  expect_envelope(r, 403, "forbidden");
}

TEST_F(DispatchTest, SESS_NonPublicRouteWithoutCookieIs401) {
  expect_envelope(send("GET", "/api/v1/me"), 401, "unauthenticated");
  expect_envelope(send("POST", "/api/v1/auth/logout"), 401, "unauthenticated");
}

TEST_F(DispatchTest, HealthIs503WhenDatabaseIsUnreachable) {
  Db broken("sqlite:///nonexistent-dir/x/y.db", DbOptions{});
  Request r;
  r.method = "GET";
  r.path = "/api/v1/health";
  r.request_id = "req-123";
  Services s{router_, broken, audit_, config_, keys_};
  Response resp = handle_request(r, s);
  EXPECT_EQ(resp.status, 503);
  EXPECT_EQ(resp.body, R"({"status":"unavailable","database":"unavailable"})");
}

}  // namespace
}  // namespace portcullis
