// Change of e-mail address (SECURITY-BAR REC-5): the request (recently
// authenticated), its confirmation and the "this wasn't me" revert, both
// public (opened from a mail, maybe in another browser; the Origin check of
// every public POST applies). The protocol is app/auth/email_change.h's.
//
// The request answers the same 202 and does the same work whether or not the
// new address is used by another account: that is decided when the mail is
// delivered, where a taken address gets no confirmation. Requests are capped
// per account (kRequestsPerHour), counted before anything is written.
//
// Every invalid token (unknown, expired, used, voided, not the newest of its
// user, its account gone or locked) is the same 400 invalid_token. A confirm
// whose address another account took meanwhile is 409 email_taken and
// changes nothing.
#include "app/auth/email_change.h"

#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "app/auth/account.h"
#include "app/auth/throttle.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/router.h"

namespace portcullis {
namespace {

constexpr int kRequestsPerHour = 5;
constexpr int kRequestWindowSeconds = 3600;

Response post_email_change(Context& ctx);
Response post_email_change_confirm(Context& ctx);
Response post_email_change_revert(Context& ctx);

}  // namespace

void register_email_change_routes(Router& router) {
  router.add("POST", "/api/v1/me/email", Access::kRecentAuth, post_email_change);
  router.add("POST", "/api/v1/auth/email/change/confirm", Access::kPublic,
             post_email_change_confirm);
  router.add("POST", "/api/v1/auth/email/change/revert", Access::kPublic, post_email_change_revert);
}

namespace {

ApiError invalid_token() {
  return ApiError{400, "invalid_token", "The link is not valid or has expired."};
}

std::string token_from(Context& ctx) {
  JsonBody body(ctx.request, {"token"});
  std::string token = body.required_string("token");
  body.finish();
  return token;
}

Response post_email_change(Context& ctx) {
  JsonBody body(ctx.request, {"new_email"});
  std::string email = normalize_email(body.required_string("new_email"));
  const Account& a = *ctx.account;
  if (!email.empty() && !valid_email(email)) {
    body.fail("new_email", "is not a valid e-mail address");
  } else if (!email.empty() && email == a.email) {
    body.fail("new_email", "is already the address of your account");
  }
  body.finish();
  int64_t now = now_ms();

  AuditEvent ev = ctx.audit_event("user.email_change_requested", "success");
  ev.target_type = "user";
  ev.target_id = a.user_id;
  ev.details = {{"new_email", email}};
  // Counted before anything is written; every request counts, refused ones too.
  int wait = count_request(ctx.db, "email-change:" + a.user_id, kRequestsPerHour,
                           kRequestWindowSeconds, now);
  if (wait != 0) {
    ev.outcome = "denied";
    ev.reason = "rate_limited";
    ctx.record_now(ev);
    ApiError e{429, "rate_limited", "Too many requests. Try again later."};
    e.with_header("Retry-After", std::to_string(wait));
    throw e;
  }
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  email_change::enqueue_request(tx, a, email, now);
  ctx.record(tx, ev);
  tx.commit();

  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("accepted", true, d.GetAllocator());
  d.AddMember("message",
              "Open the link we are sending to the new address to confirm it. Until then your "
              "address stays as it is.",
              d.GetAllocator());
  return json_ok(d, 202);
}

Response post_email_change_confirm(Context& ctx) {
  std::string token = token_from(ctx);
  AuditEvent ev = ctx.audit_event("user.email_changed", "success");
  email_change::Confirmed done =
      email_change::confirm(ctx.db, ctx.audit, ctx.keys.recovery_token_key(), token, ev, now_ms());
  if (done.outcome != email_change::ConfirmOutcome::kChanged) {
    AuditEvent failed = ctx.audit_event("user.email_changed", "failure");
    failed.tenant_id = done.tenant_id;
    failed.user_id = done.user_id;
    bool taken = done.outcome == email_change::ConfirmOutcome::kTaken;
    failed.reason = taken ? "email_taken" : "invalid_token";
    ctx.record_now(failed);
    if (taken) {
      throw ApiError::conflict("email_taken", "This address is now used by another account.");
    }
    throw invalid_token();
  }
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("email", rapidjson::Value(done.new_email.c_str(), d.GetAllocator()),
              d.GetAllocator());
  return json_ok(d);
}

Response post_email_change_revert(Context& ctx) {
  std::string token = token_from(ctx);
  AuditEvent ev = ctx.audit_event("user.email_change_reverted", "success");
  email_change::Reverted done =
      email_change::revert(ctx.db, ctx.audit, ctx.keys.recovery_token_key(),
                           ctx.config.notify_max_per_hour, token, ev, now_ms());
  if (done.outcome != email_change::RevertOutcome::kReverted) {
    AuditEvent failed = ctx.audit_event("user.email_change_reverted", "failure");
    failed.tenant_id = done.tenant_id;
    failed.user_id = done.user_id;
    failed.reason = "invalid_token";
    ctx.record_now(failed);
    throw invalid_token();
  }
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("reverted", true, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
