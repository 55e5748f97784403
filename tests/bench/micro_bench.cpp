// Micro-benchmarks of the per-request CPU work inside a worker, without nginx or FastCGI:
// request parsing, routing, error serialisation, one whole handle_request() of
// GET /api/v1/health on in-memory SQLite, and Argon2id hash_password()/verify_password() at the
// default parameters (app/auth/passwords.h), per memory mode on one thread and raw on `nproc`
// threads. Run by tests/bench/run.sh (`make bench`), which divides the login rate of the real
// stack by BM_Argon2idVerifyRaw's rate.
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <argon2.h>
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>

#include "app/auth/passwords.h"
#include "app/auth/totp.h"
#include "app/config/config.h"
#include "app/crypto/hash.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/http/context.h"
#include "app/http/dispatch.h"
#include "app/http/json.h"
#include "app/http/request.h"
#include "app/http/response.h"
#include "app/http/router.h"
#include "app/log/audit.h"

#include "handlers/routes.h"

namespace portcullis {
namespace {

// --- fixtures --------------------------------------------------------------------------------

// A realistic ~1 KiB request body: a memory with some prose, tags and nested metadata.
std::string json_body() {
  std::string content =
      "Quarterly review notes: the migration to PostgreSQL 15 finished on schedule; the "
      "remaining SQLite tenants move next sprint. Action items: rotate the data key "
      "(primary k2), re-run the EXPLAIN checks on the list queries, and ask the sysadmins "
      "to enable the maintenance timer on the new VMs. Open question: should invitations "
      "expire after 7 or 14 days? Unicode check: caf\\u00e9, na\\u00efve, \\u2713 done. "
      "Escapes check: a \\\"quoted\\\" word, a tab\\there and a backslash \\\\ too.";
  std::string body = R"({"context_id":"0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03",)"
                     R"("title":"Q3 review \u2014 infrastructure",)"
                     R"("content":")" +
                     content +
                     R"(",)"
                     R"("tags":["review","infra","postgresql","keys","q3"],)"
                     R"("pinned":false,"priority":3,"score":0.875,)"
                     R"("remind_at":"2025-10-01T09:30:00Z",)"
                     R"("metadata":{"source":"web","client":{"name":"portcullis-spa",)"
                     R"("version":"0.1.0","platform":"Linux x86_64"},"lang":"en",)"
                     R"("links":[{"rel":"related","id":"0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f04"},)"
                     R"({"rel":"parent","id":"0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f05"}]},)"
                     R"("attachments":[],"archived":null})";
  return body;
}

const char* const kCookieHeader =
    "_ga=GA1.1.1234567890.1700000000; theme=dark; lang=en-GB; "
    "__Host-portcullis=q8ZxW3v1bN6yR0tK4mP2sL9dF7gH5jC3aE1uI8oY6wT; "
    "consent=analytics%3Dno%2Cfunctional%3Dyes; sidebar=collapsed";

// The FastCGI params nginx sends for one browser request (snippets/portcullis-fastcgi.conf plus
// the HTTP_* headers), as libfcgi hands them to the worker: an envp of NAME=value strings.
std::vector<std::string> fcgi_params(const std::string& body) {
  return {
      "GATEWAY_INTERFACE=CGI/1.1",
      "SERVER_PROTOCOL=HTTP/1.1",
      "REQUEST_METHOD=POST",
      "REQUEST_URI=/api/v1/memories?context=0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03&limit=50",
      "SCRIPT_NAME=/api/v1/memories",
      "DOCUMENT_URI=/api/v1/memories",
      "QUERY_STRING=context=0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03&limit=50",
      "CONTENT_TYPE=application/json",
      "CONTENT_LENGTH=" + std::to_string(body.size()),
      "REQUEST_SCHEME=https",
      "HTTPS=on",
      "REMOTE_ADDR=203.0.113.17",
      "REMOTE_PORT=51234",
      "SERVER_ADDR=127.0.0.1",
      "SERVER_PORT=443",
      "SERVER_NAME=localhost",
      "REQUEST_ID=3f9c2a7b1e5d4c8a9b0f6e2d1c3a5b7e",
      "HTTP_PROXY=",
      "HTTP_HOST=portcullis.example.org",
      "HTTP_USER_AGENT=Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "HTTP_ACCEPT=application/json",
      "HTTP_ACCEPT_LANGUAGE=en-GB,en;q=0.7",
      "HTTP_ACCEPT_ENCODING=gzip, deflate, br, zstd",
      "HTTP_ORIGIN=https://portcullis.example.org",
      "HTTP_REFERER=https://portcullis.example.org/contexts/0190b5a2",
      "HTTP_X_CSRF_TOKEN=Zk3b9QWm2Lr8Tq1Vx6Yc4Np7Hs0Jd5Gf",
      std::string("HTTP_COOKIE=") + kCookieHeader,
      "HTTP_SEC_FETCH_SITE=same-origin",
      "HTTP_SEC_FETCH_MODE=cors",
      "HTTP_SEC_FETCH_DEST=empty",
      "HTTP_CONNECTION=close",
  };
}

const char* find_param(char** envp, const char* name) {
  size_t len = std::strlen(name);
  for (char** e = envp; *e != nullptr; ++e) {
    if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') {
      return *e + len + 1;
    }
  }
  return nullptr;
}

std::string param(char** envp, const char* name) {
  const char* v = find_param(envp, name);
  return v == nullptr ? std::string() : std::string(v);
}

// The same steps as the worker's build_request() (app/server/worker.cpp), minus the FastCGI
// stream: FCGX_GetParam is a linear scan of envp, as find_param() is here.
Request build_request(char** envp, const std::string& body) {
  Request r;
  r.method = param(envp, "REQUEST_METHOD");
  std::string uri = param(envp, "REQUEST_URI");
  size_t q = uri.find('?');
  r.path = uri.substr(0, q);
  r.query = q == std::string::npos ? param(envp, "QUERY_STRING") : uri.substr(q + 1);
  r.client_ip = param(envp, "REMOTE_ADDR");
  r.request_id = sanitize_request_id(param(envp, "REQUEST_ID"));
  for (char** e = envp; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) {
      continue;
    }
    std::string name(*e, static_cast<size_t>(eq - *e));
    if (name.rfind("HTTP_", 0) == 0) {
      std::string lower = name.substr(5);
      for (char& c : lower) {
        c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      r.headers[lower] = eq + 1;
    }
  }
  std::string content_type = param(envp, "CONTENT_TYPE");
  if (!content_type.empty()) {
    r.headers["content-type"] = content_type;
  }
  r.cookies = parse_cookies(r.header("cookie"));
  r.body = body;
  return r;
}

Response no_content(Context& /*ctx*/) { return Response{}; }

// The product's routes plus 40 dummy ones shaped like the API to come (collections and
// `{id}` items), so matching walks a table of realistic size.
Router bench_router() {
  Router router = build_router();
  const char* const resources[] = {"contexts",    "memories",     "members",  "sessions",
                                   "invitations", "audit-events", "api-keys", "tenants"};
  for (const char* res : resources) {
    std::string base = std::string("/api/v1/") + res;
    const std::pair<const char*, std::string> dummies[] = {
        {"GET", base},
        {"POST", base},
        {"GET", base + "/{id}"},
        {"PATCH", base + "/{id}"},
        {"DELETE", base + "/{id}"},
    };
    for (const auto& [method, pattern] : dummies) {
      // Some of these exist for real by now (e.g. GET /api/v1/sessions), and add() refuses a
      // duplicate: keep the real route.
      bool taken = false;
      for (const Route& r : router.routes()) {
        taken = taken || (r.method == method && r.pattern == pattern);
      }
      if (!taken) {
        router.add(method, pattern, Access::kPublic, no_content);
      }
    }
  }
  return router;
}

// --- request parsing -------------------------------------------------------------------------

void BM_ParseJsonStrict(benchmark::State& state) {
  const std::string body = json_body();
  for (auto _ : state) {
    rapidjson::Document doc;
    JsonParseResult result = parse_json_strict(body, &doc);
    if (result != JsonParseResult::kOk) {
      state.SkipWithError("body did not parse");
      break;
    }
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_ParseJsonStrict);

void BM_ParseCookies(benchmark::State& state) {
  const std::string header = kCookieHeader;
  for (auto _ : state) {
    std::map<std::string, std::string> cookies = parse_cookies(header);
    benchmark::DoNotOptimize(cookies);
  }
}
BENCHMARK(BM_ParseCookies);

void BM_BuildRequest(benchmark::State& state) {
  const std::string body = json_body();
  std::vector<std::string> params = fcgi_params(body);
  std::vector<char*> envp;
  for (std::string& p : params) {
    envp.push_back(p.data());
  }
  envp.push_back(nullptr);
  for (auto _ : state) {
    Request r = build_request(envp.data(), body);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_BuildRequest);

// --- routing ---------------------------------------------------------------------------------

void run_match(benchmark::State& state,
               const char* method,
               const char* path,
               bool want_route,
               bool want_allow) {
  const Router router = bench_router();
  const std::string m = method;
  const std::string p = path;
  {
    Router::Match check = router.match(m, p);
    if ((check.route != nullptr) != want_route || check.allow.empty() == want_allow) {
      state.SkipWithError("unexpected match result");
      return;
    }
  }
  for (auto _ : state) {
    Router::Match match = router.match(m, p);
    benchmark::DoNotOptimize(match);
  }
  state.counters["routes"] = static_cast<double>(router.routes().size());
}

void BM_RouterMatchHealth(benchmark::State& state) {
  run_match(state, "GET", "/api/v1/health", true, false);
}
BENCHMARK(BM_RouterMatchHealth);

void BM_RouterMatchParamHit(benchmark::State& state) {
  // Late in the table, with an `{id}` param to capture.
  run_match(state, "PATCH", "/api/v1/api-keys/0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03", true, false);
}
BENCHMARK(BM_RouterMatchParamHit);

void BM_RouterMatch404(benchmark::State& state) {
  run_match(state, "GET", "/api/v1/nowhere/0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03", false, false);
}
BENCHMARK(BM_RouterMatch404);

void BM_RouterMatch405(benchmark::State& state) {
  // Path known for GET, PATCH and DELETE: builds the Allow list.
  run_match(state, "PUT", "/api/v1/memories/0190b5a2-7c3e-7d41-9a6f-2b8e4c1d9f03", false, true);
}
BENCHMARK(BM_RouterMatch405);

// --- error serialisation ---------------------------------------------------------------------

void BM_JsonError(benchmark::State& state) {
  const std::string code = "not_found";
  const std::string message = "The resource does not exist.";
  const std::string request_id = "3f9c2a7b1e5d4c8a9b0f6e2d1c3a5b7e";
  for (auto _ : state) {
    Response r = json_error(404, code, message, request_id);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JsonError);

void BM_JsonErrorWithFields(benchmark::State& state) {
  const std::string code = "validation_failed";
  const std::string message = "Some fields are invalid.";
  const std::string request_id = "3f9c2a7b1e5d4c8a9b0f6e2d1c3a5b7e";
  const std::map<std::string, std::string> fields = {
      {"email", "must be a valid e-mail address"},
      {"password", "must be at least 12 characters"},
      {"tenant_name", "must be 1-100 characters"},
  };
  for (auto _ : state) {
    Response r = json_error(422, code, message, request_id, fields);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JsonErrorWithFields);

// --- the whole pipeline, one health request --------------------------------------------------

void BM_HandleRequestHealth(benchmark::State& state) {
  Db db("sqlite://:memory:", DbOptions{});
  Audit audit;
  Config config;
  const WorkerKeys keys(random_bytes(32), {{"k1", random_bytes(32)}}, "k1");
  const Router router = build_router();
  Services services{router, db, audit, config, keys};
  {
    Request r;
    r.method = "GET";
    r.path = "/api/v1/health";
    r.request_id = "bench";
    if (handle_request(r, services).status != 200) {
      state.SkipWithError("health did not answer 200");
      return;
    }
  }
  for (auto _ : state) {
    Request r;
    r.method = "GET";
    r.path = "/api/v1/health";
    r.client_ip = "127.0.0.1";
    r.request_id = "3f9c2a7b1e5d4c8a9b0f6e2d1c3a5b7e";
    Response response = handle_request(r, services);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_HandleRequestHealth);

// --- password hashing (Argon2id at the default Argon2Params) ----------------------------------

// Wall-clock time on one thread (UseRealTime): the ceiling of logins per second per core that
// tests/bench/run.sh compares the real stack against. items_per_second = operations/s.
const char* const kBenchPassword = "correct horse battery staple 42";

void BM_Argon2idHash(benchmark::State& state) {
  const std::string password = kBenchPassword;
  for (auto _ : state) {
    std::string phc = hash_password(password);
    benchmark::DoNotOptimize(phc);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  const Argon2Params params;
  state.counters["m_kib"] = static_cast<double>(params.m_kib);
  state.counters["t"] = static_cast<double>(params.t);
  state.counters["p"] = static_cast<double>(params.p);
}
BENCHMARK(BM_Argon2idHash)->Unit(benchmark::kMillisecond)->UseRealTime();

// One successful verification, as a login with the right password does, in the process's
// default Argon2id memory mode (the one `portcullis serve` uses unless configured otherwise).
void BM_Argon2idVerify(benchmark::State& state) {
  const std::string password = kBenchPassword;
  const std::string phc = hash_password(password);
  if (!verify_password(password, phc) || verify_password("not the password at all", phc)) {
    state.SkipWithError("verify_password gave a wrong answer");
    return;
  }
  for (auto _ : state) {
    bool ok = verify_password(password, phc);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(argon2_memory_name(argon2_memory()));
}
BENCHMARK(BM_Argon2idVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same verification in each memory mode (app/auth/passwords.h Argon2Memory), one thread:
// what the mapping, page faults and release of the 19 MiB cost on top of the computation.
// Second argument: 0 = pages given back after each hash, 1 = kept between hashes (a worker's
// Argon2Release::kWhenIdle under back-to-back logins).
void BM_Argon2idVerifyMode(benchmark::State& state) {
  const auto mode = static_cast<Argon2Memory>(state.range(0));
  const bool keep = state.range(1) != 0;
  const Argon2Memory saved = argon2_memory();
  set_argon2_memory(mode);
  set_argon2_release(keep ? Argon2Release::kWhenIdle : Argon2Release::kAfterEachHash);
  const std::string password = kBenchPassword;
  const std::string phc = hash_password(password);
  if (!verify_password(password, phc)) {
    state.SkipWithError("verify_password gave a wrong answer");
    set_argon2_memory(saved);
    set_argon2_release(Argon2Release::kAfterEachHash);
    return;
  }
  for (auto _ : state) {
    bool ok = verify_password(password, phc);
    benchmark::DoNotOptimize(ok);
  }
  set_argon2_memory(saved);
  set_argon2_release(Argon2Release::kAfterEachHash);
  (void)release_argon2_memory();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(std::string(argon2_memory_name(mode)) + (keep ? ", kept" : ", released"));
}
BENCHMARK(BM_Argon2idVerifyMode)
    ->Args({static_cast<int>(Argon2Memory::kPerHash), 0})
    ->Args({static_cast<int>(Argon2Memory::kArena), 0})
    ->Args({static_cast<int>(Argon2Memory::kArenaPrefault), 0})
    ->Args({static_cast<int>(Argon2Memory::kArenaHugePages), 0})
    ->Args({static_cast<int>(Argon2Memory::kArena), 1})
    ->Args({static_cast<int>(Argon2Memory::kArenaHugePages), 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The raw Argon2id verify rate, the ceiling of logins per second (issue #10): libargon2's own
// argon2id_verify on `nproc` threads at once, with its working memory already resident (in
// this process glibc keeps the freed 19 MiB in the heap, so no page is mapped or faulted in
// per hash). items_per_second = verifications per second over all threads.
void BM_Argon2idVerifyRaw(benchmark::State& state) {
  static const std::string password = kBenchPassword;
  static const std::string phc = hash_password(password);
  if (argon2id_verify(phc.c_str(), password.data(), password.size()) != ARGON2_OK) {
    state.SkipWithError("argon2id_verify refused the right password");
    return;
  }
  for (auto _ : state) {
    int rc = argon2id_verify(phc.c_str(), password.data(), password.size());
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Argon2idVerifyRaw)
    ->Threads(static_cast<int>(std::thread::hardware_concurrency() == 0
                                   ? 1
                                   : std::thread::hardware_concurrency()))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// TOTP verification of a 6-digit code (RFC 6238, steps T-1..T+1, all
// three checked in constant time), as the MFA step does before its replay
// UPDATE.
void BM_TotpVerify(benchmark::State& state) {
  const std::string secret = new_totp_secret();
  const int64_t now = 1'800'000'000;
  const std::string code = hotp(secret, static_cast<uint64_t>(totp_step(now)));
  if (!verify_totp(secret, code, now).ok) {
    state.SkipWithError("verify_totp refused a valid code");
    return;
  }
  for (auto _ : state) {
    TotpMatch m = verify_totp(secret, code, now);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TotpVerify);

// Turning a typed backup code into its lookup key: normalisation plus
// HMAC-SHA-256 under the HKDF-derived purpose key, which the worker derives
// once at its start (WorkerKeys); the database UPDATE that consumes the code
// is not included.
void BM_BackupCodeHash(benchmark::State& state) {
  const WorkerKeys keys(random_bytes(32), {{"k1", random_bytes(32)}}, "k1");
  const std::string typed = new_backup_codes(1).front();
  for (auto _ : state) {
    std::string hash = to_hex(hmac_sha256(keys.backup_code_key(), normalize_backup_code(typed)));
    benchmark::DoNotOptimize(hash);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_BackupCodeHash);

}  // namespace
}  // namespace portcullis

BENCHMARK_MAIN();
