#include "domain/session_store.h"

#include "base/text.h"
#include "base/uuid.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_SESSION_INSERT =
    DB_SQL("INSERT INTO sessions (id, user_id, token_hash, csrf_token, ip, user_agent, "
           "created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)");
static db_sql Q_SESSION_LOOKUP =
    DB_SQL("SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, " PRINCIPAL_COLS
           " FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id "
           "WHERE s.token_hash = $1");
static db_sql Q_SESSION_TOUCH = DB_SQL("UPDATE sessions SET last_seen_at = $2 WHERE id = $1");
static db_sql Q_SESSION_DELETE_ONE = DB_SQL("DELETE FROM sessions WHERE id = $1 AND user_id = $2");
static db_sql Q_SESSION_DELETE_ALL = DB_SQL("DELETE FROM sessions WHERE user_id = $1");

static db_sql Q_SESSION_PRUNE = DB_SQL("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                                       "WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3)");

#define PREPARE(s, c, q, err)                                                                      \
    db_error de_;                                                                                  \
    db_stmt *s = db_prepare(c, q, &de_);                                                           \
    if (s == NULL)                                                                                 \
    return db_to_error(err, &de_, NULL)

int session_store_insert(db_conn *c, const char *user_id, const char *token_hash,
                         const char *csrf_token, const char *ip, const char *user_agent,
                         int64_t now, int64_t expires_at, session_row *out, error *err)
{
    if (text_copy(out->csrf_token, sizeof(out->csrf_token), csrf_token) != 0)
        return error_set(err, ERR_INVALID, "csrf_token", "the CSRF token is too long");
    PREPARE(s, c, &Q_SESSION_INSERT, err);
    uuid_v7(out->id);
    out->created_at = out->last_seen_at = now;
    out->expires_at = expires_at;
    db_bind_text(s, 1, out->id);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, token_hash);
    db_bind_text(s, 4, csrf_token);
    db_bind_text(s, 5, ip);
    db_bind_text(s, 6, user_agent);
    db_bind_time(s, 7, now);
    db_bind_time(s, 8, expires_at);
    return db_run(s, NULL, err, NULL);
}

int session_store_lookup(db_conn *c, const char *token_hash, session_row *row, principal *p,
                         error *err)
{
    PREPARE(s, c, &Q_SESSION_LOOKUP, err);
    db_bind_text(s, 1, token_hash);
    db_error de;
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        bad = DB_COL_COPY(s, 0, row->id) | DB_COL_COPY(s, 1, row->csrf_token);
        row->created_at = db_col_time(s, 2);
        row->last_seen_at = db_col_time(s, 3);
        row->expires_at = db_col_time(s, 4);
        bad |= principal_read(s, 5, p);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "session or its user");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, NULL, "no such session");
    return 0;
}

int session_store_touch(db_conn *c, const char *id, int64_t now, error *err)
{
    PREPARE(s, c, &Q_SESSION_TOUCH, err);
    db_bind_text(s, 1, id);
    db_bind_time(s, 2, now);
    return db_run(s, NULL, err, NULL);
}

int session_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    if (id == NULL) {
        PREPARE(s, c, &Q_SESSION_DELETE_ALL, err);
        db_bind_text(s, 1, user_id);
        return db_run(s, NULL, err, NULL);
    }
    PREPARE(s, c, &Q_SESSION_DELETE_ONE, err);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, user_id);
    return db_run(s, NULL, err, NULL);
}

int session_store_prune_expired(db_conn *c, int64_t now, int64_t idle_before, int limit,
                                int64_t *deleted, error *err)
{
    *deleted = 0;
    PREPARE(s, c, &Q_SESSION_PRUNE, err);
    db_bind_time(s, 1, now);
    db_bind_time(s, 2, idle_before);
    db_bind_int64(s, 3, limit);
    return db_run(s, deleted, err, NULL);
}
