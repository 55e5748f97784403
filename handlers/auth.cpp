// Authentication: register, login, logout, refresh, re-authentication.
// Policy lives in app/auth (passwords, sessions, throttle, authenticate);
// this file only sequences it.

#include "app/auth/account.h"
#include "app/auth/email_verification.h"
#include "app/auth/notify.h"
#include "app/auth/passwords.h"
#include "app/auth/sessions.h"
#include "app/auth/throttle.h"
#include "app/auth/verification.h"
#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/password_policy.h"
#include "app/http/router.h"
#include "app/store/accounts.h"
#include "app/store/invitations.h"
#include "app/store/outbox.h"
#include "app/store/role_column.h"
#include "app/store/sessions.h"
#include "app/store/tenants.h"

namespace portcullis {
namespace {
Response post_register(Context& ctx);
Response post_login(Context& ctx);
Response post_logout(Context& ctx);
Response post_refresh(Context& ctx);
Response post_reauthenticate(Context& ctx);
Response post_mfa_verify(Context& ctx);
Response post_invitation(Context& ctx);
Response deprecated(Response r, const char* successor);
}  // namespace

void register_auth_routes(Router& router) {
  router.add("POST", "/api/v1/auth/register", Access::kPublic, post_register);
  router.add("POST", "/api/v1/auth/login", Access::kPublic, post_login);
  router.add("POST", "/api/v1/auth/logout", Access::kAnySession, post_logout);
  router.add("POST", "/api/v1/auth/refresh", Access::kAuthenticated, post_refresh);
  // Enrolment-only sessions may re-authenticate too, or MFA setup (which needs
  // a recent step-up) would be unreachable after the step-up window.
  router.add("POST", "/api/v1/auth/reauthenticate", Access::kEnrollment, post_reauthenticate);
  router.add("POST", "/api/v1/auth/mfa/verify", Access::kMfaPending, post_mfa_verify);
  // The join page's read-only view of an invitation: the token travels in
  // the body, never in a path or query (nor in a log).
  router.add("POST", "/api/v1/auth/invitation", Access::kPublic, post_invitation);
  // The seed's paths, kept as deprecated aliases.
  router.add("POST", "/api/register", Access::kPublic,
             [](Context& ctx) { return deprecated(post_register(ctx), "/api/v1/auth/register"); });
  router.add("POST", "/api/login", Access::kPublic,
             [](Context& ctx) { return deprecated(post_login(ctx), "/api/v1/auth/login"); });
}

namespace {

ApiError invalid_credentials() {
  return ApiError{401, "invalid_credentials", "The e-mail or password is incorrect."};
}

// The lockout says when to try again (issue 12 item 3).
ApiError rate_limited(int retry_after) { return ApiError::locked_out(retry_after); }

// The right password (and, with MFA, the right code) of a suspended account.
ApiError account_suspended() {
  return ApiError{403, "account_suspended",
                  "This account is suspended. Contact an administrator of your organisation."};
}

ApiError invalid_invitation() {
  return ApiError{400, "invalid_token", "The invitation is not valid or has expired."};
}

Response deprecated(Response r, const char* successor) {
  r.set_header("Deprecation", "@1793491200");  // 2026-11-01T00:00:00Z
  r.set_header("Sunset", "Wed, 30 Jun 2027 00:00:00 GMT");
  r.set_header("Link", std::string("<") + successor + ">; rel=\"successor-version\"");
  return r;
}

Response with_session_cookie(Response r, const IssuedSession& issued) {
  r.set_header("Set-Cookie", session_cookie(issued));
  return r;
}

struct PendingInvitation {
  std::string id, tenant_id, email, tenant_name, expires_at;
  Role role = Role::kMember;
};

// The live invitation for a token, or nullopt (unknown, used, revoked, expired).
std::optional<PendingInvitation> find_invitation(Db& db, const std::string& token) {
  std::optional<store::invitations::TokenInvitation> found =
      store::invitations::find_by_token_hash(db, sha256_hex(token));
  if (!found || found->closed || parse_time_ms(found->expires_at).value_or(0) <= now_ms()) {
    return std::nullopt;
  }
  return PendingInvitation{found->id,          found->tenant_id,  found->email,
                           found->tenant_name, found->expires_at, found->role};
}

// Every field error in one answer (issue 12 item 6): the body's own, the
// e-mail's syntax, the invitation's lookup and the password policy are all
// recorded before finish().
Response post_register(Context& ctx) {
  JsonBody body(ctx.request, {"tenant_name", "email", "password", "display_name", "invite_token"});
  std::optional<std::string> invite_token = body.string("invite_token");
  // REGISTRATION=closed: tenants come from `portcullis tenant create`;
  // invite: only with an invitation, which works in every mode.
  if (!invite_token && ctx.config.registration != "open") {
    throw ApiError{403, "forbidden", "Registration is closed on this server."};
  }
  std::string tenant_name;
  if (invite_token) {
    if (body.has("tenant_name")) {
      body.fail("tenant_name", "is not accepted with an invitation");
    }
  } else {
    tenant_name = body.name("tenant_name");
  }
  std::string display_name = body.name("display_name");
  // With an invitation the address is the invitation's: it may be left
  // out, and when sent it must be that address.
  bool email_sent = !invite_token || body.has("email");
  std::string email = email_sent ? normalize_email(body.required_string("email")) : "";
  if (!email.empty() && !valid_email(email)) {
    body.fail("email", "is not a valid e-mail address");
  }
  std::string password = body.required_string("password");

  std::optional<PendingInvitation> invitation;
  bool require_mfa = false;
  if (invite_token) {
    invitation = find_invitation(ctx.db, *invite_token);
    if (!invitation) {
      body.fail("invite_token", "is invalid, used or expired");
    } else {
      if (!email_sent) {
        email = invitation->email;
      } else if (!body.failed("email") && invitation->email != email) {
        body.fail("email", "must be the invited address");
      }
      if (std::optional<store::tenants::Tenant> tenant =
              store::tenants::find(ctx.db, invitation->tenant_id)) {
        tenant_name = tenant->name;
        require_mfa = tenant->require_mfa;
      }
    }
  }
  std::string local_part = email.substr(0, email.find('@'));
  record_password_policy(body, password, {tenant_name, local_part, display_name}, "password",
                         require_mfa);
  body.finish();

  Account a;
  a.user_id = uuid_v7();
  a.tenant_id = invitation ? invitation->tenant_id : uuid_v7();
  a.email = email;
  a.display_name = display_name;
  a.role = invitation ? invitation->role : Role::kOwner;
  // The invitation mail proved the address; a registered address is
  // unproven until its verification link is opened.
  a.email_verified = invitation.has_value();
  a.tenant_name = tenant_name;
  if (email_taken(ctx.db, email)) {
    throw ApiError::conflict("email_taken", "An account with this e-mail already exists.");
  }
  a.password_hash = hash_password(password);
  int64_t created_at = now_ms();
  std::string now = format_time_ms(created_at);
  {
    TenantTx tx(ctx.db, a.tenant_id);
    if (invitation) {
      // One use only: the row is claimed atomically.
      if (!store::invitations::accept(tx, invitation->id, now)) {
        throw ApiError::validation_failed().with_field("invite_token",
                                                       "is invalid, used or expired");
      }
    } else {
      store::tenants::insert(tx, a.tenant_name, created_at);
    }
    // A registration that raced this one past email_taken() loses here.
    if (!store::accounts::insert(tx, a, created_at)) {
      throw ApiError::conflict("email_taken", "An account with this e-mail already exists.");
    }
    if (!a.email_verified) {
      // The verification mail: the deliverer mints its token at delivery
      // time (app/auth/email_verification.h). Committed with the account.
      store::outbox::OutboxMail request;
      request.kind = email_verification::kRequestKind;
      request.to_address = a.email;
      request.to_name = a.display_name;
      request.tenant_id = a.tenant_id;
      request.user_id = a.user_id;
      store::outbox::enqueue(tx.tx(), request);
    }
    AuditEvent ev = ctx.audit_event(invitation ? "member.joined" : "auth.register", "success");
    ev.tenant_id = a.tenant_id;
    ev.user_id = a.user_id;
    ev.target_type = invitation ? "invitation" : "tenant";
    ev.target_id = invitation ? invitation->id : a.tenant_id;
    ctx.record(tx, ev);
    tx.commit();
  }
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("user", user_json(a, d.GetAllocator()), d.GetAllocator());
  d.AddMember("tenant", tenant_json(a, d.GetAllocator()), d.GetAllocator());
  return json_ok(d, 201);
}

Response post_login(Context& ctx) {
  JsonBody body(ctx.request, {"email", "password", "remember_me"});
  std::string typed_email = body.required_string("email");
  std::string password = body.required_string("password");
  bool remember_me = body.boolean("remember_me").value_or(false);
  body.finish();
  std::string email = normalize_email(typed_email);
  const std::string& ip = ctx.request.client_ip;
  int64_t now = now_ms();

  // Only a valid address is looked up; what was typed is audited and logged
  // only as the service's subject (a keyed hash unless a valid address).
  std::optional<Account> account;
  if (valid_email(email)) {
    account = find_account_by_email(ctx.db, email);
  }
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, ctx.audit_event("", ""));
  Verification v = verifier.login_password(typed_email, account, password);
  if (!v.ok()) {
    // Locked e-mail or throttled IP: the same 429 whether the account exists.
    // A suspended account is told so only after its right password (the
    // attempt counted as a failure all the same); a wrong one is the usual 401.
    bool suspended = v.verdict == Verdict::kSuspended;
    AuditEvent ev = ctx.audit_event(
        "auth.login", v.verdict == Verdict::kLocked || suspended ? "denied" : "failure");
    ev.target_type = "email";
    ev.target_id = verifier.subject(typed_email);
    ev.reason = v.verdict == Verdict::kLocked ? "locked"
                : suspended                   ? "suspended"
                : !account                    ? "unknown_user"
                : account->disabled           ? "disabled"
                                              : "bad_password";
    if (account && v.verdict != Verdict::kLocked) {
      ev.tenant_id = account->tenant_id;
      ev.user_id = account->user_id;
    }
    ctx.record_now(ev);
    if (v.verdict == Verdict::kLocked) {
      throw rate_limited(v.retry_after);
    }
    if (suspended) {
      throw account_suspended();
    }
    throw invalid_credentials();
  }

  std::string state = account->mfa_enabled          ? "mfa_pending"
                      : account->tenant_require_mfa ? "enrollment_required"
                                                    : "full";
  std::string rehashed = needs_rehash(account->password_hash) ? hash_password(password) : "";
  TenantTx tx(ctx.db, account->tenant_id);
  if (!rehashed.empty()) {
    store::accounts::rehash_password(tx, account->user_id, rehashed);
  }
  // Session fixation: whatever session the client presented is ended; the
  // new session always gets a fresh token.
  auto presented = ctx.request.cookies.find(kSessionCookie);
  if (presented != ctx.request.cookies.end() && !presented->second.empty()) {
    if (std::optional<Session> old = find_session_by_token(tx.tx(), presented->second)) {
      store::sessions::remove(tx.tx(), old->id);
    }
  }
  IssuedSession issued = create_session(tx, ctx.config, ctx.keys, account->user_id, state,
                                        remember_me, {ip, ctx.request.header("user-agent")});
  if (state != "mfa_pending") {
    store::accounts::set_last_login(tx, account->user_id, now);
  }
  AuditEvent ev = ctx.audit_event("auth.login", "success");
  ev.tenant_id = account->tenant_id;
  ev.user_id = account->user_id;
  ev.session_id = issued.session.id;
  ev.details = {{"factor", "password"}, {"session_state", state}};
  if (state != "mfa_pending") {
    // Whether, not which: the device's hash never leaves the store.
    ev.details.emplace_back("new_device", issued.session.new_device ? "true" : "false");
    notify_new_device(tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*account),
                      issued.session, ip, now);
  }
  ctx.record(tx, ev);
  tx.commit();

  if (state == "mfa_pending") {
    rapidjson::Document d(rapidjson::kObjectType);
    d.AddMember("mfa_required", true, d.GetAllocator());
    d.AddMember("csrf_token", rapidjson::Value(issued.session.csrf_token.c_str(), d.GetAllocator()),
                d.GetAllocator());
    return with_session_cookie(json_ok(d), issued);
  }
  rapidjson::Document d = login_shape(*account, issued.session);
  email_verification::add_state(d, *account);
  // E-mail verification comes before MFA enrolment (app/auth/authenticate.cpp).
  if (state == "enrollment_required" && !email_verification::required(*account)) {
    d.AddMember("mfa_enrollment_required", true, d.GetAllocator());
  }
  return with_session_cookie(json_ok(d), issued);
}

Response post_logout(Context& ctx) {
  Tx tx(ctx.db);
  store::sessions::remove(tx, ctx.session->id);
  ctx.record(tx, ctx.audit_event("auth.logout", "success"));
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("logged_out", true, d.GetAllocator());
  Response r = json_ok(d);
  r.set_header("Set-Cookie", clear_session_cookie());
  r.set_header("Clear-Site-Data", "\"cookies\", \"storage\"");
  return r;
}

Response post_refresh(Context& ctx) {
  Tx tx(ctx.db);
  IssuedSession issued = rotate_session(tx, *ctx.session);
  ctx.record(tx, ctx.audit_event("auth.refresh", "success"));
  tx.commit();
  // The account came with the session lookup.
  return with_session_cookie(json_ok(login_shape(*ctx.account, issued.session)), issued);
}

ApiError invalid_code() { return ApiError{400, "invalid_code", "The code is not valid."}; }

Response post_reauthenticate(Context& ctx) {
  JsonBody body(ctx.request, {"password", "code", "backup_code"});
  std::optional<std::string> password = body.string("password");
  std::optional<std::string> code = body.string("code");
  std::optional<std::string> backup = body.string("backup_code");
  // A user with MFA re-authenticates with a code (or a backup code): the
  // password alone is the factor an attacker is most likely to hold.
  bool mfa = ctx.account->mfa_enabled;
  if (mfa && !code && !backup && body.ok()) {
    body.fail("code", "is required");
  } else if (!mfa && !password && body.ok()) {
    body.fail("password", "is required");
  }
  body.finish();
  int64_t now = now_ms();
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, ctx.audit_event("", ""));
  Verification v = mfa ? verifier.second_factor(*ctx.account, code, backup)
                       : verifier.password(*ctx.account, *password);
  if (v.verdict == Verdict::kLocked) {
    throw rate_limited(v.retry_after);
  }
  if (!v.ok()) {
    AuditEvent failed = ctx.audit_event("auth.reauthenticate", "failure");
    failed.reason = mfa ? "bad_code" : "bad_password";
    ctx.record_now(failed);
    if (mfa) {
      throw invalid_code();
    }
    throw invalid_credentials();
  }
  Tx tx(ctx.db);
  mark_reauthenticated(tx, ctx.session->id, now);
  ctx.record(tx, ctx.audit_event("auth.reauthenticate", "success"));
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("reauthenticated_at", rapidjson::Value(format_time_ms(now).c_str(), d.GetAllocator()),
              d.GetAllocator());
  return json_ok(d);
}

// The second login step (MFA-5): an MFA-pending session presents a TOTP code
// or a backup code. Wrong codes count toward the e-mail's lockout; a lockout
// also ends the pending session. Success issues a new token for a full
// session whose lifetime runs from the password step (DESIGN §7).
Response post_mfa_verify(Context& ctx) {
  JsonBody body(ctx.request, {"code", "backup_code"});
  std::optional<std::string> code = body.string("code");
  std::optional<std::string> backup = body.string("backup_code");
  if (!code && !backup && body.ok()) {
    body.fail("code", "is required (or backup_code)");
  }
  body.finish();
  int64_t now = now_ms();
  VerificationService verifier(ctx.db, ctx.config, ctx.keys, ctx.audit, ctx.audit_event("", ""));
  Verification v = verifier.second_factor(*ctx.account, code, backup);
  if (v.verdict == Verdict::kLocked) {
    store::sessions::remove(ctx.db, ctx.session->id);
    throw rate_limited(v.retry_after).with_header("Set-Cookie", clear_session_cookie());
  }
  if (v.verdict == Verdict::kSuspended) {
    // Both factors right, the account suspended: said now, and the pending
    // session ends (no full session ever follows for a suspended account).
    AuditEvent denied = ctx.audit_event("mfa.verify", "denied");
    denied.reason = "suspended";
    ctx.record_now(denied);
    store::sessions::remove(ctx.db, ctx.session->id);
    throw account_suspended().with_header("Set-Cookie", clear_session_cookie());
  }
  if (!v.ok()) {
    AuditEvent failed = ctx.audit_event(
        v.verdict == Verdict::kReplay ? "mfa.replay_refused" : "mfa.verify", "failure");
    failed.reason = code ? "bad_code" : "bad_backup_code";
    ctx.record_now(failed);
    if (v.locked) {
      store::sessions::remove(ctx.db, ctx.session->id);
    }
    throw invalid_code();
  }
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  IssuedSession issued =
      complete_mfa_session(tx, ctx.config, ctx.keys, *ctx.session,
                           {ctx.request.client_ip, ctx.request.header("user-agent")}, now);
  store::accounts::set_last_login(tx, ctx.principal->user_id, now);
  AuditEvent ev = ctx.audit_event("mfa.verify", "success");
  ev.details = {{"factor", code ? "totp" : "backup_code"},
                {"session_state", "full"},
                {"new_device", issued.session.new_device ? "true" : "false"}};
  notify_new_device(tx.tx(), ctx.config.notify_max_per_hour, notice_recipient(*ctx.account),
                    issued.session, ctx.request.client_ip, now);
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d = login_shape(*ctx.account, issued.session);
  email_verification::add_state(d, *ctx.account);
  return with_session_cookie(json_ok(d), issued);
}

// What the join page shows (issue 12 item 4): the invitation a token names,
// read-only. Every token that may not be used (unknown, expired, accepted,
// revoked) is the same 400 invalid_token. Counted per client IP like the
// other public token requests; audited (the invitation's id, never the
// token) as member.invitation_viewed.
Response post_invitation(Context& ctx) {
  JsonBody body(ctx.request, {"token"});
  std::string token = body.required_string("token");
  body.finish();
  const std::string& ip = ctx.request.client_ip;
  int wait = ip.empty() ? 0
                        : count_request(ctx.db, "invitation-ip:" + ip, ctx.config.ip_throttle_limit,
                                        ctx.config.ip_throttle_window_seconds, now_ms());
  if (wait != 0) {
    ApiError e{429, "rate_limited", "Too many requests. Try again later."};
    e.with_header("Retry-After", std::to_string(wait));
    throw e;
  }
  std::optional<PendingInvitation> invitation =
      token.size() > 128 ? std::nullopt : find_invitation(ctx.db, token);
  AuditEvent ev = ctx.audit_event("member.invitation_viewed", invitation ? "success" : "failure");
  if (!invitation) {
    ev.reason = "invalid_token";
    ctx.record_now(ev);
    throw invalid_invitation();
  }
  ev.tenant_id = invitation->tenant_id;
  ev.target_type = "invitation";
  ev.target_id = invitation->id;
  ctx.record_now(ev);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("email", rapidjson::Value(invitation->email.c_str(), a), a);
  d.AddMember("tenant_name", rapidjson::Value(invitation->tenant_name.c_str(), a), a);
  d.AddMember("role", rapidjson::StringRef(to_string(invitation->role)), a);
  std::string expires = format_time_ms(parse_time_ms(invitation->expires_at).value_or(0));
  d.AddMember("expires_at", rapidjson::Value(expires.c_str(), a), a);
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
