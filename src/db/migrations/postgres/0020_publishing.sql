-- Publishing to YouTube (issue 16, decisions 115-117). One publication per
-- project: what was asked for (privacy, schedule, the audience and AI
-- disclosures, the metadata as sent), and
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
