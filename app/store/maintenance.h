// The maintenance store: housekeeping of rows that expire (`portcullis
// maintenance`, run from a systemd timer).
#pragma once

#include <cstdint>

#include "app/db/tx.h"

namespace portcullis::store::maintenance {

// Deletes sessions past their absolute expiry or revoked; the count deleted.
int64_t purge_sessions(Tx& tx);
// Deletes throttle rows whose window began over a day ago and that hold no
// lock still in force; the count deleted.
int64_t purge_throttle(Tx& tx);
// Deletes known devices unused for store::devices::kKnownDeviceLifetimeMs
// (every tenant's); the count deleted.
int64_t purge_known_devices(Tx& tx);
// Deletes user tokens (every tenant's) used or expired before `before_ms`;
// the count deleted. The command passes now - kSpentTokenRetentionMs.
int64_t purge_user_tokens(Tx& tx, int64_t before_ms);
// Deletes sent and dropped outbox rows created before `before_ms`; pending,
// sending and dead rows stay. The count deleted.
int64_t purge_outbox(Tx& tx, int64_t before_ms);

// Deletes tombstones of revoked sessions written before `before_ms` (the
// command passes now - kRevokedSessionRetentionMs, app/auth/sessions.h); the
// count deleted.
int64_t purge_revoked_sessions(Tx& tx, int64_t before_ms);

// How long a used or expired token is kept (for audit questions) before
// maintenance deletes it.
inline constexpr int64_t kSpentTokenRetentionMs = 7LL * 24 * 3600 * 1000;

}  // namespace portcullis::store::maintenance
