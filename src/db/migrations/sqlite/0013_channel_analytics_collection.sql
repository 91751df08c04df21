-- Daily YouTube analytics (issue 12, decision 74). The Analytics API's day
-- rows carry shares and the average view duration, which the first schema
-- lacked. Average view percentage passes 100 on Shorts that loop, so
-- avg_retention is bounded by 10000 (ANALYTICS_RETENTION_MAX), not 100.
-- SQLite cannot change a CHECK in place: the table is rebuilt, its unique
-- constraint and index with it.
CREATE TABLE channel_analytics_new (
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
    avg_retention        REAL CHECK (avg_retention IS NULL OR (avg_retention >= 0 AND avg_retention <= 10000)),
    avg_ctr              REAL CHECK (avg_ctr IS NULL OR (avg_ctr >= 0 AND avg_ctr <= 100)),
    impressions          INTEGER CHECK (impressions IS NULL OR impressions >= 0),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    shares               INTEGER NOT NULL DEFAULT 0 CHECK (shares >= 0),
    avg_view_duration_seconds REAL CHECK (avg_view_duration_seconds IS NULL OR avg_view_duration_seconds >= 0),
    UNIQUE (channel_id, date, period)
);
INSERT INTO channel_analytics_new (id, channel_id, user_id, date, period, views, likes, comments,
    watch_time_minutes, subscribers_gained, subscribers_lost, avg_retention, avg_ctr, impressions,
    created_at, updated_at)
SELECT id, channel_id, user_id, date, period, views, likes, comments, watch_time_minutes,
    subscribers_gained, subscribers_lost, avg_retention, avg_ctr, impressions, created_at,
    updated_at
FROM channel_analytics;
DROP TABLE channel_analytics;
ALTER TABLE channel_analytics_new RENAME TO channel_analytics;
CREATE INDEX channel_analytics_channel_id_date_idx ON channel_analytics (channel_id, date);

-- A backfill's progress: the range asked for and the first day not yet
-- stored (next_date; NULL once done), moved forward in the transaction that
-- stores each chunk. Its id is the id of the job that runs it.
CREATE TABLE analytics_backfills (
    id           TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id   TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    from_date    TEXT NOT NULL CHECK (from_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    to_date      TEXT NOT NULL CHECK (to_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    next_date    TEXT CHECK (next_date IS NULL OR (next_date >= from_date AND next_date <= to_date)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK (from_date <= to_date)
);
CREATE INDEX analytics_backfills_channel_id_idx ON analytics_backfills (channel_id);
