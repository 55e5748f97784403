// Counters behind lockout and throttling (DESIGN §7, RATE-1/2). The storage
// layer of the verification service (app/auth/verification.h), which is the
// only caller besides the CLI's unlock: no handler counts, locks or resets.
//
// State lives in auth_throttle, so every worker and every machine sees the
// same counters. Every counter moves with one atomic upsert
// (INSERT … ON CONFLICT DO UPDATE … RETURNING): an attempt is counted before
// its secret is checked, so N parallel guesses cannot slip past a limit.
//  - per account subject (the e-mail, see throttle_subject): the attempt that
//    reaches `lockout_threshold` consecutive failures sets `locked_until` in
//    the statement that counts it; the lock ends when locked_until says. Only
//    a full authentication resets the counter; a right password with MFA to
//    follow only takes its own attempt back.
//  - per client IP: at most `ip_throttle_limit` attempts that did not succeed
//    within `ip_throttle_window_seconds`.
#pragma once

#include <cstdint>
#include <string>

#include "app/config/config.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/tx.h"

namespace portcullis {

// The key an e-mail is counted (and audited, and logged) under: the
// normalised address when it is a syntactically valid one; otherwise
// "h:" + hex HMAC-SHA-256 under the "login-subject" purpose key
// (WorkerKeys::login_subject_key), so whatever was typed into the e-mail field
// (a password, say) is never stored or logged.
std::string throttle_subject(const WorkerKeys& keys, const std::string& typed_email);

struct AttemptTicket {
  bool refused = false;           // locked subject or throttled IP: nothing may be checked
  int retry_after = 0;            // seconds, when refused
  int attempt = 0;                // this attempt's number since the subject's last success
  bool locks_on_failure = false;  // this attempt set the lock: failing it keeps it
};

// The counters run on `db` (app/store/throttle.h). REQUIRES: no transaction
// open on it, so each count commits at once and every worker sees it.

// Counts an attempt for `ip` (may be empty) and `subject`, IP first (a throttled
// IP does not touch the subject's counter). Attempts past a limit are refused.
[[nodiscard]] AttemptTicket begin_attempt(
    Db& db, const Config& config, const std::string& subject, const std::string& ip, int64_t now);

// The checked secret was right but authentication continues (password step of
// an MFA login): the attempt stops counting for the subject and the IP, and a
// lock this attempt set is lifted. Earlier failures still count.
void release_attempt(Db& db,
                     const Config& config,
                     const std::string& subject,
                     const std::string& ip);

// A full authentication succeeded: the subject's counter starts again and the
// attempt stops counting for the IP.
void reset_attempts(Db& db, const std::string& subject, const std::string& ip);

// A plain request counter (forgot-password requests per address and per IP,
// REC-1): counts one request under `key` ("reset-email:…", "reset-ip:…"; never
// a key of the lockout counters) in a window of `window_seconds`. Returns 0
// when this request is within `limit`, else the seconds until the window
// ends. Every request counts, refused ones too. REQUIRES: no transaction open
// on `db`.
[[nodiscard]] int count_request(
    Db& db, const std::string& key, int limit, int window_seconds, int64_t now);

// The CLI's unlock and reset: the subject's counter and lock are removed, in
// the CLI's transaction `tx`.
// REQUIRES: `email` is a normalised, valid address (its own subject).
void reset_email_failures(Tx& tx, const std::string& email);

}  // namespace portcullis
