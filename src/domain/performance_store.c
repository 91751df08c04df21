#include "domain/performance_store.h"

#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

#define PERF__USEC_PER_DAY INT64_C(86400000000)

/* One channel-day's values as doubles (R: the engine's cast), the day's end
 * as the engine compares it with created_at (E), and the filters. The
 * assignment of a day is the latest made before its end; ties on the
 * instant go to the greater id (UUIDv7: the later insert). Index use: the
 * caller's channels by channels.user_id, their DAY rows by
 * (channel_id, date), each day's assignment by (channel_id, created_at). */
#define PERF__WPV(R) "(" R("d.watch_time_minutes") " / " R("d.views") ")"
#define PERF__NET(R) "(" R("d.subscribers_gained") " - " R("d.subscribers_lost") ")"
#define PERF__SQL(R, E, USER, PERSONA)                                                             \
    "SELECT a.persona_id, count(*), "                                                              \
    "count(*), sum(" R("d.views") "), sum(" R("d.views") " * " R(                                  \
        "d.views") "), "                                                                           \
                   "count(CASE WHEN d.views > 0 THEN 1 END), "                                     \
                   "sum(CASE WHEN d.views > 0 THEN " PERF__WPV(                                    \
                       R) " END), "                                                                \
                          "sum(CASE WHEN d.views > 0 THEN " PERF__WPV(R) " * " PERF__WPV(          \
                              R) " END), "                                                         \
                                 "count(d.avg_retention), sum(d.avg_retention), "                  \
                                 "sum(d.avg_retention * d.avg_retention), "                        \
                                 "count(d.avg_ctr), sum(d.avg_ctr), sum(d.avg_ctr * d.avg_ctr), "  \
                                 "count(*), sum(" PERF__NET(R) "), sum(" PERF__NET(                \
                                     R) " * " PERF__NET(R) ") "                                    \
                                                           "FROM channel_analytics d JOIN "        \
                                                           "channel_persona_assignments a ON "     \
                                                           "a.id = ("                              \
                                                           "SELECT x.id FROM "                     \
                                                           "channel_persona_assignments x WHERE "  \
                                                           "x.channel_id = d.channel_id "          \
                                                           "AND x.created_at < " E                 \
                                                           " ORDER BY x.created_at DESC, x.id "    \
                                                           "DESC LIMIT 1) "                        \
                                                           "WHERE d.period = 'DAY' AND d.date >= " \
                                                           "$1 AND d.date <= $2 "                  \
                                                           "AND a.persona_id IS NOT NULL" USER     \
                                                               PERSONA " GROUP BY a.persona_id"
#define PERF__R_SQLITE(x) "CAST(" x " AS REAL)"
#define PERF__R_PG(x)     x "::double precision"
#define PERF__E_SQLITE    "date(d.date, '+1 day')"
#define PERF__E_PG        "((d.date + 1)::timestamp AT TIME ZONE 'UTC')"
#define PERF__USER                                                                                 \
    " AND d.user_id = $3 AND d.channel_id IN (SELECT c.id FROM channels c WHERE c.user_id = $3)"
#define PERF__Q(USER, PERSONA)                                                                     \
    DB_SQL2(PERF__SQL(PERF__R_SQLITE, PERF__E_SQLITE, USER, PERSONA),                              \
            PERF__SQL(PERF__R_PG, PERF__E_PG, USER, PERSONA))
static db_sql Q_ALL = PERF__Q("", "");
static db_sql Q_ALL_PERSONA = PERF__Q("", " AND a.persona_id = $3");
static db_sql Q_USER = PERF__Q(PERF__USER, "");
static db_sql Q_USER_PERSONA = PERF__Q(PERF__USER, " AND a.persona_id = $4");

#define HEALTH__WHERE(USER)                                                                        \
    " FROM persona_usage_logs WHERE persona_id = $1 AND created_at >= $2 AND created_at < $3" USER
static db_sql Q_HEALTH_ALL =
    DB_SQL("SELECT count(*), count(CASE WHEN success THEN 1 END)" HEALTH__WHERE(""));
static db_sql Q_HEALTH_USER = DB_SQL(
    "SELECT count(*), count(CASE WHEN success THEN 1 END)" HEALTH__WHERE(" AND user_id = $4"));
static db_sql Q_RANK_ALL =
    DB_SQL("SELECT duration_ms" HEALTH__WHERE("") " ORDER BY duration_ms LIMIT 1 OFFSET $4");
static db_sql Q_RANK_USER = DB_SQL("SELECT duration_ms" HEALTH__WHERE(
    " AND user_id = $4") " ORDER BY duration_ms LIMIT 1 OFFSET $5");

static int perf__group_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    perf_group *g = out;
    const char *id = db_col_text(s, 0);
    if (id == NULL || strlen(id) != UUID_STR_LEN)
        return error_set(err, ERR_INTERNAL, NULL, "a persona id read back is not a UUID");
    memcpy(g->persona_id, id, UUID_STR_LEN + 1);
    g->channel_days = db_col_int64(s, 1);
    for (int m = 0; m < PERF_METRICS; m++) {
        g->m[m].n = db_col_int64(s, 2 + 3 * m);
        g->m[m].sum = db_col_double(s, 3 + 3 * m);
        g->m[m].sumsq = db_col_double(s, 4 + 3 * m);
    }
    return 0;
}

int perf_store_by_persona(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                          int64_t from, int64_t to, perf_group **out, size_t *n, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    /* $1 from, $2 to, then the user and the persona that are given, in
     * this order: one argument array for the four statements. */
    db_arg av[4] = {DB_TEXT(f), DB_TEXT(t)};
    int n_args = 2;
    if (user_id != NULL)
        av[n_args++] = DB_TEXT(user_id);
    if (persona_id != NULL)
        av[n_args++] = DB_TEXT(persona_id);
    db_sql *q = user_id == NULL ? (persona_id == NULL ? &Q_ALL : &Q_ALL_PERSONA)
                                : (persona_id == NULL ? &Q_USER : &Q_USER_PERSONA);
    db_args args = {av, n_args};
    return db_list(c, q, args, perf__group_row, a, sizeof(**out), persona_id != NULL ? 1 : 16, out,
                   n, err);
}

static int perf__health_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    perf_health *h = out;
    h->count = db_col_int64(s, 0);
    h->successes = db_col_int64(s, 1);
    return 0;
}

/* The value of rank k (1-based, nearest rank) among the range's durations. */
static int perf__rank(db_conn *c, const char *user_id, const char *persona_id, int64_t lo,
                      int64_t hi, int64_t k, int64_t *out, error *err)
{
    if (user_id == NULL)
        return db_int64(c, &Q_RANK_ALL,
                        DB_ARGS(DB_TEXT(persona_id), DB_TIME(lo), DB_TIME(hi), DB_INT(k - 1)), out,
                        err);
    return db_int64(
        c, &Q_RANK_USER,
        DB_ARGS(DB_TEXT(persona_id), DB_TIME(lo), DB_TIME(hi), DB_TEXT(user_id), DB_INT(k - 1)),
        out, err);
}

int perf_store_health(db_conn *c, const char *user_id, const char *persona_id, int64_t from,
                      int64_t to, perf_health *out, error *err)
{
    memset(out, 0, sizeof(*out));
    int64_t lo = from * PERF__USEC_PER_DAY, hi = (to + 1) * PERF__USEC_PER_DAY;
    int rc =
        user_id == NULL
            ? db_first(c, &Q_HEALTH_ALL, DB_ARGS(DB_TEXT(persona_id), DB_TIME(lo), DB_TIME(hi)),
                       perf__health_row, NULL, out, err)
            : db_first(c, &Q_HEALTH_USER,
                       DB_ARGS(DB_TEXT(persona_id), DB_TIME(lo), DB_TIME(hi), DB_TEXT(user_id)),
                       perf__health_row, NULL, out, err);
    if (rc < 0)
        return -1;
    if (out->count == 0)
        return 0;
    /* Nearest rank: the ceil(p * n)-th smallest. */
    int64_t k50 = (out->count + 1) / 2, k95 = (95 * out->count + 99) / 100;
    if (perf__rank(c, user_id, persona_id, lo, hi, k50, &out->p50_ms, err) != 0 ||
        perf__rank(c, user_id, persona_id, lo, hi, k95, &out->p95_ms, err) != 0)
        return -1;
    return 0;
}
