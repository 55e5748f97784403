-- 0008: the devices an account has signed in from, for "sign-in from a new
-- device" (DESIGN §6, second slice). A device is browser family + OS family
-- + network (/24 of IPv4, /48 of IPv6); the row keeps only its keyed hash,
-- HMAC-SHA-256 under the "device" purpose key (app/auth/device.h), with the
-- user id in the message: no address, no User-Agent, and no way to link one
-- user's devices to another's. A device is known for 90 days after it was
-- last used; older rows are ignored and deleted by `portcullis maintenance`.
--
-- Each session records what its login found: browser, os (the families) and
-- whether it came from a new device.

CREATE TABLE known_devices (
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL,
  device_hash   TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, device_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX known_devices_last_seen_idx ON known_devices (last_seen_at);

ALTER TABLE sessions ADD COLUMN browser TEXT;
ALTER TABLE sessions ADD COLUMN os TEXT;
ALTER TABLE sessions ADD COLUMN new_device INTEGER NOT NULL DEFAULT 0 CHECK (new_device IN (0, 1));
