-- Google connect (issue 5). The accounts table itself is in 0001; this step
-- adds what the connect flow and the token encryption need.

-- One row per authorization request in flight: the state is single-use,
-- bound to the user and to the session (or API key) that started the flow,
-- and expires in minutes. Only the SHA-256 of the state is kept; the PKCE
-- verifier is encrypted like a token (it must be sent back at the exchange).
CREATE TABLE oauth_states (
    id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      TEXT NOT NULL CHECK (length(credential_id) = 36),
    provider           TEXT NOT NULL DEFAULT 'google' CHECK (provider IN ('google')),
    state_hash         TEXT NOT NULL UNIQUE CHECK (length(state_hash) = 64),
    code_verifier_enc  BLOB NOT NULL,
    key_version        INTEGER NOT NULL CHECK (key_version >= 1),
    redirect_uri       TEXT NOT NULL CHECK (length(redirect_uri) BETWEEN 1 AND 2048),
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    used_at            TEXT
);
CREATE INDEX oauth_states_user_id_idx ON oauth_states (user_id);
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);

-- The versions of the token encryption key. Each version's key is derived
-- from the master key (PSTUDIO_SECRET_KEY or <data_dir>/secret.key), which is
-- never stored here; key_check is a keyed hash of a constant under the
-- version's key, so a process started with the wrong master key says so
-- instead of calling every token tampered.
CREATE TABLE token_keys (
    version     INTEGER PRIMARY KEY CHECK (version >= 1),
    key_check   TEXT NOT NULL CHECK (length(key_check) = 64),
    created_at  TEXT NOT NULL
);

CREATE INDEX accounts_key_version_idx ON accounts (key_version);
