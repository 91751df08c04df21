-- Script generation (flow 3). A project's generation counter names the
-- request its queued job serves: a job whose number is no longer the
-- project's (the user asked again, or an admin re-queued an old dead job)
-- completes without touching anything. Idempotency keys make a retried
-- POST return the first answer instead of starting a second generation;
-- they are scoped per user and kept 24 hours.

ALTER TABLE projects ADD COLUMN generation integer NOT NULL DEFAULT 0 CHECK (generation >= 0);

-- The event stream polls each user's recently changed projects.
CREATE INDEX projects_user_id_updated_at_idx ON projects (user_id, updated_at);

CREATE TABLE idempotency_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key     text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 200),
    fingerprint  text NOT NULL CHECK (length(fingerprint) = 64),
    status_code  integer NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response     text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    UNIQUE (user_id, idem_key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
