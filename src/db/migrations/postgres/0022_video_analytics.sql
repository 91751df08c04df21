-- Per-video analytics (issue 16, decisions 139-141). One row per published
-- video (its project's publication) and day, with the same Analytics API
-- metrics as a channel's DAY row, and the persona and persona version the
-- project was written with, copied when the row is written so that
-- attribution needs no join to projects. The row goes with its project and
-- with its channel (as channel_analytics does); a deleted persona leaves
-- the row unattributed (SET NULL), like projects.persona_id.
CREATE TABLE video_analytics (
    id                        uuid PRIMARY KEY,
    project_id                uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    channel_id                uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id                   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    youtube_video_id          text NOT NULL CHECK (length(youtube_video_id) BETWEEN 1 AND 64),
    persona_id                uuid REFERENCES personas (id) ON DELETE SET NULL,
    persona_version           integer CHECK (persona_version IS NULL OR persona_version >= 1),
    date                      date NOT NULL,
    views                     bigint NOT NULL CHECK (views >= 0),
    likes                     bigint NOT NULL CHECK (likes >= 0),
    comments                  bigint NOT NULL CHECK (comments >= 0),
    shares                    bigint NOT NULL CHECK (shares >= 0),
    watch_time_minutes        double precision NOT NULL CHECK (watch_time_minutes >= 0),
    avg_view_duration_seconds double precision CHECK (avg_view_duration_seconds IS NULL OR avg_view_duration_seconds >= 0),
    avg_retention             double precision CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 10000)),
    subscribers_gained        bigint NOT NULL CHECK (subscribers_gained >= 0),
    subscribers_lost          bigint NOT NULL CHECK (subscribers_lost >= 0),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    UNIQUE (project_id, date)
);
-- Attribution reads a channel's videos of a day; the project's own reads
-- use the unique key.
CREATE INDEX video_analytics_channel_id_date_idx ON video_analytics (channel_id, date);
CREATE INDEX video_analytics_user_id_idx ON video_analytics (user_id);
CREATE INDEX video_analytics_persona_id_idx ON video_analytics (persona_id);
-- The roll-ups' recompute reads a date's video rows (decision 81's dirty
-- dates): by date.
CREATE INDEX video_analytics_date_idx ON video_analytics (date);

-- A video row decides part of its channel-day's attribution (decision
-- 140): its date is dirty for the roll-ups whenever it changes.
CREATE FUNCTION perf_mark_videos() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT date FROM perf_new
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT date FROM perf_old
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER video_analytics_perf_insert AFTER INSERT ON video_analytics
    REFERENCING NEW TABLE AS perf_new FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_videos();
CREATE TRIGGER video_analytics_perf_update AFTER UPDATE ON video_analytics
    REFERENCING OLD TABLE AS perf_old NEW TABLE AS perf_new
    FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_videos();
CREATE TRIGGER video_analytics_perf_delete AFTER DELETE ON video_analytics
    REFERENCING OLD TABLE AS perf_old FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_videos();
