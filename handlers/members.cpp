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
#include <soci/soci.h>

#include "app/auth/account.h"
#include "app/auth/mfa.h"
#include "app/store/role_column.h"
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

struct Member {
  std::string id, email, display_name, created_at, last_login_at;
  Role role = Role::kMember;
  int mfa_enabled = 0;
  int disabled = 0;
  soci::indicator last_login_ind = soci::i_null;
};

constexpr const char* kMemberColumns =
    "id, email, display_name, role, CAST(mfa_enabled AS INTEGER), CAST(disabled AS INTEGER), "
    "created_at, last_login_at";

void bind_member(soci::statement& st, Member& m) {
  st.exchange(soci::into(m.id));
  st.exchange(soci::into(m.email));
  st.exchange(soci::into(m.display_name));
  st.exchange(soci::into(m.role));
  st.exchange(soci::into(m.mfa_enabled));
  st.exchange(soci::into(m.disabled));
  st.exchange(soci::into(m.created_at));
  st.exchange(soci::into(m.last_login_at, m.last_login_ind));
}

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
  v.AddMember("mfa_enabled", m.mfa_enabled != 0, a);
  v.AddMember("disabled", m.disabled != 0, a);
  v.AddMember("created_at", str(rfc3339(m.created_at)), a);
  if (m.last_login_ind == soci::i_ok) {
    v.AddMember("last_login_at", str(rfc3339(m.last_login_at)), a);
  } else {
    v.AddMember("last_login_at", rapidjson::Value(rapidjson::kNullType), a);
  }
  return v;
}

std::optional<Member> find_member(TenantTx& tx, const std::string& id) {
  // `id` is a path parameter: dispatch has checked it is a UUID.
  Member m;
  soci::statement st(tx.sql());
  bind_member(st, m);
  st.exchange(soci::use(tx.tenant_id()));
  st.exchange(soci::use(id));
  st.alloc();
  st.prepare(std::string("SELECT ") + kMemberColumns +
             " FROM users WHERE tenant_id = :t AND id = :id");
  st.define_and_bind();
  st.execute(true);
  if (!st.got_data()) {
    return std::nullopt;
  }
  return m;
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
  serialise_writers(tx.sql(), WriterScope::kTenant, tx.tenant_id());
  std::optional<Member> m = find_member(tx, ctx.path_param("id"));
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

int active_owners(TenantTx& tx) {
  int n = 0;
  tx.sql() << "SELECT COUNT(*) FROM users WHERE tenant_id = :t AND role = 'owner' AND "
              "disabled = FALSE",
      soci::use(tx.tenant_id()), soci::into(n);
  return n;
}

void refuse_last_owner(TenantTx& tx, const Member& m) {
  if (m.role == Role::kOwner && m.disabled == 0 && active_owners(tx) <= 1) {
    throw ApiError::conflict("conflict", "The last owner cannot be demoted, suspended or removed.");
  }
}

AuditEvent member_event(const Context& ctx, const std::string& event, const Member& m) {
  AuditEvent ev = ctx.audit_event(event, "success");
  ev.target_type = "user";
  ev.target_id = m.id;
  return ev;
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
  int fetch = page.limit + 1;
  Member m;
  soci::statement st(tx.sql());
  bind_member(st, m);
  st.exchange(soci::use(tx.tenant_id()));
  st.exchange(soci::use(before));
  st.exchange(soci::use(fetch));
  st.alloc();
  st.prepare(std::string("SELECT ") + kMemberColumns +
             " FROM users WHERE tenant_id = :t AND id < :b ORDER BY id DESC LIMIT :n");
  st.define_and_bind();
  st.execute();
  std::vector<Member> rows;
  while (st.fetch()) {
    rows.push_back(m);
  }
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, member_json);
}

Response patch_member(Context& ctx) {
  JsonBody body(ctx.request, {"role", "disabled"});
  std::optional<std::string> role_name = body.string("role");
  std::optional<Role> role = role_name ? role_from_string(*role_name) : std::nullopt;
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
  std::string now = format_time_ms(now_ms());
  if (role && *role != m.role) {
    if (m.role == Role::kOwner) {
      refuse_last_owner(tx, m);
    }
    tx.sql() << "UPDATE users SET role = :r, updated_at = :u WHERE tenant_id = :t AND id = :id",
        soci::use(*role), soci::use(now), soci::use(tx.tenant_id()), soci::use(m.id);
    AuditEvent ev = member_event(ctx, "member.role_changed", m);
    ev.details = {{"from", to_string(m.role)}, {"to", to_string(*role)}};
    ctx.audit.record(tx.sql(), ev);
    m.role = *role;
  }
  if (disabled && (*disabled ? 1 : 0) != m.disabled) {
    if (*disabled) {
      refuse_last_owner(tx, m);
    }
    int value = *disabled ? 1 : 0;
    tx.sql() << "UPDATE users SET disabled = :d, updated_at = :u WHERE tenant_id = :t AND id = :id",
        soci::use(value), soci::use(now), soci::use(tx.tenant_id()), soci::use(m.id);
    long revoked = *disabled ? delete_user_sessions(tx.sql(), m.id, "") : 0;
    AuditEvent ev = member_event(ctx, *disabled ? "member.suspended" : "member.reactivated", m);
    ev.details = {{"sessions_revoked", std::to_string(revoked)}};
    ctx.audit.record(tx.sql(), ev);
    m.disabled = value;
  }
  tx.commit();
  return one(m);
}

Response revoke_member_sessions(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  long revoked = delete_user_sessions(tx.sql(), m.id, "");
  AuditEvent ev = member_event(ctx, "member.sessions_revoked", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.audit.record(tx.sql(), ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("sessions_revoked", static_cast<int64_t>(revoked), d.GetAllocator());
  return json_ok(d);
}

Response delete_member(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  Member m = target_member(tx, ctx);
  refuse_last_owner(tx, m);
  long revoked = delete_user_sessions(tx.sql(), m.id, "");
  tx.sql() << "DELETE FROM users WHERE tenant_id = :t AND id = :id", soci::use(tx.tenant_id()),
      soci::use(m.id);
  AuditEvent ev = member_event(ctx, "member.removed", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.audit.record(tx.sql(), ev);
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
  long revoked = delete_user_sessions(tx.sql(), m.id, "");
  AuditEvent ev = member_event(ctx, "mfa.reset", m);
  ev.details = {{"sessions_revoked", std::to_string(revoked)}};
  ctx.audit.record(tx.sql(), ev);
  tx.commit();
  m.mfa_enabled = 0;
  return one(m);
}

// --- invitations ------------------------------------------------------------

struct Invitation {
  std::string id, email, created_at, expires_at;
  Role role = Role::kMember;
};

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
  tx.sql() << "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, "
              "created_at, expires_at) VALUES (:id, :t, :e, :r, :h, :b, :c, :x)",
      soci::use(inv.id), soci::use(tx.tenant_id()), soci::use(inv.email), soci::use(inv.role),
      soci::use(hash), soci::use(ctx.principal->user_id), soci::use(inv.created_at),
      soci::use(inv.expires_at);
  AuditEvent ev = ctx.audit_event("member.invited", "success");
  ev.target_type = "invitation";
  ev.target_id = inv.id;
  ev.details = {{"role", to_string(*role)}};
  ctx.audit.record(tx.sql(), ev);
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
  int fetch = page.limit + 1;
  Invitation row;
  soci::statement st =
      (tx.sql().prepare << "SELECT id, email, role, created_at, expires_at FROM invitations "
                           "WHERE tenant_id = :t AND accepted_at IS NULL AND revoked_at IS NULL "
                           "AND expires_at > :now AND id < :b ORDER BY id DESC LIMIT :n",
       soci::use(tx.tenant_id()), soci::use(now), soci::use(before), soci::use(fetch),
       soci::into(row.id), soci::into(row.email), soci::into(row.role), soci::into(row.created_at),
       soci::into(row.expires_at));
  st.execute();
  std::vector<Invitation> rows;
  while (st.fetch()) {
    rows.push_back(row);
  }
  tx.commit();
  return page_response(rows, page, ctx.keys, scope, invitation_json);
}

Response delete_invitation(Context& ctx) {
  const std::string& id = ctx.path_param("id");  // a UUID: dispatch checked
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::string now = format_time_ms(now_ms());
  Role role = Role::kMember;
  tx.sql() << "SELECT role FROM invitations WHERE tenant_id = :t AND id = :id AND accepted_at IS "
              "NULL AND revoked_at IS NULL",
      soci::use(tx.tenant_id()), soci::use(id), soci::into(role);
  if (!tx.sql().got_data()) {
    throw ApiError::not_found();
  }
  // #9 item 13: the rank rule of creating it.
  if (!may_grant(ctx, role)) {
    throw ApiError{403, "forbidden", "Only an owner can revoke an invitation with this role."};
  }
  // The role is part of the condition, so the row revoked is the one checked.
  soci::statement st =
      (tx.sql().prepare << "UPDATE invitations SET revoked_at = :now WHERE tenant_id = :t AND "
                           "id = :id AND role = :r AND accepted_at IS NULL AND revoked_at IS NULL",
       soci::use(now), soci::use(tx.tenant_id()), soci::use(id), soci::use(role));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    throw ApiError::not_found();
  }
  AuditEvent ev = ctx.audit_event("member.invitation_revoked", "success");
  ev.target_type = "invitation";
  ev.target_id = id;
  ctx.audit.record(tx.sql(), ev);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("revoked", true, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
