-- 0012: search that keeps content encrypted (README "Search and the blind
-- index").
--
-- memory_terms is the blind index: for each memory, the keyed hashes of the
-- normalised words (and 3–8 letter prefixes) of its title and content, under
-- the tenant's search key (app/crypto/blind_index.h). No word is stored in
-- clear. The app writes a memory's rows in the transaction that creates or
-- changes it; deleting the memory deletes them (composite foreign key,
-- ON DELETE CASCADE); `portcullis keys reindex` (and reencrypt) rebuild them.
-- The primary key (tenant_id, term_hash, memory_id) makes a term's memories
-- one index range, newest first when walked backwards (UUIDv7 ids).
--
-- Memories written before this migration have no rows yet: run
-- `portcullis keys reindex` once after upgrading.
--
-- Tags compare case- and accent-insensitively: memory_tags.tag now holds the
-- folded form (app/text/normalise.h fold_text), the memory's tags column the
-- form the user typed. lower() is the closest SQL can do here; reindex writes
-- the exact folded form of every tag.

CREATE TABLE memory_terms (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  memory_id uuid NOT NULL,
  term_hash text NOT NULL CHECK (term_hash ~ '^[0-9a-f]{32}$'),
  PRIMARY KEY (tenant_id, term_hash, memory_id),
  FOREIGN KEY (tenant_id, memory_id) REFERENCES memories (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX memory_terms_memory_idx ON memory_terms (tenant_id, memory_id, term_hash);

ALTER TABLE memory_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memory_terms
  USING (tenant_id = portcullis_current_tenant())
  WITH CHECK (tenant_id = portcullis_current_tenant());
CREATE POLICY schema_owner ON memory_terms TO CURRENT_USER USING (true) WITH CHECK (true);

DELETE FROM memory_tags a USING memory_tags b
  WHERE a.memory_id = b.memory_id AND lower(a.tag) = lower(b.tag) AND a.tag > b.tag;
UPDATE memory_tags SET tag = lower(tag) WHERE tag <> lower(tag);
