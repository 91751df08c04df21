#include "services/performance_service.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/persona_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/analytics_service.h"
#include "services/persona_service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const perf_metric_names[PERF_METRICS] = {
    "views_per_day", "watch_minutes_per_view", "average_view_percentage", "ctr", "subscribers_net"};

/* The 0.975 quantile of Student's t with df = 1..29 degrees of freedom;
 * from 30 channel-days on, the normal 1.96. */
static const double perf__t975[30] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                      2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                      2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                      2.064, 2.060,  2.056, 2.052, 2.048, 2.045};

void perf_figure_of(const perf_sums *s, perf_figure *out)
{
    memset(out, 0, sizeof(*out));
    out->n = s->n;
    if (s->n == 0)
        return;
    double n = (double)s->n;
    out->mean = s->sum / n;
    if (s->n < 2)
        return;
    /* The sample variance from the sums; rounding may leave it a hair below 0. */
    double var = (s->sumsq - n * out->mean * out->mean) / (n - 1);
    if (var < 0)
        var = 0;
    double q = s->n < 30 ? perf__t975[s->n - 1] : 1.96;
    double half = q * sqrt(var / n);
    out->has_ci = true;
    out->lo = out->mean - half;
    out->hi = out->mean + half;
}

static void perf__persona_of(const perf_group *g, perf_persona *out)
{
    memcpy(out->persona_id, g->persona_id, sizeof(out->persona_id));
    out->channel_days = g->channel_days;
    for (int m = 0; m < PERF_METRICS; m++)
        perf_figure_of(&g->m[m], &out->f[m]);
}

int performance_service_persona(db_conn *c, arena *a, const principal *p, const char *persona_id,
                                const char *from, const char *to, perf_report *out, error *err)
{
    memset(out, 0, sizeof(*out));
    persona ps;
    if (persona_service_get_visible(c, a, p, persona_id, &ps, err) != 0)
        return -1;
    if (analytics_service_range(false, from, to, &out->from, &out->to, err) != 0)
        return -1;
    const char *scope = p->is_admin ? NULL : p->user_id;
    perf_group *g;
    size_t n;
    if (perf_store_by_persona(c, a, scope, ps.id, out->from, out->to, &g, &n, err) != 0)
        return -1;
    perf_group none = {0};
    snprintf(none.persona_id, sizeof(none.persona_id), "%s", ps.id);
    perf__persona_of(n > 0 ? &g[0] : &none, &out->persona);
    return perf_store_health(c, scope, ps.id, out->from, out->to, &out->health, err);
}

/* qsort has no context argument in C11: the metric travels in a
 * thread-local, as requests run on several threads. */
static _Thread_local perf_metric perf__sort_metric;

/* Highest mean first; no value last; then more channel-days, then id. */
static int perf__cmp(const void *x, const void *y)
{
    const perf_persona *a = x, *b = y;
    const perf_figure *fa = &a->f[perf__sort_metric], *fb = &b->f[perf__sort_metric];
    if ((fa->n > 0) != (fb->n > 0))
        return fa->n > 0 ? -1 : 1;
    if (fa->n > 0 && fa->mean != fb->mean)
        return fa->mean > fb->mean ? -1 : 1;
    if (a->channel_days != b->channel_days)
        return a->channel_days > b->channel_days ? -1 : 1;
    return strcmp(a->persona_id, b->persona_id);
}

int performance_service_leaderboard(db_conn *c, arena *a, const principal *p, const char *from,
                                    const char *to, const char *metric, perf_board *out, error *err)
{
    memset(out, 0, sizeof(*out));
    out->metric = PERF_VIEWS_PER_DAY;
    if (metric != NULL) {
        int m = 0;
        while (m < PERF_METRICS && strcmp(metric, perf_metric_names[m]) != 0)
            m++;
        if (m == PERF_METRICS)
            return error_set(err, ERR_INVALID, "metric",
                             "metric must be one of views_per_day, watch_minutes_per_view, "
                             "average_view_percentage, ctr, subscribers_net");
        out->metric = (perf_metric)m;
    }
    if (analytics_service_range(false, from, to, &out->from, &out->to, err) != 0)
        return -1;
    perf_group *g;
    size_t n;
    if (perf_store_by_persona(c, a, p->is_admin ? NULL : p->user_id, NULL, out->from, out->to, &g,
                              &n, err) != 0)
        return -1;
    perf_persona *ranked = n > 0 ? arena_alloc(a, n * sizeof(*ranked)) : NULL;
    for (size_t i = 0; i < n; i++)
        perf__persona_of(&g[i], &ranked[i]);
    perf__sort_metric = out->metric;
    if (n > 1)
        qsort(ranked, n, sizeof(*ranked), perf__cmp);
    out->n = n < PERF_LEADERBOARD_MAX ? n : PERF_LEADERBOARD_MAX;
    out->items = out->n > 0 ? arena_alloc(a, out->n * sizeof(*out->items)) : NULL;
    /* Names and health of the listed personas only, each in a few
     * statements for the whole board. A name only where GET /personas/{id}
     * would answer: a persona made private since its channel-days were
     * counted stays an id. */
    const char **ids = arena_alloc(a, (out->n + 1) * sizeof(*ids));
    const char **names = arena_alloc(a, (out->n + 1) * sizeof(*names));
    perf_health *health = arena_alloc(a, (out->n + 1) * sizeof(*health));
    for (size_t i = 0; i < out->n; i++) {
        memset(&out->items[i], 0, sizeof(out->items[i]));
        out->items[i].persona = ranked[i];
        ids[i] = out->items[i].persona.persona_id;
    }
    if (persona_store_names_visible(c, a, p->user_id, p->is_admin, ids, out->n, names, err) != 0 ||
        perf_store_health_many(c, p->is_admin ? NULL : p->user_id, ids, out->n, out->from, out->to,
                               health, err) != 0)
        return -1;
    for (size_t i = 0; i < out->n; i++) {
        out->items[i].name = names[i];
        out->items[i].health = health[i];
    }
    return 0;
}

int performance_service_rollup(db_conn *c, int64_t *dates, error *err)
{
    *dates = 0;
    for (;;) {
        int done;
        if (perf_store_rollup(c, PERF_ROLLUP_BATCH, &done, err) != 0)
            return -1;
        *dates += done;
        if (done < PERF_ROLLUP_BATCH)
            return 0;
    }
}

static void perf__rollup_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    (void)ctx;
    memset(out, 0, sizeof(*out));
    int64_t dates;
    if (performance_service_rollup(c, &dates, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        return;
    }
    /* Each date committed with its mark cleared; completing the job is its
     * own step, and a lost completion only means the next run does less. */
    job_complete_alone(c, j, out);
    if (out->outcome == JOB_OUTCOME_DONE && dates > 0)
        log_info("performance: rolled up %lld dates", (long long)dates);
}

void performance_register_jobs(void)
{
    job_register(PERF_JOB_ROLLUP, perf__rollup_job, NULL, 600);
    job_schedule(PERF_JOB_ROLLUP, PERF_ROLLUP_PERIOD_SECONDS, "{}");
}
