-- 0007: the outbox (DESIGN §6, second slice): mail to send, written in the
-- transaction that causes it, so a rolled-back change sends nothing and a
-- committed one loses nothing. `portcullis mail deliver` claims due rows in a
-- write transaction (BEGIN IMMEDIATE holds the database's write lock, so two
-- deliverers never take the same row), sends them and records the outcome.
--
-- A system table, not tenant data; tenant_id and user_id are kept for audit
-- only and carry no foreign key. params holds the template's values (a JSON
-- object of strings); last_error is a short transport reason, never a secret.

CREATE TABLE outbox (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  to_address      TEXT NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
  to_name         TEXT NOT NULL DEFAULT '',
  params          TEXT NOT NULL DEFAULT '{}' CHECK (json_type(params) = 'object'),
  tenant_id       TEXT,
  user_id         TEXT,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT NOT NULL,
  last_error      TEXT CHECK (length(last_error) <= 200),
  created_at      TEXT NOT NULL,
  sent_at         TEXT,
  message_id      TEXT
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at)
  WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_status_idx ON outbox (status);
