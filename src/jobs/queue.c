/*
 * The queue protocol over job_store: enqueue, claim, and every transition a
 * leased job goes through, plus the process's registry of kinds. Threads
 * live in worker.c.
 */
#include "jobs/queue_private.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/job_store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE__MAX_KINDS       64
#define QUEUE__DEFAULT_LEASE   60
#define QUEUE__DEFAULT_TRIES   5
#define QUEUE__BACKOFF_BASE_US 2000000LL    /* 2 s after the first failure */
#define QUEUE__BACKOFF_CAP_US  3600000000LL /* never more than an hour */

static pthread_mutex_t queue__lock = PTHREAD_MUTEX_INITIALIZER;
static job__kind queue__kinds[QUEUE__MAX_KINDS];
static int queue__nkinds;

/* Kinds travel inside a JSON text built by hand (the claim's kind → expiry
 * map), so they are restricted to characters that need no escaping. */
static bool queue__kind_ok(const char *kind)
{
    size_t n = strlen(kind);
    if (n < 1 || n > JOB_KIND_MAX)
        return false;
    return strspn(kind, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

void job_register(const char *kind, job_handler fn, void *ctx, int lease_seconds)
{
    if (kind == NULL || fn == NULL || !queue__kind_ok(kind)) {
        log_error("job_register: '%s' is not a valid job kind (1-64 of A-Z a-z 0-9 . _ : -); "
                  "not registered",
                  kind ? kind : "(null)");
        return;
    }
    pthread_mutex_lock(&queue__lock);
    int i = 0;
    while (i < queue__nkinds && strcmp(queue__kinds[i].kind, kind) != 0)
        i++;
    if (i == QUEUE__MAX_KINDS) {
        pthread_mutex_unlock(&queue__lock);
        log_error("job_register: more than %d job kinds; '%s' not registered", QUEUE__MAX_KINDS,
                  kind);
        return;
    }
    job__kind *k = &queue__kinds[i];
    snprintf(k->kind, sizeof(k->kind), "%s", kind);
    k->fn = fn;
    k->dead = NULL;
    k->ctx = ctx;
    k->lease_seconds = lease_seconds > 0 ? lease_seconds : QUEUE__DEFAULT_LEASE;
    if (i == queue__nkinds)
        queue__nkinds++;
    pthread_mutex_unlock(&queue__lock);
}

void job_on_dead(const char *kind, job_dead_fn fn)
{
    pthread_mutex_lock(&queue__lock);
    int i = 0;
    while (i < queue__nkinds && strcmp(queue__kinds[i].kind, kind) != 0)
        i++;
    if (i < queue__nkinds)
        queue__kinds[i].dead = fn;
    pthread_mutex_unlock(&queue__lock);
    if (i == queue__nkinds)
        log_error("job_on_dead: '%s' is not a registered job kind", kind);
}

static void (*_Atomic queue__waker)(void);

void job__set_local_waker(void (*wake)(void))
{
    queue__waker = wake;
}

/* Wakes this process's idle workers, if it runs any. */
static void queue__wake_local(void)
{
    void (*wake)(void) = queue__waker;
    if (wake != NULL)
        wake();
}

void job__died(db_conn *c, const job *j, const char *why)
{
    job__kind k;
    if (job__lookup(j->kind, &k) && k.dead != NULL)
        k.dead(c, j, why, k.ctx);
}

void job_unregister_all(void)
{
    pthread_mutex_lock(&queue__lock);
    queue__nkinds = 0;
    pthread_mutex_unlock(&queue__lock);
}

bool job__lookup(const char *kind, job__kind *out)
{
    bool found = false;
    pthread_mutex_lock(&queue__lock);
    for (int i = 0; i < queue__nkinds && !found; i++) {
        if (strcmp(queue__kinds[i].kind, kind) == 0) {
            *out = queue__kinds[i];
            found = true;
        }
    }
    pthread_mutex_unlock(&queue__lock);
    return found;
}

/* {"kind":"<lease expiry if claimed now>",…} for every registered kind, or
 * false when none is registered. */
static bool queue__kinds_expiry(int64_t now, char *out, size_t n)
{
    size_t len = 0;
    out[len++] = '{';
    pthread_mutex_lock(&queue__lock);
    int count = queue__nkinds;
    for (int i = 0; i < count; i++) {
        char t[TIME_STR_LEN + 1];
        time_format(now + (int64_t)queue__kinds[i].lease_seconds * 1000000, t);
        len += (size_t)snprintf(out + len, n - len, "%s\"%s\":\"%s\"", i ? "," : "",
                                queue__kinds[i].kind, t);
    }
    pthread_mutex_unlock(&queue__lock);
    snprintf(out + len, n - len, "}");
    return count > 0;
}

int job_enqueue(db_conn *c, const char *kind, json_t *payload, const job_options *o,
                char id[UUID_STR_LEN + 1], error *err)
{
    static const job_options defaults = {0};
    if (o == NULL)
        o = &defaults;
    if (kind == NULL || strlen(kind) < 1 || strlen(kind) > JOB_KIND_MAX)
        return error_set(err, ERR_INVALID, "kind", "a job kind is 1 to %d characters",
                         JOB_KIND_MAX);
    if (payload != NULL && !json_is_object(payload))
        return error_set(err, ERR_INVALID, "payload", "a job payload must be a JSON object");
    if (o->max_attempts < 0)
        return error_set(err, ERR_INVALID, "max_attempts", "max_attempts must be at least 1");
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    int64_t now = time_now_usec();
    job_store_new n = {
        .kind = kind,
        .payload = text ? text : "{}",
        .user_id = o->user_id,
        .priority = o->priority,
        .run_at = o->run_at ? o->run_at : now,
        .max_attempts = o->max_attempts ? o->max_attempts : QUEUE__DEFAULT_TRIES,
        .unique_key = o->unique_key,
        .unique_while_active = o->unique_while_active,
        .now = now,
    };
    uuid_v7(id);
    bool created = false;
    int rc = job_store_insert(c, &n, id, &created, err);
    free(text);
    if (rc != 0 || !created || n.run_at > now)
        return rc;
    /* Wake idle workers: other processes through NOTIFY (sent when the
     * caller's transaction commits), this one directly. On SQLite a worker
     * woken before that commit waits for the write lock, then sees the job. */
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES)
        return job_store_notify(c, err);
    queue__wake_local();
    return 0;
}

typedef struct queue__claim_tx {
    const char *lease_owner;
    int64_t now;
    const char *kinds;
    job_store_claimed *out;
} queue__claim_tx;

/* 1 claimed, 0 nothing to claim, -1 err filled (job_store_claim). */
static int queue__claim_body(db_conn *c, void *arg, error *err)
{
    queue__claim_tx *tx = arg;
    return job_store_claim(c, tx->lease_owner, tx->now, tx->kinds, tx->out, err);
}

/* Copies a claimed row into j (whose lease_owner is already set); j owns
 * the payload after, cl no longer does. */
static void queue__fill(job *j, job_store_claimed *cl)
{
    memcpy(j->id, cl->id, sizeof(j->id));
    memcpy(j->kind, cl->kind, sizeof(j->kind));
    memcpy(j->user_id, cl->user_id, sizeof(j->user_id));
    j->attempts = cl->attempts;
    j->max_attempts = cl->max_attempts;
    j->payload = json_loads(cl->payload, 0, NULL);
    free(cl->payload);
    cl->payload = NULL;
}

/* True when j can run; otherwise it is buried here (its last allowed
 * attempt lost its lease, or its payload is unreadable), its kind told,
 * and its payload freed. */
static bool queue__runnable(db_conn *c, job *j)
{
    const char *why = NULL;
    char msg[200];
    if (j->attempts > j->max_attempts) {
        snprintf(msg, sizeof(msg),
                 "attempt %d of %d lost its lease: the worker running it stopped or hung",
                 j->max_attempts, j->max_attempts);
        why = msg;
    } else if (!json_is_object(j->payload)) {
        why = "the payload is not a JSON object";
    }
    if (why == NULL)
        return true;
    error e;
    if (job_store_bury(c, j->id, j->lease_owner, why, time_now_usec(), &e) == 0) {
        log_error("job %s (%s) is dead: %s", j->id, j->kind, why);
        job__died(c, j, why);
    }
    json_decref(j->payload);
    j->payload = NULL;
    return false;
}

typedef struct queue__claim_batch_tx {
    const char *lease_owner;
    int64_t now;
    const char *kinds;
    int max;
    job_store_claimed *out;
} queue__claim_batch_tx;

static int queue__claim_batch_body(db_conn *c, void *arg, error *err)
{
    queue__claim_batch_tx *tx = arg;
    return job_store_claim_batch(c, tx->lease_owner, tx->now, tx->kinds, tx->max, tx->out, err);
}

int job__claim_batch(db_conn *c, const char *owner, int max, job *jobs, error *err)
{
    if (max <= 1)
        return job_claim(c, owner, &jobs[0], err);
    bool sqlite = db_conn_engine(c) == DB_ENGINE_SQLITE;
    job_store_claimed *cl = xcalloc((size_t)max, sizeof(*cl));
    int got = 0;
    for (;;) {
        char map[QUEUE__MAX_KINDS * (JOB_KIND_MAX + TIME_STR_LEN + 8) + 8];
        int64_t now = time_now_usec();
        if (!queue__kinds_expiry(now, map, sizeof(map)))
            break;
        char token[UUID_STR_LEN + 1], lease_owner[sizeof(jobs[0].lease_owner)];
        uuid_v7(token);
        snprintf(lease_owner, sizeof(lease_owner), "%.42s/%s", owner, token);
        queue__claim_batch_tx tx = {lease_owner, now, map, max, cl};
        int n = sqlite ? db_tx(c, queue__claim_batch_body, &tx, err)
                       : queue__claim_batch_body(c, &tx, err);
        if (n <= 0) {
            got = n;
            break;
        }
        for (int i = 0; i < n; i++) {
            job *j = &jobs[got];
            memset(j, 0, sizeof(*j));
            memcpy(j->lease_owner, lease_owner, sizeof(j->lease_owner));
            queue__fill(j, &cl[i]);
            if (queue__runnable(c, j))
                got++;
        }
        if (got > 0)
            break;
    }
    free(cl);
    return got;
}

int job_claim(db_conn *c, const char *owner, job *j, error *err)
{
    bool sqlite = db_conn_engine(c) == DB_ENGINE_SQLITE;
    for (;;) {
        char map[QUEUE__MAX_KINDS * (JOB_KIND_MAX + TIME_STR_LEN + 8) + 8];
        int64_t now = time_now_usec();
        if (!queue__kinds_expiry(now, map, sizeof(map)))
            return 0;
        char token[UUID_STR_LEN + 1];
        uuid_v7(token);
        memset(j, 0, sizeof(*j));
        snprintf(j->lease_owner, sizeof(j->lease_owner), "%.42s/%s", owner, token);

        job_store_claimed cl = {0};
        queue__claim_tx tx = {j->lease_owner, now, map, &cl};
        /* SQLite: the write lock up front (db_tx), so the select-then-update
         * inside the claim cannot lose a race to another writer. PostgreSQL
         * claims in one statement. */
        int rc = sqlite ? db_tx(c, queue__claim_body, &tx, err) : queue__claim_body(c, &tx, err);
        if (rc <= 0) {
            free(cl.payload);
            return rc;
        }
        queue__fill(j, &cl);
        if (queue__runnable(c, j))
            return 1;
    }
}

int job_complete(db_conn *c, const job *j, error *err)
{
    return job_store_complete(c, j->id, j->lease_owner, time_now_usec(), err);
}

static int job__complete_body(db_conn *c, void *j, error *err)
{
    return job_complete(c, j, err);
}

static _Thread_local bool (*queue__defer)(const job *j);

void job__set_thread_deferral(bool (*defer)(const job *j))
{
    queue__defer = defer;
}

void job_complete_alone(db_conn *c, const job *j, job_result *out)
{
    /* On a batching pool's worker thread the completion joins the batch's,
     * written in one statement with the others' before any of their leases
     * can run out; never a last attempt's, which a crash before that
     * statement would leave to be buried as lost instead of re-run. */
    if (queue__defer != NULL && j->attempts < j->max_attempts && queue__defer(j)) {
        out->outcome = JOB_OUTCOME_DONE;
        return;
    }
    bool done = db_tx(c, job__complete_body, (void *)j, &out->err) == 0;
    out->outcome = done ? JOB_OUTCOME_DONE : JOB_OUTCOME_RETRY;
}

int64_t job__backoff_usec(int attempts)
{
    int64_t d = QUEUE__BACKOFF_BASE_US;
    for (int i = 1; i < attempts && d < QUEUE__BACKOFF_CAP_US; i++)
        d *= 2;
    if (d > QUEUE__BACKOFF_CAP_US)
        d = QUEUE__BACKOFF_CAP_US;
    /* ±20 %, so jobs that failed together do not all come back together. */
    double jitter = 0.8 + 0.4 * (double)randombytes_uniform(1000001) / 1000000.0;
    return (int64_t)((double)d * jitter);
}

int job__record_failure(db_conn *c, const job *j, const job_result *r, int64_t *run_at, error *err)
{
    const char *why = r->err.message[0] ? r->err.message : "the handler failed without saying why";
    int64_t now = time_now_usec();
    if (r->outcome == JOB_OUTCOME_FAIL || j->attempts >= j->max_attempts) {
        *run_at = 0;
        return job_store_bury(c, j->id, j->lease_owner, why, now, err);
    }
    if (r->outcome == JOB_OUTCOME_RETRY_AT)
        *run_at = r->retry_at > now ? r->retry_at : now;
    else
        *run_at = now + job__backoff_usec(j->attempts);
    return job_store_retry(c, j->id, j->lease_owner, *run_at, why, now, err);
}

int job__release(db_conn *c, const char *id, const char *lease_owner, error *err)
{
    int64_t now = time_now_usec();
    if (job_store_release(c, id, lease_owner, now, err) != 0)
        return -1;
    /* Another process may take it at once. */
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES)
        return job_store_notify(c, err);
    return 0;
}

/* Runs a batch transition: a transaction of its own on SQLite (the write
 * gate, decision 35), one statement on PostgreSQL. */
typedef struct queue__batch_tx {
    int64_t (*fn)(db_conn *, const char (*)[UUID_STR_LEN + 1], int, const char *, int64_t, error *);
    const char (*ids)[UUID_STR_LEN + 1];
    int n;
    const char *lease_owner;
    int64_t now;
} queue__batch_tx;

static int queue__batch_body(db_conn *c, void *arg, error *err)
{
    queue__batch_tx *tx = arg;
    int64_t changed = tx->fn(c, tx->ids, tx->n, tx->lease_owner, tx->now, err);
    return changed < 0 ? -1 : (int)changed;
}

static int queue__batch(db_conn *c, queue__batch_tx *tx, error *err)
{
    if (tx->n == 0)
        return 0;
    if (db_conn_engine(c) == DB_ENGINE_SQLITE)
        return db_tx(c, queue__batch_body, tx, err);
    return queue__batch_body(c, tx, err);
}

int job__complete_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                        const char *lease_owner, error *err)
{
    queue__batch_tx tx = {job_store_complete_batch, ids, n, lease_owner, time_now_usec()};
    return queue__batch(c, &tx, err);
}

int job__release_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                       const char *lease_owner, error *err)
{
    queue__batch_tx tx = {job_store_release_batch, ids, n, lease_owner, time_now_usec()};
    int released = queue__batch(c, &tx, err);
    if (released <= 0)
        return released;
    /* Others may take them at once. */
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES && job_store_notify(c, err) != 0)
        return -1;
    queue__wake_local();
    return released;
}

int job__extend(db_conn *c, const char *id, const char *lease_owner, int lease_seconds, error *err)
{
    return job_store_extend(c, id, lease_owner, time_now_usec() + (int64_t)lease_seconds * 1000000,
                            err);
}

int job_requeue(db_conn *c, arena *a, const char *id, error *err)
{
    if (job_store_requeue(c, a, id, time_now_usec(), err) != 0)
        return -1;
    if (db_conn_engine(c) == DB_ENGINE_POSTGRES)
        return job_store_notify(c, err);
    queue__wake_local();
    return 0;
}

int job_list(db_conn *c, arena *a, const char *status, const char *kind, const char *cursor,
             int limit, job_record **out, size_t *n, error *err)
{
    return job_store_list(c, a, status, kind, cursor, limit, out, n, err);
}

int job_get(db_conn *c, arena *a, const char *id, job_record *out, error *err)
{
    return job_store_get(c, a, id, out, err);
}
