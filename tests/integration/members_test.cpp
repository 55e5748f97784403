// Members, invitations and the audit trail (issue: tenant-scoped resources, item 8).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/db/time.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

// What the database holds for one invitation: "role|accepted|revoked".
std::string invitation_state(const std::string& id) {
  return db_text(
      "SELECT role || '|' || CASE WHEN accepted_at IS NULL THEN 'pending' ELSE 'accepted' END || "
      "'|' || CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END FROM invitations "
      "WHERE id = :id",
      id);
}

// Active (not suspended) owners of a tenant, counted in the database.
int active_owners(const std::string& tenant_id) {
  int n = -1;
  db() << "SELECT COUNT(*) FROM users WHERE tenant_id = :t AND role = 'owner' AND "
          "disabled = FALSE",
      soci::use(tenant_id), soci::into(n);
  return n;
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
  // Issue 12: the right password of a suspended account is told so.
  EXPECT_EQ(login_raw(email, kPassword).status, 403);
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

// #9 item 12: creating an invitation must not tell an admin whether an
// address has an account somewhere else. The clash is answered to the
// invitee, at acceptance, and the invitation stays pending.
TEST_F(MembersTest, TEN3_InvitingAnAddressOfAnotherTenantAnswersLikeAnyAddress) {
  Registered elsewhere = register_tenant("elsewhere");
  HttpResponse taken =
      owner_browser_.call("POST", "/api/v1/members/invitations",
                          R"({"email":")" + elsewhere.email + R"(","role":"member"})");
  HttpResponse fresh =
      owner_browser_.call("POST", "/api/v1/members/invitations",
                          R"({"email":")" + unique_email("fresh") + R"(","role":"member"})");
  ASSERT_EQ(taken.status, 201) << taken.body;
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  rapidjson::Document t = parse(taken);
  rapidjson::Document f = parse(fresh);
  std::set<std::string> taken_keys;
  std::set<std::string> fresh_keys;
  for (const auto& m : t.GetObject()) {
    taken_keys.insert(m.name.GetString());
  }
  for (const auto& m : f.GetObject()) {
    fresh_keys.insert(m.name.GetString());
  }
  EXPECT_EQ(taken_keys, fresh_keys);
  // Accepting is where the address clash shows, to the invitee only.
  HttpResponse joined = join(elsewhere.email, t["token"].GetString());
  EXPECT_EQ(joined.status, 409) << joined.body;
  EXPECT_EQ(code_of(joined), "email_taken");
  const std::string id = t["id"].GetString();
  EXPECT_EQ(invitation_state(id), "member|pending|live");
  EXPECT_THAT(owner_browser_.call("GET", "/api/v1/members/invitations?limit=100").body,
              HasSubstr(id));
  // The account elsewhere is untouched.
  EXPECT_EQ(db_text("SELECT tenant_id FROM users WHERE email = :e", elsewhere.email),
            elsewhere.tenant_id);
}

// #9 item 13: revoking an invitation follows the rank rule of creating it.
TEST_F(MembersTest, TEN8_AdminCannotRevokeAnInvitationAboveMember) {
  Browser admin = add_member("admin");
  Invite as_owner = invite(owner_browser_, unique_email("future-owner"), "owner");
  Invite as_admin = invite(owner_browser_, unique_email("future-admin"), "admin");
  Invite as_member = invite(owner_browser_, unique_email("future-member"), "member");
  for (const Invite* inv : {&as_owner, &as_admin}) {
    HttpResponse r = admin.call("DELETE", "/api/v1/members/invitations/" + inv->id);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(code_of(r), "forbidden");
  }
  EXPECT_EQ(invitation_state(as_owner.id), "owner|pending|live");
  EXPECT_EQ(invitation_state(as_admin.id), "admin|pending|live");
  EXPECT_EQ(admin.call("DELETE", "/api/v1/members/invitations/" + as_member.id).status, 200);
  EXPECT_EQ(invitation_state(as_member.id), "member|pending|revoked");
  EXPECT_EQ(owner_browser_.call("DELETE", "/api/v1/members/invitations/" + as_owner.id).status,
            200);
  EXPECT_EQ(invitation_state(as_owner.id), "owner|pending|revoked");
}

// #9 item 6: two owners demoting or suspending each other at the same time.
// Member changes in a tenant are serialised, so exactly one wins and the
// tenant always keeps an active owner. Rounds alternate demote/suspend.
TEST_F(MembersTest, TEN8_OwnersDemotingEachOtherConcurrentlyLeaveOneOwner) {
  std::string second_email;
  Browser second = add_member("owner", &second_email);
  const std::string second_id = user_id_of(second_email);
  Browser first = owner_browser_;
  const std::string first_id = owner_.user_id;
  constexpr int kRounds = 24;
  int server_errors = 0;
  for (int round = 0; round < kRounds; ++round) {
    // 0: both demote, 1: both suspend, 2: one demotes while the other suspends.
    const int kind = round % 3;
    const char* first_body = kind == 1 ? R"({"disabled":true})" : R"({"role":"member"})";
    const char* second_body = kind == 0 ? R"({"role":"member"})" : R"({"disabled":true})";
    auto a = std::async(std::launch::async, [&] {
      return first.call("PATCH", "/api/v1/members/" + second_id, first_body);
    });
    auto b = std::async(std::launch::async, [&] {
      return second.call("PATCH", "/api/v1/members/" + first_id, second_body);
    });
    HttpResponse ra = a.get();
    HttpResponse rb = b.get();
    for (const HttpResponse* r : {&ra, &rb}) {
      if (r->status >= 500) {
        ++server_errors;
        ADD_FAILURE() << "round " << round << ": " << r->status << " " << r->body;
      }
    }
    const int successes = (ra.status == 200 ? 1 : 0) + (rb.status == 200 ? 1 : 0);
    EXPECT_EQ(successes, 1) << "round " << round << ": " << ra.status << " " << ra.body << " / "
                            << rb.status << " " << rb.body;
    ASSERT_GE(active_owners(owner_.tenant_id), 1) << "round " << round;
    // The loser's answer names the rule (409) or, when the winner's change
    // reached it first, its lost rank (403).
    const HttpResponse& loser = ra.status == 200 ? rb : ra;
    EXPECT_TRUE(loser.status == 409 || loser.status == 403 || loser.status == 401)
        << loser.status << " " << loser.body;
    // Put both back as active owners for the next round.
    const bool first_won = ra.status == 200;
    Browser& winner = first_won ? first : second;
    const std::string loser_id = first_won ? second_id : first_id;
    if (successes != 1) {
      break;
    }
    HttpResponse restore =
        winner.call("PATCH", "/api/v1/members/" + loser_id, R"({"role":"owner","disabled":false})");
    ASSERT_EQ(restore.status, 200) << restore.body;
    ASSERT_EQ(active_owners(owner_.tenant_id), 2);
    // The winner's change was a suspension when its body was: the loser's
    // sessions ended with it.
    if (first_won ? kind == 1 : kind != 0) {
      (first_won ? second : first) = login(first_won ? second_email : owner_.email);
    }
  }
  EXPECT_EQ(server_errors, 0);
}

// The server's worker processes (children of the master), from /proc.
std::set<pid_t> workers_of(pid_t master) {
  std::set<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) {
      continue;
    }
    // "pid (comm) state ppid …"; comm may hold spaces, so read after ')'.
    size_t close = line.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == master) {
      out.insert(static_cast<pid_t>(std::stol(entry.path().filename().string())));
    }
  }
  return out;
}

// Rewrites the server's env file and reloads it (SIGHUP), returning once
// every worker has been replaced by one that read it.
void reload_with(const std::string& env_text) {
  const char* env_file = std::getenv("PORTCULLIS_TEST_ENV_FILE");
  const char* master_text = std::getenv("PORTCULLIS_TEST_MASTER_PID");
  ASSERT_NE(env_file, nullptr);
  ASSERT_NE(master_text, nullptr);
  const pid_t master = static_cast<pid_t>(std::stol(master_text));
  std::set<pid_t> before = workers_of(master);
  {
    std::ofstream f(env_file, std::ios::trunc);
    f << env_text;
  }
  ASSERT_EQ(::kill(master, SIGHUP), 0);
  // Generous: a roll replaces the workers one by one, and a sanitizer build
  // on a loaded two-core machine has taken over 10 s.
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(40)) {
    std::set<pid_t> now = workers_of(master);
    bool all_new = now.size() == before.size();
    for (pid_t p : now) {
      all_new = all_new && before.count(p) == 0;
    }
    if (all_new && get("/api/v1/health").status == 200) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "workers were not replaced after SIGHUP";
}

// #9 item 24: with REGISTRATION=invite, nobody registers a tenant, yet an
// invitation still lets its invitee join. The server's config is restored
// (and reloaded) afterwards, so later suites see the server unchanged.
TEST_F(MembersTest, JoiningByInvitationWorksWhenRegistrationIsInviteOnly) {
  const char* env_file = std::getenv("PORTCULLIS_TEST_ENV_FILE");
  ASSERT_NE(env_file, nullptr);
  std::string original;
  {
    std::ifstream f(env_file);
    original.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  ASSERT_FALSE(original.empty());
  std::string email = unique_email("invite-mode");
  Invite inv = invite(owner_browser_, email, "member");
  struct Restore {
    std::string text;
    ~Restore() { reload_with(text); }
  } restore{original};
  reload_with(original + "PORTCULLIS_REGISTRATION=invite\n");
  // Negative first: no tenant without an invitation, and a bad token is refused.
  std::string outsider = unique_email("outsider");
  HttpResponse closed =
      post_json("/api/v1/auth/register", R"({"tenant_name":"Nope","email":")" + outsider +
                                             R"(","password":")" + kPassword +
                                             R"(","display_name":"Outsider"})");
  EXPECT_EQ(closed.status, 403) << closed.body;
  EXPECT_EQ(code_of(closed), "forbidden");
  EXPECT_EQ(user_id_of(outsider), "");
  EXPECT_EQ(join(email, "made-up-token").status, 400);
  // The invitation works, once, into the inviting tenant.
  HttpResponse joined = join(email, inv.token);
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(db_text("SELECT tenant_id FROM users WHERE email = :e", email), owner_.tenant_id);
  EXPECT_EQ(invitation_state(inv.id), "member|accepted|live");
  EXPECT_EQ(join(email, inv.token).status, 400);
  Browser joiner = login(email);
  EXPECT_EQ(joiner.call("GET", "/api/v1/me").status, 200);
}

}  // namespace
}  // namespace portcullis::testing
