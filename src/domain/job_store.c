#include "domain/job_store.h"

#include "base/alloc.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ON CONFLICT DO NOTHING leaves a taken unique_key alone, so a concurrent
 * enqueue of the same key waits for the first one's transaction instead of
 * failing it; RETURNING then yields no row. */
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO jobs (id, kind, payload, user_id, priority, status, run_at, attempts, "
           "max_attempts, unique_key, created_at, updated_at) "
           "VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $8, $9, $9) "
           "ON CONFLICT (unique_key) DO NOTHING RETURNING id");
static db_sql Q_BY_UNIQUE_KEY = DB_SQL("SELECT id FROM jobs WHERE unique_key = $1");
static db_sql Q_FREE_UNIQUE_KEY = DB_SQL("UPDATE jobs SET unique_key = NULL "
                                         "WHERE unique_key = $1 AND status IN ('done', 'dead')");
static db_sql Q_NOTIFY = DB_SQL("SELECT pg_notify('pstudio_jobs', '')");

/* The WHERE repeats the claim index's predicate (status IN …) word for word:
 * SQLite uses a partial index only when the query names its condition, and
 * is told to (its planner prefers the status index, then sorts every live
 * job). The lease expiry comes per kind from $3. */
#define JOB__CLAIMABLE                                                                             \
    "status IN ('queued', 'running') AND ((status = 'queued' AND run_at <= $2) OR "                \
    "(status = 'running' AND lease_expires_at < $2)) "
#define JOB__CLAIMED "RETURNING id, kind, payload, user_id, attempts, max_attempts"
static db_sql Q_CLAIM =
    DB_SQL2("UPDATE jobs SET status = 'running', lease_owner = $1, "
            "lease_expires_at = (SELECT value FROM json_each($3) WHERE key = jobs.kind), "
            "attempts = attempts + 1, updated_at = $2 "
            "WHERE id = (SELECT id FROM jobs INDEXED BY jobs_claim_idx WHERE " JOB__CLAIMABLE
            "AND kind IN (SELECT key FROM json_each($3)) "
            "ORDER BY priority DESC, run_at LIMIT 1) " JOB__CLAIMED,
            "UPDATE jobs SET status = 'running', lease_owner = $1, "
            "lease_expires_at = ($3::jsonb ->> kind)::timestamptz, "
            "attempts = attempts + 1, updated_at = $2 "
            "WHERE id = (SELECT id FROM jobs WHERE " JOB__CLAIMABLE "AND $3::jsonb ? kind "
            "ORDER BY priority DESC, run_at LIMIT 1 FOR UPDATE SKIP LOCKED) " JOB__CLAIMED);

#define JOB__LEASED "WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
static db_sql Q_COMPLETE = DB_SQL("UPDATE jobs SET status = 'done', lease_expires_at = NULL, "
                                  "finished_at = $3, updated_at = $3 " JOB__LEASED);
static db_sql Q_RETRY =
    DB_SQL("UPDATE jobs SET status = 'queued', run_at = $3, last_error = $4, "
           "lease_owner = NULL, lease_expires_at = NULL, updated_at = $5 " JOB__LEASED);
static db_sql Q_BURY =
    DB_SQL("UPDATE jobs SET status = 'dead', last_error = $3, "
           "lease_expires_at = NULL, finished_at = $4, updated_at = $4 " JOB__LEASED);
static db_sql Q_RELEASE =
    DB_SQL("UPDATE jobs SET status = 'queued', attempts = attempts - 1, "
           "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 " JOB__LEASED);
static db_sql Q_EXTEND = DB_SQL("UPDATE jobs SET lease_expires_at = $3 " JOB__LEASED);

static db_sql Q_REQUEUE = DB_SQL("UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, "
                                 "lease_owner = NULL, lease_expires_at = NULL, finished_at = NULL, "
                                 "updated_at = $2 WHERE id = $1 AND status = 'dead'");
static db_sql Q_STATUS = DB_SQL("SELECT status FROM jobs WHERE id = $1");

#define JOB__COLS                                                                                  \
    "id, kind, payload, user_id, priority, status, run_at, attempts, max_attempts, lease_owner, "  \
    "lease_expires_at, last_error, unique_key, created_at, updated_at, finished_at"
static db_sql Q_LIST =
    DB_SQL2("SELECT " JOB__COLS " FROM jobs WHERE ($1 IS NULL OR status = $1) "
            "AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
            "SELECT " JOB__COLS " FROM jobs WHERE ($1::text IS NULL OR status = $1::text) "
            "AND ($2::text IS NULL OR kind = $2::text) AND ($3::uuid IS NULL OR id < $3::uuid) "
            "ORDER BY id DESC LIMIT $4");
static db_sql Q_GET = DB_SQL("SELECT " JOB__COLS " FROM jobs WHERE id = $1");
static db_sql Q_PRUNE_DONE = DB_SQL("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE "
                                    "status = 'done' AND finished_at < $1 "
                                    "ORDER BY finished_at LIMIT $2)");

static int job__id_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    return db_col_copy(s, 0, out, UUID_STR_LEN + 1) != 0 ? db_col_too_long(err, "job id") : 0;
}

int job_store_insert(db_conn *c, const job_store_new *n, char id[UUID_STR_LEN + 1], bool *created,
                     error *err)
{
    if (n->unique_key != NULL && n->unique_while_active &&
        db_write(c, &Q_FREE_UNIQUE_KEY, DB_ARGS(DB_TEXT(n->unique_key)), NULL, err) < 0)
        return -1;
    int rc = db_first(c, &Q_INSERT,
                      DB_ARGS(DB_TEXT(id), DB_TEXT(n->kind), DB_TEXT(n->payload),
                              DB_TEXT(n->user_id), DB_INT(n->priority), DB_TIME(n->run_at),
                              DB_INT(n->max_attempts), DB_TEXT(n->unique_key), DB_TIME(n->now)),
                      NULL, NULL, NULL, err);
    if (rc < 0) {
        if (err != NULL && db_last_fault(c) == DB_FAULT_FOREIGN_KEY) /* the one key a job names */
            snprintf(err->field, sizeof(err->field), "user_id");
        return -1;
    }
    *created = rc > 0;
    if (*created)
        return 0;
    /* the holder of the key was deleted in between: no row */
    return db_one(c, &Q_BY_UNIQUE_KEY, DB_ARGS(DB_TEXT(n->unique_key)), job__id_row, NULL, id, err,
                  "unique_key",
                  "the job with unique key '%.100s' changed while enqueueing; try again",
                  n->unique_key);
}

int job_store_notify(db_conn *c, error *err)
{
    if (db_conn_engine(c) != DB_ENGINE_POSTGRES)
        return 0;
    return db_write(c, &Q_NOTIFY, DB_NOARGS, NULL, err) < 0 ? -1 : 0;
}

static int job__claimed_row(db_stmt *s, arena *a, void *arg, error *err)
{
    (void)a;
    job_store_claimed *out = arg;
    if ((DB_COL_COPY(s, 0, out->id) | DB_COL_COPY(s, 1, out->kind) |
         DB_COL_COPY(s, 3, out->user_id)) != 0)
        return db_col_too_long(err, "job");
    out->payload = xstrdup(db_col_text(s, 2));
    out->attempts = (int)db_col_int64(s, 4);
    out->max_attempts = (int)db_col_int64(s, 5);
    return 0;
}

int job_store_claim(db_conn *c, const char *lease_owner, int64_t now, const char *kinds_expiry,
                    job_store_claimed *out, error *err)
{
    return db_first(c, &Q_CLAIM, DB_ARGS(DB_TEXT(lease_owner), DB_TIME(now), DB_TEXT(kinds_expiry)),
                    job__claimed_row, NULL, out, err);
}

/* Runs one lease-conditioned transition; ERR_CONFLICT when no row matched. */
static int job__leased_write(db_conn *c, db_sql *q, db_args args, const char *id, error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_CONFLICT, NULL,
                         "job %s is no longer leased to this worker (its lease expired or was "
                         "released, and the job may be running elsewhere)",
                         id);
    return changed < 0 ? -1 : 0;
}

int job_store_complete(db_conn *c, const char *id, const char *lease_owner, int64_t now, error *err)
{
    return job__leased_write(c, &Q_COMPLETE,
                             DB_ARGS(DB_TEXT(id), DB_TEXT(lease_owner), DB_TIME(now)), id, err);
}

int job_store_retry(db_conn *c, const char *id, const char *lease_owner, int64_t run_at,
                    const char *last_error, int64_t now, error *err)
{
    return job__leased_write(c, &Q_RETRY,
                             DB_ARGS(DB_TEXT(id), DB_TEXT(lease_owner), DB_TIME(run_at),
                                     DB_TEXT(last_error), DB_TIME(now)),
                             id, err);
}

int job_store_bury(db_conn *c, const char *id, const char *lease_owner, const char *last_error,
                   int64_t now, error *err)
{
    return job__leased_write(
        c, &Q_BURY, DB_ARGS(DB_TEXT(id), DB_TEXT(lease_owner), DB_TEXT(last_error), DB_TIME(now)),
        id, err);
}

int job_store_release(db_conn *c, const char *id, const char *lease_owner, int64_t now, error *err)
{
    return job__leased_write(c, &Q_RELEASE,
                             DB_ARGS(DB_TEXT(id), DB_TEXT(lease_owner), DB_TIME(now)), id, err);
}

int job_store_extend(db_conn *c, const char *id, const char *lease_owner, int64_t expires_at,
                     error *err)
{
    return job__leased_write(
        c, &Q_EXTEND, DB_ARGS(DB_TEXT(id), DB_TEXT(lease_owner), DB_TIME(expires_at)), id, err);
}

int job_store_prune_done(db_conn *c, int64_t before, int limit, int64_t *deleted, error *err)
{
    *deleted = db_write(c, &Q_PRUNE_DONE, DB_ARGS(DB_TIME(before), DB_INT(limit)), NULL, err);
    if (*deleted >= 0)
        return 0;
    *deleted = 0;
    return -1;
}

/* The status into a char[16]; one that does not fit is reported as "not dead". */
static int job__status_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    if (db_col_copy(s, 0, out, 16) != 0)
        snprintf(out, 16, "not dead");
    return 0;
}

int job_store_requeue(db_conn *c, const char *id, int64_t now, error *err)
{
    int64_t changed = db_write(c, &Q_REQUEUE, DB_ARGS(DB_TEXT(id), DB_TIME(now)), NULL, err);
    if (changed < 0)
        return -1;
    if (changed == 1)
        return 0;
    char status[16] = "";
    if (db_one(c, &Q_STATUS, DB_ARGS(DB_TEXT(id)), job__status_row, NULL, status, err, NULL,
               "no job with id '%s'", id) != 0)
        return -1;
    return error_set(err, ERR_CONFLICT, "status", "job %s is %s; only a dead job can be requeued",
                     id, status);
}

static json_t *job__time(db_stmt *s, int i)
{
    if (db_col_is_null(s, i))
        return json_null();
    char t[TIME_STR_LEN + 1];
    time_format(db_col_time(s, i), t);
    return json_string(t);
}

static json_t *job__text(db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t ? json_string(t) : json_null();
}

static json_t *job__row(db_stmt *s)
{
    json_t *payload = json_loads(db_col_text(s, 2), 0, NULL);
    return json_pack("{s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
                     job__text(s, 0), "kind", job__text(s, 1), "payload",
                     payload ? payload : json_object(), "user_id", job__text(s, 3), "priority",
                     (json_int_t)db_col_int64(s, 4), "status", job__text(s, 5), "run_at",
                     job__time(s, 6), "attempts", (json_int_t)db_col_int64(s, 7), "max_attempts",
                     (json_int_t)db_col_int64(s, 8), "lease_owner", job__text(s, 9),
                     "lease_expires_at", job__time(s, 10), "last_error", job__text(s, 11),
                     "unique_key", job__text(s, 12), "created_at", job__time(s, 13), "updated_at",
                     job__time(s, 14), "finished_at", job__time(s, 15));
}

static int job__json_row(db_stmt *s, arena *a, void *arr, error *err)
{
    (void)a;
    (void)err;
    json_array_append_new(arr, job__row(s));
    return 0;
}

/* Runs q into a new JSON array of rows in *out. */
static int job__collect(db_conn *c, db_sql *q, db_args args, json_t **out, error *err)
{
    json_t *arr = json_array();
    if (db_each(c, q, args, job__json_row, NULL, arr, err) != 0) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

int job_store_list(db_conn *c, const char *status, const char *kind, const char *cursor, int limit,
                   json_t **out, error *err)
{
    return job__collect(c, &Q_LIST,
                        DB_ARGS(DB_TEXT(status), DB_TEXT(kind), DB_TEXT(cursor), DB_INT(limit)),
                        out, err);
}

int job_store_get(db_conn *c, const char *id, json_t **out, error *err)
{
    json_t *arr;
    if (job__collect(c, &Q_GET, DB_ARGS(DB_TEXT(id)), &arr, err) != 0)
        return -1;
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return error_set(err, ERR_NOT_FOUND, NULL, "no job with id '%s'", id);
    }
    *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return 0;
}
