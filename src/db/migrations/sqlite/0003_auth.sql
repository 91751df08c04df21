-- Sessions, API keys and the login rate limiter. Credentials are stored only
-- as SHA-256 hashes of 256-bit random tokens: a database dump lets nobody in.

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    csrf_token    TEXT NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 64),
    ip            TEXT,
    user_agent    TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 512),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix        TEXT NOT NULL CHECK (length(prefix) BETWEEN 4 AND 16),
    token_hash    TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

-- Fixed-window counters shared by every server process on one database.
CREATE TABLE rate_limits (
    bucket        TEXT NOT NULL CHECK (length(bucket) <= 300),
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);
