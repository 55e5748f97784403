// Test build only (-DPORTCULLIS_TEST_ROUTES=ON); the production build lacks
// this file. A slow route for the graceful-drain test, a route that throws
// for the generic-500 test and an echo route for the body guards; for #9: a
// route whose answer cannot be written (item 17), one whose statement binds
// a secret and fails a constraint (item 4), one that audits inside a
// transaction and commits or rolls back (item 18), and the worker's pid;
// for #11: a security notice to an account and nothing else (the cap's
// concurrency test).
#ifdef PORTCULLIS_TEST_ROUTES
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>

#include "app/auth/account.h"
#include "app/auth/notify.h"
#include "app/crypto/random.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/db/tx.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/router.h"
#include "app/store/outbox.h"
#include "app/store/test_probes.h"

namespace portcullis {
namespace {
Response get_slow(Context& ctx);
Response get_boom(Context& ctx);
Response post_echo(Context& ctx);
Response get_unsendable(Context& ctx);
Response get_pid(Context& ctx);
Response post_db_fault(Context& ctx);
Response post_audit_probe(Context& ctx);
// Enqueues a password_changed mail to "email", then commits or rolls back.
Response post_outbox_probe(Context& ctx);
// Sends the account of "email" a role_changed notice through notify_user
// (the per-account cap applies), in a transaction of its own.
Response post_notice_probe(Context& ctx);
}  // namespace

void register_test_routes(Router& router) {
  router.add("GET", "/api/v1/test/slow", Access::kPublic, get_slow);
  router.add("GET", "/api/v1/test/boom", Access::kPublic, get_boom);
  router.add("POST", "/api/v1/test/echo", Access::kPublic, post_echo);
  router.add("GET", "/api/v1/test/unsendable", Access::kPublic, get_unsendable);
  router.add("GET", "/api/v1/test/pid", Access::kPublic, get_pid);
  router.add("POST", "/api/v1/test/db-fault", Access::kPublic, post_db_fault);
  router.add("POST", "/api/v1/test/audit-probe", Access::kPublic, post_audit_probe);
  router.add("POST", "/api/v1/test/outbox-probe", Access::kPublic, post_outbox_probe);
  router.add("POST", "/api/v1/test/notice-probe", Access::kPublic, post_notice_probe);
}

namespace {

Response get_slow(Context& ctx) {
  long ms = 1000;
  if (auto v = ctx.request.query_param("ms")) {
    ms = std::strtol(v->c_str(), nullptr, 10);
  }
  ms = std::max(0L, std::min(ms, 10000L));
  timespec left{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  rapidjson::Document body(rapidjson::kObjectType);
  body.AddMember("slept_ms", static_cast<int64_t>(ms), body.GetAllocator());
  return json_ok(body);
}

Response get_boom(Context&) {
  throw std::runtime_error("internal detail: table secret_stuff exploded");
}

Response post_echo(Context& ctx) {
  if (!ctx.request.json) {
    throw ApiError::bad_request("validation_failed", "A JSON body is required.");
  }
  rapidjson::Document body(rapidjson::kObjectType);
  rapidjson::Value copy(*ctx.request.json, body.GetAllocator());
  body.AddMember("echo", copy, body.GetAllocator());
  return json_ok(body);
}

// An answer the worker refuses to write: its header would inject another.
Response get_unsendable(Context&) {
  rapidjson::Document body(rapidjson::kObjectType);
  Response r = json_ok(body);
  r.set_header("X-Test", "a\r\nX-Injected: 1");
  return r;
}

Response get_pid(Context&) {
  rapidjson::Document body(rapidjson::kObjectType);
  body.AddMember("pid", static_cast<int64_t>(::getpid()), body.GetAllocator());
  return json_ok(body);
}

// Binds `secret` as a token hash and a CSRF token in an INSERT that fails
// its NOT NULL constraints (no user, tenant, state or times).
Response post_db_fault(Context& ctx) {
  JsonBody body(ctx.request, {"secret"});
  std::string secret = body.required_string("secret");
  body.finish();
  std::string id = uuid_v7();
  Tx tx(ctx.db);
  store::test_probes::insert_incomplete_session(tx, id, secret);
  tx.commit();
  return json_ok(rapidjson::Document(rapidjson::kObjectType));
}

// Audits "test.audit_probe" (success) inside a transaction, then commits
// when {"commit":true}, otherwise fails with 409 and so rolls back.
Response post_audit_probe(Context& ctx) {
  JsonBody body(ctx.request, {"commit"});
  bool commit = body.boolean("commit").value_or(false);
  body.finish();
  Tx tx(ctx.db);
  ctx.record(tx, ctx.audit_event("test.audit_probe", "success"));
  if (!commit) {
    throw ApiError::conflict("conflict", "Rolled back on purpose.");
  }
  tx.commit();
  return json_ok(rapidjson::Document(rapidjson::kObjectType));
}

Response post_outbox_probe(Context& ctx) {
  JsonBody body(ctx.request, {"email", "commit"});
  std::string email = body.required_string("email");
  bool commit = body.boolean("commit").value_or(false);
  body.finish();
  Tx tx(ctx.db);
  store::outbox::OutboxMail mail;
  mail.kind = "password_changed";
  mail.to_address = email;
  mail.params = {{"name", "probe"}};
  store::outbox::enqueue(tx, mail);
  if (!commit) {
    throw ApiError::conflict("conflict", "Rolled back on purpose.");
  }
  tx.commit();
  return json_ok(rapidjson::Document(rapidjson::kObjectType));
}

Response post_notice_probe(Context& ctx) {
  JsonBody body(ctx.request, {"email"});
  std::string email = body.required_string("email");
  body.finish();
  std::optional<Account> account = find_account_by_email(ctx.db, email);
  if (!account) {
    throw ApiError::not_found();
  }
  int64_t now = now_ms();
  TenantTx tx(ctx.db, account->tenant_id);
  NoticeOutcome outcome = notify_user(
      tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*account), kNoticeRoleChanged,
      {{"time", notice_time(now)}, {"old_role", "member"}, {"new_role", "member"}}, now);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("queued", outcome == NoticeOutcome::kQueued, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
#endif
