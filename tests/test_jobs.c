/*
 * The durable job queue on both engines: enqueue, claim and complete, dedup,
 * priority, backoff, dead jobs and their admin endpoints, leases (expiry,
 * heartbeats, a worker process killed with -9), the scheduler across two
 * pools, and a graceful stop that gives running jobs back.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "jobs/diag.h"
#include "jobs/queue.h"
#include "jobs/queue_private.h"
#include "jobs/worker.h"
#include "services/maintenance.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAST "2000-01-01T00:00:00.000000Z"

static int setup(void **state)
{
    test_api *a = test_calloc(1, sizeof(*a));
    test_api_start(a);
    job_unregister_all();
    job_unschedule_all();
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    test_api *a = *state;
    test_api_stop(a);
    job_unregister_all();
    job_unschedule_all();
    test_free(a);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

typedef struct job_row {
    char status[16];
    int attempts;
    char last_error[512];
    char lease_owner[80];
    int64_t run_at;
    int64_t lease_expires_at;
    int64_t finished_at;
} job_row;

static db_sql Q_ROW = DB_SQL("SELECT status, attempts, last_error, lease_owner, run_at, "
                             "lease_expires_at, finished_at FROM jobs WHERE id = $1");
static db_sql Q_COUNT_STATUS = DB_SQL("SELECT COUNT(*) FROM jobs WHERE status = $1");
static db_sql Q_COUNT_KIND = DB_SQL("SELECT COUNT(*) FROM jobs WHERE kind = $1");
static db_sql Q_COUNT_EFFECTS = DB_SQL("SELECT COUNT(*) FROM job_effects");
static db_sql Q_EFFECT = DB_SQL("INSERT INTO job_effects (job_id) VALUES ($1)");
static db_sql Q_STALE_EFFECT = DB_SQL("INSERT INTO stale_effects (job_id) VALUES ($1)");
static db_sql Q_COUNT_STALE = DB_SQL("SELECT COUNT(*) FROM stale_effects");

static job_row row_of(test_api *a, const char *id)
{
    job_row r;
    memset(&r, 0, sizeof(r));
    db_conn *c = db_acquire(a->t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &Q_ROW, &de);
    assert_non_null(s);
    db_bind_text(s, 1, id);
    int rc = db_step(s, &de);
    if (rc == DB_ROW) {
        const char *e = db_col_text(s, 2), *o = db_col_text(s, 3);
        snprintf(r.status, sizeof(r.status), "%s", db_col_text(s, 0));
        r.attempts = (int)db_col_int64(s, 1);
        snprintf(r.last_error, sizeof(r.last_error), "%s", e ? e : "");
        snprintf(r.lease_owner, sizeof(r.lease_owner), "%s", o ? o : "");
        r.run_at = db_col_time(s, 4);
        r.lease_expires_at = db_col_time(s, 5);
        r.finished_at = db_col_time(s, 6);
    }
    db_reset(s);
    db_release(c);
    if (rc != DB_ROW)
        fail_msg("no job %s (%s)", id, rc == DB_ERR ? de.message : "not found");
    return r;
}

static int64_t count_by(test_api *a, db_sql *q, const char *arg)
{
    db_conn *c = db_acquire(a->t.db);
    db_error de;
    db_stmt *s = db_prepare(c, q, &de);
    assert_non_null(s);
    if (arg != NULL)
        db_bind_text(s, 1, arg);
    int rc = db_step(s, &de);
    int64_t n = rc == DB_ROW ? db_col_int64(s, 0) : -1;
    db_reset(s);
    db_release(c);
    if (rc != DB_ROW)
        fail_msg("count: %s", de.message);
    return n;
}

/* Polls until the job's status is want, for at most seconds. */
static bool wait_status(test_api *a, const char *id, const char *want, int seconds)
{
    int64_t until = time_mono_usec() + (int64_t)seconds * 1000000;
    while (time_mono_usec() < until) {
        if (strcmp(row_of(a, id).status, want) == 0)
            return true;
        test_nap_ms(20);
    }
    return false;
}

static bool wait_count(test_api *a, db_sql *q, const char *arg, int64_t want, int seconds)
{
    int64_t until = time_mono_usec() + (int64_t)seconds * 1000000;
    while (time_mono_usec() < until) {
        if (count_by(a, q, arg) >= want)
            return true;
        test_nap_ms(20);
    }
    return false;
}

static void enqueue(test_api *a, const char *kind, const char *payload, const job_options *o,
                    char *id)
{
    json_t *p = payload ? json_loads(payload, 0, NULL) : NULL;
    db_conn *c = db_acquire(a->t.db);
    error e;
    int rc = job_enqueue(c, kind, p, o, id, &e);
    db_release(c);
    json_decref(p);
    if (rc != 0)
        fail_msg("job_enqueue %s: %s", kind, e.message);
}

static void set_run_at_past(test_api *a, const char *id)
{
    db_error de;
    if (testdb_execf(&a->t, &de, "UPDATE jobs SET run_at = '" PAST "' WHERE id = $1", "s", id))
        fail_msg("%s", de.message);
}

/* A second pool of connections for worker pools, so the test's own queries
 * never wait behind busy workers. */
static db *open_db(test_api *a, int n)
{
    db_error de;
    db *d = db_open(a->t.url, n, &de);
    if (d == NULL)
        fail_msg("db_open: %s", de.message);
    return d;
}

/* Commits the completion alone, as a handler with no other effect does. */
static void complete_alone(db_conn *c, const job *j, job_result *out)
{
    db_error de;
    out->outcome = JOB_OUTCOME_RETRY;
    if (db_begin_write(c, &de) != 0) {
        db_to_error(&out->err, &de, NULL);
        return;
    }
    if (job_complete(c, j, &out->err) != 0 || db_commit(c, &de) != 0) {
        db_rollback(c);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

/* ---- handlers --------------------------------------------------------------------- */

static atomic_int effect_calls, effect_violations;

/* Writes one row per job under a primary key, in the same transaction as
 * job_complete(): a job whose effects landed twice would violate it. */
static void effect_handler(db_conn *c, const job *j, job_result *out, void *ctx)
{
    atomic_fetch_add(&effect_calls, 1);
    out->outcome = JOB_OUTCOME_RETRY;
    db_error de;
    if (db_begin_write(c, &de) != 0) {
        db_to_error(&out->err, &de, NULL);
        return;
    }
    db_stmt *s = db_prepare(c, &Q_EFFECT, &de);
    int rc = s ? 0 : -1;
    if (s != NULL) {
        db_bind_text(s, 1, j->id);
        rc = db_exec(s, &de);
        db_reset(s);
    }
    if (rc != 0) {
        if (de.fault == DB_FAULT_UNIQUE)
            atomic_fetch_add(&effect_violations, 1);
        db_rollback(c);
        db_to_error(&out->err, &de, NULL);
        return;
    }
    if (job_complete(c, j, &out->err) != 0 || db_commit(c, &de) != 0) {
        db_rollback(c);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

static int flaky_calls;
static int flaky_failures; /* how many calls fail before one succeeds */

static void flaky_handler(db_conn *c, const job *j, job_result *out, void *ctx)
{
    if (++flaky_calls <= flaky_failures) {
        out->outcome = JOB_OUTCOME_RETRY;
        error_set(&out->err, ERR_UNAVAILABLE, NULL, "boom %d", flaky_calls);
        return;
    }
    complete_alone(c, j, out);
}

static int64_t later_at;

static void later_handler(db_conn *c, const job *j, job_result *out, void *ctx)
{
    out->outcome = JOB_OUTCOME_RETRY_AT;
    out->retry_at = later_at;
    error_set(&out->err, ERR_RATE_LIMITED, NULL, "rate limited; come back later");
}

static void fatal_handler(db_conn *c, const job *j, job_result *out, void *ctx)
{
    out->outcome = JOB_OUTCOME_FAIL;
    error_set(&out->err, ERR_INVALID, NULL, "the payload names no such thing");
}

static void ok_handler(db_conn *c, const job *j, job_result *out, void *ctx)
{
    complete_alone(c, j, out);
}

static void create_effects_table(test_api *a)
{
    testdb_exec(&a->t, "CREATE TABLE job_effects (job_id TEXT PRIMARY KEY)");
    atomic_store(&effect_calls, 0);
    atomic_store(&effect_violations, 0);
}

/* ---- enqueue and claim ---------------------------------------------------------------- */

static void test_an_enqueued_job_is_claimed_run_and_completed_once(void **state)
{
    test_api *a = *state;
    create_effects_table(a);
    job_register("effect", effect_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "effect", "{\"n\":7}", NULL, id);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.attempts, 0);

    db_conn *c = db_acquire(a->t.db);
    job j;
    error e;
    assert_int_equal(job_claim(c, "host-a:1", &j, &e), 1);
    assert_string_equal(j.id, id);
    assert_string_equal(j.kind, "effect");
    assert_int_equal(json_integer_value(json_object_get(j.payload, "n")), 7);
    assert_int_equal(j.attempts, 1);
    assert_int_equal(j.max_attempts, 5);
    assert_string_equal(j.user_id, "");
    assert_true(strncmp(j.lease_owner, "host-a:1/", 9) == 0);
    r = row_of(a, id);
    assert_string_equal(r.status, "running");
    assert_string_equal(r.lease_owner, j.lease_owner);
    assert_true(r.lease_expires_at > time_now_usec());
    /* Leased: nobody else gets it. */
    job other;
    assert_int_equal(job_claim(c, "host-b:2", &other, &e), 0);

    job_result res;
    memset(&res, 0, sizeof(res));
    effect_handler(c, &j, &res, NULL);
    json_decref(j.payload);
    db_release(c);
    assert_int_equal(res.outcome, JOB_OUTCOME_DONE);
    r = row_of(a, id);
    assert_string_equal(r.status, "done");
    assert_true(r.finished_at > 0);
    assert_int_equal(count_by(a, &Q_COUNT_EFFECTS, NULL), 1);
    assert_int_equal(job_work_one(a->t.db, "host-a:1", &e), 0);
}

static void test_a_unique_key_returns_the_existing_job_and_inserts_nothing(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char first[UUID_STR_LEN + 1], second[UUID_STR_LEN + 1], other[UUID_STR_LEN + 1];
    job_options o = {.unique_key = "script:42"};
    enqueue(a, "ok", "{\"v\":1}", &o, first);
    enqueue(a, "ok", "{\"v\":2}", &o, second);
    assert_string_equal(first, second);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "ok"), 1);
    /* Still taken once the job is done. */
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, first).status, "done");
    enqueue(a, "ok", NULL, &o, second);
    assert_string_equal(first, second);
    /* Jobs without a key are never deduplicated. */
    enqueue(a, "ok", NULL, NULL, other);
    enqueue(a, "ok", NULL, NULL, second);
    assert_string_not_equal(other, second);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "ok"), 3);
}

static void test_a_key_unique_while_active_is_given_up_by_a_finished_job(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    job_options o = {.unique_key = "import:x", .unique_while_active = true};
    char first[UUID_STR_LEN + 1], again[UUID_STR_LEN + 1], next[UUID_STR_LEN + 1];
    enqueue(a, "ok", NULL, &o, first);
    enqueue(a, "ok", NULL, &o, again);
    assert_string_equal(again, first); /* still queued: the same job */
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, first).status, "done");
    enqueue(a, "ok", NULL, &o, next);
    assert_string_not_equal(next, first); /* done: a new job */
    assert_string_equal(row_of(a, next).status, "queued");
    assert_string_equal(row_of(a, first).status, "done");
    /* Without the option a finished job keeps its key. */
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    o.unique_while_active = false;
    enqueue(a, "ok", NULL, &o, again);
    assert_string_equal(again, next);
}

static void test_enqueue_refuses_a_bad_kind_or_a_payload_that_is_not_an_object(void **state)
{
    test_api *a = *state;
    char id[UUID_STR_LEN + 1];
    db_conn *c = db_acquire(a->t.db);
    error e;
    assert_int_equal(job_enqueue(c, "", NULL, NULL, id, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    json_t *arr = json_array();
    assert_int_equal(job_enqueue(c, "ok", arr, NULL, id, &e), -1);
    assert_string_equal(e.field, "payload");
    json_decref(arr);
    db_release(c);
    assert_int_equal(count_by(a, &Q_COUNT_STATUS, "queued"), 0);
}

static void test_higher_priority_runs_first_then_the_earlier_run_at(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char low[UUID_STR_LEN + 1], high[UUID_STR_LEN + 1], mid_late[UUID_STR_LEN + 1],
        mid_early[UUID_STR_LEN + 1];
    int64_t now = time_now_usec();
    enqueue(a, "ok", NULL, &(job_options){.priority = -5}, low);
    enqueue(a, "ok", NULL, &(job_options){.priority = 10}, high);
    enqueue(a, "ok", NULL, &(job_options){.priority = 3, .run_at = now - 1000}, mid_late);
    enqueue(a, "ok", NULL, &(job_options){.priority = 3, .run_at = now - 60000000}, mid_early);
    const char *want[] = {high, mid_early, mid_late, low};
    db_conn *c = db_acquire(a->t.db);
    for (int i = 0; i < 4; i++) {
        job j;
        error e;
        assert_int_equal(job_claim(c, "w:1", &j, &e), 1);
        assert_string_equal(j.id, want[i]);
        json_decref(j.payload);
    }
    db_release(c);
}

static void test_a_job_due_later_is_not_claimed_early(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "ok", NULL, &(job_options){.run_at = time_now_usec() + 3600000000LL}, id);
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 0);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.attempts, 0);
    set_run_at_past(a, id);
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, id).status, "done");
}

static void test_only_kinds_registered_in_this_process_are_claimed(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "video.render.v2", NULL, NULL, id);
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 0);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.attempts, 0);
}

/* ---- batches ----------------------------------------------------------------------------- */

/* One batch claim of up to max jobs; fails the test on error. */
static int claim_batch(test_api *a, const char *owner, int max, job *jobs)
{
    db_conn *c = db_acquire(a->t.db);
    error e;
    int n = job__claim_batch(c, owner, max, jobs, &e);
    db_release(c);
    if (n < 0)
        fail_msg("job__claim_batch: %s", e.message);
    for (int i = 0; i < n; i++) {
        json_decref(jobs[i].payload);
        jobs[i].payload = NULL;
    }
    return n;
}

static void expire_lease(test_api *a, const char *id)
{
    db_error de;
    if (testdb_execf(&a->t, &de, "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE id = $1", "s",
                     id) != 0)
        fail_msg("%s", de.message);
}

/* A batch is the jobs one-at-a-time claims would have taken, in their
 * order: priority, then run_at, across every registered kind alike, due
 * only, under one lease. A job on its last attempt is only ever a batch's
 * first: the next claim takes it. */
static void test_a_batch_claim_takes_the_most_urgent_jobs_of_every_kind_in_order(void **state)
{
    test_api *a = *state;
    job_register("a", ok_handler, NULL, 30);
    job_register("b", ok_handler, NULL, 30);
    int64_t now = time_now_usec(), s = 1000000;
    char a1[UUID_STR_LEN + 1], a2[UUID_STR_LEN + 1], a3[UUID_STR_LEN + 1], later[UUID_STR_LEN + 1],
        b1[UUID_STR_LEN + 1], b2[UUID_STR_LEN + 1], b3[UUID_STR_LEN + 1], other[UUID_STR_LEN + 1];
    enqueue(a, "a", NULL, &(job_options){.run_at = now - 50 * s}, a1);
    enqueue(a, "b", NULL, &(job_options){.run_at = now - 40 * s}, b1);
    enqueue(a, "a", NULL, &(job_options){.run_at = now - 30 * s}, a2);
    enqueue(a, "b", NULL, &(job_options){.priority = 5, .run_at = now - s}, b2);
    enqueue(a, "c", NULL, &(job_options){.priority = 9}, other); /* not registered here */
    enqueue(a, "a", NULL, &(job_options){.run_at = now - 20 * s, .max_attempts = 1}, a3);
    enqueue(a, "b", NULL, &(job_options){.run_at = now - 10 * s}, b3);
    enqueue(a, "a", NULL, &(job_options){.priority = 9, .run_at = now + 3600 * s}, later);

    job jobs[4];
    assert_int_equal(claim_batch(a, "w:1", 3, jobs), 3);
    const char *first[] = {b2, a1, b1};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(jobs[i].id, first[i]);
        assert_string_equal(jobs[i].lease_owner, jobs[0].lease_owner);
        assert_int_equal(jobs[i].attempts, 1);
        job_row r = row_of(a, first[i]);
        assert_string_equal(r.status, "running");
        assert_string_equal(r.lease_owner, jobs[0].lease_owner);
        assert_true(r.lease_expires_at > now);
    }
    assert_true(strncmp(jobs[0].lease_owner, "w:1/", 4) == 0);
    /* a3 is next in order but on its last attempt: it waits for a claim of its own. */
    assert_int_equal(claim_batch(a, "w:2", 3, jobs), 2);
    assert_string_equal(jobs[0].id, a2);
    assert_string_equal(jobs[1].id, b3);
    assert_true(strncmp(jobs[0].lease_owner, "w:2/", 4) == 0);
    assert_string_equal(row_of(a, a3).status, "queued");
    assert_int_equal(claim_batch(a, "w:3", 3, jobs), 1);
    assert_string_equal(jobs[0].id, a3);
    assert_int_equal(claim_batch(a, "w:4", 3, jobs), 0);
    assert_string_equal(row_of(a, other).status, "queued");
    assert_string_equal(row_of(a, later).status, "queued");
}

/* The batch completion writes only the jobs still leased to the batch: one
 * whose lease ran out and went to another worker stays that worker's. The
 * batch release likewise. */
static void test_a_batch_completes_and_gives_back_only_the_jobs_still_leased_to_it(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char ids[4][UUID_STR_LEN + 1];
    for (int i = 0; i < 4; i++)
        enqueue(a, "ok", NULL, &(job_options){.priority = 4 - i}, ids[i]);
    job jobs[4];
    assert_int_equal(claim_batch(a, "w:1", 4, jobs), 4);
    char owner[80];
    snprintf(owner, sizeof(owner), "%s", jobs[0].lease_owner);
    /* The second and fourth jobs' leases ran out and another worker took them. */
    expire_lease(a, ids[1]);
    expire_lease(a, ids[3]);
    job taken[2];
    assert_int_equal(claim_batch(a, "w:2", 2, taken), 2);
    assert_string_equal(taken[0].id, ids[1]);
    assert_string_equal(taken[1].id, ids[3]);

    db_conn *c = db_acquire(a->t.db);
    error e;
    assert_int_equal(job__complete_batch(c, ids, 2, owner, &e), 1);
    assert_int_equal(job__release_batch(c, ids + 2, 2, owner, &e), 1);
    db_release(c);

    job_row r = row_of(a, ids[0]);
    assert_string_equal(r.status, "done");
    assert_true(r.finished_at > 0);
    assert_int_equal(r.lease_expires_at, 0);
    r = row_of(a, ids[1]);
    assert_string_equal(r.status, "running");
    assert_string_equal(r.lease_owner, taken[0].lease_owner);
    r = row_of(a, ids[2]);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.attempts, 0);
    assert_string_equal(r.lease_owner, "");
    assert_int_equal(r.lease_expires_at, 0);
    r = row_of(a, ids[3]);
    assert_string_equal(r.status, "running");
    assert_int_equal(r.attempts, 2);
    assert_string_equal(r.lease_owner, taken[1].lease_owner);
}

/* A worker that vanished with a claimed batch (killed with -9) leaves every
 * job of it to run again once the leases expire: the ones it never started
 * lose an attempt, never their last, so none is buried unrun. */
static void test_a_batch_whose_worker_vanished_runs_again_and_none_is_buried(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char ids[3][UUID_STR_LEN + 1];
    for (int i = 0; i < 3; i++)
        enqueue(a, "ok", NULL, &(job_options){.priority = 3 - i, .max_attempts = 2}, ids[i]);
    job jobs[3];
    assert_int_equal(claim_batch(a, "crashed:1", 3, jobs), 3);
    for (int i = 0; i < 3; i++)
        expire_lease(a, ids[i]);
    error e;
    for (int i = 0; i < 3; i++)
        assert_int_equal(job_work_one(a->t.db, "w:2", &e), 1);
    for (int i = 0; i < 3; i++) {
        job_row r = row_of(a, ids[i]);
        assert_string_equal(r.status, "done");
        assert_int_equal(r.attempts, 2);
    }
}

static int deferred_calls;
static char deferred_id[UUID_STR_LEN + 1];

static bool defer_it(const job *j)
{
    deferred_calls++;
    snprintf(deferred_id, sizeof(deferred_id), "%s", j->id);
    return true;
}

/* job_complete_alone hands the completion to the thread's batch, except on
 * a job's last attempt: a crash before the batch is written would leave
 * that job to be buried as lost although it ran; it completes at once. */
static void test_a_completion_joins_the_batch_unless_it_is_the_jobs_last_attempt(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char spare[UUID_STR_LEN + 1], last[UUID_STR_LEN + 1];
    enqueue(a, "ok", NULL, &(job_options){.priority = 1}, spare);
    enqueue(a, "ok", NULL, &(job_options){.max_attempts = 1}, last);
    db_conn *c = db_acquire(a->t.db);
    deferred_calls = 0;
    job__set_thread_deferral(defer_it);
    job j;
    error e;
    job_result res;
    assert_int_equal(job_claim(c, "w:1", &j, &e), 1);
    assert_string_equal(j.id, spare);
    memset(&res, 0, sizeof(res));
    job_complete_alone(c, &j, &res);
    json_decref(j.payload);
    assert_int_equal(res.outcome, JOB_OUTCOME_DONE);
    assert_int_equal(deferred_calls, 1);
    assert_string_equal(deferred_id, spare);
    assert_string_equal(row_of(a, spare).status, "running"); /* the batch writes it */

    assert_int_equal(job_claim(c, "w:1", &j, &e), 1);
    assert_string_equal(j.id, last);
    memset(&res, 0, sizeof(res));
    job_complete_alone(c, &j, &res);
    json_decref(j.payload);
    job__set_thread_deferral(NULL);
    db_release(c);
    assert_int_equal(res.outcome, JOB_OUTCOME_DONE);
    assert_int_equal(deferred_calls, 1);
    assert_string_equal(row_of(a, last).status, "done");
}

/* ---- failures ------------------------------------------------------------------------- */

static void test_a_failing_job_retries_with_growing_backoff_and_keeps_its_last_error(void **state)
{
    test_api *a = *state;
    flaky_calls = 0;
    flaky_failures = 2;
    job_register("flaky", flaky_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "flaky", NULL, NULL, id);
    int64_t previous = row_of(a, id).run_at;
    error e;
    for (int attempt = 1; attempt <= 2; attempt++) {
        int64_t before = time_now_usec();
        assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
        job_row r = row_of(a, id);
        assert_string_equal(r.status, "queued");
        assert_int_equal(r.attempts, attempt);
        char want[32];
        snprintf(want, sizeof(want), "boom %d", attempt);
        assert_string_equal(r.last_error, want);
        assert_string_equal(r.lease_owner, "");
        /* Pushed into the future, and further each time. */
        assert_true(r.run_at > before);
        assert_true(r.run_at > previous);
        previous = r.run_at;
        /* Not before its time... */
        assert_int_equal(job_work_one(a->t.db, "w:1", &e), 0);
        /* ...unless time passes (made to, here). */
        set_run_at_past(a, id);
    }
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "done");
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.last_error, "boom 2");
}

static void test_the_backoff_doubles_from_two_seconds_with_jitter_up_to_an_hour(void **state)
{
    for (int attempt = 1; attempt <= 20; attempt++) {
        int64_t base = 2000000LL << (attempt - 1 < 12 ? attempt - 1 : 12);
        if (base > 3600000000LL)
            base = 3600000000LL;
        for (int k = 0; k < 50; k++) {
            int64_t d = job__backoff_usec(attempt);
            assert_true(d >= base * 8 / 10);
            assert_true(d <= base * 12 / 10);
        }
    }
}

static void test_retry_at_from_the_handler_is_the_next_run_at(void **state)
{
    test_api *a = *state;
    later_at = time_now_usec() + 3600000000LL;
    job_register("later", later_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "later", NULL, NULL, id);
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.run_at, later_at);
    assert_string_equal(r.last_error, "rate limited; come back later");
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 0);
}

static void test_a_permanent_failure_is_dead_at_once(void **state)
{
    test_api *a = *state;
    job_register("fatal", fatal_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "fatal", NULL, NULL, id);
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "dead");
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.last_error, "the payload names no such thing");
    assert_true(r.finished_at > 0);
}

static const char *str(const test_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static void test_a_job_past_max_attempts_is_dead_and_an_admin_can_requeue_it(void **state)
{
    test_api *a = *state;
    flaky_calls = 0;
    flaky_failures = 2;
    job_register("flaky", flaky_handler, NULL, 30);
    char id[UUID_STR_LEN + 1], other[UUID_STR_LEN + 1];
    enqueue(a, "flaky", NULL, &(job_options){.max_attempts = 2}, id);
    enqueue(a, "flaky", NULL, &(job_options){.run_at = time_now_usec() + 3600000000LL}, other);
    error e;
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    set_run_at_past(a, id);
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "dead");
    assert_int_equal(r.attempts, 2);
    assert_string_equal(r.last_error, "boom 2");

    char admin[128], user[128], path[160];
    test_signup(a, "root@example.com", admin);
    test_make_admin(a, "root@example.com");
    test_signup(a, "ana@example.com", user);
    snprintf(path, sizeof(path), "/api/v1/admin/jobs/%s/requeue", id);

    test_resp resp = test_req(a, "GET", "/api/v1/admin/jobs?status=dead", user, NULL, NULL);
    test_expect(&resp, 403, "forbidden");
    test_resp_free(&resp);
    resp = test_req(a, "POST", path, user, NULL, NULL);
    test_expect(&resp, 403, "forbidden");
    test_resp_free(&resp);
    assert_string_equal(row_of(a, id).status, "dead");

    resp = test_req(a, "GET", "/api/v1/admin/jobs?status=dead", admin, NULL, NULL);
    test_expect(&resp, 200, NULL);
    json_t *items = json_object_get(resp.json, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *dead = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(dead, "id")), id);
    assert_string_equal(json_string_value(json_object_get(dead, "last_error")), "boom 2");
    assert_int_equal(json_integer_value(json_object_get(dead, "attempts")), 2);
    assert_true(json_is_object(json_object_get(dead, "payload")));
    assert_true(json_is_null(json_object_get(resp.json, "next_cursor")));
    test_resp_free(&resp);
    resp = test_req(a, "GET", "/api/v1/admin/jobs?status=buried", admin, NULL, NULL);
    test_expect(&resp, 422, "invalid-request");
    test_resp_free(&resp);
    resp = test_req(a, "GET", "/api/v1/admin/jobs?owner=me", admin, NULL, NULL);
    test_expect(&resp, 422, "invalid-request");
    test_resp_free(&resp);

    resp = test_req(a, "POST", path, admin, NULL, NULL);
    test_expect(&resp, 200, NULL);
    assert_string_equal(str(&resp, "status"), "queued");
    assert_int_equal(json_integer_value(json_object_get(resp.json, "attempts")), 0);
    test_resp_free(&resp);
    /* Only a dead job can be requeued. */
    resp = test_req(a, "POST", path, admin, NULL, NULL);
    test_expect(&resp, 409, "conflict");
    test_resp_free(&resp);
    /* One event: the admin's requeue, not the refused one (issue 17). */
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit_events WHERE action = 'admin.job_requeued' AND "
             "object_id = '%s' AND actor_kind = 'admin' AND subject_user_id IS NULL",
             id);
    assert_int_equal(testdb_scalar(&a->t, q), 1);
    resp = test_req(a, "POST", "/api/v1/admin/jobs/01936f4e-0000-7000-8000-000000000001/requeue",
                    admin, NULL, NULL);
    test_expect(&resp, 404, "not-found");
    test_resp_free(&resp);
    resp = test_req(a, "POST", "/api/v1/admin/jobs/not-a-uuid/requeue", admin, NULL, NULL);
    test_expect(&resp, 404, "not-found");
    test_resp_free(&resp);

    /* It runs again, and this time succeeds. */
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    r = row_of(a, id);
    assert_string_equal(r.status, "done");
    assert_int_equal(r.attempts, 1);

    /* Paging, newest first, filtered by kind. */
    resp = test_req(a, "GET", "/api/v1/admin/jobs?kind=flaky&limit=1", admin, NULL, NULL);
    test_expect(&resp, 200, NULL);
    items = json_object_get(resp.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), other);
    char next[200];
    snprintf(next, sizeof(next), "/api/v1/admin/jobs?kind=flaky&limit=1&cursor=%s",
             str(&resp, "next_cursor"));
    test_resp_free(&resp);
    resp = test_req(a, "GET", next, admin, NULL, NULL);
    test_expect(&resp, 200, NULL);
    items = json_object_get(resp.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), id);
    test_resp_free(&resp);
}

/* The admin view writes every column of the job, null where it is unset,
 * and the payload as the object it is. */
static void test_the_admin_job_view_has_every_column_and_null_where_unset(void **state)
{
    test_api *a = *state;
    char id[UUID_STR_LEN + 1], admin[128];
    enqueue(a, "view", "{\"topic\":\"caf\u00e9\",\"n\":3}",
            &(job_options){.priority = -2, .unique_key = "view:1"}, id);
    test_signup(a, "root@example.com", admin);
    test_make_admin(a, "root@example.com");
    test_resp resp = test_req(a, "GET", "/api/v1/admin/jobs?kind=view", admin, NULL, NULL);
    test_expect(&resp, 200, NULL);
    json_t *view = json_array_get(json_object_get(resp.json, "items"), 0);
    static const char *const members[] = {
        "id",         "kind",       "payload",      "user_id",     "priority",         "status",
        "run_at",     "attempts",   "max_attempts", "lease_owner", "lease_expires_at", "last_error",
        "unique_key", "created_at", "updated_at",   "finished_at"};
    assert_int_equal(json_object_size(view), sizeof(members) / sizeof(members[0]));
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        assert_non_null(json_object_get(view, members[i]));
    assert_string_equal(json_string_value(json_object_get(view, "id")), id);
    json_t *want = json_pack("{s:s,s:i}", "topic", "caf\xc3\xa9", "n", 3);
    assert_true(json_equal(json_object_get(view, "payload"), want));
    json_decref(want);
    assert_int_equal(json_integer_value(json_object_get(view, "priority")), -2);
    assert_string_equal(json_string_value(json_object_get(view, "status")), "queued");
    assert_int_equal(json_integer_value(json_object_get(view, "attempts")), 0);
    assert_int_equal(json_integer_value(json_object_get(view, "max_attempts")), 5);
    assert_string_equal(json_string_value(json_object_get(view, "unique_key")), "view:1");
    assert_true(json_is_string(json_object_get(view, "run_at")));
    assert_true(json_is_string(json_object_get(view, "created_at")));
    static const char *const unset[] = {"user_id", "lease_owner", "lease_expires_at", "last_error",
                                        "finished_at"};
    for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
        assert_true(json_is_null(json_object_get(view, unset[i])));
    test_resp_free(&resp);
}

/* ---- leases ---------------------------------------------------------------------------- */

static void test_four_workers_never_run_one_job_twice(void **state)
{
    test_api *a = *state;
    create_effects_table(a);
    job_register("effect", effect_handler, NULL, 30);
    enum { N = 120 };
    for (int i = 0; i < N; i++) {
        char id[UUID_STR_LEN + 1];
        enqueue(a, "effect", NULL, &(job_options){.priority = i % 3}, id);
    }
    db *d = open_db(a, 6);
    error e;
    job_pool *p = job_pool_start(d, 4, "pool:1", &e);
    assert_non_null(p);
    bool all = wait_count(a, &Q_COUNT_STATUS, "done", N, 120);
    job_pool_stop(p, 10000);
    db_close(d);
    assert_true(all);
    assert_int_equal(count_by(a, &Q_COUNT_STATUS, "done"), N);
    assert_int_equal(count_by(a, &Q_COUNT_EFFECTS, NULL), N);
    assert_int_equal(atomic_load(&effect_calls), N);
    assert_int_equal(atomic_load(&effect_violations), 0);
}

static void stale_effect_and_complete(db_conn *c, const job *j, error *e)
{
    db_error de;
    assert_int_equal(db_begin_write(c, &de), 0);
    db_stmt *s = db_prepare(c, &Q_STALE_EFFECT, &de);
    assert_non_null(s);
    db_bind_text(s, 1, j->id);
    assert_int_equal(db_exec(s, &de), 0);
    db_reset(s);
    assert_int_equal(job_complete(c, j, e), -1);
    db_rollback(c);
}

static void
test_after_its_lease_expires_a_job_runs_elsewhere_and_the_stale_owner_cannot_commit(void **state)
{
    test_api *a = *state;
    create_effects_table(a);
    testdb_exec(&a->t, "CREATE TABLE stale_effects (job_id TEXT)");
    job_register("effect", effect_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "effect", NULL, NULL, id);

    db_conn *c = db_acquire(a->t.db);
    job stale;
    error e;
    assert_int_equal(job_claim(c, "paused:1", &stale, &e), 1);
    json_decref(stale.payload);
    db_release(c);
    /* While the lease holds, nobody else gets the job. */
    assert_int_equal(job_work_one(a->t.db, "fresh:2", &e), 0);
    /* The paused worker's lease runs out. */
    db_error de;
    assert_int_equal(testdb_execf(&a->t, &de,
                                  "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE id = $1",
                                  "s", id),
                     0);
    assert_int_equal(job_work_one(a->t.db, "fresh:2", &e), 1);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "done");
    assert_int_equal(r.attempts, 2);

    /* The paused worker wakes up and tries to commit its effects. */
    c = db_acquire(a->t.db);
    stale_effect_and_complete(c, &stale, &e);
    db_release(c);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_int_equal(count_by(a, &Q_COUNT_STALE, NULL), 0);
    assert_int_equal(count_by(a, &Q_COUNT_EFFECTS, NULL), 1);
    assert_string_equal(row_of(a, id).status, "done");
}

/* A worker claims the job and vanishes: its lease runs out. */
static void claim_and_lose_the_lease(test_api *a, const char *id)
{
    db_conn *c = db_acquire(a->t.db);
    job j;
    error e;
    assert_int_equal(job_claim(c, "crashed:1", &j, &e), 1);
    json_decref(j.payload);
    db_release(c);
    db_error de;
    assert_int_equal(testdb_execf(&a->t, &de,
                                  "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE id = $1",
                                  "s", id),
                     0);
}

static void test_a_job_whose_last_attempt_lost_its_lease_is_dead(void **state)
{
    test_api *a = *state;
    job_register("ok", ok_handler, NULL, 30);
    char id[UUID_STR_LEN + 1];
    enqueue(a, "ok", NULL, &(job_options){.max_attempts = 1}, id);
    error e;
    claim_and_lose_the_lease(a, id);
    assert_int_equal(job_work_one(a->t.db, "w:2", &e), 0);
    job_row r = row_of(a, id);
    assert_string_equal(r.status, "dead");
    assert_non_null(strstr(r.last_error, "lost its lease"));
}

/* The dead-job callback: who it was called for, and why. */
static int dead_calls;
static char dead_id[UUID_STR_LEN + 1], dead_why[800], dead_payload[64];

static void on_dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    dead_calls++;
    snprintf(dead_id, sizeof(dead_id), "%s", j->id);
    snprintf(dead_why, sizeof(dead_why), "%s", why);
    const char *v = json_string_value(json_object_get(j->payload, "v"));
    snprintf(dead_payload, sizeof(dead_payload), "%s", v ? v : "");
}

static void test_a_job_that_dies_unhandled_calls_its_kinds_dead_callback(void **state)
{
    test_api *a = *state;
    error e;
    char id[UUID_STR_LEN + 1];
    dead_calls = 0;

    /* The handler wanted another attempt and none was left. */
    flaky_calls = 0;
    flaky_failures = 5;
    job_register("flaky", flaky_handler, NULL, 30);
    job_on_dead("flaky", on_dead);
    enqueue(a, "flaky", "{\"v\":\"one\"}", &(job_options){.max_attempts = 1}, id);
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, id).status, "dead");
    assert_int_equal(dead_calls, 1);
    assert_string_equal(dead_id, id);
    assert_string_equal(dead_payload, "one");
    assert_non_null(strstr(dead_why, "attempt 1 of 1 failed and none is left: boom 1"));

    /* Its last attempt lost its lease: buried at the next claim. */
    job_register("ok", ok_handler, NULL, 30);
    job_on_dead("ok", on_dead);
    enqueue(a, "ok", "{\"v\":\"two\"}", &(job_options){.max_attempts = 1}, id);
    claim_and_lose_the_lease(a, id);
    assert_int_equal(job_work_one(a->t.db, "w:2", &e), 0);
    assert_string_equal(row_of(a, id).status, "dead");
    assert_int_equal(dead_calls, 2);
    assert_string_equal(dead_id, id);
    assert_string_equal(dead_payload, "two");
    assert_non_null(strstr(dead_why, "lost its lease"));

    /* A handler that fails the job has decided: no callback. */
    job_register("fatal", fatal_handler, NULL, 30);
    job_on_dead("fatal", on_dead);
    enqueue(a, "fatal", NULL, NULL, id);
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, id).status, "dead");
    assert_int_equal(dead_calls, 2);

    /* Registering a kind again clears its callback. */
    job_register("flaky", flaky_handler, NULL, 30);
    enqueue(a, "flaky", NULL, &(job_options){.max_attempts = 1}, id);
    assert_int_equal(job_work_one(a->t.db, "w:1", &e), 1);
    assert_string_equal(row_of(a, id).status, "dead");
    assert_int_equal(dead_calls, 2);
}

static void test_heartbeats_extend_the_lease_while_the_handler_runs(void **state)
{
    test_api *a = *state;
    job_diag_register(); /* sleep: a 2 s lease */
    char id[UUID_STR_LEN + 1];
    enqueue(a, "sleep", "{\"ms\":60000}", NULL, id);
    db *d = open_db(a, 3);
    error e;
    job_pool *p = job_pool_start(d, 2, "pool:1", &e);
    assert_non_null(p);
    bool running = wait_status(a, id, "running", 30);
    int64_t first = row_of(a, id).lease_expires_at;
    bool extended = false;
    for (int64_t until = time_mono_usec() + 30000000; !extended && time_mono_usec() < until;) {
        extended = row_of(a, id).lease_expires_at > first;
        test_nap_ms(20);
    }
    /* Still the first attempt: the idle second worker never took it over. */
    int attempts = row_of(a, id).attempts;
    job_pool_stop(p, 0);
    db_close(d);
    assert_true(running);
    assert_true(extended);
    assert_int_equal(attempts, 1);
}

static void test_stopping_the_pool_lets_short_jobs_finish_and_gives_the_rest_back(void **state)
{
    test_api *a = *state;
    job_diag_register();
    char quick[UUID_STR_LEN + 1], slow[UUID_STR_LEN + 1];
    enqueue(a, "sleep", "{\"ms\":3000}", NULL, quick); /* long enough to be seen running */
    db *d = open_db(a, 3);
    error e;
    job_pool *p = job_pool_start(d, 1, "pool:1", &e);
    assert_non_null(p);
    assert_true(wait_status(a, quick, "running", 30));
    job_pool_stop(p, 30000);
    job_row r = row_of(a, quick);
    assert_string_equal(r.status, "done");
    assert_int_equal(r.attempts, 1);

    enqueue(a, "sleep", "{\"ms\":600000}", NULL, slow);
    p = job_pool_start(d, 1, "pool:2", &e);
    assert_non_null(p);
    assert_true(wait_status(a, slow, "running", 30));
    job_pool_stop(p, 0);
    db_close(d);
    r = row_of(a, slow);
    assert_string_equal(r.status, "queued");
    assert_int_equal(r.attempts, 0);
    assert_string_equal(r.lease_owner, "");
    assert_int_equal(r.lease_expires_at, 0);
}

/* Jobs claimed and given back unstarted: queued, the attempt uncounted, touched since enqueued. */
static db_sql Q_COUNT_GIVEN_BACK =
    DB_SQL("SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status = 'queued' AND attempts = 0 "
           "AND updated_at > created_at");
static db_sql Q_COUNT_DONE_ONCE =
    DB_SQL("SELECT COUNT(*) FROM jobs WHERE status = 'done' AND attempts = 1 AND kind = $1");

/* Short jobs through pools that claim and complete in batches: each runs
 * once and is marked done. */
static void test_batching_workers_run_every_short_job_once(void **state)
{
    test_api *a = *state;
    job_diag_register();
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        char id[UUID_STR_LEN + 1];
        enqueue(a, "noop", NULL, &(job_options){.priority = i % 3}, id);
    }
    db *d = open_db(a, 4);
    error e;
    job_pool *p = job_pool_start_batch(d, 2, 16, "pool:1", &e);
    assert_non_null(p);
    bool all = wait_count(a, &Q_COUNT_STATUS, "done", N, 120);
    job_pool_stop(p, 10000);
    db_close(d);
    assert_true(all);
    assert_int_equal(count_by(a, &Q_COUNT_DONE_ONCE, "noop"), N);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM jobs WHERE status <> 'done'"), 0);
}

/* Enqueues one sleep job (most urgent) and n noop jobs in one transaction,
 * so a worker claims them in one batch (a pool's first claim takes a whole
 * batch). */
static void enqueue_slow_then_short(test_api *a, int ms, int n, char *slow,
                                    char (*quick)[UUID_STR_LEN + 1])
{
    db_conn *c = db_acquire(a->t.db);
    db_error de;
    error e;
    assert_int_equal(db_begin_write(c, &de), 0);
    char payload[40];
    snprintf(payload, sizeof(payload), "{\"ms\":%d}", ms);
    json_t *p = json_loads(payload, 0, NULL);
    /* Due a second ago: a worker woken by the first enqueue reads its clock
     * before it waits for this transaction, and must find them all due. */
    int64_t due = time_now_usec() - 1000000;
    assert_int_equal(
        job_enqueue(c, "sleep", p, &(job_options){.priority = 5, .run_at = due}, slow, &e), 0);
    json_decref(p);
    for (int i = 0; i < n; i++)
        assert_int_equal(job_enqueue(c, "noop", NULL, &(job_options){.run_at = due}, quick[i], &e),
                         0);
    assert_int_equal(db_commit(c, &de), 0);
    db_release(c);
}

/* Jobs claimed behind a long one do not wait for it: they go back to the
 * queue and another worker runs them while it runs. */
static void test_jobs_claimed_behind_a_long_job_go_to_another_worker(void **state)
{
    test_api *a = *state;
    job_diag_register();
    db *d = open_db(a, 4);
    error e;
    job_pool *p1 = job_pool_start_batch(d, 1, 16, "pool:1", &e);
    assert_non_null(p1);
    char slow[UUID_STR_LEN + 1], quick[3][UUID_STR_LEN + 1];
    enqueue_slow_then_short(a, 600000, 3, slow, quick);
    assert_true(wait_status(a, slow, "running", 30));
    char slow_owner[80];
    snprintf(slow_owner, sizeof(slow_owner), "%s", row_of(a, slow).lease_owner);
    /* p1 claimed them with it, and gave them back while it runs. */
    bool back = wait_count(a, &Q_COUNT_GIVEN_BACK, "noop", 3, 30);
    for (int i = 0; !back && i < 3; i++) {
        job_row q = row_of(a, quick[i]);
        print_message("not given back: quick job %d: %s, attempt %d, lease '%s' slow '%s'\n", i,
                      q.status, q.attempts, q.lease_owner, slow_owner);
    }
    assert_true(back);

    job_pool *p2 = job_pool_start_batch(d, 1, 16, "pool:2", &e);
    assert_non_null(p2);
    bool ran = true;
    for (int i = 0; i < 3; i++)
        ran = ran && wait_status(a, quick[i], "done", 30);
    job_row s = row_of(a, slow);
    job_pool_stop(p2, 10000);
    job_pool_stop(p1, 0);
    db_close(d);
    assert_true(ran);
    assert_string_equal(s.status, "running");
    assert_string_equal(s.lease_owner, slow_owner);
    for (int i = 0; i < 3; i++) {
        job_row r = row_of(a, quick[i]);
        assert_int_equal(r.attempts, 1); /* given back uncounted, then run once */
        assert_true(strncmp(r.lease_owner, "pool:2/", 7) == 0);
    }
    assert_string_equal(row_of(a, slow).status, "queued"); /* stopped: given back */
}

/* A stop lets the running job finish and gives back, uncounted, the jobs its
 * worker claimed and did not start. */
static void test_stopping_a_batching_pool_gives_back_the_jobs_it_did_not_start(void **state)
{
    test_api *a = *state;
    job_diag_register();
    db *d = open_db(a, 3);
    error e;
    job_pool *p = job_pool_start_batch(d, 1, 16, "pool:1", &e);
    assert_non_null(p);
    char slow[UUID_STR_LEN + 1], quick[3][UUID_STR_LEN + 1];
    enqueue_slow_then_short(a, 3000, 3, slow, quick); /* long enough to be seen running */
    assert_true(wait_status(a, slow, "running", 30));
    job_pool_stop(p, 30000);
    db_close(d);
    job_row r = row_of(a, slow);
    assert_string_equal(r.status, "done");
    assert_int_equal(r.attempts, 1);
    assert_int_equal(count_by(a, &Q_COUNT_GIVEN_BACK, "noop"), 3); /* claimed, then given back */
    for (int i = 0; i < 3; i++) {
        r = row_of(a, quick[i]);
        assert_string_equal(r.status, "queued");
        assert_int_equal(r.attempts, 0);
        assert_string_equal(r.lease_owner, "");
        assert_int_equal(r.lease_expires_at, 0);
    }
}

/* ---- a real worker process, killed -------------------------------------------------------- */

/* Starts p, a `pstudio worker` on the test's database, its output appended to log. */
static void spawn_worker(test_proc *p, test_api *a, const char *dir, const char *log)
{
    test_proc_opts o = {.db_url = a->t.url, .data_dir = dir, .log = log};
    test_proc_start(p, "worker", &o);
}

static void
test_a_worker_killed_mid_job_loses_its_lease_and_the_job_runs_once_elsewhere(void **state)
{
    test_api *a = *state;
    char dir[256], log[300], id[UUID_STR_LEN + 1];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/worker.log", dir);
    enqueue(a, "sleep", "{\"ms\":5000}", NULL, id);

    test_proc first, second;
    spawn_worker(&first, a, dir, log);
    bool running = wait_status(a, id, "running", 30);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    if (!running)
        test_proc_print_log(&first);
    assert_true(running);
    job_row r = row_of(a, id);
    char first_owner[80];
    snprintf(first_owner, sizeof(first_owner), "%s", r.lease_owner);
    if (strcmp(r.status, "done") == 0)
        fail_msg("the job finished before the worker was killed; make it sleep longer");

    spawn_worker(&second, a, dir, log);
    bool done = wait_status(a, id, "done", 60);
    int status = test_proc_stop(&second, SIGTERM, 30);
    if (!done || status != 0)
        test_proc_print_log(&second);
    assert_true(done);
    assert_int_equal(status, 0);
    r = row_of(a, id);
    assert_int_equal(r.attempts, 2);
    assert_string_not_equal(r.lease_owner, first_owner);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "sleep"), 1);
}

/* The same with a batch: the worker claimed a long job and short ones behind
 * it, and was killed. Every job still runs to the end exactly once more:
 * the short ones were given back (or their leases ran out), none is buried. */
static void test_a_worker_killed_holding_a_batch_leaves_every_job_to_run_elsewhere(void **state)
{
    test_api *a = *state;
    job_diag_register(); /* the noop jobs enqueue_slow_then_short makes */
    char dir[256], log[300], slow[UUID_STR_LEN + 1], quick[3][UUID_STR_LEN + 1];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/worker.log", dir);

    enqueue_slow_then_short(a, 5000, 3, slow, quick);
    test_proc first, second;
    spawn_worker(&first, a, dir, log); /* its first claim takes them all */
    bool running = wait_status(a, slow, "running", 30);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    if (!running)
        test_proc_print_log(&first);
    assert_true(running);
    if (strcmp(row_of(a, slow).status, "done") == 0)
        fail_msg("the job finished before the worker was killed; make it sleep longer");

    spawn_worker(&second, a, dir, log);
    bool done = wait_status(a, slow, "done", 60);
    for (int i = 0; i < 3; i++)
        done = done && wait_status(a, quick[i], "done", 60);
    int status = test_proc_stop(&second, SIGTERM, 30);
    if (!done || status != 0)
        test_proc_print_log(&second);
    assert_true(done);
    assert_int_equal(status, 0);
    assert_int_equal(row_of(a, slow).attempts, 2);
    for (int i = 0; i < 3; i++) {
        job_row r = row_of(a, quick[i]);
        assert_true(r.attempts == 1 || r.attempts == 2);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM jobs WHERE status <> 'done' "
                                          "AND kind IN ('noop', 'sleep')"),
                     0);
}

/* ---- the scheduler ------------------------------------------------------------------------ */

static void test_two_schedulers_enqueue_one_job_per_period(void **state)
{
    test_api *a = *state;
    job_register("tick", ok_handler, NULL, 30);
    job_schedule("tick", 1, "{\"source\":\"test\"}");
    db *d1 = open_db(a, 2), *d2 = open_db(a, 2);
    error e;
    job_pool *p1 = job_pool_start(d1, 1, "pool:1", &e);
    job_pool *p2 = job_pool_start(d2, 1, "pool:2", &e);
    assert_non_null(p1);
    assert_non_null(p2);
    /* The period they started in, and at least two boundaries after it. */
    bool ticked = wait_count(a, &Q_COUNT_KIND, "tick", 3, 60);
    job_pool_stop(p1, 10000);
    job_pool_stop(p2, 10000);
    db_close(d1);
    db_close(d2);
    assert_true(ticked);
    int64_t jobs = count_by(a, &Q_COUNT_KIND, "tick");
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(DISTINCT unique_key) FROM jobs "
                                          "WHERE kind = 'tick' AND unique_key LIKE 'sched:tick:%'"),
                     jobs);
    /* Each period's key appears once: no two rows for one period index. */
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM (SELECT unique_key FROM jobs "
                                          "GROUP BY unique_key HAVING COUNT(*) > 1) AS dup"),
                     0);
}

/* ---- retention ---------------------------------------------------------------- */

static void session_row(test_api *a, const char *user_id, const char *token_hash,
                        int64_t last_seen_at, int64_t expires_at)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    db_error de;
    if (testdb_execf(&a->t, &de,
                     "INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at, "
                     "last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
                     "sssstt", id, user_id, token_hash, "c0ffeec0ffeec0ffeec0ffeec0ffeec0",
                     last_seen_at, expires_at) != 0)
        fail_msg("session insert: %s", de.message);
}

/* maintenance.prune deletes jobs finished more than 7 days ago, in batches
 * until none is left, and sessions past either expiry; it keeps everything
 * else, dead jobs included. */
static void test_maintenance_prunes_old_finished_jobs_and_expired_sessions(void **state)
{
    test_api *a = *state;
    const int64_t now = time_now_usec(), day = 24LL * 3600 * 1000000;
    a->svc.session_idle_usec = 3 * day;
    const int old_done = MAINTENANCE_BATCH + 150;
    char id[UUID_STR_LEN + 1];
    for (int i = 0; i < old_done; i++)
        enqueue(a, "old", "{}", NULL, id);
    enqueue(a, "recent", "{}", NULL, id);
    enqueue(a, "dead", "{}", NULL, id);
    enqueue(a, "waiting", "{}", NULL, id);
    db_error de;
    assert_int_equal(testdb_execf(&a->t, &de,
                                  "UPDATE jobs SET status = 'done', finished_at = $1 "
                                  "WHERE kind = 'old'",
                                  "t", now - 8 * day),
                     0);
    assert_int_equal(testdb_execf(&a->t, &de,
                                  "UPDATE jobs SET status = 'done', finished_at = $1 "
                                  "WHERE kind = 'recent'",
                                  "t", now - 6 * day),
                     0);
    assert_int_equal(testdb_execf(&a->t, &de,
                                  "UPDATE jobs SET status = 'dead', finished_at = $1 "
                                  "WHERE kind = 'dead'",
                                  "t", now - 30 * day),
                     0);

    char user[UUID_STR_LEN + 1];
    fixture_user(&a->t, "keeper@example.com", user);
    char hash[65];
    memset(hash, 'a', 64);
    hash[64] = '\0';
    session_row(a, user, hash, now - day, now - 1); /* past its absolute expiry */
    hash[0] = 'b';
    session_row(a, user, hash, now - 4 * day, now + day); /* idle too long */
    hash[0] = 'c';
    session_row(a, user, hash, now - 2 * day, now + day); /* live */

    db_conn *c = db_acquire(a->t.db);
    maintenance_report rep;
    error e;
    assert_int_equal(maintenance_prune(&a->svc, c, now, &rep, &e), 0);
    db_release(c);
    assert_int_equal(rep.jobs, old_done);
    assert_int_equal(rep.sessions, 2);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "old"), 0);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "recent"), 1);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "dead"), 1);
    assert_int_equal(count_by(a, &Q_COUNT_KIND, "waiting"), 1);
    assert_int_equal(
        testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions WHERE token_hash LIKE 'c%'"), 1);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions"), 1);

    /* A second pass finds nothing. */
    c = db_acquire(a->t.db);
    assert_int_equal(maintenance_prune(&a->svc, c, now, &rep, &e), 0);
    db_release(c);
    assert_int_equal(rep.jobs, 0);
    assert_int_equal(rep.sessions, 0);
}

/* The job is registered with an hourly schedule, so serve and worker run it. */
static void test_maintenance_runs_as_a_scheduled_job(void **state)
{
    test_api *a = *state;
    a->svc.session_idle_usec = 3600LL * 1000000;
    maintenance_register_jobs(&a->svc);
    error e;
    job_pool *p = job_pool_start(a->t.db, 1, "pool:m", &e);
    assert_non_null(p);
    bool ran = wait_count(a, &Q_COUNT_KIND, MAINTENANCE_JOB_PRUNE, 1, 30);
    job_pool_stop(p, 10000);
    assert_true(ran);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM jobs WHERE kind = "
                                          "'maintenance.prune' AND unique_key LIKE "
                                          "'sched:maintenance.prune:%'"),
                     1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_an_enqueued_job_is_claimed_run_and_completed_once),
        T(test_a_unique_key_returns_the_existing_job_and_inserts_nothing),
        T(test_a_key_unique_while_active_is_given_up_by_a_finished_job),
        T(test_enqueue_refuses_a_bad_kind_or_a_payload_that_is_not_an_object),
        T(test_higher_priority_runs_first_then_the_earlier_run_at),
        T(test_a_job_due_later_is_not_claimed_early),
        T(test_only_kinds_registered_in_this_process_are_claimed),
        T(test_a_batch_claim_takes_the_most_urgent_jobs_of_every_kind_in_order),
        T(test_a_batch_completes_and_gives_back_only_the_jobs_still_leased_to_it),
        T(test_a_batch_whose_worker_vanished_runs_again_and_none_is_buried),
        T(test_a_completion_joins_the_batch_unless_it_is_the_jobs_last_attempt),
        T(test_a_failing_job_retries_with_growing_backoff_and_keeps_its_last_error),
        T(test_the_backoff_doubles_from_two_seconds_with_jitter_up_to_an_hour),
        T(test_retry_at_from_the_handler_is_the_next_run_at),
        T(test_a_permanent_failure_is_dead_at_once),
        T(test_a_job_past_max_attempts_is_dead_and_an_admin_can_requeue_it),
        T(test_the_admin_job_view_has_every_column_and_null_where_unset),
        T(test_four_workers_never_run_one_job_twice),
        T(test_after_its_lease_expires_a_job_runs_elsewhere_and_the_stale_owner_cannot_commit),
        T(test_a_job_whose_last_attempt_lost_its_lease_is_dead),
        T(test_a_job_that_dies_unhandled_calls_its_kinds_dead_callback),
        T(test_heartbeats_extend_the_lease_while_the_handler_runs),
        T(test_stopping_the_pool_lets_short_jobs_finish_and_gives_the_rest_back),
        T(test_batching_workers_run_every_short_job_once),
        T(test_jobs_claimed_behind_a_long_job_go_to_another_worker),
        T(test_stopping_a_batching_pool_gives_back_the_jobs_it_did_not_start),
        T(test_a_worker_killed_mid_job_loses_its_lease_and_the_job_runs_once_elsewhere),
        T(test_a_worker_killed_holding_a_batch_leaves_every_job_to_run_elsewhere),
        T(test_two_schedulers_enqueue_one_job_per_period),
        T(test_maintenance_prunes_old_finished_jobs_and_expired_sessions),
        T(test_maintenance_runs_as_a_scheduled_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
