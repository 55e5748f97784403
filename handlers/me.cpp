// The caller's own account and tenant: GET/PATCH me, password change,
// GET/PATCH tenant.
#include "app/auth/account.h"
#include "app/auth/email_verification.h"
#include "app/auth/passwords.h"
#include "app/auth/recovery.h"
#include "app/auth/sessions.h"
#include "app/auth/verification.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/password_policy.h"
#include "app/http/router.h"
#include "app/store/accounts.h"
#include "app/store/outbox.h"
#include "app/store/tenants.h"

namespace portcullis {
namespace {
Response get_me(Context& ctx);
Response patch_me(Context& ctx);
Response post_password(Context& ctx);
Response get_tenant(Context& ctx);
Response patch_tenant(Context& ctx);
}  // namespace

void register_me_routes(Router& router) {
  // Also for a session held back by e-mail verification: the SPA reads here
  // what the account must do first.
  router.add("GET", "/api/v1/me", Access::kSignedIn, get_me);
  router.add("PATCH", "/api/v1/me", Access::kAuthenticated, patch_me);
  router.add("POST", "/api/v1/me/password", Access::kRecentAuth, post_password);
  router.add("GET", "/api/v1/tenant", Access::kAuthenticated, get_tenant);
  router.add("PATCH", "/api/v1/tenant", Access::kOwner, patch_tenant);
}

namespace {

Response get_me(Context& ctx) {
  // The account came with the session lookup (user, tenant name, MFA
  // settings): the request costs that one statement and no other.
  rapidjson::Document d = login_shape(*ctx.account, *ctx.session);
  email_verification::add_state(d, *ctx.account);
  // E-mail verification comes before MFA enrolment (app/auth/authenticate.cpp).
  if (ctx.session->auth_state == "enrollment_required" &&
      !email_verification::required(*ctx.account)) {
    d.AddMember("mfa_enrollment_required", true, d.GetAllocator());
  }
  return json_ok(d);
}

Response patch_me(Context& ctx) {
  JsonBody body(ctx.request, {"display_name"});
  std::string name = body.name("display_name");
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  store::accounts::set_display_name(tx, ctx.principal->user_id, name, now_ms());
  AuditEvent ev = ctx.audit_event("user.updated", "success");
  ev.target_type = "user";
  ev.target_id = ctx.principal->user_id;
  ev.details = {{"fields", "display_name"}};
  ctx.record(tx, ev);
  tx.commit();
  Account updated = *ctx.account;
  updated.display_name = name;
  rapidjson::Document d = login_shape(updated, *ctx.session);
  return json_ok(d);
}

Response post_password(Context& ctx) {
  JsonBody body(ctx.request, {"current_password", "new_password"});
  std::string current = body.required_string("current_password");
  std::string fresh = body.required_string("new_password");
  const Account& a = *ctx.account;
  // The new password's policy first, with the body's other errors in one
  // answer: a rejected new password is the caller's choice, not a failed
  // check of a secret, and counts nothing.
  std::string local_part = a.email.substr(0, a.email.find('@'));
  record_password_policy(body, fresh, {a.tenant_name, local_part, a.display_name}, "new_password",
                         a.tenant_require_mfa);
  body.finish();
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, ctx.audit_event("", ""));
  Verification v = verifier.password(a, current);
  if (v.verdict == Verdict::kLocked) {
    throw ApiError::locked_out(v.retry_after);
  }
  if (!v.ok()) {
    AuditEvent ev = ctx.audit_event("auth.password_changed", "failure");
    ev.reason = "bad_password";
    ctx.record_now(ev);
    ApiError e = ApiError::validation_failed();
    e.with_field("current_password", "is incorrect");
    throw e;
  }
  // Only now, with the current password proved: the new one must differ.
  if (verifier.is_current_password(a, fresh)) {
    throw ApiError::validation_failed().with_field("new_password",
                                                   "must differ from the current password");
  }
  int64_t now = now_ms();

  std::string hash = hash_password(fresh);
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  store::accounts::set_password(tx, a.user_id, hash, now);
  // A reset link mailed before the change no longer works (REC-2).
  recovery::void_reset_tokens(tx, a.user_id, now);
  // Every other session of this user ends: whoever knew the old password
  // is logged out everywhere.
  long revoked = delete_user_sessions(tx, a.user_id, ctx.session->id, kRevokedPasswordChanged);
  AuditEvent ev = ctx.audit_event("auth.password_changed", "success");
  ev.target_type = "user";
  ev.target_id = a.user_id;
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.record(tx, ev);
  // The notice (SECURITY-BAR: e-mail a notice without the password) joins
  // this transaction: it is sent if and only if the change commits.
  store::outbox::OutboxMail notice;
  notice.kind = "password_changed";
  notice.to_address = a.email;
  notice.to_name = a.display_name;
  notice.params = {{"name", a.display_name.empty() ? a.email : a.display_name}};
  notice.tenant_id = a.tenant_id;
  notice.user_id = a.user_id;
  store::outbox::enqueue(tx.tx(), notice);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("password_changed", true, d.GetAllocator());
  d.AddMember("sessions_revoked", static_cast<int64_t>(revoked), d.GetAllocator());
  return json_ok(d);
}

rapidjson::Document tenant_document(Context& ctx) {
  std::optional<store::tenants::Tenant> tenant =
      store::tenants::find(ctx.db, ctx.principal->tenant_id);
  if (!tenant) {
    throw ApiError::not_found();
  }
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", rapidjson::Value(tenant->id.c_str(), a), a);
  d.AddMember("name", rapidjson::Value(tenant->name.c_str(), a), a);
  d.AddMember("require_mfa", tenant->require_mfa, a);
  d.AddMember("require_verified_email", tenant->require_verified_email, a);
  d.AddMember("created_at", rapidjson::Value(format_time_ms(tenant->created_at).c_str(), a), a);
  return d;
}

Response get_tenant(Context& ctx) { return json_ok(tenant_document(ctx)); }

Response patch_tenant(Context& ctx) {
  JsonBody body(ctx.request, {"name", "require_mfa", "require_verified_email"});
  std::optional<bool> require_mfa = body.boolean("require_mfa");
  std::optional<bool> require_verified = body.boolean("require_verified_email");
  std::optional<std::string> name;
  if (body.has("name") || (!require_mfa && !require_verified)) {
    name = body.name("name");
  }
  // An owner whose own address is unproven would hold their own session back
  // and could no longer reach this route to undo it.
  if (require_verified && *require_verified && ctx.account != nullptr &&
      !ctx.account->email_verified) {
    body.fail("require_verified_email", "confirm your own e-mail address first");
  }
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  int64_t now = now_ms();
  std::string fields;
  if (name) {
    store::tenants::set_name(tx, *name, now);
    fields = "name";
  }
  if (require_mfa) {
    // Members without MFA get enrolment-only sessions at their next login.
    store::tenants::set_require_mfa(tx, *require_mfa, now);
    fields += fields.empty() ? "require_mfa" : ",require_mfa";
  }
  if (require_verified) {
    // Members with an unproven address reach only me, verification and
    // logout from their next request on (app/auth/authenticate.cpp).
    store::tenants::set_require_verified_email(tx, *require_verified, now);
    fields += fields.empty() ? "require_verified_email" : ",require_verified_email";
  }
  AuditEvent ev = ctx.audit_event("tenant.updated", "success");
  ev.target_type = "tenant";
  ev.target_id = ctx.principal->tenant_id;
  ev.details = {{"fields", fields}};
  ctx.record(tx, ev);
  tx.commit();
  return get_tenant(ctx);
}

}  // namespace
}  // namespace portcullis
