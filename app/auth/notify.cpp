#include "app/auth/notify.h"

#include <ctime>
#include <utility>

#include "app/log/logger.h"
#include "app/store/outbox.h"

namespace portcullis {

namespace {
constexpr int64_t kHourMs = 60LL * 60 * 1000;
}  // namespace

NoticeOutcome notify_user(Tx& tx,
                          int max_per_hour,
                          const NoticeRecipient& to,
                          const std::string& kind,
                          std::map<std::string, std::string> params,
                          int64_t now) {
  store::outbox::OutboxMail mail;
  mail.kind = kind;
  mail.to_address = to.email;
  mail.to_name = to.display_name;
  params["name"] = to.display_name.empty() ? to.email : to.display_name;
  mail.params = std::move(params);
  mail.tenant_id = to.tenant_id;
  mail.user_id = to.user_id;
  // Counted and inserted as one step per account (store::outbox), so
  // parallel events cannot each see room under the cap.
  if (!store::outbox::enqueue_capped(tx, mail, max_per_hour, now - kHourMs)) {
    LogRecord skipped;
    skipped.event = "mail.notice_capped";
    skipped.outcome = "denied";
    skipped.message = "security notice skipped: the account's hourly mail cap is reached";
    skipped.tenant_id = to.tenant_id;
    skipped.user_id = to.user_id;
    skipped.details = {{"kind", kind}, {"max_per_hour", std::to_string(max_per_hour)}};
    log_record(Level::kWarning, skipped);
    return NoticeOutcome::kCapped;
  }
  return NoticeOutcome::kQueued;
}

void notify_new_device(Tx& tx,
                       int max_per_hour,
                       const NoticeRecipient& to,
                       const Session& session,
                       const std::string& ip,
                       int64_t now) {
  if (!session.new_device) {
    return;
  }
  (void)notify_user(
      tx, max_per_hour, to, kNoticeNewDevice,
      {{"time", notice_time(now)}, {"browser", session.browser}, {"os", session.os}, {"ip", ip}},
      now);
}

std::string notice_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace portcullis
