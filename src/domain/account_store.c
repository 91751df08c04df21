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

static const char *account__str(arena *a, db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t ? arena_strdup(a, t) : NULL;
}

static const unsigned char *account__blob(arena *a, db_stmt *s, int i, size_t *n)
{
    *n = 0;
    if (db_col_is_null(s, i))
        return NULL;
    size_t len = 0;
    const void *p = db_col_blob(s, i, &len);
    unsigned char *copy = arena_alloc(a, len ? len : 1);
    if (len)
        memcpy(copy, p, len);
    *n = len;
    return copy;
}

static void account__bind_blob(db_stmt *s, int i, const unsigned char *p, size_t n)
{
    if (p == NULL)
        db_bind_null(s, i);
    else
        db_bind_blob(s, i, p, n);
}

/* -1 when a text does not fit its buffer (db_col_copy). */
static int account__read(arena *a, db_stmt *s, account *out)
{
    memset(out, 0, sizeof(*out));
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, out->id);
    bad |= DB_COL_COPY(s, 1, out->user_id);
    out->provider = account__str(a, s, 2);
    out->provider_account_id = account__str(a, s, 3);
    out->email = account__str(a, s, 4);
    out->scopes = account__str(a, s, 5);
    out->access_enc = account__blob(a, s, 6, &out->access_enc_len);
    out->refresh_enc = account__blob(a, s, 7, &out->refresh_enc_len);
    out->key_version = (int)db_col_int64(s, 8);
    out->expires_at = db_col_time(s, 9);
    out->status = account__str(a, s, 10);
    out->created_at = db_col_time(s, 11);
    out->updated_at = db_col_time(s, 12);
    return bad;
}

/* Runs a prepared single-row SELECT and reads the account, or ERR_NOT_FOUND with msg. */
static int account__one(arena *a, db_stmt *s, account *out, const char *id, error *err)
{
    db_error de;
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW ? account__read(a, s, out) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "Google account");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, NULL, "no Google account with id %s", id);
    return 0;
}

/* Runs a prepared UPDATE/DELETE that must change one of the user's rows. */
static int account__change_one(db_stmt *s, const char *id, error *err)
{
    int64_t changed;
    if (db_run(s, &changed, err, NULL) != 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no Google account with id %s", id);
    return 0;
}

int account_store_get(db_conn *c, arena *a, const char *user_id, const char *id, account *out,
                      error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no Google account with id %s",
                         id ? id : "(none)");
    db_error de;
    db_stmt *s = db_prepare(c, &Q_GET, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    return account__one(a, s, out, id, err);
}

int account_store_find(db_conn *c, arena *a, const char *user_id, const char *provider,
                       const char *provider_account_id, account *out, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_FIND, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, provider);
    db_bind_text(s, 3, provider_account_id);
    int rc = account__one(a, s, out, provider_account_id, err);
    if (rc != 0 && err->kind == ERR_NOT_FOUND)
        error_set(err, ERR_NOT_FOUND, NULL, "this Google account is not connected");
    return rc;
}

/* Reads every row of a prepared multi-row SELECT into a limit-sized array. */
static int account__rows(arena *a, db_stmt *s, int limit, account **out, size_t *n, error *err)
{
    *out = arena_alloc(a, sizeof(**out) * (size_t)(limit > 0 ? limit : 1));
    *n = 0;
    db_error de;
    int rc, bad = 0;
    while ((rc = db_step(s, &de)) == DB_ROW && *n < (size_t)limit)
        bad |= account__read(a, s, &(*out)[(*n)++]);
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "Google account") : 0;
}

int account_store_list(db_conn *c, arena *a, const char *user_id, const char *cursor, int limit,
                       account **out, size_t *n, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_LIST, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, cursor);
    db_bind_int64(s, 3, limit);
    return account__rows(a, s, limit, out, n, err);
}

int account_store_insert(db_conn *c, const account *acc, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, acc->id);
    db_bind_text(s, 2, acc->user_id);
    db_bind_text(s, 3, acc->provider);
    db_bind_text(s, 4, acc->provider_account_id);
    db_bind_text(s, 5, acc->email);
    db_bind_text(s, 6, acc->scopes ? acc->scopes : "");
    account__bind_blob(s, 7, acc->access_enc, acc->access_enc_len);
    account__bind_blob(s, 8, acc->refresh_enc, acc->refresh_enc_len);
    db_bind_int64(s, 9, acc->key_version);
    if (acc->expires_at > 0)
        db_bind_time(s, 10, acc->expires_at);
    else
        db_bind_null(s, 10);
    db_bind_text(s, 11, acc->status);
    db_bind_time(s, 12, acc->created_at);
    db_bind_time(s, 13, acc->updated_at);
    int rc = db_exec(s, &de);
    db_reset(s);
    if (rc != 0 && de.fault == DB_FAULT_UNIQUE)
        return error_set(err, ERR_CONFLICT, "provider_account_id",
                         "this Google account was connected at the same moment by another "
                         "request; list your accounts and try again if it is missing");
    return rc != 0 ? db_to_error(err, &de, NULL) : 0;
}

int account_store_update(db_conn *c, const account *acc, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_UPDATE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, acc->id);
    db_bind_text(s, 2, acc->user_id);
    db_bind_text(s, 3, acc->email);
    db_bind_text(s, 4, acc->scopes ? acc->scopes : "");
    account__bind_blob(s, 5, acc->access_enc, acc->access_enc_len);
    account__bind_blob(s, 6, acc->refresh_enc, acc->refresh_enc_len);
    db_bind_int64(s, 7, acc->key_version);
    if (acc->expires_at > 0)
        db_bind_time(s, 8, acc->expires_at);
    else
        db_bind_null(s, 8);
    db_bind_text(s, 9, acc->status);
    db_bind_time(s, 10, acc->updated_at);
    return account__change_one(s, acc->id, err);
}

int account_store_set_status(db_conn *c, const char *user_id, const char *id, const char *status,
                             int64_t now, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_SET_STATUS, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, status);
    db_bind_time(s, 4, now);
    return account__change_one(s, id, err);
}

int account_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_DELETE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    return account__change_one(s, id, err);
}

int account_store_list_for_rekey(db_conn *c, arena *a, int below, const char *after, int limit,
                                 account **out, size_t *n, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_REKEY_LIST, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_int64(s, 1, below);
    db_bind_text(s, 2, after);
    db_bind_int64(s, 3, limit);
    return account__rows(a, s, limit, out, n, err);
}

int account_store_rekey(db_conn *c, const account *acc, int old_version, bool *changed, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_REKEY, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, acc->id);
    account__bind_blob(s, 2, acc->access_enc, acc->access_enc_len);
    account__bind_blob(s, 3, acc->refresh_enc, acc->refresh_enc_len);
    db_bind_int64(s, 4, acc->key_version);
    db_bind_int64(s, 5, old_version);
    int rc = db_exec(s, &de);
    *changed = rc == 0 && db_changes(s) > 0;
    db_reset(s);
    return rc != 0 ? db_to_error(err, &de, NULL) : 0;
}

int account_store_list_with_channels(db_conn *c, arena *a, const char *after, int limit,
                                     account **out, size_t *n, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_WITH_CHANNELS, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, after);
    db_bind_int64(s, 2, limit);
    return account__rows(a, s, limit, out, n, err);
}
