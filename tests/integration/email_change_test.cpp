// Change of e-mail address through nginx (SECURITY-BAR REC-5, MFA-7, LOG-1),
// on SQLite and PostgreSQL: the request needs recent authentication and
// answers the same for a free and a taken address; the deliverer mints the
// tokens and mails them (real loopback SMTP, smtp_sink.py); the confirm link
// changes the address once; the "this wasn't me" link puts the old address
// back, locks the account, ends its sessions and tells the tenant's owners.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/time.h"

#include "tests/integration/auth_client.h"
#include "tests/integration/email_change_mail.h"
#include "tests/integration/http_client.h"
#include "tests/integration/mail_sink.h"
#include "tests/integration/recovery_mail.h"

namespace portcullis::testing {
namespace {

using email_change_mail::kConfirmLink;
using email_change_mail::kConfirmSubject;
using email_change_mail::kRequestedSubject;
using email_change_mail::kRevertLink;
using email_change_mail::token_after;
using mail_sink::SmtpSink;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCompletedSubject = "Your portcullis e-mail address was changed";
constexpr const char* kLinklessSubject = "Your portcullis e-mail address is changing";
constexpr const char* kLockedSubject = "Your portcullis account was locked";
constexpr const char* kOwnerSubject = "A portcullis account of your organisation was locked";

HttpResponse request_change(const Browser& b, const std::string& new_email) {
  return b.call("POST", "/api/v1/me/email", R"({"new_email":")" + new_email + "\"}");
}
HttpResponse confirm(const std::string& token) {
  return post_json("/api/v1/auth/email/change/confirm", R"({"token":")" + token + "\"}");
}
HttpResponse revert(const std::string& token) {
  return post_json("/api/v1/auth/email/change/revert", R"({"token":")" + token + "\"}");
}

// The token of a mail with `subject` to `address` and `link` that no
// earlier call returned (the sink's files come in no promised order).
std::string newest_token(const SmtpSink& sink,
                         const std::string& address,
                         const std::string& subject,
                         const std::string& link) {
  std::vector<std::string> mails = sink.messages_to(address, subject);
  static std::vector<std::string> seen;
  for (const std::string& m : mails) {
    std::string t = token_after(m, link);
    if (!t.empty() && std::find(seen.begin(), seen.end(), t) == seen.end()) {
      seen.push_back(t);
      return t;
    }
  }
  return "";
}

std::string count_rows(const std::string& sql, const std::string& param) {
  return db_text("SELECT CAST(COUNT(*) AS TEXT) FROM " + sql, param);
}

std::string email_of(const std::string& user_id) {
  return db_text("SELECT email FROM users WHERE CAST(id AS TEXT) = :u", user_id);
}

// A member of `owner`'s tenant with `role`, joined by invitation, logged in.
struct Member {
  std::string email;
  std::string id;
  Browser browser;
};
Member join(const Browser& owner, const std::string& tag, const std::string& role) {
  Member m;
  m.email = unique_email(tag);
  HttpResponse inv = owner.call("POST", "/api/v1/members/invitations",
                                R"({"email":")" + m.email + R"(","role":")" + role + "\"}");
  EXPECT_EQ(inv.status, 201) << inv.body;
  std::string token = parse(inv)["token"].GetString();
  HttpResponse reg = post_json("/api/v1/auth/register",
                               R"({"email":")" + m.email + R"(","password":")" + kPassword +
                                   R"(","display_name":"Joiner","invite_token":")" + token + "\"}");
  EXPECT_EQ(reg.status, 201) << reg.body;
  m.id = db_text("SELECT CAST(id AS TEXT) FROM users WHERE email = :e", m.email);
  m.browser = login(m.email);
  return m;
}

// Everything the database holds in these tables, as text.
std::string dump(const std::string& table) {
  const std::string url = mail_sink::env_of("PORTCULLIS_TEST_DB_URL");
  return mail_sink::shell_output(
      is_postgres()
          ? "psql -X -At \"" + url + "\" -c 'SELECT CAST(t AS TEXT) FROM " + table + " t' 2>&1"
          : "sqlite3 \"" + url.substr(std::string("sqlite://").size()) + "\" '.dump " + table +
                "' 2>&1");
}

class EmailChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db() << "DELETE FROM auth_throttle WHERE key LIKE 'ip:%' OR key LIKE 'email-change:%'";
  }
};

// MFA-7: a session without recent authentication is refused; bad bodies are
// 400 with the envelope, the caller's own address included.
TEST_F(EmailChangeTest, MFA7_WithoutRecentAuthIs403AndBadBodiesAre400) {
  Registered who = register_tenant("ec-bad");
  Browser b = login(who.email);
  std::string stale = format_time_ms(now_ms() - 16 * 60000);
  db() << "UPDATE sessions SET reauthenticated_at = :s WHERE user_id = :u", soci::use(stale),
      soci::use(who.user_id);
  HttpResponse denied = request_change(b, unique_email("ec-bad-new"));
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(code_of(denied), "step_up_required");
  EXPECT_EQ(count_rows("outbox WHERE user_id = :u", who.user_id), "0");

  Browser fresh = login(who.email);
  for (const std::string& body :
       {std::string(R"({})"), std::string(R"({"new_email":42})"),
        std::string(R"({"new_email":"not-an-address"})"),
        std::string(R"({"new_email":"a@b.test","extra":1})"), std::string(R"([1])"),
        R"({"new_email":")" + who.email + "\"}",
        R"({"new_email":"  )" + std::string(1, static_cast<char>(std::toupper(who.email[0]))) +
            who.email.substr(1) + "\"}"}) {
    HttpResponse r = fresh.call("POST", "/api/v1/me/email", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_FALSE(code_of(r).empty()) << body;
  }
  HttpResponse own = request_change(fresh, who.email);
  EXPECT_EQ(code_of(own), "validation_failed");
  EXPECT_THAT(own.body, HasSubstr("\"new_email\""));
  for (const char* path :
       {"/api/v1/auth/email/change/confirm", "/api/v1/auth/email/change/revert"}) {
    for (const char* body : {R"({})", R"({"token":1})", R"({"token":"x","user_id":"y"})"}) {
      HttpResponse r = post_json(path, body);
      EXPECT_EQ(r.status, 400) << path << " " << body << " " << r.body;
      EXPECT_FALSE(code_of(r).empty()) << body;
    }
  }
  EXPECT_EQ(count_rows("outbox WHERE user_id = :u", who.user_id), "0");
}

// REC-5 / AUTH-5: a free and a taken new address get the same answer and
// the same work; only the free one gets a confirmation; the current address
// gets the notice (with its undo link and the new address masked) both times.
TEST_F(EmailChangeTest, REC5_FreeAndTakenAddressesGetTheSameAnswer) {
  SmtpSink sink;
  Registered who = register_tenant("ec-same");
  Registered other = register_tenant("ec-taken");
  std::string free_address = unique_email("ec-free");
  Browser b = login(who.email);
  HttpResponse a = request_change(b, free_address);
  HttpResponse t = request_change(b, other.email);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(t.status, 202) << t.body;
  EXPECT_EQ(a.body, t.body);
  EXPECT_EQ(audit_count(a.header("x-request-id"), "user.email_change_requested"), 1);
  EXPECT_EQ(audit_count(t.header("x-request-id"), "user.email_change_requested"), 1);
  for (const std::string& to : {free_address, other.email}) {
    EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_request' AND to_address = :a", to),
              "1");
  }
  EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_notice_request' AND to_address = :a",
                       who.email),
            "2");
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u", who.user_id), "0");  // none yet

  std::string out = sink.deliver();
  std::vector<std::string> confirms = sink.messages_to(free_address, kConfirmSubject);
  ASSERT_EQ(confirms.size(), 1u) << out;
  EXPECT_FALSE(token_after(confirms[0], kConfirmLink).empty());
  EXPECT_TRUE(sink.messages_to(other.email).empty());
  EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_request' AND to_address = :a AND "
                       "status = 'dropped'",
                       other.email),
            "1");
  std::vector<std::string> notices = sink.messages_to(who.email, kRequestedSubject);
  ASSERT_EQ(notices.size(), 2u) << out;
  for (const std::string& n : notices) {
    EXPECT_FALSE(token_after(n, kRevertLink).empty());
    EXPECT_THAT(n, HasSubstr(" UTC"));
    EXPECT_THAT(n, Not(HasSubstr(free_address)));
    EXPECT_THAT(n, Not(HasSubstr(other.email)));
  }
  bool masked_free = false, masked_taken = false;
  for (const std::string& n : notices) {
    masked_free |= n.find(free_address.substr(0, 1) + "***" +
                          free_address.substr(free_address.find('@'))) != std::string::npos;
    masked_taken |= n.find(other.email.substr(0, 1) + "***" +
                           other.email.substr(other.email.find('@'))) != std::string::npos;
  }
  EXPECT_TRUE(masked_free);
  EXPECT_TRUE(masked_taken);
  // Nothing changed before a confirmation.
  EXPECT_EQ(email_of(who.user_id), who.email);
}

// REC-5: the confirmation changes the address once; sign-in and password
// reset follow the new address; the old address gets the "completed" notice
// with a fresh undo link; the database holds only keyed hashes of tokens.
TEST_F(EmailChangeTest, REC5_ConfirmChangesTheAddressOnceAndTellsTheOldAddress) {
  SmtpSink sink;
  Registered who = register_tenant("ec-confirm");
  std::string fresh_address = unique_email("ec-confirm-new");
  Browser b = login(who.email);
  ASSERT_EQ(request_change(b, fresh_address).status, 202);
  sink.deliver();
  std::string token = newest_token(sink, fresh_address, kConfirmSubject, kConfirmLink);
  ASSERT_EQ(token.size(), 43u);
  std::string stored =
      db_text("SELECT token_hash FROM user_tokens WHERE user_id = :u AND purpose = 'email_change'",
              who.user_id);
  EXPECT_EQ(stored.size(), 64u);
  EXPECT_NE(stored, sha256_hex(token));
  EXPECT_EQ(db_text("SELECT email FROM user_tokens WHERE user_id = :u AND purpose = "
                    "'email_change'",
                    who.user_id),
            fresh_address);

  HttpResponse ok = confirm(token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(parse(ok)["email"].GetString(), fresh_address);
  EXPECT_FALSE(ok.has_header("set-cookie"));
  EXPECT_EQ(audit_count(ok.header("x-request-id"), "user.email_changed"), 1);
  EXPECT_EQ(email_of(who.user_id), fresh_address);
  EXPECT_EQ(db_text("SELECT CASE WHEN email_verified_at IS NULL THEN 'no' ELSE 'yes' END FROM "
                    "users WHERE email = :e",
                    fresh_address),
            "yes");

  // Once only.
  HttpResponse again = confirm(token);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(code_of(again), "invalid_token");

  // Sign-in follows the address; the session that asked lives on.
  EXPECT_EQ(login_raw(who.email, kPassword).status, 401);
  HttpResponse in = login_raw(fresh_address, kPassword);
  ASSERT_EQ(in.status, 200) << in.body;
  HttpResponse me = browser_from(in).call("GET", "/api/v1/me");
  EXPECT_THAT(me.body, HasSubstr("\"email\":\"" + fresh_address + "\""));
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 200);

  // The old address: the completed notice with its own undo link.
  sink.deliver();
  std::vector<std::string> completed = sink.messages_to(who.email, kCompletedSubject);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_FALSE(token_after(completed[0], kRevertLink).empty());

  // A password reset goes to the new address, and none to the old.
  db() << "DELETE FROM auth_throttle WHERE key LIKE 'reset-%'";
  ASSERT_EQ(
      post_json("/api/v1/auth/password/forgot", R"({"email":")" + fresh_address + "\"}").status,
      202);
  ASSERT_EQ(post_json("/api/v1/auth/password/forgot", R"({"email":")" + who.email + "\"}").status,
            202);
  sink.deliver();
  EXPECT_EQ(recovery_mail::reset_mails(sink.messages_to(fresh_address)).size(), 1u);
  EXPECT_TRUE(recovery_mail::reset_mails(sink.messages_to(who.email)).empty());

  // No raw token anywhere in the database.
  for (const std::string table : {"user_tokens", "outbox", "audit_events"}) {
    EXPECT_THAT(dump(table), Not(HasSubstr(token))) << table;
  }
}

// REC-5 / REC-2: an older token, an expired one, a made-up one fail alike;
// a token changes only its own user's address.
TEST_F(EmailChangeTest, REC5_OlderExpiredAndUnknownTokensFailAndTokensAreBoundToTheirUser) {
  SmtpSink sink;
  Registered who = register_tenant("ec-older");
  Registered bystander = register_tenant("ec-bystander");
  Browser b = login(who.email);
  std::string first_address = unique_email("ec-older-1");
  std::string second_address = unique_email("ec-older-2");
  ASSERT_EQ(request_change(b, first_address).status, 202);
  sink.deliver();
  ASSERT_EQ(request_change(b, second_address).status, 202);
  sink.deliver();
  std::string first = newest_token(sink, first_address, kConfirmSubject, kConfirmLink);
  std::string second = newest_token(sink, second_address, kConfirmSubject, kConfirmLink);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());

  HttpResponse older = confirm(first);
  EXPECT_EQ(older.status, 400);
  EXPECT_EQ(code_of(older), "invalid_token");
  HttpResponse bogus = confirm(base64url_encode(random_bytes(32)));
  EXPECT_EQ(bogus.status, 400);
  EXPECT_EQ(code_of(bogus), "invalid_token");
  // A revert token is no confirmation token (and the other way round).
  std::string undo = newest_token(sink, who.email, kRequestedSubject, kRevertLink);
  ASSERT_FALSE(undo.empty());
  EXPECT_EQ(confirm(undo).status, 400);
  EXPECT_EQ(revert(second).status, 400);

  // Expired: the newest, a day on.
  db() << (is_postgres() ? "UPDATE user_tokens SET expires_at = now() - interval '1 minute' "
                           "WHERE user_id = CAST(:u AS uuid) AND purpose = 'email_change'"
                         : "UPDATE user_tokens SET expires_at = '2000-01-01T00:00:00.000Z' "
                           "WHERE user_id = :u AND purpose = 'email_change'"),
      soci::use(who.user_id);
  HttpResponse expired = confirm(second);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(code_of(expired), "invalid_token");
  EXPECT_EQ(email_of(who.user_id), who.email);

  // The bystander's own change: its token changes the bystander only.
  Browser by = login(bystander.email);
  std::string by_address = unique_email("ec-bystander-new");
  ASSERT_EQ(request_change(by, by_address).status, 202);
  sink.deliver();
  std::string by_token = newest_token(sink, by_address, kConfirmSubject, kConfirmLink);
  ASSERT_EQ(confirm(by_token).status, 200);
  EXPECT_EQ(email_of(bystander.user_id), by_address);
  EXPECT_EQ(email_of(who.user_id), who.email);
}

// REC-5 (P5): parallel confirmations of one token: exactly one 200, no 5xx.
TEST_F(EmailChangeTest, REC5_ParallelConfirmsOfOneTokenGiveExactlyOne200) {
  SmtpSink sink;
  Registered who = register_tenant("ec-race");
  Browser b = login(who.email);
  std::string fresh_address = unique_email("ec-race-new");
  ASSERT_EQ(request_change(b, fresh_address).status, 202);
  sink.deliver();
  std::string token = newest_token(sink, fresh_address, kConfirmSubject, kConfirmLink);
  ASSERT_FALSE(token.empty());
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      HttpResponse r = confirm(token);
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 400 && code_of(r) == "invalid_token") {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(email_of(who.user_id), fresh_address);
  EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_completed_request' AND user_id = :u",
                       who.user_id),
            "1");
}

// REC-5: an address taken between the request and the confirmation is 409
// email_taken, and nothing changes (the token stays unspent).
TEST_F(EmailChangeTest, REC5_AddressTakenMeanwhileIs409AndChangesNothing) {
  SmtpSink sink;
  Registered who = register_tenant("ec-meanwhile");
  Registered rival = register_tenant("ec-rival");
  Browser b = login(who.email);
  std::string wanted = unique_email("ec-wanted");
  ASSERT_EQ(request_change(b, wanted).status, 202);
  sink.deliver();
  std::string token = newest_token(sink, wanted, kConfirmSubject, kConfirmLink);
  ASSERT_FALSE(token.empty());
  db() << "UPDATE users SET email = :e WHERE email = :r", soci::use(wanted), soci::use(rival.email);
  HttpResponse r = confirm(token);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(code_of(r), "email_taken");
  EXPECT_EQ(email_of(who.user_id), who.email);
  EXPECT_EQ(count_rows("user_tokens WHERE user_id = :u AND purpose = 'email_change' AND used_at "
                       "IS NULL",
                       who.user_id),
            "1");
  EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_completed_request' AND user_id = :u",
                       who.user_id),
            "0");
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);
}

// REC-5, SESS-7: "this wasn't me" after a completed change: the old address
// is back, the account is locked (sign-in refused, old sessions 401), every
// owner is told, and a later notice to the taken-over address carries no link
// that could void the rightful one. No mail holds a token outside its link,
// a password or a session token; the database holds only hashes.
TEST_F(EmailChangeTest, REC5_RevertRestoresTheAddressLocksTheAccountAndTellsEveryOwner) {
  SmtpSink sink;
  Registered owner = register_tenant("ec-owner");
  Browser ob = login(owner.email);
  Member second_owner = join(ob, "ec-owner-2", "owner");
  Member victim = join(ob, "ec-victim", "member");
  Browser other_session = login(victim.email);
  std::string taken_over = unique_email("ec-intruder");

  ASSERT_EQ(request_change(victim.browser, taken_over).status, 202);
  sink.deliver();
  std::string first_undo = newest_token(sink, victim.email, kRequestedSubject, kRevertLink);
  std::string confirm_token = newest_token(sink, taken_over, kConfirmSubject, kConfirmLink);
  ASSERT_FALSE(first_undo.empty());
  ASSERT_EQ(confirm(confirm_token).status, 200);
  sink.deliver();
  std::string undo = newest_token(sink, victim.email, kCompletedSubject, kRevertLink);
  ASSERT_FALSE(undo.empty());

  // The intruder changes the address once more: the notice to the address
  // they hold has no link, and the rightful owner's link keeps working.
  ASSERT_EQ(request_change(victim.browser, unique_email("ec-intruder-2")).status, 202);
  sink.deliver();
  std::vector<std::string> linkless = sink.messages_to(taken_over, kLinklessSubject);
  ASSERT_EQ(linkless.size(), 1u);
  EXPECT_THAT(linkless[0], Not(HasSubstr("token=")));

  HttpResponse older = revert(first_undo);  // not the newest: refused
  EXPECT_EQ(older.status, 400);
  EXPECT_EQ(code_of(older), "invalid_token");

  HttpResponse done = revert(undo);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_THAT(done.body, HasSubstr("\"reverted\":true"));
  EXPECT_FALSE(done.has_header("set-cookie"));
  EXPECT_EQ(audit_count(done.header("x-request-id"), "user.email_change_reverted"), 1);
  EXPECT_EQ(email_of(victim.id), victim.email);
  EXPECT_EQ(db_text("SELECT CAST(disabled AS TEXT) FROM users WHERE email = :e", victim.email),
            is_postgres() ? "true" : "1");
  EXPECT_EQ(count_rows("sessions WHERE CAST(user_id AS TEXT) = :u", victim.id), "0");
  EXPECT_EQ(
      count_rows("user_tokens WHERE CAST(user_id AS TEXT) = :u AND used_at IS NULL", victim.id),
      "0");
  EXPECT_EQ(victim.browser.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(other_session.call("GET", "/api/v1/me").status, 401);
  // Locked: the right password is told the account is suspended (no
  // session); the address that was taken over no longer names the account.
  HttpResponse locked = login_raw(victim.email, kPassword);
  EXPECT_EQ(locked.status, 403) << locked.body;
  EXPECT_EQ(code_of(locked), "account_suspended");
  EXPECT_EQ(login_raw(taken_over, kPassword).status, 401);
  EXPECT_EQ(revert(undo).status, 400);  // once only

  sink.deliver();
  EXPECT_EQ(sink.messages_to(victim.email, kLockedSubject).size(), 1u);
  for (const std::string& o : {owner.email, second_owner.email}) {
    std::vector<std::string> told = sink.messages_to(o, kOwnerSubject);
    ASSERT_EQ(told.size(), 1u) << o;
    EXPECT_THAT(told[0], HasSubstr(victim.email));
  }

  // An owner reopens it; the restored address signs in.
  HttpResponse reopen = ob.call("PATCH", "/api/v1/members/" + victim.id, R"({"disabled":false})");
  ASSERT_EQ(reopen.status, 200) << reopen.body;
  EXPECT_EQ(login_raw(victim.email, kPassword).status, 200);

  // Every token mailed appears only in its one link; no secret in any mail.
  std::vector<std::string> mails;
  for (const std::string& to : {victim.email, taken_over, owner.email, second_owner.email}) {
    for (const std::string& m : sink.messages_to(to)) {
      mails.push_back(m);
    }
  }
  ASSERT_GE(mails.size(), 7u);
  const std::vector<std::string> tokens = {first_undo, confirm_token, undo};
  for (const std::string& m : mails) {
    for (const std::string& t : tokens) {
      size_t anywhere = 0, in_links = 0;
      for (size_t at = m.find(t); at != std::string::npos; at = m.find(t, at + 1)) {
        ++anywhere;
      }
      for (const std::string& link : {std::string(kConfirmLink), std::string(kRevertLink)}) {
        for (size_t at = m.find(link + t); at != std::string::npos; at = m.find(link + t, at + 1)) {
          ++in_links;
        }
      }
      EXPECT_EQ(anywhere, in_links);
      EXPECT_LE(in_links, 2u);  // the text part and the HTML part
    }
    EXPECT_THAT(m, Not(HasSubstr(kPassword)));
    EXPECT_THAT(m, Not(HasSubstr(victim.browser.cookie)));
    EXPECT_THAT(m, Not(HasSubstr(other_session.cookie)));
  }
  for (const std::string table : {"user_tokens", "outbox", "audit_events"}) {
    std::string d = dump(table);
    for (const std::string& t : tokens) {
      EXPECT_THAT(d, Not(HasSubstr(t))) << table;
    }
  }
}

// REC-5: when another account took the old address meanwhile, the revert
// keeps the current address but still locks the account (on PostgreSQL the
// refused UPDATE ends the first transaction; the revert runs again without it).
TEST_F(EmailChangeTest, REC5_RevertToAnAddressTakenMeanwhileStillLocks) {
  SmtpSink sink;
  Registered who = register_tenant("ec-lost");
  Registered squatter = register_tenant("ec-squatter");
  Browser b = login(who.email);
  std::string moved_to = unique_email("ec-lost-new");
  ASSERT_EQ(request_change(b, moved_to).status, 202);
  sink.deliver();
  ASSERT_EQ(confirm(newest_token(sink, moved_to, kConfirmSubject, kConfirmLink)).status, 200);
  sink.deliver();
  std::string undo = newest_token(sink, who.email, kCompletedSubject, kRevertLink);
  ASSERT_FALSE(undo.empty());
  db() << "UPDATE users SET email = :e WHERE email = :s", soci::use(who.email),
      soci::use(squatter.email);

  HttpResponse r = revert(undo);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(email_of(who.user_id), moved_to);
  EXPECT_EQ(code_of(login_raw(moved_to, kPassword)), "account_suspended");
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(count_rows("audit_events WHERE event = 'user.email_change_reverted' AND "
                       "CAST(user_id AS TEXT) = :u AND outcome = 'success'",
                       who.user_id),
            "1");
  EXPECT_EQ(revert(undo).status, 400);
  // The squatter's account is untouched.
  EXPECT_EQ(email_of(squatter.user_id), who.email);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);
}

// REC-5: a revert link older than 7 days fails with the same 400 and
// changes nothing; a revert link of a request that was never confirmed
// still locks the account.
TEST_F(EmailChangeTest, REC5_RevertLinkOlderThanSevenDaysFailsAndAnUnconfirmedRequestLocks) {
  SmtpSink sink;
  Registered who = register_tenant("ec-stale");
  Browser b = login(who.email);
  ASSERT_EQ(request_change(b, unique_email("ec-stale-new")).status, 202);
  sink.deliver();
  std::string undo = newest_token(sink, who.email, kRequestedSubject, kRevertLink);
  ASSERT_FALSE(undo.empty());
  std::string past = format_time_ms(now_ms() - 60000);
  std::string created = format_time_ms(now_ms() - 7LL * 24 * 3600 * 1000 - 60000);
  db() << "UPDATE user_tokens SET expires_at = :x, created_at = :c WHERE user_id = :u AND "
          "purpose = 'email_change_revert'",
      soci::use(past), soci::use(created), soci::use(who.user_id);
  HttpResponse stale = revert(undo);
  EXPECT_EQ(stale.status, 400);
  EXPECT_EQ(code_of(stale), "invalid_token");
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 200);
  EXPECT_EQ(login_raw(who.email, kPassword).status, 200);

  std::string again = unique_email("ec-stale-again");
  ASSERT_EQ(request_change(b, again).status, 202);
  sink.deliver();
  std::string fresh_undo = newest_token(sink, who.email, kRequestedSubject, kRevertLink);
  std::string pending = newest_token(sink, again, kConfirmSubject, kConfirmLink);
  ASSERT_FALSE(fresh_undo.empty());
  ASSERT_FALSE(pending.empty());
  ASSERT_EQ(revert(fresh_undo).status, 200);
  EXPECT_EQ(email_of(who.user_id), who.email);
  EXPECT_EQ(code_of(login_raw(who.email, kPassword)), "account_suspended");
  EXPECT_EQ(b.call("GET", "/api/v1/me").status, 401);
  // The confirmation mailed before the lock no longer works.
  HttpResponse late = confirm(pending);
  EXPECT_EQ(late.status, 400);
  EXPECT_EQ(code_of(late), "invalid_token");
  EXPECT_EQ(email_of(who.user_id), who.email);
}

// RATE: at most 5 requests an hour per account; the 6th is 429 with
// Retry-After and writes nothing.
TEST_F(EmailChangeTest, RATE5_SixthRequestWithinTheHourIs429) {
  Registered who = register_tenant("ec-rate");
  Browser b = login(who.email);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(request_change(b, unique_email("ec-rate-new")).status, 202);
  }
  HttpResponse r = request_change(b, unique_email("ec-rate-new"));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(code_of(r), "rate_limited");
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(count_rows("outbox WHERE kind = 'email_change_request' AND user_id = :u", who.user_id),
            "5");
  db() << "UPDATE outbox SET status = 'dropped' WHERE user_id = :u", soci::use(who.user_id);
}

}  // namespace
}  // namespace portcullis::testing
