-- The audit trail (issue 17, decisions 148-150): who did what to whose
-- account, when and from where. Append-only: the app inserts rows in the
-- transaction of the change they describe and deletes them only through
-- the retention prune of the maintenance job; the trigger below refuses
-- every UPDATE. occurred_at is the database's clock (this machine's, for
-- SQLite), written with microseconds like every other stored time so text
-- order is time order. subject_user_id is whose trail the event is in
-- (NULL: nobody's, e.g. a failed log-in for an unknown email or a key
-- rotation); it goes with its user. The actor's ids carry no foreign key:
-- a deleted actor's events keep naming who acted, and a SET NULL would be
-- the UPDATE the trail refuses. detail is a small JSON object that never
-- holds a secret (the services build it; no password, token, key or cookie).
CREATE TABLE audit_events (
    id               TEXT PRIMARY KEY,
    occurred_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    actor_kind       TEXT NOT NULL
                     CHECK (actor_kind IN ('user', 'api_key', 'admin', 'system', 'anonymous')),
    actor_user_id    TEXT,
    actor_api_key_id TEXT,
    subject_user_id  TEXT REFERENCES users (id) ON DELETE CASCADE,
    action           TEXT NOT NULL CHECK (length(action) BETWEEN 3 AND 64),
    object_type      TEXT CHECK (object_type IS NULL OR length(object_type) BETWEEN 1 AND 32),
    object_id        TEXT CHECK (object_id IS NULL OR length(object_id) BETWEEN 1 AND 64),
    client_ip        TEXT CHECK (client_ip IS NULL OR length(client_ip) BETWEEN 2 AND 45),
    detail           TEXT NOT NULL DEFAULT '{}'
                     CHECK (json_valid(detail) AND length(detail) <= 4000),
    CHECK (actor_kind IN ('system', 'anonymous') OR actor_user_id IS NOT NULL),
    CHECK (actor_kind <> 'api_key' OR actor_api_key_id IS NOT NULL)
);
-- A user's own trail, newest first (the cursor is the id, UUIDv7).
CREATE INDEX audit_events_subject_idx ON audit_events (subject_user_id, id);
-- The retention prune and time-range reads of the admin view.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
