-- 0009: one-time tokens mailed to a user (DESIGN §6, second slice): password
-- reset now; e-mail verification and change later (the purpose column). The
-- raw token exists only in the mail: a row keeps HMAC-SHA-256 of it under
-- the "recovery-token" purpose key (WorkerKeys::recovery_token_key), so a
-- copy of the database gives no usable token. used_at is set when the token
-- is spent or voided (a newer token of the same purpose, a password change).
-- Only the newest token of a user and purpose is ever accepted.

CREATE TABLE user_tokens (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  purpose     TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verify', 'email_change')),
  token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  created_at  TEXT NOT NULL,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_tokens_user_idx ON user_tokens (tenant_id, user_id, purpose);
