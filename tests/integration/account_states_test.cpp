// Issue 12 items 3, 4 and 6, through nginx on both databases:
//  - account states said plainly: a suspended account is told so only after
//    every factor was right (and the attempt still counts, AUTH-5/RATE-1); a
//    session ended elsewhere answers session_revoked, one that expired or
//    logged out session_expired (SESS-6/SESS-7/SESS-8); a lockout says when;
//  - invitations: the join page's lookup, the invitation mail with a link
//    that works, tokens never in a log;
//  - one-pass validation and GET /api/v1/policy, whose numbers are the
//    validators'; a new password equal to the current one is refused.
#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/hash.h"
#include "app/db/time.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/mail_sink.h"
#include "tests/integration/recovery_mail.h"

namespace portcullis::testing {
namespace {

using mail_sink::SmtpSink;
using ::testing::HasSubstr;
using ::testing::Not;

std::string env_of(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string message_of(const HttpResponse& r) {
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("error") || !d["error"].HasMember("message")) {
    return "";
  }
  return d["error"]["message"].GetString();
}

// The field errors of a 400 envelope.
std::vector<std::string> fields_of(const HttpResponse& r) {
  std::vector<std::string> out;
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("error") || !d["error"].HasMember("fields")) {
    return out;
  }
  for (const auto& f : d["error"]["fields"].GetObject()) {
    out.emplace_back(f.name.GetString());
  }
  return out;
}

std::string field_message(const HttpResponse& r, const char* field) {
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("error") || !d["error"].HasMember("fields") ||
      !d["error"]["fields"].HasMember(field)) {
    return "";
  }
  return d["error"]["fields"][field].GetString();
}

std::string session_id_of(const HttpResponse& login_answer) {
  rapidjson::Document d = parse(login_answer);
  return d.IsObject() && d.HasMember("session") ? d["session"]["id"].GetString() : "";
}

// A session's cookie is told why it no longer works, and cleared.
void expect_refused(const Browser& b, const std::string& code, const std::string& why) {
  HttpResponse r = b.call("GET", "/api/v1/me");
  EXPECT_EQ(r.status, 401) << why << ": " << r.body;
  EXPECT_EQ(code_of(r), code) << why << ": " << r.body;
  EXPECT_THAT(set_cookie_header(r), HasSubstr("Max-Age=0")) << why;
  if (code == "session_revoked") {
    EXPECT_EQ(message_of(r), "You were signed out from another device.");
  }
}

struct Member {
  std::string email;
  std::string user_id;
};

struct Invitation {
  std::string id;
  std::string token;
};

Invitation invite(const Browser& admin, const std::string& email, const std::string& role) {
  HttpResponse r = admin.call("POST", "/api/v1/members/invitations",
                              R"({"email":")" + email + R"(","role":")" + role + "\"}");
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  if (!d.IsObject() || !d.HasMember("token")) {
    return {};
  }
  return {d["id"].GetString(), d["token"].GetString()};
}

HttpResponse lookup(const std::string& token) {
  return post_json("/api/v1/auth/invitation", R"({"token":")" + token + "\"}");
}

// Accepts with the address left out: it is the invitation's.
HttpResponse accept(const std::string& token) {
  return post_json("/api/v1/auth/register", R"({"password":")" + std::string(kPassword) +
                                                R"(","display_name":"Joiner","invite_token":")" +
                                                token + "\"}");
}

Member add_member(const Browser& owner, const std::string& tag) {
  Member m;
  m.email = unique_email(tag);
  Invitation inv = invite(owner, m.email, "member");
  HttpResponse r = accept(inv.token);
  EXPECT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = parse(r);
  if (d.IsObject() && d.HasMember("user")) {
    m.user_id = d["user"]["id"].GetString();
  }
  return m;
}

// Audited as denied; the reason "suspended" in the server's log (the
// audit row keeps no reason).
void expect_denied_as_suspended(const HttpResponse& r, const std::string& event) {
  const std::string request_id = r.header("x-request-id");
  EXPECT_EQ(audit_count(request_id, event), 1);
  std::string outcome;
  db() << "SELECT outcome FROM audit_events WHERE request_id = :r AND event = :e",
      soci::use(request_id), soci::use(event), soci::into(outcome);
  EXPECT_EQ(outcome, "denied");
  std::string log = mail_sink::read_all(env_of("PORTCULLIS_TEST_LOG"));
  bool logged = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    logged = logged || (line.find(request_id) != std::string::npos &&
                        line.find("suspended") != std::string::npos);
  }
  EXPECT_TRUE(logged) << "no log line with the reason for " << request_id;
}

void suspend_in_db(const std::string& user_id) {
  db() << "UPDATE users SET disabled = TRUE WHERE id = :u", soci::use(user_id);
}

// The token of the first join link in a decoded message ("" if none).
std::string join_token_in(const std::string& text) {
  const std::string marker = "/#/join?token=";
  size_t at = text.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + marker.size();
  size_t end = start;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                               text[end] == '-' || text[end] == '_')) {
    ++end;
  }
  return text.substr(start, end - start);
}

class AccountStatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%' OR key LIKE 'invitation-ip:%' OR "
            "key LIKE 'reset-%'";
  }
};

// ---- item 3: suspended accounts ----------------------------------------------------------------

TEST_F(AccountStatesTest, AUTH5_SuspendedAccountIsToldOnlyAfterTheRightPasswordAndItCounts) {
  Registered owner = register_tenant("susp-owner");
  Browser admin = login(owner.email);
  Member m = add_member(admin, "susp");
  Browser live = login(m.email);
  ASSERT_EQ(admin.call("PATCH", "/api/v1/members/" + m.user_id, R"({"disabled":true})").status,
            200);
  // Suspension revoked the member's session: said so.
  expect_refused(live, "session_revoked", "suspension");

  // A wrong password: the usual 401, the same body as an unknown address.
  HttpResponse wrong = login_raw(m.email, "not the password at all 123");
  HttpResponse unknown = login_raw(unique_email("nobody"), "not the password at all 123");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(code_of(wrong), "invalid_credentials");
  EXPECT_EQ(message_of(wrong), message_of(unknown));
  EXPECT_EQ(session_token_from(wrong), "");

  // The right password: 403 account_suspended, no session, audited.
  HttpResponse right = login_raw(m.email, kPassword);
  EXPECT_EQ(right.status, 403) << right.body;
  EXPECT_EQ(code_of(right), "account_suspended");
  EXPECT_EQ(message_of(right),
            "This account is suspended. Contact an administrator of your organisation.");
  EXPECT_EQ(session_token_from(right), "");
  EXPECT_EQ(audit_count(right.header("x-request-id"), "auth.login"), 1);
  expect_denied_as_suspended(right, "auth.login");
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM sessions WHERE user_id = :u", m.user_id),
            "0");

  // Each attempt counted as a failure (RATE-1): 1 wrong + 1 right so far;
  // three more right ones reach the threshold, the next is the lockout,
  // which says when to try again.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(code_of(login_raw(m.email, kPassword)), "account_suspended") << i;
  }
  HttpResponse locked = login_raw(m.email, kPassword);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(code_of(locked), "rate_limited");
  EXPECT_EQ(locked.header("retry-after"), "900");
  EXPECT_EQ(message_of(locked), "Too many failed attempts. Try again in 15 minutes.");
  const std::string key = "email:" + m.email;
  db() << "DELETE FROM auth_throttle WHERE key = :k", soci::use(key);
}

TEST_F(AccountStatesTest, AUTH5_SuspendedMfaAccountIsToldOnlyAfterTheSecondFactor) {
  Enrolled e = enroll("susp-mfa");
  ASSERT_FALSE(e.secret.empty());
  suspend_in_db(e.who.user_id);
  // A full session of a user suspended behind the API's back (the CLI, the
  // database) is revoked at its next request.
  expect_refused(e.browser, "session_revoked", "suspended outside the API");

  // The right password: the same MFA step as for any MFA account.
  Browser pending = pending_login(e.who.email);
  ASSERT_FALSE(pending.cookie.empty());
  // A wrong code: the usual failure.
  HttpResponse bad = pending.call("POST", "/api/v1/auth/mfa/verify", R"({"code":"000000"})");
  if (bad.status == 400) {
    EXPECT_EQ(code_of(bad), "invalid_code");
  }
  // The right code: now the suspension is said, the pending session ends,
  // and no full session exists.
  // (The enrolment spent the current step: the next one's code.)
  HttpResponse right = pending.call("POST", "/api/v1/auth/mfa/verify",
                                    R"({"code":")" + oathtool(e.secret, 1) + "\"}");
  EXPECT_EQ(right.status, 403) << right.body;
  EXPECT_EQ(code_of(right), "account_suspended");
  EXPECT_THAT(set_cookie_header(right), HasSubstr("Max-Age=0"));
  expect_denied_as_suspended(right, "mfa.verify");
  EXPECT_EQ(
      db_text("SELECT CAST(COUNT(*) AS TEXT) FROM sessions WHERE user_id = :u", e.who.user_id),
      "0");
  EXPECT_EQ(pending.call("GET", "/api/v1/me").status, 401);
  // Both MFA-step refusals counted: the failures stand at 2 (the password
  // steps were taken back, as for any MFA login).
  EXPECT_EQ(db_text("SELECT CAST(failures AS TEXT) FROM auth_throttle WHERE key = :k",
                    "email:" + e.who.email),
            bad.status == 400 ? "2" : "1");
  const std::string key = "email:" + e.who.email;
  db() << "DELETE FROM auth_throttle WHERE key = :k", soci::use(key);
}

// ---- item 3: revoked sessions ------------------------------------------------------------------

TEST_F(AccountStatesTest, SESS7_EachRevocationRouteAnswersSessionRevoked) {
  Registered owner = register_tenant("revoke");
  Browser a = login(owner.email);

  // DELETE /sessions/{id} from another device.
  HttpResponse b_login = login_raw(owner.email, kPassword);
  Browser b = browser_from(b_login);
  ASSERT_EQ(a.call("DELETE", "/api/v1/sessions/" + session_id_of(b_login)).status, 200);
  expect_refused(b, "session_revoked", "DELETE /sessions/{id}");
  EXPECT_EQ(
      db_text("SELECT reason FROM revoked_sessions WHERE token_hash = :h", sha256_hex(b.cookie)),
      "revoked_by_user");

  // revoke-all, keeping the current one.
  Browser c = login(owner.email);
  ASSERT_EQ(a.call("POST", "/api/v1/sessions/revoke-all", R"({"keep_current":true})").status, 200);
  expect_refused(c, "session_revoked", "revoke-all");
  ASSERT_EQ(a.call("GET", "/api/v1/me").status, 200);

  // A password change ends every other session.
  Browser d = login(owner.email);
  const std::string new_password = "a brand new passphrase 77";
  HttpResponse changed = a.call("POST", "/api/v1/me/password",
                                R"({"current_password":")" + std::string(kPassword) +
                                    R"(","new_password":")" + new_password + "\"}");
  ASSERT_EQ(changed.status, 200) << changed.body;
  expect_refused(d, "session_revoked", "password change");

  // An admin's actions on a member: revoke-sessions, MFA reset, removal.
  Member m = add_member(a, "revoked-member");
  Browser m1 = login(m.email);
  ASSERT_EQ(a.call("POST", "/api/v1/members/" + m.user_id + "/revoke-sessions").status, 200);
  expect_refused(m1, "session_revoked", "admin revoke-sessions");
  Browser m2 = login(m.email);
  ASSERT_EQ(a.call("POST", "/api/v1/members/" + m.user_id + "/reset-mfa").status, 200);
  expect_refused(m2, "session_revoked", "admin MFA reset");
  Browser m3 = login(m.email);
  ASSERT_EQ(a.call("DELETE", "/api/v1/members/" + m.user_id).status, 200);
  expect_refused(m3, "session_revoked", "member removed");

  // A password reset ends every session.
  SmtpSink sink;
  ASSERT_EQ(post_json("/api/v1/auth/password/forgot", R"({"email":")" + owner.email + "\"}").status,
            202);
  sink.deliver();
  std::vector<std::string> mails = recovery_mail::reset_mails(sink.messages_to(owner.email));
  ASSERT_EQ(mails.size(), 1u);
  std::string token = recovery_mail::reset_token_in(mails[0]);
  HttpResponse reset =
      post_json("/api/v1/auth/password/reset",
                R"({"token":")" + token + R"(","new_password":")" + std::string(kPassword) + "\"}");
  ASSERT_EQ(reset.status, 200) << reset.body;
  expect_refused(a, "session_revoked", "password reset");
}

TEST_F(AccountStatesTest, SESS8_TheSessionCapsEvictionSaysRevoked) {
  Registered owner = register_tenant("cap");
  Browser first = login(owner.email);
  for (int i = 0; i < 10; ++i) {
    (void)login(owner.email);
  }
  expect_refused(first, "session_revoked", "evicted by the 10-session cap");
  EXPECT_EQ(db_text("SELECT reason FROM revoked_sessions WHERE token_hash = :h",
                    sha256_hex(first.cookie)),
            "session_limit");
}

TEST_F(AccountStatesTest, SESS4_SESS6_LogoutIdleAndExpiryStaySessionExpired) {
  Registered owner = register_tenant("expired");
  Browser out = login(owner.email);
  ASSERT_EQ(out.call("POST", "/api/v1/auth/logout").status, 200);
  expect_refused(out, "session_expired", "logout");

  Browser idle = login(owner.email);
  std::string idle_at = format_time_ms(now_ms() - 31 * 60000);
  std::string hash = sha256_hex(idle.cookie);
  db() << "UPDATE sessions SET last_seen_at = :l WHERE token_hash = :h", soci::use(idle_at),
      soci::use(hash);
  expect_refused(idle, "session_expired", "idle");

  Browser old = login(owner.email);
  std::string past = format_time_ms(now_ms() - 1000);
  std::string old_hash = sha256_hex(old.cookie);
  db() << "UPDATE sessions SET expires_at = :e WHERE token_hash = :h", soci::use(past),
      soci::use(old_hash);
  expect_refused(old, "session_expired", "past its lifetime");

  // A refreshed session's old token is simply gone.
  Browser rotated = login(owner.email);
  ASSERT_EQ(rotated.call("POST", "/api/v1/auth/refresh").status, 200);
  expect_refused(rotated, "session_expired", "rotated away");
}

TEST_F(AccountStatesTest, TombstoneIsPurgedByMaintenanceAfterSevenDays) {
  Registered owner = register_tenant("tomb");
  Browser a = login(owner.email);
  Browser b = login(owner.email);
  ASSERT_EQ(a.call("POST", "/api/v1/sessions/revoke-all", R"({"keep_current":true})").status, 200);
  const std::string hash = sha256_hex(b.cookie);
  // Six days on: still said.
  std::string six_days = format_time_ms(now_ms() - 6LL * 24 * 3600 * 1000);
  db() << "UPDATE revoked_sessions SET revoked_at = :t WHERE token_hash = :h", soci::use(six_days),
      soci::use(hash);
  std::string out =
      mail_sink::shell_output(env_of("PORTCULLIS_TEST_BIN") + " maintenance --env-file " +
                              env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1");
  EXPECT_THAT(out, HasSubstr("revoked-session tombstones deleted"));
  EXPECT_EQ(
      db_text("SELECT CAST(COUNT(*) AS TEXT) FROM revoked_sessions WHERE token_hash = :h", hash),
      "1");
  expect_refused(b, "session_revoked", "a tombstone of six days");
  // Eight days on: purged, and the cookie is merely expired.
  std::string eight_days = format_time_ms(now_ms() - 8LL * 24 * 3600 * 1000);
  db() << "UPDATE revoked_sessions SET revoked_at = :t WHERE token_hash = :h",
      soci::use(eight_days), soci::use(hash);
  out = mail_sink::shell_output(env_of("PORTCULLIS_TEST_BIN") + " maintenance --env-file " +
                                env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1");
  EXPECT_EQ(
      db_text("SELECT CAST(COUNT(*) AS TEXT) FROM revoked_sessions WHERE token_hash = :h", hash),
      "0")
      << out;
  expect_refused(b, "session_expired", "after the purge");
  EXPECT_EQ(a.call("GET", "/api/v1/me").status, 200);
}

// ---- item 4: invitations -----------------------------------------------------------------------

TEST_F(AccountStatesTest, InvitationLookupShowsAPendingInvitationAndNothingElse) {
  Registered owner = register_tenant("inv-owner");
  Browser admin = login(owner.email);
  const std::string email = unique_email("invitee");
  Invitation inv = invite(admin, email, "admin");

  HttpResponse ok = lookup(inv.token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  rapidjson::Document d = parse(ok);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d.MemberCount(), 4u);
  EXPECT_EQ(std::string(d["email"].GetString()), email);
  EXPECT_EQ(std::string(d["tenant_name"].GetString()), owner.tenant_name);
  EXPECT_EQ(std::string(d["role"].GetString()), "admin");
  EXPECT_TRUE(parse_time_ms(d["expires_at"].GetString()).has_value());
  EXPECT_EQ(ok.header("cache-control"), "no-store");

  // Unknown, malformed, missing: the same 400 invalid_token (missing: 400
  // validation_failed on the field).
  HttpResponse unknown = lookup("x" + inv.token.substr(1));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(code_of(unknown), "invalid_token");
  EXPECT_EQ(code_of(post_json("/api/v1/auth/invitation", "{}")), "validation_failed");

  // Accepted (the address left out: the invitation's), then 400.
  HttpResponse joined = accept(inv.token);
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(std::string(parse(joined)["user"]["email"].GetString()), email);
  HttpResponse used = lookup(inv.token);
  EXPECT_EQ(used.status, 400);
  EXPECT_EQ(used.body.substr(0, used.body.find("request_id")),
            unknown.body.substr(0, unknown.body.find("request_id")));

  // An accept body that names another address is refused.
  Invitation other = invite(admin, unique_email("invitee2"), "member");
  HttpResponse mismatch =
      post_json("/api/v1/auth/register",
                R"({"email":")" + unique_email("someone") + R"(","password":")" + kPassword +
                    R"(","display_name":"X","invite_token":")" + other.token + "\"}");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(field_message(mismatch, "email"), "must be the invited address");

  // Expired.
  std::string past = format_time_ms(now_ms() - 1000);
  db() << "UPDATE invitations SET expires_at = :e WHERE id = :i", soci::use(past),
      soci::use(other.id);
  EXPECT_EQ(code_of(lookup(other.token)), "invalid_token");

  // Revoked.
  Invitation revoked = invite(admin, unique_email("invitee3"), "member");
  ASSERT_EQ(lookup(revoked.token).status, 200);
  ASSERT_EQ(admin.call("DELETE", "/api/v1/members/invitations/" + revoked.id).status, 200);
  EXPECT_EQ(code_of(lookup(revoked.token)), "invalid_token");
}

TEST_F(AccountStatesTest, InvitationMailCarriesAWorkingLinkAndNoTokenIsLoggedOrStored) {
  SmtpSink sink;
  Registered owner = register_tenant("mail-owner");
  Browser admin = login(owner.email);
  const std::string email = unique_email("mailed");
  Invitation inv = invite(admin, email, "member");
  // The outbox holds no token: only the request.
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE to_address = :a AND kind = "
                    "'invitation_request'",
                    email),
            "1");
  std::string delivered = sink.deliver();
  std::vector<std::string> mails = sink.messages_to(email);
  ASSERT_EQ(mails.size(), 1u) << delivered;
  const std::string& mail = mails[0];
  EXPECT_THAT(mail, HasSubstr("Test User invited you to " + owner.tenant_name));
  EXPECT_THAT(mail, ::testing::AnyOf(HasSubstr("as\r\nmember"), HasSubstr("as member")));
  EXPECT_THAT(mail, HasSubstr("https://app.portcullis.test/#/join?token="));
  std::string token = join_token_in(mail);
  ASSERT_EQ(token.size(), 43u);
  EXPECT_NE(token, inv.token);
  // At rest only hashes: the mailed token's in mail_token_hash.
  EXPECT_EQ(db_text("SELECT id FROM invitations WHERE mail_token_hash = :h", sha256_hex(token)),
            inv.id);
  EXPECT_EQ(db_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE CAST(params AS TEXT) LIKE :p",
                    "%" + token + "%"),
            "0");

  // A second delivery sends nothing more.
  sink.deliver();
  EXPECT_EQ(sink.messages_to(email).size(), 1u);

  // The link works: the lookup, then the accept.
  HttpResponse seen = lookup(token);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(std::string(parse(seen)["email"].GetString()), email);
  HttpResponse joined = accept(token);
  ASSERT_EQ(joined.status, 201) << joined.body;
  // Accepted: both copies are spent.
  EXPECT_EQ(code_of(lookup(token)), "invalid_token");
  EXPECT_EQ(code_of(lookup(inv.token)), "invalid_token");

  // Neither token in nginx's access log, the server's log or the deliverer's output.
  std::string access = mail_sink::read_all(env_of("PORTCULLIS_TEST_DIR") + "/nginx/access.log");
  std::string server = mail_sink::read_all(env_of("PORTCULLIS_TEST_LOG"));
  ASSERT_FALSE(access.empty());
  for (const std::string& t : {token, inv.token}) {
    EXPECT_THAT(access, Not(HasSubstr(t)));
    EXPECT_THAT(server, Not(HasSubstr(t)));
    EXPECT_THAT(delivered, Not(HasSubstr(t)));
  }
}

TEST_F(AccountStatesTest, RevokingAnInvitationKillsTheMailedLinkToo) {
  SmtpSink sink;
  Registered owner = register_tenant("mail-revoke");
  Browser admin = login(owner.email);
  const std::string email = unique_email("mailed-revoked");
  Invitation inv = invite(admin, email, "member");
  sink.deliver();
  std::vector<std::string> mails = sink.messages_to(email);
  ASSERT_EQ(mails.size(), 1u);
  std::string token = join_token_in(mails[0]);
  ASSERT_EQ(lookup(token).status, 200);
  ASSERT_EQ(admin.call("DELETE", "/api/v1/members/invitations/" + inv.id).status, 200);
  EXPECT_EQ(code_of(lookup(token)), "invalid_token");
  EXPECT_EQ(code_of(accept(token)), "validation_failed");

  // Revoked before delivery: no mail at all.
  const std::string late = unique_email("never-mailed");
  Invitation gone = invite(admin, late, "member");
  ASSERT_EQ(admin.call("DELETE", "/api/v1/members/invitations/" + gone.id).status, 200);
  sink.deliver();
  EXPECT_EQ(sink.messages_to(late).size(), 0u);
}

// ---- item 6: one-pass validation and the policy ------------------------------------------------

TEST_F(AccountStatesTest, RegisterReportsEveryFieldErrorAtOnce) {
  const std::string long_name(101, 'n');
  HttpResponse r =
      post_json("/api/v1/auth/register", R"({"tenant_name":")" + long_name +
                                             R"(","email":"not-an-address","password":"short",)"
                                             R"("display_name":")" +
                                             long_name + "\"}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(code_of(r), "validation_failed");
  EXPECT_THAT(fields_of(r),
              ::testing::UnorderedElementsAre("tenant_name", "email", "password", "display_name"));
  EXPECT_EQ(field_message(r, "password"), "must be at least 15 characters");
}

TEST_F(AccountStatesTest, MemoryCreateReportsEveryFieldErrorAtOnce) {
  Registered owner = register_tenant("onepass");
  Browser b = login(owner.email);
  std::string tags;
  for (int i = 0; i < 21; ++i) {
    tags += (i ? "," : "") + std::string("\"t") + std::to_string(i) + "\"";
  }
  HttpResponse r = b.call("POST", "/api/v1/memories",
                          R"({"title":")" + std::string(201, 't') + R"(","tags":[)" + tags +
                              R"(],"context_id":"not-a-context"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(code_of(r), "validation_failed");
  EXPECT_THAT(fields_of(r), ::testing::UnorderedElementsAre("title", "tags", "context_id"));
}

TEST_F(AccountStatesTest, PolicyServesTheValidatorsNumbers) {
  HttpResponse r = get("/api/v1/policy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("cache-control"), "public, max-age=300");
  EXPECT_FALSE(r.has_header("set-cookie"));
  rapidjson::Document d = parse(r);
  ASSERT_TRUE(d.IsObject());
  std::vector<std::string> keys;
  for (const auto& m : d.GetObject()) {
    keys.emplace_back(m.name.GetString());
  }
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("password", "email", "display_name",
                                                    "tenant_name", "memory", "context"));
  const int min = d["password"]["min_length"].GetInt();
  EXPECT_EQ(d["password"]["max_length"].GetInt(), 128);
  EXPECT_EQ(d["email"]["max_length"].GetInt(), 254);
  EXPECT_EQ(d["memory"]["title_max_length"].GetInt(), 200);
  EXPECT_EQ(d["memory"]["content_max_bytes"].GetInt(), 32768);
  EXPECT_EQ(d["memory"]["max_tags"].GetInt(), 20);
  EXPECT_EQ(d["memory"]["tag_max_length"].GetInt(), 40);
  const int name_max = d["display_name"]["max_length"].GetInt();
  const int tenant_max = d["tenant_name"]["max_length"].GetInt();
  const int context_max = d["context"]["name_max_length"].GetInt();

  // The numbers are the validators': one below fails, the limit passes.
  auto register_with = [](const std::string& password, const std::string& name,
                          const std::string& tenant) {
    return post_json("/api/v1/auth/register",
                     R"({"tenant_name":")" + tenant + R"(","email":")" + unique_email("policy") +
                         R"(","password":")" + password + R"(","display_name":")" + name + "\"}");
  };
  std::string at_min = "kettle-oboe-91x";
  ASSERT_EQ(static_cast<int>(at_min.size()), min);
  HttpResponse short_pw = register_with(at_min.substr(1), "Pat", "Org policy");
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_THAT(fields_of(short_pw), ::testing::ElementsAre("password"));
  HttpResponse long_names =
      register_with(at_min, std::string(name_max + 1, 'p'), std::string(tenant_max + 1, 'o'));
  EXPECT_THAT(fields_of(long_names),
              ::testing::UnorderedElementsAre("display_name", "tenant_name"));
  HttpResponse fits =
      register_with(at_min, std::string(name_max, 'p'), "Org " + std::string(tenant_max - 4, 'o'));
  EXPECT_EQ(fits.status, 201) << fits.body;

  Registered owner = register_tenant("policy-ctx");
  Browser b = login(owner.email);
  EXPECT_EQ(
      b.call("POST", "/api/v1/contexts", R"({"name":")" + std::string(context_max + 1, 'c') + "\"}")
          .status,
      400);
  EXPECT_EQ(
      b.call("POST", "/api/v1/contexts", R"({"name":")" + std::string(context_max, 'c') + "\"}")
          .status,
      201);
  EXPECT_EQ(
      b.call("POST", "/api/v1/memories", R"({"title":")" + std::string(201, 't') + "\"}").status,
      400);
  EXPECT_EQ(
      b.call("POST", "/api/v1/memories", R"({"title":")" + std::string(200, 't') + "\"}").status,
      201);
}

TEST_F(AccountStatesTest, AUTH9_ANewPasswordEqualToTheCurrentOneIsRefusedAndCountsNothing) {
  Registered owner = register_tenant("samepw");
  Browser b = login(owner.email);
  const std::string same = R"({"current_password":")" + std::string(kPassword) +
                           R"(","new_password":")" + std::string(kPassword) + "\"}";
  // More times than the lockout threshold: never a 429.
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = b.call("POST", "/api/v1/me/password", same);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(code_of(r), "validation_failed");
    EXPECT_EQ(field_message(r, "new_password"), "must differ from the current password");
  }
  // Policy and the missing field in one answer.
  HttpResponse both = b.call("POST", "/api/v1/me/password", R"({"new_password":"short"})");
  EXPECT_THAT(fields_of(both), ::testing::UnorderedElementsAre("current_password", "new_password"));

  // The reset: the same refusal, and the token stays usable.
  SmtpSink sink;
  ASSERT_EQ(post_json("/api/v1/auth/password/forgot", R"({"email":")" + owner.email + "\"}").status,
            202);
  sink.deliver();
  std::vector<std::string> mails = recovery_mail::reset_mails(sink.messages_to(owner.email));
  ASSERT_EQ(mails.size(), 1u);
  std::string token = recovery_mail::reset_token_in(mails[0]);
  HttpResponse refused =
      post_json("/api/v1/auth/password/reset",
                R"({"token":")" + token + R"(","new_password":")" + std::string(kPassword) + "\"}");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(field_message(refused, "new_password"), "must differ from the current password");
  HttpResponse reset =
      post_json("/api/v1/auth/password/reset",
                R"({"token":")" + token + R"(","new_password":"another fine passphrase 88"})");
  EXPECT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(login_raw(owner.email, "another fine passphrase 88").status, 200);
}

}  // namespace
}  // namespace portcullis::testing
