-- 0005: one round trip per authenticated request. The session row (outside
-- RLS) and the caller's user and tenant (under RLS, tenant not yet known)
-- come back together from one SECURITY DEFINER lookup by token hash.

CREATE FUNCTION portcullis_authenticate(p_token_hash text)
  RETURNS TABLE (id uuid, user_id uuid, tenant_id uuid, auth_state text, csrf_token text,
                 remember_me integer, created_at timestamptz, last_seen_at timestamptz,
                 expires_at timestamptz, reauthenticated_at timestamptz,
                 mfa_verified_at timestamptz, ip text, user_agent text, email text,
                 display_name text, role text, mfa_enabled integer, disabled integer,
                 tenant_name text, tenant_require_mfa integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT s.id, s.user_id, s.tenant_id, s.auth_state, s.csrf_token,
           CAST(s.remember_me AS integer), s.created_at, s.last_seen_at, s.expires_at,
           s.reauthenticated_at, s.mfa_verified_at, s.ip, s.user_agent, u.email, u.display_name,
           u.role, CAST(u.mfa_enabled AS integer), CAST(u.disabled AS integer), t.name,
           CAST(t.require_mfa AS integer)
    FROM sessions s
    JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
    JOIN tenants t ON t.id = s.tenant_id
    WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL
  $$;
