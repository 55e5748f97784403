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

namespace portcullis {

struct Context;

class Access {
 public:
  // Anyone, no session needed. Only health, register and login are Public.
  static const Access kPublic;

  bool is_public() const { return public_; }

 private:
  explicit constexpr Access(bool is_public) : public_(is_public) {}
  bool public_;
};

using Handler = std::function<Response(Context&)>;

struct Route {
  std::string method;
  std::string pattern;                // e.g. "/api/v1/contexts/{id}"
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
