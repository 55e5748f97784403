-- 0006: every tenant-owned reference is a composite foreign key
-- (tenant_id, x_id) -> parent (tenant_id, id) (DESIGN §6), so the database
-- itself refuses a row that points at another tenant's row, whatever a
-- handler forgot. The parents' (tenant_id, id) indexes become UNIQUE (same
-- names, so the plans the EXPLAIN test checks are unchanged). References that
-- are ON DELETE SET NULL null only their own column (PostgreSQL 15's
-- column list), never tenant_id.

DROP INDEX users_tenant_id_idx;
CREATE UNIQUE INDEX users_tenant_id_idx ON users (tenant_id, id);
DROP INDEX contexts_tenant_id_idx;
CREATE UNIQUE INDEX contexts_tenant_id_idx ON contexts (tenant_id, id);
DROP INDEX memories_tenant_id_idx;
CREATE UNIQUE INDEX memories_tenant_id_idx ON memories (tenant_id, id);

ALTER TABLE sessions
  DROP CONSTRAINT sessions_user_id_fkey,
  ADD CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE backup_codes
  DROP CONSTRAINT backup_codes_user_id_fkey,
  ADD CONSTRAINT backup_codes_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE memories
  DROP CONSTRAINT memories_context_id_fkey,
  ADD CONSTRAINT memories_context_fkey FOREIGN KEY (tenant_id, context_id)
    REFERENCES contexts (tenant_id, id) ON DELETE CASCADE,
  DROP CONSTRAINT memories_created_by_fkey,
  ADD CONSTRAINT memories_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by);

ALTER TABLE memory_tags
  DROP CONSTRAINT memory_tags_memory_id_fkey,
  ADD CONSTRAINT memory_tags_memory_fkey FOREIGN KEY (tenant_id, memory_id)
    REFERENCES memories (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE invitations
  DROP CONSTRAINT invitations_invited_by_fkey,
  ADD CONSTRAINT invitations_invited_by_fkey FOREIGN KEY (tenant_id, invited_by)
    REFERENCES users (tenant_id, id) ON DELETE SET NULL (invited_by);

-- Audit rows outlive their user (and, with tenant_id NULL, their tenant); a
-- row without a tenant references no user check at all (MATCH SIMPLE).
ALTER TABLE audit_events
  DROP CONSTRAINT audit_events_user_id_fkey,
  ADD CONSTRAINT audit_events_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id);
