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
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL,
  device_hash   text NOT NULL,
  first_seen_at timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, device_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX known_devices_last_seen_idx ON known_devices (last_seen_at);

ALTER TABLE known_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE known_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON known_devices
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY schema_owner ON known_devices TO CURRENT_USER USING (true) WITH CHECK (true);

-- `portcullis maintenance` runs as the app role with no tenant bound: the
-- purge of every tenant's expired rows goes through the owner. It deletes
-- only rows last seen before p_before and returns only how many.
CREATE FUNCTION portcullis_purge_known_devices(p_before timestamptz)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    WITH gone AS (DELETE FROM known_devices WHERE last_seen_at < p_before RETURNING 1)
    SELECT count(*) FROM gone
  $$;

ALTER TABLE sessions
  ADD COLUMN browser text,
  ADD COLUMN os text,
  ADD COLUMN new_device boolean NOT NULL DEFAULT false;
