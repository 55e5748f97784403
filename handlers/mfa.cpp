// MFA enrolment and management: TOTP setup with a QR code, enable with a
// first code (which returns the backup codes once), disable, regenerate
// backup codes, status. The checks themselves live in app/auth/mfa.
#include "app/auth/mfa.h"

#include "app/auth/account.h"
#include "app/auth/notify.h"
#include "app/auth/qr_svg.h"
#include "app/auth/sessions.h"
#include "app/auth/totp.h"
#include "app/auth/verification.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/router.h"
#include "app/store/mfa.h"

namespace portcullis {
namespace {
Response get_mfa(Context& ctx);
Response post_setup(Context& ctx);
Response post_enable(Context& ctx);
Response post_disable(Context& ctx);
Response post_backup_codes(Context& ctx);
}  // namespace

void register_mfa_routes(Router& router) {
  router.add("GET", "/api/v1/mfa", Access::kEnrollment, get_mfa);
  router.add("POST", "/api/v1/mfa/totp/setup", Access::kEnrollmentRecentAuth, post_setup);
  router.add("POST", "/api/v1/mfa/totp/enable", Access::kEnrollment, post_enable);
  router.add("POST", "/api/v1/mfa/totp/disable", Access::kRecentAuth, post_disable);
  router.add("POST", "/api/v1/mfa/backup-codes", Access::kRecentAuth, post_backup_codes);
}

namespace {

ApiError invalid_code() {
  return ApiError{400, "invalid_code", "The code is not valid. Check your authenticator's clock."};
}

rapidjson::Value code_list(const std::vector<std::string>& codes,
                           rapidjson::Document::AllocatorType& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const std::string& c : codes) {
    list.PushBack(rapidjson::Value(c.c_str(), a), a);
  }
  return list;
}

Response get_mfa(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  MfaState s = mfa_state(tx, ctx.principal->user_id);
  int remaining = s.enabled ? backup_codes_remaining(tx, ctx.principal->user_id) : 0;
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("totp_enabled", s.enabled, a);
  d.AddMember("backup_codes_remaining", remaining, a);
  return json_ok(d);
}

Response post_setup(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  if (mfa_state(tx, ctx.principal->user_id).enabled) {
    throw ApiError::conflict("conflict", "Two-factor authentication is already on.");
  }
  std::optional<Account> account = find_account_by_id(tx, ctx.principal->user_id);
  if (!account) {
    throw ApiError::unauthenticated();
  }
  std::string secret = start_totp_enrollment(tx, ctx.keys, ctx.principal->user_id);
  ctx.record(tx, ctx.audit_event("mfa.setup", "success"));
  tx.commit();
  std::string b32 = base32_encode(secret);
  std::string uri = otpauth_uri(account->email, b32);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("secret", rapidjson::Value(b32.c_str(), a), a);
  d.AddMember("otpauth_uri", rapidjson::Value(uri.c_str(), a), a);
  d.AddMember("qr_svg", rapidjson::Value(qr_svg(uri).c_str(), a), a);
  return json_ok(d);
}

Response post_enable(Context& ctx) {
  JsonBody body(ctx.request, {"code"});
  std::string code = body.required_string("code");
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  MfaState s = mfa_state(tx, ctx.principal->user_id);
  if (s.enabled) {
    throw ApiError::conflict("conflict", "Two-factor authentication is already on.");
  }
  if (!s.pending) {
    throw ApiError::conflict("conflict", "Start with POST /api/v1/mfa/totp/setup.");
  }
  CodeResult result = check_totp_code(tx, ctx.keys, ctx.principal->user_id, code, true);
  if (result != CodeResult::kOk) {
    AuditEvent ev = ctx.audit_event(
        result == CodeResult::kReplay ? "mfa.replay_refused" : "mfa.enabled", "failure");
    ev.reason = "bad_code";
    ctx.record(tx, ev);
    tx.commit();  // the spent step stays spent; the audit row stays
    throw invalid_code();
  }
  enable_mfa(tx, ctx.principal->user_id);
  std::vector<std::string> codes = replace_backup_codes(tx, ctx.keys, ctx.principal->user_id);
  int64_t now = now_ms();
  // Enrolment completes an enrolment-only session; the code just given also
  // counts as a fresh MFA verification. Privilege change: new token.
  std::optional<IssuedSession> rotated;
  if (ctx.session->auth_state == "enrollment_required") {
    rotated = rotate_session(tx, *ctx.session, "full");
  }
  store::mfa::mark_session_verified(tx.tx(), ctx.session->id, format_time_ms(now));
  ctx.record(tx, ctx.audit_event("mfa.enabled", "success"));
  (void)notify_user(tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*ctx.account),
                    kNoticeMfaEnabled, {{"time", notice_time(now)}}, now);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("totp_enabled", true, a);
  d.AddMember("backup_codes", code_list(codes, a), a);
  if (rotated) {
    d.AddMember("csrf_token", rapidjson::Value(rotated->session.csrf_token.c_str(), a), a);
  }
  Response r = json_ok(d);
  if (rotated) {
    r.set_header("Set-Cookie", session_cookie(*rotated));
  }
  return r;
}

// Needs the password and a code (or a backup code); both are checked by the
// verification service as one counted attempt, so wrong ones lock like login.
Response post_disable(Context& ctx) {
  JsonBody body(ctx.request, {"password", "code", "backup_code"});
  std::string password = body.required_string("password");
  std::optional<std::string> code = body.string("code");
  std::optional<std::string> backup = body.string("backup_code");
  if (!code && !backup && body.ok()) {
    body.fail("code", "is required (or give backup_code)");
  }
  body.finish();
  if (!ctx.account->mfa_enabled) {
    throw ApiError::conflict("conflict", "Two-factor authentication is not on.");
  }
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, ctx.audit_event("", ""));
  Verification v = verifier.password_and_second_factor(*ctx.account, password, code, backup);
  if (v.verdict == Verdict::kLocked) {
    throw ApiError::locked_out(v.retry_after);
  }
  if (!v.ok()) {
    AuditEvent failed = ctx.audit_event(
        v.verdict == Verdict::kReplay ? "mfa.replay_refused" : "mfa.disabled", "failure");
    failed.reason = v.password_failed ? "bad_password" : "bad_code";
    ctx.record_now(failed);
    if (v.password_failed) {
      throw ApiError::validation_failed().with_field("password", "is incorrect");
    }
    throw invalid_code();
  }
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  disable_mfa(tx, ctx.principal->user_id);
  ctx.record(tx, ctx.audit_event("mfa.disabled", "success"));
  int64_t now = now_ms();
  (void)notify_user(tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*ctx.account),
                    kNoticeMfaDisabled, {{"time", notice_time(now)}}, now);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("totp_enabled", false, d.GetAllocator());
  return json_ok(d);
}

Response post_backup_codes(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  if (!mfa_state(tx, ctx.principal->user_id).enabled) {
    throw ApiError::conflict("conflict", "Two-factor authentication is not on.");
  }
  std::vector<std::string> codes = replace_backup_codes(tx, ctx.keys, ctx.principal->user_id);
  ctx.record(tx, ctx.audit_event("mfa.backup_codes_regenerated", "success"));
  int64_t now = now_ms();
  (void)notify_user(tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*ctx.account),
                    kNoticeBackupCodesRegenerated,
                    {{"time", notice_time(now)}, {"count", std::to_string(codes.size())}}, now);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("backup_codes", code_list(codes, d.GetAllocator()), d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
