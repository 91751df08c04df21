-- Performance by persona, rolled up per day (issue 12, decision 81).
-- perf_persona_days holds, per (date, persona), the sums the read-time
-- query of decision 77 computes over that date's attributed DAY rows;
-- perf_health_days, per (persona, date), the count, successes and a
-- duration histogram of that day's persona_usage_logs. They are never
-- written row by row: the performance.rollup job recomputes a whole date
-- from the raw tables. Triggers mark every date whose raw rows change in
-- perf_dirty_days (in the writing transaction, whatever path writes); a
-- read takes the roll-up for clean dates and the raw rows for dirty ones, in
-- one statement, so it always equals the raw computation.
CREATE TABLE perf_persona_days (
    date             date NOT NULL,
    persona_id       uuid NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    channel_days     bigint NOT NULL CHECK (channel_days > 0),
    views_n          bigint NOT NULL,
    views_sum        double precision NOT NULL,
    views_sumsq      double precision NOT NULL,
    wpv_n            bigint NOT NULL,
    wpv_sum          double precision,
    wpv_sumsq        double precision,
    retention_n      bigint NOT NULL,
    retention_sum    double precision,
    retention_sumsq  double precision,
    ctr_n            bigint NOT NULL,
    ctr_sum          double precision,
    ctr_sumsq        double precision,
    net_n            bigint NOT NULL,
    net_sum          double precision NOT NULL,
    net_sumsq        double precision NOT NULL,
    PRIMARY KEY (date, persona_id)
);
CREATE INDEX perf_persona_days_persona_id_date_idx ON perf_persona_days (persona_id, date);

-- histogram: "key:count" pairs, keys ascending, space separated (key: the
-- duration's log bucket, performance_store.h).
CREATE TABLE perf_health_days (
    persona_id  uuid NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    date        date NOT NULL,
    count       bigint NOT NULL CHECK (count > 0),
    successes   bigint NOT NULL CHECK (successes >= 0 AND successes <= count),
    histogram   text NOT NULL,
    PRIMARY KEY (persona_id, date)
);

-- A date whose raw rows changed since its roll-up was computed. touched
-- only makes every marking write the row, so a writer holds its lock until
-- it commits and the job's DELETE of the mark waits for it.
CREATE TABLE perf_dirty_days (
    date     date PRIMARY KEY,
    touched  bigint NOT NULL DEFAULT 0
);

-- The raw reads a dirty date needs: its DAY rows, its usage logs, and a
-- rank inside one histogram bucket of a persona's logs.
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
CREATE INDEX persona_usage_logs_day_idx ON persona_usage_logs (((created_at AT TIME ZONE 'UTC')::date));
CREATE INDEX persona_usage_logs_persona_id_duration_idx
    ON persona_usage_logs (persona_id, duration_ms, created_at);
-- A user's own logs of one persona (the health of a user's reads).
CREATE INDEX persona_usage_logs_user_id_persona_id_created_at_idx
    ON persona_usage_logs (user_id, persona_id, created_at);

-- Statement-level triggers with transition tables: a bulk write marks each
-- date once.
CREATE FUNCTION perf_mark_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT date FROM perf_new WHERE period = 'DAY'
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT date FROM perf_old WHERE period = 'DAY'
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER channel_analytics_perf_insert AFTER INSERT ON channel_analytics
    REFERENCING NEW TABLE AS perf_new FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_analytics();
CREATE TRIGGER channel_analytics_perf_update AFTER UPDATE ON channel_analytics
    REFERENCING OLD TABLE AS perf_old NEW TABLE AS perf_new
    FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_analytics();
CREATE TRIGGER channel_analytics_perf_delete AFTER DELETE ON channel_analytics
    REFERENCING OLD TABLE AS perf_old FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_analytics();

-- An assignment decides the days of its channel from the day it was made
-- on (the persona active at a day's end): every such DAY row's date.
CREATE FUNCTION perf_mark_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT d.date FROM perf_new a JOIN channel_analytics d
                ON d.channel_id = a.channel_id AND d.period = 'DAY'
                AND d.date >= (a.created_at AT TIME ZONE 'UTC')::date
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT d.date FROM perf_old a JOIN channel_analytics d
                ON d.channel_id = a.channel_id AND d.period = 'DAY'
                AND d.date >= (a.created_at AT TIME ZONE 'UTC')::date
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER channel_persona_assignments_perf_insert AFTER INSERT ON channel_persona_assignments
    REFERENCING NEW TABLE AS perf_new FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_assignments();
CREATE TRIGGER channel_persona_assignments_perf_update AFTER UPDATE ON channel_persona_assignments
    REFERENCING OLD TABLE AS perf_old NEW TABLE AS perf_new
    FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_assignments();
CREATE TRIGGER channel_persona_assignments_perf_delete AFTER DELETE ON channel_persona_assignments
    REFERENCING OLD TABLE AS perf_old FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_assignments();

CREATE FUNCTION perf_mark_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM perf_new
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO perf_dirty_days (date)
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM perf_old
            ON CONFLICT (date) DO UPDATE SET touched = perf_dirty_days.touched + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER persona_usage_logs_perf_insert AFTER INSERT ON persona_usage_logs
    REFERENCING NEW TABLE AS perf_new FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_usage();
CREATE TRIGGER persona_usage_logs_perf_update AFTER UPDATE ON persona_usage_logs
    REFERENCING OLD TABLE AS perf_old NEW TABLE AS perf_new
    FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_usage();
CREATE TRIGGER persona_usage_logs_perf_delete AFTER DELETE ON persona_usage_logs
    REFERENCING OLD TABLE AS perf_old FOR EACH STATEMENT EXECUTE FUNCTION perf_mark_usage();

-- What exists already is rolled up by the first run of the job.
INSERT INTO perf_dirty_days (date)
    SELECT DISTINCT date FROM channel_analytics WHERE period = 'DAY'
    UNION SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM persona_usage_logs;
