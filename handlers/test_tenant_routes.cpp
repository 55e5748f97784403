// Test build only (-DPORTCULLIS_TEST_ROUTES=ON): routes that show the tenant
// binding of the worker's connection, for the test that one worker serving
// tenants A and B and anonymous requests in turn never lets a binding
// outlive its transaction — including when a request fails between binding
// and commit; and the worker's database round-trip counters.
#ifdef PORTCULLIS_TEST_ROUTES
#include <unistd.h>

#include <stdexcept>

#include "app/db/tenant_tx.h"
#include "app/http/context.h"
#include "app/http/router.h"
#include "app/store/diagnostics.h"

namespace portcullis {
namespace {

// {"tenant": what the connection has bound outside any transaction, "pid"}.
Response get_bound_tenant(Context& ctx) {
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  body.AddMember("tenant", rapidjson::Value(store::diagnostics::bound_tenant(ctx.db).c_str(), a),
                 a);
  body.AddMember("pid", static_cast<int64_t>(::getpid()), a);
  return json_ok(body);
}

// {"tenant": what is bound inside the caller's tenant transaction}.
Response get_bound_tenant_in_tx(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string bound = store::diagnostics::bound_tenant(tx);
  tx.commit();
  rapidjson::Document body(rapidjson::kObjectType);
  body.AddMember("tenant", rapidjson::Value(bound.c_str(), body.GetAllocator()),
                 body.GetAllocator());
  return json_ok(body);
}

// Binds the caller's tenant, then fails: ?fail=sql (the database refuses a
// statement) or ?fail=throw (the handler throws); ?kind=read|write.
Response get_fail_after_bind(Context& ctx) {
  TxKind kind =
      ctx.request.query_param("kind").value_or("") == "write" ? TxKind::kWrite : TxKind::kRead;
  TenantTx tx(ctx.db, ctx.principal->tenant_id, kind);
  if (ctx.request.query_param("fail").value_or("") == "sql") {
    store::diagnostics::fail_after_binding(tx);
  }
  (void)store::diagnostics::bound_tenant(tx);
  throw std::runtime_error("failed on purpose after binding the tenant");
}

// {"round_trips", "soci_statements"} of this worker's connection so far
// (PostgreSQL; app/db/connection.h); this route sends nothing itself.
Response get_db_counters(Context& ctx) {
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  body.AddMember("round_trips", static_cast<uint64_t>(ctx.db.round_trips()), a);
  body.AddMember("soci_statements", static_cast<uint64_t>(ctx.db.soci_statements()), a);
  body.AddMember("pid", static_cast<int64_t>(::getpid()), a);
  return json_ok(body);
}

}  // namespace

void register_test_tenant_routes(Router& router) {
  router.add("GET", "/api/v1/test/bound-tenant", Access::kPublic, get_bound_tenant);
  router.add("GET", "/api/v1/test/bound-tenant-in-tx", Access::kAuthenticated,
             get_bound_tenant_in_tx);
  router.add("GET", "/api/v1/test/fail-after-bind", Access::kAuthenticated, get_fail_after_bind);
  router.add("GET", "/api/v1/test/db-counters", Access::kPublic, get_db_counters);
}

}  // namespace portcullis
#endif
