// Lockout and throttling of password (and later code) attempts (DESIGN §7,
// RATE-1/2). State lives in auth_throttle, so every worker and every machine
// sees the same counters; counters move with single atomic upserts
// (INSERT … ON CONFLICT DO UPDATE … RETURNING), so parallel guesses cannot
// slip past the threshold.
//  - per e-mail (existing or not): `lockout_threshold` consecutive failures
//    lock it for `lockout_seconds`; only a full authentication resets it;
//  - per client IP: `ip_throttle_limit` failures within
//    `ip_throttle_window_seconds`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <soci/soci.h>

#include "app/config/config.h"

namespace portcullis {

// A login attempt is counted before the password is checked: the e-mail's
// counter is incremented first and the attempt gets its number. Attempts
// past the threshold are refused without verifying anything, so N parallel
// guesses evaluate at most `lockout_threshold` passwords (RATE-2).
struct AttemptTicket {
  bool refused = false;  // locked e-mail or throttled IP: answer 429
  int retry_after = 0;   // seconds, when refused
  int attempt = 0;       // this attempt's number since the last success
};

[[nodiscard]] AttemptTicket begin_login_attempt(soci::session& db,
                                                const Config& config,
                                                const std::string& email,
                                                const std::string& ip,
                                                int64_t now);

// The attempt's password (or code) was wrong: counts the IP failure and, when
// this attempt reached the threshold, locks the e-mail. Returns true when it
// locked it (the caller audits auth.lockout once).
bool fail_login_attempt(soci::session& db,
                        const Config& config,
                        const AttemptTicket& ticket,
                        const std::string& email,
                        const std::string& ip,
                        int64_t now);

// The password was right but authentication continues (MFA): the attempt
// stops counting, earlier failures still do.
void release_login_attempt(soci::session& db, const std::string& email);

// A full authentication succeeded: the e-mail's counter starts again.
void reset_email_failures(soci::session& db, const std::string& email);

}  // namespace portcullis
