-- 0013: account states said plainly, and invitations by mail (issue 12).
-- See the PostgreSQL migration of the same number for the reasons.
--  - revoked_sessions: tombstones of sessions ended by someone or something
--    other than their own logout or expiry (SHA-256 of the token, why, when).
--  - invitations.mail_token_hash: the second token's hash, minted at
--    delivery of the invitation mail.

CREATE TABLE revoked_sessions (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  tenant_id  TEXT NOT NULL,
  reason     TEXT NOT NULL,
  revoked_at TEXT NOT NULL
);
CREATE INDEX revoked_sessions_revoked_at_idx ON revoked_sessions (revoked_at);

ALTER TABLE invitations ADD COLUMN mail_token_hash TEXT;
CREATE UNIQUE INDEX invitations_mail_token_hash_idx ON invitations (mail_token_hash);
