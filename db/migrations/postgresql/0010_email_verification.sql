-- 0010: proven addresses and changes of address (DESIGN §6, second slice).
--  - users.email_verified_at: when the account proved its address (a
--    verification link, an invitation, or the CLI: the sysadmin vouches).
--    NULL = unproven. Accounts from before 0010 start unproven; that matters
--    only to a tenant that turns require_verified_email on.
--  - tenants.require_verified_email: when on, an unproven account may sign
--    in but reach only me, verification and logout.
--  - user_tokens.email: the address a token is about (the new address of an
--    email_change, the old one of an email_change_revert); NULL otherwise.
--  - the purpose email_change_revert: the "this wasn't me" link, 7 days.
--  - outbox (user_id, created_at): the per-account notice cap counts by it.

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
ALTER TABLE tenants ADD COLUMN require_verified_email boolean NOT NULL DEFAULT false;

ALTER TABLE user_tokens ADD COLUMN email text;
ALTER TABLE user_tokens DROP CONSTRAINT user_tokens_purpose_check;
ALTER TABLE user_tokens ADD CONSTRAINT user_tokens_purpose_check
  CHECK (purpose IN ('password_reset', 'email_verify', 'email_change', 'email_change_revert'));

CREATE INDEX outbox_user_created_idx ON outbox (user_id, created_at);

-- The lookups before the tenant is known gain the two columns.
DROP FUNCTION portcullis_login_lookup(text);
CREATE FUNCTION portcullis_login_lookup(p_email text)
  RETURNS TABLE (user_id uuid, email text, display_name text, role text, password_hash text,
                 mfa_enabled boolean, disabled boolean, tenant_id uuid, tenant_name text,
                 tenant_require_mfa boolean, email_verified boolean,
                 tenant_require_verified_email boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.email, u.display_name, u.role, u.password_hash, u.mfa_enabled, u.disabled,
           t.id, t.name, t.require_mfa, u.email_verified_at IS NOT NULL,
           t.require_verified_email
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.email = p_email
  $$;

DROP FUNCTION portcullis_authenticate(text);
CREATE FUNCTION portcullis_authenticate(p_token_hash text)
  RETURNS TABLE (id uuid, user_id uuid, tenant_id uuid, auth_state text, csrf_token text,
                 remember_me integer, created_at timestamptz, last_seen_at timestamptz,
                 expires_at timestamptz, reauthenticated_at timestamptz,
                 mfa_verified_at timestamptz, ip text, user_agent text, email text,
                 display_name text, role text, mfa_enabled integer, disabled integer,
                 tenant_name text, tenant_require_mfa integer, email_verified integer,
                 tenant_require_verified_email integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT s.id, s.user_id, s.tenant_id, s.auth_state, s.csrf_token,
           CAST(s.remember_me AS integer), s.created_at, s.last_seen_at, s.expires_at,
           s.reauthenticated_at, s.mfa_verified_at, s.ip, s.user_agent, u.email, u.display_name,
           u.role, CAST(u.mfa_enabled AS integer), CAST(u.disabled AS integer), t.name,
           CAST(t.require_mfa AS integer), CAST(u.email_verified_at IS NOT NULL AS integer),
           CAST(t.require_verified_email AS integer)
    FROM sessions s
    JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
    JOIN tenants t ON t.id = s.tenant_id
    WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL
  $$;

DROP FUNCTION portcullis_find_user_token(text, text);
CREATE FUNCTION portcullis_find_user_token(p_token_hash text, p_purpose text)
  RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, expires_at timestamptz,
                 used_at timestamptz, email text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT t.id, t.tenant_id, t.user_id, t.expires_at, t.used_at, t.email
    FROM user_tokens t
    WHERE t.token_hash = p_token_hash AND t.purpose = p_purpose
      AND NOT EXISTS (SELECT 1 FROM user_tokens n
                      WHERE n.tenant_id = t.tenant_id AND n.user_id = t.user_id
                        AND n.purpose = t.purpose AND n.id > t.id)
  $$;
