#include "app/auth/throttle.h"

#include <algorithm>

#include "app/db/time.h"

namespace portcullis {
namespace {

std::string email_key(const std::string& email) { return "email:" + email; }
std::string ip_key(const std::string& ip) { return "ip:" + ip; }

int seconds_until(int64_t when, int64_t now) {
  return static_cast<int>(std::max<int64_t>(1, (when - now + 999) / 1000));
}

}  // namespace

// Counts one failure for the client IP within its window (defined below).
void record_ip_failure(soci::session& db, const Config& config, const std::string& ip, int64_t now);

namespace {
// Seconds until the client IP may try again, or nullopt when not throttled.
std::optional<int> ip_retry_after(soci::session& db,
                                  const Config& config,
                                  const std::string& ip,
                                  int64_t now) {
  if (ip.empty()) {
    return std::nullopt;
  }
  std::string key = ip_key(ip);
  int failures = 0;
  std::string window_start;
  db << "SELECT failures, window_start FROM auth_throttle WHERE key = :k", soci::use(key),
      soci::into(failures), soci::into(window_start);
  if (!db.got_data() || failures < config.ip_throttle_limit) {
    return std::nullopt;
  }
  int64_t end = parse_time_ms(window_start).value_or(0) +
                static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000;
  if (end <= now) {
    return std::nullopt;
  }
  return seconds_until(end, now);
}
}  // namespace

void record_ip_failure(soci::session& db,
                       const Config& config,
                       const std::string& ip,
                       int64_t now) {
  std::string now_text = format_time_ms(now);
  {
    std::string key = ip_key(ip);
    std::string cutoff =
        format_time_ms(now - static_cast<int64_t>(config.ip_throttle_window_seconds) * 1000);
    std::string c1 = cutoff, c2 = cutoff, n1 = now_text, n2 = now_text;
    int failures = 0;
    db << "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
          "VALUES (:k, 1, :n1, NULL) "
          "ON CONFLICT (key) DO UPDATE SET "
          "failures = CASE WHEN auth_throttle.window_start <= :c1 THEN 1 "
          "ELSE auth_throttle.failures + 1 END, "
          "window_start = CASE WHEN auth_throttle.window_start <= :c2 THEN :n2 "
          "ELSE auth_throttle.window_start END "
          "RETURNING failures",
        soci::use(key), soci::use(n1), soci::use(c1), soci::use(c2), soci::use(n2),
        soci::into(failures);
  }
}

AttemptTicket begin_login_attempt(soci::session& db,
                                  const Config& config,
                                  const std::string& email,
                                  const std::string& ip,
                                  int64_t now) {
  AttemptTicket t;
  // The IP throttle is a read: only failures count towards it.
  if (std::optional<int> ip_retry = ip_retry_after(db, config, ip, now)) {
    t.refused = true;
    t.retry_after = *ip_retry;
    return t;
  }
  std::string key = email_key(email);
  std::string now_text = format_time_ms(now);
  std::string n1 = now_text, n2 = now_text, n3 = now_text;
  std::string locked_until;
  soci::indicator locked_ind = soci::i_null;
  db << "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
        "VALUES (:k, 1, :n1, NULL) "
        "ON CONFLICT (key) DO UPDATE SET "
        "failures = CASE WHEN auth_throttle.locked_until IS NOT NULL AND "
        "auth_throttle.locked_until <= :n2 THEN 1 ELSE auth_throttle.failures + 1 END, "
        "locked_until = CASE WHEN auth_throttle.locked_until IS NOT NULL AND "
        "auth_throttle.locked_until <= :n3 THEN NULL ELSE auth_throttle.locked_until END "
        "RETURNING failures, locked_until",
      soci::use(key), soci::use(n1), soci::use(n2), soci::use(n3), soci::into(t.attempt),
      soci::into(locked_until, locked_ind);
  if (locked_ind == soci::i_ok) {
    std::optional<int64_t> until = parse_time_ms(locked_until);
    if (until && *until > now) {
      t.refused = true;
      t.retry_after = seconds_until(*until, now);
      return t;
    }
  }
  if (t.attempt > config.lockout_threshold) {
    // Parallel attempts beyond the threshold are refused unchecked. The lock
    // itself is set by the attempt that reached the threshold, if it fails.
    t.refused = true;
    t.retry_after = config.lockout_seconds;
  }
  return t;
}

bool fail_login_attempt(soci::session& db,
                        const Config& config,
                        const AttemptTicket& ticket,
                        const std::string& email,
                        const std::string& ip,
                        int64_t now) {
  bool locked_now = false;
  if (ticket.attempt >= config.lockout_threshold) {
    std::string key = email_key(email);
    std::string until = format_time_ms(now + static_cast<int64_t>(config.lockout_seconds) * 1000);
    soci::statement st = (db.prepare << "UPDATE auth_throttle SET locked_until = :u "
                                        "WHERE key = :k AND locked_until IS NULL",
                          soci::use(until), soci::use(key));
    st.execute(true);
    locked_now = st.get_affected_rows() > 0;
  }
  if (!ip.empty()) {
    record_ip_failure(db, config, ip, now);
  }
  return locked_now;
}

void release_login_attempt(soci::session& db, const std::string& email) {
  std::string key = email_key(email);
  db << "UPDATE auth_throttle SET failures = failures - 1 WHERE key = :k AND failures > 0",
      soci::use(key);
}

void reset_email_failures(soci::session& db, const std::string& email) {
  std::string key = email_key(email);
  db << "DELETE FROM auth_throttle WHERE key = :k", soci::use(key);
}

}  // namespace portcullis
