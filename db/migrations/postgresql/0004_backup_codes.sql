-- 0004: MFA backup codes. code_hash = HMAC-SHA-256 under a purpose key derived
-- from PORTCULLIS_SECRET_KEY (deterministic for lookup, useless offline
-- without the key). A code is used once: consumption is one atomic UPDATE.

CREATE TABLE backup_codes (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  created_at timestamptz NOT NULL,
  used_at    timestamptz,
  UNIQUE (user_id, code_hash)
);
CREATE INDEX backup_codes_tenant_id_idx ON backup_codes (tenant_id);

ALTER TABLE backup_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE backup_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON backup_codes
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY schema_owner ON backup_codes TO CURRENT_USER USING (true) WITH CHECK (true);
