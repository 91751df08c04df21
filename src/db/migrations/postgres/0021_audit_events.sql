-- The audit trail (issue 17, decisions 148-150): who did what to whose
-- account, when and from where. Append-only: the app inserts rows in the
-- transaction of the change they describe and deletes them only through
-- the retention prune of the maintenance job; the trigger below refuses
-- every UPDATE. occurred_at is the database server's clock
-- (clock_timestamp(), the moment of the insert, not the transaction's
-- start). subject_user_id is whose trail the event is in (NULL: nobody's,
-- e.g. a failed log-in for an unknown email or a key rotation); it goes
-- with its user. The actor's ids carry no foreign key: a deleted actor's
-- events keep naming who acted, and a SET NULL would be the UPDATE the
-- trail refuses. detail is a small JSON object that never holds a secret
-- (the services build it; no password, token, key or cookie).
CREATE TABLE audit_events (
    id               uuid PRIMARY KEY,
    occurred_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind       text NOT NULL
                     CHECK (actor_kind IN ('user', 'api_key', 'admin', 'system', 'anonymous')),
    actor_user_id    uuid,
    actor_api_key_id uuid,
    subject_user_id  uuid REFERENCES users (id) ON DELETE CASCADE,
    action           text NOT NULL CHECK (length(action) BETWEEN 3 AND 64),
    object_type      text CHECK (object_type IS NULL OR length(object_type) BETWEEN 1 AND 32),
    object_id        text CHECK (object_id IS NULL OR length(object_id) BETWEEN 1 AND 64),
    client_ip        text CHECK (client_ip IS NULL OR length(client_ip) BETWEEN 2 AND 45),
    detail           jsonb NOT NULL DEFAULT '{}'
                     CHECK (jsonb_typeof(detail) = 'object' AND length(detail::text) <= 4000),
    CHECK (actor_kind IN ('system', 'anonymous') OR actor_user_id IS NOT NULL),
    CHECK (actor_kind <> 'api_key' OR actor_api_key_id IS NOT NULL)
);
-- A user's own trail, newest first (the cursor is the id, UUIDv7).
CREATE INDEX audit_events_subject_idx ON audit_events (subject_user_id, id);
-- The retention prune and time-range reads of the admin view.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE FUNCTION audit_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_update();
