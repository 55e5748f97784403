-- 0013: account states said plainly, and invitations by mail (issue 12).
--  - revoked_sessions: the tombstone of a session ended by someone or
--    something other than its own logout or expiry (another device, an
--    admin, a password change or reset, an MFA reset, a suspension, the
--    session cap). Only the SHA-256 of the cookie token it had is kept, with
--    why and when; a request presenting that cookie is told 401
--    session_revoked instead of session_expired. Read before the tenant is
--    known (as sessions are), so not under row-level security; `portcullis
--    maintenance` deletes tombstones older than 7 days.
--  - invitations.mail_token_hash: the SHA-256 of the second token of an
--    invitation, minted when its mail is delivered (the raw token is never
--    stored). The admin's copy (token_hash, shown once at creation) and the
--    mailed one both accept the invitation; revoking it kills both.
--  - portcullis_invitation_lookup: finds an invitation by either hash and
--    returns its tenant's name too (the join page shows it).

CREATE TABLE revoked_sessions (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL,
  user_id    uuid NOT NULL,
  tenant_id  uuid NOT NULL,
  reason     text NOT NULL,
  revoked_at timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_revoked_at_idx ON revoked_sessions (revoked_at);

ALTER TABLE invitations ADD COLUMN mail_token_hash text UNIQUE;

DROP FUNCTION portcullis_invitation_lookup(text);
CREATE FUNCTION portcullis_invitation_lookup(p_token_hash text)
  RETURNS TABLE (id uuid, tenant_id uuid, email text, role text, expires_at timestamptz,
                 accepted_at timestamptz, revoked_at timestamptz, tenant_name text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT i.id, i.tenant_id, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at, t.name
    FROM invitations i JOIN tenants t ON t.id = i.tenant_id
    WHERE i.token_hash = p_token_hash OR i.mail_token_hash = p_token_hash
  $$;
