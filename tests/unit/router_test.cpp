#include "app/http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/http/context.h"

namespace portcullis {
namespace {

Response ok(Context&) { return Response{}; }

TEST(RouterTest, MatchesPathParameters) {
  Router r;
  r.add("GET", "/api/v1/things/{id}", Access::kPublic, ok);
  Router::Match m = r.match("GET", "/api/v1/things/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("id"), "abc");
}

TEST(RouterTest, API7_UnknownPathIsNotFoundAndWrongMethodListsAllow) {
  Router r;
  r.add("GET", "/api/v1/things", Access::kPublic, ok);
  r.add("POST", "/api/v1/things", Access::kPublic, ok);
  Router::Match unknown = r.match("GET", "/api/v1/nothing");
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_TRUE(unknown.allow.empty());
  Router::Match wrong = r.match("DELETE", "/api/v1/things");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allow, "GET, POST");
  EXPECT_EQ(r.match("TRACE", "/api/v1/things").allow, "GET, POST");
}

TEST(RouterTest, EmptySegmentDoesNotMatchParameter) {
  Router r;
  r.add("GET", "/api/v1/things/{id}", Access::kPublic, ok);
  EXPECT_EQ(r.match("GET", "/api/v1/things/").route, nullptr);
  EXPECT_EQ(r.match("GET", "/api/v1/things/a/b").route, nullptr);
}

TEST(RouterTest, DuplicateRouteFailsStartUp) {
  Router r;
  r.add("GET", "/api/v1/x", Access::kPublic, ok);
  EXPECT_THROW(r.add("GET", "/api/v1/x", Access::kPublic, ok), std::logic_error);
}

// Default deny is a compile-time property: Access has no public constructor
// and Router::add has no overload without one.
static_assert(!std::is_default_constructible_v<Access>);
static_assert(!std::is_invocable_v<decltype(&Router::add),
                                   Router&,
                                   const std::string&,
                                   const std::string&,
                                   Handler>);

}  // namespace
}  // namespace portcullis
