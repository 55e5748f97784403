// Server core through nginx (issue: server core). Every test speaks HTTP to
// the nginx that tests/integration/run.sh started in front of a real
// `portcullis serve`; process tests signal the master whose PID run.sh
// passes. Suites run in file order: the shutdown suite is last.
#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/http_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool postgres() { return env("PORTCULLIS_TEST_BACKEND") == "postgresql"; }
pid_t master_pid() {
  return static_cast<pid_t>(std::atoi(env("PORTCULLIS_TEST_MASTER_PID").c_str()));
}

// Children of `parent`, read from /proc (no procps needed).
std::set<pid_t> children_of(pid_t parent) {
  std::set<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) {
      continue;
    }
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t close = content.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(content.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != "Z") {
      out.insert(pid);
    }
  }
  closedir(d);
  return out;
}

// Running (not gone, not a zombie waiting for run.sh to reap it).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = content.rfind(')');
  return close != std::string::npos && content.size() > close + 2 && content[close + 2] != 'Z';
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs a shell command, capturing stdout+stderr.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.output.append(buf.data(), n);
  }
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

rapidjson::Document json(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

// The error envelope of DESIGN §8, with the request id of the X-Request-Id header.
void expect_envelope(const HttpResponse& r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_THAT(r.header("content-type"), HasSubstr("application/json"));
  rapidjson::Document d = json(r);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  const auto& e = d["error"];
  ASSERT_TRUE(e.HasMember("code") && e["code"].IsString()) << r.body;
  EXPECT_EQ(std::string(e["code"].GetString()), code);
  ASSERT_TRUE(e.HasMember("message") && e["message"].IsString());
  EXPECT_FALSE(std::string(e["message"].GetString()).empty());
  ASSERT_TRUE(e.HasMember("request_id") && e["request_id"].IsString());
  std::string rid = e["request_id"].GetString();
  EXPECT_FALSE(rid.empty());
  EXPECT_EQ(r.header("x-request-id"), rid);
  EXPECT_EQ(r.headers.count("x-request-id"), 1u) << "X-Request-Id set twice";
}

HttpResponse request(const std::string& method,
                     const std::string& path,
                     const std::string& body = "",
                     const std::vector<std::string>& headers = {}) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.headers = headers;
  return send(r);
}

// ---------------------------------------------------------------------------
TEST(HealthTest, ReportsOkWithoutVersion) {
  HttpResponse r = get("/api/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok","database":"ok"})");
  EXPECT_THAT(r.body, Not(HasSubstr("version")));
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.headers.count("cache-control"), 1u);
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);
}

TEST(HealthTest, RequestIdsComeFromNginxAndDiffer) {
  HttpResponse a = get("/api/v1/health");
  HttpResponse b = get("/api/v1/health");
  EXPECT_EQ(a.header("x-request-id").size(), 32u);  // nginx $request_id: 32 hex digits
  EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
}

TEST(HealthTest, SeedAliasIsDeprecatedWithSuccessorLink) {
  HttpResponse r = get("/api/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok","database":"ok"})");
  EXPECT_TRUE(r.has_header("deprecation"));
  EXPECT_TRUE(r.has_header("sunset"));
  EXPECT_EQ(r.header("link"), "</api/v1/health>; rel=\"successor-version\"");
}

TEST(HeadersTest, HDR_ApiAnswersCarryNginxSecurityHeadersOnce) {
  HttpResponse r = get("/api/v1/health");
  EXPECT_EQ(r.header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.headers.count("content-security-policy"), 1u);
  EXPECT_FALSE(r.has_header("x-powered-by"));
  EXPECT_THAT(r.header("server"), Not(HasSubstr("/")));  // server_tokens off
}

TEST(HeadersTest, SpaPageIsServedUnderStrictCsp) {
  HttpResponse r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("portcullis"));
  EXPECT_THAT(r.header("content-security-policy"), HasSubstr("default-src 'self'"));
  EXPECT_THAT(r.header("content-security-policy"), Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(get("/.env").status, 404);  // dotfiles are never served
}

// --- guards and errors: every status with its envelope --------------------------
TEST(ErrorsTest, ERR1_UnknownApiPathIs404) {
  expect_envelope(get("/api/v1/no-such-thing"), 404, "not_found");
}

TEST(ErrorsTest, API7_WrongMethodIs405WithAllow) {
  HttpResponse r = request("DELETE", "/api/v1/health");
  expect_envelope(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET");
  expect_envelope(request("PATCH", "/api/v1/health"), 405, "method_not_allowed");
}

TEST(ErrorsTest, API7_TraceIsRefused) {
  HttpResponse r = request("TRACE", "/api/v1/health");
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  EXPECT_THAT(r.body, Not(HasSubstr("TRACE /api")));
}

TEST(ErrorsTest, API1_NonJsonBodyIs415EvenOnUnknownPath) {
  expect_envelope(request("POST", "/api/v1/test/echo", "{\"a\":1}", {"Content-Type: text/plain"}),
                  415, "unsupported_media_type");
  expect_envelope(request("POST", "/api/v1/nowhere", "a=b",
                          {"Content-Type: application/x-www-form-urlencoded"}),
                  415, "unsupported_media_type");
}

TEST(ErrorsTest, API2_MalformedJsonIs400) {
  expect_envelope(
      request("POST", "/api/v1/test/echo", "{\"a\":", {"Content-Type: application/json"}), 400,
      "invalid_json");
  expect_envelope(
      request("POST", "/api/v1/test/echo", "{\"a\":1,\"a\":2}", {"Content-Type: application/json"}),
      400, "invalid_json");
  expect_envelope(
      request("POST", "/api/v1/test/echo", "{\"a\":\"\xff\"}", {"Content-Type: application/json"}),
      400, "invalid_json");
}

TEST(ErrorsTest, API2_NestingDeeperThan32Is400AndWorkersSurvive) {
  std::string deep33 = std::string(33, '[') + std::string(33, ']');
  expect_envelope(request("POST", "/api/v1/test/echo", deep33, {"Content-Type: application/json"}),
                  400, "invalid_json");
  std::string huge(100000, '[');
  expect_envelope(request("POST", "/api/v1/test/echo", huge, {"Content-Type: application/json"}),
                  400, "invalid_json");
  std::string deep32 = std::string(32, '[') + std::string(32, ']');
  HttpResponse ok =
      request("POST", "/api/v1/test/echo", deep32, {"Content-Type: application/json"});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(get("/api/v1/health").status, 200);
}

TEST(ErrorsTest, ValidJsonReachesTheHandler) {
  HttpResponse r = request("POST", "/api/v1/test/echo", R"({"x":[1,"two",null]})",
                           {"Content-Type: application/json; charset=utf-8"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"echo":{"x":[1,"two",null]}})");
}

TEST(ErrorsTest, API1_BodyOverAppLimitIs413FromTheApp) {
  // 200 KiB: under nginx's client_max_body_size, over MAX_BODY_BYTES (128 KiB).
  std::string body = "[" + std::string(200 * 1024, ' ') + "]";
  HttpResponse r = request("POST", "/api/v1/nowhere", body, {"Content-Type: application/json"});
  expect_envelope(r, 413, "payload_too_large");
}

TEST(ErrorsTest, API1_BodyOverNginxLimitIs413EnvelopeFromNginx) {
  std::string body = "[" + std::string(400 * 1024, ' ') + "]";
  HttpResponse r = request("POST", "/api/v1/test/echo", body, {"Content-Type: application/json"});
  expect_envelope(r, 413, "payload_too_large");
}

TEST(ErrorsTest, ERR1_UnexpectedExceptionIsGeneric500DetailsOnlyInLog) {
  HttpResponse r = get("/api/v1/test/boom");
  expect_envelope(r, 500, "internal_error");
  EXPECT_THAT(r.body, Not(HasSubstr("secret_stuff")));
  EXPECT_THAT(r.body, Not(HasSubstr("exploded")));
  // The detail is in the log, tagged with the same request id.
  std::ifstream log(env("PORTCULLIS_TEST_LOG"));
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  size_t at = all.find(r.header("x-request-id"));
  ASSERT_NE(at, std::string::npos);
  EXPECT_THAT(all, HasSubstr("secret_stuff exploded"));
}

TEST(LogsTest, LOG2_EveryLogLineIsOneJsonObject) {
  std::ifstream log(env("PORTCULLIS_TEST_LOG"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    if (line.empty()) {
      continue;
    }
    rapidjson::Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    ASSERT_TRUE(d.IsObject()) << line;
    EXPECT_TRUE(d.HasMember("ts") && d.HasMember("level") && d.HasMember("event")) << line;
    ++lines;
  }
  EXPECT_GT(lines, 0);
}

// --- migrations and configuration (CLI, no nginx) -------------------------------
TEST(MigrateCliTest, MigrateTwiceIsANoOp) {
  std::string cmd =
      env("PORTCULLIS_TEST_BIN") + " migrate --env-file " + env("PORTCULLIS_TEST_ENV_FILE");
  CommandResult r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("0 applied"));
  CommandResult again = run(cmd);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("0 applied"));
}

TEST(MigrateCliTest, ChangedAppliedMigrationIsRefused) {
  namespace fs = std::filesystem;
  fs::path copy = fs::path(env("PORTCULLIS_TEST_DIR")) / "migrations-changed";
  fs::remove_all(copy);
  fs::copy(env("PORTCULLIS_TEST_MIGRATIONS_DIR"), copy, fs::copy_options::recursive);
  std::string sub = postgres() ? "postgresql" : "sqlite";
  {
    std::ofstream f(copy / sub / "0001_init.sql", std::ios::app);
    f << "\n-- edited after it was applied\n";
  }
  CommandResult r =
      run("PORTCULLIS_MIGRATIONS_DIR=" + copy.string() + " " + env("PORTCULLIS_TEST_BIN") +
          " migrate --env-file " + env("PORTCULLIS_TEST_ENV_FILE"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("0001_init.sql changed"));
  fs::remove_all(copy);
}

TEST(ConfigCliTest, CRY4_ProductionWithoutSecretsExits78NamingTheVariable) {
  std::string file = env("PORTCULLIS_TEST_DIR") + "/production.env";
  {
    std::ofstream f(file);
    f << "PORTCULLIS_ENV=production\nPORTCULLIS_DATABASE_URL=sqlite://"
      << env("PORTCULLIS_TEST_DIR") << "/prod.db\n";
  }
  CommandResult r =
      run("env -u PORTCULLIS_SECRET_KEY -u PORTCULLIS_DATA_KEYS -u CREDENTIALS_DIRECTORY " +
          env("PORTCULLIS_TEST_BIN") + " serve --env-file " + file +
          " --listen unix:" + env("PORTCULLIS_TEST_DIR") + "/never.sock");
  EXPECT_EQ(r.exit_code, 78) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PORTCULLIS_SECRET_KEY"));
  EXPECT_THAT(r.output, HasSubstr("portcullis gen-secret"));
  EXPECT_FALSE(std::filesystem::exists(env("PORTCULLIS_TEST_DIR") + "/never.sock"));
}

TEST(ConfigCliTest, CheckConfigValidatesAndPrintsNoSecret) {
  CommandResult r = run(env("PORTCULLIS_TEST_BIN") + " serve --check-config --env-file " +
                        env("PORTCULLIS_TEST_ENV_FILE"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("configuration ok"));
  std::ifstream secret(env("PORTCULLIS_TEST_DIR") + "/var/secrets/secret_key");
  std::string value;
  std::getline(secret, value);
  ASSERT_FALSE(value.empty());
  EXPECT_THAT(r.output, Not(HasSubstr(value)));
}

// --- database outage (PostgreSQL) ------------------------------------------------
TEST(DatabaseOutageTest, HealthIs503WhileDatabaseIsDownAndRecoversWithin5s) {
  if (!postgres()) {
    GTEST_SKIP() << "the embedded SQLite database cannot be stopped";
  }
  CommandResult stop = run(env("PORTCULLIS_TEST_PG_STOP"));
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  bool saw_503 = false;
  for (int i = 0; i < 40 && !saw_503; ++i) {
    HttpResponse r = get("/api/v1/health");
    if (r.status == 503) {
      saw_503 = true;
      rapidjson::Document d = json(r);
      ASSERT_TRUE(d.IsObject());
      EXPECT_STREQ(d["database"].GetString(), "unavailable");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // Every worker notices: several answers in a row are 503, none is a 500 or 502.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(get("/api/v1/health").status, 503);
  }
  CommandResult start = run(env("PORTCULLIS_TEST_PG_START"));
  ASSERT_EQ(start.exit_code, 0) << start.output;
  auto t0 = Clock::now();
  int consecutive_ok = 0;
  while (Clock::now() - t0 < std::chrono::seconds(5) && consecutive_ok < 6) {
    consecutive_ok = get("/api/v1/health").status == 200 ? consecutive_ok + 1 : 0;
    if (consecutive_ok == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(saw_503);
  EXPECT_GE(consecutive_ok, 6) << "health did not return to 200 within 5 s";
  std::printf("[ figures  ] health back to 200 on every worker %.0f ms after PostgreSQL started\n",
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
}

// --- supervision ------------------------------------------------------------------
// The worker set, once it has settled at `n` (a recycled worker is replaced
// within milliseconds, but a snapshot may fall in between).
std::set<pid_t> settled_workers(pid_t master, size_t n) {
  std::set<pid_t> now;
  for (int i = 0; i < 100; ++i) {
    now = children_of(master);
    if (now.size() == n) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return now;
}

TEST(SupervisionTest, WorkersAreRecycledAfterMaxRequestsWithoutFailures) {
  // run.sh sets PORTCULLIS_MAX_REQUESTS_PER_WORKER=400 with 3 workers.
  int failures = 0;
  for (int i = 0; i < 1500; ++i) {
    failures += get("/api/v1/health").status == 200 ? 0 : 1;
  }
  EXPECT_EQ(failures, 0);
  std::ifstream log(env("PORTCULLIS_TEST_LOG"));
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(all, HasSubstr("\"event\":\"worker.recycle\""));
  EXPECT_EQ(settled_workers(master_pid(), 3).size(), 3u);
}

// Socket activation and sd_notify, without systemd: the test plays systemd.
// It opens the listen socket itself and passes it as fd 3 with LISTEN_FDS and
// LISTEN_PID, listens on a NOTIFY_SOCKET, and then talks raw FastCGI to the
// worker with cgi-fcgi (no nginx).
TEST(SystemdTest, SocketActivationAndSdNotify) {
  std::string dir = env("PORTCULLIS_TEST_DIR");
  std::string notify_path = dir + "/notify.sock";
  std::string listen_path = dir + "/activated.sock";
  ::unlink(notify_path.c_str());
  ::unlink(listen_path.c_str());
  int notify_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un na{};
  na.sun_family = AF_UNIX;
  std::snprintf(na.sun_path, sizeof na.sun_path, "%s", notify_path.c_str());
  ASSERT_EQ(::bind(notify_fd, reinterpret_cast<sockaddr*>(&na), sizeof na), 0);
  timeval tv{15, 0};
  ::setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  int listen_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un la{};
  la.sun_family = AF_UNIX;
  std::snprintf(la.sun_path, sizeof la.sun_path, "%s", listen_path.c_str());
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<sockaddr*>(&la), sizeof la), 0);
  ASSERT_EQ(::listen(listen_fd, 16), 0);

  std::string bin = env("PORTCULLIS_TEST_BIN");
  std::string env_file = env("PORTCULLIS_TEST_ENV_FILE");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(listen_fd, 3);
    std::string pid = std::to_string(::getpid());
    ::setenv("LISTEN_FDS", "1", 1);
    ::setenv("LISTEN_PID", pid.c_str(), 1);
    ::setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
    ::execl(bin.c_str(), bin.c_str(), "serve", "--env-file", env_file.c_str(), "--workers", "2",
            "--listen", "unix:/nonexistent/ignored.sock", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(listen_fd);
  std::string messages;
  char buf[512];
  while (messages.find("READY=1") == std::string::npos ||
         messages.find("STATUS=") == std::string::npos) {
    ssize_t n = ::recv(notify_fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    messages.append(buf, static_cast<size_t>(n)).append("\n");
  }
  EXPECT_THAT(messages, HasSubstr("READY=1"));
  EXPECT_THAT(messages, HasSubstr("STATUS=2 workers"));

  CommandResult r =
      run("env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/health REQUEST_ID=abc123 "
          "cgi-fcgi -bind -connect " +
          listen_path);
  EXPECT_THAT(r.output, HasSubstr("Status: 200 OK"));
  EXPECT_THAT(r.output, HasSubstr("X-Request-Id: abc123"));
  EXPECT_THAT(r.output, HasSubstr(R"({"status":"ok","database":"ok"})"));

  ::kill(child, SIGTERM);
  while (true) {
    ssize_t n = ::recv(notify_fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    messages.append(buf, static_cast<size_t>(n)).append("\n");
    if (messages.find("STOPPING=1") != std::string::npos) {
      break;
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_THAT(messages, HasSubstr("STOPPING=1"));
  EXPECT_FALSE(std::filesystem::exists("/nonexistent/ignored.sock"));
  ::close(notify_fd);
}

TEST(SupervisionTest, KilledWorkerIsRespawnedAndRequestsSucceedWithin1s) {
  pid_t master = master_pid();
  // A stream of requests before, during and after the kill.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread stream([&] {
    while (!stop) {
      if (get("/api/v1/health").status != 200) {
        ++failures;
      }
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Joiner() {
      stop = true;
      if (t.joinable()) {
        t.join();
      }
    }
  } joiner{stop, stream};
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // A worker may recycle itself between the snapshot and the kill: retry.
  pid_t victim = 0;
  for (int i = 0; i < 20 && victim == 0; ++i) {
    std::set<pid_t> before = settled_workers(master, 3);
    ASSERT_EQ(before.size(), 3u);
    if (::kill(*before.begin(), SIGKILL) == 0) {
      victim = *before.begin();
    }
  }
  ASSERT_NE(victim, 0);
  // Requests succeed again within 1 s (the other workers serve at once)...
  auto t0 = Clock::now();
  bool recovered = false;
  int consecutive_ok = 0;
  while (Clock::now() - t0 < std::chrono::seconds(1)) {
    consecutive_ok = get("/api/v1/health").status == 200 ? consecutive_ok + 1 : 0;
    if (consecutive_ok == 5) {
      recovered = true;
      break;
    }
  }
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  // ...and the master replaces the killed worker (a recycling worker may be
  // mid-replacement too, so the set is read once it has settled).
  bool respawned = false;
  for (int i = 0; i < 30 && !respawned; ++i) {
    std::set<pid_t> now = settled_workers(master, 3);
    respawned = now.size() == 3 && now.count(victim) == 0;
    if (!respawned) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  double respawn_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  stop = true;
  EXPECT_TRUE(recovered) << "requests did not succeed again within 1 s";
  EXPECT_TRUE(respawned) << "the killed worker was not replaced";
  std::printf(
      "[ figures  ] requests healthy %.0f ms and worker set back to 3 within %.0f ms after "
      "kill -9 (%d failed requests in the stream)\n",
      ms, respawn_ms, failures.load());
}

TEST(SupervisionTest, SighupRollsWorkersWithoutFailedRequests) {
  pid_t master = master_pid();
  std::set<pid_t> before = settled_workers(master, 3);
  ASSERT_EQ(before.size(), 3u);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> total{0};
  std::thread stream([&] {
    while (!stop) {
      ++total;
      if (get("/api/v1/health").status != 200) {
        ++failures;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The reload re-reads the env file: a lower body limit must take effect.
  {
    std::ofstream f(env("PORTCULLIS_TEST_ENV_FILE"), std::ios::app);
    f << "PORTCULLIS_MAX_BODY_BYTES=2048\n";
  }
  const std::string body = "[" + std::string(4000, ' ') + "]";
  HttpResponse before_reload =
      request("POST", "/api/v1/test/echo", body, {"Content-Type: application/json"});
  EXPECT_EQ(before_reload.status, 200);
  ASSERT_EQ(::kill(master, SIGHUP), 0);
  bool rolled = false;
  auto t0 = Clock::now();
  while (Clock::now() - t0 < std::chrono::seconds(5)) {
    std::set<pid_t> now = children_of(master);
    bool all_new = now.size() == 3;
    for (pid_t p : now) {
      all_new = all_new && before.count(p) == 0;
    }
    if (all_new) {
      rolled = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  stream.join();
  EXPECT_TRUE(rolled) << "workers were not replaced after SIGHUP";
  EXPECT_EQ(failures.load(), 0) << "of " << total.load() << " requests";
  expect_envelope(request("POST", "/api/v1/test/echo", body, {"Content-Type: application/json"}),
                  413, "payload_too_large");
}

// --- shutdown: keep this suite last ------------------------------------------------
TEST(ZzShutdownTest, SigtermCompletesTheRequestInFlightThenNginxAnswers502Envelope) {
  pid_t master = master_pid();
  auto slow = std::async(std::launch::async, [] { return get("/api/v1/test/slow?ms=2000"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(::kill(master, SIGTERM), 0);
  HttpResponse r = slow.get();
  EXPECT_EQ(r.status, 200) << r.body << r.error;
  EXPECT_EQ(r.body, R"({"slept_ms":2000})");
  auto t0 = Clock::now();
  while (alive(master) && Clock::now() - t0 < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(alive(master)) << "master still running after SIGTERM";
  EXPECT_TRUE(children_of(master).empty());
  // With the workers gone nginx answers itself, with the same envelope.
  HttpResponse down = get("/api/v1/health");
  EXPECT_EQ(down.status, 502);
  expect_envelope(down, 502, "service_unavailable");
}

}  // namespace
}  // namespace portcullis::testing
