#include "domain/performance_store.h"

#include "base/alloc.h"
#include "base/timeutil.h"
#include "domain/attribution_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERF__USEC_PER_DAY INT64_C(86400000000)
/* Personas with at most this many logs in a range have their percentiles
 * ranked from the raw rows, all such personas in one statement: cheaper
 * than two reads by rank each. */
#define PERF__SMALL 256

/* One attributed unit's values, the day's end as the engine compares it
 * with created_at (E), and the filters: USER on the DAY rows, PERSONA on
 * the units. The units are attribution_sql.h's: a channel-day split between
 * its videos' personas and the persona assigned that day (decisions 77 and
 * 140), their values doubles already. Index use: the caller's channels by
 * channels.user_id, their DAY rows by (channel_id, date), each day's
 * assignment by (channel_id, created_at), its videos by video_analytics
 * (channel_id, date). */
#define PERF__WPV "(d.watch_time_minutes / d.views)"
#define PERF__X   "0 = 1" /* exploration does not matter here */
#define PERF__SQL(E, USER, PERSONA)                                                                \
    "SELECT d.persona_id, count(*), count(*), sum(d.views), sum(d.views * d.views), "              \
    "count(CASE WHEN d.views > 0 THEN 1 END), sum(CASE WHEN d.views > 0 THEN " PERF__WPV " END), " \
    "sum(CASE WHEN d.views > 0 THEN " PERF__WPV " * " PERF__WPV " END), "                          \
    "count(d.avg_retention), sum(d.avg_retention), sum(d.avg_retention * d.avg_retention), "       \
    "count(d.avg_ctr), sum(d.avg_ctr), sum(d.avg_ctr * d.avg_ctr), "                               \
    "count(*), sum(d.net), sum(d.net * d.net) "                                                    \
    "FROM " ATTR_UNITS_SQL(E, PERF__X, USER) " d WHERE d.persona_id IS NOT NULL" PERSONA           \
                                             " GROUP BY d.persona_id"
#define PERF__E_SQLITE "date(d.date, '+1 day')"
#define PERF__E_PG     "((d.date + 1)::timestamp AT TIME ZONE 'UTC')"
#define PERF__USER                                                                                 \
    " AND d.user_id = $3 AND d.channel_id IN (SELECT c.id FROM channels c WHERE c.user_id = $3)"
#define PERF__Q(USER, PERSONA)                                                                     \
    DB_SQL2(PERF__SQL(PERF__E_SQLITE, USER, PERSONA), PERF__SQL(PERF__E_PG, USER, PERSONA))
static db_sql Q_ALL = PERF__Q("", "");
static db_sql Q_ALL_PERSONA = PERF__Q("", " AND d.persona_id = $3");
static db_sql Q_USER = PERF__Q(PERF__USER, "");
static db_sql Q_USER_PERSONA = PERF__Q(PERF__USER, " AND d.persona_id = $4");

/* ---- the roll-ups (decision 81) ----
 * A read over every user's channels sums perf_persona_days for the clean
 * dates of the range and the raw rows (the query above) for its dirty ones,
 * in one statement: one snapshot, so a recompute committing meanwhile can
 * neither drop a date nor count it twice. */
#define PERF__ROLL_COLS                                                                            \
    "channel_days, views_n, views_sum, views_sumsq, wpv_n, wpv_sum, wpv_sumsq, retention_n, "      \
    "retention_sum, retention_sumsq, ctr_n, ctr_sum, ctr_sumsq, net_n, net_sum, net_sumsq"
#define PERF__ROLL_SUMS                                                                            \
    "sum(channel_days), sum(views_n), sum(views_sum), sum(views_sumsq), sum(wpv_n), "              \
    "sum(wpv_sum), "                                                                               \
    "sum(wpv_sumsq), sum(retention_n), sum(retention_sum), sum(retention_sumsq), sum(ctr_n), "     \
    "sum(ctr_sum), sum(ctr_sumsq), sum(net_n), sum(net_sum), sum(net_sumsq)"
/* views >= 0 (always true) lets these statements use the DAY rows' date
 * index, which a user's range read must not (migration 0015). */
#define PERF__BY_DATE " AND d.views >= 0"
#define PERF__DIRTY_IN                                                                             \
    PERF__BY_DATE                                                                                  \
    " AND d.date IN (SELECT x.date FROM perf_dirty_days x WHERE x.date >= $1 AND x.date <= $2)"
#define PERF__ROLL_SQL(E, ROLL_PERSONA, RAW_PERSONA)                                               \
    "SELECT persona_id, " PERF__ROLL_SUMS " FROM (SELECT r.persona_id, " PERF__ROLL_COLS           \
    " FROM perf_persona_days r WHERE r.date >= $1 AND r.date <= $2" ROLL_PERSONA                   \
    " AND NOT EXISTS (SELECT 1 FROM perf_dirty_days x WHERE x.date = r.date) UNION "               \
    "ALL " PERF__SQL(E, PERF__DIRTY_IN, RAW_PERSONA) ") u GROUP BY persona_id"
#define PERF__ROLL_Q(ROLL_PERSONA, RAW_PERSONA)                                                    \
    DB_SQL2(PERF__ROLL_SQL(PERF__E_SQLITE, ROLL_PERSONA, RAW_PERSONA),                             \
            PERF__ROLL_SQL(PERF__E_PG, ROLL_PERSONA, RAW_PERSONA))
static db_sql Q_ROLL = PERF__ROLL_Q("", "");
static db_sql Q_ROLL_PERSONA = PERF__ROLL_Q(" AND r.persona_id = $3", " AND d.persona_id = $3");
/* With no dirty date in the range (as between the roll-up job's run and
 * the next day's data, nearly always) the read is the roll-ups alone, a
 * statement PostgreSQL plans in hundredths of a millisecond. The one above,
 * with its raw part, costs it about a millisecond of planning whenever it
 * plans afresh (a connection's first five executions, and every one while
 * it keeps custom plans, as it does for the persona's read), more than the
 * execution (decision 162). A date marked dirty between the two statements
 * is read from its last roll-up, as a read just before that write would
 * have: no date is dropped from the roll-ups it had nor counted twice. */
static db_sql Q_DIRTY_IN =
    DB_SQL("SELECT count(*) FROM perf_dirty_days WHERE date >= $1 AND date <= $2");
#define PERF__CLEAN_SQL(ROLL_PERSONA)                                                              \
    "SELECT persona_id, " PERF__ROLL_SUMS " FROM perf_persona_days r WHERE r.date >= $1 AND "      \
    "r.date <= $2" ROLL_PERSONA " GROUP BY persona_id"
static db_sql Q_CLEAN = DB_SQL(PERF__CLEAN_SQL(""));
static db_sql Q_CLEAN_PERSONA = DB_SQL(PERF__CLEAN_SQL(" AND r.persona_id = $3"));

/* The recompute of one date ($1): the mark goes first (on PostgreSQL the
 * DELETE waits for every writer that marked the date and has not
 * committed; each later statement of this READ COMMITTED transaction sees
 * what they wrote, and a writer after it marks the date again). */
static db_sql Q_UNMARK = DB_SQL("DELETE FROM perf_dirty_days WHERE date = $1");
static db_sql Q_DAY_CLEAR = DB_SQL("DELETE FROM perf_persona_days WHERE date = $1");
#define PERF__DAY_FILL(E)                                                                          \
    "INSERT INTO perf_persona_days (persona_id, " PERF__ROLL_COLS                                  \
    ", date) SELECT g.*, $1 FROM (" PERF__SQL(E, PERF__BY_DATE, "") ") g"
static db_sql Q_DAY_FILL = DB_SQL2(PERF__DAY_FILL(PERF__E_SQLITE), PERF__DAY_FILL(PERF__E_PG));
static db_sql Q_HEALTH_CLEAR = DB_SQL("DELETE FROM perf_health_days WHERE date = $1");
#define PERF__LOGS_OF_DAY(DAY)                                                                     \
    "SELECT persona_id, CASE WHEN success THEN 1 ELSE 0 END, duration_ms FROM persona_usage_logs " \
    "WHERE " DAY " = $1 AND persona_id IS NOT NULL ORDER BY persona_id, duration_ms"
/* A log's UTC date, as migration 0015's index on it writes it. */
#define PERF__DAY_SQLITE(T) "substr(" T ", 1, 10)"
#define PERF__DAY_PG(T)     "((" T " AT TIME ZONE 'UTC')::date)"
static db_sql Q_HEALTH_LOGS = DB_SQL2(PERF__LOGS_OF_DAY(PERF__DAY_SQLITE("created_at")),
                                      PERF__LOGS_OF_DAY(PERF__DAY_PG("created_at")));
static db_sql Q_HEALTH_PUT =
    DB_SQL("INSERT INTO perf_health_days (persona_id, date, count, successes, histogram) "
           "VALUES ($1, $2, $3, $4, $5)");
static db_sql Q_DIRTY = DB_SQL("SELECT date FROM perf_dirty_days ORDER BY date LIMIT $1");

/* The health of the personas of the JSON array $1 over every user's logs:
 * the clean dates' histograms and the dirty dates' raw durations ($2..$3
 * dates), one statement; then each percentile read exactly inside its
 * bucket (or, for a persona with few logs, all of them ranked at once).
 * CROSS JOIN keeps SQLite's loops in that order (the dirty dates outside,
 * usually none); without it the planner walked every log of the persona. */
#define PERF__HEALTH_ROLL(IDS, DAY)                                                                \
    "SELECT h.persona_id, h.count, h.successes, h.histogram, NULL FROM perf_health_days h "        \
    "WHERE h.persona_id" IDS " AND h.date >= $2 AND h.date <= $3 "                                 \
    "AND NOT EXISTS (SELECT 1 FROM perf_dirty_days x WHERE x.date = h.date) UNION ALL "            \
    "SELECT l.persona_id, 1, CASE WHEN l.success THEN 1 ELSE 0 END, NULL, l.duration_ms "          \
    "FROM perf_dirty_days x CROSS JOIN persona_usage_logs l WHERE x.date >= $2 AND x.date <= $3 "  \
    "AND l.persona_id" IDS " AND " DAY " = x.date"
/* "persona_id is one of the JSON array $1". PostgreSQL gets an array, so
 * it walks the persona indexes once per id: with an IN over the JSON
 * function it joined by hash and read every log of the range through the
 * date index instead (30 ms for 146 rows). */
#define PERF__IDS_SQLITE " IN (SELECT value FROM json_each($1))"
#define PERF__IDS_PG     " = ANY (ARRAY(SELECT value::uuid FROM json_array_elements_text($1::json)))"
static db_sql Q_HEALTH_ROLL =
    DB_SQL2(PERF__HEALTH_ROLL(PERF__IDS_SQLITE, PERF__DAY_SQLITE("l.created_at")),
            PERF__HEALTH_ROLL(PERF__IDS_PG, PERF__DAY_PG("l.created_at")));
#define PERF__BUCKET_RANK(INDEXED)                                                                 \
    "SELECT duration_ms FROM persona_usage_logs" INDEXED " WHERE persona_id = $1 "                 \
    "AND duration_ms >= $2 AND duration_ms <= $3 AND created_at >= $4 AND created_at < $5 "        \
    "ORDER BY duration_ms LIMIT 1 OFFSET $6"
static db_sql Q_BUCKET_RANK =
    DB_SQL2(PERF__BUCKET_RANK(" INDEXED BY persona_usage_logs_persona_id_duration_idx"),
            PERF__BUCKET_RANK(""));

/* The raw health in one statement: the range's logs ranked by duration
 * per persona, with their count and successes, and only the rows of the
 * two nearest ranks returned (the engine sorts; its sorter spills to disk
 * past its memory, and the caller holds two rows a persona whatever the
 * range holds). $1 the user (or the personas' JSON array), $2..$3 the
 * range. */
#define HEALTH__SQL(WHERE)                                                                         \
    "SELECT persona_id, cnt, ok, duration_ms, rn FROM (SELECT persona_id, duration_ms, "           \
    "row_number() OVER (PARTITION BY persona_id ORDER BY duration_ms) AS rn, "                     \
    "count(*) OVER (PARTITION BY persona_id) AS cnt, "                                             \
    "sum(CASE WHEN success THEN 1 ELSE 0 END) OVER (PARTITION BY persona_id) AS ok "               \
    "FROM persona_usage_logs WHERE " WHERE " AND created_at >= $2 AND created_at < $3 "            \
    "AND persona_id IS NOT NULL) r WHERE rn = (cnt + 1) / 2 OR rn = (95 * cnt + 99) / 100"
static db_sql Q_HEALTH_USER = DB_SQL(HEALTH__SQL("user_id = $1"));
static db_sql Q_HEALTH_USER_ONE = DB_SQL(HEALTH__SQL("user_id = $1 AND persona_id = $4"));
/* PostgreSQL ranks each persona's logs in a LATERAL subquery of its own:
 * with one statement over all of them it read every log of the range
 * through the date index, whatever the persona condition was written as. */
static db_sql Q_HEALTH_SOME = DB_SQL2(
    HEALTH__SQL("persona_id" PERF__IDS_SQLITE),
    "SELECT p.id, r.cnt, r.ok, r.duration_ms, r.rn FROM json_array_elements_text($1::json) AS "
    "p(id) CROSS JOIN LATERAL (SELECT duration_ms, row_number() OVER (ORDER BY duration_ms) AS "
    "rn, count(*) OVER () AS cnt, sum(CASE WHEN success THEN 1 ELSE 0 END) OVER () AS ok FROM "
    "persona_usage_logs WHERE persona_id = p.id::uuid AND created_at >= $2 AND created_at < $3) "
    "r WHERE r.rn = (r.cnt + 1) / 2 OR r.rn = (95 * r.cnt + 99) / 100");

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

int perf_store_by_persona_raw(db_conn *c, arena *a, const char *user_id, const char *persona_id,
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

/* Nearest rank: the ceil(p * n)-th smallest; the same formulas as the SQL. */
static int64_t perf__k50(int64_t n)
{
    return (n + 1) / 2;
}

static int64_t perf__k95(int64_t n)
{
    return (95 * n + 99) / 100;
}

/* The personas asked for and their answers, as rows arrive by persona id. */
typedef struct perf__many {
    const char *const *ids;
    perf_health *out;
    size_t n;
} perf__many;

static perf_health *perf__find(const perf__many *m, const char *id)
{
    for (size_t i = 0; id != NULL && i < m->n; i++)
        if (strcmp(m->ids[i], id) == 0)
            return &m->out[i];
    return NULL;
}

static int perf__health_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    perf_health *h = perf__find(out, db_col_text(s, 0));
    if (h == NULL) /* a persona of the user's not asked for */
        return 0;
    h->count = db_col_int64(s, 1);
    h->successes = db_col_int64(s, 2);
    int64_t v = db_col_int64(s, 3), rn = db_col_int64(s, 4);
    if (rn == perf__k50(h->count))
        h->p50_ms = v;
    if (rn == perf__k95(h->count))
        h->p95_ms = v;
    return 0;
}

/* The ids as a JSON array of strings (they are UUIDs: nothing to escape). */
static char *perf__ids_json(const char *const *ids, size_t n, error *err)
{
    char *list = xmalloc(n * (UUID_STR_LEN + 3) + 3), *w = list;
    *w++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (strlen(ids[i]) != UUID_STR_LEN) {
            free(list);
            error_set(err, ERR_INTERNAL, NULL, "a persona id is not a UUID");
            return NULL;
        }
        w += sprintf(w, "%s\"%s\"", i > 0 ? "," : "", ids[i]);
    }
    *w++ = ']';
    *w = '\0';
    return list;
}

/* The raw health of the n personas: the user's logs, or (user_id NULL)
 * everyone's logs of those personas. */
static int perf__health_raw_many(db_conn *c, const char *user_id, const char *const *ids, size_t n,
                                 int64_t from, int64_t to, perf_health *out, error *err)
{
    memset(out, 0, n * sizeof(*out));
    if (n == 0)
        return 0;
    int64_t lo = from * PERF__USEC_PER_DAY, hi = (to + 1) * PERF__USEC_PER_DAY;
    perf__many m = {ids, out, n};
    if (user_id != NULL && n == 1)
        return db_each(c, &Q_HEALTH_USER_ONE,
                       DB_ARGS(DB_TEXT(user_id), DB_TIME(lo), DB_TIME(hi), DB_TEXT(ids[0])),
                       perf__health_row, NULL, &m, err);
    if (user_id != NULL)
        return db_each(c, &Q_HEALTH_USER, DB_ARGS(DB_TEXT(user_id), DB_TIME(lo), DB_TIME(hi)),
                       perf__health_row, NULL, &m, err);
    char *list = perf__ids_json(ids, n, err);
    if (list == NULL)
        return -1;
    int rc = db_each(c, &Q_HEALTH_SOME, DB_ARGS(DB_TEXT(list), DB_TIME(lo), DB_TIME(hi)),
                     perf__health_row, NULL, &m, err);
    free(list);
    return rc;
}

int perf_store_health_raw(db_conn *c, const char *user_id, const char *persona_id, int64_t from,
                          int64_t to, perf_health *out, error *err)
{
    return perf__health_raw_many(c, user_id, &persona_id, 1, from, to, out, err);
}

/* ---- the roll-ups (decision 81) ----------------------------------------------- */

int perf_hist_key(int64_t ms)
{
    if (ms < 128)
        return ms < 0 ? 0 : (int)ms;
    int e = 0;
    while ((ms >> e) >= 128)
        e++;
    return e * 128 + (int)(ms >> e);
}

void perf_hist_bounds(int key, int64_t *lo, int64_t *hi)
{
    int e = key / 128, m = key % 128;
    *lo = (int64_t)m << e;
    *hi = (((int64_t)m + 1) << e) - 1;
}

int perf_store_by_persona(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                          int64_t from, int64_t to, perf_group **out, size_t *n, error *err)
{
    /* A user's channels are few: their rows, read through the indexes, cost
     * less than any roll-up that keeps users apart. */
    if (user_id != NULL)
        return perf_store_by_persona_raw(c, a, user_id, persona_id, from, to, out, n, err);
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    int64_t dirty;
    if (db_int64(c, &Q_DIRTY_IN, DB_ARGS(DB_TEXT(f), DB_TEXT(t)), &dirty, err) != 0)
        return -1;
    if (persona_id == NULL)
        return db_list(c, dirty > 0 ? &Q_ROLL : &Q_CLEAN, DB_ARGS(DB_TEXT(f), DB_TEXT(t)),
                       perf__group_row, a, sizeof(**out), 16, out, n, err);
    return db_list(c, dirty > 0 ? &Q_ROLL_PERSONA : &Q_CLEAN_PERSONA,
                   DB_ARGS(DB_TEXT(f), DB_TEXT(t), DB_TEXT(persona_id)), perf__group_row, a,
                   sizeof(**out), 1, out, n, err);
}

/* The health sums of one persona over every user's logs, as they come. */
typedef struct perf__hist {
    int64_t count, successes;
    int32_t keys[PERF_HIST_KEYS];
} perf__hist;

typedef struct perf__hists {
    const char *const *ids;
    perf__hist *h;
    size_t n;
    bool bad; /* a stored histogram did not parse */
} perf__hists;

static int perf__hist_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    perf__hists *hs = out;
    const char *id = db_col_text(s, 0);
    perf__hist *h = NULL;
    for (size_t i = 0; id != NULL && i < hs->n && h == NULL; i++)
        if (strcmp(hs->ids[i], id) == 0)
            h = &hs->h[i];
    if (h == NULL)
        return 0;
    h->count += db_col_int64(s, 1);
    h->successes += db_col_int64(s, 2);
    const char *text = db_col_text(s, 3);
    if (text == NULL) { /* a raw log of a dirty date */
        h->keys[perf_hist_key(db_col_int64(s, 4))]++;
        return 0;
    }
    while (*text != '\0') {
        char *end;
        long key = strtol(text, &end, 10);
        if (end == text || *end != ':' || key < 0 || key >= PERF_HIST_KEYS) {
            hs->bad = true;
            return 0;
        }
        text = end + 1;
        long long cnt = strtoll(text, &end, 10);
        if (end == text || cnt <= 0 || cnt > INT32_MAX || (*end != ' ' && *end != '\0')) {
            hs->bad = true;
            return 0;
        }
        h->keys[key] += (int32_t)cnt;
        text = *end == ' ' ? end + 1 : end;
    }
    return 0;
}

/* Rank k (1-based) among the persona's durations in [lo, hi): its bucket
 * from the histogram, then the value itself, read by rank inside the bucket
 * through (persona_id, duration_ms, created_at). */
static int perf__hist_rank(db_conn *c, const perf__hist *h, const char *persona_id, int64_t lo,
                           int64_t hi, int64_t k, int64_t *out, error *err)
{
    int64_t below = 0;
    int key = 0;
    while (key < PERF_HIST_KEYS - 1 && below + h->keys[key] < k)
        below += h->keys[key++];
    int64_t b_lo, b_hi;
    perf_hist_bounds(key, &b_lo, &b_hi);
    *out = b_lo;
    if (b_lo == b_hi)
        return 0;
    int64_t v;
    int rc = db_first(c, &Q_BUCKET_RANK,
                      DB_ARGS(DB_TEXT(persona_id), DB_INT(b_lo), DB_INT(b_hi), DB_TIME(lo),
                              DB_TIME(hi), DB_INT(k - below - 1)),
                      db_row_int64, NULL, &v, err);
    if (rc < 0)
        return -1;
    /* No row: a log of the bucket was deleted since the histogram was read;
     * the bucket's low end is within its width of the answer. */
    if (rc == 1)
        *out = v;
    return 0;
}

int perf_store_health_many(db_conn *c, const char *user_id, const char *const *ids, size_t n,
                           int64_t from, int64_t to, perf_health *out, error *err)
{
    if (user_id != NULL || n == 0)
        return perf__health_raw_many(c, user_id, ids, n, from, to, out, err);
    memset(out, 0, n * sizeof(*out));
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    char *list = perf__ids_json(ids, n, err);
    if (list == NULL)
        return -1;
    perf__hists hs = {ids, xcalloc(n, sizeof(perf__hist)), n, false};
    int rc = db_each(c, &Q_HEALTH_ROLL, DB_ARGS(DB_TEXT(list), DB_TEXT(f), DB_TEXT(t)),
                     perf__hist_row, NULL, &hs, err);
    free(list);
    if (rc == 0 && hs.bad)
        rc = error_set(err, ERR_INTERNAL, NULL, "a stored duration histogram does not parse");
    /* Personas with few logs are ranked together from their raw rows, one
     * statement for all; the others through their histograms. */
    const char **small = xcalloc(n, sizeof(*small));
    size_t n_small = 0;
    int64_t lo = from * PERF__USEC_PER_DAY, hi = (to + 1) * PERF__USEC_PER_DAY;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const perf__hist *h = &hs.h[i];
        if (h->count == 0)
            continue;
        if (h->count <= PERF__SMALL) {
            small[n_small++] = ids[i];
            continue;
        }
        out[i].count = h->count;
        out[i].successes = h->successes;
        if (perf__hist_rank(c, h, ids[i], lo, hi, perf__k50(h->count), &out[i].p50_ms, err) != 0 ||
            perf__hist_rank(c, h, ids[i], lo, hi, perf__k95(h->count), &out[i].p95_ms, err) != 0)
            rc = -1;
    }
    if (rc == 0 && n_small > 0) {
        perf_health *some = xcalloc(n_small, sizeof(*some));
        rc = perf__health_raw_many(c, NULL, small, n_small, from, to, some, err);
        for (size_t i = 0, k = 0; rc == 0 && i < n && k < n_small; i++)
            if (ids[i] == small[k])
                out[i] = some[k++];
        free(some);
    }
    free(small);
    free(hs.h);
    return rc;
}

int perf_store_health(db_conn *c, const char *user_id, const char *persona_id, int64_t from,
                      int64_t to, perf_health *out, error *err)
{
    return perf_store_health_many(c, user_id, &persona_id, 1, from, to, out, err);
}

/* The day's logs, ordered by persona and duration, turned into one
 * histogram row per persona as they stream (only the current one is held). */
typedef struct perf__day_health {
    char persona_id[UUID_STR_LEN + 1];
    int64_t count, successes, key_count;
    int key;
    char *text;
    size_t len, cap;
    /* the finished rows, written once the read is over */
    struct perf__health_put {
        char persona_id[UUID_STR_LEN + 1];
        int64_t count, successes;
        char *text;
    } * rows;
    size_t n, rows_cap;
} perf__day_health;

static void perf__append(perf__day_health *d, int key, int64_t cnt)
{
    char pair[48];
    int w = snprintf(pair, sizeof(pair), "%s%d:%lld", d->len > 0 ? " " : "", key, (long long)cnt);
    if (d->len + (size_t)w + 1 > d->cap) {
        d->cap = (d->len + (size_t)w + 1) * 2;
        d->text = xrealloc(d->text, d->cap);
    }
    memcpy(d->text + d->len, pair, (size_t)w + 1);
    d->len += (size_t)w;
}

static void perf__finish_persona(perf__day_health *d)
{
    if (d->count == 0)
        return;
    perf__append(d, d->key, d->key_count);
    if (d->n == d->rows_cap) {
        d->rows_cap = d->rows_cap ? d->rows_cap * 2 : 16;
        d->rows = xrealloc(d->rows, d->rows_cap * sizeof(*d->rows));
    }
    struct perf__health_put *r = &d->rows[d->n++];
    memcpy(r->persona_id, d->persona_id, sizeof(r->persona_id));
    r->count = d->count;
    r->successes = d->successes;
    r->text = d->text;
    d->text = NULL;
    d->len = d->cap = 0;
    d->count = d->successes = d->key_count = 0;
}

static int perf__day_log(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    perf__day_health *d = out;
    const char *id = db_col_text(s, 0);
    if (id == NULL || strlen(id) != UUID_STR_LEN)
        return error_set(err, ERR_INTERNAL, NULL, "a persona id read back is not a UUID");
    if (d->count > 0 && strcmp(id, d->persona_id) != 0)
        perf__finish_persona(d);
    int key = perf_hist_key(db_col_int64(s, 2));
    if (d->count == 0) {
        memcpy(d->persona_id, id, UUID_STR_LEN + 1);
        d->key = key;
    } else if (key != d->key) {
        perf__append(d, d->key, d->key_count);
        d->key = key;
        d->key_count = 0;
    }
    d->count++;
    d->successes += db_col_int64(s, 1);
    d->key_count++;
    return 0;
}

static void perf__day_health_free(perf__day_health *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->rows[i].text);
    free(d->rows);
    free(d->text);
}

typedef struct perf__day {
    const char *date;
    int64_t day;
} perf__day;

static int perf__recompute(db_conn *c, void *arg, error *err)
{
    const perf__day *day = arg;
    db_args one = DB_ARGS(DB_TEXT(day->date));
    if (db_write(c, &Q_UNMARK, one, NULL, err) < 0 ||
        db_write(c, &Q_DAY_CLEAR, one, NULL, err) < 0 ||
        db_write(c, &Q_DAY_FILL, DB_ARGS(DB_TEXT(day->date), DB_TEXT(day->date)), NULL, err) < 0 ||
        db_write(c, &Q_HEALTH_CLEAR, one, NULL, err) < 0)
        return -1;
    perf__day_health d = {0};
    int rc = db_each(c, &Q_HEALTH_LOGS, DB_ARGS(DB_TEXT(day->date)), perf__day_log, NULL, &d, err);
    if (rc == 0)
        perf__finish_persona(&d);
    for (size_t i = 0; rc == 0 && i < d.n; i++)
        if (db_write(c, &Q_HEALTH_PUT,
                     DB_ARGS(DB_TEXT(d.rows[i].persona_id), DB_TEXT(day->date),
                             DB_INT(d.rows[i].count), DB_INT(d.rows[i].successes),
                             DB_TEXT(d.rows[i].text)),
                     NULL, err) < 0)
            rc = -1;
    perf__day_health_free(&d);
    return rc;
}

typedef struct perf__dirty {
    char date[TIME_DAY_STR_LEN + 1];
} perf__dirty;

static int perf__dirty_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    perf__dirty *d = out;
    const char *t = db_col_text(s, 0);
    int64_t day;
    if (t == NULL || !time_day_parse(t, &day))
        return error_set(err, ERR_INTERNAL, NULL, "a dirty date read back is not a date");
    snprintf(d->date, sizeof(d->date), "%s", t);
    return 0;
}

int perf_store_rollup(db_conn *c, int max, int *done, error *err)
{
    *done = 0;
    arena a;
    arena_init(&a, 4096);
    perf__dirty *dates;
    size_t n;
    int rc = db_list(c, &Q_DIRTY, DB_ARGS(DB_INT(max)), perf__dirty_row, &a, sizeof(*dates),
                     (size_t)max, &dates, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        perf__day day = {.date = dates[i].date};
        time_day_parse(dates[i].date, &day.day);
        if (db_tx(c, perf__recompute, &day, err) < 0)
            rc = -1;
        else
            (*done)++;
    }
    arena_free(&a);
    return rc;
}
