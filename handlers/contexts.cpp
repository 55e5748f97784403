// Contexts: named groups of memories, scoped to the caller's tenant.
// Another tenant's context is "not found" (404), never "forbidden".
// Creating, renaming and deleting are audited in the transaction that makes
// the change (ids only: a context's name is the tenant's content).
#include <soci/soci.h>

#include "app/auth/account.h"
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

struct ContextRow {
  std::string id;
  std::string name;
  std::string created_at;
};

rapidjson::Value context_json(const ContextRow& c, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", rapidjson::Value(c.id.c_str(), a), a);
  v.AddMember("name", rapidjson::Value(c.name.c_str(), a), a);
  v.AddMember("created_at",
              rapidjson::Value(format_time_ms(parse_time_ms(c.created_at).value_or(0)).c_str(), a),
              a);
  return v;
}

std::optional<ContextRow> find_context(TenantTx& tx, const std::string& id) {
  // `id` is a path parameter: dispatch has checked it is a UUID.
  ContextRow c;
  tx.sql() << "SELECT id, name, created_at FROM contexts WHERE tenant_id = :t AND id = :id",
      soci::use(tx.tenant_id()), soci::use(id), soci::into(c.id), soci::into(c.name),
      soci::into(c.created_at);
  if (!tx.sql().got_data()) {
    return std::nullopt;
  }
  return c;
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
  ctx.audit.record(tx.sql(), ev);
}

bool name_in_use(TenantTx& tx, const std::string& name, const std::string& except_id) {
  int n = 0;
  if (except_id.empty()) {
    tx.sql() << "SELECT COUNT(*) FROM contexts WHERE tenant_id = :t AND name = :n",
        soci::use(tx.tenant_id()), soci::use(name), soci::into(n);
  } else {
    tx.sql() << "SELECT COUNT(*) FROM contexts WHERE tenant_id = :t AND name = :n AND id <> :x",
        soci::use(tx.tenant_id()), soci::use(name), soci::use(except_id), soci::into(n);
  }
  return n > 0;
}

Response list_contexts(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|contexts";
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string before =
      page.after_id.empty() ? "ffffffff-ffff-ffff-ffff-ffffffffffff" : page.after_id;
  int fetch = page.limit + 1;
  ContextRow row;
  std::vector<ContextRow> rows;
  soci::statement st =
      (tx.sql().prepare << "SELECT id, name, created_at FROM contexts WHERE tenant_id = :t AND "
                           "id < :b ORDER BY id DESC LIMIT :n",
       soci::use(tx.tenant_id()), soci::use(before), soci::use(fetch), soci::into(row.id),
       soci::into(row.name), soci::into(row.created_at));
  st.execute();
  while (st.fetch()) {
    rows.push_back(row);
  }
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, context_json);
}

Response create_context(Context& ctx) {
  JsonBody body(ctx.request, {"name"});
  std::string name = body.name("name");
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  if (name_in_use(tx, name, "")) {
    throw name_taken();
  }
  ContextRow c{uuid_v7(), name, format_time_ms(now_ms())};
  try {
    tx.sql() << "INSERT INTO contexts (id, tenant_id, name, created_at, updated_at) VALUES "
                "(:id, :t, :n, :c, :u)",
        soci::use(c.id), soci::use(tx.tenant_id()), soci::use(c.name), soci::use(c.created_at),
        soci::use(c.created_at);
  } catch (const soci::soci_error& e) {
    if (e.get_error_category() == soci::soci_error::constraint_violation) {
      throw name_taken();
    }
    throw;
  }
  audit_context(ctx, tx, "context.created", c.id, {});
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(context_json(c, d.GetAllocator()), d.GetAllocator());
  return json_ok(d, 201);
}

Response get_context(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::optional<ContextRow> c = find_context(tx, ctx.path_param("id"));
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
  std::optional<ContextRow> c = find_context(tx, ctx.path_param("id"));
  if (!c) {
    throw ApiError::not_found();
  }
  if (name_in_use(tx, name, c->id)) {
    throw name_taken();
  }
  std::string now = format_time_ms(now_ms());
  tx.sql() << "UPDATE contexts SET name = :n, updated_at = :u WHERE tenant_id = :t AND id = :id",
      soci::use(name), soci::use(now), soci::use(tx.tenant_id()), soci::use(c->id);
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
  std::optional<ContextRow> c = find_context(tx, ctx.path_param("id"));
  if (!c) {
    throw ApiError::not_found();
  }
  int memories = 0;
  tx.sql() << "SELECT COUNT(*) FROM memories WHERE tenant_id = :t AND context_id = :c",
      soci::use(tx.tenant_id()), soci::use(c->id), soci::into(memories);
  if (memories > 0 && !cascade) {
    throw ApiError::conflict("conflict",
                             "The context still holds memories. Delete them first or pass "
                             "?cascade=true.");
  }
  tx.sql() << "DELETE FROM memories WHERE tenant_id = :t AND context_id = :c",
      soci::use(tx.tenant_id()), soci::use(c->id);
  tx.sql() << "DELETE FROM contexts WHERE tenant_id = :t AND id = :id", soci::use(tx.tenant_id()),
      soci::use(c->id);
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
