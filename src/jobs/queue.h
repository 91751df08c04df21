/*
 * queue: the durable job queue, in the database (table jobs). Delivery is
 * at-least-once with exactly-once effects:
 *
 *  - job_enqueue() inserts a job on the caller's connection, so a job can be
 *    enqueued in the same transaction as the business write that needs it.
 *    A unique_key deduplicates: enqueueing a key that already exists returns
 *    the existing job's id and inserts nothing.
 *  - A worker leases a job (lease owner + expiry), heartbeats while the
 *    handler runs, and the handler commits its result together with
 *    job_complete() in ONE transaction; job_complete() succeeds only while the
 *    worker still holds the lease, so a worker whose lease expired (it was
 *    paused, or killed with -9 and the job re-ran elsewhere) cannot commit
 *    its effects a second time.
 *  - A failed attempt is retried with exponential backoff and jitter until
 *    max_attempts; then the job is kept as 'dead' with its last error, visible
 *    to admins and re-queueable.
 *
 * Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL (woken by LISTEN/NOTIFY)
 * and BEGIN IMMEDIATE on SQLite. A pool's workers claim short jobs in
 * batches (worker.h): one statement leases several jobs, and the
 * completions job_complete_alone() makes on a worker are written for the
 * batch in one statement once its handlers returned, still only for jobs
 * whose lease the batch holds. A worker killed with -9 before writing them
 * leaves those jobs, like the one it was running and the ones it had not
 * started, to run again once their leases expire: a handler must be safe to
 * run twice, as it always had to be.
 */
#ifndef PS_JOBS_QUEUE_H
#define PS_JOBS_QUEUE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/job_store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct job {
    char id[UUID_STR_LEN + 1];
    char kind[JOB_KIND_MAX + 1];
    json_t *payload;                /* owned by the worker for the duration of the handler */
    char user_id[UUID_STR_LEN + 1]; /* "" when the job belongs to no user */
    int attempts;                   /* including this one */
    int max_attempts;
    char lease_owner[80];
} job;

typedef struct job_options {
    const char *user_id;    /* NULL: none */
    int priority;           /* higher runs first */
    int64_t run_at;         /* usec; 0: now */
    int max_attempts;       /* 0: 5 */
    const char *unique_key; /* NULL: no dedup */
    /* The key dedupes only against jobs still queued or running: a finished
     * job holding it gives it up. For work a user asks for again after the
     * last run ended; never for scheduled runs, whose key marks a period
     * as done. */
    bool unique_while_active;
} job_options;

/** Inserts a job on c (inside the caller's transaction if one is open); fills id. */
int job_enqueue(db_conn *c, const char *kind, json_t *payload, const job_options *o,
                char id[UUID_STR_LEN + 1], error *err);

/**
 * Marks j done, on c, inside the handler's open transaction: call it after the
 * handler's own writes and before db_commit(). ERR_CONFLICT when the lease is
 * no longer this worker's: the handler must then roll back.
 */
int job_complete(db_conn *c, const job *j, error *err);

/* What a handler returns when it did not complete the job itself. */
typedef enum job_outcome {
    JOB_OUTCOME_DONE = 0, /* completed (the handler called job_complete and committed) */
    JOB_OUTCOME_RETRY,    /* transient failure: retry with backoff (err says why) */
    JOB_OUTCOME_RETRY_AT, /* retry no earlier than *retry_at (e.g. a 429 Retry-After) */
    JOB_OUTCOME_FAIL,     /* permanent failure: mark dead now, no more attempts */
} job_outcome;

typedef struct job_result {
    job_outcome outcome;
    int64_t retry_at; /* usec, for JOB_OUTCOME_RETRY_AT */
    error err;        /* the reason, for every outcome but DONE */
} job_result;

/**
 * For handlers whose work is already committed (or that have none): marks j
 * done in a transaction of its own and fills out (DONE, or RETRY with the
 * reason). On a batching pool's worker thread, unless this is j's last
 * attempt, the completion is deferred instead: out is DONE at once and j is
 * marked done with the rest of its batch, in one statement, after the
 * handler returns (and within about 300 ms, so never after its lease ends);
 * if the lease was lost meanwhile, j stays with whoever holds it.
 */
void job_complete_alone(db_conn *c, const job *j, job_result *out);

/**
 * A handler gets a connection of its own (no transaction open), runs the
 * job, and returns its result. It is called on a worker thread; it must be
 * safe to run twice for the same job (the lease may expire mid-run).
 */
typedef void (*job_handler)(db_conn *c, const job *j, job_result *out, void *ctx);

/** Registers the handler for kind (at start-up, before workers start). */
void job_register(const char *kind, job_handler fn, void *ctx, int lease_seconds);

/**
 * What must happen when one of a kind's jobs dies without its handler
 * having decided so: its last allowed attempt lost its lease, its payload
 * cannot be read, or the handler asked for a retry with no attempt left.
 * The job is already dead; the callback repairs whatever the job's state
 * stands for (a project left "generating", say). It runs on c with no
 * transaction open and gets the handler's ctx; j->payload may be NULL or
 * not an object. A handler that returns JOB_OUTCOME_FAIL has decided, and
 * the callback is not called.
 */
typedef void (*job_dead_fn)(db_conn *c, const job *j, const char *why, void *ctx);
/** Sets kind's dead-job callback; call it after job_register (which clears it). */
void job_on_dead(const char *kind, job_dead_fn fn);

/*
 * Added to the contract:
 *  - kind is 1-64 characters of [A-Za-z0-9._:-]; registering a kind again
 *    replaces its handler. lease_seconds <= 0 means 60. A process claims only
 *    the kinds registered in it, so a binary that lacks a kind (an older one
 *    during a rolling upgrade) leaves those jobs to others.
 *  - A unique_key stays taken after its job is done: enqueueing it again
 *    still returns the old job's id (unless unique_while_active).
 */

/**
 * Leases the most urgent runnable job of a registered kind: queued and due,
 * or running with its lease expired (its worker died). c must have no
 * transaction open. Returns 1 and fills j, whose payload the caller then owns
 * (json_decref), 0 when nothing is runnable, -1 on error. owner names the
 * process (host:pid); j->lease_owner is owner plus a token unique to this
 * lease. A job whose last allowed attempt lost its lease is marked dead
 * here instead of being returned.
 */
int job_claim(db_conn *c, const char *owner, job *j, error *err);

/**
 * An admin's retry of a dead job: back to queued, due now, attempts reset.
 * ERR_NOT_FOUND when there is no such job, ERR_CONFLICT when it is not dead.
 */
int job_requeue(db_conn *c, arena *a, const char *id, error *err);

/**
 * For admins: jobs newest first, filtered by status and kind when not NULL,
 * after cursor (the last id of the previous page), at most limit, into *out
 * (in a; written by job_record_row).
 */
int job_list(db_conn *c, arena *a, const char *status, const char *kind, const char *cursor,
             int limit, job_record **out, size_t *n, error *err);
/** For admins: one job; ERR_NOT_FOUND when absent. */
int job_get(db_conn *c, arena *a, const char *id, job_record *out, error *err);

/**
 * For a running handler: true once its job was taken back from it (the pool
 * stopped and its deadline passed, or the lease was lost to another worker).
 * Its job_complete() would fail; a long handler checks this between steps and
 * returns JOB_OUTCOME_RETRY early. False outside a pool's worker thread.
 */
bool job_cancelled(void);

/** Forgets every registered kind (tests that register their own). */
void job_unregister_all(void);

#endif
