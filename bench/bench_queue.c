/*
 * bench_queue: no-op jobs per second through the job queue, beside the
 * ceiling of the same SQL statements run in a bare loop, on the database at
 * URL (SQLite or PostgreSQL; migrated here if needed; its jobs table is
 * emptied before every run).
 *
 *   bench_queue URL [--jobs N] [--rounds R]
 *
 * Each run pushes N jobs through in two timed phases with T threads
 * (T = 1, 2, 4):
 *   enqueue  T threads each enqueue N/T jobs;
 *   drain    T workers claim and complete them until none is left.
 * queue:    job_enqueue(), then a job_pool of T workers whose handler
 *           commits job_complete() in its own transaction (what a real
 *           handler with no effect does).
 * ceiling:  T threads run the job_store statements the queue runs, in the
 *           same transactions (insert + NOTIFY; the claim, inside BEGIN
 *           IMMEDIATE on SQLite; BEGIN, complete, COMMIT), with no queue
 *           logic: no registry, no wake-ups or polling, no heartbeats, no
 *           payload parsing.
 * jobs/s = N / (enqueue time + drain time); the best of R rounds of each.
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
    int jobs; /* per run, a multiple of threads */
} bq_run;

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

static atomic_int bq_done;

static void bq_noop(db_conn *c, const job *j, job_result *out, void *ctx)
{
    db_error de;
    out->outcome = JOB_OUTCOME_RETRY;
    if (db_begin_write(c, &de) != 0)
        return;
    if (job_complete(c, j, &out->err) != 0 || db_commit(c, &de) != 0) {
        db_rollback(c);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
    atomic_fetch_add(&bq_done, 1);
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

static double bq_queue(const bq_run *r, double *enq_s, double *drain_s)
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
    atomic_store(&bq_done, 0);
    error e;
    job_pool *p = job_pool_start(d, r->threads, "bench:1", &e);
    if (p == NULL)
        bq_die("job_pool_start: %s", e.message);
    while (atomic_load(&bq_done) < r->jobs) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    int64_t t2 = time_mono_usec();
    job_pool_stop(p, 10000);
    db_close(d);
    *enq_s = (double)(t1 - t0) / 1e6;
    *drain_s = (double)(t2 - t1) / 1e6;
    return r->jobs / (*enq_s + *drain_s);
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

static void *bq_bare_drain(void *arg)
{
    bq_thread *t = arg;
    db_conn *c = db_acquire(t->d);
    bool sqlite = db_conn_engine(c) == DB_ENGINE_SQLITE;
    for (;;) {
        int64_t now = time_now_usec();
        char exp[TIME_STR_LEN + 1], map[128], owner[80];
        time_format(now + BQ_LEASE * 1000000LL, exp);
        snprintf(map, sizeof(map), "{\"%s\":\"%s\"}", BQ_KIND, exp);
        uuid_v7(owner + snprintf(owner, sizeof(owner), "bench:1/"));
        job_store_claimed cl = {0};
        db_error de;
        error e;
        if (sqlite && db_begin_write(c, &de) != 0)
            bq_die("begin: %s", de.message);
        int rc = job_store_claim(c, owner, now, map, &cl, &e);
        if (sqlite && db_commit(c, &de) != 0)
            bq_die("commit: %s", de.message);
        free(cl.payload);
        if (rc < 0)
            bq_die("claim: %s", e.message);
        if (rc == 0)
            break;
        if (db_begin_write(c, &de) != 0 ||
            job_store_complete(c, cl.id, owner, time_now_usec(), &e) != 0 || db_commit(c, &de) != 0)
            bq_die("complete failed");
    }
    db_release(c);
    return NULL;
}

static double bq_ceiling(const bq_run *r, double *enq_s, double *drain_s)
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
    db_close(d);
    *enq_s = (double)(t1 - t0) / 1e6;
    *drain_s = (double)(t2 - t1) / 1e6;
    return r->jobs / (*enq_s + *drain_s);
}

/* ---- main -------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *url = NULL;
    int jobs = 4000, rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (argv[i][0] != '-' && url == NULL)
            url = argv[i];
        else
            bq_die("usage: bench_queue URL [--jobs N] [--rounds R]");
    }
    if (url == NULL || jobs < 4 || rounds < 1)
        bq_die("usage: bench_queue URL [--jobs N] [--rounds R]");
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

    printf("bench_queue: %s, %d no-op jobs per run, best of %d rounds\n", engine, jobs, rounds);
    printf("%-8s %14s %16s %7s   %s\n", "threads", "queue jobs/s", "ceiling jobs/s", "ratio",
           "phases, jobs/s: enqueue queue|ceiling, drain queue|ceiling");
    static const int threads[] = {1, 2, 4};
    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
        bq_run r = {url, threads[t], jobs};
        double best_q = 0, best_c = 0, qe = 0, qd = 0, ce = 0, cd = 0;
        for (int k = 0; k < rounds; k++) {
            double e, dr;
            double c = bq_ceiling(&r, &e, &dr);
            if (c > best_c) {
                best_c = c;
                ce = e;
                cd = dr;
            }
            double q = bq_queue(&r, &e, &dr);
            if (q > best_q) {
                best_q = q;
                qe = e;
                qd = dr;
            }
        }
        printf("%-8d %14.0f %16.0f %6.0f%%   enqueue %.0f|%.0f, drain %.0f|%.0f\n", threads[t],
               best_q, best_c, 100.0 * best_q / best_c, jobs / qe, jobs / ce, jobs / qd, jobs / cd);
        fflush(stdout);
    }
    return 0;
}
