// Operations, seen from outside (issue #9 items 15, 21 and 24): nginx's own
// error answers, the client address behind a trusted proxy, the modes of the
// SQLite files, and `portcullis maintenance`.
//
// Some tests start a private nginx (nginx/render-dev.sh, on a free loopback
// port) with settings the shared one must not have: a trusted proxy, a low
// rate limit, a short upstream timeout. Each stops it again. Traffic goes to
// 127.0.0.0/8 only.
//
// Environment (tests/integration/run.sh): PORTCULLIS_TEST_BASE_URL,
// PORTCULLIS_TEST_NGINX_DIR, PORTCULLIS_TEST_FCGI_SOCKET, PORTCULLIS_TEST_DIR,
// PORTCULLIS_TEST_BIN, PORTCULLIS_TEST_ENV_FILE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <soci/soci.h>

#include "app/config/config.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/db/time.h"

#include "tests/integration/auth_client.h"

extern char** environ;

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The port of PORTCULLIS_TEST_BASE_URL (http://127.0.0.1:PORT).
int shared_port() {
  std::string base = env("PORTCULLIS_TEST_BASE_URL");
  return std::atoi(base.substr(base.rfind(':') + 1).c_str());
}

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string raw;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

RawResponse parse_raw(const std::string& raw) {
  RawResponse r;
  r.raw = raw;
  size_t end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  r.body = end == std::string::npos ? "" : raw.substr(end + 4);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  if (line.rfind("HTTP/1.", 0) == 0 && line.size() >= 12) {
    r.status = std::atoi(line.substr(9, 3).c_str());
  }
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    size_t v = line.find_first_not_of(' ', colon + 1);
    r.headers[name] = v == std::string::npos ? "" : line.substr(v);
  }
  return r;
}

// Sends `bytes` as they are to 127.0.0.1:port from the loopback address
// `source` (e.g. 127.0.0.2) and reads until the server closes.
RawResponse send_raw(int port, const std::string& bytes, const std::string& source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from), 0) << source;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    return {};
  }
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;  // nginx may answer and close before reading everything
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  std::array<char, 8192> buf{};
  ssize_t n;
  while ((n = ::recv(fd, buf.data(), buf.size(), 0)) > 0) {
    raw.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return parse_raw(raw);
}

std::string json_request(const std::string& method,
                         const std::string& path,
                         const std::string& body,
                         const std::vector<std::string>& headers = {}) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) {
    r += h + "\r\n";
  }
  if (!body.empty()) {
    r +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

// DESIGN §8 envelope and §10 header set on an answer nginx wrote itself.
void expect_json_envelope(const RawResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.raw;
  EXPECT_THAT(r.header("content-type"), HasSubstr("application/json")) << r.raw;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << r.body;
  EXPECT_STREQ(d["error"]["code"].GetString(), code.c_str());
  EXPECT_TRUE(d["error"]["message"].IsString());
  ASSERT_TRUE(d["error"]["request_id"].IsString());
  std::string request_id = d["error"]["request_id"].GetString();
  EXPECT_THAT(request_id, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(r.header("x-request-id"), request_id);
  EXPECT_EQ(r.header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.header("cross-origin-resource-policy"), "same-origin");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("<html")));
  EXPECT_THAT(r.header("server"), ::testing::Not(HasSubstr("/")));  // no version
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int run_shell(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private nginx from nginx/render-dev.sh, stopped by the destructor.
class PrivateNginx {
 public:
  struct Options {
    std::string fcgi_socket;
    std::string trusted_proxy;  // PORTCULLIS_TRUSTED_PROXY
    std::string auth_rate = "6000r/m";
    std::string auth_burst = "200";
    std::string fastcgi_read_timeout;  // e.g. "1s": replaces the snippet's
  };

  explicit PrivateNginx(const Options& o) {
    prefix_ = env("PORTCULLIS_TEST_DIR") + "/nginx-" + random_hex(4);
    const std::string nginx_dir = env("PORTCULLIS_TEST_NGINX_DIR");
    const std::string conf = prefix_ + "/nginx.conf";
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      std::string cmd = "PORTCULLIS_TRUSTED_PROXY='" + o.trusted_proxy + "' bash " + nginx_dir +
                        "/render-dev.sh " + conf + " " + prefix_ + " " + std::to_string(port_) +
                        " " + o.fcgi_socket + " " + o.auth_rate + " " + o.auth_burst +
                        " >/dev/null";
      if (run_shell(cmd) != 0) {
        ADD_FAILURE() << "render-dev.sh failed: " << cmd;
        return;
      }
      if (!o.fastcgi_read_timeout.empty()) {
        // A private copy of the FastCGI snippet with the short timeout.
        const std::string snippet = prefix_ + "/portcullis-fastcgi.conf";
        run_shell("sed 's/^fastcgi_read_timeout .*/fastcgi_read_timeout " + o.fastcgi_read_timeout +
                  ";/' " + nginx_dir + "/snippets/portcullis-fastcgi.conf > " + snippet);
        run_shell("sed -i 's|" + nginx_dir + "/snippets/portcullis-fastcgi.conf|" + snippet +
                  "|' " + conf);
      }
      std::vector<std::string> args = {
          "nginx", "-p", prefix_, "-c", conf, "-e", prefix_ + "/error.log"};
      std::vector<char*> argv;
      for (std::string& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      pid_t pid = -1;
      if (::posix_spawnp(&pid, "nginx", nullptr, nullptr, argv.data(), environ) != 0) {
        ADD_FAILURE() << "cannot start nginx";
        return;
      }
      for (int i = 0; i < 50; ++i) {
        if (can_connect(port_)) {
          pid_ = pid;
          break;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          break;  // exited: port taken; next attempt
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ <= 0) {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
      }
    }
    EXPECT_GT(pid_, 0) << "private nginx did not start: " << read_file(prefix_ + "/error.log");
  }
  PrivateNginx(const PrivateNginx&) = delete;
  PrivateNginx& operator=(const PrivateNginx&) = delete;
  ~PrivateNginx() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  bool up() const { return pid_ > 0; }

 private:
  std::string prefix_;
  int port_ = 0;
  pid_t pid_ = -1;
};

bool under_harness() {
  return !env("PORTCULLIS_TEST_BASE_URL").empty() && !env("PORTCULLIS_TEST_NGINX_DIR").empty();
}

// --- #9 item 21: nginx's own 400 and 494 --------------------------------------------------------

class NginxErrorPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!under_harness()) {
      GTEST_SKIP() << "run through tests/integration/run.sh";
    }
  }
};

// #9 item 21, HDR-2: a garbage request line (a named error location would
// turn this into nginx's HTML 500).
TEST_F(NginxErrorPagesTest, HDR_2_GarbageRequestLineGetsTheJsonEnvelope) {
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01\r\n\r\n"),
        std::string("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n")}) {
    RawResponse r = send_raw(shared_port(), garbage);
    expect_json_envelope(r, 400, "bad_request");
  }
}

// #9 item 21, HDR-2: a header larger than nginx's large_client_header_buffers
// (nginx's internal 494) answers 400 with the envelope.
TEST_F(NginxErrorPagesTest, HDR_2_OversizedHeaderGetsTheJsonEnvelope) {
  RawResponse r = send_raw(shared_port(), json_request("GET", "/api/v1/health", "",
                                                       {"X-Big: " + std::string(20000, 'a')}));
  expect_json_envelope(r, 400, "header_too_large");
  RawResponse cookie = send_raw(
      shared_port(), json_request("GET", "/", "", {"Cookie: a=" + std::string(20000, 'b')}));
  expect_json_envelope(cookie, 400, "header_too_large");
}

// #9 item 24, HDR-2: nginx's limit_req 429 (a private nginx at 1 request a
// minute with a burst of 1, in front of the real app).
TEST_F(NginxErrorPagesTest, HDR_2_RateLimit429GetsTheJsonEnvelope) {
  PrivateNginx::Options o;
  o.fcgi_socket = env("PORTCULLIS_TEST_FCGI_SOCKET");
  o.auth_rate = "1r/m";
  o.auth_burst = "1";  // nginx refuses burst=0
  PrivateNginx nginx(o);
  ASSERT_TRUE(nginx.up());
  // GET on the login path: the app answers 405 and changes nothing.
  for (int i = 0; i < 2; ++i) {
    RawResponse passed = send_raw(nginx.port(), json_request("GET", "/api/v1/auth/login", ""));
    EXPECT_EQ(passed.status, 405) << i << passed.raw;
  }
  RawResponse limited = send_raw(nginx.port(), json_request("GET", "/api/v1/auth/login", ""));
  expect_json_envelope(limited, 429, "rate_limited");
  EXPECT_EQ(limited.header("retry-after"), "60");
  // Paths outside the auth zone are not limited.
  EXPECT_EQ(send_raw(nginx.port(), json_request("GET", "/api/v1/health", "")).status, 200);
}

// #9 item 24, HDR-2: a stalled worker (an upstream socket that accepts and
// never answers) behind a private nginx with a 1 s fastcgi_read_timeout.
TEST_F(NginxErrorPagesTest, HDR_2_StalledUpstream504GetsTheJsonEnvelope) {
  const std::string path = env("PORTCULLIS_TEST_DIR") + "/stalled-" + random_hex(4) + ".sock";
  int stalled = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(stalled, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(stalled, 16), 0);
  {
    PrivateNginx::Options o;
    o.fcgi_socket = path;
    o.fastcgi_read_timeout = "1s";
    PrivateNginx nginx(o);
    ASSERT_TRUE(nginx.up());
    auto start = std::chrono::steady_clock::now();
    RawResponse r = send_raw(nginx.port(), json_request("GET", "/api/v1/health", ""));
    expect_json_envelope(r, 504, "service_unavailable");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  }
  ::close(stalled);
  ::unlink(path.c_str());
}

// --- #9 item 15: the client address behind a trusted proxy ------------------------------------

std::string session_ip_after_login(int port, const std::string& source, const std::string& email) {
  const std::string body =
      R"({"email":")" + email + R"(","password":")" + kPassword + R"(","remember_me":false})";
  RawResponse r = send_raw(
      port, json_request("POST", "/api/v1/auth/login", body, {"X-Forwarded-For: 203.0.113.7"}),
      source);
  EXPECT_EQ(r.status, 200) << r.raw;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (!d.IsObject() || !d.HasMember("session")) {
    return "";
  }
  return db_text("SELECT ip FROM sessions WHERE id = :id", d["session"]["id"].GetString());
}

// RATE-4: only the trusted proxy's X-Forwarded-For sets the client address
// (nginx's real_ip; the app reads REMOTE_ADDR only).
TEST(TrustedProxyTest, RATE_4_ForwardedForIsBelievedOnlyFromTheTrustedProxy) {
  if (!under_harness()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  Registered who = register_tenant("proxy");
  // The shared nginx trusts no proxy: the header is ignored.
  EXPECT_EQ(session_ip_after_login(shared_port(), "127.0.0.1", who.email), "127.0.0.1");

  PrivateNginx::Options o;
  o.fcgi_socket = env("PORTCULLIS_TEST_FCGI_SOCKET");
  o.trusted_proxy = "127.0.0.1";
  PrivateNginx nginx(o);
  ASSERT_TRUE(nginx.up());
  // From the trusted peer: the address it forwards.
  EXPECT_EQ(session_ip_after_login(nginx.port(), "127.0.0.1", who.email), "203.0.113.7");
  // From any other peer: its own address, whatever it claims.
  EXPECT_EQ(session_ip_after_login(nginx.port(), "127.0.0.2", who.email), "127.0.0.2");
}

// --- #9 item 21: SQLite files are 0600 ----------------------------------------------------------

int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return -1;
  }
  return static_cast<int>(st.st_mode & 07777);
}

// An env file like the server's, with its own database URL.
std::string env_file_with_database(const std::string& url) {
  std::istringstream base(read_file(env("PORTCULLIS_TEST_ENV_FILE")));
  const std::string path = env("PORTCULLIS_TEST_DIR") + "/ops-" + random_hex(4) + ".env";
  std::ofstream out(path);
  std::string line;
  while (std::getline(base, line)) {
    if (line.rfind("PORTCULLIS_DATABASE_URL=", 0) != 0 &&
        line.rfind("PORTCULLIS_DATABASE_OWNER_URL=", 0) != 0) {
      out << line << "\n";
    }
  }
  out << "PORTCULLIS_DATABASE_URL=" << url << "\n";
  return path;
}

TEST(SqliteFilesTest, DatabaseAndItsWalAndShmFilesAre0600) {
  if (env("PORTCULLIS_TEST_BIN").empty() || env("PORTCULLIS_TEST_ENV_FILE").empty()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  const std::string db_path = env("PORTCULLIS_TEST_DIR") + "/modes-" + random_hex(4) + ".db";
  const std::string env_file = env_file_with_database("sqlite://" + db_path);
  // A umask that would leave the files world-readable.
  ASSERT_EQ(run_shell("umask 022 && " + env("PORTCULLIS_TEST_BIN") + " migrate --env-file " +
                      env_file + " >/dev/null 2>&1"),
            0);
  EXPECT_EQ(mode_of(db_path), 0600);
  // While a connection writes, the -wal and -shm files exist; SQLite gives
  // them the database file's mode.
  mode_t old_mask = ::umask(022);
  {
    auto s = open_session("sqlite://" + db_path, DbOptions{});
    *s << "INSERT INTO auth_throttle (key, failures, window_start) VALUES ('ip:x', 1, 'now')";
    EXPECT_EQ(mode_of(db_path + "-wal"), 0600);
    EXPECT_EQ(mode_of(db_path + "-shm"), 0600);
  }
  // A database the CLI creates (not only migrate) is private too.
  const std::string other = env("PORTCULLIS_TEST_DIR") + "/modes-" + random_hex(4) + ".db";
  { auto s = open_session("sqlite://" + other, DbOptions{}); }
  EXPECT_EQ(mode_of(other), 0600);
  ::umask(old_mask);
}

// --- #9 item 24: `portcullis maintenance` -----------------------------------------------------

std::string uuid() {
  std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-7" + h.substr(13, 3) + "-8" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

TEST(MaintenanceTest, DeletesExpiredSessionsAndStaleThrottleRowsAndKeepsLiveOnes) {
  if (env("PORTCULLIS_TEST_BIN").empty() || env("PORTCULLIS_TEST_ENV_FILE").empty()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  Registered who = register_tenant("maint");
  const int64_t now = now_ms();
  const std::string past = format_time_ms(now - 3600 * 1000);
  const std::string future = format_time_ms(now + 3600 * 1000);
  const std::string two_days_ago = format_time_ms(now - 48 * 3600 * 1000LL);
  struct Row {
    std::string id, expires_at, revoked_at;
    bool kept;
  };
  std::vector<Row> sessions = {{uuid(), past, "", false},
                               {uuid(), future, format_time_ms(now - 1000), false},
                               {uuid(), future, "", true}};
  for (Row& r : sessions) {
    std::string token_hash = random_hex(32);
    std::string csrf = random_hex(16);
    std::string created = format_time_ms(now - 7200 * 1000);
    soci::indicator revoked = r.revoked_at.empty() ? soci::i_null : soci::i_ok;
    db() << "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
            "created_at, last_seen_at, expires_at, revoked_at) VALUES (:id, :th, :u, :t, 'full', "
            ":c, :cr, :ls, :ex, :rv)",
        soci::use(r.id), soci::use(token_hash), soci::use(who.user_id), soci::use(who.tenant_id),
        soci::use(csrf), soci::use(created), soci::use(created), soci::use(r.expires_at),
        soci::use(r.revoked_at, revoked);
  }
  struct Throttle {
    std::string key, window_start, locked_until;
    bool kept;
  };
  const std::string tag = random_hex(4);
  std::vector<Throttle> throttles = {
      {"email:stale-" + tag + "@example.test", two_days_ago, "", false},
      {"email:stale-locked-" + tag + "@example.test", two_days_ago, future, true},
      {"email:fresh-" + tag + "@example.test", format_time_ms(now - 60000), "", true}};
  for (Throttle& t : throttles) {
    soci::indicator locked = t.locked_until.empty() ? soci::i_null : soci::i_ok;
    db() << "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
            "VALUES (:k, 3, :w, :l)",
        soci::use(t.key), soci::use(t.window_start), soci::use(t.locked_until, locked);
  }

  FILE* p = ::popen((env("PORTCULLIS_TEST_BIN") + " maintenance --env-file " +
                     env("PORTCULLIS_TEST_ENV_FILE") + " 2>&1")
                        .c_str(),
                    "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.append(buf.data(), n);
  }
  int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;

  for (const Row& r : sessions) {
    EXPECT_EQ(db_text("SELECT id FROM sessions WHERE id = :id", r.id).empty(), !r.kept)
        << "session expires " << r.expires_at << " revoked '" << r.revoked_at << "'";
  }
  for (const Throttle& t : throttles) {
    EXPECT_EQ(db_text("SELECT key FROM auth_throttle WHERE key = :k", t.key).empty(), !t.kept)
        << t.key;
  }
  // The run is audited.
  EXPECT_FALSE(
      db_text("SELECT id FROM audit_events WHERE event = :e ORDER BY id DESC", "system.maintenance")
          .empty());
  const std::string mine = "%-" + tag + "@example.test";
  db() << "DELETE FROM auth_throttle WHERE key LIKE :k", soci::use(mine);
}

// --- #9 item 24: key rotation that really drops the old key ------------------------------------

// stdout of a shell command.
std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.append(buf.data(), n);
  }
  ::pclose(p);
  return out;
}

// The server's env file with another keyring.
std::string env_file_with_keys(const std::vector<DataKey>& ring, const std::string& primary) {
  std::istringstream base(read_file(env("PORTCULLIS_TEST_ENV_FILE")));
  const std::string path = env("PORTCULLIS_TEST_DIR") + "/rotate-" + random_hex(4) + ".env";
  std::ofstream out(path);
  std::string line;
  while (std::getline(base, line)) {
    if (line.rfind("PORTCULLIS_DATA_KEYS=", 0) != 0 &&
        line.rfind("PORTCULLIS_DATA_KEY_PRIMARY=", 0) != 0) {
      out << line << "\n";
    }
  }
  std::string keys;
  for (const DataKey& k : ring) {
    keys += (keys.empty() ? "" : ",") + k.id + ":" + base64_encode(k.key);
  }
  out << "PORTCULLIS_DATA_KEYS=" << keys << "\nPORTCULLIS_DATA_KEY_PRIMARY=" << primary << "\n";
  return path;
}

std::string cookie_of(const RawResponse& r) {
  std::string c = r.header("set-cookie");
  return c.substr(0, c.find(';'));
}

std::string json_string(const std::string& body, const char* key) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d.IsObject() && d.HasMember(key) && d[key].IsString() ? d[key].GetString() : "";
}

// `portcullis serve` with its own env file on its own socket, stopped (and
// waited for) by the destructor.
class PrivateServer {
 public:
  PrivateServer(const std::string& env_file, const std::string& socket) {
    std::vector<std::string> args = {
        env("PORTCULLIS_TEST_BIN"), "serve",     "--env-file", env_file, "--listen",
        "unix:" + socket,           "--workers", "1"};
    std::vector<char*> argv;
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    const std::string log = env("PORTCULLIS_TEST_DIR") + "/rotate-serve.log";
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    ::posix_spawn_file_actions_destroy(&actions);
  }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;
  ~PrivateServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// CRY-3: generate a key, re-encrypt everything to it, then run a server
// whose keyring no longer has the old key: every memory and the TOTP secret
// still open. What is stored is checked with sqlite3 / psql, not the API.
TEST(KeyRotationTest, CRY_3_ServerWithoutTheOldKeyStillReadsEveryMemoryAndTotpSecret) {
  if (!under_harness() || env("PORTCULLIS_TEST_BIN").empty()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  const Config server = load_config(ConfigOptions{env("PORTCULLIS_TEST_ENV_FILE"), false});
  const std::string old_primary = server.data_key_primary;

  // Data under the server's current key: a user with TOTP and two memories.
  Registered who = register_tenant("rotate");
  Browser b = login(who.email);
  HttpResponse setup = b.call("POST", "/api/v1/mfa/totp/setup");
  ASSERT_EQ(setup.status, 200) << setup.body;
  const std::string secret = json_string(setup.body, "secret");
  ASSERT_FALSE(secret.empty());
  auto totp = [&](int offset_steps) {
    const long long t = static_cast<long long>(std::time(nullptr)) + offset_steps * 30LL;
    std::string code = output_of("oathtool --totp -b -N @" + std::to_string(t) + " " + secret);
    return code.substr(0, code.find('\n'));
  };
  HttpResponse enable = b.call("POST", "/api/v1/mfa/totp/enable", R"({"code":")" + totp(0) + "\"}");
  ASSERT_EQ(enable.status, 200) << enable.body;
  std::map<std::string, std::string> memories;  // id -> plaintext
  for (int i = 0; i < 2; ++i) {
    const std::string text = "rotation plaintext " + random_hex(8);
    HttpResponse m =
        b.call("POST", "/api/v1/memories", R"({"title":"rotate","content":")" + text + "\"}");
    ASSERT_EQ(m.status, 201) << m.body;
    memories[json_string(m.body, "id")] = text;
  }

  // keys generate -> reencrypt to the new key.
  std::string generated = output_of(env("PORTCULLIS_TEST_BIN") + " keys generate 2>/dev/null");
  generated = generated.substr(0, generated.find('\n'));
  const size_t colon = generated.find(':');
  ASSERT_NE(colon, std::string::npos) << generated;
  DataKey fresh{generated.substr(0, colon), ""};
  ASSERT_TRUE(base64_decode(generated.substr(colon + 1), &fresh.key));
  std::vector<DataKey> both = server.data_keys;
  both.push_back(fresh);
  const std::string rotate_env = env_file_with_keys(both, fresh.id);
  const std::string bin = env("PORTCULLIS_TEST_BIN");
  // Rows other suites corrupted on purpose make it exit 1; ours must move.
  int rc =
      run_shell(bin + " keys reencrypt --batch 500 --env-file " + rotate_env + " >/dev/null 2>&1");
  EXPECT_TRUE(rc == 0 || rc == 1) << rc;
  for (const auto& [id, text] : memories) {
    EXPECT_EQ(db_text("SELECT content_enc FROM memories WHERE id = :id", id)
                  .rfind("v1." + fresh.id + ".", 0),
              0u)
        << id;
  }
  EXPECT_EQ(db_text("SELECT totp_secret_enc FROM users WHERE id = :id", who.user_id)
                .rfind("v1." + fresh.id + ".", 0),
            0u);

  {
    // A server whose keyring holds only the new key.
    const std::string socket = env("PORTCULLIS_TEST_DIR") + "/rotate-" + random_hex(4) + ".sock";
    PrivateServer app(env_file_with_keys({fresh}, fresh.id), socket);
    ASSERT_TRUE(app.started());
    PrivateNginx::Options o;
    o.fcgi_socket = socket;
    PrivateNginx nginx(o);
    ASSERT_TRUE(nginx.up());
    int health = 0;
    for (int i = 0; i < 100 && health != 200; ++i) {
      health = send_raw(nginx.port(), json_request("GET", "/api/v1/health", "")).status;
      if (health != 200) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ASSERT_EQ(health, 200) << read_file(env("PORTCULLIS_TEST_DIR") + "/rotate-serve.log");

    const std::string login_body =
        R"({"email":")" + who.email + R"(","password":")" + kPassword + R"(","remember_me":false})";
    RawResponse pending =
        send_raw(nginx.port(), json_request("POST", "/api/v1/auth/login", login_body));
    ASSERT_EQ(pending.status, 200) << pending.raw;
    ASSERT_THAT(pending.body, HasSubstr("\"mfa_required\":true"));
    // The TOTP secret opens under the new key: the code verifies (the next
    // step, since enabling used this one).
    RawResponse verified =
        send_raw(nginx.port(),
                 json_request("POST", "/api/v1/auth/mfa/verify", R"({"code":")" + totp(1) + "\"}",
                              {"Cookie: " + cookie_of(pending),
                               "X-CSRF-Token: " + json_string(pending.body, "csrf_token")}));
    ASSERT_EQ(verified.status, 200) << verified.raw;
    const std::string cookie = cookie_of(verified);
    for (const auto& [id, text] : memories) {
      RawResponse m = send_raw(
          nginx.port(), json_request("GET", "/api/v1/memories/" + id, "", {"Cookie: " + cookie}));
      EXPECT_EQ(m.status, 200) << m.raw;
      EXPECT_EQ(json_string(m.body, "content"), text);
    }
  }

  // What is stored, read beside the app: no plaintext anywhere.
  std::string stored;
  if (is_postgres()) {
    const std::string psql = "psql -X -q -At '" + env("PORTCULLIS_TEST_DB_URL") + "' -c ";
    stored =
        output_of(psql + "'COPY memories TO STDOUT'") + output_of(psql + "'COPY users TO STDOUT'");
  } else {
    std::string url = env("PORTCULLIS_TEST_DB_URL");
    const std::string file = url.substr(std::string("sqlite://").size());
    stored = output_of("sqlite3 -readonly " + file + " .dump") + read_file(file) +
             read_file(file + "-wal");
  }
  for (const auto& [id, text] : memories) {
    EXPECT_THAT(stored, HasSubstr(id)) << "the dump must hold the row";
    EXPECT_THAT(stored, ::testing::Not(HasSubstr(text)));
  }
  EXPECT_THAT(stored, HasSubstr(who.user_id));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr(secret)));

  // Give the shared server its rows back under its own key.
  std::vector<DataKey> back = server.data_keys;
  back.push_back(fresh);
  rc = run_shell(bin + " keys reencrypt --batch 500 --env-file " +
                 env_file_with_keys(back, old_primary) + " >/dev/null 2>&1");
  EXPECT_TRUE(rc == 0 || rc == 1) << rc;
  for (const auto& [id, text] : memories) {
    EXPECT_EQ(json_string(b.call("GET", "/api/v1/memories/" + id).body, "content"), text);
  }
}

// A worker builds its keys (WorkerKeys: the field cipher and the purpose keys)
// once, at its start. A SIGHUP reload forks new workers, which build them again
// from the re-read configuration: a new primary data key seals the next row at
// once, while rows, backup codes and cursors made before the reload (same
// secret key) still open.
TEST(KeyRotationTest, CRY_3_ReloadRebuildsTheWorkersKeys) {
  if (!under_harness()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  const Config server = load_config(ConfigOptions{env("PORTCULLIS_TEST_ENV_FILE"), false});
  Enrolled e = enroll("reload-keys");
  ASSERT_GE(e.backup_codes.size(), 1u);
  std::vector<std::string> ids;  // oldest first
  std::map<std::string, std::string> texts;
  for (int i = 0; i < 2; ++i) {
    const std::string text = "before reload " + random_hex(8);
    HttpResponse m = e.browser.call("POST", "/api/v1/memories",
                                    R"({"title":"reload","content":")" + text + "\"}");
    ASSERT_EQ(m.status, 201) << m.body;
    ids.push_back(json_string(m.body, "id"));
    texts[ids.back()] = text;
  }
  HttpResponse first_page = e.browser.call("GET", "/api/v1/memories?limit=1");
  ASSERT_EQ(first_page.status, 200) << first_page.body;
  rapidjson::Document page = parse(first_page);
  ASSERT_TRUE(page["page"]["next_cursor"].IsString()) << first_page.body;
  const std::string cursor = page["page"]["next_cursor"].GetString();
  EXPECT_EQ(db_text("SELECT content_enc FROM memories WHERE id = :id", ids[0])
                .rfind("v1." + server.data_key_primary + ".", 0),
            0u);

  std::string ring;
  for (const DataKey& k : server.data_keys) {
    ring += k.id + ":" + base64_encode(k.key) + ",";
  }
  const DataKey fresh{"kreload" + random_hex(4), random_bytes(32)};
  ring += fresh.id + ":" + base64_encode(fresh.key);
  {
    ScopedServerEnv reloaded(
        {"PORTCULLIS_DATA_KEYS=" + ring, "PORTCULLIS_DATA_KEY_PRIMARY=" + fresh.id});
    // The new workers seal under the new primary.
    const std::string text = "after reload " + random_hex(8);
    HttpResponse m = e.browser.call("POST", "/api/v1/memories",
                                    R"({"title":"reload","content":")" + text + "\"}");
    ASSERT_EQ(m.status, 201) << m.body;
    const std::string id = json_string(m.body, "id");
    EXPECT_EQ(db_text("SELECT content_enc FROM memories WHERE id = :id", id)
                  .rfind("v1." + fresh.id + ".", 0),
              0u);
    EXPECT_EQ(json_string(e.browser.call("GET", "/api/v1/memories/" + id).body, "content"), text);
    // Rows under the old primary still open.
    for (const auto& [old_id, old_text] : texts) {
      EXPECT_EQ(json_string(e.browser.call("GET", "/api/v1/memories/" + old_id).body, "content"),
                old_text);
    }
    // A cursor handed out before the reload is still valid: the next page
    // after the newest row is the older one.
    HttpResponse next = e.browser.call("GET", "/api/v1/memories?limit=1&cursor=" + cursor);
    ASSERT_EQ(next.status, 200) << next.body;
    rapidjson::Document d = parse(next);
    ASSERT_TRUE(d["data"].IsArray() && d["data"].Size() == 1u) << next.body;
    EXPECT_EQ(std::string(d["data"][0]["id"].GetString()), ids[0]);
    // A backup code stored before the reload still verifies.
    Browser pending = pending_login(e.who.email);
    EXPECT_EQ(pending
                  .call("POST", "/api/v1/auth/mfa/verify",
                        R"({"backup_code":")" + e.backup_codes[0] + "\"}")
                  .status,
              200);
    // No row may stay under a key the restored server does not hold.
    EXPECT_EQ(e.browser.call("DELETE", "/api/v1/memories/" + id).status, 200);
  }
}

// #10 item 3, TEN-1/TEN-3: one worker (--workers 1) serves tenant A, tenant B
// and anonymous requests in turn, with requests that fail between binding the
// tenant and committing (a statement the database refuses, a handler that
// throws; read and write transactions). Every list holds only the caller's
// rows, and the connection itself (current_setting, read outside any
// transaction by an anonymous request on the same worker) never keeps a
// tenant after the request that bound it. On SQLite the rows are checked and
// the binding reads "" (no row-level security there).
TEST(TenantBindingTest, TEN_3_OneWorkerAlternatingTenantsNeverKeepsABinding) {
  if (!under_harness() || env("PORTCULLIS_TEST_BIN").empty()) {
    GTEST_SKIP() << "run through tests/integration/run.sh";
  }
  struct Caller {
    Registered who;
    std::string cookie;
    std::vector<std::string> titles;
  };
  std::vector<Caller> callers;
  for (const char* tag : {"bind-a", "bind-b"}) {
    Caller c;
    c.who = register_tenant(tag);
    Browser b = login(c.who.email);
    c.cookie = "Cookie: __Host-portcullis=" + b.cookie;
    for (int i = 0; i < 3; ++i) {
      std::string title = std::string(tag) + "-" + std::to_string(i);
      HttpResponse m = b.call("POST", "/api/v1/memories", R"({"title":")" + title + "\"}");
      ASSERT_EQ(m.status, 201) << m.body;
      c.titles.push_back(title);
    }
    callers.push_back(c);
  }
  const std::string socket = env("PORTCULLIS_TEST_DIR") + "/bind-" + random_hex(4) + ".sock";
  PrivateServer app(env("PORTCULLIS_TEST_ENV_FILE"), socket);
  ASSERT_TRUE(app.started());
  PrivateNginx::Options o;
  o.fcgi_socket = socket;
  PrivateNginx nginx(o);
  ASSERT_TRUE(nginx.up());
  int health = 0;
  for (int i = 0; i < 100 && health != 200; ++i) {
    health = send_raw(nginx.port(), json_request("GET", "/api/v1/health", "")).status;
    if (health != 200) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_EQ(health, 200);
  auto get = [&](const std::string& path, const std::string& cookie = "") {
    std::vector<std::string> headers;
    if (!cookie.empty()) {
      headers.push_back(cookie);
    }
    return send_raw(nginx.port(), json_request("GET", path, "", headers));
  };
  std::string pid;
  // The binding on the connection, read outside any transaction.
  auto expect_unbound = [&](const std::string& after) {
    RawResponse r = get("/api/v1/test/bound-tenant");
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(json_string(r.body, "tenant"), "") << "after " << after;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    std::string this_pid = std::to_string(d["pid"].GetInt64());
    if (pid.empty()) {
      pid = this_pid;
    }
    EXPECT_EQ(this_pid, pid) << "one worker serves every request";
  };
  auto expect_own_rows = [&](const Caller& c) {
    RawResponse r = get("/api/v1/memories?limit=100", c.cookie);
    ASSERT_EQ(r.status, 200) << r.raw;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    ASSERT_TRUE(d.IsObject() && d.HasMember("data") && d["data"].IsArray()) << r.body;
    std::vector<std::string> titles;
    for (const auto& m : d["data"].GetArray()) {
      titles.emplace_back(m["title"].GetString());
    }
    EXPECT_THAT(titles, ::testing::UnorderedElementsAreArray(c.titles)) << c.who.email;
  };
  const char* failures[][2] = {
      {"read", "sql"}, {"write", "sql"}, {"read", "throw"}, {"write", "throw"}};
  for (int round = 0; round < 12; ++round) {
    const Caller& c = callers[static_cast<size_t>(round % 2)];
    const Caller& other = callers[static_cast<size_t>((round + 1) % 2)];
    expect_own_rows(c);
    expect_unbound("a list");
    RawResponse in_tx = get("/api/v1/test/bound-tenant-in-tx", c.cookie);
    ASSERT_EQ(in_tx.status, 200) << in_tx.raw;
    EXPECT_EQ(json_string(in_tx.body, "tenant"), is_postgres() ? c.who.tenant_id : "");
    expect_unbound("a bound read");
    const char* const* f = failures[round % 4];
    RawResponse failed =
        get(std::string("/api/v1/test/fail-after-bind?kind=") + f[0] + "&fail=" + f[1], c.cookie);
    EXPECT_EQ(failed.status, 500) << failed.raw;
    EXPECT_THAT(failed.body, ::testing::Not(HasSubstr("overflow"))) << "no internal detail";
    expect_unbound(std::string("a ") + f[0] + " that failed by " + f[1]);
    expect_own_rows(other);  // the next tenant on the same connection sees its own rows only
    RawResponse me = get("/api/v1/me");
    EXPECT_EQ(me.status, 401) << "anonymous after a bound request";
    expect_unbound("an anonymous request");
  }

  // #10 item 3: in steady state an authenticated read costs two round trips
  // on PostgreSQL — the session lookup, then the data with the tenant bound
  // in the same round trip — and no SOCI statement (each would prepare and
  // deallocate). The worker's own counters, read before and after; the
  // benchmark counts the same from outside (strace, log_statement).
  if (is_postgres()) {
    auto counters = [&]() {
      RawResponse r = get("/api/v1/test/db-counters");
      rapidjson::Document d;
      d.Parse(r.body.c_str());
      EXPECT_TRUE(d.IsObject() && d.HasMember("round_trips")) << r.raw;
      return std::make_pair(d["round_trips"].GetUint64(), d["soci_statements"].GetUint64());
    };
    const Caller& c = callers[0];
    // /me answers from what the session lookup returned: one round trip.
    const std::pair<const char*, uint64_t> expected[] = {{"/api/v1/memories?limit=20", 2},
                                                         {"/api/v1/me", 1}};
    for (const auto& [path, round_trips] : expected) {
      for (int i = 0; i < 3; ++i) {
        auto before = counters();
        RawResponse r = get(path, c.cookie);
        auto after = counters();
        ASSERT_EQ(r.status, 200) << r.raw;
        EXPECT_EQ(after.first - before.first, round_trips) << path << ": round trips";
        EXPECT_EQ(after.second - before.second, 0u) << path << ": SOCI statements";
      }
    }
  }
}

}  // namespace
}  // namespace portcullis::testing
