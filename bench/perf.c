/*
 * bench_perf: the persona-performance reads of issue 12 beside a full scan
 * of the tables they read, in the same run, on a database bench_gen filled
 * (SQLite or PostgreSQL). No timing is asserted; this is not a test.
 *
 *   bench_perf --url URL [--runs N]
 *
 * Measured, each N times (default 9) after one warm-up, the median printed:
 *   scan             the full scan: every row of channel_analytics,
 *                    channel_persona_assignments and persona_usage_logs read
 *                    and aggregated, one SELECT per table (count and sums of
 *                    the columns the reads use), in a row: what answering
 *                    without indexes or roll-ups would at least cost;
 *   leaderboard      performance_service_leaderboard, the function the route
 *                    calls (figures, names, generation health), with the
 *                    route's default range (the 28 days ending yesterday);
 *   persona          performance_service_persona for the persona with the
 *                    most channel-days on that caller's leaderboard (the
 *                    heaviest persona read), default range.
 * Both reads for a typical user (the benchmark caller: 10 channels, as
 * bench_gen makes it) and for an admin (the same caller with the admin role:
 * every user's channels and logs). Each read's ratio is its median over the
 * scan's median; the target is 5 %.
 *
 * The admin's reads come from the roll-ups (decision 81), which bench_gen
 * left up to date. Then they are measured again with the range's last two
 * dates marked dirty, as they are between a daily sync and the next run of
 * the roll-up job (the sync re-fetches the last days): those dates are read
 * raw. The marks are cleared after, by the job's own function.
 */
#include "base/arena.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "db/migrate.h"
#include "domain/principal.h"
#include "services/performance_service.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BP_MAX_RUNS 101

static void bp_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bp_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_perf: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* The full scan: one aggregate over every row of each table. */
static const char *const bp_scan_sql[] = {
    "SELECT count(*), sum(views), sum(watch_time_minutes), sum(avg_retention), sum(avg_ctr), "
    "sum(subscribers_gained - subscribers_lost) FROM channel_analytics",
    "SELECT count(*), count(persona_id), max(created_at) FROM channel_persona_assignments",
    "SELECT count(*), count(CASE WHEN success THEN 1 END), sum(duration_ms) FROM "
    "persona_usage_logs",
};
#define BP_SCANS (sizeof(bp_scan_sql) / sizeof(bp_scan_sql[0]))

static int64_t bp_rows[BP_SCANS];

static void bp_scan(db_conn *c)
{
    for (size_t i = 0; i < BP_SCANS; i++) {
        db_sql q = DB_SQL(bp_scan_sql[i]);
        db_error de;
        db_stmt *s = db_prepare(c, &q, &de);
        if (s == NULL || db_step(s, &de) != DB_ROW)
            bp_die("the scan failed: %s", de.message);
        bp_rows[i] = db_col_int64(s, 0);
        db_reset(s);
    }
}

typedef struct bp_read {
    const char *name;
    principal who;
    char persona_id[UUID_STR_LEN + 1];
    size_t items;     /* leaderboard rows, or the persona's channel-days */
    int64_t health_n; /* usage logs behind the health figures */
    int64_t samples[BP_MAX_RUNS];
} bp_read;

static void bp_leaderboard(db_conn *c, bp_read *r)
{
    arena a;
    arena_init(&a, 1 << 16);
    perf_board b;
    error e;
    if (performance_service_leaderboard(c, &a, &r->who, NULL, NULL, NULL, &b, &e) != 0)
        bp_die("the leaderboard failed: %s", e.message);
    r->items = b.n;
    r->health_n = 0;
    size_t top = 0; /* the persona with the most channel-days: the heaviest read */
    for (size_t i = 0; i < b.n; i++) {
        r->health_n += b.items[i].health.count;
        if (b.items[i].persona.channel_days > b.items[top].persona.channel_days)
            top = i;
    }
    if (b.n > 0 && r->persona_id[0] == '\0')
        memcpy(r->persona_id, b.items[top].persona.persona_id, sizeof(r->persona_id));
    arena_free(&a);
}

static void bp_persona(db_conn *c, bp_read *r)
{
    arena a;
    arena_init(&a, 1 << 16);
    perf_report rep;
    error e;
    if (performance_service_persona(c, &a, &r->who, r->persona_id, NULL, NULL, &rep, &e) != 0)
        bp_die("the persona read failed: %s", e.message);
    r->items = (size_t)rep.persona.channel_days;
    r->health_n = rep.health.count;
    arena_free(&a);
}

static int bp_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static double bp_median_ms(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bp_cmp);
    return (double)v[n / 2] / 1000.0;
}

static void bp_user(db_conn *c, principal *p)
{
    memset(p, 0, sizeof(*p));
    db_sql q = DB_SQL("SELECT id FROM users WHERE email = 'bench@bench.example'");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL || db_step(s, &de) != DB_ROW)
        bp_die("no benchmark caller: fill the database with bench_gen first");
    snprintf(p->user_id, sizeof(p->user_id), "%s", db_col_text(s, 0));
    db_reset(s);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    int runs = 9;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            bp_die("usage: bench_perf --url URL [--runs N]");
    }
    if (url == NULL || runs < 1 || runs > BP_MAX_RUNS)
        bp_die("usage: bench_perf --url URL [--runs N] (N from 1 to %d)", BP_MAX_RUNS);
    db_error de;
    db *d = db_open(url, 1, &de);
    if (d == NULL)
        bp_die("cannot open %s: %s", url, de.message);
    int applied;
    if (migrate_apply(d, &applied, &de) != 0)
        bp_die("cannot migrate: %s", de.message);
    db_conn *c = db_acquire(d);

    bp_read user_board = {.name = "leaderboard, user"},
            admin_board = {.name = "leaderboard, admin"};
    bp_user(c, &user_board.who);
    admin_board.who = user_board.who;
    admin_board.who.is_admin = true;
    /* The persona read follows the same caller's leaderboard. */
    bp_leaderboard(c, &user_board);
    bp_leaderboard(c, &admin_board);
    bp_read user_persona = {.name = "persona, user", .who = user_board.who};
    bp_read admin_persona = {.name = "persona, admin", .who = admin_board.who};
    memcpy(user_persona.persona_id, user_board.persona_id, sizeof(user_persona.persona_id));
    memcpy(admin_persona.persona_id, admin_board.persona_id, sizeof(admin_persona.persona_id));
    if (user_persona.persona_id[0] == '\0' || admin_persona.persona_id[0] == '\0')
        bp_die("no attributed channel-days: was the database filled by this bench_gen?");

    int64_t scan[BP_MAX_RUNS];
    bp_read *reads[] = {&user_board, &admin_board, &user_persona, &admin_persona};
    /* One warm-up of each, then the runs interleaved, so a drift of the
     * machine touches every figure alike. */
    bp_scan(c);
    for (size_t k = 0; k < 4; k++)
        (k < 2 ? bp_leaderboard : bp_persona)(c, reads[k]);
    for (int i = 0; i < runs; i++) {
        int64_t t = time_mono_usec();
        bp_scan(c);
        scan[i] = time_mono_usec() - t;
        for (size_t k = 0; k < 4; k++) {
            t = time_mono_usec();
            (k < 2 ? bp_leaderboard : bp_persona)(c, reads[k]);
            reads[k]->samples[i] = time_mono_usec() - t;
        }
    }
    /* The admin's reads again, with the range's last two dates dirty. */
    db_sql mark =
        DB_SQL2("INSERT OR IGNORE INTO perf_dirty_days (date) VALUES (date('now', "
                "'-1 day')), (date('now', '-2 day'))",
                "INSERT INTO perf_dirty_days (date) VALUES ((now() AT TIME ZONE 'UTC')::date - 1), "
                "((now() AT TIME ZONE 'UTC')::date - 2) ON CONFLICT DO NOTHING");
    error e;
    if (db_write(c, &mark, DB_NOARGS, NULL, &e) < 0)
        bp_die("cannot mark dates dirty: %s", e.message);
    bp_read dirty_board = {.name = "leaderboard, admin*", .who = admin_board.who};
    bp_read dirty_persona = {.name = "persona, admin*", .who = admin_board.who};
    memcpy(dirty_persona.persona_id, admin_persona.persona_id, sizeof(dirty_persona.persona_id));
    bp_leaderboard(c, &dirty_board);
    bp_persona(c, &dirty_persona);
    for (int i = 0; i < runs; i++) {
        int64_t t = time_mono_usec();
        bp_leaderboard(c, &dirty_board);
        dirty_board.samples[i] = time_mono_usec() - t;
        t = time_mono_usec();
        bp_persona(c, &dirty_persona);
        dirty_persona.samples[i] = time_mono_usec() - t;
    }
    int64_t t = time_mono_usec(), dates;
    if (performance_service_rollup(c, &dates, &e) != 0)
        bp_die("cannot roll up: %s", e.message);
    double rollup_ms = (double)(time_mono_usec() - t) / 1000.0;

    const char *engine = db_conn_engine(c) == DB_ENGINE_POSTGRES ? "postgres" : "sqlite";
    double scan_ms = bp_median_ms(scan, runs);
    printf("engine=%s runs=%d analytics_rows=%lld assignment_rows=%lld usage_log_rows=%lld\n",
           engine, runs, (long long)bp_rows[0], (long long)bp_rows[1], (long long)bp_rows[2]);
    printf("%-20s %10s %8s  %s\n", "read", "median ms", "ratio", "what it returned");
    printf("%-20s %10.2f %7.1f%%  every row of the three tables\n", "full scan", scan_ms, 100.0);
    for (size_t k = 0; k < 4; k++) {
        double ms = bp_median_ms(reads[k]->samples, runs);
        printf("%-20s %10.2f %7.2f%%  %s %zu, usage logs %lld\n", reads[k]->name, ms,
               100.0 * ms / scan_ms, k < 2 ? "personas" : "channel-days", reads[k]->items,
               (long long)reads[k]->health_n);
    }
    bp_read *dirty[] = {&dirty_board, &dirty_persona};
    for (size_t k = 0; k < 2; k++) {
        double ms = bp_median_ms(dirty[k]->samples, runs);
        printf("%-20s %10.2f %7.2f%%  %s %zu, usage logs %lld\n", dirty[k]->name, ms,
               100.0 * ms / scan_ms, k == 0 ? "personas" : "channel-days", dirty[k]->items,
               (long long)dirty[k]->health_n);
    }
    printf("* with the range's last two dates dirty (read raw); the roll-up job then "
           "recomputed %lld dates in %.1f ms\n",
           (long long)dates, rollup_ms);
    db_release(c);
    db_close(d);
    return 0;
}
