-- Daily YouTube analytics (issue 12, decision 74). The Analytics API's day
-- rows carry shares and the average view duration, which the first schema
-- lacked. Average view percentage passes 100 on Shorts that loop, so
-- avg_retention is bounded by 10000 (ANALYTICS_RETENTION_MAX), not 100.
ALTER TABLE channel_analytics ADD COLUMN shares bigint NOT NULL DEFAULT 0 CHECK (shares >= 0);
ALTER TABLE channel_analytics ADD COLUMN avg_view_duration_seconds double precision
    CHECK (avg_view_duration_seconds IS NULL OR avg_view_duration_seconds >= 0);
ALTER TABLE channel_analytics DROP CONSTRAINT channel_analytics_avg_retention_check;
ALTER TABLE channel_analytics ADD CONSTRAINT channel_analytics_avg_retention_check
    CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 10000));

-- A backfill's progress: the range asked for and the first day not yet
-- stored (next_date; NULL once done), moved forward in the transaction that
-- stores each chunk. Its id is the id of the job that runs it.
CREATE TABLE analytics_backfills (
    id           uuid PRIMARY KEY,
    channel_id   uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    from_date    date NOT NULL,
    to_date      date NOT NULL,
    next_date    date CHECK (next_date IS NULL OR (next_date >= from_date AND next_date <= to_date)),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (from_date <= to_date)
);
CREATE INDEX analytics_backfills_channel_id_idx ON analytics_backfills (channel_id);
