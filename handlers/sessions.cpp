// The caller's own sessions: list (paginated), revoke one, revoke all.
// Another user's session id is "not found", never "forbidden".
#include "app/auth/sessions.h"

#include "app/auth/account.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"

namespace portcullis {
namespace {
Response list_sessions(Context& ctx);
Response delete_session(Context& ctx);
Response revoke_all(Context& ctx);
}  // namespace

void register_sessions_routes(Router& router) {
  router.add("GET", "/api/v1/sessions", Access::kAuthenticated, list_sessions);
  router.add("DELETE", "/api/v1/sessions/{id}", Access::kAuthenticated, delete_session);
  router.add("POST", "/api/v1/sessions/revoke-all", Access::kAuthenticated, revoke_all);
}

namespace {

rapidjson::Value session_json(const Session& s,
                              bool current,
                              rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& v) { return rapidjson::Value(v.c_str(), a); };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(s.id), a);
  v.AddMember("created_at", str(format_time_ms(s.created_at)), a);
  v.AddMember("last_seen_at", str(format_time_ms(s.last_seen_at)), a);
  v.AddMember("expires_at", str(format_time_ms(s.expires_at)), a);
  v.AddMember("ip", str(s.ip), a);
  v.AddMember("user_agent", str(s.user_agent), a);
  v.AddMember("remember_me", s.remember_me, a);
  // The sign-in's device (app/auth/device.h); "" for sessions from before.
  v.AddMember("browser", str(s.browser), a);
  v.AddMember("os", str(s.os), a);
  v.AddMember("new_device", s.new_device, a);
  v.AddMember("current", current, a);
  return v;
}

Response list_sessions(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|sessions|" + ctx.principal->user_id;
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  std::vector<Session> rows =
      list_user_sessions(ctx.db, ctx.principal->user_id, now_ms(), page.after_id, page.limit + 1);
  return page_response(rows, page, ctx.keys, scope,
                       [&](const Session& s, rapidjson::Document::AllocatorType& a) {
                         return session_json(s, s.id == ctx.session->id, a);
                       });
}

Response delete_session(Context& ctx) {
  const std::string& id = ctx.path_param("id");  // a UUID: dispatch checked
  Tx tx(ctx.db);
  if (!delete_user_session(tx, ctx.principal->user_id, id)) {
    throw ApiError::not_found();
  }
  AuditEvent ev = ctx.audit_event("session.revoked", "success");
  ev.target_type = "session";
  ev.target_id = id;
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("revoked", true, d.GetAllocator());
  Response r = json_ok(d);
  if (id == ctx.session->id) {
    r.set_header("Set-Cookie", clear_session_cookie());
  }
  return r;
}

Response revoke_all(Context& ctx) {
  bool keep_current = false;
  if (ctx.request.json) {
    JsonBody body(ctx.request, {"keep_current"});
    keep_current = body.boolean("keep_current").value_or(false);
    body.finish();
  }
  Tx tx(ctx.db);
  long revoked = delete_user_sessions(tx, ctx.principal->user_id,
                                      keep_current ? ctx.session->id : "", kRevokedByUser);
  AuditEvent ev = ctx.audit_event("session.revoked_all", "success");
  ev.details = {{"sessions_revoked", std::to_string(revoked)},
                {"kept_current", keep_current ? "true" : "false"}};
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("sessions_revoked", static_cast<int64_t>(revoked), d.GetAllocator());
  Response r = json_ok(d);
  if (!keep_current) {
    r.set_header("Set-Cookie", clear_session_cookie());
  }
  return r;
}

}  // namespace
}  // namespace portcullis
