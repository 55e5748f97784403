#include "app/store/throttle.h"

namespace portcullis::store::throttle {
namespace {

// $1 key, $2 now, $3 cutoff.
constexpr Statement kCountIp{
    "auth_throttle.count_ip",
    "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
    "VALUES ($1, 1, $2, NULL) "
    "ON CONFLICT (key) DO UPDATE SET "
    "failures = CASE WHEN auth_throttle.window_start <= $3 THEN 1 "
    "ELSE auth_throttle.failures + 1 END, "
    "window_start = CASE WHEN auth_throttle.window_start <= $3 THEN $2 "
    "ELSE auth_throttle.window_start END "
    "RETURNING failures, window_start"};

// $1 key, $2 now, $3 a new row's locked_until (NULL unless the threshold is
// 1), $4 threshold, $5 the lock's end.
constexpr Statement kCountSubject{
    "auth_throttle.count_subject",
    "INSERT INTO auth_throttle (key, failures, window_start, locked_until) "
    "VALUES ($1, 1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET "
    "failures = CASE WHEN auth_throttle.locked_until IS NOT NULL AND "
    "auth_throttle.locked_until <= $2 THEN 1 ELSE auth_throttle.failures + 1 END, "
    "locked_until = CASE WHEN auth_throttle.locked_until > $2 THEN auth_throttle.locked_until "
    "WHEN (CASE WHEN auth_throttle.locked_until IS NOT NULL AND auth_throttle.locked_until <= "
    "$2 THEN 1 ELSE auth_throttle.failures + 1 END) >= $4 THEN $5 ELSE NULL END "
    "RETURNING failures, locked_until"};

constexpr Statement kUncount{
    "auth_throttle.uncount",
    "UPDATE auth_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0"};

// $1 key, $2 threshold.
constexpr Statement kRelease{
    "auth_throttle.release",
    "UPDATE auth_throttle SET failures = failures - 1, locked_until = CASE WHEN failures - 1 "
    "< $2 THEN NULL ELSE locked_until END WHERE key = $1 AND failures > 0"};

constexpr Statement kDelete{"auth_throttle.delete", "DELETE FROM auth_throttle WHERE key = $1"};

}  // namespace

IpCount count_ip_attempt(Db& db,
                         const std::string& key,
                         const std::string& now,
                         const std::string& cutoff) {
  Rows rows = db.run(kCountIp, {key, now, cutoff});
  IpCount out;
  out.attempts = static_cast<int>(rows[0].integer(0));
  out.window_start = rows[0].text(1);
  return out;
}

SubjectCount count_subject_attempt(Db& db,
                                   const std::string& key,
                                   const std::string& now,
                                   const std::optional<std::string>& first_lock,
                                   int threshold,
                                   const std::string& until) {
  Rows rows = db.run(kCountSubject, {key, now, first_lock, threshold, until});
  SubjectCount out;
  out.attempts = static_cast<int>(rows[0].integer(0));
  out.locked_until = rows[0].optional_text(1);
  return out;
}

void uncount_attempt(Db& db, const std::string& key) { db.run(kUncount, {key}); }

void release_attempt(Db& db, const std::string& key, int threshold) {
  db.run(kRelease, {key, threshold});
}

void remove(Db& db, const std::string& key) { db.run(kDelete, {key}); }

}  // namespace portcullis::store::throttle
