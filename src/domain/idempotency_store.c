#include "domain/idempotency_store.h"

#include "domain/row.h"

/* Written once, in the transaction of the work it answers; read back by
 * the same user's retry. */
static const row_col idempotency__cols[] = {
    ROW_COL(idempotency_row, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(idempotency_row, user_id, ROW_UUID, 0, 0, 0),
    ROW_COL(idempotency_row, idem_key, ROW_TEXT, 0, 1, IDEMPOTENCY_KEY_MAX),
    ROW_COL(idempotency_row, fingerprint, ROW_TEXT, 0, IDEMPOTENCY_FINGERPRINT,
            IDEMPOTENCY_FINGERPRINT),
    ROW_COL(idempotency_row, status_code, ROW_INT, 0, 0, 0),
    ROW_COL(idempotency_row, response, ROW_TEXT, 0, 0, 0),
    ROW_COL(idempotency_row, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(idempotency_row, expires_at, ROW_TIME, 0, 0, 0),
};
static const row_spec idempotency__row_spec =
    ROW_SPEC(idempotency_row, "idempotency key", idempotency__cols);

#define IDEMPOTENCY_INSERT                                                                         \
    "id, user_id, idem_key, fingerprint, status_code, response, created_at, expires_at"

static db_sql Q_FIND =
    DB_SQL("SELECT fingerprint, status_code, response, created_at FROM idempotency_keys "
           "WHERE user_id = $1 AND idem_key = $2 AND expires_at > $3");
static db_sql Q_DROP_EXPIRED = DB_SQL(
    "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND expires_at <= $3");
static db_sql Q_INSERT = DB_SQL("INSERT INTO idempotency_keys (" IDEMPOTENCY_INSERT ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
static db_sql Q_PURGE = DB_SQL("DELETE FROM idempotency_keys WHERE expires_at <= $1");

static int idempotency__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&idempotency__row_spec, s, a, out, err);
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
    idempotency_row r = {.user_id = user_id,
                         .idem_key = key,
                         .fingerprint = fingerprint,
                         .status_code = status_code,
                         .response = response,
                         .created_at = now,
                         .expires_at = now + IDEMPOTENCY_TTL_USEC};
    uuid_v7(r.id);
    row_argv av;
    if (db_write(c, &Q_INSERT, row_args(&idempotency__row_spec, &r, IDEMPOTENCY_INSERT, NULL, &av),
                 "Idempotency-Key", err) >= 0)
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
