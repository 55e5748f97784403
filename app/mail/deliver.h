// Outbox delivery: claim due rows, compose, send, record (one pass). The
// loop, signals and the command line are app/cli/mail.cpp's.
//
// Every send, retry, dead letter and drop is one JSON log line (app/log)
// with the row id, kind, attempt count, tenant and user ids and the short
// transport error; never an address, a parameter, a token or the body.
#pragma once

#include <cstdint>
#include <string>

#include "app/config/config.h"
#include "app/db/connection.h"
#include "app/mail/compose.h"
#include "app/mail/transport.h"

namespace portcullis::mail {

struct PassResult {
  int claimed = 0;
  int sent = 0;
  int retried = 0;
  int dead = 0;
  int dropped = 0;
};

// The wait before attempt n + 1 after a failed attempt n (n ≥ 1):
// base * 2^(n-1), at most 6 hours.
int64_t backoff_ms(int failed_attempts, int base_seconds);

// How long a claimed row stays out of other deliverers' reach.
inline constexpr int64_t kLeaseMs = 10 * 60 * 1000;

// One pass over up to `limit` due rows.
//
// A `password_reset_request` row (forgot password; the request recorded only
// the address) is resolved here: an unknown or disabled account drops the
// row (nothing is sent); a known one gets a fresh reset token, stored as its
// keyed hash under `recovery_token_key` (app/auth/recovery.h), and the mail
// sent is a `password_reset` with the raw token in its link only, never in
// the row.
// Throws soci_error when the database
// fails (the caller decides whether to retry); delivery failures are
// recorded on the rows, not thrown.
PassResult deliver_due(Db& db,
                       const Config& cfg,
                       const ComposeSettings& settings,
                       Transport& transport,
                       int limit,
                       const std::string& recovery_token_key);

}  // namespace portcullis::mail
