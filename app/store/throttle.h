// The throttle store: auth_throttle rows, the counters behind lockout and
// IP throttling (app/auth/throttle.h decides what they mean). A row is keyed
// "email:<subject>" or "ip:<address>". Every counter moves with one atomic
// statement, so parallel attempts never read-modify-write a stale count.
//
// These statements are not on a tenant's rows: they take the Db and run in
// autocommit, or join the transaction open on it (the CLI's unlock).
#pragma once

#include <optional>
#include <string>

#include "app/db/connection.h"

namespace portcullis::store::throttle {

struct IpCount {
  int attempts = 0;          // in the current window, this one included
  std::string window_start;  // as stored; parse_time_ms() reads both backends' forms
};

// Counts one attempt for `key`: a window that started at or before `cutoff`
// starts again at `now` with 1. Times are format_time_ms() text.
IpCount count_ip_attempt(Db& db,
                         const std::string& key,
                         const std::string& now,
                         const std::string& cutoff);

struct SubjectCount {
  int attempts = 0;                         // since the last reset, this one included
  std::optional<std::string> locked_until;  // as stored
};

// Counts one attempt for `key` and, in the same statement, sets locked_until
// to `until` when the count reaches `threshold` (a lock that has passed by
// `now` starts the count again at 1). `first_lock` is the locked_until of a
// new row: `until` when the threshold is 1, otherwise nullopt.
SubjectCount count_subject_attempt(Db& db,
                                   const std::string& key,
                                   const std::string& now,
                                   const std::optional<std::string>& first_lock,
                                   int threshold,
                                   const std::string& until);

// Takes one attempt back from `key` (never below 0).
void uncount_attempt(Db& db, const std::string& key);

// Takes one attempt back from `key` and lifts its lock when the count falls
// below `threshold`.
void release_attempt(Db& db, const std::string& key, int threshold);

// Removes the row: counter and lock.
void remove(Db& db, const std::string& key);

}  // namespace portcullis::store::throttle
