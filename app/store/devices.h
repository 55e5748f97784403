// The known-devices store: every statement on known_devices. A row is a
// device (keyed hash, app/auth/device.h) a user signed in from, and when it
// was last used; app/auth/device.h decides what a device is and when a login
// is "new", this file only reads and writes rows.
#pragma once

#include <cstdint>
#include <string>

#include "app/db/tenant_tx.h"
#include "app/db/tx.h"

namespace portcullis::store::devices {

// A device is remembered this long after its last use; older rows count as
// unknown and `portcullis maintenance` deletes them.
inline constexpr int64_t kKnownDeviceLifetimeMs = int64_t{90} * 24 * 60 * 60 * 1000;

struct DeviceHistory {
  bool known = false;        // this device was used at or after `since`
  bool has_history = false;  // the user signed in before (a device row of any
                             // age, or another non-pending session)
};

// One round trip. `device_hash` is the keyed hash (hex); `session_id` is the
// session of this login, left out of the history.
DeviceHistory history(TenantTx& tx,
                      const std::string& user_id,
                      const std::string& device_hash,
                      const std::string& session_id,
                      int64_t since);
// Inserts the device, or sets last_seen_at = now on the row that exists.
void remember(TenantTx& tx,
              const std::string& user_id,
              const std::string& device_hash,
              int64_t now);
// Every tenant's rows last used before `before`; the count deleted
// (`portcullis maintenance`: no tenant bound, so a SECURITY DEFINER function
// on PostgreSQL).
int64_t purge_unused_since(Tx& tx, int64_t before);

}  // namespace portcullis::store::devices
