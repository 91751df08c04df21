-- Publishing to YouTube (issue 16, decisions 115-117). One publication per
-- project: what was asked for (privacy, schedule, the audience and AI
-- disclosures, the metadata as sent), and
-- where its resumable upload stands. session_uri is the upload session
-- YouTube handed out, kept so a worker killed mid-upload resumes it on
-- retry instead of starting a second video; bytes_sent is the offset the
-- session last confirmed. The row goes with its project.
CREATE TABLE project_publications (
    project_id               TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id               TEXT REFERENCES channels (id) ON DELETE SET NULL,
    status                   TEXT NOT NULL
                             CHECK (status IN ('queued', 'uploading', 'waiting', 'published', 'failed')),
    privacy_status           TEXT NOT NULL CHECK (privacy_status IN ('private', 'unlisted', 'public')),
    publish_at               TEXT,
    made_for_kids            INTEGER NOT NULL CHECK (made_for_kids IN (0, 1)),
    contains_synthetic_media INTEGER NOT NULL CHECK (contains_synthetic_media IN (0, 1)),
    title                    TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description              TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    tags                     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    category_id              TEXT NOT NULL CHECK (length(category_id) BETWEEN 1 AND 8),
    default_language         TEXT CHECK (default_language IS NULL OR length(default_language) <= 35),
    session_uri              TEXT CHECK (session_uri IS NULL OR length(session_uri) <= 2000),
    bytes_total              INTEGER NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
    bytes_sent               INTEGER NOT NULL DEFAULT 0
                             CHECK (bytes_sent >= 0 AND bytes_sent <= bytes_total),
    youtube_video_id         TEXT CHECK (youtube_video_id IS NULL OR length(youtube_video_id) BETWEEN 1 AND 64),
    thumbnail_status         TEXT NOT NULL DEFAULT 'none'
                             CHECK (thumbnail_status IN ('none', 'set', 'failed')),
    error                    TEXT CHECK (error IS NULL OR length(error) <= 1000),
    job_id                   TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    published_at             TEXT,
    CHECK (publish_at IS NULL OR privacy_status = 'private'),
    CHECK (status <> 'published' OR youtube_video_id IS NOT NULL)
);
CREATE INDEX project_publications_user_id_idx ON project_publications (user_id);
CREATE INDEX project_publications_channel_id_idx ON project_publications (channel_id);
CREATE UNIQUE INDEX project_publications_video_idx ON project_publications (youtube_video_id)
    WHERE youtube_video_id IS NOT NULL;
