/*
 * worker: the threads that run jobs, and the scheduler of periodic jobs.
 * `pstudio serve` runs a pool in-process; `pstudio worker` runs only this.
 * Stopping lets running handlers finish (up to a deadline), then releases
 * the leases of whatever did not, so another worker picks them up at once.
 */
#ifndef PS_JOBS_WORKER_H
#define PS_JOBS_WORKER_H

#include "base/error.h"
#include "db/db.h"

#include <stdint.h>

typedef struct job_pool job_pool;

/** Starts n worker threads on d; owner names this process in leases (host:pid). */
job_pool *job_pool_start(db *d, int n, const char *owner, error *err);

/*
 * Added to the contract: claims in batches. A worker leases up to `batch`
 * jobs in one statement and runs them in claim order; completions made with
 * job_complete_alone are written for the whole batch in one statement after
 * the handlers return (job_complete inside a handler's own transaction is
 * unchanged). Jobs still waiting their turn 100 ms after the claim go back
 * to the queue for any idle worker, so none waits long behind a slow one;
 * after a batch that took longer than that a worker claims one job, and
 * doubles from there while batches stay quick, so slow jobs are claimed one
 * at a time. Stopping gives back the claimed jobs not started. batch 1
 * runs exactly the one-job claim and completion of job_pool_start before
 * batches (for comparison).
 */
#define JOB_POOL_BATCH_DEFAULT 16
#define JOB_POOL_BATCH_MAX     256
/** job_pool_start with up to batch (1 to JOB_POOL_BATCH_MAX) jobs per claim. */
job_pool *job_pool_start_batch(db *d, int n, int batch, const char *owner, error *err);
/**
 * Stops claiming, waits up to deadline_ms for running jobs, releases the rest
 * (queued again, the attempt not counted), frees. A handler still running
 * after that sees job_cancelled() and cannot commit; stop waits for it to
 * return. p may be NULL.
 */
void job_pool_stop(job_pool *p, int deadline_ms);

/**
 * Declares a periodic job: every period_seconds a job of kind with payload is
 * enqueued, at most once per period across every process sharing the
 * database (the period's index is part of the job's unique key).
 */
void job_schedule(const char *kind, int period_seconds, const char *payload_json);

/* Added to the contract: */

/** Forgets every schedule (tests); no pool may be running. */
void job_unschedule_all(void);

/**
 * Claims one runnable job and runs it to its outcome on the calling thread,
 * without heartbeats: 1 when a job ran, 0 when none was runnable, -1 on
 * error. For tests and tools that step the queue deterministically.
 */
int job_work_one(db *d, const char *owner, error *err);

#endif
