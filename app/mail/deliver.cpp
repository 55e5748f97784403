#include "app/mail/deliver.h"

#include <optional>
#include <stdexcept>
#include <string>

#include "app/auth/email_change.h"
#include "app/auth/email_verification.h"
#include "app/auth/recovery.h"
#include "app/auth/sessions.h"
#include "app/crypto/hash.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/log/logger.h"
#include "app/store/invitations.h"
#include "app/store/outbox.h"

namespace portcullis::mail {
namespace {

void log_row(Level level,
             const char* event,
             const char* outcome,
             const store::outbox::ClaimedMail& row,
             const std::string& error) {
  LogRecord r;
  r.event = event;
  r.outcome = outcome;
  r.tenant_id = row.mail.tenant_id;
  r.user_id = row.mail.user_id;
  r.target_type = "outbox";
  r.target_id = row.id;
  r.details = {{"kind", row.mail.kind}, {"attempts", std::to_string(row.attempts)}};
  if (!error.empty()) {
    r.details.emplace_back("error", error);
  }
  log_record(level, r);
}

// The mail a row stands for: the row itself, or for a forgot-password request
// the reset mail of the account it names (nullopt: no such account, drop).
std::optional<store::outbox::OutboxMail> resolve(Db& db,
                                                 const store::outbox::ClaimedMail& row,
                                                 const std::string& recovery_token_key) {
  if (row.mail.kind == email_verification::kRequestKind) {
    // The verification mail of the account the row names (nullopt: gone,
    // disabled or already verified, drop).
    std::optional<email_verification::MintedVerification> minted = email_verification::mint(
        db, recovery_token_key, row.mail.tenant_id, row.mail.user_id, now_ms());
    if (!minted) {
      return std::nullopt;
    }
    const Account& a = minted->account;
    store::outbox::OutboxMail mail;
    mail.kind = email_verification::kMailKind;
    mail.to_address = a.email;
    mail.to_name = a.display_name;
    mail.params = {{"name", a.display_name.empty() ? a.email : a.display_name},
                   {"token", minted->token}};
    mail.tenant_id = a.tenant_id;
    mail.user_id = a.user_id;
    return mail;
  }
  if (email_change::resolves(row.mail.kind)) {
    // A change of address: the confirmation or the notice with its token
    // (nullopt: the new address is taken, or the account is gone or locked).
    return email_change::resolve(db, recovery_token_key, row.mail, now_ms());
  }
  if (row.mail.kind == store::invitations::kRequestKind) {
    // The invitation mail: its token is minted now and only its hash kept,
    // while the invitation is still pending (nullopt: accepted, revoked or
    // expired, drop).
    auto id = row.mail.params.find("invitation_id");
    if (id == row.mail.params.end() || row.mail.tenant_id.empty()) {
      return std::nullopt;
    }
    std::string token = new_token();
    TenantTx tx(db, row.mail.tenant_id);
    std::optional<store::invitations::Invitation> invitation = store::invitations::set_mail_token(
        tx, id->second, sha256_hex(token), format_time_ms(now_ms()));
    tx.commit();
    if (!invitation) {
      return std::nullopt;
    }
    store::outbox::OutboxMail mail = row.mail;
    mail.kind = store::invitations::kMailKind;
    mail.to_address = invitation->email;
    mail.params.erase("invitation_id");
    mail.params["name"] = invitation->email;
    mail.params["token"] = token;
    return mail;
  }
  if (row.mail.kind != "password_reset_request") {
    return row.mail;
  }
  std::optional<recovery::MintedReset> minted =
      recovery::mint_password_reset(db, recovery_token_key, row.mail.to_address, now_ms());
  if (!minted) {
    return std::nullopt;
  }
  const Account& a = minted->account;
  store::outbox::OutboxMail mail;
  mail.kind = "password_reset";
  mail.to_address = a.email;
  mail.to_name = a.display_name;
  mail.params = {{"name", a.display_name.empty() ? a.email : a.display_name},
                 {"token", minted->token}};
  mail.tenant_id = a.tenant_id;
  mail.user_id = a.user_id;
  return mail;
}

}  // namespace

int64_t backoff_ms(int failed_attempts, int base_seconds) {
  constexpr int64_t kCapMs = 6LL * 3600 * 1000;
  int64_t wait = static_cast<int64_t>(base_seconds) * 1000;
  for (int i = 1; i < failed_attempts && wait < kCapMs; ++i) {
    wait *= 2;
  }
  return wait < kCapMs ? wait : kCapMs;
}

PassResult deliver_due(Db& db,
                       const Config& cfg,
                       const ComposeSettings& settings,
                       Transport& transport,
                       int limit,
                       const std::string& recovery_token_key) {
  PassResult result;
  std::vector<store::outbox::ClaimedMail> rows =
      store::outbox::claim(db, now_ms(), kLeaseMs, limit);
  result.claimed = static_cast<int>(rows.size());
  for (const store::outbox::ClaimedMail& row : rows) {
    std::optional<store::outbox::OutboxMail> mail = resolve(db, row, recovery_token_key);
    if (!mail) {
      // A forgot-password request for no (enabled) account: nothing to send.
      store::outbox::mark_dropped(db, row.id, "no account to send to");
      log_row(Level::kInfo, "mail.dropped", "success", row, "no account to send to");
      ++result.dropped;
      continue;
    }
    SendResult sent;
    std::string message_id;
    try {
      Composed message = compose(settings, row.id, *mail, now_ms());
      message_id = message.message_id;
      sent = transport.send(message, settings.from_address, mail->to_address, row.id);
    } catch (const std::invalid_argument& e) {
      // An address no header may carry: it will never be sendable.
      store::outbox::mark_dropped(db, row.id, e.what());
      log_row(Level::kWarning, "mail.dropped", "failure", row, e.what());
      ++result.dropped;
      continue;
    } catch (const MailError& e) {
      // A missing template or value: an operator can fix it and retry the row.
      sent = {SendResult::Outcome::kRetry, e.what()};
    }
    if (sent.sent()) {
      store::outbox::mark_sent(db, row.id, message_id, now_ms());
      log_row(Level::kInfo, "mail.sent", "success", row, "");
      ++result.sent;
    } else if (sent.outcome == SendResult::Outcome::kPermanent ||
               row.attempts >= cfg.mail_max_attempts) {
      store::outbox::mark_dead(db, row.id, sent.error);
      log_row(Level::kError, "mail.dead", "failure", row, sent.error);
      ++result.dead;
    } else {
      store::outbox::mark_retry(db, row.id, sent.error,
                                now_ms() + backoff_ms(row.attempts, cfg.mail_retry_base_seconds));
      log_row(Level::kWarning, "mail.retry", "failure", row, sent.error);
      ++result.retried;
    }
  }
  return result;
}

}  // namespace portcullis::mail
