-- 0012: search that keeps content encrypted (README "Search and the blind
-- index"). See the PostgreSQL file of the same number for the design; here
-- the table is WITHOUT ROWID, so the primary key is the table (one B-tree
-- instead of a table plus an index).
--
-- Memories written before this migration have no rows yet: run
-- `portcullis keys reindex` once after upgrading.

CREATE TABLE memory_terms (
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  memory_id TEXT NOT NULL,
  term_hash TEXT NOT NULL CHECK (length(term_hash) = 32),
  PRIMARY KEY (tenant_id, term_hash, memory_id),
  FOREIGN KEY (tenant_id, memory_id) REFERENCES memories (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX memory_terms_memory_idx ON memory_terms (tenant_id, memory_id, term_hash);

-- Tags compare case- and accent-insensitively: memory_tags.tag holds the
-- folded form. SQLite's lower() folds ASCII only; reindex writes the exact
-- folded form of every tag.
DELETE FROM memory_tags
  WHERE EXISTS (SELECT 1 FROM memory_tags b
                WHERE b.memory_id = memory_tags.memory_id
                  AND lower(b.tag) = lower(memory_tags.tag) AND b.tag < memory_tags.tag);
UPDATE memory_tags SET tag = lower(tag) WHERE tag <> lower(tag);
