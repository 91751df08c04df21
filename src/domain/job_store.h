/*
 * job_store: the jobs table, which is the durable queue (jobs/queue.h holds
 * the protocol; every statement on the table lives here). A job's life is
 * queued → running (leased) → done | dead, with a failed attempt going back
 * to queued at a later run_at. Every transition out of running is
 * conditioned on the lease: the row must still be running under the same
 * lease owner, so a worker whose lease expired or was released cannot move
 * the job, and the caller gets ERR_CONFLICT instead. Times are bound from
 * the caller's clock, never the database's, so both engines agree and tests
 * can reason about order.
 */
#ifndef PS_DOMAIN_JOB_STORE_H
#define PS_DOMAIN_JOB_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const char *const job_statuses[]; /* queued, running, done, dead; NULL-terminated */

/* A row of the jobs table, as the admin views show it; texts in the
 * reader's arena. */
typedef struct job_record {
    char id[UUID_STR_LEN + 1];
    const char *kind;
    const char *payload; /* a JSON object's text */
    const char *user_id; /* NULL: the job belongs to no user */
    int priority;
    const char *status; /* job_statuses */
    int64_t run_at;
    int attempts;
    int max_attempts;
    const char *lease_owner;  /* NULL: never leased, or released */
    int64_t lease_expires_at; /* 0: not leased */
    const char *last_error;
    const char *unique_key;
    int64_t created_at;
    int64_t updated_at;
    int64_t finished_at; /* 0: not finished */
} job_record;

/* The jobs table: its columns, as the admin views write them. */
extern const row_spec job_record_row;

/* A new job, as job_store_insert() writes it. */
typedef struct job_store_new {
    const char *kind;
    const char *payload; /* JSON object text */
    const char *user_id; /* NULL: none */
    int priority;
    int64_t run_at;
    int max_attempts;
    const char *unique_key; /* NULL: no dedup */
    /* A finished (done or dead) job holding unique_key gives it up first, so
     * the key only dedupes against jobs still queued or running. */
    bool unique_while_active;
    int64_t now;
} job_store_new;

/* A job just leased by job_store_claim(). */
typedef struct job_store_claimed {
    char id[UUID_STR_LEN + 1];
    char kind[JOB_KIND_MAX + 1];
    char *payload; /* JSON text, malloc'd: the caller frees it */
    char user_id[UUID_STR_LEN + 1];
    int attempts; /* including the one just started */
    int max_attempts;
    int priority;
    int64_t run_at;
} job_store_claimed;

/**
 * Inserts the job with id (the caller's fresh UUIDv7). When unique_key is
 * already taken, by a job in any state (with unique_while_active, by a job
 * still queued or running), nothing is inserted and id is overwritten with
 * that job's id; *created says which happened.
 */
int job_store_insert(db_conn *c, const job_store_new *n, char id[UUID_STR_LEN + 1], bool *created,
                     error *err);
/** On PostgreSQL, signals the workers' channel; delivered when c's transaction commits. */
int job_store_notify(db_conn *c, error *err);

/**
 * Leases the most urgent job among those whose kind is a key of
 * kinds_expiry (a JSON object: kind → the lease expiry for that kind, as an
 * RFC 3339 time): queued with run_at <= now, or running with its lease
 * expired. Priority first, then run_at. Returns 1 and fills out, 0 when
 * none is runnable, -1 on error. On SQLite the caller holds the write lock
 * (db_begin_write); on PostgreSQL rows leased by others are skipped.
 */
int job_store_claim(db_conn *c, const char *lease_owner, int64_t now, const char *kinds_expiry,
                    job_store_claimed *out, error *err);

/**
 * Leases up to max jobs at once under one lease_owner: the one
 * job_store_claim() would lease, then the next most urgent ones that are
 * not on their last attempt (so a worker killed before it started them
 * costs them an attempt, never their last). Fills out[0 … return-1] in
 * claim order (priority, then run_at); their payloads are the caller's to
 * free. Returns how many (0: none runnable), -1 on error. Locking as for
 * job_store_claim().
 */
int job_store_claim_batch(db_conn *c, const char *lease_owner, int64_t now,
                          const char *kinds_expiry, int max, job_store_claimed *out, error *err);

/* Transitions out of running, each conditioned on (id, lease_owner,
 * status 'running'); ERR_CONFLICT when the lease is no longer the caller's. */

/** running → done. last_error is kept: it tells what the earlier attempts hit. */
int job_store_complete(db_conn *c, const char *id, const char *lease_owner, int64_t now,
                       error *err);
/** running → queued at run_at, with last_error. */
int job_store_retry(db_conn *c, const char *id, const char *lease_owner, int64_t run_at,
                    const char *last_error, int64_t now, error *err);
/** running → dead, with last_error. */
int job_store_bury(db_conn *c, const char *id, const char *lease_owner, const char *last_error,
                   int64_t now, error *err);
/** running → queued now, lease cleared and the attempt not counted (a graceful stop). */
int job_store_release(db_conn *c, const char *id, const char *lease_owner, int64_t now, error *err);
/** Moves the lease expiry while the handler runs (a heartbeat). */
int job_store_extend(db_conn *c, const char *id, const char *lease_owner, int64_t expires_at,
                     error *err);

/* The batch forms, for the n jobs ids[] leased to lease_owner together: each
 * moves only a job still running under that lease (the others were taken
 * back or expired and may be running elsewhere). They return how many
 * jobs moved, or -1 with err filled. */

/** running → done, for jobs whose handlers had nothing to commit with it. */
int64_t job_store_complete_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                                 const char *lease_owner, int64_t now, error *err);
/** running → queued, lease cleared, the attempt not counted (claimed, never started). */
int64_t job_store_release_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                                const char *lease_owner, int64_t now, error *err);

/** Deletes up to limit jobs that finished ('done') before `before`, oldest
 * first; *deleted says how many. Dead jobs stay for an admin to see. */
int job_store_prune_done(db_conn *c, int64_t before, int limit, int64_t *deleted, error *err);
/**
 * dead → queued now with attempts reset. ERR_NOT_FOUND when there is no such
 * job, ERR_CONFLICT when it is not dead (its status read into a).
 */
int job_store_requeue(db_conn *c, arena *a, const char *id, int64_t now, error *err);

/**
 * Admin listing, newest first: status and kind filter when not NULL, cursor
 * is the last id of the previous page, at most limit rows into *out (in a).
 */
int job_store_list(db_conn *c, arena *a, const char *status, const char *kind, const char *cursor,
                   int limit, job_record **out, size_t *n, error *err);
/** One job; ERR_NOT_FOUND when absent. */
int job_store_get(db_conn *c, arena *a, const char *id, job_record *out, error *err);

#endif
