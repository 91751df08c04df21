#include "domain/apikey_store.h"

#include "base/uuid.h"

#include <string.h>

static const row_col apikey__cols[] = {
    ROW_COL(apikey, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(apikey, name, ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1, APIKEY_NAME_MAX),
    ROW_COL(apikey, prefix, ROW_TEXT, 0, 0, 0),
    ROW_COL(apikey, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(apikey, last_used_at, ROW_TIME, 0, 0, 0),
    ROW_COL(apikey, revoked_at, ROW_TIME, 0, 0, 0),
    ROW_COL(apikey, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(apikey, token_hash, ROW_TEXT, ROW_PRIVATE, 0, 0),
};
const row_spec apikey_row = ROW_SPEC(apikey, "API key", apikey__cols);

#define APIKEY_INSERT "id, user_id, name, prefix, token_hash, created_at"
#define APIKEY_COLS   "id, name, prefix, created_at, last_used_at, revoked_at"

static db_sql Q_KEY_INSERT =
    DB_SQL("INSERT INTO api_keys (" APIKEY_INSERT ") VALUES ($1, $2, $3, $4, $5, $6)");
/* The key's own columns first, read by their own small spec, then the principal's. */
static db_sql Q_KEY_LOOKUP =
    DB_SQL("SELECT k.id AS key_id, k.last_used_at, " PRINCIPAL_COLS
           " FROM api_keys k JOIN users u ON u.id = k.user_id JOIN plans p ON p.id = u.plan_id "
           "WHERE k.token_hash = $1 AND k.revoked_at IS NULL");
static db_sql Q_KEY_TOUCH = DB_SQL("UPDATE api_keys SET last_used_at = $2 WHERE id = $1");
static db_sql Q_KEY_LIST =
    DB_SQL2("SELECT " APIKEY_COLS " FROM api_keys "
            "WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            "SELECT " APIKEY_COLS " FROM api_keys "
            "WHERE user_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3");
static db_sql Q_KEY_REVOKE = DB_SQL("UPDATE api_keys SET revoked_at = $3 "
                                    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL");

static int apikey__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&apikey_row, s, a, out, err);
}

/* What authenticating by key reads of the key's own row. */
typedef struct apikey__auth {
    char key_id[UUID_STR_LEN + 1];
    int64_t last_used_at;
} apikey__auth;

static const row_col apikey__auth_cols[] = {
    ROW_COL(apikey__auth, key_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(apikey__auth, last_used_at, ROW_TIME, 0, 0, 0),
};
static const row_spec apikey__auth_row = ROW_SPEC(apikey__auth, "API key", apikey__auth_cols);

typedef struct apikey__found {
    apikey *k;
    principal *p;
} apikey__found;

static int apikey__lookup_row(db_stmt *s, arena *a, void *out, error *err)
{
    apikey__found *f = out;
    apikey__auth row;
    if (row_read(&apikey__auth_row, s, a, &row, err) != 0)
        return -1;
    memset(f->k, 0, sizeof(*f->k));
    memcpy(f->k->id, row.key_id, sizeof(row.key_id));
    f->k->last_used_at = row.last_used_at;
    /* The principal's columns follow the key's two. */
    return principal_read(s, 2, f->p) != 0 ? db_col_too_long(err, "API key or its user") : 0;
}

int apikey_store_insert(db_conn *c, apikey *k, error *err)
{
    uuid_v7(k->id);
    row_argv av;
    return db_write(c, &Q_KEY_INSERT, row_args(&apikey_row, k, APIKEY_INSERT, NULL, &av), NULL,
                    err) < 0
               ? -1
               : 0;
}

int apikey_store_lookup(db_conn *c, const char *token_hash, apikey *k, principal *p, error *err)
{
    apikey__found f = {k, p};
    return db_one(c, &Q_KEY_LOOKUP, DB_ARGS(DB_TEXT(token_hash)), apikey__lookup_row, NULL, &f, err,
                  NULL, "no such API key");
}

int apikey_store_touch(db_conn *c, const char *id, int64_t now, error *err)
{
    return db_write(c, &Q_KEY_TOUCH, DB_ARGS(DB_TEXT(id), DB_TIME(now)), NULL, err) < 0 ? -1 : 0;
}

int apikey_store_list(db_conn *c, arena *a, const char *user_id, const char *cursor, int limit,
                      apikey **out, size_t *n, error *err)
{
    return db_list(c, &Q_KEY_LIST, DB_ARGS(DB_TEXT(user_id), DB_TEXT(cursor), DB_INT(limit)),
                   apikey__row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
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
