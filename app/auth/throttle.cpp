#include "app/auth/throttle.h"

#include <algorithm>
#include <optional>

#include "app/auth/account.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/time.h"

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
std::optional<int> count_ip_attempt(soci::session& db,
                                    const Config& config,
                                    const std::string& ip,
                                    int64_t now) {
  std::string key = ip_key(ip);
  std::string now_text = format_time_ms(now);
  std::string cutoff =
      format_time_ms(now - static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000);
  std::string c1 = cutoff, c2 = cutoff, n1 = now_text, n2 = now_text;
  int attempts = 0;
  std::string window_start;
  db << "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
        "VALUES (:k, 1, :n1, NULL) "
        "ON CONFLICT (key) DO UPDATE SET "
        "failures = CASE WHEN auth_throttle.window_start <= :c1 THEN 1 "
        "ELSE auth_throttle.failures + 1 END, "
        "window_start = CASE WHEN auth_throttle.window_start <= :c2 THEN :n2 "
        "ELSE auth_throttle.window_start END "
        "RETURNING failures, window_start",
      soci::use(key), soci::use(n1), soci::use(c1), soci::use(c2), soci::use(n2),
      soci::into(attempts), soci::into(window_start);
  if (attempts <= config.ip_throttle_limit) {
    return std::nullopt;
  }
  int64_t end = parse_time_ms(window_start).value_or(now) +
                static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000;
  return seconds_until(std::max(end, now + 1000), now);
}

// The attempt no longer counts for the IP (it succeeded).
void uncount_ip_attempt(soci::session& db, const std::string& ip) {
  if (ip.empty()) {
    return;
  }
  std::string key = ip_key(ip);
  db << "UPDATE auth_throttle SET failures = failures - 1 WHERE key = :k AND failures > 0",
      soci::use(key);
}

}  // namespace

std::string throttle_subject(const WorkerKeys& keys, const std::string& typed_email) {
  std::string email = normalize_email(typed_email);
  if (valid_email(email)) {
    return email;
  }
  return "h:" + to_hex(hmac_sha256(keys.login_subject_key(), email));
}

AttemptTicket begin_attempt(soci::session& db,
                            const Config& config,
                            const std::string& subject,
                            const std::string& ip,
                            int64_t now) {
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
  std::string key = subject_key(subject);
  std::string now_text = format_time_ms(now);
  std::string until = format_time_ms(now + static_cast<int64_t>(config.lockout_seconds) * 1000);
  std::string n1 = now_text, n2 = now_text, n3 = now_text, n4 = now_text, u1 = until, u2 = until;
  int threshold = config.lockout_threshold;
  soci::indicator first_lock = threshold <= 1 ? soci::i_ok : soci::i_null;
  std::string locked_until;
  soci::indicator locked_ind = soci::i_null;
  db << "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
        "VALUES (:k, 1, :n1, :u1) "
        "ON CONFLICT (key) DO UPDATE SET "
        "failures = CASE WHEN auth_throttle.locked_until IS NOT NULL AND "
        "auth_throttle.locked_until <= :n2 THEN 1 ELSE auth_throttle.failures + 1 END, "
        "locked_until = CASE WHEN auth_throttle.locked_until > :n3 THEN auth_throttle.locked_until "
        "WHEN (CASE WHEN auth_throttle.locked_until IS NOT NULL AND auth_throttle.locked_until <= "
        ":n4 THEN 1 ELSE auth_throttle.failures + 1 END) >= :thr THEN :u2 ELSE NULL END "
        "RETURNING failures, locked_until",
      soci::use(key), soci::use(n1), soci::use(u1, first_lock), soci::use(n2), soci::use(n3),
      soci::use(n4), soci::use(threshold), soci::use(u2), soci::into(t.attempt),
      soci::into(locked_until, locked_ind);
  std::optional<int64_t> lock_end;
  if (locked_ind == soci::i_ok) {
    lock_end = parse_time_ms(locked_until);
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

void release_attempt(soci::session& db,
                     const Config& config,
                     const std::string& subject,
                     const std::string& ip) {
  std::string key = subject_key(subject);
  int threshold = config.lockout_threshold;
  db << "UPDATE auth_throttle SET failures = failures - 1, locked_until = CASE WHEN failures - 1 "
        "< :thr THEN NULL ELSE locked_until END WHERE key = :k AND failures > 0",
      soci::use(threshold), soci::use(key);
  uncount_ip_attempt(db, ip);
}

void reset_attempts(soci::session& db, const std::string& subject, const std::string& ip) {
  reset_email_failures(db, subject);
  uncount_ip_attempt(db, ip);
}

void reset_email_failures(soci::session& db, const std::string& email) {
  std::string key = subject_key(email);
  db << "DELETE FROM auth_throttle WHERE key = :k", soci::use(key);
}

}  // namespace portcullis
