/*
 * The worker pool: n threads that claim and run jobs, and one control
 * thread that owns a connection of its own (outside the shared pool, so it
 * never waits behind HTTP requests or handlers) for three things: LISTEN
 * on PostgreSQL to wake idle workers, heartbeats that extend the leases of
 * running jobs, and the scheduler of periodic jobs. Idle workers hold no
 * connection; they sleep until woken or until the poll interval passes, so
 * a lost notification (or SQLite, which has none) costs at most that delay.
 */
#include "jobs/worker.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "jobs/queue_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKER__POLL_MS       1000 /* an idle worker looks for due jobs at least this often */
#define WORKER__TICK_MS       200  /* the control thread's wait: heartbeat and stop latency */
#define WORKER__SCHED_US      1000000LL
#define WORKER__CHANNEL       "pstudio_jobs"
#define WORKER__MAX_SCHEDULES 32
/* How long claimed jobs may wait for their turn in a batch before they are
 * given back for others to run; the control thread looks every tick, so
 * none waits much past this plus WORKER__TICK_MS, far inside any lease. */
#define WORKER__HOLD_US 100000LL

/* Where a claimed job of a batch stands (worker__slot.state). */
enum {
    WORKER__WAITING, /* claimed, not started: the control thread may give it back */
    WORKER__RUNNING, /* its handler runs */
    WORKER__PENDING, /* done by job_complete_alone; its completion is not yet written */
    WORKER__SETTLED, /* nothing left to do for it here */
};

typedef struct worker__slot {
    job_pool *pool;
    int index;
    pthread_t thread;
    /* Guarded by pool->lock: the job this worker is running, if busy. */
    bool busy;
    char id[UUID_STR_LEN + 1];
    char lease_owner[80];
    int lease_seconds;
    int64_t next_beat; /* monotonic usec */
    /* Read by the handler's own thread through job_cancelled(). */
    atomic_bool cancelled;
    /* The batch this worker claimed: the jobs are the worker's own; their
     * states, the count and the claim time are guarded by pool->lock, as
     * the control thread settles a batch held too long (worker__settle). */
    job *jobs;      /* pool->batch of them */
    uint8_t *state; /* per job: WORKER__WAITING … */
    int njobs;
    int current; /* the job whose handler runs, or -1 */
    char batch_owner[80];
    int64_t claimed_at; /* monotonic usec */
    bool cut;           /* some of the batch were given back unstarted */
    int size; /* the next claim's size: pool->batch, or 1 and doubling after a slow batch */
} worker__slot;

/* A lease to extend or give back, copied out of a slot so no database call
 * runs under the pool's lock. */
typedef struct worker__lease {
    int slot;
    char id[UUID_STR_LEN + 1];
    char lease_owner[80];
    int lease_seconds;
} worker__lease;

struct job_pool {
    db *d;   /* borrowed: workers run jobs on its connections */
    db *ctl; /* owned: the control thread's one connection */
    char owner[48];
    int n;
    int batch; /* most jobs one claim leases */
    worker__slot *slots;
    worker__lease *leases; /* n, scratch for the control thread and stop */
    pthread_t control;
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* idle workers wait here */
    pthread_cond_t settled; /* job_pool_stop waits here for busy workers */
    bool draining;          /* the stop deadline passed: run no newly claimed job */
    uint64_t wake_seq;      /* bumped by every wake-up, so none is missed */
    bool stopping;          /* workers claim nothing more */
    bool control_stop;
    int busy;
    int64_t sched_last[WORKER__MAX_SCHEDULES]; /* period index last enqueued, per schedule */
    job_pool *next;                            /* in worker__pools */
};

typedef struct worker__schedule {
    char kind[JOB_KIND_MAX + 1];
    int period;
    json_t *payload;
} worker__schedule;

static pthread_mutex_t worker__sched_lock = PTHREAD_MUTEX_INITIALIZER;
static worker__schedule worker__schedules[WORKER__MAX_SCHEDULES];
static int worker__nschedules;

static pthread_mutex_t worker__pools_lock = PTHREAD_MUTEX_INITIALIZER;
static job_pool *worker__pools;

static _Thread_local worker__slot *worker__current;

/* ---- time and waiting ------------------------------------------------------ */

static struct timespec worker__abs_mono(int64_t mono_usec)
{
    struct timespec ts = {(time_t)(mono_usec / 1000000), (long)(mono_usec % 1000000) * 1000};
    return ts;
}

static void worker__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void worker__wake(job_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->wake_seq++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

/* Wakes the idle workers of every pool in this process: the queue's local
 * waker (job__set_local_waker). */
static void worker__wake_all(void)
{
    pthread_mutex_lock(&worker__pools_lock);
    for (job_pool *p = worker__pools; p; p = p->next)
        worker__wake(p);
    pthread_mutex_unlock(&worker__pools_lock);
}

/* Sleeps until a wake-up newer than seq, the pool stops, or ms pass. */
static void worker__idle(job_pool *p, uint64_t seq, int ms)
{
    struct timespec until = worker__abs_mono(time_mono_usec() + (int64_t)ms * 1000);
    pthread_mutex_lock(&p->lock);
    while (!p->stopping && p->wake_seq == seq) {
        if (pthread_cond_timedwait(&p->wake, &p->lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- running one job --------------------------------------------------------- */

bool job_cancelled(void)
{
    return worker__current != NULL && atomic_load(&worker__current->cancelled);
}

/* Runs j's handler on c and records its outcome; frees j's payload.
 * Returns the handler's outcome. */
static job_outcome worker__execute(db_conn *c, job *j, const job__kind *k)
{
    log_set_request_id(j->id);
    job_result res;
    memset(&res, 0, sizeof(res));
    int64_t t0 = time_mono_usec();
    k->fn(c, j, &res, k->ctx);
    long ms = (long)((time_mono_usec() - t0) / 1000);

    char fields[256];
    snprintf(fields, sizeof(fields), "\"job_id\":\"%s\",\"kind\":\"%s\",\"attempt\":%d,\"ms\":%ld",
             j->id, j->kind, j->attempts, ms);
    if (res.outcome == JOB_OUTCOME_DONE) {
        log_write(LOG_DEBUG, fields, "job done");
        log_set_request_id(NULL);
        json_decref(j->payload);
        j->payload = NULL;
        return res.outcome;
    }
    int64_t run_at = 0;
    error e;
    if (job__record_failure(c, j, &res, &run_at, &e) != 0) {
        log_write(e.kind == ERR_CONFLICT ? LOG_INFO : LOG_WARN, fields,
                  "job attempt failed (%s) and its outcome was not recorded: %s", res.err.message,
                  e.message);
    } else if (run_at == 0) {
        log_write(LOG_ERROR, fields, "job is dead after attempt %d of %d: %s", j->attempts,
                  j->max_attempts, res.err.message);
        /* A handler that wanted another attempt has not settled its job. */
        if (res.outcome != JOB_OUTCOME_FAIL) {
            char why[700];
            snprintf(why, sizeof(why), "attempt %d of %d failed and none is left: %s", j->attempts,
                     j->max_attempts, res.err.message[0] ? res.err.message : "no reason given");
            job__died(c, j, why);
        }
    } else {
        char t[TIME_STR_LEN + 1];
        time_format(run_at, t);
        log_write(LOG_WARN, fields, "job attempt %d of %d failed; retrying at %s: %s", j->attempts,
                  j->max_attempts, t, res.err.message);
    }
    log_set_request_id(NULL);
    json_decref(j->payload);
    j->payload = NULL;
    return res.outcome;
}

/* The kind was checked by the claim; it can only be missing if it was
 * unregistered since, and then the job goes back for another process. */
static bool worker__kind(db_conn *c, job *j, job__kind *k)
{
    if (job__lookup(j->kind, k))
        return true;
    error e;
    job__release(c, j->id, j->lease_owner, &e);
    json_decref(j->payload);
    j->payload = NULL;
    return false;
}

int job_work_one(db *d, const char *owner, error *err)
{
    db_conn *c = db_acquire(d);
    job j;
    job__kind k;
    int rc = job_claim(c, owner, &j, err);
    if (rc == 1 && worker__kind(c, &j, &k))
        worker__execute(c, &j, &k);
    db_release(c);
    return rc;
}

/*
 * Writes what a batch owes: marks done, in one statement, its jobs whose
 * completions were deferred, and gives back, in another, those not started
 * (the running one is left alone). Called by the worker between jobs and at
 * the batch's end, and by the control thread for a batch held past
 * WORKER__HOLD_US, on their own connections; each job is taken under the
 * lock, so it is settled once.
 */
static void worker__settle(job_pool *p, worker__slot *s, db_conn *c)
{
    int n = 0, nd = 0, nw = 0;
    char owner[sizeof(s->batch_owner)];
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < s->njobs; i++)
        n += s->state[i] == WORKER__PENDING || s->state[i] == WORKER__WAITING;
    if (n == 0) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    char(*done)[UUID_STR_LEN + 1] = xcalloc((size_t)n * 2, sizeof(*done));
    char(*back)[UUID_STR_LEN + 1] = done + n;
    for (int i = 0; i < s->njobs; i++) {
        if (s->state[i] == WORKER__PENDING)
            memcpy(done[nd++], s->jobs[i].id, sizeof(done[0]));
        else if (s->state[i] == WORKER__WAITING)
            memcpy(back[nw++], s->jobs[i].id, sizeof(back[0]));
        else
            continue;
        s->state[i] = WORKER__SETTLED;
    }
    if (nw > 0)
        s->cut = true;
    memcpy(owner, s->batch_owner, sizeof(owner));
    pthread_mutex_unlock(&p->lock);

    error e;
    int rc = nd > 0 ? job__complete_batch(c, done, nd, owner, &e) : 0;
    if (rc < 0)
        log_warn("cannot mark %d finished jobs done (they run again once their leases expire): "
                 "%s",
                 nd, e.message);
    else if (rc < nd) /* the rest were taken back from this worker */
        log_info("%d of %d finished jobs were no longer leased to this worker", nd - rc, nd);
    if (nw > 0 && job__release_batch(c, back, nw, owner, &e) < 0)
        log_warn("cannot give %d unstarted jobs back to the queue (their leases will expire): %s",
                 nw, e.message);
    free(done);
}

/* job_complete_alone's deferral on a batching worker's thread: the running
 * job's completion waits for the batch's statement. */
static bool worker__defer(const job *j)
{
    worker__slot *s = worker__current;
    if (s == NULL)
        return false;
    job_pool *p = s->pool;
    bool taken = false;
    pthread_mutex_lock(&p->lock);
    int i = s->current;
    if (i >= 0 && s->state[i] == WORKER__RUNNING && !atomic_load(&s->cancelled) &&
        strcmp(s->jobs[i].id, j->id) == 0 && strcmp(s->jobs[i].lease_owner, j->lease_owner) == 0) {
        s->state[i] = WORKER__PENDING;
        taken = true;
    }
    pthread_mutex_unlock(&p->lock);
    return taken;
}

/* Runs the batch's job i (marked running by the caller). */
static void worker__run(worker__slot *slot, db_conn *c, int i)
{
    job_pool *p = slot->pool;
    job *j = &slot->jobs[i];
    job__kind k;
    job_outcome outcome = JOB_OUTCOME_RETRY;
    if (worker__kind(c, j, &k)) {
        pthread_mutex_lock(&p->lock);
        slot->busy = true;
        slot->current = i;
        memcpy(slot->id, j->id, sizeof(slot->id));
        memcpy(slot->lease_owner, j->lease_owner, sizeof(slot->lease_owner));
        slot->lease_seconds = k.lease_seconds;
        slot->next_beat = time_mono_usec() + (int64_t)k.lease_seconds * 1000000 / 3;
        atomic_store(&slot->cancelled, false);
        pthread_mutex_unlock(&p->lock);

        outcome = worker__execute(c, j, &k);
    }
    pthread_mutex_lock(&p->lock);
    slot->busy = false;
    slot->current = -1;
    /* A deferred completion stands only if the handler ended done. */
    if (slot->state[i] != WORKER__PENDING || outcome != JOB_OUTCOME_DONE)
        slot->state[i] = WORKER__SETTLED;
    pthread_mutex_unlock(&p->lock);
}

/*
 * Runs the n jobs just claimed, in claim order. The first runs unless the
 * stop deadline passed during the claim; each later one only while the pool
 * is not stopping and the batch was claimed less than WORKER__HOLD_US ago:
 * otherwise the rest go back to the queue at once, in one statement. After a
 * batch that took longer than that the next claim takes one job, and the
 * claims double from there while batches stay quick.
 */
static void worker__run_batch(worker__slot *slot, db_conn *c, int n)
{
    job_pool *p = slot->pool;
    pthread_mutex_lock(&p->lock);
    slot->njobs = n;
    slot->current = -1;
    slot->cut = false;
    slot->claimed_at = time_mono_usec();
    memcpy(slot->batch_owner, slot->jobs[0].lease_owner, sizeof(slot->batch_owner));
    for (int i = 0; i < n; i++)
        slot->state[i] = WORKER__WAITING;
    pthread_mutex_unlock(&p->lock);

    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&p->lock);
        bool mine = slot->state[i] == WORKER__WAITING;
        bool give_back = i == 0
                             ? p->draining
                             : p->stopping || time_mono_usec() - slot->claimed_at > WORKER__HOLD_US;
        if (mine && !give_back)
            slot->state[i] = WORKER__RUNNING;
        pthread_mutex_unlock(&p->lock);
        if (mine && give_back)
            worker__settle(p, slot, c);
        else if (mine)
            worker__run(slot, c, i);
    }
    worker__settle(p, slot, c);

    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < n; i++) {
        json_decref(slot->jobs[i].payload);
        slot->jobs[i].payload = NULL;
    }
    slot->njobs = 0;
    if (slot->cut || time_mono_usec() - slot->claimed_at > WORKER__HOLD_US)
        slot->size = 1; /* slow jobs: one at a time */
    else if (slot->size < p->batch)
        slot->size = slot->size * 2 < p->batch ? slot->size * 2 : p->batch;
    pthread_mutex_unlock(&p->lock);
}

static void *worker__main(void *arg)
{
    worker__slot *slot = arg;
    job_pool *p = slot->pool;
    worker__current = slot;
    if (p->batch > 1)
        job__set_thread_deferral(worker__defer);
    int failures = 0;
    for (;;) {
        /* A claim in progress counts as busy, so a stop that begins while the
         * job is already 'running' in the table waits for it like any other
         * running job instead of finding nobody busy. */
        pthread_mutex_lock(&p->lock);
        bool stop = p->stopping;
        if (!stop)
            p->busy++;
        uint64_t seq = p->wake_seq; /* read before claiming: a wake-up during it counts */
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        db_conn *c = db_acquire(p->d);
        error err;
        int rc = job__claim_batch(c, p->owner, slot->size, slot->jobs, &err);
        if (rc > 0)
            worker__run_batch(slot, c, rc);
        db_release(c);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0)
            pthread_cond_broadcast(&p->settled);
        pthread_mutex_unlock(&p->lock);
        if (rc > 0) {
            failures = 0;
            continue;
        }
        if (rc < 0 && failures++ % 60 == 0)
            log_warn("job worker %d cannot claim jobs (retrying every %d ms): %s", slot->index,
                     WORKER__POLL_MS, err.message);
        if (rc == 0)
            failures = 0;
        worker__idle(p, seq, WORKER__POLL_MS);
    }
    job__set_thread_deferral(NULL);
    worker__current = NULL;
    return NULL;
}

/* ---- the control thread ------------------------------------------------------- */

static void worker__heartbeat(job_pool *p, db_conn *c)
{
    int n = 0;
    int64_t now = time_mono_usec();
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->n; i++) {
        worker__slot *s = &p->slots[i];
        if (!s->busy || now < s->next_beat)
            continue;
        s->next_beat = now + (int64_t)s->lease_seconds * 1000000 / 3;
        worker__lease *l = &p->leases[n++];
        l->slot = i;
        memcpy(l->id, s->id, sizeof(l->id));
        memcpy(l->lease_owner, s->lease_owner, sizeof(l->lease_owner));
        l->lease_seconds = s->lease_seconds;
    }
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++) {
        worker__lease *l = &p->leases[i];
        error e;
        if (job__extend(c, l->id, l->lease_owner, l->lease_seconds, &e) == 0)
            continue;
        if (e.kind != ERR_CONFLICT) {
            log_warn("cannot extend the lease of job %s: %s", l->id, e.message);
            continue;
        }
        /* Lost: the job may already be running elsewhere. Tell the handler,
         * unless it finished (and so changed the row) in the meantime. */
        pthread_mutex_lock(&p->lock);
        worker__slot *s = &p->slots[l->slot];
        bool same = s->busy && strcmp(s->lease_owner, l->lease_owner) == 0;
        if (same)
            atomic_store(&s->cancelled, true);
        pthread_mutex_unlock(&p->lock);
        if (same)
            log_warn("lost the lease of job %s; its handler is told to stop", l->id);
    }
}

/* Settles the batches held past WORKER__HOLD_US behind a running job: its
 * unstarted jobs go back for idle workers to take, and the finished ones'
 * completions are written before their leases can run out. */
static void worker__settle_held(job_pool *p, db_conn *c)
{
    int64_t now = time_mono_usec();
    for (int i = 0; i < p->n; i++) {
        worker__slot *s = &p->slots[i];
        pthread_mutex_lock(&p->lock);
        bool held = s->njobs > 1 && now - s->claimed_at > WORKER__HOLD_US;
        pthread_mutex_unlock(&p->lock);
        if (held)
            worker__settle(p, s, c);
    }
}

static void worker__schedule_tick(job_pool *p, db_conn *c)
{
    int64_t now = time_now_usec();
    pthread_mutex_lock(&worker__sched_lock);
    int count = worker__nschedules;
    worker__schedule due[WORKER__MAX_SCHEDULES];
    int64_t index[WORKER__MAX_SCHEDULES];
    for (int i = 0; i < count; i++) {
        due[i] = worker__schedules[i];
        json_incref(due[i].payload);
        index[i] = now / 1000000 / due[i].period;
    }
    pthread_mutex_unlock(&worker__sched_lock);
    for (int i = 0; i < count; i++) {
        if (p->sched_last[i] != index[i]) {
            /* Every process tries once per period; the key lets one job in. */
            char key[160], id[UUID_STR_LEN + 1];
            snprintf(key, sizeof(key), "sched:%.64s:%lld", due[i].kind, (long long)index[i]);
            job_options o = {.unique_key = key, .run_at = now};
            error e;
            if (job_enqueue(c, due[i].kind, due[i].payload, &o, id, &e) == 0)
                p->sched_last[i] = index[i];
            else
                log_warn("cannot enqueue the periodic job %s: %s", key, e.message);
        }
        json_decref(due[i].payload);
    }
}

static void *worker__control(void *arg)
{
    job_pool *p = arg;
    db_conn *c = db_acquire(p->ctl);
    bool listening = false;
    int failures = 0;
    int64_t next_sched = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->control_stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        db_error de;
        int rc = -1;
        if (!listening)
            listening = db_listen(c, WORKER__CHANNEL, &de) == 0;
        if (listening)
            rc = db_wait_notify(c, WORKER__TICK_MS, &de);
        if (rc < 0) {
            if (failures++ % 50 == 0)
                log_warn("job queue notifications are failing (workers poll meanwhile): %s",
                         de.message);
            worker__sleep_ms(WORKER__TICK_MS);
        } else if (failures > 0) {
            failures = 0;
            rc = 1; /* whatever was announced while the link was down */
        }
        if (rc == 1)
            worker__wake(p);
        worker__heartbeat(p, c);
        worker__settle_held(p, c);
        if (time_mono_usec() >= next_sched) {
            worker__schedule_tick(p, c);
            next_sched = time_mono_usec() + WORKER__SCHED_US;
        }
    }
    db_release(c);
    return NULL;
}

/* ---- the pool ---------------------------------------------------------------- */

static void worker__spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc != 0) {
        log_error("cannot start a job worker thread: %s", strerror(rc));
        abort();
    }
}

job_pool *job_pool_start(db *d, int n, const char *owner, error *err)
{
    return job_pool_start_batch(d, n, JOB_POOL_BATCH_DEFAULT, owner, err);
}

job_pool *job_pool_start_batch(db *d, int n, int batch, const char *owner, error *err)
{
    if (n < 1 || n > 1024) {
        error_set(err, ERR_INVALID, "PSTUDIO_WORKERS", "a job pool needs 1 to 1024 workers, not %d",
                  n);
        return NULL;
    }
    if (batch < 1 || batch > JOB_POOL_BATCH_MAX) {
        error_set(err, ERR_INVALID, "PSTUDIO_JOB_BATCH", "a job claim takes 1 to %d jobs, not %d",
                  JOB_POOL_BATCH_MAX, batch);
        return NULL;
    }
    db_error de;
    db *ctl = db_open(db_url(d), 1, &de);
    if (ctl == NULL) {
        db_to_error(err, &de, NULL);
        return NULL;
    }
    job_pool *p = xcalloc(1, sizeof(*p));
    p->d = d;
    p->ctl = ctl;
    p->n = n;
    p->batch = batch;
    snprintf(p->owner, sizeof(p->owner), "%s", owner);
    p->slots = xcalloc((size_t)n, sizeof(*p->slots));
    p->leases = xcalloc((size_t)n, sizeof(*p->leases));
    for (int i = 0; i < WORKER__MAX_SCHEDULES; i++)
        p->sched_last[i] = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_cond_init(&p->settled, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&worker__pools_lock);
    p->next = worker__pools;
    worker__pools = p;
    pthread_mutex_unlock(&worker__pools_lock);
    job__set_local_waker(worker__wake_all);

    worker__spawn(&p->control, worker__control, p);
    for (int i = 0; i < n; i++) {
        p->slots[i].pool = p;
        p->slots[i].index = i;
        p->slots[i].jobs = xcalloc((size_t)batch, sizeof(*p->slots[i].jobs));
        p->slots[i].state = xcalloc((size_t)batch, sizeof(*p->slots[i].state));
        p->slots[i].current = -1;
        p->slots[i].size = batch;
        atomic_init(&p->slots[i].cancelled, false);
        worker__spawn(&p->slots[i].thread, worker__main, &p->slots[i]);
    }
    buf f;
    buf_init(&f, 512);
    buf_printf(&f, "\"workers\":%d,\"batch\":%d,\"owner\":\"", n, batch);
    log_json_escape(&f, p->owner);
    buf_puts(&f, "\"");
    log_write(LOG_INFO, buf_cstr(&f), "job workers started");
    buf_free(&f);
    return p;
}

void job_pool_stop(job_pool *p, int deadline_ms)
{
    if (p == NULL)
        return;
    struct timespec until = worker__abs_mono(time_mono_usec() + (int64_t)deadline_ms * 1000);
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    while (p->busy > 0) {
        if (pthread_cond_timedwait(&p->settled, &p->lock, &until) != 0)
            break;
    }
    p->draining = true; /* from here a fresh claim is given straight back */
    /* Past the deadline: take the leases back from whatever still runs.
     * The handlers hear of it only once that is done, so one that gives up
     * at once cannot record its attempt as a failure first. */
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        worker__slot *s = &p->slots[i];
        if (!s->busy)
            continue;
        worker__lease *l = &p->leases[n++];
        l->slot = i;
        memcpy(l->id, s->id, sizeof(l->id));
        memcpy(l->lease_owner, s->lease_owner, sizeof(l->lease_owner));
    }
    p->control_stop = true;
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->control, NULL);

    db_conn *c = db_acquire(p->ctl);
    for (int i = 0; i < n; i++) {
        error e;
        if (job__release(c, p->leases[i].id, p->leases[i].lease_owner, &e) == 0)
            log_info("job %s did not finish within %d ms; it is back in the queue", p->leases[i].id,
                     deadline_ms);
        else if (e.kind != ERR_CONFLICT) /* a conflict: it just finished after all */
            log_warn("cannot give job %s back to the queue (its lease will expire): %s",
                     p->leases[i].id, e.message);
    }
    db_release(c);
    /* Handlers still running now see job_cancelled(); their commits would fail. */
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < n; i++) {
        worker__slot *s = &p->slots[p->leases[i].slot];
        if (s->busy && strcmp(s->lease_owner, p->leases[i].lease_owner) == 0)
            atomic_store(&s->cancelled, true);
    }
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->slots[i].thread, NULL);

    pthread_mutex_lock(&worker__pools_lock);
    for (job_pool **pp = &worker__pools; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&worker__pools_lock);
    db_close(p->ctl);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->settled);
    pthread_mutex_destroy(&p->lock);
    for (int i = 0; i < p->n; i++) {
        free(p->slots[i].jobs);
        free(p->slots[i].state);
    }
    free(p->slots);
    free(p->leases);
    free(p);
    log_info("job workers stopped");
}

/* ---- schedules ---------------------------------------------------------------- */

void job_schedule(const char *kind, int period_seconds, const char *payload_json)
{
    json_error_t je;
    json_t *payload = json_loads(payload_json ? payload_json : "{}", 0, &je);
    if (period_seconds < 1 || kind == NULL || strlen(kind) < 1 || strlen(kind) > JOB_KIND_MAX ||
        !json_is_object(payload)) {
        log_error("job_schedule: kind '%s' every %d s with payload '%.80s' is not valid (a kind, "
                  "a period of at least 1 s, a JSON object); not scheduled",
                  kind ? kind : "(null)", period_seconds, payload_json ? payload_json : "");
        json_decref(payload);
        return;
    }
    pthread_mutex_lock(&worker__sched_lock);
    int i = 0;
    while (i < worker__nschedules && strcmp(worker__schedules[i].kind, kind) != 0)
        i++;
    if (i == WORKER__MAX_SCHEDULES) {
        pthread_mutex_unlock(&worker__sched_lock);
        json_decref(payload);
        log_error("job_schedule: more than %d schedules; '%s' not scheduled", WORKER__MAX_SCHEDULES,
                  kind);
        return;
    }
    worker__schedule *s = &worker__schedules[i];
    if (i == worker__nschedules)
        worker__nschedules++;
    else
        json_decref(s->payload);
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    s->period = period_seconds;
    s->payload = payload;
    pthread_mutex_unlock(&worker__sched_lock);
}

void job_unschedule_all(void)
{
    pthread_mutex_lock(&worker__sched_lock);
    for (int i = 0; i < worker__nschedules; i++)
        json_decref(worker__schedules[i].payload);
    worker__nschedules = 0;
    pthread_mutex_unlock(&worker__sched_lock);
}
