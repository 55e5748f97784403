#include "app/http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/auth/authenticate.h"
#include "app/http/api_error.h"
#include "app/http/context.h"
#include "app/http/dispatch.h"

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

// The state e-mail verification holds a session in (decided per request,
// never stored): only the policies of me and resend (kSignedIn) and of
// logout (kAnySession) allow it; MFA enrolment's and every other do not.
TEST(RouterTest, REC5_OnlyMeResendAndLogoutPoliciesAllowTheVerificationState) {
  EXPECT_TRUE(Access::kSignedIn.allows_state(kStateVerificationRequired));
  EXPECT_TRUE(Access::kAnySession.allows_state(kStateVerificationRequired));
  EXPECT_TRUE(Access::kSignedIn.allows_state(kStateFull));
  EXPECT_TRUE(Access::kSignedIn.allows_state(kStateEnrollmentRequired));
  EXPECT_FALSE(Access::kSignedIn.allows_state(kStateMfaPending));
  for (const Access* a : {&Access::kAuthenticated, &Access::kRecentAuth, &Access::kAdmin,
                          &Access::kAdminView, &Access::kOwner, &Access::kMfaPending,
                          &Access::kEnrollment, &Access::kEnrollmentRecentAuth}) {
    EXPECT_FALSE(a->allows_state(kStateVerificationRequired));
  }
}

// enforce_access reads the effective state from the principal: a session
// stored as full but held back by verification gets 403
// email_verification_required off its routes; an MFA-pending one stays 401.
TEST(RouterTest, REC5_EnforceAccessHoldsBackByTheEffectiveState) {
  Authenticated auth;
  auth.session.auth_state = "full";
  auth.principal.auth_state = "verification_required";
  Request get;
  get.method = "GET";
  Config config;
  try {
    enforce_access(Access::kAuthenticated, auth, get, config);
    ADD_FAILURE() << "not refused";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "email_verification_required");
  }
  EXPECT_NO_THROW(enforce_access(Access::kSignedIn, auth, get, config));
  auth.principal.auth_state = "full";
  EXPECT_NO_THROW(enforce_access(Access::kAuthenticated, auth, get, config));
  auth.session.auth_state = "mfa_pending";
  auth.principal.auth_state = "mfa_pending";
  try {
    enforce_access(Access::kSignedIn, auth, get, config);
    ADD_FAILURE() << "not refused";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 401);
  }
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
