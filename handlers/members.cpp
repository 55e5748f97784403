// Members of the caller's tenant and invitations (Admin policy).
// Rules, decided here once:
//  - owners manage everyone; admins manage members only, and may grant no
//    role above member;
//  - nobody changes their own role, suspends or removes themselves here;
//  - the last owner can't be demoted, suspended or removed (409); changes
//    to members of one tenant run one at a time (the tenant row is locked
//    first), so two owners demoting each other can't both succeed;
//  - suspension and removal end the member's sessions at once;
//  - an invitation is refused or revoked by the same rank rule as a role
//    change, and creating one answers the same for every address: whether
//    an address has an account (in any tenant) is the invitee's business,
//    answered when the invitation is accepted.
#include "app/store/members.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/auth/account.h"
#include "app/auth/mfa.h"
#include "app/auth/notify.h"
#include "app/auth/sessions.h"
#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"
#include "app/store/invitations.h"
#include "app/store/outbox.h"

namespace portcullis {
namespace {
Response list_members(Context& ctx);
Response patch_member(Context& ctx);
Response revoke_member_sessions(Context& ctx);
Response delete_member(Context& ctx);
Response reset_member_mfa(Context& ctx);
Response create_invitation(Context& ctx);
Response list_invitations(Context& ctx);
Response delete_invitation(Context& ctx);
}  // namespace

void register_members_routes(Router& router) {
  // Invitation routes first: "/members/invitations" must not be read as a member id.
  router.add("POST", "/api/v1/members/invitations", Access::kAdmin, create_invitation);
  router.add("GET", "/api/v1/members/invitations", Access::kAdminView, list_invitations);
  router.add("DELETE", "/api/v1/members/invitations/{id}", Access::kAdmin, delete_invitation);
  router.add("GET", "/api/v1/members", Access::kAdminView, list_members);
  router.add("PATCH", "/api/v1/members/{id}", Access::kAdmin, patch_member);
  router.add("POST", "/api/v1/members/{id}/revoke-sessions", Access::kAdmin,
             revoke_member_sessions);
  router.add("DELETE", "/api/v1/members/{id}", Access::kAdmin, delete_member);
  router.add("POST", "/api/v1/members/{id}/reset-mfa", Access::kAdmin, reset_member_mfa);
}

namespace {

constexpr const char* kSentinel = "ffffffff-ffff-ffff-ffff-ffffffffffff";

using store::members::Member;

std::string rfc3339(const std::string& db_time) {
  return format_time_ms(parse_time_ms(db_time).value_or(0));
}

rapidjson::Value member_json(const Member& m, rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), a); };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(m.id), a);
  v.AddMember("email", str(m.email), a);
  v.AddMember("display_name", str(m.display_name), a);
  v.AddMember("role", rapidjson::StringRef(to_string(m.role)), a);
  v.AddMember("mfa_enabled", m.mfa_enabled, a);
  v.AddMember("disabled", m.disabled, a);
  v.AddMember("created_at", str(rfc3339(m.created_at)), a);
  if (m.last_login_at) {
    v.AddMember("last_login_at", str(rfc3339(*m.last_login_at)), a);
  } else {
    v.AddMember("last_login_at", rapidjson::Value(rapidjson::kNullType), a);
  }
  return v;
}

// Only an owner grants a role above member, by invitation or by a change,
// and only an owner revokes an invitation that would grant one.
bool may_grant(const Context& ctx, Role role) {
  return ctx.principal->role == Role::kOwner || role == Role::kMember;
}

// The target of an admin action: in the tenant (else 404), not the caller,
// and within the caller's reach. Member changes of one tenant are serialised
// first, so the last-owner check sees every change committed before it
// (#9 item 6).
Member target_member(TenantTx& tx, const Context& ctx) {
  serialise_writers(tx.tx(), WriterScope::kTenant, tx.tenant_id());
  // The id is a path parameter: dispatch has checked it is a UUID.
  std::optional<Member> m = store::members::find(tx, ctx.path_param("id"));
  if (!m) {
    throw ApiError::not_found();
  }
  if (m->id == ctx.principal->user_id) {
    throw ApiError{403, "forbidden", "You cannot do this to your own account here."};
  }
  if (ctx.principal->role != Role::kOwner && m->role != Role::kMember) {
    throw ApiError{403, "forbidden", "Admins manage members only."};
  }
  return *m;
}

void refuse_last_owner(TenantTx& tx, const Member& m) {
  if (m.role == Role::kOwner && !m.disabled && store::members::active_owners(tx) <= 1) {
    throw ApiError::conflict("conflict", "The last owner cannot be demoted, suspended or removed.");
  }
}

AuditEvent member_event(const Context& ctx, const std::string& event, const Member& m) {
  AuditEvent ev = ctx.audit_event(event, "success");
  ev.target_type = "user";
  ev.target_id = m.id;
  return ev;
}

NoticeRecipient member_recipient(TenantTx& tx, const Member& m) {
  return {tx.tenant_id(), m.id, m.email, m.display_name};
}

Response one(const Member& m) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(member_json(m, d.GetAllocator()), d.GetAllocator());
  return json_ok(d);
}

Response list_members(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|members";
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string before = page.after_id.empty() ? kSentinel : page.after_id;
  std::vector<Member> rows = store::members::page(tx, before, page.limit + 1);
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, member_json);
}

Response patch_member(Context& ctx) {
  JsonBody body(ctx.request, {"role", "disabled"});
  std::optional<std::string> role_name = body.string("role");
  // Assigned in two steps: GCC 12's -Wmaybe-uninitialized misreads the
  // conditional expression at -O2 (the release build of `make run`).
  std::optional<Role> role;
  if (role_name) {
    role = role_from_string(*role_name);
  }
  std::optional<bool> disabled = body.boolean("disabled");
  if (role_name && !role) {
    body.fail("role", "must be owner, admin or member");
  }
  if (!role && !disabled && body.ok()) {
    body.fail("body", "give role or disabled");
  }
  body.finish();
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  if (role && !may_grant(ctx, *role)) {
    throw ApiError{403, "forbidden", "Only an owner can grant this role."};
  }
  int64_t at = now_ms();
  std::string now = format_time_ms(at);
  if (role && *role != m.role) {
    if (m.role == Role::kOwner) {
      refuse_last_owner(tx, m);
    }
    store::members::set_role(tx, m.id, *role, now);
    AuditEvent ev = member_event(ctx, "member.role_changed", m);
    ev.details = {{"from", to_string(m.role)}, {"to", to_string(*role)}};
    ctx.record(tx, ev);
    (void)notify_user(tx.tx(), ctx.config.notify_max_per_hour, member_recipient(tx, m),
                      kNoticeRoleChanged,
                      {{"time", notice_time(at)},
                       {"old_role", to_string(m.role)},
                       {"new_role", to_string(*role)}},
                      at);
    m.role = *role;
  }
  if (disabled && *disabled != m.disabled) {
    if (*disabled) {
      refuse_last_owner(tx, m);
    }
    store::members::set_disabled(tx, m.id, *disabled, now);
    long revoked = *disabled ? delete_user_sessions(tx, m.id, "", kRevokedSuspended) : 0;
    AuditEvent ev = member_event(ctx, *disabled ? "member.suspended" : "member.reactivated", m);
    ev.details = {{"sessions_revoked", std::to_string(revoked)}};
    ctx.record(tx, ev);
    m.disabled = *disabled;
  }
  tx.commit();
  return one(m);
}

Response revoke_member_sessions(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  long revoked = delete_user_sessions(tx, m.id, "", kRevokedByAdmin);
  AuditEvent ev = member_event(ctx, "member.sessions_revoked", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("sessions_revoked", static_cast<int64_t>(revoked), d.GetAllocator());
  return json_ok(d);
}

Response delete_member(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  refuse_last_owner(tx, m);
  long revoked = delete_user_sessions(tx, m.id, "", kRevokedRemoved);
  store::members::remove(tx, m.id);
  AuditEvent ev = member_event(ctx, "member.removed", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("removed", true, d.GetAllocator());
  return json_ok(d);
}

// Recovery for a member who lost their authenticator: MFA off, sessions
// ended; they log in with the password and enrol again.
Response reset_member_mfa(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  disable_mfa(tx, m.id);
  long revoked = delete_user_sessions(tx, m.id, "", kRevokedMfaReset);
  AuditEvent ev = member_event(ctx, "mfa.reset", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.record(tx, ev);
  int64_t now = now_ms();
  (void)notify_user(tx.tx(), ctx.config.notify_max_per_hour, member_recipient(tx, m),
                    kNoticeMfaReset, {{"time", notice_time(now)}}, now);
  tx.commit();
  m.mfa_enabled = false;
  return one(m);
}

// --- invitations ------------------------------------------------------------

using store::invitations::Invitation;

rapidjson::Value invitation_json(const Invitation& i, rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), a); };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(i.id), a);
  v.AddMember("email", str(i.email), a);
  v.AddMember("role", rapidjson::StringRef(to_string(i.role)), a);
  v.AddMember("created_at", str(rfc3339(i.created_at)), a);
  v.AddMember("expires_at", str(rfc3339(i.expires_at)), a);
  return v;
}

Response create_invitation(Context& ctx) {
  JsonBody body(ctx.request, {"email", "role"});
  std::string email = normalize_email(body.required_string("email"));
  std::optional<Role> role = role_from_string(body.string("role").value_or("member"));
  if (!email.empty() && !valid_email(email)) {
    body.fail("email", "is not a valid e-mail address");
  }
  if (!role) {
    body.fail("role", "must be owner, admin or member");
  }
  body.finish();
  if (!may_grant(ctx, *role)) {
    throw ApiError{403, "forbidden", "Only an owner can invite with this role."};
  }
  // No e-mail check here (#9 item 12): "taken" would tell an admin that the
  // address has an account in some other tenant. Accepting the invitation
  // answers 409 email_taken to the invitee, and the invitation stays pending.
  // The token is shown once; only its SHA-256 is kept.
  std::string token = new_token();
  Invitation inv;
  inv.id = uuid_v7();
  inv.email = email;
  inv.role = *role;
  int64_t now = now_ms();
  inv.created_at = format_time_ms(now);
  inv.expires_at = format_time_ms(now + static_cast<int64_t>(ctx.config.invitation_seconds) * 1000);
  std::string hash = sha256_hex(token);
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  store::invitations::insert(tx, inv, hash, ctx.principal->user_id);
  // The invitee's mail, committed with the invitation. Its link carries a
  // second token, minted when the mail is delivered (app/mail/deliver.cpp),
  // so no raw token waits in the outbox; revoking the invitation kills both.
  store::outbox::OutboxMail mail;
  mail.kind = store::invitations::kRequestKind;
  mail.to_address = email;
  mail.tenant_id = ctx.principal->tenant_id;
  const Account& inviter = *ctx.account;
  mail.params = {
      {"invitation_id", inv.id},
      {"inviter", inviter.display_name.empty() ? inviter.email : inviter.display_name},
      {"organisation", inviter.tenant_name},
      {"role", to_string(*role)},
      {"expires", notice_time(now + static_cast<int64_t>(ctx.config.invitation_seconds) * 1000)}};
  store::outbox::enqueue(tx.tx(), mail);
  AuditEvent ev = ctx.audit_event("member.invited", "success");
  ev.target_type = "invitation";
  ev.target_id = inv.id;
  ev.details = {{"role", to_string(*role)}};
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.CopyFrom(invitation_json(inv, a), a);
  d.AddMember("token", rapidjson::Value(token.c_str(), a), a);
  std::string url = ctx.config.public_base_url + "/#/join?token=" + token;
  d.AddMember("join_url", rapidjson::Value(url.c_str(), a), a);
  return json_ok(d, 201);
}

Response list_invitations(Context& ctx) {
  std::string scope = ctx.principal->tenant_id + "|invitations";
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  std::string before = page.after_id.empty() ? kSentinel : page.after_id;
  std::string now = format_time_ms(now_ms());
  std::vector<Invitation> rows = store::invitations::page(tx, now, before, page.limit + 1);
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, invitation_json);
}

Response delete_invitation(Context& ctx) {
  const std::string& id = ctx.path_param("id");  // a UUID: dispatch checked
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::string now = format_time_ms(now_ms());
  std::optional<Role> role = store::invitations::open_role(tx, id);
  if (!role) {
    throw ApiError::not_found();
  }
  // #9 item 13: the rank rule of creating it.
  if (!may_grant(ctx, *role)) {
    throw ApiError{403, "forbidden", "Only an owner can revoke an invitation with this role."};
  }
  // The role is part of the revocation's condition, so the row revoked is the
  // one checked.
  if (!store::invitations::revoke(tx, id, *role, now)) {
    throw ApiError::not_found();
  }
  AuditEvent ev = ctx.audit_event("member.invitation_revoked", "success");
  ev.target_type = "invitation";
  ev.target_id = id;
  ctx.record(tx, ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("revoked", true, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
