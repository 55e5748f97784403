-- 0011: housekeeping of spent mail tokens and delivered mail, for
-- `portcullis maintenance`, which runs as the app role with no tenant bound.
--  - user_tokens is under row-level security (0009): the purge of every
--    tenant's spent tokens goes through the owner, as known_devices' does
--    (0008). A token used or expired before p_before is deleted. Only the
--    newest token of a user and purpose is ever accepted, and an older one
--    was voided (used_at) when the newer was made, or expired before it: so
--    the purge never turns an older token back into the newest usable one.
--  - the app role may not delete outbox rows (0007): sent and dropped rows
--    created before p_before are deleted through the owner too; pending,
--    sending and dead rows are never touched here (a dead letter stays until
--    an operator retries it).
-- Each function deletes only what its predicate names and returns only how
-- many rows it deleted.

CREATE FUNCTION portcullis_purge_user_tokens(p_before timestamptz)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    WITH gone AS (DELETE FROM user_tokens WHERE used_at < p_before OR expires_at < p_before
                  RETURNING 1)
    SELECT count(*) FROM gone
  $$;

CREATE FUNCTION portcullis_purge_outbox(p_before timestamptz)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    WITH gone AS (DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND created_at < p_before
                  RETURNING 1)
    SELECT count(*) FROM gone
  $$;
