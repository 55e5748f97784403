// Router: method + path pattern → handler, and every route's access policy.
//
// Default deny: Router::add() has no overload without an Access, and Access
// can only be one of the named policies below (its constructor is private),
// so a route without a policy does not compile.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "app/http/request.h"
#include "app/http/response.h"
#include "app/store/role.h"

namespace portcullis {

struct Context;

// The session states a route may be called in (a set: logout takes full and
// pending sessions). kStateVerificationRequired is never stored: it is the
// state of a session whose tenant requires a verified e-mail address while
// the account's is unproven, decided per request (app/auth/authenticate.cpp).
enum SessionState : unsigned {
  kStateFull = 1u << 0,
  kStateMfaPending = 1u << 1,
  kStateEnrollmentRequired = 1u << 2,
  kStateVerificationRequired = 1u << 3,
};

// A route's access policy. The only way to make one is a named policy below,
// and the constructor is private, so every route states its policy.
class Access {
 public:
  // Anyone, no session. Only health, register and login are Public.
  static const Access kPublic;
  // A full session.
  static const Access kAuthenticated;
  // A full session that re-authenticated within the step-up window (§7).
  static const Access kRecentAuth;
  // A full session of an admin or owner, recently authenticated (actions).
  static const Access kAdmin;
  // A full session of an admin or owner (reading members, invitations, audit).
  static const Access kAdminView;
  // A full session of the tenant owner, recently authenticated.
  static const Access kOwner;
  // Any session: full, MFA-pending, verification-only or enrolment-only (logout).
  static const Access kAnySession;
  // Only an MFA-pending session (the second login step).
  static const Access kMfaPending;
  // A full session or one that must enrol MFA first (me, MFA enrolment).
  static const Access kEnrollment;
  // The same, recently authenticated (starting MFA enrolment).
  static const Access kEnrollmentRecentAuth;
  // A signed-in session past its second factor: full, enrolment-only or one
  // that must verify its e-mail address first (me, resending the
  // verification mail).
  static const Access kSignedIn;

  bool is_public() const { return states_ == 0; }
  bool allows_state(SessionState s) const { return (states_ & s) != 0; }
  Role min_role() const { return role_; }
  bool recent_auth() const { return recent_auth_; }

 private:
  constexpr Access(unsigned states, Role role, bool recent_auth)
      : states_(states), role_(role), recent_auth_(recent_auth) {}
  unsigned states_;
  Role role_;
  bool recent_auth_;
};

using Handler = std::function<Response(Context&)>;

struct Route {
  std::string method;
  std::string pattern;                // e.g. "/api/v1/contexts/{id}"; every {param} is a UUID
  std::vector<std::string> segments;  // pattern split on '/'
  Access access;
  Handler handler;
};

class Router {
 public:
  // REQUIRES: method is upper-case; pattern starts with '/'; no duplicate
  // (method, pattern). Throws std::logic_error on a duplicate (start-up fails).
  void add(const std::string& method, const std::string& pattern, Access access, Handler handler);

  struct Match {
    const Route* route = nullptr;  // set when method and path match
    std::map<std::string, std::string> params;
    std::string allow;  // set when only the path matched (405)
  };
  // Finds the route for method + path. route == nullptr and allow empty → 404.
  Match match(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

std::vector<std::string> split_path(const std::string& path);

}  // namespace portcullis
