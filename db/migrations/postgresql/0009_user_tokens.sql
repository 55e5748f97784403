-- 0009: one-time tokens mailed to a user (DESIGN §6, second slice): password
-- reset now; e-mail verification and change later (the purpose column). The
-- raw token exists only in the mail: a row keeps HMAC-SHA-256 of it under
-- the "recovery-token" purpose key (WorkerKeys::recovery_token_key), so a
-- copy of the database gives no usable token. used_at is set when the token
-- is spent or voided (a newer token of the same purpose, a password change).
-- Only the newest token of a user and purpose is ever accepted.

CREATE TABLE user_tokens (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL,
  purpose     text NOT NULL CHECK (purpose IN ('password_reset', 'email_verify', 'email_change')),
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_tokens_user_idx ON user_tokens (tenant_id, user_id, purpose);

ALTER TABLE user_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_tokens
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY schema_owner ON user_tokens TO CURRENT_USER USING (true) WITH CHECK (true);

-- The reset request carries a token and nothing else: the lookup by keyed
-- hash comes before the tenant is known, so it goes through the owner. It
-- returns only the newest token of its user and purpose, and only its ids
-- and times; the caller checks expiry and use.
CREATE FUNCTION portcullis_find_user_token(p_token_hash text, p_purpose text)
  RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, expires_at timestamptz,
                 used_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT t.id, t.tenant_id, t.user_id, t.expires_at, t.used_at
    FROM user_tokens t
    WHERE t.token_hash = p_token_hash AND t.purpose = p_purpose
      AND NOT EXISTS (SELECT 1 FROM user_tokens n
                      WHERE n.tenant_id = t.tenant_id AND n.user_id = t.user_id
                        AND n.purpose = t.purpose AND n.id > t.id)
  $$;
