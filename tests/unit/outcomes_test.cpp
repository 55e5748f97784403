// The outcomes the core returns below app/http (DESIGN §3, STYLE §4.2): auth
// and crypto decide, app/http maps; the role is one enum with its text only
// at the edges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "app/auth/account.h"
#include "app/auth/authenticate.h"
#include "app/config/config.h"
#include "app/crypto/aead.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/http/api_error.h"
#include "app/http/guards.h"
#include "app/http/password_policy.h"
#include "app/store/role.h"
#include "app/store/role_column.h"

namespace portcullis {
namespace {

TEST(RoleTest, TextRoundTripsAndAnythingElseIsNoRole) {
  for (Role r : {Role::kMember, Role::kAdmin, Role::kOwner}) {
    EXPECT_EQ(role_from_string(to_string(r)), r);
  }
  EXPECT_EQ(role_from_string("Owner"), std::nullopt);
  EXPECT_EQ(role_from_string(""), std::nullopt);
  EXPECT_EQ(role_from_string("owner "), std::nullopt);
  EXPECT_TRUE(role_at_least(Role::kOwner, Role::kAdmin));
  EXPECT_TRUE(role_at_least(Role::kAdmin, Role::kAdmin));
  EXPECT_FALSE(role_at_least(Role::kMember, Role::kAdmin));
}

TEST(RoleTest, ColumnReadsAndBindsThroughItsText) {
  std::unique_ptr<soci::session> db = open_session("sqlite://:memory:", DbOptions{});
  soci::session& sql = *db;
  sql << "CREATE TABLE t (role TEXT NOT NULL)";
  Role admin = Role::kAdmin;
  sql << "INSERT INTO t (role) VALUES (:r)", soci::use(admin);
  std::string text;
  sql << "SELECT role FROM t", soci::into(text);
  EXPECT_EQ(text, "admin");
  Role back = Role::kMember;
  sql << "SELECT role FROM t", soci::into(back);
  EXPECT_EQ(back, Role::kAdmin);
  sql << "UPDATE t SET role = 'root'";
  auto read_back = [&] { sql << "SELECT role FROM t", soci::into(back); };
  EXPECT_THROW(read_back(), std::runtime_error);
}

TEST(OriginTest, CrossSiteOrAForeignOriginIsRefused) {
  Config config;
  config.allowed_origins = {"https://app.example"};
  EXPECT_TRUE(origin_allowed("", "", config));
  EXPECT_TRUE(origin_allowed("same-origin", "https://app.example", config));
  EXPECT_FALSE(origin_allowed("cross-site", "", config));
  EXPECT_FALSE(origin_allowed("", "https://evil.example", config));
}

TEST(CsrfTest, TokenMustBeSentAndEqual) {
  Session s;
  s.csrf_token = "abc";
  EXPECT_TRUE(csrf_token_matches("abc", s));
  EXPECT_FALSE(csrf_token_matches("abd", s));
  EXPECT_FALSE(csrf_token_matches("", s));
  s.csrf_token = "";
  EXPECT_FALSE(csrf_token_matches("", s));
}

TEST(PasswordPolicyTest, AuthDecidesAndHttpMapsToTheSameAnswers) {
  EXPECT_EQ(min_password_code_points(false), 15u);
  EXPECT_EQ(min_password_code_points(true), 8u);
  EXPECT_EQ(check_account_password("short pass", {}, false), PasswordProblem::kTooShort);
  EXPECT_EQ(check_account_password("kettle-oboe-9", {}, true), PasswordProblem::kNone);
  Request r;
  r.method = "POST";
  r.body = R"({"password":"short pass","name":""})";
  r.headers["content-type"] = "application/json";
  run_guards(r);
  try {
    JsonBody body(r, {"password", "name"});
    (void)body.name("name");
    record_password_policy(body, "short pass", {}, "password");
    body.finish();
    ADD_FAILURE() << "no ApiError";
  } catch (const ApiError& e) {
    // Issue 12 item 6: the policy joins the body's other field errors.
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.code(), "validation_failed");
    EXPECT_EQ(e.fields().at("password"), "must be at least 15 characters");
    EXPECT_EQ(e.fields().at("name"), "is required");
  }
  JsonBody ok(r, {"password", "name"});
  record_password_policy(ok, "kettle-oboe-9", {}, "password", true);
  EXPECT_NO_THROW(ok.finish());
  // The block list alone keeps its own code; with another error it joins
  // validation_failed.
  JsonBody listed(r, {"password", "name"});
  record_password_policy(listed, "password1234567890", {}, "password");
  try {
    listed.finish();
    ADD_FAILURE() << "no ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), "password_blocklisted");
    EXPECT_EQ(e.fields().count("password"), 1u);
  }
  (void)listed.name("name");
  try {
    listed.finish();
    ADD_FAILURE() << "no ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), "validation_failed");
    EXPECT_EQ(e.fields().size(), 2u);
  }
}

TEST(DecryptFailureTest, DiagnoseNamesWhyABlobDidNotOpen) {
  const FieldCipher cipher({{"k1", random_bytes(32)}}, "k1");
  const std::string blob = cipher.encrypt("x", "a");
  EXPECT_EQ(cipher.diagnose("nonsense"), DecryptFailure::kMalformed);
  EXPECT_EQ(cipher.diagnose("v1.k2." + blob.substr(6)), DecryptFailure::kUnknownKey);
  EXPECT_EQ(cipher.diagnose(blob), DecryptFailure::kAuthFailed);  // under another AAD
  EXPECT_STREQ(to_string(DecryptFailure::kUnknownKey), "unknown_key");
}

}  // namespace
}  // namespace portcullis
