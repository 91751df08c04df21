#include "domain/oauth_state_store.h"

#include <string.h>

static db_sql Q_STATE_INSERT =
    DB_SQL("INSERT INTO oauth_states (id, user_id, credential_id, state_hash, code_verifier_enc, "
           "key_version, redirect_uri, created_at, expires_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
static db_sql Q_STATE_FIND =
    DB_SQL("SELECT id, user_id, credential_id, state_hash, code_verifier_enc, key_version, "
           "redirect_uri, created_at, expires_at, used_at FROM oauth_states WHERE state_hash = $1");
static db_sql Q_STATE_CONSUME = DB_SQL("UPDATE oauth_states SET used_at = $3 WHERE id = $1 AND "
                                       "user_id = $2 AND used_at IS NULL");
static db_sql Q_STATE_PRUNE = DB_SQL("DELETE FROM oauth_states WHERE expires_at < $1");

static int oauth_state__row(db_stmt *s, arena *a, void *out, error *err)
{
    oauth_state *st = out;
    memset(st, 0, sizeof(*st));
    int bad = DB_COL_COPY(s, 0, st->id) | DB_COL_COPY(s, 1, st->user_id) |
              DB_COL_COPY(s, 2, st->credential_id) | DB_COL_COPY(s, 3, st->state_hash);
    st->verifier_enc = db_col_blobdup(s, 4, a, &st->verifier_enc_len);
    st->key_version = (int)db_col_int64(s, 5);
    st->redirect_uri = db_col_strdup(s, 6, a);
    st->created_at = db_col_time(s, 7);
    st->expires_at = db_col_time(s, 8);
    st->used_at = db_col_time(s, 9);
    return bad ? db_col_too_long(err, "OAuth state") : 0;
}

int oauth_state_store_insert(db_conn *c, const oauth_state *st, error *err)
{
    return db_write(c, &Q_STATE_INSERT,
                    DB_ARGS(DB_TEXT(st->id), DB_TEXT(st->user_id), DB_TEXT(st->credential_id),
                            DB_TEXT(st->state_hash),
                            DB_BLOB(st->verifier_enc, st->verifier_enc_len),
                            DB_INT(st->key_version), DB_TEXT(st->redirect_uri),
                            DB_TIME(st->created_at), DB_TIME(st->expires_at)),
                    NULL, err) < 0
               ? -1
               : 0;
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
