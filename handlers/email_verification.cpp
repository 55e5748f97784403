// E-mail verification (SECURITY-BAR REC-5, AUTH-7): verify, public, and
// resend, for a signed-in session.
//
// Verify takes the mailed token. It is public (the link may be opened in
// another browser than the one signed in) and gets the Origin check of every
// public POST. Every unusable token (unknown, expired, used, voided by a
// newer one, minted for an address the account no longer has, its user
// disabled) is the same 400 invalid_token, audited as a failure. Success
// spends the token, marks the account verified and audits
// auth.email_verified; no session is created or changed, and the next
// request of a session that was held back by verification is full again.
//
// Resend records one email_verify_request outbox row, like registration;
// the deliverer mints the token (app/mail/deliver.cpp). An account that is
// verified already gets 409 already_verified; otherwise one resend per
// account per VERIFY_RESEND_SECONDS (counted with one atomic statement, so
// parallel resends enqueue one row), 429 rate_limited with Retry-After
// beyond.
#include "app/auth/email_verification.h"

#include "app/auth/throttle.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/router.h"
#include "app/store/outbox.h"

namespace portcullis {
namespace {

Response post_verify(Context& ctx);
Response post_resend(Context& ctx);

}  // namespace

void register_email_verification_routes(Router& router) {
  router.add("POST", "/api/v1/auth/email/verify", Access::kPublic, post_verify);
  router.add("POST", "/api/v1/auth/email/verify/resend", Access::kSignedIn, post_resend);
}

namespace {

ApiError invalid_token() {
  return ApiError{400, "invalid_token", "The verification link is not valid or has expired."};
}

Response post_verify(Context& ctx) {
  JsonBody body(ctx.request, {"token"});
  std::string token = body.required_string("token");
  body.finish();
  AuditEvent ev = ctx.audit_event("auth.email_verified", "success");
  std::optional<Account> verified = email_verification::confirm(
      ctx.db, ctx.audit, ctx.keys.recovery_token_key(), token, ev, now_ms());
  if (!verified) {
    AuditEvent failed = ctx.audit_event("auth.email_verified", "failure");
    failed.reason = "invalid_token";
    ctx.record_now(failed);
    throw invalid_token();
  }
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("verified", true, d.GetAllocator());
  return json_ok(d);
}

Response post_resend(Context& ctx) {
  // No body, or an empty object: nothing is read from it.
  if (!ctx.request.body.empty()) {
    JsonBody body(ctx.request, {});
    body.finish();
  }
  const Account& a = *ctx.account;
  if (a.email_verified) {
    throw ApiError::conflict("already_verified", "This e-mail address is verified already.");
  }
  int64_t now = now_ms();
  int wait =
      count_request(ctx.db, "verify-resend:" + a.user_id, 1, ctx.config.verify_resend_seconds, now);
  AuditEvent ev = ctx.audit_event("auth.email_verification_requested", wait ? "denied" : "success");
  ev.target_type = "user";
  ev.target_id = a.user_id;
  if (wait != 0) {
    ev.reason = "rate_limited";
    ctx.record_now(ev);
    throw ApiError{429, "rate_limited", "Too many requests. Try again later."}.with_header(
        "Retry-After", std::to_string(wait));
  }
  TenantTx tx(ctx.db, a.tenant_id);
  store::outbox::OutboxMail request;
  request.kind = email_verification::kRequestKind;
  request.to_address = a.email;
  request.to_name = a.display_name;
  request.tenant_id = a.tenant_id;
  request.user_id = a.user_id;
  store::outbox::enqueue(tx.tx(), request);
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("accepted", true, d.GetAllocator());
  return json_ok(d, 202);
}

}  // namespace
}  // namespace portcullis
