-- Sessions, API keys and the login rate limiter. Credentials are stored only
-- as SHA-256 hashes of 256-bit random tokens: a database dump lets nobody in.

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    csrf_token    text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 64),
    ip            text,
    user_agent    text CHECK (user_agent IS NULL OR length(user_agent) <= 512),
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix        text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 16),
    token_hash    text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

-- Fixed-window counters shared by every server process on one database.
CREATE TABLE rate_limits (
    bucket        text NOT NULL CHECK (length(bucket) <= 300),
    window_start  bigint NOT NULL,
    hits          integer NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);
