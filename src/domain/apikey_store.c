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

static int apikey__row(db_stmt *s, apikey_row *k)
{
    int bad = DB_COL_COPY(s, 0, k->id) | DB_COL_COPY(s, 1, k->name) | DB_COL_COPY(s, 2, k->prefix);
    k->created_at = db_col_time(s, 3);
    k->last_used_at = db_col_time(s, 4);
    return bad;
}

typedef struct apikey__found {
    apikey_row *k;
    principal *p;
} apikey__found;

static int apikey__lookup_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    apikey__found *f = out;
    memset(f->k, 0, sizeof(*f->k));
    int bad = apikey__row(s, f->k) | principal_read(s, 5, f->p);
    return bad ? db_col_too_long(err, "API key or its user") : 0;
}

typedef struct apikey__page {
    apikey_row *rows;
    int *n;
    int limit;
} apikey__page;

static int apikey__list_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    apikey__page *pg = out;
    if (*pg->n > pg->limit)
        return 1;
    apikey_row *k = &pg->rows[(*pg->n)++];
    int bad = apikey__row(s, k);
    k->revoked_at = db_col_time(s, 5);
    return bad ? db_col_too_long(err, "API key") : 0;
}

int apikey_store_insert(db_conn *c, const char *user_id, const char *name, const char *prefix,
                        const char *token_hash, int64_t now, apikey_row *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (text_copy(out->name, sizeof(out->name), name) != 0)
        return error_set(err, ERR_INVALID, "name", "name must have at most %d characters",
                         APIKEY_NAME_MAX);
    if (text_copy(out->prefix, sizeof(out->prefix), prefix) != 0)
        return error_set(err, ERR_INVALID, "prefix", "the key prefix is too long");
    uuid_v7(out->id);
    out->created_at = now;
    return db_write(c, &Q_KEY_INSERT,
                    DB_ARGS(DB_TEXT(out->id), DB_TEXT(user_id), DB_TEXT(name), DB_TEXT(prefix),
                            DB_TEXT(token_hash), DB_TIME(now)),
                    NULL, err) < 0
               ? -1
               : 0;
}

int apikey_store_lookup(db_conn *c, const char *token_hash, apikey_row *k, principal *p, error *err)
{
    apikey__found f = {k, p};
    return db_one(c, &Q_KEY_LOOKUP, DB_ARGS(DB_TEXT(token_hash)), apikey__lookup_row, NULL, &f, err,
                  NULL, "no such API key");
}

int apikey_store_touch(db_conn *c, const char *id, int64_t now, error *err)
{
    return db_write(c, &Q_KEY_TOUCH, DB_ARGS(DB_TEXT(id), DB_TIME(now)), NULL, err) < 0 ? -1 : 0;
}

int apikey_store_list(db_conn *c, const char *user_id, const char *cursor, int limit,
                      apikey_row *rows, int *n, error *err)
{
    *n = 0;
    apikey__page pg = {rows, n, limit};
    return db_each(c, &Q_KEY_LIST, DB_ARGS(DB_TEXT(user_id), DB_TEXT(cursor), DB_INT(limit + 1)),
                   apikey__list_row, NULL, &pg, err);
}

int apikey_store_revoke(db_conn *c, const char *user_id, const char *id, int64_t now, error *err)
{
    int64_t changed =
        db_write(c, &Q_KEY_REVOKE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TIME(now)), NULL, err);
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, "id", "no active API key with id '%s'", id);
    return 0;
}
