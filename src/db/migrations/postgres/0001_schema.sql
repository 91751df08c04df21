-- Persona Studio schema, PostgreSQL flavour. Mirrors sqlite/0001_schema.sql
-- table for table; the seed's unique constraints, cascade rules and indexes
-- are binding (shared/seed/personas-and-channels.md).
-- Conventions: ids are uuid (UUIDv7 made by the app); times are timestamptz;
-- JSON is jsonb.

CREATE TABLE plans (
    id                      uuid PRIMARY KEY,
    code                    text NOT NULL UNIQUE CHECK (code <> '' AND length(code) <= 32),
    name                    text NOT NULL CHECK (length(name) <= 100),
    rank                    integer NOT NULL UNIQUE CHECK (rank >= 0),
    max_channels            integer CHECK (max_channels IS NULL OR max_channels >= 0),
    max_projects_per_month  integer CHECK (max_projects_per_month IS NULL OR max_projects_per_month >= 0),
    default_persona_id      uuid,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name           text NOT NULL CHECK (length(name) <= 200),
    role           text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    plan_id        uuid NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    password_hash  text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_plan_id_idx ON users (plan_id);

CREATE TABLE accounts (
    id                   uuid PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider             text NOT NULL CHECK (provider IN ('google')),
    provider_account_id  text NOT NULL CHECK (length(provider_account_id) BETWEEN 1 AND 255),
    email                text,
    scopes               text NOT NULL DEFAULT '',
    access_token_enc     bytea,
    refresh_token_enc    bytea,
    key_version          integer NOT NULL DEFAULT 1 CHECK (key_version >= 1),
    expires_at           timestamptz,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reconnect')),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    UNIQUE (user_id, provider, provider_account_id)
);

CREATE TABLE personas (
    id                  uuid PRIMARY KEY,
    type                text NOT NULL CHECK (type IN ('SYSTEM', 'CUSTOM')),
    owner_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    visibility          text NOT NULL DEFAULT 'PRIVATE' CHECK (visibility IN ('PRIVATE', 'PUBLIC')),
    required_plan       text NOT NULL DEFAULT 'free' REFERENCES plans (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    system_instruction  text NOT NULL CHECK (length(system_instruction) BETWEEN 1 AND 20000),
    temperature         double precision NOT NULL DEFAULT 1.0 CHECK (temperature >= 0 AND temperature <= 2),
    top_p               double precision NOT NULL DEFAULT 0.95 CHECK (top_p >= 0 AND top_p <= 1),
    top_k               integer NOT NULL DEFAULT 40 CHECK (top_k >= 1),
    language            text NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 35),
    voice               text CHECK (voice IS NULL OR length(voice) <= 100),
    is_official         boolean NOT NULL DEFAULT false,
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((type = 'SYSTEM' AND owner_id IS NULL) OR (type = 'CUSTOM' AND owner_id IS NOT NULL)),
    CHECK (NOT is_official OR type = 'SYSTEM')
);
CREATE INDEX personas_type_visibility_required_plan_idx ON personas (type, visibility, required_plan);
CREATE INDEX personas_owner_id_idx ON personas (owner_id);

CREATE TABLE persona_history (
    id             uuid PRIMARY KEY,
    persona_id     uuid NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    snapshot       jsonb NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    changed_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    change_reason  text CHECK (change_reason IS NULL OR length(change_reason) <= 500),
    created_at     timestamptz NOT NULL,
    UNIQUE (persona_id, version)
);

CREATE TABLE channels (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id          uuid REFERENCES accounts (id) ON DELETE SET NULL,
    youtube_channel_id  text NOT NULL CHECK (length(youtube_channel_id) BETWEEN 1 AND 64),
    persona_id          uuid REFERENCES personas (id) ON DELETE SET NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    thumbnail           text CHECK (thumbnail IS NULL OR length(thumbnail) <= 2048),
    custom_url          text,
    uploads_playlist_id text,
    subscriber_count    bigint CHECK (subscriber_count IS NULL OR subscriber_count >= 0),
    view_count          bigint CHECK (view_count IS NULL OR view_count >= 0),
    video_count         bigint CHECK (video_count IS NULL OR video_count >= 0),
    stats_updated_at    timestamptz,
    auto_optimize       boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (user_id, youtube_channel_id)
);
CREATE INDEX channels_user_id_idx ON channels (user_id);
CREATE INDEX channels_persona_id_idx ON channels (persona_id);
CREATE INDEX channels_account_id_idx ON channels (account_id);

CREATE TABLE projects (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id       uuid REFERENCES channels (id) ON DELETE SET NULL,
    persona_id       uuid REFERENCES personas (id) ON DELETE SET NULL,
    persona_version  integer CHECK (persona_version IS NULL OR persona_version >= 1),
    topic            text NOT NULL CHECK (length(topic) BETWEEN 1 AND 500),
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'queued', 'generating', 'scripted', 'producing', 'ready', 'failed')),
    title            text CHECK (title IS NULL OR length(title) <= 200),
    description      text CHECK (description IS NULL OR length(description) <= 5000),
    tags             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    error            text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX projects_channel_id_idx ON projects (channel_id);
CREATE INDEX projects_persona_id_idx ON projects (persona_id);
CREATE INDEX projects_user_id_id_idx ON projects (user_id, id);

CREATE TABLE scenes (
    id                  uuid PRIMARY KEY,
    project_id          uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position            integer NOT NULL CHECK (position >= 0),
    visual_description  text NOT NULL DEFAULT '' CHECK (length(visual_description) <= 5000),
    narration           text NOT NULL DEFAULT '' CHECK (length(narration) <= 10000),
    image_status        text NOT NULL DEFAULT 'PENDING'
                        CHECK (image_status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    audio_status        text NOT NULL DEFAULT 'PENDING'
                        CHECK (audio_status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    image_path          text,
    audio_path          text,
    duration_ms         integer CHECK (duration_ms IS NULL OR duration_ms >= 0),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX scenes_project_id_position_idx ON scenes (project_id, position);

CREATE TABLE channel_analytics (
    id                   uuid PRIMARY KEY,
    channel_id           uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date                 date NOT NULL,
    period               text NOT NULL CHECK (period IN ('DAY', 'WEEK')),
    views                bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes                bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments             bigint NOT NULL DEFAULT 0 CHECK (comments >= 0),
    watch_time_minutes   double precision NOT NULL DEFAULT 0 CHECK (watch_time_minutes >= 0),
    subscribers_gained   bigint NOT NULL DEFAULT 0 CHECK (subscribers_gained >= 0),
    subscribers_lost     bigint NOT NULL DEFAULT 0 CHECK (subscribers_lost >= 0),
    avg_retention        double precision CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 100)),
    avg_ctr              double precision CHECK (avg_ctr IS NULL OR (avg_ctr >= 0 AND avg_ctr <= 100)),
    impressions          bigint CHECK (impressions IS NULL OR impressions >= 0),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    UNIQUE (channel_id, date, period)
);
CREATE INDEX channel_analytics_channel_id_date_idx ON channel_analytics (channel_id, date);

CREATE TABLE persona_usage_logs (
    id           uuid PRIMARY KEY,
    persona_id   uuid REFERENCES personas (id) ON DELETE SET NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id   uuid REFERENCES projects (id) ON DELETE SET NULL,
    action       text NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    success      boolean NOT NULL,
    duration_ms  integer NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    tokens_in    bigint NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out   bigint NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    provider     text,
    model        text,
    error_code   text,
    created_at   timestamptz NOT NULL
);
CREATE INDEX persona_usage_logs_persona_id_created_at_idx ON persona_usage_logs (persona_id, created_at);
CREATE INDEX persona_usage_logs_user_id_created_at_idx ON persona_usage_logs (user_id, created_at);

CREATE TABLE channel_persona_assignments (
    id                   uuid PRIMARY KEY,
    channel_id           uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    persona_id           uuid REFERENCES personas (id) ON DELETE SET NULL,
    persona_version      integer CHECK (persona_version IS NULL OR persona_version >= 1),
    previous_persona_id  uuid REFERENCES personas (id) ON DELETE SET NULL,
    assigned_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    source               text NOT NULL CHECK (source IN ('manual', 'optimizer')),
    reason               text CHECK (reason IS NULL OR length(reason) <= 1000),
    created_at           timestamptz NOT NULL
);
CREATE INDEX channel_persona_assignments_channel_id_created_at_idx
    ON channel_persona_assignments (channel_id, created_at);

CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    payload           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    user_id           uuid REFERENCES users (id) ON DELETE CASCADE,
    priority          integer NOT NULL DEFAULT 0,
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'dead')),
    run_at            timestamptz NOT NULL,
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    lease_owner       text,
    lease_expires_at  timestamptz,
    last_error        text,
    unique_key        text UNIQUE,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    finished_at       timestamptz
);
CREATE INDEX jobs_status_run_at_idx ON jobs (status, run_at, priority);

-- plans.default_persona_id points forward to personas, so its constraint is
-- added once both tables exist (SQLite resolves the reference lazily).
ALTER TABLE plans ADD CONSTRAINT plans_default_persona_id_fkey
    FOREIGN KEY (default_persona_id) REFERENCES personas (id) ON DELETE SET NULL;
