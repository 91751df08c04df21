/*
 * bench_queue: how fast the job queue drains no-op jobs, one at a time as
 * before batches, in batches, and beside the ceiling of the batched SQL
 * statements run in a bare loop, on the database at URL (SQLite or
 * PostgreSQL; migrated here if needed; its jobs table is emptied before
 * every run).
 *
 *   bench_queue URL [--jobs N] [--rounds R] [--batch B] [--threads T]
 *
 * Each run enqueues N jobs with T threads (T = 1, 2, 4, or only --threads),
 * then drains them with T worker threads, timed apart:
 *   one      a job_pool with batch 1: the claim and completion statements
 *            of the queue before batches (job_claim's one-job UPDATE; BEGIN,
 *            complete, COMMIT from job_complete_alone), nothing deferred;
 *   batched  a job_pool with batch B (default 16, the server's default),
 *            claims growing 1, 2, 4 … B as the pool does;
 *   ceiling  T threads running the batched statements the pool runs, in
 *            the same transactions (the batch claim, inside BEGIN IMMEDIATE
 *            on SQLite; the batch completion, in a transaction on SQLite and
 *            alone on PostgreSQL), B jobs each time, with no queue logic: no
 *            registry, payload parsing, handler, wake-ups or heartbeats.
 * The handler is job_complete_alone (a handler with no effects). A pool's
 * drain ends when every job's handler ran and every job reads 'done'.
 * drain jobs/s = N / drain time, the best of R rounds of each; the ratios
 * are batched / one and batched / ceiling. Enqueue rates are printed for
 * information (job_enqueue for the pools, bare inserts for the ceiling).
 * No timing is asserted; this is not a test.
 */
#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/migrate.h"
#include "domain/job_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BQ_KIND  "bench.noop"
#define BQ_LEASE 30

static void bq_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bq_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_queue: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

typedef struct bq_run {
    const char *url;
    int threads;
    int jobs;  /* per run, a multiple of threads */
    int batch; /* jobs per claim: the pool's most, the ceiling's every time */
} bq_run;

/* One run's phases, in seconds. */
typedef struct bq_time {
    double enqueue, drain;
} bq_time;

typedef struct bq_thread {
    const bq_run *run;
    db *d;
    int count; /* jobs this thread enqueues */
} bq_thread;

static void bq_reset(db *d)
{
    /* A bench tool's housekeeping, not a store's business: start empty. */
    db_conn *c = db_acquire(d);
    db_error de;
    if (db_exec_script(c, "DELETE FROM jobs", &de) != 0)
        bq_die("cannot empty the jobs table: %s", de.message);
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES && db_exec_script(c, "VACUUM ANALYZE jobs", &de))
        bq_die("cannot vacuum the jobs table: %s", de.message);
    db_release(c);
}

static void bq_threads(int n, void *(*fn)(void *), bq_thread *args)
{
    pthread_t t[16];
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, &args[i]) != 0)
            bq_die("cannot start a thread");
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* ---- the queue ------------------------------------------------------------------ */

static atomic_int bq_ran;

static void bq_noop(db_conn *c, const job *j, job_result *out, void *ctx)
{
    job_complete_alone(c, j, out);
    if (out->outcome == JOB_OUTCOME_DONE)
        atomic_fetch_add(&bq_ran, 1);
}

static db_sql Q_DONE = DB_SQL("SELECT COUNT(*) FROM jobs WHERE status = 'done'");

static int64_t bq_count_done(db *d)
{
    db_conn *c = db_acquire(d);
    int64_t n = 0;
    error e;
    if (db_int64(c, &Q_DONE, DB_NOARGS, &n, &e) != 0)
        bq_die("count: %s", e.message);
    db_release(c);
    return n;
}

static void bq_pause(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

static void *bq_queue_enqueue(void *arg)
{
    bq_thread *t = arg;
    db_conn *c = db_acquire(t->d);
    for (int i = 0; i < t->count; i++) {
        char id[UUID_STR_LEN + 1];
        error e;
        if (job_enqueue(c, BQ_KIND, NULL, NULL, id, &e) != 0)
            bq_die("job_enqueue: %s", e.message);
    }
    db_release(c);
    return NULL;
}

static bq_time bq_queue(const bq_run *r, int batch)
{
    db_error de;
    db *d = db_open(r->url, 2 * r->threads, &de);
    if (d == NULL)
        bq_die("%s", de.message);
    bq_reset(d);
    bq_thread args[16];
    for (int i = 0; i < r->threads; i++)
        args[i] = (bq_thread){r, d, r->jobs / r->threads};
    int64_t t0 = time_mono_usec();
    bq_threads(r->threads, bq_queue_enqueue, args);
    int64_t t1 = time_mono_usec();
    atomic_store(&bq_ran, 0);
    error e;
    job_pool *p = job_pool_start_batch(d, r->threads, batch, "bench:1", &e);
    if (p == NULL)
        bq_die("job_pool_start: %s", e.message);
    /* Every handler ran; then the last batches' completions are written. */
    while (atomic_load(&bq_ran) < r->jobs)
        bq_pause();
    while (bq_count_done(d) < r->jobs)
        bq_pause();
    int64_t t2 = time_mono_usec();
    job_pool_stop(p, 10000);
    db_close(d);
    return (bq_time){(double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6};
}

/* ---- the ceiling: the same statements in a bare loop ------------------------------ */

static void *bq_bare_enqueue(void *arg)
{
    bq_thread *t = arg;
    db_conn *c = db_acquire(t->d);
    for (int i = 0; i < t->count; i++) {
        char id[UUID_STR_LEN + 1];
        uuid_v7(id);
        int64_t now = time_now_usec();
        job_store_new n = {
            .kind = BQ_KIND, .payload = "{}", .run_at = now, .max_attempts = 5, .now = now};
        bool created;
        error e;
        if (job_store_insert(c, &n, id, &created, &e) != 0 || job_store_notify(c, &e) != 0)
            bq_die("insert: %s", e.message);
    }
    db_release(c);
    return NULL;
}

typedef struct bq_claim_tx {
    const char *owner;
    int64_t now;
    const char *map;
    int max;
    job_store_claimed *out;
} bq_claim_tx;

static int bq_claim_body(db_conn *c, void *arg, error *err)
{
    bq_claim_tx *tx = arg;
    return job_store_claim_batch(c, tx->owner, tx->now, tx->map, tx->max, tx->out, err);
}

typedef struct bq_complete_tx {
    const char (*ids)[UUID_STR_LEN + 1];
    int n;
    const char *owner;
} bq_complete_tx;

static int bq_complete_body(db_conn *c, void *arg, error *err)
{
    bq_complete_tx *tx = arg;
    return job_store_complete_batch(c, tx->ids, tx->n, tx->owner, time_now_usec(), err) < 0 ? -1
                                                                                            : 0;
}

static void *bq_bare_drain(void *arg)
{
    bq_thread *t = arg;
    int max = t->run->batch;
    db_conn *c = db_acquire(t->d);
    bool sqlite = db_conn_engine(c) == DB_ENGINE_SQLITE;
    job_store_claimed *cl = xcalloc((size_t)max, sizeof(*cl));
    char(*ids)[UUID_STR_LEN + 1] = xcalloc((size_t)max, sizeof(*ids));
    for (;;) {
        int64_t now = time_now_usec();
        char exp[TIME_STR_LEN + 1], map[128], owner[80];
        time_format(now + BQ_LEASE * 1000000LL, exp);
        snprintf(map, sizeof(map), "{\"%s\":\"%s\"}", BQ_KIND, exp);
        uuid_v7(owner + snprintf(owner, sizeof(owner), "bench:1/"));
        error e;
        bq_claim_tx claim = {owner, now, map, max, cl};
        int n = sqlite ? db_tx(c, bq_claim_body, &claim, &e) : bq_claim_body(c, &claim, &e);
        if (n < 0)
            bq_die("claim: %s", e.message);
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            memcpy(ids[i], cl[i].id, sizeof(ids[i]));
            free(cl[i].payload);
        }
        bq_complete_tx done = {ids, n, owner};
        if ((sqlite ? db_tx(c, bq_complete_body, &done, &e) : bq_complete_body(c, &done, &e)) != 0)
            bq_die("complete: %s", e.message);
    }
    free(ids);
    free(cl);
    db_release(c);
    return NULL;
}

static bq_time bq_ceiling(const bq_run *r)
{
    db_error de;
    db *d = db_open(r->url, r->threads, &de);
    if (d == NULL)
        bq_die("%s", de.message);
    bq_reset(d);
    bq_thread args[16];
    for (int i = 0; i < r->threads; i++)
        args[i] = (bq_thread){r, d, r->jobs / r->threads};
    int64_t t0 = time_mono_usec();
    bq_threads(r->threads, bq_bare_enqueue, args);
    int64_t t1 = time_mono_usec();
    bq_threads(r->threads, bq_bare_drain, args);
    int64_t t2 = time_mono_usec();
    if (bq_count_done(d) != r->jobs)
        bq_die("the ceiling left jobs undone");
    db_close(d);
    return (bq_time){(double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6};
}

/* Keeps the run with the fastest drain. */
static void bq_best(bq_time *best, bq_time t)
{
    if (best->drain == 0 || t.drain < best->drain)
        *best = t;
}

/* ---- main -------------------------------------------------------------------------- */

#define BQ_USAGE "usage: bench_queue URL [--jobs N] [--rounds R] [--batch B] [--threads T]"

int main(int argc, char **argv)
{
    const char *url = NULL;
    int jobs = 4000, rounds = 3, batch = JOB_POOL_BATCH_DEFAULT, only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (argv[i][0] != '-' && url == NULL)
            url = argv[i];
        else
            bq_die(BQ_USAGE);
    }
    if (url == NULL || jobs < 4 || rounds < 1 || batch < 2 || batch > JOB_POOL_BATCH_MAX ||
        only < 0 || only > 16)
        bq_die(BQ_USAGE " (B from 2 to %d, T from 1 to 16)", JOB_POOL_BATCH_MAX);
    jobs -= jobs % 4;
    if (sodium_init() < 0)
        bq_die("libsodium failed to initialise");
    log_init(LOG_WARN, NULL);
    db_error de;
    db *d = db_open(url, 1, &de);
    if (d == NULL)
        bq_die("%s", de.message);
    int applied = 0;
    if (migrate_apply(d, &applied, &de) != 0)
        bq_die("cannot migrate: %s", de.message);
    const char *engine = db_engine_name(db_engine_of(d));
    db_close(d);
    job_register(BQ_KIND, bq_noop, NULL, BQ_LEASE);

    printf("bench_queue: %s, %d no-op jobs per run, batch %d, best of %d rounds\n", engine, jobs,
           batch, rounds);
    printf("%-8s %27s %9s %9s   %s\n", "threads", "drain jobs/s: one|batched|ceil", "b / one",
           "b / ceil", "enqueue jobs/s: job_enqueue|bare insert");
    static const int all[] = {1, 2, 4};
    for (size_t t = 0; t < sizeof(all) / sizeof(all[0]) || (only && t == 0); t++) {
        int threads = only ? only : all[t];
        bq_run r = {url, threads, jobs - jobs % threads, batch};
        bq_time one = {0}, batched = {0}, ceil = {0};
        for (int k = 0; k < rounds; k++) {
            bq_best(&ceil, bq_ceiling(&r));
            bq_best(&one, bq_queue(&r, 1));
            bq_best(&batched, bq_queue(&r, batch));
        }
        double n = r.jobs;
        printf("%-8d %9.0f|%8.0f|%8.0f %8.2fx %8.0f%%   %.0f|%.0f\n", threads, n / one.drain,
               n / batched.drain, n / ceil.drain, one.drain / batched.drain,
               100.0 * ceil.drain / batched.drain, n / batched.enqueue, n / ceil.enqueue);
        fflush(stdout);
        if (only)
            break;
    }
    return 0;
}
