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

}  // namespace portcullis::store::maintenance
