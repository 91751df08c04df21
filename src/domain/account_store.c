#include "domain/account_store.h"

#include <stdio.h>
#include <string.h>

#define ACCOUNT_COLS                                                                               \
    "id, user_id, provider, provider_account_id, email, scopes, access_token_enc, "                \
    "refresh_token_enc, key_version, expires_at, status, created_at, updated_at"

static db_sql Q_GET =
    DB_SQL("SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1 AND user_id = $2");
static db_sql Q_FIND = DB_SQL("SELECT " ACCOUNT_COLS " FROM accounts WHERE user_id = $1 AND "
                              "provider = $2 AND provider_account_id = $3");
#define LIST_SQL(uuid_cast)                                                                        \
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE user_id = $1 AND ($2" uuid_cast " IS NULL OR "    \
    "id < $2" uuid_cast ") ORDER BY id DESC LIMIT $3"
static db_sql Q_LIST = DB_SQL2(LIST_SQL(""), LIST_SQL("::uuid"));
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO accounts (id, user_id, provider, provider_account_id, email, scopes, "
           "access_token_enc, refresh_token_enc, key_version, expires_at, status, created_at, "
           "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE accounts SET email = $3, scopes = $4, access_token_enc = $5, "
           "refresh_token_enc = $6, key_version = $7, expires_at = $8, status = $9, "
           "updated_at = $10 WHERE id = $1 AND user_id = $2");
static db_sql Q_SET_STATUS =
    DB_SQL("UPDATE accounts SET status = $3, updated_at = $4 WHERE id = $1 AND user_id = $2");
static db_sql Q_DELETE = DB_SQL("DELETE FROM accounts WHERE id = $1 AND user_id = $2");
#define REKEY_LIST_SQL(uuid_cast)                                                                  \
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE key_version < $1 AND ($2" uuid_cast " IS NULL "   \
    "OR id > $2" uuid_cast ") ORDER BY id LIMIT $3"
static db_sql Q_REKEY_LIST = DB_SQL2(REKEY_LIST_SQL(""), REKEY_LIST_SQL("::uuid"));
static db_sql Q_REKEY = DB_SQL("UPDATE accounts SET access_token_enc = $2, refresh_token_enc = $3, "
                               "key_version = $4 WHERE id = $1 AND key_version = $5");
#define WITH_CHANNELS_SQL(uuid_cast)                                                               \
    "SELECT " ACCOUNT_COLS " FROM accounts a WHERE status = 'active' AND ($1" uuid_cast " IS "     \
    "NULL OR id > $1" uuid_cast ") AND EXISTS (SELECT 1 FROM channels ch WHERE ch.account_id = "   \
    "a.id) ORDER BY id LIMIT $2"
static db_sql Q_WITH_CHANNELS = DB_SQL2(WITH_CHANNELS_SQL(""), WITH_CHANNELS_SQL("::uuid"));

/* A token that is not there is stored as NULL. */
static db_arg account__blob_arg(const unsigned char *p, size_t n)
{
    return p == NULL ? DB_NULL : DB_BLOB(p, n);
}

static db_arg account__expires_arg(int64_t expires_at)
{
    return expires_at > 0 ? DB_TIME(expires_at) : DB_NULL;
}

static int account__row(db_stmt *s, arena *a, void *out, error *err)
{
    account *acc = out;
    memset(acc, 0, sizeof(*acc));
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, acc->id);
    bad |= DB_COL_COPY(s, 1, acc->user_id);
    acc->provider = db_col_strdup(s, 2, a);
    acc->provider_account_id = db_col_strdup(s, 3, a);
    acc->email = db_col_strdup(s, 4, a);
    acc->scopes = db_col_strdup(s, 5, a);
    acc->access_enc = db_col_blobdup(s, 6, a, &acc->access_enc_len);
    acc->refresh_enc = db_col_blobdup(s, 7, a, &acc->refresh_enc_len);
    acc->key_version = (int)db_col_int64(s, 8);
    acc->expires_at = db_col_time(s, 9);
    acc->status = db_col_strdup(s, 10, a);
    acc->created_at = db_col_time(s, 11);
    acc->updated_at = db_col_time(s, 12);
    return bad ? db_col_too_long(err, "Google account") : 0;
}

/* A statement that must change one of the user's rows. */
static int account__change_one(db_conn *c, db_sql *q, db_args args, const char *id, error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no Google account with id %s", id);
    return 0;
}

/* Reads the rows of a listing (its LIMIT is limit) into an arena array. */
static int account__rows(db_conn *c, db_sql *q, db_args args, arena *a, int limit, account **out,
                         size_t *n, error *err)
{
    return db_list(c, q, args, account__row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out,
                   n, err);
}

int account_store_get(db_conn *c, arena *a, const char *user_id, const char *id, account *out,
                      error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no Google account with id %s",
                         id ? id : "(none)");
    return db_one(c, &Q_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), account__row, a, out, err,
                  NULL, "no Google account with id %s", id);
}

int account_store_find(db_conn *c, arena *a, const char *user_id, const char *provider,
                       const char *provider_account_id, account *out, error *err)
{
    return db_one(c, &Q_FIND,
                  DB_ARGS(DB_TEXT(user_id), DB_TEXT(provider), DB_TEXT(provider_account_id)),
                  account__row, a, out, err, NULL, "this Google account is not connected");
}

int account_store_list(db_conn *c, arena *a, const char *user_id, const char *cursor, int limit,
                       account **out, size_t *n, error *err)
{
    return account__rows(c, &Q_LIST, DB_ARGS(DB_TEXT(user_id), DB_TEXT(cursor), DB_INT(limit)), a,
                         limit, out, n, err);
}

int account_store_insert(db_conn *c, const account *acc, error *err)
{
    int64_t rc =
        db_write(c, &Q_INSERT,
                 DB_ARGS(DB_TEXT(acc->id), DB_TEXT(acc->user_id), DB_TEXT(acc->provider),
                         DB_TEXT(acc->provider_account_id), DB_TEXT(acc->email),
                         DB_TEXT(acc->scopes ? acc->scopes : ""),
                         account__blob_arg(acc->access_enc, acc->access_enc_len),
                         account__blob_arg(acc->refresh_enc, acc->refresh_enc_len),
                         DB_INT(acc->key_version), account__expires_arg(acc->expires_at),
                         DB_TEXT(acc->status), DB_TIME(acc->created_at), DB_TIME(acc->updated_at)),
                 NULL, err);
    if (rc < 0 && db_last_fault(c) == DB_FAULT_UNIQUE)
        return error_set(err, ERR_CONFLICT, "provider_account_id",
                         "this Google account was connected at the same moment by another "
                         "request; list your accounts and try again if it is missing");
    return rc < 0 ? -1 : 0;
}

int account_store_update(db_conn *c, const account *acc, error *err)
{
    return account__change_one(c, &Q_UPDATE,
                               DB_ARGS(DB_TEXT(acc->id), DB_TEXT(acc->user_id), DB_TEXT(acc->email),
                                       DB_TEXT(acc->scopes ? acc->scopes : ""),
                                       account__blob_arg(acc->access_enc, acc->access_enc_len),
                                       account__blob_arg(acc->refresh_enc, acc->refresh_enc_len),
                                       DB_INT(acc->key_version),
                                       account__expires_arg(acc->expires_at), DB_TEXT(acc->status),
                                       DB_TIME(acc->updated_at)),
                               acc->id, err);
}

int account_store_set_status(db_conn *c, const char *user_id, const char *id, const char *status,
                             int64_t now, error *err)
{
    return account__change_one(
        c, &Q_SET_STATUS, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TEXT(status), DB_TIME(now)), id,
        err);
}

int account_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    return account__change_one(c, &Q_DELETE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), id, err);
}

int account_store_list_for_rekey(db_conn *c, arena *a, int below, const char *after, int limit,
                                 account **out, size_t *n, error *err)
{
    return account__rows(c, &Q_REKEY_LIST, DB_ARGS(DB_INT(below), DB_TEXT(after), DB_INT(limit)), a,
                         limit, out, n, err);
}

int account_store_rekey(db_conn *c, const account *acc, int old_version, bool *changed, error *err)
{
    int64_t n =
        db_write(c, &Q_REKEY,
                 DB_ARGS(DB_TEXT(acc->id), account__blob_arg(acc->access_enc, acc->access_enc_len),
                         account__blob_arg(acc->refresh_enc, acc->refresh_enc_len),
                         DB_INT(acc->key_version), DB_INT(old_version)),
                 NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int account_store_list_with_channels(db_conn *c, arena *a, const char *after, int limit,
                                     account **out, size_t *n, error *err)
{
    return account__rows(c, &Q_WITH_CHANNELS, DB_ARGS(DB_TEXT(after), DB_INT(limit)), a, limit, out,
                         n, err);
}
