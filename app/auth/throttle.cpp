#include "app/auth/throttle.h"

#include <algorithm>
#include <optional>

#include "app/auth/account.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/store/throttle.h"

namespace portcullis {
namespace {

std::string subject_key(const std::string& subject) { return "email:" + subject; }
std::string ip_key(const std::string& ip) { return "ip:" + ip; }

int seconds_until(int64_t when, int64_t now) {
  return static_cast<int>(std::max<int64_t>(1, (when - now + 999) / 1000));
}

// One attempt for the client IP, counted and returned by a single upsert; a
// window that has passed starts again at 1. Returns seconds to wait when the
// count is past the limit.
std::optional<int> count_ip_attempt(Db& db,
                                    const Config& config,
                                    const std::string& ip,
                                    int64_t now) {
  std::string cutoff =
      format_time_ms(now - static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000);
  store::throttle::IpCount count =
      store::throttle::count_ip_attempt(db, ip_key(ip), format_time_ms(now), cutoff);
  if (count.attempts <= config.ip_throttle_limit) {
    return std::nullopt;
  }
  int64_t end = parse_time_ms(count.window_start).value_or(now) +
                static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000;
  return seconds_until(std::max(end, now + 1000), now);
}

// The attempt no longer counts for the IP (it succeeded).
void uncount_ip_attempt(Db& db, const std::string& ip) {
  if (ip.empty()) {
    return;
  }
  store::throttle::uncount_attempt(db, ip_key(ip));
}

}  // namespace

std::string throttle_subject(const WorkerKeys& keys, const std::string& typed_email) {
  std::string email = normalize_email(typed_email);
  if (valid_email(email)) {
    return email;
  }
  return "h:" + to_hex(hmac_sha256(keys.login_subject_key(), email));
}

int count_request(Db& db, const std::string& key, int limit, int window_seconds, int64_t now) {
  const int64_t window_ms = static_cast<int64_t>(window_seconds) * 1000;
  store::throttle::IpCount count = store::throttle::count_ip_attempt(
      db, key, format_time_ms(now), format_time_ms(now - window_ms));
  if (count.attempts <= limit) {
    return 0;
  }
  int64_t end = parse_time_ms(count.window_start).value_or(now) + window_ms;
  return seconds_until(std::max(end, now + 1000), now);
}

AttemptTicket begin_attempt(
    Db& db, const Config& config, const std::string& subject, const std::string& ip, int64_t now) {
  AttemptTicket t;
  if (!ip.empty()) {
    if (std::optional<int> wait = count_ip_attempt(db, config, ip, now)) {
      t.refused = true;
      t.retry_after = *wait;
      return t;
    }
  }
  // One statement counts the attempt and, when it reaches the threshold,
  // sets the lock (RATE-1/2): a lock whose time has passed starts the count
  // again at 1. The attempt that sets the lock is still checked; a success
  // then lifts it (reset or release), a failure keeps it.
  std::string until = format_time_ms(now + static_cast<int64_t>(config.lockout_seconds) * 1000);
  int threshold = config.lockout_threshold;
  std::optional<std::string> first_lock =
      threshold <= 1 ? std::optional<std::string>(until) : std::nullopt;
  store::throttle::SubjectCount count = store::throttle::count_subject_attempt(
      db, subject_key(subject), format_time_ms(now), first_lock, threshold, until);
  t.attempt = count.attempts;
  std::optional<int64_t> lock_end;
  if (count.locked_until) {
    lock_end = parse_time_ms(*count.locked_until);
  }
  if (t.attempt > threshold) {
    // Locked (or reached while a parallel attempt at the threshold is being
    // checked): refused unchecked. The IP keeps this attempt: a refusal is a failure.
    t.refused = true;
    t.retry_after =
        lock_end && *lock_end > now ? seconds_until(*lock_end, now) : config.lockout_seconds;
    return t;
  }
  t.locks_on_failure = t.attempt == threshold;
  return t;
}

void release_attempt(Db& db,
                     const Config& config,
                     const std::string& subject,
                     const std::string& ip) {
  store::throttle::release_attempt(db, subject_key(subject), config.lockout_threshold);
  uncount_ip_attempt(db, ip);
}

void reset_attempts(Db& db, const std::string& subject, const std::string& ip) {
  store::throttle::remove(db, subject_key(subject));
  uncount_ip_attempt(db, ip);
}

void reset_email_failures(Tx& tx, const std::string& email) {
  store::throttle::remove(tx.db(), subject_key(email));
}

}  // namespace portcullis
