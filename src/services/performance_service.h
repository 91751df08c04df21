/*
 * performance_service: how each persona performs on the caller's channels
 * (issue 12, decision 77). Figures are means over attributed channel-days
 * (performance_store) with a 95 % confidence interval, over the caller's
 * channels only; an admin's cover every user's channels.
 *
 * Ranges: from/to are "YYYY-MM-DD"; to defaults to yesterday (UTC), from to
 * the ANALYTICS_DEFAULT_DAYS days ending at to; at most ANALYTICS_RANGE_MAX
 * days (analytics_service_range, shared with the analytics reads). Bad
 * dates or ranges: ERR_INVALID naming the parameter.
 */
#ifndef PS_SERVICES_PERFORMANCE_SERVICE_H
#define PS_SERVICES_PERFORMANCE_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/performance_store.h"
#include "domain/principal.h"

#include <stdbool.h>

#define PERF_LEADERBOARD_MAX 50 /* personas a leaderboard lists */

/* The roll-up job (decision 81): every PERF_ROLLUP_PERIOD_SECONDS, once
 * across every process, it recomputes every dirty date, PERF_ROLLUP_BATCH
 * at a time. Reads are exact whether it has run or not; it only keeps them
 * cheap. */
#define PERF_JOB_ROLLUP            "performance.rollup"
#define PERF_ROLLUP_PERIOD_SECONDS 60
#define PERF_ROLLUP_BATCH          32

/* The API names of the metrics, by perf_metric. */
extern const char *const perf_metric_names[PERF_METRICS];

typedef struct perf_figure {
    int64_t n; /* channel-days behind it; 0: no mean */
    double mean;
    bool has_ci;   /* n >= 2 */
    double lo, hi; /* 95 % confidence interval of the mean */
} perf_figure;

typedef struct perf_persona {
    char persona_id[UUID_STR_LEN + 1];
    int64_t channel_days;
    perf_figure f[PERF_METRICS];
} perf_persona;

typedef struct perf_report {
    int64_t from, to; /* days */
    perf_persona persona;
    perf_health health;
} perf_report;

/* A leaderboard row: the figures, the persona's name when the caller may
 * see the persona (as GET /personas/{id}; NULL otherwise, so a private
 * persona's name never leaks), and its generation health on the same scope. */
typedef struct perf_board_item {
    perf_persona persona;
    const char *name; /* arena, or NULL */
    perf_health health;
} perf_board_item;

typedef struct perf_board {
    int64_t from, to;
    perf_metric metric;
    perf_board_item *items; /* ranked, at most PERF_LEADERBOARD_MAX (arena) */
    size_t n;
} perf_board;

/** The figures of sums: mean, and its 95 % interval (Student's t below 30 channel-days). */
void perf_figure_of(const perf_sums *s, perf_figure *out);

/**
 * The persona's figures and generation health. A persona the caller cannot
 * see (as GET /personas/{id}): ERR_NOT_FOUND.
 */
int performance_service_persona(db_conn *c, arena *a, const principal *p, const char *persona_id,
                                const char *from, const char *to, perf_report *out, error *err);
/**
 * The personas ranked by metric (NULL: views_per_day; an unknown name is
 * ERR_INVALID, field "metric"), highest mean first, personas without a
 * value for it last; each listed one with its name (when visible) and its
 * generation health over the same range and scope.
 */
int performance_service_leaderboard(db_conn *c, arena *a, const principal *p, const char *from,
                                    const char *to, const char *metric, perf_board *out,
                                    error *err);

/** Recomputes every dirty date's roll-ups; *dates says how many were done. */
int performance_service_rollup(db_conn *c, int64_t *dates, error *err);
/** Registers performance.rollup and its schedule. */
void performance_register_jobs(void);

#endif
