#include "http/metrics.h"

#include "base/alloc.h"
#include "db/db.h"
#include "services/auth_cache.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Latency bucket bounds in seconds; the +Inf bucket is the total count. */
static const double metrics__bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,   1,    2.5,   5};
static const char *const metrics__bound_text[] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                  "0.25",  "0.5",   "1",    "2.5",   "5"};
#define NBOUNDS (sizeof(metrics__bounds) / sizeof(metrics__bounds[0]))

/* A route answers with a handful of distinct codes; more than this many is
 * folded into code="other" rather than growing storage at run time. */
#define STATUS_SLOTS 24

typedef struct status_count {
    int code; /* 0: free slot */
    uint64_t count;
} status_count;

typedef struct route_stats {
    const char *name;
    status_count codes[STATUS_SLOTS];
    uint64_t other;
    uint64_t buckets[NBOUNDS]; /* not cumulative: observations at or under the bound only */
    uint64_t count;
    double sum;
} route_stats;

struct http_metrics {
    pthread_mutex_t lock;
    route_stats *stats; /* nstats distinct names; the last is "unmatched" */
    size_t nstats;
    size_t *slot_of_route; /* route index -> stats index */
    int in_flight;
};

http_metrics *http_metrics_new(const http_route *routes, size_t n)
{
    http_metrics *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    m->stats = xcalloc(n + 1, sizeof(route_stats));
    m->slot_of_route = xcalloc(n ? n : 1, sizeof(size_t));
    /* Routes sharing a name (GET and PUT of one resource, say) share one
     * series: Prometheus rejects duplicate label sets. */
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < m->nstats && strcmp(m->stats[k].name, routes[i].name) != 0)
            k++;
        if (k == m->nstats)
            m->stats[m->nstats++].name = routes[i].name;
        m->slot_of_route[i] = k;
    }
    m->stats[m->nstats++].name = "unmatched";
    return m;
}

void http_metrics_free(http_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->stats);
    free(m->slot_of_route);
    free(m);
}

void http_metrics_request_begin(http_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->in_flight++;
    pthread_mutex_unlock(&m->lock);
}

void http_metrics_request_done(http_metrics *m, int route, bool answered, int status,
                               double seconds)
{
    pthread_mutex_lock(&m->lock);
    m->in_flight--;
    if (answered) {
        route_stats *s = &m->stats[route < 0 ? m->nstats - 1 : m->slot_of_route[route]];
        size_t i = 0;
        while (i < STATUS_SLOTS && s->codes[i].code != 0 && s->codes[i].code != status)
            i++;
        if (i == STATUS_SLOTS) {
            s->other++;
        } else {
            s->codes[i].code = status;
            s->codes[i].count++;
        }
        for (size_t b = 0; b < NBOUNDS; b++) {
            if (seconds <= metrics__bounds[b]) {
                s->buckets[b]++;
                break;
            }
        }
        s->count++;
        s->sum += seconds;
    }
    pthread_mutex_unlock(&m->lock);
}

int http_metrics_in_flight(http_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    int n = m->in_flight;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* Route names come from our own table, but a label value with a quote or a
 * backslash would corrupt the whole exposition, so escape anyway. */
static void put_label(buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_printf(out, "\\%c", *v);
        else if (*v == '\n')
            buf_puts(out, "\\n");
        else
            buf_append(out, v, 1);
    }
}

static void put_header(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric without labels: its header and its one sample, the name written once. */
static void put_metric(buf *out, const char *name, const char *type, const char *help,
                       uint64_t value)
{
    put_header(out, name, type, help);
    buf_printf(out, "%s %" PRIu64 "\n", name, value);
}

static void render_requests(http_metrics *m, buf *out)
{
    put_header(out, "pstudio_http_requests_total", "counter",
               "HTTP requests answered, by route and status code.");
    for (size_t i = 0; i < m->nstats; i++) {
        const route_stats *s = &m->stats[i];
        for (size_t k = 0; k < STATUS_SLOTS && s->codes[k].code != 0; k++) {
            buf_puts(out, "pstudio_http_requests_total{route=\"");
            put_label(out, s->name);
            buf_printf(out, "\",code=\"%d\"} %" PRIu64 "\n", s->codes[k].code, s->codes[k].count);
        }
        if (s->other) {
            buf_puts(out, "pstudio_http_requests_total{route=\"");
            put_label(out, s->name);
            buf_printf(out, "\",code=\"other\"} %" PRIu64 "\n", s->other);
        }
    }
}

static void render_latency(http_metrics *m, buf *out)
{
    const char *name = "pstudio_http_request_duration_seconds";
    put_header(out, name, "histogram",
               "Time from the request line to the end of the response, by route.");
    for (size_t i = 0; i < m->nstats; i++) {
        const route_stats *s = &m->stats[i];
        if (s->count == 0)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= NBOUNDS; b++) {
            cumulative = b < NBOUNDS ? cumulative + s->buckets[b] : s->count;
            buf_printf(out, "%s_bucket{route=\"", name);
            put_label(out, s->name);
            buf_printf(out, "\",le=\"%s\"} %" PRIu64 "\n",
                       b < NBOUNDS ? metrics__bound_text[b] : "+Inf", cumulative);
        }
        buf_printf(out, "%s_sum{route=\"", name);
        put_label(out, s->name);
        buf_printf(out, "\"} %.6f\n%s_count{route=\"", s->sum, name);
        put_label(out, s->name);
        buf_printf(out, "\"} %" PRIu64 "\n", s->count);
    }
}

static void render_db(struct db *pool, buf *out)
{
    db_pool_stats st;
    db_stats(pool, &st);
    put_metric(out, "pstudio_db_pool_size", "gauge", "Connections in the database pool.", st.size);
    put_metric(out, "pstudio_db_pool_in_use", "gauge", "Pool connections currently borrowed.",
               st.in_use);
    put_metric(out, "pstudio_db_pool_acquires_total", "counter",
               "Connections borrowed from the pool.", st.acquires);
    put_metric(out, "pstudio_db_pool_waits_total", "counter",
               "Borrows that had to wait for a free connection.", st.waits);
    put_metric(out, "pstudio_db_busy_sleeps_total", "counter",
               "SQLite: sleeps waiting for another pool's or process's write lock.",
               st.busy_sleeps);
}

void http_metrics_render(http_metrics *m, struct db *pool, buf *out)
{
    pthread_mutex_lock(&m->lock);
    render_requests(m, out);
    render_latency(m, out);
    put_metric(out, "pstudio_http_requests_in_flight", "gauge",
               "Requests received and not yet fully answered.", m->in_flight);
    pthread_mutex_unlock(&m->lock);
    if (pool != NULL)
        render_db(pool, out);
}

void http_metrics_render_auth_cache(struct auth_cache *cache, buf *out)
{
    auth_cache_stats st = {0};
    if (cache != NULL)
        auth_cache_get_stats(cache, &st);
    put_metric(out, "pstudio_auth_cache_enabled", "gauge",
               "1 when sessions and API keys are cached in memory (PostgreSQL), else 0.",
               cache != NULL);
    put_metric(out, "pstudio_auth_cache_listener_up", "gauge",
               "1 while the cache's invalidation listener is proved healthy (entries are trusted).",
               st.listener_healthy);
    put_metric(out, "pstudio_auth_cache_entries", "gauge", "Credentials in the auth cache.",
               st.entries);
    put_metric(out, "pstudio_auth_cache_hits_total", "counter",
               "Requests authenticated from the cache, without a database round trip.", st.hits);
    put_metric(out, "pstudio_auth_cache_misses_total", "counter",
               "Cache lookups that went to the database (absent, expired or untrusted).",
               st.misses);
    put_metric(out, "pstudio_auth_cache_untrusted_total", "counter",
               "Of the misses: lookups made while the listener was not proved healthy.",
               st.untrusted);
    put_metric(out, "pstudio_auth_cache_invalidations_total", "counter",
               "Invalidation notifications applied.", st.invalidations);
    put_metric(out, "pstudio_auth_cache_listener_failures_total", "counter",
               "Times the listener's connection failed and the cache was emptied.",
               st.listener_failures);
}
