#include "domain/session_store.h"

#include "base/text.h"
#include "base/uuid.h"
#include "domain/row.h"

#include <string.h>

/* The columns a lookup reads first, then the ones only written. */
static const row_col session__cols[] = {
    ROW_COL(session_row, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(session_row, csrf_token, ROW_CHARS, 0, 0, 0),
    ROW_COL(session_row, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(session_row, last_seen_at, ROW_TIME, 0, 0, 0),
    ROW_COL(session_row, expires_at, ROW_TIME, 0, 0, 0),
    ROW_COL(session_row, user_id, ROW_UUID, ROW_PRIVATE, 0, 0),
    ROW_COL(session_row, token_hash, ROW_TEXT, ROW_PRIVATE, TOKEN_HASH_LEN, TOKEN_HASH_LEN),
    ROW_COL(session_row, ip, ROW_TEXT, ROW_PRIVATE | ROW_NULLABLE, 0, 0),
    ROW_COL(session_row, user_agent, ROW_TEXT, ROW_PRIVATE | ROW_NULLABLE, 0,
            SESSION_USER_AGENT_MAX),
};
static const row_spec session__row_spec = ROW_SPEC(session_row, "session", session__cols);

#define SESSION_INSERT                                                                             \
    "id, user_id, token_hash, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at"
/* The session's own columns come first (SESSION__READ of them), the
 * principal's after: both have an id. */
#define SESSION__READ 5
static db_sql Q_SESSION_INSERT = DB_SQL("INSERT INTO sessions (" SESSION_INSERT ") "
                                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
static db_sql Q_SESSION_LOOKUP =
    DB_SQL("SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, " PRINCIPAL_COLS
           " FROM sessions s JOIN users u ON u.id = s.user_id JOIN plans p ON p.id = u.plan_id "
           "WHERE s.token_hash = $1");
static db_sql Q_SESSION_TOUCH = DB_SQL("UPDATE sessions SET last_seen_at = $2 WHERE id = $1");
static db_sql Q_SESSION_DELETE_ONE = DB_SQL("DELETE FROM sessions WHERE id = $1 AND user_id = $2");
static db_sql Q_SESSION_DELETE_ALL = DB_SQL("DELETE FROM sessions WHERE user_id = $1");

static db_sql Q_SESSION_PRUNE = DB_SQL("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                                       "WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3)");

typedef struct session__found {
    session_row *row;
    principal *p;
} session__found;

/* Texts of the session's own columns are all in its buffers: no arena. */
static int session__row(db_stmt *s, arena *a, void *out, error *err)
{
    session__found *f = out;
    if (row_read_at(&session__row_spec, s, 0, SESSION__READ, a, f->row, err) != 0)
        return -1;
    return principal_read(s, SESSION__READ, f->p) != 0 ? db_col_too_long(err, "session's user") : 0;
}

int session_store_insert(db_conn *c, const char *user_id, const char *token_hash,
                         const char *csrf_token, const char *ip, const char *user_agent,
                         int64_t now, int64_t expires_at, session_row *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (text_copy(out->csrf_token, sizeof(out->csrf_token), csrf_token) != 0)
        return error_set(err, ERR_INVALID, "csrf_token", "the CSRF token is too long");
    uuid_v7(out->id);
    out->created_at = out->last_seen_at = now;
    out->expires_at = expires_at;
    session_row r = *out;
    r.user_id = user_id;
    r.token_hash = token_hash;
    r.ip = ip;
    r.user_agent = user_agent;
    row_argv av;
    return db_write(c, &Q_SESSION_INSERT,
                    row_args(&session__row_spec, &r, SESSION_INSERT, NULL, &av), NULL, err) < 0
               ? -1
               : 0;
}

int session_store_lookup(db_conn *c, const char *token_hash, session_row *row, principal *p,
                         error *err)
{
    session__found f = {row, p};
    return db_one(c, &Q_SESSION_LOOKUP, DB_ARGS(DB_TEXT(token_hash)), session__row, NULL, &f, err,
                  NULL, "no such session");
}

int session_store_touch(db_conn *c, const char *id, int64_t now, error *err)
{
    return db_write(c, &Q_SESSION_TOUCH, DB_ARGS(DB_TEXT(id), DB_TIME(now)), NULL, err) < 0 ? -1
                                                                                            : 0;
}

int session_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    int64_t n =
        id == NULL
            ? db_write(c, &Q_SESSION_DELETE_ALL, DB_ARGS(DB_TEXT(user_id)), NULL, err)
            : db_write(c, &Q_SESSION_DELETE_ONE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), NULL, err);
    return n < 0 ? -1 : 0;
}

int session_store_prune_expired(db_conn *c, int64_t now, int64_t idle_before, int limit,
                                int64_t *deleted, error *err)
{
    *deleted = 0;
    int64_t n = db_write(c, &Q_SESSION_PRUNE,
                         DB_ARGS(DB_TIME(now), DB_TIME(idle_before), DB_INT(limit)), NULL, err);
    if (n < 0)
        return -1;
    *deleted = n;
    return 0;
}
