#include "domain/idempotency_store.h"

#include "base/uuid.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_FIND =
    DB_SQL("SELECT fingerprint, status_code, response, created_at FROM idempotency_keys "
           "WHERE user_id = $1 AND idem_key = $2 AND expires_at > $3");
static db_sql Q_DROP_EXPIRED = DB_SQL(
    "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND expires_at <= $3");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO idempotency_keys (id, user_id, idem_key, fingerprint, status_code, "
           "response, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
static db_sql Q_PURGE = DB_SQL("DELETE FROM idempotency_keys WHERE expires_at <= $1");

static int idempotency__row(db_stmt *s, arena *a, void *arg, error *err)
{
    idempotency_row *out = arg;
    int bad = DB_COL_COPY(s, 0, out->fingerprint);
    out->status_code = (int)db_col_int64(s, 1);
    out->response = arena_strdup(a, db_col_text(s, 2));
    out->created_at = db_col_time(s, 3);
    return bad ? db_col_too_long(err, "idempotency fingerprint") : 0;
}

int idempotency_store_find(db_conn *c, arena *a, const char *user_id, const char *key, int64_t now,
                           idempotency_row *out, bool *found, error *err)
{
    int rc = db_first(c, &Q_FIND, DB_ARGS(DB_TEXT(user_id), DB_TEXT(key), DB_TIME(now)),
                      idempotency__row, a, out, err);
    *found = rc > 0;
    return rc < 0 ? -1 : 0;
}

int idempotency_store_insert(db_conn *c, const char *user_id, const char *key,
                             const char *fingerprint, int status_code, const char *response,
                             int64_t now, error *err)
{
    if (db_write(c, &Q_DROP_EXPIRED, DB_ARGS(DB_TEXT(user_id), DB_TEXT(key), DB_TIME(now)), NULL,
                 err) < 0)
        return -1;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    db_args args = DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TEXT(key), DB_TEXT(fingerprint),
                           DB_INT(status_code), DB_TEXT(response), DB_TIME(now),
                           DB_TIME(now + IDEMPOTENCY_TTL_USEC));
    if (db_write(c, &Q_INSERT, args, "Idempotency-Key", err) >= 0)
        return 0;
    if (db_last_fault(c) == DB_FAULT_UNIQUE)
        error_set(err, ERR_CONFLICT, "Idempotency-Key",
                  "another request with this Idempotency-Key is being answered; retry it "
                  "in a moment");
    return -1;
}

int idempotency_store_purge(db_conn *c, int64_t now, int64_t *deleted, error *err)
{
    *deleted = db_write(c, &Q_PURGE, DB_ARGS(DB_TIME(now)), NULL, err);
    if (*deleted >= 0)
        return 0;
    *deleted = 0;
    return -1;
}
