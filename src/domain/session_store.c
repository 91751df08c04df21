#include "domain/session_store.h"

#include "base/text.h"
#include "base/uuid.h"

#include <stdio.h>
#include <string.h>

#define PRINCIPAL_COLS                                                                             \
    "u.id, u.email, u.role, p.id, p.code, p.rank, p.max_channels, p.max_projects_per_month, "      \
    "p.max_generations_per_month"

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

static db_sql Q_RL_HIT =
    DB_SQL("INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) "
           "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
           "RETURNING hits");
static db_sql Q_RL_PRUNE = DB_SQL("DELETE FROM rate_limits WHERE window_start < $1");
static db_sql Q_SESSION_PRUNE = DB_SQL("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                                       "WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3)");

/* Reads the PRINCIPAL_COLS that start at column `at`; -1 when a text does
 * not fit (db_col_copy). */
static int read_principal(db_stmt *s, int at, principal *p)
{
    int bad = DB_COL_COPY(s, at, p->user_id) | DB_COL_COPY(s, at + 1, p->email);
    const char *role = db_col_text(s, at + 2);
    p->is_admin = role != NULL && strcmp(role, "admin") == 0;
    bad |= DB_COL_COPY(s, at + 3, p->plan_id) | DB_COL_COPY(s, at + 4, p->plan_code);
    p->plan_rank = (int)db_col_int64(s, at + 5);
    p->max_channels = db_col_is_null(s, at + 6) ? -1 : (int)db_col_int64(s, at + 6);
    p->max_projects_per_month = db_col_is_null(s, at + 7) ? -1 : (int)db_col_int64(s, at + 7);
    p->max_generations_per_month = db_col_is_null(s, at + 8) ? -1 : (int)db_col_int64(s, at + 8);
    return bad;
}

/* Runs a prepared, bound statement that returns no rows. */

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
        bad |= read_principal(s, 5, p);
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
        bad |= read_principal(s, 5, p);
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

int ratelimit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err)
{
    PREPARE(s, c, &Q_RL_HIT, err);
    db_bind_text(s, 1, bucket);
    db_bind_int64(s, 2, window);
    db_error de;
    int rc = db_step(s, &de);
    if (rc == DB_ROW)
        *hits = (int)db_col_int64(s, 0);
    db_reset(s);
    if (rc != DB_ROW)
        return db_to_error(err, &de, NULL);
    return 0;
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

int ratelimit_store_prune(db_conn *c, int64_t before, error *err)
{
    PREPARE(s, c, &Q_RL_PRUNE, err);
    db_bind_int64(s, 1, before);
    return db_run(s, NULL, err, NULL);
}
