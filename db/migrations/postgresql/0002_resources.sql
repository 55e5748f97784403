-- 0002: the tenant's own data (contexts, memories, tags) and invitations,
-- with an index on every foreign key and the composite indexes that the
-- tenant-scoped keyset queries use (DESIGN §6).

CREATE TABLE contexts (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE INDEX contexts_tenant_id_idx ON contexts (tenant_id, id);

CREATE TABLE memories (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  context_id  uuid REFERENCES contexts (id) ON DELETE CASCADE,
  title       text NOT NULL,
  content_enc text NOT NULL,                      -- field-encrypted (v1.<key>.<…>), never plaintext
  tags        jsonb NOT NULL DEFAULT '[]',        -- for display; memory_tags for filtering
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX memories_tenant_id_idx ON memories (tenant_id, id);
CREATE INDEX memories_tenant_context_idx ON memories (tenant_id, context_id, id);
CREATE INDEX memories_context_id_idx ON memories (context_id);
CREATE INDEX memories_created_by_idx ON memories (created_by);

CREATE TABLE memory_tags (
  memory_id uuid NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  tag       text NOT NULL,
  PRIMARY KEY (memory_id, tag)
);
CREATE INDEX memory_tags_tenant_tag_idx ON memory_tags (tenant_id, tag, memory_id);

CREATE TABLE invitations (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email       text NOT NULL,
  role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash  text NOT NULL UNIQUE,               -- SHA-256 of the one-time token
  invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX invitations_tenant_id_idx ON invitations (tenant_id, id);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);
