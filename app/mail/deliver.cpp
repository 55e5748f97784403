#include "app/mail/deliver.h"

#include <stdexcept>
#include <string>

#include "app/db/time.h"
#include "app/log/logger.h"
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

}  // namespace

int64_t backoff_ms(int failed_attempts, int base_seconds) {
  constexpr int64_t kCapMs = 6LL * 3600 * 1000;
  int64_t wait = static_cast<int64_t>(base_seconds) * 1000;
  for (int i = 1; i < failed_attempts && wait < kCapMs; ++i) {
    wait *= 2;
  }
  return wait < kCapMs ? wait : kCapMs;
}

PassResult deliver_due(
    Db& db, const Config& cfg, const ComposeSettings& settings, Transport& transport, int limit) {
  PassResult result;
  std::vector<store::outbox::ClaimedMail> rows =
      store::outbox::claim(db, now_ms(), kLeaseMs, limit);
  result.claimed = static_cast<int>(rows.size());
  for (const store::outbox::ClaimedMail& row : rows) {
    SendResult sent;
    std::string message_id;
    try {
      Composed message = compose(settings, row.id, row.mail, now_ms());
      message_id = message.message_id;
      sent = transport.send(message, settings.from_address, row.mail.to_address, row.id);
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
