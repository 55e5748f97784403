-- 0010: proven addresses and changes of address (DESIGN §6, second slice).
-- See the PostgreSQL migration of the same number for what each change is.
-- SQLite cannot alter a CHECK, so user_tokens is rebuilt (nothing refers to
-- it).

ALTER TABLE users ADD COLUMN email_verified_at TEXT;
ALTER TABLE tenants ADD COLUMN require_verified_email INTEGER NOT NULL DEFAULT 0
  CHECK (require_verified_email IN (0, 1));

CREATE TABLE user_tokens_0010 (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  purpose     TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verify', 'email_change',
                                               'email_change_revert')),
  token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  created_at  TEXT NOT NULL,
  email       TEXT,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO user_tokens_0010 (id, tenant_id, user_id, purpose, token_hash, expires_at, used_at,
                              created_at)
  SELECT id, tenant_id, user_id, purpose, token_hash, expires_at, used_at, created_at
  FROM user_tokens;
DROP TABLE user_tokens;
ALTER TABLE user_tokens_0010 RENAME TO user_tokens;
CREATE INDEX user_tokens_user_idx ON user_tokens (tenant_id, user_id, purpose);

CREATE INDEX outbox_user_created_idx ON outbox (user_id, created_at);
