/*
 * queue_private: what queue.c offers worker.c and nothing else includes
 * (tests may, to reach internals). queue.c owns the registry of kinds and the
 * state transitions; worker.c owns threads, heartbeats and the scheduler.
 * The dependency goes one way: worker.c calls the queue, and the queue
 * reaches this process's idle workers only through the waker worker.c
 * registers (job__set_local_waker), never by calling into worker.c.
 */
#ifndef PS_JOBS_QUEUE_PRIVATE_H
#define PS_JOBS_QUEUE_PRIVATE_H

#include "jobs/queue.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct job__kind {
    char kind[JOB_KIND_MAX + 1];
    job_handler fn;
    job_dead_fn dead; /* NULL: nothing to do when a job dies unhandled */
    void *ctx;
    int lease_seconds;
} job__kind;

/** Copies the registration of kind into out; false when it is not registered. */
bool job__lookup(const char *kind, job__kind *out);
/** Calls j's kind's dead-job callback, if it has one (j was just buried). */
void job__died(db_conn *c, const job *j, const char *why);

/**
 * Records a handler's failed outcome on the job it leased: dead for
 * JOB_OUTCOME_FAIL or when this was the last allowed attempt (*run_at = 0),
 * else queued again at *run_at. ERR_CONFLICT when the lease was lost.
 */
int job__record_failure(db_conn *c, const job *j, const job_result *r, int64_t *run_at, error *err);
/** Gives a leased job back to the queue, due now, the attempt not counted. */
int job__release(db_conn *c, const char *id, const char *lease_owner, error *err);
/**
 * Leases up to max runnable jobs at once, into jobs[0 … return-1], in claim
 * order, under one lease_owner (max 1: exactly job_claim). Every job after
 * the first is one not on its last attempt. Jobs buried at the claim (as
 * job_claim buries them) are not returned. Returns how many, 0 when none is
 * runnable, -1 on error; the payloads are the caller's.
 */
int job__claim_batch(db_conn *c, const char *owner, int max, job *jobs, error *err);
/**
 * Marks done, in one statement, the n jobs ids[] leased to lease_owner
 * whose handlers completed them with job_complete_alone; a job whose lease
 * is gone is left alone. Returns how many were marked, or -1.
 */
int job__complete_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                        const char *lease_owner, error *err);
/** Gives back, in one statement, jobs claimed but never started (queued,
 * due as before, the attempt not counted); wakes other workers. How many, or -1. */
int job__release_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                       const char *lease_owner, error *err);
/**
 * Sets, for the calling thread, what job_complete_alone() offers a job's
 * completion to before writing it itself: defer returns true when it took
 * the completion (to be written by job__complete_batch). NULL: none.
 * job_complete_alone offers it only for a job not on its last attempt.
 */
void job__set_thread_deferral(bool (*defer)(const job *j));
/** Heartbeat: the lease now ends lease_seconds from now. */
int job__extend(db_conn *c, const char *id, const char *lease_owner, int lease_seconds, error *err);
/** Delay before retrying after failed attempt number attempts (1-based), jittered. */
int64_t job__backoff_usec(int attempts);
/**
 * Sets what the queue calls to wake this process's idle workers when it
 * makes a job due (worker.c registers it when a pool starts); until then
 * there is no local worker to wake.
 */
void job__set_local_waker(void (*wake)(void));

#endif
