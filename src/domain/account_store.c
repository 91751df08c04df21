#include "domain/account_store.h"

static const char *const account__statuses[] = {ACCOUNT_ACTIVE, ACCOUNT_NEEDS_RECONNECT, NULL};

/* The columns in the order the API writes them; the API adds scopes as a
 * list and needs_reconnect. Nothing here is written by a client: accounts
 * come from Google's answers, and the sealed tokens never leave the store's
 * callers. */
static const row_col account__cols[] = {
    ROW_COL(account, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(account, provider, ROW_TEXT, 0, 0, 0),
    ROW_COL(account, provider_account_id, ROW_TEXT, 0, 0, 0),
    ROW_COL(account, email, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_ENUM_COL(account, status, 0, account__statuses),
    ROW_COL(account, expires_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    ROW_COL(account, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(account, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(account, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(account, scopes, ROW_TEXT, ROW_PRIVATE, 0, 0), /* space-separated */
    ROW_BLOB_COL(account, "access_token_enc", access_enc, access_enc_len, 0),
    ROW_BLOB_COL(account, "refresh_token_enc", refresh_enc, refresh_enc_len, 0),
    ROW_COL(account, key_version, ROW_INT, ROW_PRIVATE, 0, 0),
};
const row_spec account_row = ROW_SPEC(account, "Google account", account__cols);

#define ACCOUNT_COLS                                                                               \
    "id, provider, provider_account_id, email, status, expires_at, created_at, updated_at, "       \
    "user_id, scopes, access_token_enc, refresh_token_enc, key_version"
#define ACCOUNT_UPDATE                                                                             \
    "id, user_id, email, scopes, access_token_enc, refresh_token_enc, key_version, expires_at, "   \
    "status, updated_at"

static db_sql Q_GET =
    DB_SQL("SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1 AND user_id = $2");
static db_sql Q_FIND = DB_SQL("SELECT " ACCOUNT_COLS " FROM accounts WHERE user_id = $1 AND "
                              "provider = $2 AND provider_account_id = $3");
#define LIST_SQL(uuid_cast)                                                                        \
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE user_id = $1 AND ($2" uuid_cast " IS NULL OR "    \
    "id < $2" uuid_cast ") ORDER BY id DESC LIMIT $3"
static db_sql Q_LIST = DB_SQL2(LIST_SQL(""), LIST_SQL("::uuid"));
static db_sql Q_INSERT = DB_SQL("INSERT INTO accounts (" ACCOUNT_COLS ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
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

static int account__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&account_row, s, a, out, err);
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
    row_argv av;
    int64_t rc =
        db_write(c, &Q_INSERT, row_args(&account_row, acc, ACCOUNT_COLS, NULL, &av), NULL, err);
    if (rc < 0 && db_last_fault(c) == DB_FAULT_UNIQUE)
        return error_set(err, ERR_CONFLICT, "provider_account_id",
                         "this Google account was connected at the same moment by another "
                         "request; list your accounts and try again if it is missing");
    return rc < 0 ? -1 : 0;
}

int account_store_update(db_conn *c, const account *acc, error *err)
{
    row_argv av;
    return account__change_one(c, &Q_UPDATE, row_args(&account_row, acc, ACCOUNT_UPDATE, NULL, &av),
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
    /* $5, the version it must still have, is not a column of the new row. */
    row_argv av;
    db_args args = row_args(&account_row, acc,
                            "id, access_token_enc, refresh_token_enc, key_version", NULL, &av);
    av.v[args.n++] = DB_INT(old_version);
    int64_t n = db_write(c, &Q_REKEY, args, NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int account_store_list_with_channels(db_conn *c, arena *a, const char *after, int limit,
                                     account **out, size_t *n, error *err)
{
    return account__rows(c, &Q_WITH_CHANNELS, DB_ARGS(DB_TEXT(after), DB_INT(limit)), a, limit, out,
                         n, err);
}
