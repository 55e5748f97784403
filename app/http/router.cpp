#include "app/http/router.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace portcullis {

const Access Access::kPublic{0, Role::kMember, false};
const Access Access::kAuthenticated{kStateFull, Role::kMember, false};
const Access Access::kRecentAuth{kStateFull, Role::kMember, true};
const Access Access::kAdmin{kStateFull, Role::kAdmin, true};
const Access Access::kAdminView{kStateFull, Role::kAdmin, false};
const Access Access::kOwner{kStateFull, Role::kOwner, true};
const Access Access::kAnySession{
    kStateFull | kStateMfaPending | kStateEnrollmentRequired | kStateVerificationRequired,
    Role::kMember, false};
const Access Access::kMfaPending{kStateMfaPending, Role::kMember, false};
const Access Access::kEnrollment{kStateFull | kStateEnrollmentRequired, Role::kMember, false};
const Access Access::kEnrollmentRecentAuth{kStateFull | kStateEnrollmentRequired, Role::kMember,
                                           true};
const Access Access::kSignedIn{kStateFull | kStateEnrollmentRequired | kStateVerificationRequired,
                               Role::kMember, false};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 1;
  if (path.empty() || path[0] != '/') {
    return out;
  }
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

void Router::add(const std::string& method,
                 const std::string& pattern,
                 Access access,
                 Handler handler) {
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      throw std::logic_error("duplicate route " + method + " " + pattern);
    }
  }
  routes_.push_back(Route{method, pattern, split_path(pattern), access, std::move(handler)});
}

namespace {
bool segments_match(const std::vector<std::string>& pattern,
                    const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (path[i].empty()) {
        return false;
      }
      (*params)[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}
}  // namespace

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  std::vector<std::string> segments = split_path(path);
  std::set<std::string> allowed;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    if (!segments_match(r.segments, segments, &params)) {
      continue;
    }
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    allowed.insert(r.method);
  }
  for (const std::string& a : allowed) {
    if (!m.allow.empty()) {
      m.allow += ", ";
    }
    m.allow += a;
  }
  return m;
}

}  // namespace portcullis
