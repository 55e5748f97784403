-- 0004: MFA backup codes. code_hash = HMAC-SHA-256 under a purpose key derived
-- from PORTCULLIS_SECRET_KEY (deterministic for lookup, useless offline
-- without the key). A code is used once: consumption is one atomic UPDATE.

CREATE TABLE backup_codes (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  used_at    TEXT,
  UNIQUE (user_id, code_hash)
);
CREATE INDEX backup_codes_tenant_id_idx ON backup_codes (tenant_id);
