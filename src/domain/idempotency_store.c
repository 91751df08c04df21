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

int idempotency_store_find(db_conn *c, arena *a, const char *user_id, const char *key, int64_t now,
                           idempotency_row *out, bool *found, error *err)
{
    *found = false;
    db_error de;
    db_stmt *s = db_prepare(c, &Q_FIND, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, key);
    db_bind_time(s, 3, now);
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        *found = true;
        bad = DB_COL_COPY(s, 0, out->fingerprint);
        out->status_code = (int)db_col_int64(s, 1);
        out->response = arena_strdup(a, db_col_text(s, 2));
        out->created_at = db_col_time(s, 3);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "idempotency fingerprint") : 0;
}

int idempotency_store_insert(db_conn *c, const char *user_id, const char *key,
                             const char *fingerprint, int status_code, const char *response,
                             int64_t now, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_DROP_EXPIRED, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, key);
    db_bind_time(s, 3, now);
    int rc = db_exec(s, &de);
    db_reset(s);
    if (rc != 0)
        return db_to_error(err, &de, NULL);

    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    s = db_prepare(c, &Q_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, key);
    db_bind_text(s, 4, fingerprint);
    db_bind_int64(s, 5, status_code);
    db_bind_text(s, 6, response);
    db_bind_time(s, 7, now);
    db_bind_time(s, 8, now + IDEMPOTENCY_TTL_USEC);
    rc = db_exec(s, &de);
    db_reset(s);
    if (rc != 0) {
        db_to_error(err, &de, "Idempotency-Key");
        if (de.fault == DB_FAULT_UNIQUE)
            error_set(err, ERR_CONFLICT, "Idempotency-Key",
                      "another request with this Idempotency-Key is being answered; retry it "
                      "in a moment");
        return -1;
    }
    return 0;
}

int idempotency_store_purge(db_conn *c, int64_t now, int64_t *deleted, error *err)
{
    *deleted = 0;
    db_error de;
    db_stmt *s = db_prepare(c, &Q_PURGE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_time(s, 1, now);
    return db_run(s, deleted, err, NULL);
}
