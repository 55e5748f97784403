// Password recovery (SECURITY-BAR REC-1…4, MFA-8): forgot and reset, both
// public.
//
// Forgot does the same work for every address: it counts the request (per
// client IP, then per address), records one outbox row of kind
// password_reset_request with the normalised address and one audit event,
// and answers the same 202. It never looks the account up: the deliverer
// does (app/mail/deliver.cpp), mints the token and mails it, or drops the
// row when no enabled account has the address.
//
// Reset takes the mailed token and a new password. Every invalid token
// (unknown, expired, used, voided by a newer one or a password change, its
// user disabled) is the same 400 invalid_token. For a user with MFA a TOTP
// `code` or a `backup_code` is required and checked by the verification
// service (counted, locked and throttled like every second-factor check);
// missing (400 mfa_code_required) or wrong (400 invalid_code) leaves the
// token unspent, so the user may try again within its 30 minutes. Success
// changes the password, spends the token, revokes every session, clears the
// e-mail's lockout and mails the password-changed notice, in one
// transaction, and never creates a session: the user signs in next, with
// MFA as usual.
#include "app/auth/recovery.h"

#include "app/auth/account.h"
#include "app/auth/passwords.h"
#include "app/auth/throttle.h"
#include "app/auth/verification.h"
#include "app/db/time.h"
#include "app/db/tx.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/password_policy.h"
#include "app/http/router.h"
#include "app/store/outbox.h"

namespace portcullis {
namespace {

constexpr int kForgotWindowSeconds = 3600;

Response post_forgot(Context& ctx);
Response post_reset(Context& ctx);

}  // namespace

void register_recovery_routes(Router& router) {
  router.add("POST", "/api/v1/auth/password/forgot", Access::kPublic, post_forgot);
  router.add("POST", "/api/v1/auth/password/reset", Access::kPublic, post_reset);
}

namespace {

ApiError rate_limited(int retry_after) {
  ApiError e{429, "rate_limited", "Too many requests. Try again later."};
  e.with_header("Retry-After", std::to_string(retry_after));
  return e;
}

ApiError invalid_token() {
  return ApiError{400, "invalid_token", "The reset link is not valid or has expired."};
}

Response post_forgot(Context& ctx) {
  JsonBody body(ctx.request, {"email"});
  std::string email = normalize_email(body.required_string("email"));
  if (!email.empty() && !valid_email(email)) {
    body.fail("email", "is not a valid e-mail address");
  }
  body.finish();
  const std::string& ip = ctx.request.client_ip;
  int64_t now = now_ms();

  // The IP first: a throttled client does not move the address's counter.
  int wait = ip.empty() ? 0
                        : count_request(ctx.db, "reset-ip:" + ip, ctx.config.reset_requests_per_ip,
                                        kForgotWindowSeconds, now);
  if (wait == 0) {
    wait = count_request(ctx.db, "reset-email:" + email, ctx.config.reset_requests_per_email,
                         kForgotWindowSeconds, now);
  }
  AuditEvent ev = ctx.audit_event("auth.password_reset_requested", wait ? "denied" : "success");
  ev.target_type = "email";
  ev.target_id = email;
  if (wait != 0) {
    ev.reason = "rate_limited";
    ctx.record_now(ev);
    throw rate_limited(wait);
  }
  Tx tx(ctx.db);
  store::outbox::OutboxMail request;
  request.kind = "password_reset_request";
  request.to_address = email;
  store::outbox::enqueue(tx, request);
  ctx.record(tx, ev);
  tx.commit();

  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("accepted", true, d.GetAllocator());
  d.AddMember("message",
              "If an account uses this address, a link to reset its password is on its way.",
              d.GetAllocator());
  return json_ok(d, 202);
}

Response post_reset(Context& ctx) {
  JsonBody body(ctx.request, {"token", "new_password", "code", "backup_code"});
  std::string token = body.required_string("token");
  std::string fresh = body.required_string("new_password");
  std::optional<std::string> code = body.string("code");
  std::optional<std::string> backup = body.string("backup_code");
  int64_t now = now_ms();
  if (!body.ok()) {
    // Every field error at once (issue 12 item 6): the new password's
    // policy too, without the account's context words (no token to name it).
    record_password_policy(body, fresh, {}, "new_password");
    body.finish();
  }

  std::optional<recovery::ResetTarget> target =
      recovery::find_reset_target(ctx.db, ctx.keys.recovery_token_key(), token, now);
  if (!target) {
    AuditEvent ev = ctx.audit_event("auth.password_reset", "failure");
    ev.reason = "invalid_token";
    ctx.record_now(ev);
    throw invalid_token();
  }
  const Account& a = target->account;
  // The new password's policy first: a rejected password is the caller's
  // choice, not a failed check of a secret, and counts nothing.
  std::string local_part = a.email.substr(0, a.email.find('@'));
  record_password_policy(body, fresh, {a.tenant_name, local_part, a.display_name}, "new_password",
                         a.tenant_require_mfa);
  body.finish();
  AuditEvent base = ctx.audit_event("", "");
  base.tenant_id = a.tenant_id;
  base.user_id = a.user_id;
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, base);
  if (a.mfa_enabled) {
    if (!code && !backup) {
      throw ApiError{400, "mfa_code_required",
                     "This account uses two-step verification: send code or backup_code."};
    }
    Verification v = verifier.second_factor(a, code, backup);
    if (v.verdict == Verdict::kLocked) {
      throw ApiError::locked_out(v.retry_after);
    }
    if (!v.ok()) {
      AuditEvent failed = base;
      failed.event = "auth.password_reset";
      failed.outcome = "failure";
      failed.reason = code ? "bad_code" : "bad_backup_code";
      ctx.record_now(failed);
      throw ApiError{400, "invalid_code", "The code is not valid."};
    }
  }
  // The token (and with MFA the code) proved the account: the new password
  // must differ from the current one. The token stays unspent.
  if (verifier.is_current_password(a, fresh)) {
    throw ApiError::validation_failed().with_field("new_password",
                                                   "must differ from the current password");
  }
  std::string hash = hash_password(fresh);
  AuditEvent ev = base;
  ev.event = "auth.password_reset";
  ev.outcome = "success";
  ev.details = {{"factor", a.mfa_enabled ? (code ? "token+totp" : "token+backup_code") : "token"}};
  std::optional<long> revoked =
      recovery::complete_password_reset(ctx.db, ctx.audit, *target, hash, ev, now);
  if (!revoked) {
    throw invalid_token();  // spent by a parallel reset
  }
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("reset", true, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
