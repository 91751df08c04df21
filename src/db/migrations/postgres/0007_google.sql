-- Google connect (issue 5). The accounts table itself is in 0001; this step
-- adds what the connect flow and the token encryption need.

-- One row per authorization request in flight: the state is single-use,
-- bound to the user and to the session (or API key) that started the flow,
-- and expires in minutes. Only the SHA-256 of the state is kept; the PKCE
-- verifier is encrypted like a token (it must be sent back at the exchange).
CREATE TABLE oauth_states (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      uuid NOT NULL,
    provider           text NOT NULL DEFAULT 'google' CHECK (provider IN ('google')),
    state_hash         text NOT NULL UNIQUE CHECK (length(state_hash) = 64),
    code_verifier_enc  bytea NOT NULL,
    key_version        integer NOT NULL CHECK (key_version >= 1),
    redirect_uri       text NOT NULL CHECK (length(redirect_uri) BETWEEN 1 AND 2048),
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz
);
CREATE INDEX oauth_states_user_id_idx ON oauth_states (user_id);
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);

-- The versions of the token encryption key. Each version's key is derived
-- from the master key (PSTUDIO_SECRET_KEY or <data_dir>/secret.key), which is
-- never stored here; key_check is a keyed hash of a constant under the
-- version's key, so a process started with the wrong master key says so
-- instead of calling every token tampered.
CREATE TABLE token_keys (
    version     integer PRIMARY KEY CHECK (version >= 1),
    key_check   text NOT NULL CHECK (length(key_check) = 64),
    created_at  timestamptz NOT NULL
);

CREATE INDEX accounts_key_version_idx ON accounts (key_version);
