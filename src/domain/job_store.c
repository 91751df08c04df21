#include "domain/job_store.h"

#include "base/alloc.h"
#include "base/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const job_statuses[] = {"queued", "running", "done", "dead", NULL};

/* Every column, in the order the admin views write them; none is a
 * client's to write (jobs are made by the queue). */
static const row_col job__cols[] = {
    ROW_COL(job_record, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(job_record, kind, ROW_TEXT, 0, 1, JOB_KIND_MAX),
    ROW_COL(job_record, payload, ROW_JSON, 0, 0, 0),
    ROW_COL(job_record, user_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(job_record, priority, ROW_INT, 0, 0, 0),
    ROW_ENUM_COL(job_record, status, 0, job_statuses),
    ROW_COL(job_record, run_at, ROW_TIME, 0, 0, 0),
    ROW_COL(job_record, attempts, ROW_INT, 0, 0, 0),
    ROW_COL(job_record, max_attempts, ROW_INT, 0, 0, 0),
    ROW_COL(job_record, lease_owner, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(job_record, lease_expires_at, ROW_TIME, ROW_NULLABLE, 0, 0),
    ROW_COL(job_record, last_error, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(job_record, unique_key, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(job_record, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(job_record, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(job_record, finished_at, ROW_TIME, ROW_NULLABLE, 0, 0),
};
const row_spec job_record_row = ROW_SPEC(job_record, "job", job__cols);

#define JOB_COLS                                                                                   \
    "id, kind, payload, user_id, priority, status, run_at, attempts, max_attempts, lease_owner, "  \
    "lease_expires_at, last_error, unique_key, created_at, updated_at, finished_at"
#define JOB_INSERT                                                                                 \
    "id, kind, payload, user_id, priority, status, run_at, attempts, max_attempts, unique_key, "   \
    "created_at, updated_at"

/* ON CONFLICT DO NOTHING leaves a taken unique_key alone, so a concurrent
 * enqueue of the same key waits for the first one's transaction instead of
 * failing it; RETURNING then yields no row. */
static db_sql Q_INSERT = DB_SQL("INSERT INTO jobs (" JOB_INSERT ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
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

/* The batch claim: the most urgent claimable job, as Q_CLAIM takes it, and
 * up to $4 more after it in the same order, leased together under one
 * owner. The more are never on their last attempt (attempts + 1 <
 * max_attempts): a claimed job that is still waiting its turn when its
 * worker is killed loses the attempt the claim counted, and that must not
 * bury it unrun; such a job is left for the next claim, which takes it
 * first. The rows come back in no order (RETURNING has none): the caller
 * sorts them by priority and run_at. */
#define JOB__CLAIMED_BATCH JOB__CLAIMED ", priority, run_at"
static db_sql Q_CLAIM_BATCH =
    DB_SQL2("WITH first AS (SELECT id FROM jobs INDEXED BY jobs_claim_idx WHERE " JOB__CLAIMABLE
            "AND kind IN (SELECT key FROM json_each($3)) ORDER BY priority DESC, run_at LIMIT 1), "
            "more AS (SELECT id FROM jobs INDEXED BY jobs_claim_idx WHERE " JOB__CLAIMABLE
            "AND kind IN (SELECT key FROM json_each($3)) AND attempts + 1 < max_attempts "
            "AND id NOT IN (SELECT id FROM first) ORDER BY priority DESC, run_at LIMIT $4) "
            "UPDATE jobs SET status = 'running', lease_owner = $1, "
            "lease_expires_at = (SELECT value FROM json_each($3) WHERE key = jobs.kind), "
            "attempts = attempts + 1, updated_at = $2 "
            "WHERE id IN (SELECT id FROM first UNION ALL SELECT id FROM more) " JOB__CLAIMED_BATCH,
            "WITH first AS (SELECT id FROM jobs WHERE " JOB__CLAIMABLE "AND $3::jsonb ? kind "
            "ORDER BY priority DESC, run_at LIMIT 1 FOR UPDATE SKIP LOCKED), "
            "more AS (SELECT id FROM jobs WHERE " JOB__CLAIMABLE "AND $3::jsonb ? kind "
            "AND attempts + 1 < max_attempts AND id NOT IN (SELECT id FROM first) "
            "ORDER BY priority DESC, run_at LIMIT $4 FOR UPDATE SKIP LOCKED) "
            "UPDATE jobs SET status = 'running', lease_owner = $1, "
            "lease_expires_at = ($3::jsonb ->> kind)::timestamptz, "
            "attempts = attempts + 1, updated_at = $2 "
            "WHERE id IN (SELECT id FROM first UNION ALL SELECT id FROM more) " JOB__CLAIMED_BATCH);

/* $1 id, $2 lease_owner, then the columns each transition names (job__leased). */
#define JOB__LEASED "WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
static db_sql Q_COMPLETE = DB_SQL("UPDATE jobs SET status = 'done', lease_expires_at = NULL, "
                                  "finished_at = $3, updated_at = $4 " JOB__LEASED);
static db_sql Q_RETRY =
    DB_SQL("UPDATE jobs SET status = 'queued', run_at = $3, last_error = $4, "
           "lease_owner = NULL, lease_expires_at = NULL, updated_at = $5 " JOB__LEASED);
static db_sql Q_BURY =
    DB_SQL("UPDATE jobs SET status = 'dead', last_error = $3, "
           "lease_expires_at = NULL, finished_at = $4, updated_at = $5 " JOB__LEASED);
static db_sql Q_RELEASE =
    DB_SQL("UPDATE jobs SET status = 'queued', attempts = attempts - 1, "
           "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 " JOB__LEASED);
static db_sql Q_EXTEND = DB_SQL("UPDATE jobs SET lease_expires_at = $3 " JOB__LEASED);

/* The batch forms of complete and release: $1 a JSON array of ids, all
 * leased to $2. A job whose lease is no longer $2's is left alone. */
#define JOB__LEASED_BATCH "AND lease_owner = $2 AND status = 'running'"
static db_sql Q_COMPLETE_BATCH =
    DB_SQL2("UPDATE jobs SET status = 'done', lease_expires_at = NULL, finished_at = $3, "
            "updated_at = $3 WHERE id IN (SELECT value FROM json_each($1)) " JOB__LEASED_BATCH,
            "UPDATE jobs SET status = 'done', lease_expires_at = NULL, finished_at = $3, "
            "updated_at = $3 WHERE id IN (SELECT value::uuid FROM "
            "jsonb_array_elements_text($1::jsonb)) " JOB__LEASED_BATCH);
static db_sql Q_RELEASE_BATCH =
    DB_SQL2("UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = $3 "
            "WHERE id IN (SELECT value FROM json_each($1)) " JOB__LEASED_BATCH,
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = $3 WHERE id IN (SELECT value::uuid FROM "
            "jsonb_array_elements_text($1::jsonb)) " JOB__LEASED_BATCH);

static db_sql Q_REQUEUE = DB_SQL("UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, "
                                 "lease_owner = NULL, lease_expires_at = NULL, finished_at = NULL, "
                                 "updated_at = $3 WHERE id = $1 AND status = 'dead'");
static db_sql Q_STATUS = DB_SQL("SELECT status FROM jobs WHERE id = $1");

static db_sql Q_LIST =
    DB_SQL2("SELECT " JOB_COLS " FROM jobs WHERE ($1 IS NULL OR status = $1) "
            "AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
            "SELECT " JOB_COLS " FROM jobs WHERE ($1::text IS NULL OR status = $1::text) "
            "AND ($2::text IS NULL OR kind = $2::text) AND ($3::uuid IS NULL OR id < $3::uuid) "
            "ORDER BY id DESC LIMIT $4");
static db_sql Q_GET = DB_SQL("SELECT " JOB_COLS " FROM jobs WHERE id = $1");
static db_sql Q_PRUNE_DONE = DB_SQL("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE "
                                    "status = 'done' AND finished_at < $1 "
                                    "ORDER BY finished_at LIMIT $2)");

static int job__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&job_record_row, s, a, out, err);
}

/* The row of job id (its id alone is copied: lease transitions name the
 * job by id and owner). */
static job_record job__at(const char *id, const char *lease_owner)
{
    job_record r = {.lease_owner = lease_owner};
    text_copy(r.id, sizeof(r.id), id);
    return r;
}

int job_store_insert(db_conn *c, const job_store_new *n, char id[UUID_STR_LEN + 1], bool *created,
                     error *err)
{
    if (n->unique_key != NULL && n->unique_while_active &&
        db_write(c, &Q_FREE_UNIQUE_KEY, DB_ARGS(DB_TEXT(n->unique_key)), NULL, err) < 0)
        return -1;
    job_record r = job__at(id, NULL);
    r.kind = n->kind;
    r.payload = n->payload;
    r.user_id = n->user_id;
    r.priority = n->priority;
    r.status = "queued";
    r.run_at = n->run_at;
    r.max_attempts = n->max_attempts;
    r.unique_key = n->unique_key;
    r.created_at = r.updated_at = n->now;
    row_argv av;
    int rc = db_first(c, &Q_INSERT, row_args(&job_record_row, &r, JOB_INSERT, NULL, &av), NULL,
                      NULL, NULL, err);
    if (rc < 0) {
        if (err != NULL && db_last_fault(c) == DB_FAULT_FOREIGN_KEY) /* the one key a job names */
            snprintf(err->field, sizeof(err->field), "user_id");
        return -1;
    }
    *created = rc > 0;
    if (*created)
        return 0;
    /* the holder of the key was deleted in between: no row (only the id is
     * read, into the struct's own buffer: no arena needed) */
    if (db_one(c, &Q_BY_UNIQUE_KEY, DB_ARGS(DB_TEXT(n->unique_key)), job__row, NULL, &r, err,
               "unique_key", "the job with unique key '%.100s' changed while enqueueing; try again",
               n->unique_key) != 0)
        return -1;
    memcpy(id, r.id, sizeof(r.id));
    return 0;
}

int job_store_notify(db_conn *c, error *err)
{
    if (db_conn_engine(c) != DB_ENGINE_POSTGRES)
        return 0;
    return db_write(c, &Q_NOTIFY, DB_NOARGS, NULL, err) < 0 ? -1 : 0;
}

/* Fills out from a claimed row (r's texts are in the reader's arena). */
static int job__claimed(const job_record *r, job_store_claimed *out, error *err)
{
    if (text_copy(out->kind, sizeof(out->kind), r->kind) != 0) /* the schema holds it */
        return db_col_too_long(err, "job kind");
    memcpy(out->id, r->id, sizeof(out->id));
    text_copy(out->user_id, sizeof(out->user_id), r->user_id ? r->user_id : "");
    out->payload = xstrdup(r->payload);
    out->attempts = r->attempts;
    out->max_attempts = r->max_attempts;
    out->priority = r->priority;
    out->run_at = r->run_at;
    return 0;
}

/* Claim order: priority first, then run_at. */
static int job__claim_order(const void *a, const void *b)
{
    const job_store_claimed *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    if (x->run_at != y->run_at)
        return x->run_at < y->run_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

int job_store_claim(db_conn *c, const char *lease_owner, int64_t now, const char *kinds_expiry,
                    job_store_claimed *out, error *err)
{
    arena a;
    arena_init(&a, 1024);
    job_record r;
    int rc =
        db_first(c, &Q_CLAIM, DB_ARGS(DB_TEXT(lease_owner), DB_TIME(now), DB_TEXT(kinds_expiry)),
                 job__row, &a, &r, err);
    if (rc > 0 && job__claimed(&r, out, err) != 0)
        rc = -1;
    arena_free(&a);
    return rc;
}

int job_store_claim_batch(db_conn *c, const char *lease_owner, int64_t now,
                          const char *kinds_expiry, int max, job_store_claimed *out, error *err)
{
    arena a;
    arena_init(&a, 4096);
    job_record *rows = NULL;
    size_t n = 0;
    int rc =
        db_list(c, &Q_CLAIM_BATCH,
                DB_ARGS(DB_TEXT(lease_owner), DB_TIME(now), DB_TEXT(kinds_expiry), DB_INT(max - 1)),
                job__row, &a, sizeof(*rows), (size_t)max, &rows, &n, err);
    int got = 0;
    for (size_t i = 0; rc == 0 && i < n && got < max; i++) {
        if (job__claimed(&rows[i], &out[got], err) != 0)
            rc = -1;
        else
            got++;
    }
    arena_free(&a);
    if (rc != 0) {
        for (int i = 0; i < got; i++)
            free(out[i].payload);
        return -1;
    }
    qsort(out, (size_t)got, sizeof(*out), job__claim_order);
    return got;
}

/* Runs one lease-conditioned transition of r's job, binding $1 id, $2
 * lease_owner and the columns in names; ERR_CONFLICT when no row matched. */
static int job__leased(db_conn *c, db_sql *q, const job_record *r, const char *names, error *err)
{
    row_argv av;
    int64_t changed = db_write(c, q, row_args(&job_record_row, r, names, NULL, &av), NULL, err);
    if (changed == 0)
        return error_set(err, ERR_CONFLICT, NULL,
                         "job %s is no longer leased to this worker (its lease expired or was "
                         "released, and the job may be running elsewhere)",
                         r->id);
    return changed < 0 ? -1 : 0;
}

int job_store_complete(db_conn *c, const char *id, const char *lease_owner, int64_t now, error *err)
{
    job_record r = job__at(id, lease_owner);
    r.finished_at = r.updated_at = now;
    return job__leased(c, &Q_COMPLETE, &r, "id, lease_owner, finished_at, updated_at", err);
}

int job_store_retry(db_conn *c, const char *id, const char *lease_owner, int64_t run_at,
                    const char *last_error, int64_t now, error *err)
{
    job_record r = job__at(id, lease_owner);
    r.run_at = run_at;
    r.last_error = last_error;
    r.updated_at = now;
    return job__leased(c, &Q_RETRY, &r, "id, lease_owner, run_at, last_error, updated_at", err);
}

int job_store_bury(db_conn *c, const char *id, const char *lease_owner, const char *last_error,
                   int64_t now, error *err)
{
    job_record r = job__at(id, lease_owner);
    r.last_error = last_error;
    r.finished_at = r.updated_at = now;
    return job__leased(c, &Q_BURY, &r, "id, lease_owner, last_error, finished_at, updated_at", err);
}

int job_store_release(db_conn *c, const char *id, const char *lease_owner, int64_t now, error *err)
{
    job_record r = job__at(id, lease_owner);
    r.updated_at = now;
    return job__leased(c, &Q_RELEASE, &r, "id, lease_owner, updated_at", err);
}

int job_store_extend(db_conn *c, const char *id, const char *lease_owner, int64_t expires_at,
                     error *err)
{
    job_record r = job__at(id, lease_owner);
    r.lease_expires_at = expires_at;
    return job__leased(c, &Q_EXTEND, &r, "id, lease_owner, lease_expires_at", err);
}

/* A JSON array of n ids. */
static char *job__id_array(const char (*ids)[UUID_STR_LEN + 1], int n)
{
    size_t len = (size_t)n * (UUID_STR_LEN + 3) + 3;
    char *s = xmalloc(len), *p = s;
    *p++ = '[';
    for (int i = 0; i < n; i++)
        p += snprintf(p, len - (size_t)(p - s), "%s\"%s\"", i ? "," : "", ids[i]);
    snprintf(p, len - (size_t)(p - s), "]");
    return s;
}

static int64_t job__batch(db_conn *c, db_sql *q, const char (*ids)[UUID_STR_LEN + 1], int n,
                          const char *lease_owner, int64_t now, error *err)
{
    char *array = job__id_array(ids, n);
    int64_t changed =
        db_write(c, q, DB_ARGS(DB_TEXT(array), DB_TEXT(lease_owner), DB_TIME(now)), NULL, err);
    free(array);
    return changed;
}

int64_t job_store_complete_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                                 const char *lease_owner, int64_t now, error *err)
{
    return job__batch(c, &Q_COMPLETE_BATCH, ids, n, lease_owner, now, err);
}

int64_t job_store_release_batch(db_conn *c, const char (*ids)[UUID_STR_LEN + 1], int n,
                                const char *lease_owner, int64_t now, error *err)
{
    return job__batch(c, &Q_RELEASE_BATCH, ids, n, lease_owner, now, err);
}

int job_store_prune_done(db_conn *c, int64_t before, int limit, int64_t *deleted, error *err)
{
    *deleted = db_write(c, &Q_PRUNE_DONE, DB_ARGS(DB_TIME(before), DB_INT(limit)), NULL, err);
    if (*deleted >= 0)
        return 0;
    *deleted = 0;
    return -1;
}

int job_store_requeue(db_conn *c, arena *a, const char *id, int64_t now, error *err)
{
    job_record r = job__at(id, NULL);
    r.run_at = r.updated_at = now;
    row_argv av;
    int64_t changed =
        db_write(c, &Q_REQUEUE, row_args(&job_record_row, &r, "id, run_at, updated_at", NULL, &av),
                 NULL, err);
    if (changed < 0)
        return -1;
    if (changed == 1)
        return 0;
    if (db_one(c, &Q_STATUS, DB_ARGS(DB_TEXT(id)), job__row, a, &r, err, NULL,
               "no job with id '%s'", id) != 0)
        return -1;
    return error_set(err, ERR_CONFLICT, "status", "job %s is %s; only a dead job can be requeued",
                     id, r.status);
}

int job_store_list(db_conn *c, arena *a, const char *status, const char *kind, const char *cursor,
                   int limit, job_record **out, size_t *n, error *err)
{
    return db_list(c, &Q_LIST,
                   DB_ARGS(DB_TEXT(status), DB_TEXT(kind), DB_TEXT(cursor), DB_INT(limit)),
                   job__row, a, sizeof(**out), (size_t)limit, out, n, err);
}

int job_store_get(db_conn *c, arena *a, const char *id, job_record *out, error *err)
{
    return db_one(c, &Q_GET, DB_ARGS(DB_TEXT(id)), job__row, a, out, err, NULL,
                  "no job with id '%s'", id);
}
