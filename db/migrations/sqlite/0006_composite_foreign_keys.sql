-- portcullis: foreign_keys=off
-- 0006: every tenant-owned reference is a composite foreign key
-- (tenant_id, x_id) -> parent (tenant_id, id) (DESIGN §6), so the database
-- itself refuses a row that points at another tenant's row.
--
-- SQLite cannot alter a foreign key: each child table is rebuilt (create
-- the new table, copy, drop the old, rename). The marker on the first line
-- makes the migrator turn foreign keys off outside the transaction (inside
-- one the pragma is a no-op, and DROP TABLE would cascade into the child
-- tables), run PRAGMA foreign_key_check before commit, and turn them back on.
--
-- The parents' (tenant_id, id) indexes become UNIQUE (a composite foreign key
-- needs one). A composite ON DELETE SET NULL would null tenant_id as well, so
-- the nullable references (created_by, invited_by, audit user_id) have no
-- action of their own: a trigger nulls only that column before the user goes.

DROP INDEX users_tenant_id_idx;
CREATE UNIQUE INDEX users_tenant_id_idx ON users (tenant_id, id);
DROP INDEX contexts_tenant_id_idx;
CREATE UNIQUE INDEX contexts_tenant_id_idx ON contexts (tenant_id, id);

-- sessions
CREATE TABLE sessions_new (
  id                 TEXT PRIMARY KEY,
  token_hash         TEXT NOT NULL UNIQUE,
  user_id            TEXT NOT NULL,
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
  revoked_at         TEXT,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO sessions_new (id, token_hash, user_id, tenant_id, auth_state, csrf_token, remember_me,
                          created_at, last_seen_at, expires_at, reauthenticated_at,
                          mfa_verified_at, ip, user_agent, revoked_at)
  SELECT id, token_hash, user_id, tenant_id, auth_state, csrf_token, remember_me, created_at,
         last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent, revoked_at
  FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user_id_expires_idx ON sessions (user_id, expires_at);
CREATE INDEX sessions_tenant_id_idx ON sessions (tenant_id);

-- backup_codes
CREATE TABLE backup_codes_new (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  used_at    TEXT,
  UNIQUE (user_id, code_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO backup_codes_new (id, user_id, tenant_id, code_hash, created_at, used_at)
  SELECT id, user_id, tenant_id, code_hash, created_at, used_at FROM backup_codes;
DROP TABLE backup_codes;
ALTER TABLE backup_codes_new RENAME TO backup_codes;
CREATE INDEX backup_codes_tenant_id_idx ON backup_codes (tenant_id);

-- memories (a child of contexts and users, the parent of memory_tags)
CREATE TABLE memories_new (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  context_id  TEXT,
  title       TEXT NOT NULL,
  content_enc TEXT NOT NULL,
  tags        TEXT NOT NULL DEFAULT '[]',
  created_by  TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  FOREIGN KEY (tenant_id, context_id) REFERENCES contexts (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);
INSERT INTO memories_new (id, tenant_id, context_id, title, content_enc, tags, created_by,
                          created_at, updated_at)
  SELECT id, tenant_id, context_id, title, content_enc, tags, created_by, created_at, updated_at
  FROM memories;
DROP TABLE memories;
ALTER TABLE memories_new RENAME TO memories;
CREATE UNIQUE INDEX memories_tenant_id_idx ON memories (tenant_id, id);
CREATE INDEX memories_tenant_context_idx ON memories (tenant_id, context_id, id);
CREATE INDEX memories_context_id_idx ON memories (context_id);
CREATE INDEX memories_created_by_idx ON memories (created_by);

-- memory_tags
CREATE TABLE memory_tags_new (
  memory_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  tag       TEXT NOT NULL,
  PRIMARY KEY (memory_id, tag),
  FOREIGN KEY (tenant_id, memory_id) REFERENCES memories (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO memory_tags_new (memory_id, tenant_id, tag)
  SELECT memory_id, tenant_id, tag FROM memory_tags;
DROP TABLE memory_tags;
ALTER TABLE memory_tags_new RENAME TO memory_tags;
CREATE INDEX memory_tags_tenant_tag_idx ON memory_tags (tenant_id, tag, memory_id);

-- invitations
CREATE TABLE invitations_new (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash  TEXT NOT NULL UNIQUE,
  invited_by  TEXT,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  accepted_at TEXT,
  revoked_at  TEXT,
  FOREIGN KEY (tenant_id, invited_by) REFERENCES users (tenant_id, id)
);
INSERT INTO invitations_new (id, tenant_id, email, role, token_hash, invited_by, created_at,
                             expires_at, accepted_at, revoked_at)
  SELECT id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at,
         revoked_at
  FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE INDEX invitations_tenant_id_idx ON invitations (tenant_id, id);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);

-- audit_events: rows outlive their user, and (tenant_id NULL) their tenant.
CREATE TABLE audit_events_new (
  id          TEXT PRIMARY KEY,
  ts          TEXT NOT NULL,
  tenant_id   TEXT REFERENCES tenants (id) ON DELETE SET NULL,
  user_id     TEXT,
  event       TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  session_id  TEXT,
  ip          TEXT,
  user_agent  TEXT,
  request_id  TEXT,
  target_type TEXT,
  target_id   TEXT,
  details     TEXT NOT NULL DEFAULT '{}',
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO audit_events_new (id, ts, tenant_id, user_id, event, outcome, session_id, ip,
                              user_agent, request_id, target_type, target_id, details)
  SELECT id, ts, tenant_id, user_id, event, outcome, session_id, ip, user_agent, request_id,
         target_type, target_id, details
  FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_tenant_id_idx ON audit_events (tenant_id, id);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id);

-- ON DELETE SET NULL of one column. BEFORE DELETE: the references are gone
-- before SQLite checks the deleted key at the end of the statement.
CREATE TRIGGER users_delete_set_null_references BEFORE DELETE ON users
BEGIN
  UPDATE memories SET created_by = NULL
    WHERE tenant_id = OLD.tenant_id AND created_by = OLD.id;
  UPDATE invitations SET invited_by = NULL
    WHERE tenant_id = OLD.tenant_id AND invited_by = OLD.id;
  UPDATE audit_events SET user_id = NULL
    WHERE tenant_id = OLD.tenant_id AND user_id = OLD.id;
END;
