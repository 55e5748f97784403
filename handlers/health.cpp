// Health: GET /api/v1/health (public). Says whether the worker can reach the
// database; never the version (that is `portcullis version`). The seed's
// /api/health answers the same with deprecation headers.
#include "app/store/health.h"

#include "app/http/context.h"
#include "app/http/router.h"

namespace portcullis {
namespace {
Response get_health(Context& ctx);
Response get_health_deprecated(Context& ctx);
}  // namespace

void register_health_routes(Router& router) {
  router.add("GET", "/api/v1/health", Access::kPublic, get_health);
  router.add("GET", "/api/health", Access::kPublic, get_health_deprecated);
}

namespace {

Response get_health(Context& ctx) {
  bool ok = false;
  try {
    ok = store::health::ping(ctx.db);
  } catch (const std::exception&) {
    // A dead connection is dropped so the next request reconnects: health
    // returns to 200 by itself once the database is back.
    ctx.db.mark_broken();
  }
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  const char* state = ok ? "ok" : "unavailable";
  body.AddMember("status", rapidjson::StringRef(state), a);
  body.AddMember("database", rapidjson::StringRef(state), a);
  return json_ok(body, ok ? 200 : 503);
}

Response get_health_deprecated(Context& ctx) {
  Response r = get_health(ctx);
  // RFC 9745 Deprecation (a date), RFC 8594 Sunset, successor link.
  r.set_header("Deprecation", "@1793491200");  // 2026-11-01T00:00:00Z
  r.set_header("Sunset", "Wed, 30 Jun 2027 00:00:00 GMT");
  r.set_header("Link", "</api/v1/health>; rel=\"successor-version\"");
  return r;
}

}  // namespace
}  // namespace portcullis
