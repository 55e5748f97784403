#include "app/auth/email_change.h"

#include <initializer_list>
#include <map>
#include <utility>
#include <vector>

#include "app/auth/account.h"
#include "app/auth/notify.h"
#include "app/auth/recovery.h"
#include "app/auth/sessions.h"
#include "app/db/time.h"
#include "app/store/audit.h"
#include "app/store/members.h"
#include "app/store/tokens.h"

namespace portcullis::email_change {
namespace {

// Mail kinds (template names).
constexpr const char* kConfirmMail = "email_change_confirm";
constexpr const char* kRequestedMail = "email_change_requested";
constexpr const char* kCompletedMail = "email_change_completed";
constexpr const char* kLinklessNoticeMail = "email_change_notice";
constexpr const char* kRevertedMail = "email_change_reverted";
constexpr const char* kRevertedOwnerMail = "email_change_reverted_owner";

std::string greeting(const std::string& display_name, const std::string& address) {
  return display_name.empty() ? address : display_name;
}

// The token stored under the keyed hash of `token` for `purpose`: the newest
// of its user, unused and unexpired at `now`, and about an address.
std::optional<store::tokens::FoundToken> live_token(
    Db& db, const std::string& key, const std::string& token, const char* purpose, int64_t now) {
  std::optional<store::tokens::FoundToken> found =
      recovery::find_live_token(db, key, token, purpose, now);
  if (!found || found->email.empty()) {
    return std::nullopt;
  }
  return found;
}

// A mail to the notice row's recipient: the row's params, the greeting.
store::outbox::OutboxMail mail_for(const store::outbox::OutboxMail& row, const Account& a) {
  store::outbox::OutboxMail mail;
  mail.to_address = row.to_address;
  mail.to_name = a.display_name;
  mail.params = row.params;
  mail.params["name"] = greeting(a.display_name, row.to_address);
  mail.tenant_id = a.tenant_id;
  mail.user_id = a.user_id;
  return mail;
}

}  // namespace

std::string mask_email(const std::string& email) {
  size_t at = email.rfind('@');
  if (at == std::string::npos) {
    return "***";
  }
  std::string first = at == 0 ? "" : email.substr(0, 1);
  return first + "***" + email.substr(at);
}

void enqueue_request(TenantTx& tx, const Account& a, const std::string& new_email, int64_t now) {
  std::string when = notice_time(now);
  store::outbox::OutboxMail request;
  request.kind = kRequestKind;
  request.to_address = new_email;
  request.to_name = a.display_name;
  request.params = {{"time", when}};
  request.tenant_id = a.tenant_id;
  request.user_id = a.user_id;
  store::outbox::enqueue(tx.tx(), request);
  // To the address the account has now: it is the one a revert restores.
  // Not through notify_user()'s hourly cap: it carries the only undo link,
  // and the requests are capped per account by the handler.
  store::outbox::OutboxMail notice;
  notice.kind = kNoticeRequestKind;
  notice.to_address = a.email;
  notice.to_name = a.display_name;
  notice.params = {{"time", when}, {"new_email", mask_email(new_email)}};
  notice.tenant_id = a.tenant_id;
  notice.user_id = a.user_id;
  store::outbox::enqueue(tx.tx(), notice);
}

bool resolves(const std::string& kind) {
  return kind == kRequestKind || kind == kNoticeRequestKind || kind == kCompletedRequestKind;
}

std::optional<store::outbox::OutboxMail> resolve(Db& db,
                                                 const std::string& key,
                                                 const store::outbox::OutboxMail& row,
                                                 int64_t now) {
  if (row.tenant_id.empty() || row.user_id.empty() || !valid_email(row.to_address)) {
    return std::nullopt;
  }
  const bool request = row.kind == kRequestKind;
  // The requester never learns whether the address was taken: the answer
  // was the same; here the confirmation is simply not sent.
  if (request && email_taken(db, row.to_address)) {
    return std::nullopt;
  }
  TenantTx tx(db, row.tenant_id);
  std::optional<Account> a = find_account_by_id(tx, row.user_id);
  if (!a) {
    return std::nullopt;
  }
  store::outbox::OutboxMail mail = mail_for(row, *a);
  if (request) {
    if (a->disabled || a->email == row.to_address) {
      return std::nullopt;  // locked meanwhile, or nothing to change
    }
    const std::string token = recovery::mint_token(tx, key, a->user_id, kChangePurpose,
                                                   kConfirmTtlMs, now, row.to_address);
    mail.kind = kConfirmMail;
    mail.params["token"] = token;
    tx.commit();
    return mail;
  }
  const bool completed = row.kind == kCompletedRequestKind;
  // A live revert link for another address guards that address (it was
  // changed within the revert window): a newer token would void it, so this
  // notice goes without a link (see the header).
  std::optional<store::tokens::FoundToken> live =
      store::tokens::newest_unused(tx, a->user_id, kRevertPurpose);
  if (live && parse_time_ms(live->expires_at).value_or(0) > now && live->email != row.to_address) {
    mail.kind = kLinklessNoticeMail;
    mail.params["event"] = completed ? "the e-mail address of your portcullis account was changed"
                                     : "someone asked to change the e-mail address of your "
                                       "portcullis account";
    tx.commit();
    return mail;
  }
  const std::string token =
      recovery::mint_token(tx, key, a->user_id, kRevertPurpose, kRevertTtlMs, now, row.to_address);
  mail.kind = completed ? kCompletedMail : kRequestedMail;
  mail.params["token"] = token;
  tx.commit();
  return mail;
}

Confirmed confirm(Db& db,
                  Audit& audit,
                  const std::string& key,
                  const std::string& token,
                  AuditEvent event,
                  int64_t now) {
  Confirmed out;
  std::optional<store::tokens::FoundToken> found = live_token(db, key, token, kChangePurpose, now);
  if (!found) {
    return out;
  }
  out.tenant_id = found->tenant_id;
  out.user_id = found->user_id;
  TenantTx tx(db, found->tenant_id);
  std::optional<Account> a = find_account_by_id(tx, found->user_id);
  if (!a || a->disabled) {
    return out;
  }
  // Spent first: of two parallel confirms, the second finds it used (its
  // UPDATE waits for the first's row lock on PostgreSQL, for the write lock
  // on SQLite) and changes nothing.
  if (!store::tokens::consume(tx, found->id, a->user_id, now)) {
    return out;
  }
  if (!store::accounts::set_email(tx, a->user_id, found->email, now)) {
    out.outcome = ConfirmOutcome::kTaken;
    return out;  // rolled back: the token stays unspent, nothing changed
  }
  store::tokens::void_unused(tx, a->user_id, kChangePurpose, now);
  // The address is the way back into the account: reset links mailed to the
  // old one die with it.
  recovery::void_reset_tokens(tx, a->user_id, now);
  store::outbox::OutboxMail notice;
  notice.kind = kCompletedRequestKind;
  notice.to_address = a->email;
  notice.to_name = a->display_name;
  notice.params = {{"time", notice_time(now)}, {"new_email", mask_email(found->email)}};
  notice.tenant_id = a->tenant_id;
  notice.user_id = a->user_id;
  store::outbox::enqueue(tx.tx(), notice);
  event.tenant_id = a->tenant_id;
  event.user_id = a->user_id;
  event.target_type = "user";
  event.target_id = a->user_id;
  event.details = {{"old_email", a->email}, {"new_email", found->email}};
  store::audit::record(audit, db, event);
  tx.commit();
  out.outcome = ConfirmOutcome::kChanged;
  out.new_email = found->email;
  return out;
}

Reverted revert(Db& db,
                Audit& audit,
                const std::string& key,
                int notify_max_per_hour,
                const std::string& token,
                AuditEvent event,
                int64_t now) {
  Reverted out;
  std::optional<store::tokens::FoundToken> found = live_token(db, key, token, kRevertPurpose, now);
  if (!found) {
    return out;
  }
  out.tenant_id = found->tenant_id;
  out.user_id = found->user_id;
  // First with the address put back; if another account holds it by now
  // (a constraint violation, which on PostgreSQL ends the transaction), once
  // more keeping the current address: the account is locked either way.
  for (bool restore_wanted : {true, false}) {
    TenantTx tx(db, found->tenant_id);
    std::optional<Account> a = find_account_by_id(tx, found->user_id);
    if (!a || !store::tokens::consume(tx, found->id, a->user_id, now)) {
      return out;
    }
    const bool restore = restore_wanted && a->email != found->email;
    if (restore && !store::accounts::set_email(tx, a->user_id, found->email, now)) {
      continue;
    }
    const std::string address = restore ? found->email : a->email;
    // Locked: suspended like an admin's suspension, so that only an owner or
    // admin (PATCH /api/v1/members/{id}) or the CLI (`portcullis user
    // enable`) reopens it, after making sure who holds it.
    store::members::set_disabled(tx, a->user_id, true, format_time_ms(now));
    store::tokens::void_unused(tx, a->user_id, kChangePurpose, now);
    store::tokens::void_unused(tx, a->user_id, kRevertPurpose, now);
    recovery::void_reset_tokens(tx, a->user_id, now);
    long revoked = delete_user_sessions(tx, a->user_id, "");
    std::string when = notice_time(now);
    (void)notify_user(tx.tx(), notify_max_per_hour,
                      {a->tenant_id, a->user_id, address, a->display_name}, kRevertedMail,
                      {{"time", when}}, now);
    // Every active owner (the account itself is suspended by now, so an owner
    // who reverts is not among them).
    int owners = 0;
    for (const store::members::Member& o : store::members::active_owner_list(tx)) {
      (void)notify_user(tx.tx(), notify_max_per_hour, {a->tenant_id, o.id, o.email, o.display_name},
                        kRevertedOwnerMail,
                        {{"time", when},
                         {"member", greeting(a->display_name, address)},
                         {"member_email", address}},
                        now);
      ++owners;
    }
    event.tenant_id = a->tenant_id;
    event.user_id = a->user_id;
    event.target_type = "user";
    event.target_id = a->user_id;
    event.details = {{"address_restored", restore ? "true" : "false"},
                     {"sessions_revoked", std::to_string(revoked)},
                     {"owners_notified", std::to_string(owners)}};
    store::audit::record(audit, db, event);
    tx.commit();
    out.outcome = RevertOutcome::kReverted;
    out.address_restored = restore;
    out.sessions_revoked = revoked;
    return out;
  }
  return out;
}

}  // namespace portcullis::email_change
