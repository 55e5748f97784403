-- 0001: the first slice of DESIGN §6: tenants, users, sessions, audit trail,
-- authentication throttling. Ids are UUIDv7 strings; timestamps are RFC 3339
-- UTC strings with milliseconds (they sort as text).

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  require_mfa INTEGER NOT NULL DEFAULT 0 CHECK (require_mfa IN (0, 1)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE users (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email            TEXT NOT NULL UNIQUE,          -- normalised: trimmed, lower-case
  display_name     TEXT NOT NULL,
  password_hash    TEXT NOT NULL,                 -- Argon2id PHC string
  role             TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  failed_logins    INTEGER NOT NULL DEFAULT 0,
  locked_until     TEXT,
  mfa_enabled      INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
  totp_secret_enc  TEXT,                          -- field-encrypted, never plaintext
  totp_last_step   INTEGER NOT NULL DEFAULT 0,
  last_login_at    TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX users_tenant_id_idx ON users (tenant_id, id);

CREATE TABLE sessions (
  id                 TEXT PRIMARY KEY,            -- public id, shown in the sessions list
  token_hash         TEXT NOT NULL UNIQUE,        -- SHA-256 of the cookie token; never the token
  user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  auth_state         TEXT NOT NULL CHECK (auth_state IN ('full', 'mfa_pending', 'enrollment_required')),
  csrf_token         TEXT NOT NULL,
  remember_me        INTEGER NOT NULL DEFAULT 0 CHECK (remember_me IN (0, 1)),
  created_at         TEXT NOT NULL,
  last_seen_at       TEXT NOT NULL,
  expires_at         TEXT NOT NULL,
  reauthenticated_at TEXT,
  mfa_verified_at    TEXT,
  ip                 TEXT,
  user_agent         TEXT,
  revoked_at         TEXT
);
CREATE INDEX sessions_user_id_expires_idx ON sessions (user_id, expires_at);
CREATE INDEX sessions_tenant_id_idx ON sessions (tenant_id);

CREATE TABLE audit_events (
  id          TEXT PRIMARY KEY,
  ts          TEXT NOT NULL,
  tenant_id   TEXT REFERENCES tenants (id) ON DELETE SET NULL,
  user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
  event       TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  session_id  TEXT,
  ip          TEXT,
  user_agent  TEXT,
  request_id  TEXT,
  target_type TEXT,
  target_id   TEXT,
  details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant_id_idx ON audit_events (tenant_id, id);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id);

-- Failure counters for lockout and throttling, keyed by e-mail or client IP.
CREATE TABLE auth_throttle (
  key          TEXT PRIMARY KEY,                  -- 'email:<normalised>' or 'ip:<addr>'
  failures     INTEGER NOT NULL DEFAULT 0,
  window_start TEXT NOT NULL,
  locked_until TEXT
);
