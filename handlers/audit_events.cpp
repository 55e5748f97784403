// The tenant's audit trail (Admin policy), newest first, paginated.
#include <rapidjson/document.h>
#include <soci/soci.h>

#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"

namespace portcullis {
namespace {
Response list_audit_events(Context& ctx);
}  // namespace

void register_audit_events_routes(Router& router) {
  router.add("GET", "/api/v1/audit-events", Access::kAdminView, list_audit_events);
}

namespace {

struct EventRow {
  std::string id, ts, event, outcome, user_id, ip, request_id, target_type, target_id, details;
  soci::indicator user_ind = soci::i_null, ip_ind = soci::i_null, rid_ind = soci::i_null,
                  ttype_ind = soci::i_null, tid_ind = soci::i_null;
};

rapidjson::Value event_json(const EventRow& e, rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), a); };
  auto nullable = [&](const std::string& s, soci::indicator i) {
    return i == soci::i_ok ? str(s) : rapidjson::Value(rapidjson::kNullType);
  };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(e.id), a);
  v.AddMember("ts", str(format_time_ms(parse_time_ms(e.ts).value_or(0))), a);
  v.AddMember("event", str(e.event), a);
  v.AddMember("outcome", str(e.outcome), a);
  v.AddMember("user_id", nullable(e.user_id, e.user_ind), a);
  v.AddMember("ip", nullable(e.ip, e.ip_ind), a);
  v.AddMember("request_id", nullable(e.request_id, e.rid_ind), a);
  rapidjson::Value target(rapidjson::kObjectType);
  target.AddMember("type", nullable(e.target_type, e.ttype_ind), a);
  target.AddMember("id", nullable(e.target_id, e.tid_ind), a);
  v.AddMember("target", target, a);
  rapidjson::Document details;
  details.Parse(e.details.c_str());
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
  int fetch = page.limit + 1;
  EventRow r;
  soci::statement st =
      (tx.sql().prepare << "SELECT id, ts, event, outcome, user_id, ip, request_id, target_type, "
                           "target_id, CAST(details AS TEXT) FROM audit_events WHERE tenant_id = "
                           ":t AND id < :b ORDER BY id DESC LIMIT :n",
       soci::use(tx.tenant_id()), soci::use(before), soci::use(fetch), soci::into(r.id),
       soci::into(r.ts), soci::into(r.event), soci::into(r.outcome),
       soci::into(r.user_id, r.user_ind), soci::into(r.ip, r.ip_ind),
       soci::into(r.request_id, r.rid_ind), soci::into(r.target_type, r.ttype_ind),
       soci::into(r.target_id, r.tid_ind), soci::into(r.details));
  st.execute();
  std::vector<EventRow> rows;
  while (st.fetch()) {
    rows.push_back(r);
  }
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, event_json);
}

}  // namespace
}  // namespace portcullis
