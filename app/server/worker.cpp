#include "app/server/worker.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcgiapp.h>

#include "app/auth/passwords.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/errors.h"
#include "app/http/dispatch.h"
#include "app/log/audit.h"
#include "app/log/logger.h"

namespace portcullis {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int /*signo*/) { g_stop = 1; }

// While idle in accept() the stop signal must interrupt it (no SA_RESTART,
// and libfcgi's FCGI_FAIL_ACCEPT_ON_INTR returns the EINTR). While a request
// is in hand, libfcgi's read()/write() do not retry on EINTR, so the signal
// is installed with SA_RESTART and only sets the flag checked after it.
void set_stop_handler(bool interrupt_syscalls) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = interrupt_syscalls ? 0 : SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

// Argon2id pages kept after a login (Argon2Release::kWhenIdle) go back to the
// OS once the worker has waited this long in accept() for its next request.
constexpr unsigned kArgon2IdleReleaseSeconds = 1;

// Runs only while the worker waits in FCGX_Accept_r (the alarm is armed just
// before and cancelled just after), when no hash is running: one madvise
// and two stores to this thread's arena, no allocation, no lock.
void on_idle_alarm(int /*signo*/) { (void)release_argon2_memory(); }

void install_worker_signals() {
  set_stop_handler(true);
  struct sigaction idle {};
  idle.sa_handler = on_idle_alarm;
  sigemptyset(&idle.sa_mask);
  idle.sa_flags = SA_RESTART;  // accept() and libfcgi's reads carry on after it
  sigaction(SIGALRM, &idle, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
  sigaction(SIGHUP, &ignore, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

std::string param(FCGX_Request& req, const char* name) {
  const char* v = FCGX_GetParam(name, req.envp);
  return v == nullptr ? std::string() : std::string(v);
}

// HTTP_X_CSRF_TOKEN → x-csrf-token
std::string header_name(const char* env_name) {
  std::string out(env_name + 5);
  for (char& c : out) {
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Request build_request(FCGX_Request& req, size_t max_body) {
  Request r;
  r.method = param(req, "REQUEST_METHOD");
  std::string uri = param(req, "REQUEST_URI");
  size_t q = uri.find('?');
  r.path = uri.substr(0, q);
  r.query = q == std::string::npos ? param(req, "QUERY_STRING") : uri.substr(q + 1);
  r.client_ip = param(req, "REMOTE_ADDR");
  r.request_id = sanitize_request_id(param(req, "REQUEST_ID"));
  for (char** e = req.envp; e != nullptr && *e != nullptr; ++e) {
    const char* kv = *e;
    const char* eq = std::strchr(kv, '=');
    if (eq == nullptr) {
      continue;
    }
    std::string name(kv, eq - kv);
    if (name.rfind("HTTP_", 0) == 0) {
      r.headers[header_name(name.c_str())] = eq + 1;
    }
  }
  std::string content_type = param(req, "CONTENT_TYPE");
  if (!content_type.empty()) {
    r.headers["content-type"] = content_type;
  }
  r.cookies = parse_cookies(r.header("cookie"));
  // Read the body up to the limit, then drain whatever is left: the
  // connection is closed at once after the answer (FCGX_Detach), which is
  // safe only when stdin has been consumed.
  char buf[16384];
  for (;;) {
    int n = FCGX_GetStr(buf, sizeof buf, req.in);
    if (n <= 0) {
      break;
    }
    if (!r.body_too_large && r.body.size() + static_cast<size_t>(n) <= max_body) {
      r.body.append(buf, static_cast<size_t>(n));
    } else {
      r.body_too_large = true;
      r.body.clear();
    }
  }
  std::string length = param(req, "CONTENT_LENGTH");
  if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) > max_body) {
    r.body_too_large = true;
    r.body.clear();
  }
  return r;
}

// A header name is an HTTP token; a value has no CR, LF or other control
// character (it would end the header and start another: header injection).
bool valid_header(const std::string& name, const std::string& value) {
  if (name.empty()) {
    return false;
  }
  for (unsigned char c : name) {
    if (std::isalnum(c) == 0 && std::strchr("!#$%&'*+-.^_`|~", c) == nullptr) {
      return false;
    }
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return false;
    }
  }
  return true;
}

// The whole answer as FastCGI stdout. Throws std::invalid_argument for a
// header that cannot be sent, before anything is written.
std::string serialize_response(const Response& response) {
  std::string out =
      "Status: " + std::to_string(response.status) + " " + status_text(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (!valid_header(name, value)) {
      throw std::invalid_argument("response header not sendable");
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  out += response.body;
  return out;
}

void write_raw(FCGX_Request& req, const std::string& data) {
  FCGX_PutStr(data.data(), static_cast<int>(data.size()), req.out);
}

void log_request_failure(const char* event,
                         const std::string& request_id,
                         const std::string& what) {
  try {
    LogRecord r;
    r.event = event;
    r.outcome = "failure";
    r.request_id = request_id;
    r.details.emplace_back("error", what);
    log_record(Level::kError, r);
  } catch (...) {  // nothing more can be done about a log that cannot be written
  }
}

// One request, start to finish. Nothing escapes (#9 item 17): a fault while
// building the request, handling it or writing the answer costs that
// request a generic 500 (when nothing was written yet), never the worker.
void serve_one(FCGX_Request& req, const Config& config, Services& services) {
  std::string request_id;
  bool written = false;
  try {
    Request request = build_request(req, config.max_body_bytes);
    request_id = request.request_id;
    Response response = handle_request(request, services);
    std::string out = serialize_response(response);
    written = true;
    write_raw(req, out);
  } catch (const std::exception& e) {
    log_request_failure("request.worker_fault", request_id, loggable_what(e));
  } catch (...) {
    log_request_failure("request.worker_fault", request_id, "non-standard exception");
  }
  if (written) {
    return;
  }
  try {
    if (request_id.empty()) {
      request_id = sanitize_request_id("");
    }
    Response fallback = json_error(500, "internal_error", "Something went wrong.", request_id, {});
    fallback.set_header("X-Request-Id", request_id);
    fallback.set_header("Cache-Control", "no-store");
    write_raw(req, serialize_response(fallback));
  } catch (...) {  // the connection goes; the worker stays
  }
}

int serve(int listen_fd, const Config& config, const Router& router) {
  // Large transient buffers go to mmap and are returned to the OS after use, so
  // a worker's RSS stays near its baseline.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Argon2id's 19 MiB: by default a mapping kept for the worker's life, on
  // transparent huge pages where the kernel has them, whose pages go back to
  // the OS after each hash (DESIGN §2; the modes and their figures are in
  // app/auth/passwords.h and tests/bench/run.sh).
  set_argon2_memory(parse_argon2_memory(config.argon2_memory).value_or(default_argon2_memory()));
  set_argon2_release(config.argon2_release == "after-hash" ? Argon2Release::kAfterEachHash
                                                           : Argon2Release::kWhenIdle);
  // The field cipher and the purpose keys, built once for this worker's life
  // instead of per request. A SIGHUP reload does not touch a running worker: the
  // master re-reads the configuration and forks a new generation (Master::reload),
  // whose workers build their keys here from the new Config while this one drains.
  const WorkerKeys keys(config.secret_key, config.data_keys, config.data_key_primary);

  Db db(config.database_url, DbOptions{config.db_statement_timeout_ms, config.db_busy_timeout_ms});
  try {
    db.session();
  } catch (const std::exception& e) {
    LogRecord r;
    r.event = "worker.database_unavailable";
    r.outcome = "failure";
    r.details.emplace_back("error", loggable_what(e));
    log_record(Level::kWarning, r);
  }
  // Build the dummy Argon2id hash now, so the first unknown-e-mail login
  // costs what every later one costs.
  verify_dummy("warm-up");
  (void)release_argon2_memory();  // idle from the start, whatever the release policy
  Audit audit(db);
  Services services{router, db, audit, config, keys};

  if (FCGX_Init() != 0) {
    log_event(Level::kError, "worker.init_failed", "FCGX_Init failed");
    return 1;
  }
  FCGX_Request req;
  FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  long served = 0;
  while (g_stop == 0) {
    set_stop_handler(true);
    const bool release_later = argon2_memory_resident();
    if (release_later) {
      alarm(kArgon2IdleReleaseSeconds);
    }
    int rc = FCGX_Accept_r(&req);
    if (release_later) {
      alarm(0);
    }
    set_stop_handler(false);
    if (rc < 0) {
      if (g_stop != 0) {
        break;
      }
      if (rc == -EINTR || errno == EINTR) {
        continue;
      }
      log_event(Level::kError, "worker.accept_failed", std::strerror(-rc));
      return 1;
    }
    serve_one(req, config, services);
    FCGX_Detach(&req);  // close now instead of libfcgi's lingering close
    FCGX_Finish_r(&req);
    ++served;
    if (config.max_requests_per_worker > 0 && served >= config.max_requests_per_worker) {
      LogRecord r;
      r.event = "worker.recycle";
      r.outcome = "success";
      r.details.emplace_back("requests", std::to_string(served));
      log_record(Level::kInfo, r);
      break;
    }
  }
  return 0;
}

}  // namespace

// Nothing may unwind out of here: the caller is the master's code in a
// forked child, and an exception would carry on in the master's frames.
// A fault outside any request ends this worker with a non-zero status, and
// the master respawns it.
int run_worker(int listen_fd, const Config& config, const Router& router) {
  install_worker_signals();
  try {
    return serve(listen_fd, config, router);
  } catch (const std::exception& e) {
    log_request_failure("worker.fault", "", loggable_what(e));
  } catch (...) {
    log_request_failure("worker.fault", "", "non-standard exception");
  }
  return 1;
}

}  // namespace portcullis
