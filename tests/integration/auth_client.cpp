#include "tests/integration/auth_client.h"

#include <dirent.h>
#include <signal.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/random.h"
#include "app/db/connection.h"

namespace portcullis::testing {

rapidjson::Document parse(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

std::string code_of(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("error") || !d["error"].IsObject() ||
      !d["error"].HasMember("code") || !d["error"]["code"].IsString()) {
    return "";
  }
  return d["error"]["code"].GetString();
}

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
    // Registration asks for a verification mail. The tests built on this
    // helper are about other mail (and count the rows of an address, any
    // status): the request is removed unsent (as the schema owner), so no
    // verification row, token or mail joins theirs (verification_test.cpp
    // registers its own accounts).
    db() << "DELETE FROM outbox WHERE user_id = :u AND kind = 'email_verify_request'",
        soci::use(out.user_id);
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

std::string oathtool(const std::string& secret, int offset_steps) {
  long long t = static_cast<long long>(std::time(nullptr)) + offset_steps * 30LL;
  std::string cmd = "oathtool --totp -b -N @" + std::to_string(t) + " " + secret;
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

void wait_for_fresh_step() {
  while (std::time(nullptr) % 30 > 21) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Browser browser_from(const HttpResponse& r) {
  Browser b;
  b.cookie = session_token_from(r);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.IsObject() && d.HasMember("csrf_token")) {
    b.csrf = d["csrf_token"].GetString();
  }
  return b;
}

Enrolled enroll(const std::string& tag) {
  Enrolled e;
  e.who = register_tenant(tag);
  e.browser = login(e.who.email);
  HttpResponse setup = e.browser.call("POST", "/api/v1/mfa/totp/setup");
  EXPECT_EQ(setup.status, 200) << setup.body;
  rapidjson::Document s;
  s.Parse(setup.body.c_str());
  if (!s.IsObject() || !s.HasMember("secret")) {
    return e;
  }
  e.secret = s["secret"].GetString();
  wait_for_fresh_step();
  HttpResponse enable = e.browser.call("POST", "/api/v1/mfa/totp/enable",
                                       R"({"code":")" + oathtool(e.secret) + "\"}");
  EXPECT_EQ(enable.status, 200) << enable.body;
  rapidjson::Document d;
  d.Parse(enable.body.c_str());
  if (d.IsObject() && d.HasMember("backup_codes")) {
    for (const auto& c : d["backup_codes"].GetArray()) {
      e.backup_codes.push_back(c.GetString());
    }
  }
  return e;
}

Browser pending_login(const std::string& email, bool remember_me) {
  HttpResponse r = login_raw(email, kPassword, remember_me);
  EXPECT_EQ(r.status, 200) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_TRUE(d.IsObject() && d.HasMember("mfa_required") && d["mfa_required"].GetBool()) << r.body;
  EXPECT_FALSE(d.IsObject() && d.HasMember("user")) << "no account data before the second factor";
  return browser_from(r);
}

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The master's children (its workers), from /proc.
std::set<pid_t> workers_of(pid_t master) {
  std::set<pid_t> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') {
      continue;
    }
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == master && state != 'Z') {
      out.insert(static_cast<pid_t>(pid));
    }
  }
  ::closedir(dir);
  return out;
}

// SIGHUP, then waits until every worker is a new one and the stack answers.
void roll_workers() {
  pid_t master = static_cast<pid_t>(std::atol(env_or_empty("PORTCULLIS_TEST_MASTER_PID").c_str()));
  ASSERT_GT(master, 0);
  std::set<pid_t> before = workers_of(master);
  ASSERT_EQ(::kill(master, SIGHUP), 0);
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    std::set<pid_t> now = workers_of(master);
    bool all_new = now.size() >= before.size() && !now.empty();
    for (pid_t p : now) {
      all_new = all_new && before.count(p) == 0;
    }
    if (all_new && get("/api/v1/health").status == 200) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "the workers were not replaced after SIGHUP";
}

}  // namespace

ScopedServerEnv::ScopedServerEnv(const std::vector<std::string>& lines) {
  const std::string path = env_or_empty("PORTCULLIS_TEST_ENV_FILE");
  {
    std::ifstream in(path);
    original_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  {
    std::ofstream out(path, std::ios::app);
    for (const std::string& l : lines) {
      out << l << "\n";
    }
  }
  roll_workers();
}

ScopedServerEnv::~ScopedServerEnv() {
  {
    std::ofstream out(env_or_empty("PORTCULLIS_TEST_ENV_FILE"), std::ios::trunc);
    out << original_;
  }
  roll_workers();
}

int audit_count(const std::string& request_id, const std::string& event) {
  int n = 0;
  db() << "SELECT COUNT(*) FROM audit_events WHERE request_id = :r AND event = :e",
      soci::use(request_id), soci::use(event), soci::into(n);
  return n;
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
