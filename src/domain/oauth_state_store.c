#include "domain/oauth_state_store.h"

#include "domain/row.h"

/* Nothing here is in an answer or a body: the whole row is the server's. */
static const row_col oauth_state__cols[] = {
    ROW_COL(oauth_state, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(oauth_state, user_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(oauth_state, credential_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(oauth_state, state_hash, ROW_CHARS, 0, 0, 0),
    ROW_BLOB_COL(oauth_state, "code_verifier_enc", verifier_enc, verifier_enc_len, 0),
    ROW_COL(oauth_state, key_version, ROW_INT, 0, 0, 0),
    ROW_COL(oauth_state, redirect_uri, ROW_TEXT, 0, 0, 0),
    ROW_COL(oauth_state, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(oauth_state, expires_at, ROW_TIME, 0, 0, 0),
    ROW_COL(oauth_state, used_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
};
static const row_spec oauth_state__row_spec =
    ROW_SPEC(oauth_state, "OAuth state", oauth_state__cols);

#define STATE_INSERT                                                                               \
    "id, user_id, credential_id, state_hash, code_verifier_enc, key_version, redirect_uri, "       \
    "created_at, expires_at"

static db_sql Q_STATE_INSERT = DB_SQL("INSERT INTO oauth_states (" STATE_INSERT ") "
                                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
static db_sql Q_STATE_FIND =
    DB_SQL("SELECT " STATE_INSERT ", used_at FROM oauth_states WHERE state_hash = $1");
static db_sql Q_STATE_CONSUME = DB_SQL("UPDATE oauth_states SET used_at = $3 WHERE id = $1 AND "
                                       "user_id = $2 AND used_at IS NULL");
static db_sql Q_STATE_PRUNE = DB_SQL("DELETE FROM oauth_states WHERE expires_at < $1");

static int oauth_state__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&oauth_state__row_spec, s, a, out, err);
}

int oauth_state_store_insert(db_conn *c, const oauth_state *st, error *err)
{
    row_argv av;
    db_args args = row_args(&oauth_state__row_spec, st, STATE_INSERT, NULL, &av);
    return db_write(c, &Q_STATE_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

int oauth_state_store_find(db_conn *c, arena *a, const char *state_hash, oauth_state *out,
                           error *err)
{
    return db_one(c, &Q_STATE_FIND, DB_ARGS(DB_TEXT(state_hash)), oauth_state__row, a, out, err,
                  "state", "no authorization request has this state");
}

int oauth_state_store_consume(db_conn *c, const char *id, const char *user_id, int64_t now,
                              bool *won, error *err)
{
    int64_t n = db_write(c, &Q_STATE_CONSUME, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TIME(now)),
                         NULL, err);
    *won = n == 1;
    return n < 0 ? -1 : 0;
}

int oauth_state_store_prune(db_conn *c, int64_t before, error *err)
{
    return db_write(c, &Q_STATE_PRUNE, DB_ARGS(DB_TIME(before)), NULL, err) < 0 ? -1 : 0;
}
