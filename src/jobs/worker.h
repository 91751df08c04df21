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
