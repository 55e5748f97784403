// Members, invitations and the audit trail (issue: tenant-scoped resources, item 8).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/db/time.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

rapidjson::Document parse(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

std::string code_of(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  return d.IsObject() && d.HasMember("error") ? d["error"]["code"].GetString() : "";
}

struct Invite {
  std::string id;
  std::string token;
  std::string url;
};

Invite invite(const Browser& b,
              const std::string& email,
              const std::string& role,
              std::vector<std::string> headers = {}) {
  HttpResponse r =
      b.call("POST", "/api/v1/members/invitations",
             R"({"email":")" + email + R"(","role":")" + role + "\"}", std::move(headers));
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("token")) {
    return {};
  }
  return {d["id"].GetString(), d["token"].GetString(), d["join_url"].GetString()};
}

HttpResponse join(const std::string& email, const std::string& token) {
  return post_json("/api/v1/auth/register",
                   R"({"email":")" + email + R"(","password":")" + kPassword +
                       R"(","display_name":"Joiner","invite_token":")" + token + "\"}");
}

std::string user_id_of(const std::string& email) {
  return db_text("SELECT id FROM users WHERE email = :e", email);
}

class MembersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%'";
    owner_ = register_tenant("owner");
    owner_browser_ = login(owner_.email);
  }

  // A user of the owner's tenant with `role`, joined by invitation, logged in.
  Browser add_member(const std::string& role, std::string* email_out = nullptr) {
    std::string email = unique_email(role);
    Invite inv = invite(owner_browser_, email, role);
    EXPECT_EQ(join(email, inv.token).status, 201);
    if (email_out != nullptr) {
      *email_out = email;
    }
    return login(email);
  }

  Registered owner_;
  Browser owner_browser_;
};

TEST_F(MembersTest, InvitationJoinsTheTenantOnceWithItsRole) {
  std::string email = unique_email("invitee");
  Invite inv =
      invite(owner_browser_, email, "admin", {"Host: evil.test", "X-Forwarded-Host: evil.test"});
  // REC-3: the link comes from the configured base URL, never from Host.
  EXPECT_EQ(inv.url.rfind("http://localhost:8080/#/join?token=", 0), 0u) << inv.url;
  EXPECT_THAT(inv.url, Not(HasSubstr("evil.test")));
  // Only the hash is stored.
  EXPECT_EQ(db_text("SELECT id FROM invitations WHERE token_hash = :h", inv.token), "");
  HttpResponse pending = owner_browser_.call("GET", "/api/v1/members/invitations");
  EXPECT_THAT(pending.body, HasSubstr(email));
  EXPECT_THAT(pending.body, Not(HasSubstr(inv.token)));
  // Wrong e-mail, then the right one, then a second use.
  EXPECT_EQ(join(unique_email("other"), inv.token).status, 400);
  HttpResponse joined = join(email, inv.token);
  ASSERT_EQ(joined.status, 201) << joined.body;
  rapidjson::Document d = parse(joined);
  EXPECT_STREQ(d["tenant"]["id"].GetString(), owner_.tenant_id.c_str());
  EXPECT_STREQ(d["user"]["role"].GetString(), "admin");
  EXPECT_EQ(join(email, inv.token).status, 400);
  // The member list shows both, with last login.
  login(email);
  HttpResponse members = owner_browser_.call("GET", "/api/v1/members");
  ASSERT_EQ(members.status, 200);
  rapidjson::Document m = parse(members);
  EXPECT_EQ(m["data"].Size(), 2u);
  for (const auto& row : m["data"].GetArray()) {
    EXPECT_TRUE(row["last_login_at"].IsString()) << members.body;
    EXPECT_FALSE(row.HasMember("password_hash"));
  }
}

TEST_F(MembersTest, RevokedOrExpiredInvitationsCannotBeUsed) {
  std::string e1 = unique_email("revoked");
  Invite revoked = invite(owner_browser_, e1, "member");
  EXPECT_EQ(owner_browser_.call("DELETE", "/api/v1/members/invitations/" + revoked.id).status, 200);
  EXPECT_EQ(join(e1, revoked.token).status, 400);
  std::string e2 = unique_email("expired");
  Invite expired = invite(owner_browser_, e2, "member");
  std::string past = format_time_ms(now_ms() - 1000);
  db() << "UPDATE invitations SET expires_at = :p WHERE id = :id", soci::use(past),
      soci::use(expired.id);
  EXPECT_EQ(join(e2, expired.token).status, 400);
  EXPECT_EQ(join(unique_email("nobody"), "made-up-token").status, 400);
}

TEST_F(MembersTest, TEN8_MembersAreForbiddenOnAdminRoutes) {
  Browser member = add_member("member");
  EXPECT_EQ(code_of(member.call("GET", "/api/v1/members")), "forbidden");
  EXPECT_EQ(code_of(member.call("GET", "/api/v1/audit-events")), "forbidden");
  EXPECT_EQ(code_of(member.call("GET", "/api/v1/members/invitations")), "forbidden");
  EXPECT_EQ(code_of(member.call("POST", "/api/v1/members/invitations",
                                R"({"email":"x@example.test","role":"member"})")),
            "forbidden");
  EXPECT_EQ(
      code_of(member.call("PATCH", "/api/v1/members/" + owner_.user_id, R"({"role":"member"})")),
      "forbidden");
}

TEST_F(MembersTest, AdminsManageMembersOnlyAndNobodyTheirOwnRole) {
  std::string admin_email;
  Browser admin = add_member("admin", &admin_email);
  std::string member_email;
  Browser member = add_member("member", &member_email);
  std::string member_id = user_id_of(member_email);
  std::string admin_id = user_id_of(admin_email);
  EXPECT_EQ(admin.call("PATCH", "/api/v1/members/" + owner_.user_id, R"({"disabled":true})").status,
            403);
  EXPECT_EQ(admin.call("PATCH", "/api/v1/members/" + member_id, R"({"role":"admin"})").status, 403);
  EXPECT_EQ(admin.call("PATCH", "/api/v1/members/" + admin_id, R"({"role":"owner"})").status, 403);
  EXPECT_EQ(
      owner_browser_.call("PATCH", "/api/v1/members/" + owner_.user_id, R"({"role":"member"})")
          .status,
      403);
  EXPECT_EQ(owner_browser_.call("DELETE", "/api/v1/members/" + owner_.user_id).status, 403);
  // The owner may promote; the change is audited.
  HttpResponse promoted =
      owner_browser_.call("PATCH", "/api/v1/members/" + member_id, R"({"role":"admin"})");
  EXPECT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_THAT(promoted.body, HasSubstr("\"role\":\"admin\""));
  // Another tenant's member id is not found.
  Registered other = register_tenant("other-tenant");
  EXPECT_EQ(owner_browser_.call("PATCH", "/api/v1/members/" + other.user_id, R"({"disabled":true})")
                .status,
            404);
}

TEST_F(MembersTest, SuspensionEndsSessionsAndRefusesLoginUntilReactivated) {
  std::string email;
  Browser member = add_member("member", &email);
  std::string id = user_id_of(email);
  HttpResponse r = owner_browser_.call("PATCH", "/api/v1/members/" + id, R"({"disabled":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(member.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(login_raw(email, kPassword).status, 401);
  EXPECT_EQ(owner_browser_.call("PATCH", "/api/v1/members/" + id, R"({"disabled":false})").status,
            200);
  Browser again = login(email);
  EXPECT_EQ(owner_browser_.call("POST", "/api/v1/members/" + id + "/revoke-sessions").status, 200);
  EXPECT_EQ(again.call("GET", "/api/v1/me").status, 401);
  Browser third = login(email);
  EXPECT_EQ(owner_browser_.call("DELETE", "/api/v1/members/" + id).status, 200);
  EXPECT_EQ(third.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(user_id_of(email), "");
}

TEST_F(MembersTest, MFA7_AdminActionsNeedRecentAuthentication) {
  std::string email;
  add_member("member", &email);
  std::string stale = format_time_ms(now_ms() - 16 * 60000);
  db() << "UPDATE sessions SET reauthenticated_at = :s WHERE user_id = :u", soci::use(stale),
      soci::use(owner_.user_id);
  HttpResponse r =
      owner_browser_.call("PATCH", "/api/v1/members/" + user_id_of(email), R"({"disabled":true})");
  EXPECT_EQ(code_of(r), "step_up_required");
  EXPECT_EQ(owner_browser_.call("GET", "/api/v1/members").status, 200);  // reading needs no step-up
}

TEST_F(MembersTest, LOG1_AuditTrailIsTenantScopedAndPaginated) {
  add_member("member");
  HttpResponse r = owner_browser_.call("GET", "/api/v1/audit-events?limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = parse(r);
  EXPECT_EQ(d["data"].Size(), 2u);
  EXPECT_TRUE(d["page"]["has_more"].GetBool());
  HttpResponse all = owner_browser_.call("GET", "/api/v1/audit-events?limit=100");
  EXPECT_THAT(all.body, HasSubstr("member.invited"));
  EXPECT_THAT(all.body, HasSubstr("member.joined"));
  Registered other = register_tenant("other-audit");
  Browser ob = login(other.email);
  HttpResponse theirs = ob.call("GET", "/api/v1/audit-events?limit=100");
  EXPECT_THAT(theirs.body, Not(HasSubstr(owner_.tenant_id)));
  EXPECT_THAT(theirs.body, Not(HasSubstr("member.invited")));
}

}  // namespace
}  // namespace portcullis::testing
