#include "domain/apikey_store.h"

#include "base/text.h"
#include "base/uuid.h"

#include <string.h>

static db_sql Q_KEY_INSERT =
    DB_SQL("INSERT INTO api_keys (id, user_id, name, prefix, token_hash, created_at) "
           "VALUES ($1, $2, $3, $4, $5, $6)");
static db_sql Q_KEY_LOOKUP =
    DB_SQL("SELECT k.id, k.name, k.prefix, k.created_at, k.last_used_at, " PRINCIPAL_COLS
           " FROM api_keys k JOIN users u ON u.id = k.user_id JOIN plans p ON p.id = u.plan_id "
           "WHERE k.token_hash = $1 AND k.revoked_at IS NULL");
static db_sql Q_KEY_TOUCH = DB_SQL("UPDATE api_keys SET last_used_at = $2 WHERE id = $1");
static db_sql Q_KEY_LIST =
    DB_SQL2("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys "
            "WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys "
            "WHERE user_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3");
static db_sql Q_KEY_REVOKE = DB_SQL("UPDATE api_keys SET revoked_at = $3 "
                                    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL");

#define PREPARE(s, c, q, err)                                                                      \
    db_error de_;                                                                                  \
    db_stmt *s = db_prepare(c, q, &de_);                                                           \
    if (s == NULL)                                                                                 \
    return db_to_error(err, &de_, NULL)

int apikey_store_insert(db_conn *c, const char *user_id, const char *name, const char *prefix,
                        const char *token_hash, int64_t now, apikey_row *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (text_copy(out->name, sizeof(out->name), name) != 0)
        return error_set(err, ERR_INVALID, "name", "name must have at most %d characters",
                         APIKEY_NAME_MAX);
    if (text_copy(out->prefix, sizeof(out->prefix), prefix) != 0)
        return error_set(err, ERR_INVALID, "prefix", "the key prefix is too long");
    PREPARE(s, c, &Q_KEY_INSERT, err);
    uuid_v7(out->id);
    out->created_at = now;
    db_bind_text(s, 1, out->id);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, name);
    db_bind_text(s, 4, prefix);
    db_bind_text(s, 5, token_hash);
    db_bind_time(s, 6, now);
    return db_run(s, NULL, err, NULL);
}

int apikey_store_lookup(db_conn *c, const char *token_hash, apikey_row *k, principal *p, error *err)
{
    PREPARE(s, c, &Q_KEY_LOOKUP, err);
    db_bind_text(s, 1, token_hash);
    db_error de;
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        memset(k, 0, sizeof(*k));
        bad = DB_COL_COPY(s, 0, k->id) | DB_COL_COPY(s, 1, k->name) | DB_COL_COPY(s, 2, k->prefix);
        k->created_at = db_col_time(s, 3);
        k->last_used_at = db_col_time(s, 4);
        bad |= principal_read(s, 5, p);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "API key or its user");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, NULL, "no such API key");
    return 0;
}

int apikey_store_touch(db_conn *c, const char *id, int64_t now, error *err)
{
    PREPARE(s, c, &Q_KEY_TOUCH, err);
    db_bind_text(s, 1, id);
    db_bind_time(s, 2, now);
    return db_run(s, NULL, err, NULL);
}

int apikey_store_list(db_conn *c, const char *user_id, const char *cursor, int limit,
                      apikey_row *rows, int *n, error *err)
{
    PREPARE(s, c, &Q_KEY_LIST, err);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, cursor);
    db_bind_int64(s, 3, limit + 1);
    db_error de;
    int rc, bad = 0;
    *n = 0;
    while ((rc = db_step(s, &de)) == DB_ROW && *n <= limit) {
        apikey_row *k = &rows[(*n)++];
        bad |= DB_COL_COPY(s, 0, k->id) | DB_COL_COPY(s, 1, k->name) | DB_COL_COPY(s, 2, k->prefix);
        k->created_at = db_col_time(s, 3);
        k->last_used_at = db_col_time(s, 4);
        k->revoked_at = db_col_time(s, 5);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "API key") : 0;
}

int apikey_store_revoke(db_conn *c, const char *user_id, const char *id, int64_t now, error *err)
{
    PREPARE(s, c, &Q_KEY_REVOKE, err);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    db_bind_time(s, 3, now);
    int64_t changed;
    if (db_run(s, &changed, err, NULL) != 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, "id", "no active API key with id '%s'", id);
    return 0;
}
