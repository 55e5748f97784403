// Contexts: named groups of memories, scoped to the caller's tenant.
// Another tenant's context is "not found" (404), never "forbidden".
// Creating, renaming and deleting are audited in the transaction that makes
// the change (ids only: a context's name is the tenant's content).
#include "app/store/contexts.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "app/crypto/random.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"

namespace portcullis {
namespace {
Response list_contexts(Context& ctx);
Response create_context(Context& ctx);
Response get_context(Context& ctx);
Response patch_context(Context& ctx);
Response delete_context(Context& ctx);
}  // namespace

void register_contexts_routes(Router& router) {
  router.add("GET", "/api/v1/contexts", Access::kAuthenticated, list_contexts);
  router.add("POST", "/api/v1/contexts", Access::kAuthenticated, create_context);
  router.add("GET", "/api/v1/contexts/{id}", Access::kAuthenticated, get_context);
  router.add("PATCH", "/api/v1/contexts/{id}", Access::kAuthenticated, patch_context);
  router.add("DELETE", "/api/v1/contexts/{id}", Access::kAuthenticated, delete_context);
}

namespace {

using store::contexts::ContextRow;

rapidjson::Value context_json(const ContextRow& c, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", rapidjson::Value(c.id.c_str(), a), a);
  v.AddMember("name", rapidjson::Value(c.name.c_str(), a), a);
  v.AddMember("created_at",
              rapidjson::Value(format_time_ms(parse_time_ms(c.created_at).value_or(0)).c_str(), a),
              a);
  return v;
}

ApiError name_taken() {
  return ApiError::conflict("conflict", "A context with this name already exists.");
}

void audit_context(const Context& ctx,
                   TenantTx& tx,
                   const std::string& event,
                   const std::string& id,
                   std::vector<std::pair<std::string, std::string>> details) {
  AuditEvent ev = ctx.audit_event(event, "success");
  ev.target_type = "context";
  ev.target_id = id;
  ev.details = std::move(details);
  ctx.record(tx, ev);
}

Response list_contexts(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|contexts";
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string before =
      page.after_id.empty() ? "ffffffff-ffff-ffff-ffff-ffffffffffff" : page.after_id;
  std::vector<ContextRow> rows = store::contexts::page(tx, before, page.limit + 1);
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, context_json);
}

Response create_context(Context& ctx) {
  JsonBody body(ctx.request, {"name"});
  std::string name = body.name("name");
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  if (store::contexts::name_in_use(tx, name, "")) {
    throw name_taken();
  }
  ContextRow c{uuid_v7(), name, format_time_ms(now_ms())};
  if (!store::contexts::insert(tx, c)) {
    throw name_taken();  // created meanwhile by another request
  }
  audit_context(ctx, tx, "context.created", c.id, {});
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(context_json(c, d.GetAllocator()), d.GetAllocator());
  return json_ok(d, 201);
}

Response get_context(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  // The id is a path parameter: dispatch has checked it is a UUID.
  std::optional<ContextRow> c = store::contexts::find(tx, ctx.path_param("id"));
  if (!c) {
    throw ApiError::not_found();  // another tenant's context is "not found"
  }
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(context_json(*c, d.GetAllocator()), d.GetAllocator());
  return json_ok(d);
}

Response patch_context(Context& ctx) {
  JsonBody body(ctx.request, {"name"});
  std::string name = body.name("name");
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::optional<ContextRow> c = store::contexts::find(tx, ctx.path_param("id"));
  if (!c) {
    throw ApiError::not_found();
  }
  if (store::contexts::name_in_use(tx, name, c->id)) {
    throw name_taken();
  }
  store::contexts::rename(tx, c->id, name, format_time_ms(now_ms()));
  audit_context(ctx, tx, "context.renamed", c->id, {{"fields", "name"}});
  tx.commit();
  c->name = name;
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(context_json(*c, d.GetAllocator()), d.GetAllocator());
  return json_ok(d);
}

Response delete_context(Context& ctx) {
  bool cascade = ctx.request.query_param("cascade").value_or("") == "true";
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::optional<ContextRow> c = store::contexts::find(tx, ctx.path_param("id"));
  if (!c) {
    throw ApiError::not_found();
  }
  int64_t memories = store::contexts::count_memories(tx, c->id);
  if (memories > 0 && !cascade) {
    throw ApiError::conflict("conflict",
                             "The context still holds memories. Delete them first or pass "
                             "?cascade=true.");
  }
  store::contexts::remove_with_memories(tx, c->id);
  audit_context(ctx, tx, "context.deleted", c->id,
                {{"memories_deleted", std::to_string(memories)}});
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("deleted", true, d.GetAllocator());
  d.AddMember("memories_deleted", memories, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
