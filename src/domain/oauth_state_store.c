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

static const char *oauth_state__str(arena *a, db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t ? arena_strdup(a, t) : NULL;
}

static const unsigned char *oauth_state__blob(arena *a, db_stmt *s, int i, size_t *n)
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

int oauth_state_store_insert(db_conn *c, const oauth_state *st, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_STATE_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, st->id);
    db_bind_text(s, 2, st->user_id);
    db_bind_text(s, 3, st->credential_id);
    db_bind_text(s, 4, st->state_hash);
    db_bind_blob(s, 5, st->verifier_enc, st->verifier_enc_len);
    db_bind_int64(s, 6, st->key_version);
    db_bind_text(s, 7, st->redirect_uri);
    db_bind_time(s, 8, st->created_at);
    db_bind_time(s, 9, st->expires_at);
    return db_run(s, NULL, err, NULL);
}

int oauth_state_store_find(db_conn *c, arena *a, const char *state_hash, oauth_state *out,
                           error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_STATE_FIND, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, state_hash);
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        memset(out, 0, sizeof(*out));
        bad = DB_COL_COPY(s, 0, out->id) | DB_COL_COPY(s, 1, out->user_id) |
              DB_COL_COPY(s, 2, out->credential_id) | DB_COL_COPY(s, 3, out->state_hash);
        out->verifier_enc = oauth_state__blob(a, s, 4, &out->verifier_enc_len);
        out->key_version = (int)db_col_int64(s, 5);
        out->redirect_uri = oauth_state__str(a, s, 6);
        out->created_at = db_col_time(s, 7);
        out->expires_at = db_col_time(s, 8);
        out->used_at = db_col_time(s, 9);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "OAuth state");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "state", "no authorization request has this state");
    return 0;
}

int oauth_state_store_consume(db_conn *c, const char *id, const char *user_id, int64_t now,
                              bool *won, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_STATE_CONSUME, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    db_bind_time(s, 3, now);
    int rc = db_exec(s, &de);
    *won = rc == 0 && db_changes(s) == 1;
    db_reset(s);
    return rc != 0 ? db_to_error(err, &de, NULL) : 0;
}

int oauth_state_store_prune(db_conn *c, int64_t before, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_STATE_PRUNE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_time(s, 1, before);
    return db_run(s, NULL, err, NULL);
}
