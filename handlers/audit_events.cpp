// The tenant's audit trail (Admin policy), newest first, paginated.
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"
#include "app/store/audit.h"

namespace portcullis {
namespace {
Response list_audit_events(Context& ctx);
}  // namespace

void register_audit_events_routes(Router& router) {
  router.add("GET", "/api/v1/audit-events", Access::kAdminView, list_audit_events);
}

namespace {

using store::audit::StoredEvent;

rapidjson::Value event_json(const StoredEvent& e, rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), a); };
  auto nullable = [&](const std::optional<std::string>& s) {
    return s ? str(*s) : rapidjson::Value(rapidjson::kNullType);
  };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(e.id), a);
  v.AddMember("ts", str(format_time_ms(parse_time_ms(e.ts).value_or(0))), a);
  v.AddMember("event", str(e.event), a);
  v.AddMember("outcome", str(e.outcome), a);
  v.AddMember("user_id", nullable(e.user_id), a);
  v.AddMember("ip", nullable(e.ip), a);
  v.AddMember("request_id", nullable(e.request_id), a);
  rapidjson::Value target(rapidjson::kObjectType);
  target.AddMember("type", nullable(e.target_type), a);
  target.AddMember("id", nullable(e.target_id), a);
  v.AddMember("target", target, a);
  rapidjson::Document details;
  details.Parse(e.details_json.c_str());
  rapidjson::Value det(rapidjson::kObjectType);
  if (details.IsObject()) {
    det.CopyFrom(details, a);
  }
  v.AddMember("details", det, a);
  return v;
}

Response list_audit_events(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|audit-events";
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string before =
      page.after_id.empty() ? "ffffffff-ffff-ffff-ffff-ffffffffffff" : page.after_id;
  std::vector<StoredEvent> rows = store::audit::page(tx, before, page.limit + 1);
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, event_json);
}

}  // namespace
}  // namespace portcullis
