-- Publishing to YouTube and per-video analytics (issue 16, decisions
-- 115-119). One publication per project: what was asked for (privacy,
-- schedule, the audience and AI disclosures, the metadata as sent), and
-- where its resumable upload stands. session_uri is the upload session
-- YouTube handed out, kept so a worker killed mid-upload resumes it on
-- retry instead of starting a second video; bytes_sent is the offset the
-- session last confirmed. The row goes with its project.
CREATE TABLE project_publications (
    project_id               uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id                  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id               uuid REFERENCES channels (id) ON DELETE SET NULL,
    status                   text NOT NULL
                             CHECK (status IN ('queued', 'uploading', 'waiting', 'published', 'failed')),
    privacy_status           text NOT NULL CHECK (privacy_status IN ('private', 'unlisted', 'public')),
    publish_at               timestamptz,
    made_for_kids            boolean NOT NULL,
    contains_synthetic_media boolean NOT NULL,
    title                    text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description              text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    tags                     jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(tags) = 'array'),
    category_id              text NOT NULL CHECK (length(category_id) BETWEEN 1 AND 8),
    default_language         text CHECK (default_language IS NULL OR length(default_language) <= 35),
    session_uri              text CHECK (session_uri IS NULL OR length(session_uri) <= 2000),
    bytes_total              bigint NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
    bytes_sent               bigint NOT NULL DEFAULT 0
                             CHECK (bytes_sent >= 0 AND bytes_sent <= bytes_total),
    youtube_video_id         text CHECK (youtube_video_id IS NULL OR length(youtube_video_id) BETWEEN 1 AND 64),
    thumbnail_status         text NOT NULL DEFAULT 'none'
                             CHECK (thumbnail_status IN ('none', 'set', 'failed')),
    error                    text CHECK (error IS NULL OR length(error) <= 1000),
    job_id                   uuid,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    published_at             timestamptz,
    CHECK (publish_at IS NULL OR privacy_status = 'private'),
    CHECK (status <> 'published' OR youtube_video_id IS NOT NULL)
);
CREATE INDEX project_publications_user_id_idx ON project_publications (user_id);
CREATE INDEX project_publications_channel_id_idx ON project_publications (channel_id);
CREATE UNIQUE INDEX project_publications_video_idx ON project_publications (youtube_video_id)
    WHERE youtube_video_id IS NOT NULL;

-- Per-video DAY rows from the Analytics API (dimensions=day,video), kept
-- like channel_analytics: they go with their channel (CASCADE, as the
-- seed has channel_analytics go), and keep the persona and project that
-- made the video while those exist (SET NULL, as projects keep theirs).
CREATE TABLE video_analytics (
    id                        uuid PRIMARY KEY,
    channel_id                uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id                   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id                uuid REFERENCES projects (id) ON DELETE SET NULL,
    persona_id                uuid REFERENCES personas (id) ON DELETE SET NULL,
    youtube_video_id          text NOT NULL CHECK (length(youtube_video_id) BETWEEN 1 AND 64),
    date                      date NOT NULL,
    views                     bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes                     bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments                  bigint NOT NULL DEFAULT 0 CHECK (comments >= 0),
    shares                    bigint NOT NULL DEFAULT 0 CHECK (shares >= 0),
    watch_time_minutes        double precision NOT NULL DEFAULT 0 CHECK (watch_time_minutes >= 0),
    avg_view_duration_seconds double precision CHECK (avg_view_duration_seconds IS NULL OR avg_view_duration_seconds >= 0),
    avg_retention             double precision CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 10000)),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    UNIQUE (channel_id, youtube_video_id, date)
);
CREATE INDEX video_analytics_channel_id_date_idx ON video_analytics (channel_id, date);
CREATE INDEX video_analytics_persona_id_date_idx ON video_analytics (persona_id, date);
CREATE INDEX video_analytics_project_id_idx ON video_analytics (project_id);
CREATE INDEX video_analytics_user_id_idx ON video_analytics (user_id);
