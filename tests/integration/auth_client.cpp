#include "tests/integration/auth_client.h"

#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/random.h"
#include "app/db/connection.h"

namespace portcullis::testing {

HttpResponse Browser::call(const std::string& method,
                           const std::string& path,
                           const std::string& body,
                           std::vector<std::string> extra_headers) const {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.headers = std::move(extra_headers);
  if (!cookie.empty()) {
    r.headers.push_back("Cookie: __Host-portcullis=" + cookie);
  }
  if (method != "GET" && method != "HEAD") {
    if (!csrf.empty()) {
      r.headers.push_back("X-CSRF-Token: " + csrf);
    }
    if (!origin.empty()) {
      r.headers.push_back("Origin: " + origin);
    }
    if (!body.empty()) {
      r.headers.push_back("Content-Type: application/json");
    }
  }
  return send(r);
}

std::string unique_email(const std::string& tag) {
  static std::atomic<int> n{0};
  return tag + "-" + random_hex(4) + "-" + std::to_string(++n) + "@example.test";
}

Registered register_tenant(const std::string& tag) {
  Registered out;
  out.email = unique_email(tag);
  out.tenant_name = "Org " + random_hex(3);
  HttpResponse r =
      post_json("/api/v1/auth/register", R"({"tenant_name":")" + out.tenant_name +
                                             R"(","email":")" + out.email + R"(","password":")" +
                                             kPassword + R"(","display_name":"Test User"})");
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.IsObject() && d.HasMember("user")) {
    out.user_id = d["user"]["id"].GetString();
    out.tenant_id = d["tenant"]["id"].GetString();
  }
  return out;
}

HttpResponse login_raw(const std::string& email,
                       const std::string& password,
                       bool remember_me,
                       const std::vector<std::string>& extra_headers) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/auth/login";
  r.body = R"({"email":")" + email + R"(","password":")" + password + R"(","remember_me":)" +
           (remember_me ? "true" : "false") + "}";
  r.headers = extra_headers;
  r.headers.push_back("Content-Type: application/json");
  return send(r);
}

std::string set_cookie_header(const HttpResponse& r) {
  auto range = r.headers.equal_range("set-cookie");
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.rfind("__Host-portcullis=", 0) == 0) {
      return it->second;
    }
  }
  return "";
}

std::string session_token_from(const HttpResponse& r) {
  std::string h = set_cookie_header(r);
  if (h.empty()) {
    return "";
  }
  size_t start = std::string("__Host-portcullis=").size();
  return h.substr(start, h.find(';') - start);
}

Browser login(const std::string& email, const std::string& password) {
  HttpResponse r = login_raw(email, password);
  EXPECT_EQ(r.status, 200) << r.body;
  Browser b;
  b.cookie = session_token_from(r);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.IsObject() && d.HasMember("csrf_token")) {
    b.csrf = d["csrf_token"].GetString();
  }
  return b;
}

bool is_postgres() {
  const char* b = std::getenv("PORTCULLIS_TEST_BACKEND");
  return b != nullptr && std::string(b) == "postgresql";
}

soci::session& db() {
  static std::unique_ptr<soci::session> s;
  if (!s) {
    const char* url = std::getenv("PORTCULLIS_TEST_DB_URL");
    s = open_session(url == nullptr ? "" : url, DbOptions{});
  }
  return *s;
}

std::string db_text(const std::string& sql, const std::string& param) {
  std::string out;
  soci::indicator ind = soci::i_null;
  db() << sql, soci::use(param), soci::into(out, ind);
  return ind == soci::i_ok ? out : "";
}

}  // namespace portcullis::testing
