-- 0007: the outbox (DESIGN §6, second slice): mail to send, written in the
-- transaction that causes it, so a rolled-back change sends nothing and a
-- committed one loses nothing. `portcullis mail deliver` claims due rows
-- (FOR UPDATE SKIP LOCKED, so two deliverers never take the same row), sends
-- them and records the outcome.
--
-- A system table, not tenant data: no row-level security (the deliverer works
-- across tenants); tenant_id and user_id are kept for audit only and carry no
-- foreign key, so deleting an account does not erase the record of what was
-- sent. params holds the template's values (strings only); last_error is a
-- short transport reason, never a secret.

CREATE TABLE outbox (
  id              uuid PRIMARY KEY,
  kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
  to_address      text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
  to_name         text NOT NULL DEFAULT '',
  params          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(params) = 'object'),
  tenant_id       uuid,
  user_id         uuid,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped')),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  last_error      text CHECK (length(last_error) <= 200),
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz,
  message_id      text
);
-- The delivery query: due rows of the states a deliverer may take.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at)
  WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_status_idx ON outbox (status);

-- The app role enqueues (INSERT), and the deliverer, which connects as the
-- app role, reads and updates rows; nobody but the owner deletes them.
DO $$
DECLARE
  grantee_name text;
BEGIN
  FOR grantee_name IN
    SELECT DISTINCT grantee FROM information_schema.role_table_grants
    WHERE table_name = 'outbox' AND grantee <> current_user
  LOOP
    EXECUTE format('REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON outbox FROM %I', grantee_name);
  END LOOP;
END
$$;
