-- 0003: the second wall of tenant isolation (DESIGN §6): row-level security.
--
-- ENABLE + FORCE on the tenant data tables. The policy compares each row's
-- tenant_id with portcullis.tenant_id, which the app sets per request
-- transaction with set_config(…, true) (TenantTx). current_setting(…, true)
-- yields NULL or '' when unset, which matches no row: a query that forgot the
-- tenant sees nothing instead of everything.
--
-- The schema owner (the role running this migration) gets its own explicit
-- policy so that migrations, `portcullis keys reencrypt` and the few
-- SECURITY DEFINER lookups below work across tenants. The app role owns
-- nothing, has no BYPASSRLS, and reaches other tenants' rows only through
-- those functions, each of which returns only what its caller must know.

CREATE FUNCTION portcullis_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('portcullis.tenant_id', true), '')::uuid $$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE contexts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contexts FORCE ROW LEVEL SECURITY;
ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE memories FORCE ROW LEVEL SECURITY;
ALTER TABLE memory_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_tags FORCE ROW LEVEL SECURITY;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON users
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY tenant_isolation ON contexts
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY tenant_isolation ON memories
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY tenant_isolation ON memory_tags
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY tenant_isolation ON invitations
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY tenant_isolation ON audit_events
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());

CREATE POLICY schema_owner ON users TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY schema_owner ON contexts TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY schema_owner ON memories TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY schema_owner ON memory_tags TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY schema_owner ON invitations TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY schema_owner ON audit_events TO CURRENT_USER USING (true) WITH CHECK (true);

-- audit_events is append-only for everyone but the owner: whatever the
-- default privileges granted, UPDATE, DELETE and TRUNCATE are taken back.
-- schema_migrations is the owner's alone to write.
DO $$
DECLARE
  grantee_name text;
BEGIN
  FOR grantee_name IN
    SELECT DISTINCT grantee FROM information_schema.role_table_grants
    WHERE table_name IN ('audit_events', 'schema_migrations') AND grantee <> current_user
  LOOP
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM %I', grantee_name);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM %I',
                   grantee_name);
  END LOOP;
END
$$;

-- Lookups made before the tenant is known. SECURITY DEFINER runs them as the
-- owner; search_path is pinned so a caller cannot substitute objects.

-- Login: the account for a normalised e-mail, with its tenant.
CREATE FUNCTION portcullis_login_lookup(p_email text)
  RETURNS TABLE (user_id uuid, email text, display_name text, role text, password_hash text,
                 mfa_enabled boolean, disabled boolean, tenant_id uuid, tenant_name text,
                 tenant_require_mfa boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.email, u.display_name, u.role, u.password_hash, u.mfa_enabled, u.disabled,
           t.id, t.name, t.require_mfa
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.email = p_email
  $$;

-- Registration and invitations: is an e-mail taken anywhere?
CREATE FUNCTION portcullis_email_taken(p_email text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM users WHERE email = p_email) $$;

-- Invitation acceptance: the pending invitation for a token hash.
CREATE FUNCTION portcullis_invitation_lookup(p_token_hash text)
  RETURNS TABLE (id uuid, tenant_id uuid, email text, role text, expires_at timestamptz,
                 accepted_at timestamptz, revoked_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT i.id, i.tenant_id, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at
    FROM invitations i WHERE i.token_hash = p_token_hash
  $$;

-- Audit rows for events whose tenant is known but not (yet) the request's
-- tenant context, e.g. a failed login of an existing account.
CREATE FUNCTION portcullis_audit_insert(p_id uuid, p_ts timestamptz, p_tenant_id uuid,
                                        p_user_id uuid, p_event text, p_outcome text,
                                        p_session_id text, p_ip text, p_user_agent text,
                                        p_request_id text, p_target_type text, p_target_id text,
                                        p_details jsonb)
  RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome, session_id, ip,
                              user_agent, request_id, target_type, target_id, details)
    VALUES (p_id, p_ts, p_tenant_id, p_user_id, p_event, p_outcome, p_session_id, p_ip,
            p_user_agent, p_request_id, p_target_type, p_target_id, p_details)
  $$;

-- EXECUTE stays with PUBLIC: only roles with USAGE on the schema (the app
-- and the owner; README revokes the schema from PUBLIC) can reach these.
