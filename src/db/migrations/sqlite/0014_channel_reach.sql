-- Impressions and impression CTR from the YouTube Reporting API
-- (channel_reach_basic_a1; issue 12, decision 78). A channel's reach by
-- day is kept on its own, so reach that arrives before the Analytics API's
-- DAY row is not lost: both writers merge it into channel_analytics.
-- report_created_at is the createTime of the report that gave the day: a
-- regenerated report (later createTime) replaces the day, an older one
-- never does.
CREATE TABLE channel_reach_days (
    id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id         TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date               TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    impressions        INTEGER NOT NULL CHECK (impressions >= 0),
    avg_ctr            REAL CHECK (avg_ctr IS NULL OR (avg_ctr >= 0 AND avg_ctr <= 100)),
    report_id          TEXT NOT NULL CHECK (length(report_id) BETWEEN 1 AND 128),
    report_created_at  TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (channel_id, date)
);

-- The reports folded, so none is counted twice; the latest createTime is
-- where the next listing starts (createdAfter).
CREATE TABLE channel_reach_reports (
    id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
    channel_id         TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    report_id          TEXT NOT NULL CHECK (length(report_id) BETWEEN 1 AND 128),
    first_date         TEXT NOT NULL CHECK (first_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    last_date          TEXT NOT NULL CHECK (last_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    report_created_at  TEXT NOT NULL,
    folded_at          TEXT NOT NULL,
    CHECK (first_date <= last_date),
    UNIQUE (channel_id, report_id)
);
CREATE INDEX channel_reach_reports_channel_id_created_idx
    ON channel_reach_reports (channel_id, report_created_at);
