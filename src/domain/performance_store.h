/*
 * performance_store: the raw sums behind "how does each persona perform"
 * (issue 12, decision 77), read from channel_analytics, attributed through
 * channel_persona_assignments, and the generation health of a persona from
 * persona_usage_logs.
 *
 * Attribution: a DAY row (channel, date) belongs to the persona of the
 * channel's latest assignment made before the end of that day (UTC): a day
 * with a switch belongs to the persona active at its end. A day before the
 * channel's first assignment, or whose assignment names no persona (cleared,
 * or the persona deleted), is unattributed and counted nowhere. The unit is
 * the channel-day; once published videos carry their YouTube id, per-video
 * rows can take its place behind the same sums.
 *
 * Per persona and metric the store returns the count of channel-days that
 * have the value, their sum and sum of squares (both engines: SQLite has no
 * stddev), computed in one GROUP BY query; the statistics are the
 * service's. Scope: user_id NULL reads every user's channels (admins).
 *
 * Roll-ups (decision 81): every user's figures come from perf_persona_days
 * and perf_health_days, one row per (date, persona), recomputed a whole
 * date at a time from the raw rows by perf_store_rollup() (the job
 * performance.rollup). Triggers mark in perf_dirty_days every date whose
 * DAY rows, assignments or usage logs change, in the writing transaction,
 * whatever path writes; a read takes the roll-up for clean dates and the
 * raw rows for dirty ones in one statement, so it equals the raw
 * computation at all times. Per (channel, persona) daily values are not
 * rolled up: read them from channel_analytics with the attribution of
 * perf_store_by_persona_raw (or group its query by channel too).
 */
#ifndef PS_DOMAIN_PERFORMANCE_STORE_H
#define PS_DOMAIN_PERFORMANCE_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"

#include <stddef.h>
#include <stdint.h>

/* The per-channel-day values, in this order everywhere. */
typedef enum perf_metric {
    PERF_VIEWS_PER_DAY,          /* views */
    PERF_WATCH_MINUTES_PER_VIEW, /* watch_time_minutes / views, days with views */
    PERF_AVG_VIEW_PERCENTAGE,    /* avg_retention, days that have it */
    PERF_CTR,                    /* avg_ctr, days that have it */
    PERF_SUBSCRIBERS_NET,        /* subscribers_gained - subscribers_lost */
    PERF_METRICS
} perf_metric;

typedef struct perf_sums {
    int64_t n; /* channel-days with a value */
    double sum, sumsq;
} perf_sums;

typedef struct perf_group {
    char persona_id[UUID_STR_LEN + 1];
    int64_t channel_days; /* attributed DAY rows */
    perf_sums m[PERF_METRICS];
} perf_group;

typedef struct perf_health {
    int64_t count, successes;
    int64_t p50_ms, p95_ms; /* nearest rank; 0 when count is 0 */
} perf_health;

/**
 * The sums of the DAY rows dated from..to (days) of user_id's channels
 * (NULL: all), grouped by attributed persona; persona_id non-NULL keeps
 * that persona's group only. Groups in no particular order (arena). A
 * user's through the raw rows; every user's through the roll-ups.
 */
int perf_store_by_persona(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                          int64_t from, int64_t to, perf_group **out, size_t *n, error *err);
/** The same from the raw rows alone, whatever the scope (decision 77's query). */
int perf_store_by_persona_raw(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                              int64_t from, int64_t to, perf_group **out, size_t *n, error *err);
/**
 * The persona's usage logs written by user_id (NULL: anyone) on days
 * from..to: how many, how many succeeded, and the nearest-rank median and
 * 95th percentile of duration_ms, exact. A user's from the raw rows (each
 * percentile one indexed row read by rank); every user's from the daily
 * histograms, the percentile's bucket found there and its value read by
 * rank inside the bucket.
 */
int perf_store_health(db_conn *c, const char *user_id, const char *persona_id, int64_t from,
                      int64_t to, perf_health *out, error *err);
/**
 * perf_store_health for each of the n personas of ids, into out[i], in a
 * few statements whatever n: a user's from one ranking of their logs of the
 * range; every user's from the histograms, the personas with few logs
 * ranked together from their raw rows, the others read by rank inside
 * their buckets.
 */
int perf_store_health_many(db_conn *c, const char *user_id, const char *const *ids, size_t n,
                           int64_t from, int64_t to, perf_health *out, error *err);
/** The same from the raw rows alone, whatever the scope. */
int perf_store_health_raw(db_conn *c, const char *user_id, const char *persona_id, int64_t from,
                          int64_t to, perf_health *out, error *err);

/*
 * Duration histogram keys: below 128 ms a duration is its own key; from
 * 128 on, the key keeps its top 7 bits and its exponent (key = 128 e + m,
 * duration in [m 2^e, (m + 1) 2^e - 1], m in 64..127), so a bucket spans
 * less than 1/64 of its values. Keys grow with durations; a stored
 * histogram is "key:count" pairs, keys ascending, space separated.
 */
#define PERF_HIST_KEYS (25 * 128) /* durations up to 2^31 - 1 ms */
int perf_hist_key(int64_t ms);
void perf_hist_bounds(int key, int64_t *lo, int64_t *hi);

/**
 * Recomputes the roll-ups of up to max dirty dates, oldest first, each in a
 * transaction of its own that also clears its mark; *done says how many. A
 * date written meanwhile is marked again and recomputed on a later call.
 */
int perf_store_rollup(db_conn *c, int max, int *done, error *err);

#endif
