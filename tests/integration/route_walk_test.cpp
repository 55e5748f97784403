// Walks of the real route table (the one `portcullis serve` builds), so a
// route added later is covered or fails here until someone decides (#9 items
// 22 and 24):
//  - every state-changing route writes an audit record carrying the answer's
//    X-Request-Id (LOG-1), with a commented exemption list;
//  - every answer is `Cache-Control: no-store` and carries no secret;
//  - every list route refuses limit=0/101/abc with 400;
//  - a member gets 403 on every admin route, an admin on every owner route;
//  - another tenant's owner or admin gets 404 on every route with an id, and
//    the target tenant is unchanged in the database.
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/http/router.h"

#include "handlers/routes.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/email_change_mail.h"
#include "tests/integration/recovery_mail.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string string_at(const HttpResponse& r, const char* key) {
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember(key) && d[key].IsString() ? d[key].GetString() : "";
}

std::string key_of(const Route& r) { return r.method + " " + r.pattern; }

bool is_test_route(const Route& r) {
  // Test builds only (PORTCULLIS_TEST_ROUTES): slow, failing and echo routes
  // for the server-core tests. They touch no data and are no product route.
  return r.pattern.rfind("/api/v1/test/", 0) == 0;
}

bool changes_state(const Route& r) { return r.method != "GET" && r.method != "HEAD"; }

std::string fill(const std::string& pattern, const std::string& id) {
  std::string out = pattern;
  size_t at = out.find("{id}");
  if (at != std::string::npos) {
    out.replace(at, 4, id);
  }
  return out;
}

// The TOTP code for a base32 secret now, from oathtool (an independent
// RFC 6238 implementation).
std::string totp_now(const std::string& secret) {
  std::string cmd = "oathtool --totp -b " + secret;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 64> buf{};
  std::string out;
  if (p != nullptr && std::fgets(buf.data(), buf.size(), p) != nullptr) {
    out = buf.data();
  }
  if (p != nullptr) {
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

struct User {
  std::string email;
  std::string id;
  Browser browser;
  std::string session_id;
  std::string totp_secret;  // set once enrolled
  std::vector<std::string> backup_codes;
};

// One tenant with an owner, an admin and a member, each logged in.
struct World {
  Registered owner_reg;
  User owner, admin, member;

  // Invites `role` into the tenant, joins and logs in.
  User join(const std::string& role) {
    User u;
    u.email = unique_email("walk-" + role);
    HttpResponse inv =
        owner.browser.call("POST", "/api/v1/members/invitations",
                           R"({"email":")" + u.email + R"(","role":")" + role + "\"}");
    EXPECT_EQ(inv.status, 201) << inv.body;
    HttpResponse joined = post_json("/api/v1/auth/register",
                                    R"({"email":")" + u.email + R"(","password":")" + kPassword +
                                        R"(","display_name":"Walker","invite_token":")" +
                                        string_at(inv, "token") + "\"}");
    EXPECT_EQ(joined.status, 201) << joined.body;
    u.id = db_text("SELECT id FROM users WHERE email = :e", u.email);
    log_in(u);
    return u;
  }

  static void log_in(User& u) {
    HttpResponse r = login_raw(u.email, kPassword);
    EXPECT_EQ(r.status, 200) << r.body;
    u.browser.cookie = session_token_from(r);
    u.browser.csrf = string_at(r, "csrf_token");
    rapidjson::Document d = parse(r);
    if (d.IsObject() && d.HasMember("session")) {
      u.session_id = d["session"]["id"].GetString();
    }
  }

  // Turns TOTP on for `u` (setup, then enable with a code from oathtool).
  static void enroll(User& u) {
    HttpResponse setup = u.browser.call("POST", "/api/v1/mfa/totp/setup");
    ASSERT_EQ(setup.status, 200) << setup.body;
    u.totp_secret = string_at(setup, "secret");
    HttpResponse enable = u.browser.call("POST", "/api/v1/mfa/totp/enable",
                                         R"({"code":")" + totp_now(u.totp_secret) + "\"}");
    ASSERT_EQ(enable.status, 200) << enable.body;
    rapidjson::Document d = parse(enable);
    for (const auto& c : d["backup_codes"].GetArray()) {
      u.backup_codes.emplace_back(c.GetString());
    }
  }
};

World make_world(const std::string& tag) {
  World w;
  w.owner_reg = register_tenant(tag);
  w.owner.email = w.owner_reg.email;
  w.owner.id = w.owner_reg.user_id;
  World::log_in(w.owner);
  w.admin = w.join("admin");
  w.member = w.join("member");
  return w;
}

std::string create(const Browser& b, const std::string& path, const std::string& body) {
  HttpResponse r = b.call("POST", path, body);
  EXPECT_EQ(r.status, 201) << path << " " << r.body;
  return string_at(r, "id");
}

// A body that passes validation for a route, so that a refusal is the
// route's policy or tenant check, never a 400.
std::string valid_body(const std::string& method, const std::string& pattern) {
  static const std::map<std::string, std::string> kBodies = {
      {"PATCH /api/v1/contexts/{id}", R"({"name":"changed by walk"})"},
      {"PATCH /api/v1/memories/{id}", R"({"title":"changed by walk"})"},
      {"PATCH /api/v1/members/{id}", R"({"role":"member","disabled":true})"},
      {"PATCH /api/v1/tenant", R"({"name":"Changed by walk"})"},
      {"POST /api/v1/members/invitations", R"({"email":"walk@example.test","role":"member"})"},
  };
  auto it = kBodies.find(method + " " + pattern);
  return it == kBodies.end() ? "" : it->second;
}

// Every row of a tenant that a request could change, as text, read from the
// database (as the schema owner on PostgreSQL). Read-only bookkeeping
// (sessions.last_seen_at) is left out.
std::string tenant_state(const std::string& tenant_id) {
  static const char* kQueries[] = {
      "SELECT name || '|' || CAST(require_mfa AS TEXT) || '|' || CAST(updated_at AS TEXT) FROM "
      "tenants WHERE id = :t",
      "SELECT CAST(id AS TEXT) || '|' || email || '|' || display_name || '|' || role || '|' || "
      "CAST(disabled AS TEXT) || '|' || CAST(mfa_enabled AS TEXT) || '|' || "
      "COALESCE(totp_secret_enc, '-') || '|' || password_hash || '|' || CAST(updated_at AS TEXT) "
      "FROM users WHERE tenant_id = :t ORDER BY id",
      "SELECT CAST(id AS TEXT) || '|' || token_hash || '|' || auth_state || '|' || "
      "CAST(expires_at AS TEXT) || '|' || COALESCE(CAST(revoked_at AS TEXT), '-') FROM sessions "
      "WHERE tenant_id = :t ORDER BY id",
      "SELECT CAST(id AS TEXT) || '|' || role || '|' || COALESCE(CAST(accepted_at AS TEXT), '-') "
      "|| '|' || COALESCE(CAST(revoked_at AS TEXT), '-') FROM invitations WHERE tenant_id = :t "
      "ORDER BY id",
      "SELECT CAST(id AS TEXT) || '|' || name || '|' || CAST(updated_at AS TEXT) FROM contexts "
      "WHERE tenant_id = :t ORDER BY id",
      "SELECT CAST(id AS TEXT) || '|' || title || '|' || content_enc || '|' || "
      "COALESCE(CAST(context_id AS TEXT), '-') || '|' || CAST(tags AS TEXT) || '|' || "
      "CAST(updated_at AS TEXT) FROM memories WHERE tenant_id = :t ORDER BY id",
      "SELECT CAST(memory_id AS TEXT) || '|' || tag FROM memory_tags WHERE tenant_id = :t "
      "ORDER BY memory_id, tag",
      "SELECT code_hash || '|' || COALESCE(CAST(used_at AS TEXT), '-') FROM backup_codes WHERE "
      "tenant_id = :t ORDER BY code_hash",
  };
  std::string out;
  for (const char* q : kQueries) {
    std::string line;
    soci::statement st = (db().prepare << q, soci::use(tenant_id), soci::into(line));
    st.execute();
    while (st.fetch()) {
      out += line + "\n";
    }
    out += "--\n";
  }
  return out;
}

std::vector<Route> product_routes() {
  const Router router = build_router();
  std::vector<Route> out;
  for (const Route& r : router.routes()) {
    if (!is_test_route(r)) {
      out.push_back(r);
    }
  }
  return out;
}

class RouteWalkTest : public ::testing::Test {
 protected:
  void SetUp() override { db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'"; }
};

// --- LOG-1 and the answers of every route ----------------------------------

struct Walked {
  std::string route;
  std::string note;  // what the answer is allowed to show (see secrets check)
  HttpResponse answer;
};

// A request that succeeds, for every product route. A route with no recipe
// fails the walk: add one (or an exemption, with its reason).
class RouteRecipes {
 public:
  explicit RouteRecipes(World& world) : w_(world) {
    auto& o = w_.owner;
    add("GET /api/v1/health", [](World&) { return get("/api/v1/health"); });
    add("GET /api/health", [](World&) { return get("/api/health"); });
    add("POST /api/v1/auth/register", [](World&) { return register_new("/api/v1/auth/register"); });
    add("POST /api/register", [](World&) { return register_new("/api/register"); });
    add("POST /api/v1/auth/login", [](World& w) {
      User u = w.join("member");
      return login_raw(u.email, kPassword);
    });
    add("POST /api/login", [](World& w) {
      User u = w.join("member");
      HttpRequest r;
      r.method = "POST";
      r.path = "/api/login";
      r.body = R"({"email":")" + u.email + R"(","password":")" + kPassword + "\"}";
      r.headers = {"Content-Type: application/json"};
      return send(r);
    });
    add("GET /api/v1/policy", [](World&) { return get("/api/v1/policy"); });
    add("POST /api/v1/auth/invitation", [&o](World&) {
      HttpResponse inv =
          o.browser.call("POST", "/api/v1/members/invitations",
                         R"({"email":")" + unique_email("walk-look") + R"(","role":"member"})");
      return post_json("/api/v1/auth/invitation",
                       R"({"token":")" + string_at(inv, "token") + "\"}");
    });
    add("POST /api/v1/auth/password/forgot", [](World&) {
      return post_json("/api/v1/auth/password/forgot",
                       R"({"email":")" + unique_email("walk-forgot") + "\"}");
    });
    add("POST /api/v1/auth/password/reset", [](World& w) {
      User u = w.join("member");
      recovery_mail::SmtpSink sink;
      post_json("/api/v1/auth/password/forgot", R"({"email":")" + u.email + "\"}");
      sink.deliver();
      std::vector<std::string> mails = recovery_mail::reset_mails(sink.messages_to(u.email));
      std::string token = mails.empty() ? "" : recovery_mail::reset_token_in(mails.back());
      return post_json(
          "/api/v1/auth/password/reset",
          R"({"token":")" + token + R"(","new_password":"amber orchard kettle drums 3141"})");
    });
    add("POST /api/v1/auth/email/verify", [](World&) {
      recovery_mail::SmtpSink sink;
      std::string email = unique_email("walk-verify");
      register_with(email);
      sink.deliver();
      std::vector<std::string> mails =
          sink.messages_to(email, "Confirm your portcullis e-mail address");
      std::string token;
      if (!mails.empty()) {
        const std::string marker = "/#/verify-email?token=";
        size_t at = mails.back().find(marker);
        if (at != std::string::npos) {
          token = mails.back().substr(at + marker.size(), 43);
        }
      }
      return post_json("/api/v1/auth/email/verify", R"({"token":")" + token + "\"}");
    });
    add("POST /api/v1/auth/email/verify/resend", [](World&) {
      User u;
      u.email = unique_email("walk-resend");
      register_with(u.email);
      World::log_in(u);
      return u.browser.call("POST", "/api/v1/auth/email/verify/resend");
    });
    add("POST /api/v1/auth/logout",
        [](World& w) { return w.join("member").browser.call("POST", "/api/v1/auth/logout"); });
    add("POST /api/v1/auth/refresh",
        [](World& w) { return w.join("member").browser.call("POST", "/api/v1/auth/refresh"); });
    add("POST /api/v1/auth/reauthenticate", [](World& w) {
      return w.join("member").browser.call("POST", "/api/v1/auth/reauthenticate",
                                           R"({"password":")" + std::string(kPassword) + "\"}");
    });
    add("POST /api/v1/auth/mfa/verify", [](World& w) {
      User u = w.join("member");
      World::enroll(u);
      HttpResponse pending = login_raw(u.email, kPassword);
      Browser b;
      b.cookie = session_token_from(pending);
      b.csrf = string_at(pending, "csrf_token");
      return b.call("POST", "/api/v1/auth/mfa/verify",
                    R"({"backup_code":")" + u.backup_codes.at(0) + "\"}");
    });
    add("GET /api/v1/me", [&o](World&) { return o.browser.call("GET", "/api/v1/me"); });
    add("PATCH /api/v1/me", [&o](World&) {
      return o.browser.call("PATCH", "/api/v1/me", R"({"display_name":"Walked Owner"})");
    });
    add("POST /api/v1/me/password", [](World& w) {
      return w.join("member").browser.call(
          "POST", "/api/v1/me/password",
          R"({"current_password":")" + std::string(kPassword) +
              R"(","new_password":"quiet harbour lanterns glow 9183"})");
    });
    add("POST /api/v1/me/email", [](World& w) {
      return w.join("member").browser.call("POST", "/api/v1/me/email",
                                           R"({"new_email":")" + unique_email("walk-new") + "\"}");
    });
    add("POST /api/v1/auth/email/change/confirm", [](World& w) {
      User u = w.join("member");
      recovery_mail::SmtpSink sink;
      std::string to = unique_email("walk-confirm");
      u.browser.call("POST", "/api/v1/me/email", R"({"new_email":")" + to + "\"}");
      sink.deliver();
      std::vector<std::string> mails = sink.messages_to(to, email_change_mail::kConfirmSubject);
      std::string token = mails.empty() ? ""
                                        : email_change_mail::token_after(
                                              mails.back(), email_change_mail::kConfirmLink);
      return post_json("/api/v1/auth/email/change/confirm", R"({"token":")" + token + "\"}");
    });
    add("POST /api/v1/auth/email/change/revert", [](World& w) {
      User u = w.join("member");
      recovery_mail::SmtpSink sink;
      u.browser.call("POST", "/api/v1/me/email",
                     R"({"new_email":")" + unique_email("walk-revert") + "\"}");
      sink.deliver();
      std::vector<std::string> mails =
          sink.messages_to(u.email, email_change_mail::kRequestedSubject);
      std::string token = mails.empty() ? ""
                                        : email_change_mail::token_after(
                                              mails.back(), email_change_mail::kRevertLink);
      return post_json("/api/v1/auth/email/change/revert", R"({"token":")" + token + "\"}");
    });
    add("GET /api/v1/tenant", [&o](World&) { return o.browser.call("GET", "/api/v1/tenant"); });
    add("PATCH /api/v1/tenant", [&o](World&) {
      return o.browser.call("PATCH", "/api/v1/tenant", valid_body("PATCH", "/api/v1/tenant"));
    });
    add("GET /api/v1/sessions", [&o](World&) { return o.browser.call("GET", "/api/v1/sessions"); });
    add("DELETE /api/v1/sessions/{id}", [](World& w) {
      User u = w.join("member");
      User second = u;
      World::log_in(second);
      return u.browser.call("DELETE", "/api/v1/sessions/" + second.session_id);
    });
    add("POST /api/v1/sessions/revoke-all", [](World& w) {
      return w.join("member").browser.call("POST", "/api/v1/sessions/revoke-all");
    });
    add("GET /api/v1/contexts", [&o](World&) { return o.browser.call("GET", "/api/v1/contexts"); });
    add("POST /api/v1/contexts", [&o](World&) {
      return o.browser.call("POST", "/api/v1/contexts",
                            R"({"name":"walk )" + random_hex(4) + "\"}");
    });
    add("GET /api/v1/contexts/{id}",
        [&o](World&) { return o.browser.call("GET", "/api/v1/contexts/" + new_context(o)); });
    add("PATCH /api/v1/contexts/{id}", [&o](World&) {
      return o.browser.call("PATCH", "/api/v1/contexts/" + new_context(o),
                            R"({"name":"walk )" + random_hex(4) + "\"}");
    });
    add("DELETE /api/v1/contexts/{id}",
        [&o](World&) { return o.browser.call("DELETE", "/api/v1/contexts/" + new_context(o)); });
    add("GET /api/v1/memories", [&o](World&) { return o.browser.call("GET", "/api/v1/memories"); });
    add("POST /api/v1/memories/search", [&o](World&) {
      return o.browser.call("POST", "/api/v1/memories/search", R"({"q":"walk"})");
    });
    add("POST /api/v1/memories", [&o](World&) {
      return o.browser.call("POST", "/api/v1/memories", R"({"title":"walk","content":"text"})");
    });
    add("GET /api/v1/memories/{id}",
        [&o](World&) { return o.browser.call("GET", "/api/v1/memories/" + new_memory(o)); });
    add("PATCH /api/v1/memories/{id}", [&o](World&) {
      return o.browser.call("PATCH", "/api/v1/memories/" + new_memory(o),
                            valid_body("PATCH", "/api/v1/memories/{id}"));
    });
    add("DELETE /api/v1/memories/{id}",
        [&o](World&) { return o.browser.call("DELETE", "/api/v1/memories/" + new_memory(o)); });
    add("GET /api/v1/members", [&o](World&) { return o.browser.call("GET", "/api/v1/members"); });
    add("GET /api/v1/members/invitations",
        [&o](World&) { return o.browser.call("GET", "/api/v1/members/invitations"); });
    add(
        "POST /api/v1/members/invitations",
        [&o](World&) {
          return o.browser.call(
              "POST", "/api/v1/members/invitations",
              R"({"email":")" + unique_email("walk-inv") + R"(","role":"member"})");
        },
        "invitation token");
    add("DELETE /api/v1/members/invitations/{id}", [&o](World&) {
      HttpResponse inv =
          o.browser.call("POST", "/api/v1/members/invitations",
                         R"({"email":")" + unique_email("walk-rev") + R"(","role":"member"})");
      return o.browser.call("DELETE", "/api/v1/members/invitations/" + string_at(inv, "id"));
    });
    add("PATCH /api/v1/members/{id}", [&o](World& w) {
      return o.browser.call("PATCH", "/api/v1/members/" + w.join("member").id,
                            R"({"role":"admin"})");
    });
    add("POST /api/v1/members/{id}/revoke-sessions", [&o](World& w) {
      return o.browser.call("POST", "/api/v1/members/" + w.join("member").id + "/revoke-sessions");
    });
    add("DELETE /api/v1/members/{id}", [&o](World& w) {
      return o.browser.call("DELETE", "/api/v1/members/" + w.join("member").id);
    });
    add("POST /api/v1/members/{id}/reset-mfa", [&o](World& w) {
      User u = w.join("member");
      World::enroll(u);
      return o.browser.call("POST", "/api/v1/members/" + u.id + "/reset-mfa");
    });
    add("GET /api/v1/audit-events",
        [&o](World&) { return o.browser.call("GET", "/api/v1/audit-events"); });
    add("GET /api/v1/mfa", [&o](World&) { return o.browser.call("GET", "/api/v1/mfa"); });
    add(
        "POST /api/v1/mfa/totp/setup",
        [](World& w) { return w.join("member").browser.call("POST", "/api/v1/mfa/totp/setup"); },
        "totp secret");
    add(
        "POST /api/v1/mfa/totp/enable",
        [](World& w) {
          User u = w.join("member");
          HttpResponse setup = u.browser.call("POST", "/api/v1/mfa/totp/setup");
          return u.browser.call("POST", "/api/v1/mfa/totp/enable",
                                R"({"code":")" + totp_now(string_at(setup, "secret")) + "\"}");
        },
        "backup codes");
    add("POST /api/v1/mfa/totp/disable", [](World& w) {
      User u = w.join("member");
      World::enroll(u);
      return u.browser.call("POST", "/api/v1/mfa/totp/disable",
                            R"({"password":")" + std::string(kPassword) + R"(","backup_code":")" +
                                u.backup_codes.at(0) + "\"}");
    });
    add(
        "POST /api/v1/mfa/backup-codes",
        [](World& w) {
          User u = w.join("member");
          World::enroll(u);
          return u.browser.call("POST", "/api/v1/mfa/backup-codes");
        },
        "backup codes");
  }

  // Runs the recipe of every route; a route without one is a failure.
  std::vector<Walked> walk(const std::vector<Route>& routes) {
    std::vector<Walked> out;
    for (const Route& r : routes) {
      auto it = recipes_.find(key_of(r));
      if (it == recipes_.end()) {
        ADD_FAILURE() << "no recipe for " << key_of(r) << ": add one to route_walk_test.cpp";
        continue;
      }
      HttpResponse answer = it->second.run(w_);
      EXPECT_LT(answer.status, 300) << key_of(r) << " " << answer.body;
      out.push_back({key_of(r), it->second.note, std::move(answer)});
    }
    return out;
  }

 private:
  struct Recipe {
    std::function<HttpResponse(World&)> run;
    std::string note;
  };

  void add(const std::string& key,
           std::function<HttpResponse(World&)> run,
           const std::string& note = "") {
    recipes_[key] = Recipe{std::move(run), note};
  }

  static HttpResponse register_new(const std::string& path,
                                   const std::string& email = unique_email("walk-reg")) {
    return post_json(path, R"({"tenant_name":"Walk )" + random_hex(3) + R"(","email":")" + email +
                               R"(","password":")" + kPassword + R"(","display_name":"Walker"})");
  }
  // A new tenant whose owner's address is unproven (its verification
  // request pending).
  static void register_with(const std::string& email) {
    HttpResponse r = register_new("/api/v1/auth/register", email);
    EXPECT_EQ(r.status, 201) << r.body;
  }
  static std::string new_context(const User& o) {
    return create(o.browser, "/api/v1/contexts", R"({"name":"walk )" + random_hex(4) + "\"}");
  }
  static std::string new_memory(const User& o) {
    return create(o.browser, "/api/v1/memories", R"({"title":"walk","content":"walk text"})");
  }

  World& w_;
  std::map<std::string, Recipe> recipes_;
};

// State-changing routes that need no audit record, each with its reason.
const std::set<std::string>& audit_exemptions() {
  static const std::set<std::string> kExempt = {
      // A read sent as a POST so that its words stay out of URLs and access
      // logs; like the list it reads, it changes nothing and is not audited.
      // (Test-only routes under /api/v1/test/ are not walked at all.)
      "POST /api/v1/memories/search",
  };
  return kExempt;
}

int audit_rows_with(const std::string& request_id) {
  int n = -1;
  db() << "SELECT COUNT(*) FROM audit_events WHERE request_id = :r", soci::use(request_id),
      soci::into(n);
  return n;
}

// #9 item 22: each state-changing route, on success, writes an audit record
// carrying the X-Request-Id of its answer.
TEST_F(RouteWalkTest, LOG1_EveryStateChangingRouteWritesAnAuditRecord) {
  World w = make_world("walk-audit");
  RouteRecipes recipes(w);
  std::vector<Route> changing;
  for (const Route& r : product_routes()) {
    if (changes_state(r)) {
      changing.push_back(r);
    }
  }
  ASSERT_GE(changing.size(), 25u) << "the route table looks too small";
  std::vector<std::string> unaudited;
  for (const Walked& walked : recipes.walk(changing)) {
    std::string rid = walked.answer.header("x-request-id");
    EXPECT_FALSE(rid.empty()) << walked.route;
    if (audit_exemptions().count(walked.route) == 0 && audit_rows_with(rid) < 1) {
      unaudited.push_back(walked.route);
    }
  }
  EXPECT_THAT(unaudited, ::testing::IsEmpty()) << "these routes wrote no audit record";
}

// #9 item 24: every answer of every route is no-store and holds no secret:
// no password hash, no token or code hash, no ciphertext, no session token,
// and no TOTP secret outside the one answer that shows it at setup.
TEST_F(RouteWalkTest, SES_EveryAnswerIsNoStoreAndCarriesNoSecret) {
  World w = make_world("walk-secrets");
  World::enroll(w.admin);  // a TOTP secret and backup codes exist in the tenant
  // A memory and a context, so that lists and reads have ciphertext behind them.
  create(w.owner.browser, "/api/v1/contexts", R"({"name":"secrets"})");
  create(w.owner.browser, "/api/v1/memories", R"({"title":"s","content":"walk canary"})");
  RouteRecipes recipes(w);
  std::vector<Walked> walked = recipes.walk(product_routes());
  ASSERT_FALSE(walked.empty());

  // The secrets that exist now, read from the database.
  std::vector<std::string> secrets;
  auto collect = [&](const std::string& sql) {
    std::string v;
    soci::statement st = (db().prepare << sql, soci::into(v));
    st.execute();
    while (st.fetch()) {
      secrets.push_back(v);
    }
  };
  collect("SELECT token_hash FROM sessions");
  collect("SELECT token_hash FROM invitations");
  collect("SELECT mail_token_hash FROM invitations WHERE mail_token_hash IS NOT NULL");
  collect("SELECT token_hash FROM revoked_sessions");
  collect("SELECT code_hash FROM backup_codes");
  collect("SELECT totp_secret_enc FROM users WHERE totp_secret_enc IS NOT NULL");
  collect("SELECT password_hash FROM users");
  collect("SELECT content_enc FROM memories");
  ASSERT_GT(secrets.size(), 10u);
  for (const User* u : {&w.owner, &w.admin, &w.member}) {
    secrets.push_back(u->browser.cookie);
    secrets.push_back(sha256_hex(u->browser.cookie));
  }
  const std::regex ciphertext(R"(v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16,})");
  for (const Walked& x : walked) {
    const std::string& body = x.answer.body;
    // Cache-Control: no-store, set once (DESIGN §8: no header twice); the
    // one public, cookie-less, same-for-everyone answer may be cached.
    EXPECT_EQ(x.answer.headers.count("cache-control"), 1u) << x.route;
    if (x.route == "GET /api/v1/policy") {
      EXPECT_EQ(x.answer.header("cache-control"), "public, max-age=300");
      EXPECT_FALSE(x.answer.has_header("set-cookie"));
    } else {
      EXPECT_THAT(x.answer.header("cache-control"), HasSubstr("no-store")) << x.route;
    }
    EXPECT_THAT(body, Not(HasSubstr("$argon2id$"))) << x.route;
    EXPECT_FALSE(std::regex_search(body, ciphertext)) << x.route << " " << body;
    for (const std::string& s : secrets) {
      ASSERT_FALSE(s.empty());
      EXPECT_THAT(body, Not(HasSubstr(s))) << x.route;
    }
    // The session token travels in Set-Cookie only, never in a body.
    std::string issued = session_token_from(x.answer);
    if (!issued.empty()) {
      EXPECT_THAT(body, Not(HasSubstr(issued))) << x.route;
    }
    // A TOTP secret is shown once, by the setup answer (the user must type
    // or scan it); the enrolled admin's appears in no answer.
    EXPECT_THAT(body, Not(HasSubstr(w.admin.totp_secret))) << x.route;
    if (x.note != "totp secret") {
      EXPECT_THAT(body, Not(HasSubstr("otpauth://"))) << x.route;
    }
  }
}

// --- pagination on every list route ------------------------------------------

// #9 item 24: every GET route that answers a page refuses a limit outside
// 1..100 or not a number with 400 and the error envelope.
TEST_F(RouteWalkTest, TEN6_EveryListRouteRefusesBadLimits) {
  World w = make_world("walk-limits");
  std::set<std::string> lists;
  for (const Route& r : product_routes()) {
    if (r.method != "GET" || r.pattern.find('{') != std::string::npos) {
      continue;
    }
    HttpResponse plain = w.owner.browser.call("GET", r.pattern);
    rapidjson::Document d = parse(plain);
    if (!d.IsObject() || !d.HasMember("page") || !d.HasMember("data")) {
      continue;  // not a list
    }
    lists.insert(r.pattern);
    for (const char* bad : {"0", "101", "abc", "-1", ""}) {
      HttpResponse r2 = w.owner.browser.call("GET", r.pattern + "?limit=" + bad);
      EXPECT_EQ(r2.status, 400) << r.pattern << " limit=" << bad;
      EXPECT_EQ(code_of(r2), "validation_failed") << r.pattern << " " << r2.body;
    }
    EXPECT_EQ(w.owner.browser.call("GET", r.pattern + "?limit=100").status, 200) << r.pattern;
    EXPECT_EQ(w.owner.browser.call("GET", r.pattern + "?limit=1").status, 200) << r.pattern;
  }
  // The walk found the lists the API documents (it can't silently find none).
  for (const char* known :
       {"/api/v1/sessions", "/api/v1/contexts", "/api/v1/memories", "/api/v1/members",
        "/api/v1/members/invitations", "/api/v1/audit-events"}) {
    EXPECT_EQ(lists.count(known), 1u) << known;
  }
}

// --- roles ----------------------------------------------------------------------

// #9 item 24 (TEN-8): a member gets 403 on every admin route and an admin on
// every owner route, by the route table's policies; nothing changes.
TEST_F(RouteWalkTest, TEN8_RolesBelowARoutesPolicyGet403AndChangeNothing) {
  World w = make_world("walk-roles");
  HttpResponse inv = w.owner.browser.call(
      "POST", "/api/v1/members/invitations",
      R"({"email":")" + unique_email("walk-pending") + R"(","role":"member"})");
  std::string inv_id = string_at(inv, "id");
  int checked = 0;
  for (const Route& r : product_routes()) {
    if (r.access.is_public() || r.access.min_role() == Role::kMember) {
      continue;
    }
    std::string id;
    if (r.pattern.rfind("/api/v1/members/invitations/", 0) == 0) {
      id = inv_id;
    } else if (r.pattern.rfind("/api/v1/members/", 0) == 0) {
      id = w.owner.id;
    } else if (r.pattern.find("{id}") != std::string::npos) {
      ADD_FAILURE() << "no target for " << key_of(r);
      continue;
    }
    std::string path = fill(r.pattern, id);
    std::string body = valid_body(r.method, r.pattern);
    std::vector<const User*> below = {&w.member};
    if (r.access.min_role() == Role::kOwner) {
      below.push_back(&w.admin);
    }
    for (const User* u : below) {
      std::string before = tenant_state(w.owner_reg.tenant_id);
      HttpResponse answer = u->browser.call(r.method, path, body);
      EXPECT_EQ(answer.status, 403) << key_of(r) << " as " << u->email << ": " << answer.body;
      EXPECT_EQ(code_of(answer), "forbidden") << key_of(r);
      EXPECT_EQ(tenant_state(w.owner_reg.tenant_id), before) << key_of(r);
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

// --- cross-tenant matrix ------------------------------------------------------------

// #9 item 24 (TEN-3): every tenant-scoped route with an id, called by the
// owner and by an admin of tenant B with an id of tenant A, is 404 with the
// body of an id that does not exist, and A is unchanged in the database.
TEST_F(RouteWalkTest, TEN3_EveryRouteWithAnIdIsNotFoundAcrossTenantsAndChangesNothing) {
  World a = make_world("walk-victim");
  World b = make_world("walk-attacker");
  // A's objects: a context with a memory, a pending invitation, a member with
  // MFA on and a live session.
  std::map<std::string, std::string> ids;
  ids["context"] = create(a.owner.browser, "/api/v1/contexts", R"({"name":"victim"})");
  ids["memory"] =
      create(a.owner.browser, "/api/v1/memories",
             R"({"title":"victim","content":"victim text","tags":["v"],"context_id":")" +
                 ids["context"] + "\"}");
  HttpResponse inv =
      a.owner.browser.call("POST", "/api/v1/members/invitations",
                           R"({"email":")" + unique_email("victim-inv") + R"(","role":"member"})");
  ids["invitation"] = string_at(inv, "id");
  World::enroll(a.member);
  ids["member"] = a.member.id;
  ids["session"] = a.member.session_id;
  for (const auto& [kind, id] : ids) {
    ASSERT_FALSE(id.empty()) << kind;
  }
  auto kind_of = [](const std::string& pattern) -> std::string {
    if (pattern.rfind("/api/v1/contexts/", 0) == 0) {
      return "context";
    }
    if (pattern.rfind("/api/v1/memories/", 0) == 0) {
      return "memory";
    }
    if (pattern.rfind("/api/v1/members/invitations/", 0) == 0) {
      return "invitation";
    }
    if (pattern.rfind("/api/v1/members/", 0) == 0) {
      return "member";
    }
    if (pattern.rfind("/api/v1/sessions/", 0) == 0) {
      return "session";
    }
    return "";
  };
  const std::string unknown_id = "0190e9b1-0000-7000-8000-000000000000";
  int walked = 0;
  for (const Route& r : product_routes()) {
    if (r.pattern.find("{id}") == std::string::npos) {
      continue;
    }
    std::string kind = kind_of(r.pattern);
    if (kind.empty()) {
      ADD_FAILURE() << "no target kind for " << key_of(r) << ": add it to this matrix";
      continue;
    }
    std::string body = valid_body(r.method, r.pattern);
    for (const User* attacker : {&b.owner, &b.admin}) {
      std::string before = tenant_state(a.owner_reg.tenant_id);
      HttpResponse theirs = attacker->browser.call(r.method, fill(r.pattern, ids[kind]), body);
      HttpResponse none = attacker->browser.call(r.method, fill(r.pattern, unknown_id), body);
      EXPECT_EQ(theirs.status, 404)
          << key_of(r) << " as " << attacker->email << ": " << theirs.body;
      EXPECT_EQ(code_of(theirs), "not_found") << key_of(r);
      // Same answer as an id that does not exist (request ids aside).
      rapidjson::Document t = parse(theirs);
      rapidjson::Document n = parse(none);
      if (t.IsObject() && n.IsObject() && t.HasMember("error") && n.HasMember("error")) {
        t["error"].RemoveMember("request_id");
        n["error"].RemoveMember("request_id");
        EXPECT_TRUE(t == n) << key_of(r) << "\n" << theirs.body << "\n" << none.body;
      }
      EXPECT_EQ(tenant_state(a.owner_reg.tenant_id), before) << key_of(r);
      ++walked;
    }
  }
  EXPECT_GE(walked, 2 * 10);
  // Any method at all on A's member and invitation paths, by B's admin: a
  // method the path lacks answers as it would for an id that does not
  // exist (405 is decided by the path, not the row), and A is unchanged.
  struct Target {
    std::string prefix, id, suffix;
  };
  for (const Target& t : {Target{"/api/v1/members/", ids["member"], ""},
                          Target{"/api/v1/members/invitations/", ids["invitation"], ""},
                          Target{"/api/v1/members/", ids["member"], "/revoke-sessions"},
                          Target{"/api/v1/members/", ids["member"], "/reset-mfa"}}) {
    const std::string path = t.prefix + t.id + t.suffix;
    const std::string none_path = t.prefix + unknown_id + t.suffix;
    for (const std::string method : {"GET", "PUT", "POST", "PATCH", "DELETE"}) {
      const std::string body = method == "GET" ? "" : R"({"role":"member"})";
      std::string before = tenant_state(a.owner_reg.tenant_id);
      HttpResponse theirs = b.admin.browser.call(method, path, body);
      HttpResponse none = b.admin.browser.call(method, none_path, body);
      EXPECT_TRUE(theirs.status == 404 || theirs.status == 405) << method << " " << path;
      EXPECT_EQ(theirs.status, none.status) << method << " " << path;
      EXPECT_EQ(code_of(theirs), code_of(none)) << method << " " << path;
      EXPECT_EQ(tenant_state(a.owner_reg.tenant_id), before) << method << " " << path;
    }
  }
  // A still reads what it had.
  EXPECT_THAT(a.owner.browser.call("GET", "/api/v1/memories/" + ids["memory"]).body,
              HasSubstr("victim text"));
  EXPECT_EQ(a.member.browser.call("GET", "/api/v1/me").status, 200);
}

}  // namespace
}  // namespace portcullis::testing
