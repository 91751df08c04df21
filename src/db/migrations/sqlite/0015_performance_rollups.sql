-- Performance by persona, rolled up per day (issue 12, decision 81); see
-- the PostgreSQL migration for the design. SQLite triggers are per row; a
-- date is marked once with NOT EXISTS (not INSERT OR IGNORE: the conflict
-- policy of the statement that fires a trigger overrides the trigger's own,
-- and an upsert's DO UPDATE fires it with ABORT). SQLite runs one writer at
-- a time, so the job's recompute and delete of a mark see every committed
-- write.
CREATE TABLE perf_persona_days (
    date             TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    persona_id       TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    channel_days     INTEGER NOT NULL CHECK (channel_days > 0),
    views_n          INTEGER NOT NULL,
    views_sum        REAL NOT NULL,
    views_sumsq      REAL NOT NULL,
    wpv_n            INTEGER NOT NULL,
    wpv_sum          REAL,
    wpv_sumsq        REAL,
    retention_n      INTEGER NOT NULL,
    retention_sum    REAL,
    retention_sumsq  REAL,
    ctr_n            INTEGER NOT NULL,
    ctr_sum          REAL,
    ctr_sumsq        REAL,
    net_n            INTEGER NOT NULL,
    net_sum          REAL NOT NULL,
    net_sumsq        REAL NOT NULL,
    PRIMARY KEY (date, persona_id)
) WITHOUT ROWID;
CREATE INDEX perf_persona_days_persona_id_date_idx ON perf_persona_days (persona_id, date);

CREATE TABLE perf_health_days (
    persona_id  TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    date        TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    count       INTEGER NOT NULL CHECK (count > 0),
    successes   INTEGER NOT NULL CHECK (successes >= 0 AND successes <= count),
    histogram   TEXT NOT NULL,
    PRIMARY KEY (persona_id, date)
) WITHOUT ROWID;

CREATE TABLE perf_dirty_days (
    date     TEXT PRIMARY KEY CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    touched  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- The DAY rows by date serve only the statements that also say
-- views >= 0 (always true, by the CHECK): the dirty dates' reads and the
-- recompute. A read of a user's range must not be drawn to it: PostgreSQL's
-- generic plan guesses that a date range keeps 0.5 % of the rows, and read
-- every channel's month through it (30 ms instead of 2).
CREATE INDEX channel_analytics_day_date_idx ON channel_analytics (date)
    WHERE period = 'DAY' AND views >= 0;
-- Usage logs by UTC date, as an expression only the recompute and the
-- dirty dates' reads write: a plain index on created_at drew PostgreSQL's
-- plans for a persona's logs of a range to it (every log of the range read).
CREATE INDEX persona_usage_logs_day_idx ON persona_usage_logs (substr(created_at, 1, 10));
CREATE INDEX persona_usage_logs_persona_id_duration_idx
    ON persona_usage_logs (persona_id, duration_ms, created_at);
CREATE INDEX persona_usage_logs_user_id_persona_id_created_at_idx
    ON persona_usage_logs (user_id, persona_id, created_at);

CREATE TRIGGER channel_analytics_perf_insert AFTER INSERT ON channel_analytics
    WHEN NEW.period = 'DAY'
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT NEW.date
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = NEW.date);
END;
CREATE TRIGGER channel_analytics_perf_update AFTER UPDATE ON channel_analytics
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT OLD.date WHERE OLD.period = 'DAY'
        AND NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = OLD.date);
    INSERT INTO perf_dirty_days (date) SELECT NEW.date WHERE NEW.period = 'DAY'
        AND NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = NEW.date);
END;
CREATE TRIGGER channel_analytics_perf_delete AFTER DELETE ON channel_analytics
    WHEN OLD.period = 'DAY'
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT OLD.date
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = OLD.date);
END;

-- created_at is RFC 3339 UTC text: its first ten characters are its date.
CREATE TRIGGER channel_persona_assignments_perf_insert AFTER INSERT ON channel_persona_assignments
BEGIN
    INSERT INTO perf_dirty_days (date)
        SELECT DISTINCT date FROM channel_analytics
        WHERE channel_id = NEW.channel_id AND period = 'DAY'
          AND date >= substr(NEW.created_at, 1, 10)
          AND date NOT IN (SELECT date FROM perf_dirty_days);
END;
CREATE TRIGGER channel_persona_assignments_perf_update AFTER UPDATE ON channel_persona_assignments
BEGIN
    INSERT INTO perf_dirty_days (date)
        SELECT DISTINCT date FROM channel_analytics
        WHERE channel_id = OLD.channel_id AND period = 'DAY'
          AND date >= substr(OLD.created_at, 1, 10)
          AND date NOT IN (SELECT date FROM perf_dirty_days);
    INSERT INTO perf_dirty_days (date)
        SELECT DISTINCT date FROM channel_analytics
        WHERE channel_id = NEW.channel_id AND period = 'DAY'
          AND date >= substr(NEW.created_at, 1, 10)
          AND date NOT IN (SELECT date FROM perf_dirty_days);
END;
CREATE TRIGGER channel_persona_assignments_perf_delete AFTER DELETE ON channel_persona_assignments
BEGIN
    INSERT INTO perf_dirty_days (date)
        SELECT DISTINCT date FROM channel_analytics
        WHERE channel_id = OLD.channel_id AND period = 'DAY'
          AND date >= substr(OLD.created_at, 1, 10)
          AND date NOT IN (SELECT date FROM perf_dirty_days);
END;

CREATE TRIGGER persona_usage_logs_perf_insert AFTER INSERT ON persona_usage_logs
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT substr(NEW.created_at, 1, 10)
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = substr(NEW.created_at, 1, 10));
END;
CREATE TRIGGER persona_usage_logs_perf_update AFTER UPDATE ON persona_usage_logs
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT substr(OLD.created_at, 1, 10)
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = substr(OLD.created_at, 1, 10));
    INSERT INTO perf_dirty_days (date) SELECT substr(NEW.created_at, 1, 10)
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = substr(NEW.created_at, 1, 10));
END;
CREATE TRIGGER persona_usage_logs_perf_delete AFTER DELETE ON persona_usage_logs
BEGIN
    INSERT INTO perf_dirty_days (date) SELECT substr(OLD.created_at, 1, 10)
        WHERE NOT EXISTS (SELECT 1 FROM perf_dirty_days WHERE date = substr(OLD.created_at, 1, 10));
END;

INSERT INTO perf_dirty_days (date)
    SELECT DISTINCT date FROM channel_analytics WHERE period = 'DAY'
    UNION SELECT DISTINCT substr(created_at, 1, 10) FROM persona_usage_logs;
