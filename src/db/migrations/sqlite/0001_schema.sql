-- Persona Studio schema, SQLite flavour. Mirrors postgres/0001_schema.sql
-- table for table; the seed's unique constraints, cascade rules and indexes
-- are binding (shared/seed/personas-and-channels.md).
-- Conventions: ids are UUIDv7 text made by the app; times are RFC 3339 text
-- in UTC with microseconds; booleans are 0/1; JSON is text checked by json_valid.

CREATE TABLE plans (
    id                      TEXT PRIMARY KEY CHECK (length(id) = 36),
    code                    TEXT NOT NULL UNIQUE CHECK (code <> '' AND length(code) <= 32),
    name                    TEXT NOT NULL CHECK (length(name) <= 100),
    rank                    INTEGER NOT NULL UNIQUE CHECK (rank >= 0),
    max_channels            INTEGER CHECK (max_channels IS NULL OR max_channels >= 0),
    max_projects_per_month  INTEGER CHECK (max_projects_per_month IS NULL OR max_projects_per_month >= 0),
    default_persona_id      TEXT REFERENCES personas (id) ON DELETE SET NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY CHECK (length(id) = 36),
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name           TEXT NOT NULL CHECK (length(name) <= 200),
    role           TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    plan_id        TEXT NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    password_hash  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_plan_id_idx ON users (plan_id);

CREATE TABLE accounts (
    id                   TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider             TEXT NOT NULL CHECK (provider IN ('google')),
    provider_account_id  TEXT NOT NULL CHECK (length(provider_account_id) BETWEEN 1 AND 255),
    email                TEXT,
    scopes               TEXT NOT NULL DEFAULT '',
    access_token_enc     BLOB,
    refresh_token_enc    BLOB,
    key_version          INTEGER NOT NULL DEFAULT 1 CHECK (key_version >= 1),
    expires_at           TEXT,
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reconnect')),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (user_id, provider, provider_account_id)
);

CREATE TABLE personas (
    id                  TEXT PRIMARY KEY CHECK (length(id) = 36),
    type                TEXT NOT NULL CHECK (type IN ('SYSTEM', 'CUSTOM')),
    owner_id            TEXT REFERENCES users (id) ON DELETE CASCADE,
    visibility          TEXT NOT NULL DEFAULT 'PRIVATE' CHECK (visibility IN ('PRIVATE', 'PUBLIC')),
    required_plan       TEXT NOT NULL DEFAULT 'free' REFERENCES plans (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description         TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    system_instruction  TEXT NOT NULL CHECK (length(system_instruction) BETWEEN 1 AND 20000),
    temperature         REAL NOT NULL DEFAULT 1.0 CHECK (temperature >= 0 AND temperature <= 2),
    top_p               REAL NOT NULL DEFAULT 0.95 CHECK (top_p >= 0 AND top_p <= 1),
    top_k               INTEGER NOT NULL DEFAULT 40 CHECK (top_k >= 1),
    language            TEXT NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 35),
    voice               TEXT CHECK (voice IS NULL OR length(voice) <= 100),
    is_official         INTEGER NOT NULL DEFAULT 0 CHECK (is_official IN (0, 1)),
    version             INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK ((type = 'SYSTEM' AND owner_id IS NULL) OR (type = 'CUSTOM' AND owner_id IS NOT NULL)),
    CHECK (is_official = 0 OR type = 'SYSTEM')
);
CREATE INDEX personas_type_visibility_required_plan_idx ON personas (type, visibility, required_plan);
CREATE INDEX personas_owner_id_idx ON personas (owner_id);

CREATE TABLE persona_history (
    id             TEXT PRIMARY KEY CHECK (length(id) = 36),
    persona_id     TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL CHECK (version >= 1),
    snapshot       TEXT NOT NULL CHECK (json_valid(snapshot)),
    changed_by     TEXT REFERENCES users (id) ON DELETE SET NULL,
    change_reason  TEXT CHECK (change_reason IS NULL OR length(change_reason) <= 500),
    created_at     TEXT NOT NULL,
    UNIQUE (persona_id, version)
);

CREATE TABLE channels (
    id                  TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id          TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    youtube_channel_id  TEXT NOT NULL CHECK (length(youtube_channel_id) BETWEEN 1 AND 64),
    persona_id          TEXT REFERENCES personas (id) ON DELETE SET NULL,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    thumbnail           TEXT CHECK (thumbnail IS NULL OR length(thumbnail) <= 2048),
    custom_url          TEXT,
    uploads_playlist_id TEXT,
    subscriber_count    INTEGER CHECK (subscriber_count IS NULL OR subscriber_count >= 0),
    view_count          INTEGER CHECK (view_count IS NULL OR view_count >= 0),
    video_count         INTEGER CHECK (video_count IS NULL OR video_count >= 0),
    stats_updated_at    TEXT,
    auto_optimize       INTEGER NOT NULL DEFAULT 0 CHECK (auto_optimize IN (0, 1)),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (user_id, youtube_channel_id)
);
CREATE INDEX channels_user_id_idx ON channels (user_id);
CREATE INDEX channels_persona_id_idx ON channels (persona_id);
CREATE INDEX channels_account_id_idx ON channels (account_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id       TEXT REFERENCES channels (id) ON DELETE SET NULL,
    persona_id       TEXT REFERENCES personas (id) ON DELETE SET NULL,
    persona_version  INTEGER CHECK (persona_version IS NULL OR persona_version >= 1),
    topic            TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 500),
    status           TEXT NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'queued', 'generating', 'scripted', 'producing', 'ready', 'failed')),
    title            TEXT CHECK (title IS NULL OR length(title) <= 200),
    description      TEXT CHECK (description IS NULL OR length(description) <= 5000),
    tags             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX projects_channel_id_idx ON projects (channel_id);
CREATE INDEX projects_persona_id_idx ON projects (persona_id);
CREATE INDEX projects_user_id_id_idx ON projects (user_id, id);

CREATE TABLE scenes (
    id                  TEXT PRIMARY KEY CHECK (length(id) = 36),
    project_id          TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL CHECK (position >= 0),
    visual_description  TEXT NOT NULL DEFAULT '' CHECK (length(visual_description) <= 5000),
    narration           TEXT NOT NULL DEFAULT '' CHECK (length(narration) <= 10000),
    image_status        TEXT NOT NULL DEFAULT 'PENDING'
                        CHECK (image_status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    audio_status        TEXT NOT NULL DEFAULT 'PENDING'
                        CHECK (audio_status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    image_path          TEXT,
    audio_path          TEXT,
    duration_ms         INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX scenes_project_id_position_idx ON scenes (project_id, position);

CREATE TABLE channel_analytics (
    id                   TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id           TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date                 TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    period               TEXT NOT NULL CHECK (period IN ('DAY', 'WEEK')),
    views                INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes                INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments             INTEGER NOT NULL DEFAULT 0 CHECK (comments >= 0),
    watch_time_minutes   REAL NOT NULL DEFAULT 0 CHECK (watch_time_minutes >= 0),
    subscribers_gained   INTEGER NOT NULL DEFAULT 0 CHECK (subscribers_gained >= 0),
    subscribers_lost     INTEGER NOT NULL DEFAULT 0 CHECK (subscribers_lost >= 0),
    avg_retention        REAL CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 100)),
    avg_ctr              REAL CHECK (avg_ctr IS NULL OR (avg_ctr >= 0 AND avg_ctr <= 100)),
    impressions          INTEGER CHECK (impressions IS NULL OR impressions >= 0),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (channel_id, date, period)
);
CREATE INDEX channel_analytics_channel_id_date_idx ON channel_analytics (channel_id, date);

CREATE TABLE persona_usage_logs (
    id           TEXT PRIMARY KEY CHECK (length(id) = 36),
    persona_id   TEXT REFERENCES personas (id) ON DELETE SET NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id   TEXT REFERENCES projects (id) ON DELETE SET NULL,
    action       TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    success      INTEGER NOT NULL CHECK (success IN (0, 1)),
    duration_ms  INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    tokens_in    INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out   INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    provider     TEXT,
    model        TEXT,
    error_code   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX persona_usage_logs_persona_id_created_at_idx ON persona_usage_logs (persona_id, created_at);
CREATE INDEX persona_usage_logs_user_id_created_at_idx ON persona_usage_logs (user_id, created_at);

CREATE TABLE channel_persona_assignments (
    id                   TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id           TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    persona_id           TEXT REFERENCES personas (id) ON DELETE SET NULL,
    persona_version      INTEGER CHECK (persona_version IS NULL OR persona_version >= 1),
    previous_persona_id  TEXT REFERENCES personas (id) ON DELETE SET NULL,
    assigned_by          TEXT REFERENCES users (id) ON DELETE SET NULL,
    source               TEXT NOT NULL CHECK (source IN ('manual', 'optimizer')),
    reason               TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    created_at           TEXT NOT NULL
);
CREATE INDEX channel_persona_assignments_channel_id_created_at_idx
    ON channel_persona_assignments (channel_id, created_at);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY CHECK (length(id) = 36),
    kind              TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    payload           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
    priority          INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'dead')),
    run_at            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    last_error        TEXT,
    unique_key        TEXT UNIQUE,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    finished_at       TEXT
);
CREATE INDEX jobs_status_run_at_idx ON jobs (status, run_at, priority);
