// pg_probe_list / pg_probe_me: minimal libfcgi + libpq programs doing the product's PostgreSQL
// work for one authenticated request, as the ceiling `portcullis serve` is measured against
// (tests/bench/pg.sh; issue #10). Built from this one file (PG_PROBE_LIST selects the page).
//
//   pg_probe_list|pg_probe_me --listen unix:PATH --env-file FILE [--workers N]
//
// The process model is fcgi_hello's (and `portcullis serve`'s): the master binds the unix
// socket (backlog 1024), forks N workers and waits; each worker loops FCGX_Accept_r → drain
// stdin → answer → FCGX_Detach + FCGX_Finish_r.
//
// What each worker does, so the comparison is like for like:
//   - Once: load_config(--env-file) exactly as `portcullis serve` does (the database URL, the
//     data keys of PORTCULLIS_DATA_KEYS and the cursor secret come from the same places);
//     one libpq connection as the app role (row-level security applies), SET statement_timeout
//     and TIME ZONE 'UTC' as the product's connection does, plan_cache_mode =
//     force_custom_plan (see run_worker); every statement prepared once (PQprepare); pipeline
//     mode on for the connection's life; one WorkerKeys (the product's class: its FieldCipher,
//     Crypto++ AES-256-GCM, and the cursor key), as the product's worker holds.
//   - Per request, round trip 1: portcullis_authenticate($token_hash) (the product's
//     SECURITY DEFINER lookup; token = the __Host-portcullis cookie, 43 chars, SHA-256 hex),
//     then the same checks as authenticate(): disabled, expired, idle (remember-me exempt);
//     an expired session is deleted and answers 401; last_seen_at is written when older than
//     PORTCULLIS_SESSION_TOUCH_SECONDS (queued into the next round trip; the me probe sends
//     it alone, as rarely as the product).
//   - pg_probe_me answers GET /api/v1/me's JSON (login_shape's fields, built here: user,
//     tenant, session, csrf_token).
//   - pg_probe_list, round trip 2: set_config('portcullis.tenant_id', $t, true) and the list's
//     SELECT (same columns, same keyset WHERE/ORDER BY/LIMIT limit+1) in one pipeline sync,
//     i.e. one implicit transaction, so the SET LOCAL binds the RLS tenant for the SELECT
//     exactly as TenantTx's BEGIN … COMMIT does. ?limit and ?cursor go through the product's
//     parse_page (HMAC-checked cursor, same scope string); each row becomes the same JSON
//     object as handlers/memories.cpp's memory_json, content decrypted with the product's
//     AAD (field_aad("memories", "content_enc", tenant, id)); the page object and next_cursor
//     come from page_json/make_cursor.
//   - Headers: Status, Content-Type, X-Request-Id (sanitize_request_id, as the worker),
//     Cache-Control: no-store, Content-Length.
// Errors answer a JSON error with the product's status code (401 unauthenticated or
// session_expired, 400 for a bad limit/cursor, 500 otherwise); the benchmark checks that every
// answer is 200.
#include <libpq-fe.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fcgiapp.h>
#include <rapidjson/document.h>

#include "app/config/config.h"
#include "app/crypto/aead.h"
#include "app/crypto/hash.h"
#include "app/crypto/worker_keys.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/pagination.h"
#include "app/http/request.h"
#include "app/http/response.h"

#ifndef PG_PROBE_LIST
#define PG_PROBE_LIST 0
#endif

namespace {

using portcullis::ApiError;

volatile sig_atomic_t g_stop = 0;
void on_stop(int /*signo*/) { g_stop = 1; }

const char* kProg = PG_PROBE_LIST ? "pg_probe_list" : "pg_probe_me";

int open_unix_socket(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "%s: bad unix socket path: %s\n", kProg, path.c_str());
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("socket");
    return -1;
  }
  ::unlink(path.c_str());
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  mode_t old = ::umask(0117);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0 || ::listen(fd, 1024) < 0) {
    std::perror(("bind/listen " + path).c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

// --- libpq, pipeline mode ------------------------------------------------------------------------

[[noreturn]] void fatal(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", kProg, what.c_str());
  _exit(1);
}

struct Pg {
  PGconn* conn = nullptr;

  void prepare(const char* name, const char* sql) {
    PGresult* r = PQprepare(conn, name, sql, 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fatal(std::string("prepare ") + name + ": " + PQerrorMessage(conn));
    }
    PQclear(r);
  }
  void exec(const char* sql) {
    PGresult* r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fatal(std::string(sql) + ": " + PQerrorMessage(conn));
    }
    PQclear(r);
  }
  // Queues one prepared statement (text parameters, text results).
  void send(const char* name, const std::vector<const char*>& params) {
    if (PQsendQueryPrepared(conn, name, static_cast<int>(params.size()), params.data(), nullptr,
                            nullptr, 0) != 1) {
      throw std::runtime_error(std::string("send ") + name + ": " + PQerrorMessage(conn));
    }
  }
  // Sends a Sync (one round trip for everything queued since the last one) and collects one
  // result per queued statement, in order, then the sync marker. Throws on any error.
  std::vector<PGresult*> sync(size_t queued) {
    if (PQpipelineSync(conn) != 1) {
      throw std::runtime_error(std::string("sync: ") + PQerrorMessage(conn));
    }
    std::vector<PGresult*> out;
    std::string error;
    for (size_t i = 0; i < queued; ++i) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) {
        throw std::runtime_error("pipeline: missing result");
      }
      ExecStatusType st = PQresultStatus(r);
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && error.empty()) {
        error = PQresultErrorMessage(r);
        if (error.empty()) {
          error = PQresStatus(st);
        }
      }
      out.push_back(r);
      PGresult* end = PQgetResult(conn);  // each statement's results end with a NULL
      if (end != nullptr) {
        PQclear(end);
      }
    }
    PGresult* s = PQgetResult(conn);
    if (s == nullptr || PQresultStatus(s) != PGRES_PIPELINE_SYNC) {
      error = "pipeline: no sync";
    }
    if (s != nullptr) {
      PQclear(s);
    }
    if (!error.empty()) {
      for (PGresult* r : out) {
        PQclear(r);
      }
      throw std::runtime_error(error);
    }
    return out;
  }
};

struct Results {  // owns a round trip's results
  std::vector<PGresult*> r;
  ~Results() {
    for (PGresult* x : r) {
      PQclear(x);
    }
  }
};

// --- one request
// -----------------------------------------------------------------------------------

struct Worker {
  portcullis::Config config;
  Pg pg;
  std::optional<portcullis::WorkerKeys> keys;
};

std::string param(FCGX_Request& req, const char* name) {
  const char* v = FCGX_GetParam(name, req.envp);
  return v != nullptr ? v : "";
}

std::string cell(PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

ApiError session_expired() {
  return ApiError{401, "session_expired", "Your session has expired. Please log in again."};
}

portcullis::Response handle(Worker& w, const portcullis::Request& request) {
  const portcullis::Config& config = w.config;
  auto cookie = request.cookies.find("__Host-portcullis");
  if (cookie == request.cookies.end() || cookie->second.empty()) {
    throw ApiError::unauthenticated();
  }
  const std::string& token = cookie->second;
  if (token.size() != 43) {
    throw session_expired();
  }
  // Round trip 1: the session with its user and tenant.
  std::string token_hash = portcullis::sha256_hex(token);
  w.pg.send("auth", {token_hash.c_str()});
  Results auth;
  auth.r = w.pg.sync(1);
  PGresult* a = auth.r[0];
  if (PQntuples(a) != 1) {
    throw session_expired();
  }
  // The columns of portcullis_authenticate(), in its order.
  struct {
    std::string id, user_id, tenant_id, auth_state, csrf_token, email, display_name, role,
        tenant_name;
    bool remember_me = false, mfa_enabled = false, disabled = false, tenant_require_mfa = false;
    int64_t last_seen_at = 0, expires_at = 0;
  } s;
  s.id = cell(a, 0, 0);
  s.user_id = cell(a, 0, 1);
  s.tenant_id = cell(a, 0, 2);
  s.auth_state = cell(a, 0, 3);
  s.csrf_token = cell(a, 0, 4);
  s.remember_me = cell(a, 0, 5) != "0";
  s.last_seen_at = portcullis::parse_time_ms(cell(a, 0, 7)).value_or(0);
  s.expires_at = portcullis::parse_time_ms(cell(a, 0, 8)).value_or(0);
  s.email = cell(a, 0, 13);
  s.display_name = cell(a, 0, 14);
  s.role = cell(a, 0, 15);
  s.mfa_enabled = cell(a, 0, 16) != "0";
  s.disabled = cell(a, 0, 17) != "0";
  s.tenant_name = cell(a, 0, 18);
  s.tenant_require_mfa = cell(a, 0, 19) != "0";
  int64_t now = portcullis::now_ms();
  bool idle_exempt = s.remember_me && s.auth_state == "full";
  bool idle = !idle_exempt &&
              now - s.last_seen_at > static_cast<int64_t>(config.session_idle_seconds) * 1000;
  if (s.disabled || now >= s.expires_at || idle) {
    w.pg.send("delete_session", {s.id.c_str()});
    Results done;
    done.r = w.pg.sync(1);
    throw session_expired();
  }
  bool touch = now - s.last_seen_at >= static_cast<int64_t>(config.session_touch_seconds) * 1000;
  std::string touch_at = touch ? portcullis::format_time_ms(now) : "";
  if (s.auth_state == "full" && s.tenant_require_mfa && !s.mfa_enabled) {
    // The product downgrades the session to enrolment here (an UPDATE); the benchmark's
    // tenants do not require MFA, so the probe only refuses.
    throw ApiError{403, "mfa_enrollment_required", "Set up two-step verification first."};
  }
#if PG_PROBE_LIST
  if (s.auth_state != "full") {
    throw ApiError::unauthenticated();
  }
  std::string scope = s.tenant_id + "|memories||";
  portcullis::PageRequest page = portcullis::parse_page(request, *w.keys, scope);
  std::string before =
      page.after_id.empty() ? std::string("ffffffff-ffff-ffff-ffff-ffffffffffff") : page.after_id;
  std::string fetch = std::to_string(page.limit + 1);
  // Round trip 2: (the due last_seen_at write,) the tenant binding and the page, one implicit
  // transaction.
  size_t queued = 0;
  if (touch) {
    w.pg.send("touch", {touch_at.c_str(), s.id.c_str()});
    ++queued;
  }
  w.pg.send("tenant", {s.tenant_id.c_str()});
  w.pg.send("page", {s.tenant_id.c_str(), before.c_str(), fetch.c_str()});
  queued += 2;
  Results res;
  res.r = w.pg.sync(queued);
  PGresult* rows = res.r.back();
  int n = PQntuples(rows);
  bool has_more = n > page.limit;
  if (has_more) {
    n = page.limit;
  }
  rapidjson::Document d(rapidjson::kObjectType);
  auto& al = d.GetAllocator();
  auto str = [&](const std::string& v) {
    return rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), al);
  };
  rapidjson::Value data(rapidjson::kArrayType);
  std::string last_id;
  for (int i = 0; i < n; ++i) {
    rapidjson::Value v(rapidjson::kObjectType);
    std::string id = cell(rows, i, 0);
    v.AddMember("id", str(id), al);
    if (PQgetisnull(rows, i, 1) == 0) {
      v.AddMember("context_id", str(cell(rows, i, 1)), al);
    } else {
      v.AddMember("context_id", rapidjson::Value(rapidjson::kNullType), al);
    }
    v.AddMember("title", str(cell(rows, i, 2)), al);
    std::optional<std::string> content = w.keys->field_cipher().decrypt(
        cell(rows, i, 3), portcullis::field_aad("memories", "content_enc", s.tenant_id, id));
    if (!content) {
      throw std::runtime_error("memories.content_enc " + id + " does not decrypt");
    }
    v.AddMember("content", str(*content), al);
    rapidjson::Document tags;
    tags.Parse(PQgetvalue(rows, i, 4));
    rapidjson::Value tag_array(rapidjson::kArrayType);
    if (tags.IsArray()) {
      for (const auto& t : tags.GetArray()) {
        if (t.IsString()) {
          tag_array.PushBack(rapidjson::Value(t.GetString(), al), al);
        }
      }
    }
    v.AddMember("tags", tag_array, al);
    if (PQgetisnull(rows, i, 5) == 0) {
      v.AddMember("created_by", str(cell(rows, i, 5)), al);
    } else {
      v.AddMember("created_by", rapidjson::Value(rapidjson::kNullType), al);
    }
    v.AddMember(
        "created_at",
        str(portcullis::format_time_ms(portcullis::parse_time_ms(cell(rows, i, 6)).value_or(0))),
        al);
    v.AddMember(
        "updated_at",
        str(portcullis::format_time_ms(portcullis::parse_time_ms(cell(rows, i, 7)).value_or(0))),
        al);
    data.PushBack(v, al);
    last_id = id;
  }
  d.AddMember("data", data, al);
  std::string next = has_more ? portcullis::make_cursor(last_id, *w.keys, scope) : "";
  d.AddMember("page", portcullis::page_json(page, next, has_more, al), al);
  return portcullis::json_ok(d);
#else
  if (touch) {  // the product writes it in a round trip of its own, once a minute
    w.pg.send("touch", {touch_at.c_str(), s.id.c_str()});
    Results done;
    done.r = w.pg.sync(1);
  }
  if (s.auth_state == "mfa_pending") {
    throw ApiError::unauthenticated();
  }
  // GET /api/v1/me's JSON (login_shape in app/auth/account.cpp), field for field.
  rapidjson::Document d(rapidjson::kObjectType);
  auto& al = d.GetAllocator();
  auto str = [&](const std::string& v) {
    return rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), al);
  };
  rapidjson::Value user(rapidjson::kObjectType);
  user.AddMember("id", str(s.user_id), al);
  user.AddMember("email", str(s.email), al);
  user.AddMember("display_name", str(s.display_name), al);
  user.AddMember("role", str(s.role), al);
  user.AddMember("mfa_enabled", s.mfa_enabled, al);
  d.AddMember("user", user, al);
  rapidjson::Value tenant(rapidjson::kObjectType);
  tenant.AddMember("id", str(s.tenant_id), al);
  tenant.AddMember("name", str(s.tenant_name), al);
  d.AddMember("tenant", tenant, al);
  rapidjson::Value session(rapidjson::kObjectType);
  session.AddMember("id", str(s.id), al);
  session.AddMember("expires_at", str(portcullis::format_time_ms(s.expires_at)), al);
  session.AddMember("remember_me", s.remember_me, al);
  d.AddMember("session", session, al);
  d.AddMember("csrf_token", str(s.csrf_token), al);
  return portcullis::json_ok(d);
#endif
}

std::string serialize(const portcullis::Response& response) {
  std::string out = "Status: " + std::to_string(response.status) + " " +
                    portcullis::status_text(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  out += response.body;
  return out;
}

void serve_one(Worker& w, FCGX_Request& req) {
  portcullis::Request request;
  char buf[16384];
  while (FCGX_GetStr(buf, sizeof buf, req.in) > 0) {
    // drained: closing at once is safe only after stdin was read
  }
  request.method = param(req, "REQUEST_METHOD");
  request.query = param(req, "QUERY_STRING");
  request.cookies = portcullis::parse_cookies(param(req, "HTTP_COOKIE"));
  request.request_id = portcullis::sanitize_request_id(param(req, "REQUEST_ID"));
  portcullis::Response response;
  try {
    response = handle(w, request);
  } catch (const ApiError& e) {
    response =
        portcullis::json_error(e.status(), e.code(), e.message(), request.request_id, e.fields());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    // A broken pipeline state cannot be recovered here: stop, the benchmark sees the errors.
    if (PQstatus(w.pg.conn) != CONNECTION_OK ||
        PQpipelineStatus(w.pg.conn) == PQ_PIPELINE_ABORTED) {
      g_stop = 1;
    }
    response =
        portcullis::json_error(500, "internal_error", "Something went wrong.", request.request_id);
  }
  response.set_header("X-Request-Id", request.request_id);
  response.set_header("Cache-Control", "no-store");
  std::string out = serialize(response);
  FCGX_PutStr(out.data(), static_cast<int>(out.size()), req.out);
}

[[noreturn]] void run_worker(int listen_fd, const std::string& env_file) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (getppid() == 1) {
    _exit(0);
  }

  Worker w;
  try {
    portcullis::ConfigOptions options;
    options.env_file = env_file;
    options.generate_dev_secrets = false;
    w.config = portcullis::load_config(options);
    w.keys.emplace(w.config.secret_key, w.config.data_keys, w.config.data_key_primary);
  } catch (const std::exception& e) {
    fatal(std::string("config: ") + e.what());
  }
  w.pg.conn = PQconnectdb(w.config.database_url.c_str());
  if (PQstatus(w.pg.conn) != CONNECTION_OK) {
    fatal(std::string("connect: ") + PQerrorMessage(w.pg.conn));
  }
  w.pg.exec(
      ("SET statement_timeout = " + std::to_string(w.config.db_statement_timeout_ms)).c_str());
  w.pg.exec("SET TIME ZONE 'UTC'");
  // Statements prepared once run on PostgreSQL's plan cache, which switches to a generic plan
  // after five executions. For the page query that generic plan is wrong: with the tenant as a
  // parameter the planner picks a backward scan of memories_pkey filtering tenant_id (measured:
  // 2.3 ms instead of 0.1 ms for page 1 of 10 tenants x 1 000, far worse for deep pages), not
  // memories_tenant_id_idx. Custom plans (planned per execution with the real tenant, still
  // parsed once) keep the index; the product will need the same when it prepares once.
  w.pg.exec("SET plan_cache_mode = force_custom_plan");
  w.pg.prepare("auth",
               "SELECT id, user_id, tenant_id, auth_state, csrf_token, remember_me, created_at, "
               "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent, "
               "email, display_name, role, mfa_enabled, disabled, tenant_name, "
               "tenant_require_mfa FROM portcullis_authenticate($1)");
  w.pg.prepare("touch", "UPDATE sessions SET last_seen_at = $1 WHERE id = $2");
  w.pg.prepare("delete_session", "DELETE FROM sessions WHERE id = $1");
  w.pg.prepare("tenant", "SELECT set_config('portcullis.tenant_id', $1, true)");
  w.pg.prepare("page",
               "SELECT m.id, m.context_id, m.title, m.content_enc, CAST(m.tags AS TEXT), "
               "m.created_by, m.created_at, m.updated_at FROM memories m WHERE m.tenant_id = $1 "
               "AND m.id < $2 ORDER BY m.id DESC LIMIT $3");
  if (PQenterPipelineMode(w.pg.conn) != 1) {
    fatal("cannot enter pipeline mode");
  }

  if (FCGX_Init() != 0) {
    fatal("FCGX_Init failed");
  }
  FCGX_Request req;
  FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  while (g_stop == 0) {
    if (FCGX_Accept_r(&req) < 0) {
      if (g_stop != 0 || errno == EINTR) {
        continue;
      }
      fatal("FCGX_Accept_r failed");
    }
    serve_one(w, req);
    FCGX_Detach(&req);
    FCGX_Finish_r(&req);
  }
  PQfinish(w.pg.conn);
  _exit(0);
}

void stop_workers(std::vector<pid_t>& workers) {
  for (pid_t pid : workers) {
    ::kill(pid, SIGTERM);
  }
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool killed = false;
  while (!workers.empty()) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      std::erase(workers, pid);
      continue;
    }
    if (pid < 0 && errno != EINTR) {
      break;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!killed && now.tv_sec - start.tv_sec >= 5) {
      for (pid_t x : workers) {
        ::kill(x, SIGKILL);
      }
      killed = true;
    }
    ::usleep(10000);
  }
}

void usage() {
  std::fprintf(stderr, "usage: %s --listen unix:PATH --env-file FILE [--workers N]\n", kProg);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  std::string env_file;
  long workers = 4;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--listen" || arg == "--workers" || arg == "--env-file") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--listen") {
        listen = value;
      } else if (arg == "--env-file") {
        env_file = value;
      } else {
        char* end = nullptr;
        workers = std::strtol(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || workers < 1 || workers > 256) {
          std::fprintf(stderr, "%s: --workers must be 1-256\n", kProg);
          return 2;
        }
      }
    } else {
      usage();
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (listen.rfind("unix:", 0) != 0 || env_file.empty()) {
    usage();
    return 2;
  }
  const std::string path = listen.substr(5);

  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  sigaddset(&wait_set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);

  int fd = open_unix_socket(path);
  if (fd < 0) {
    return 1;
  }
  std::vector<pid_t> children;
  for (long i = 0; i < workers; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      stop_workers(children);
      ::unlink(path.c_str());
      return 1;
    }
    if (pid == 0) {
      run_worker(fd, env_file);
    }
    children.push_back(pid);
  }
  int rc = 0;
  for (;;) {
    int signo = sigwaitinfo(&wait_set, nullptr);
    if (signo == SIGTERM || signo == SIGINT) {
      break;
    }
    if (signo == SIGCHLD) {
      int status = 0;
      pid_t pid = 0;
      bool lost = false;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        std::erase(children, pid);
        lost = true;
      }
      if (lost) {
        std::fprintf(stderr, "%s: a worker exited; stopping\n", kProg);
        rc = 1;
        break;
      }
    }
  }
  stop_workers(children);
  ::close(fd);
  ::unlink(path.c_str());
  return rc;
}
