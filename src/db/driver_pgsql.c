/*
 * The PostgreSQL driver (libpq). Statements are prepared lazily on the
 * connection under the name "ps_<slot>", and prepared again after a
 * reconnect: the connection carries a generation number that a statement
 * compares with the one it was prepared in. Parameters go as text except
 * blobs (binary), results come back as text; every session runs in UTC with
 * ISO dates so db.c parses one timestamp format.
 */
#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db_driver.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg__conn {
    PGconn *pg;
    unsigned generation;  /* bumped on every reconnect */
    char *listen_channel; /* LISTENed on; listened again after a reconnect */
} pg__conn;

typedef struct pg__stmt {
    char *sql;
    char name[24];
    unsigned prepared_in; /* generation it was prepared in; 0 = never */
    PGresult *res;
    int row; /* current row, -1 before the first */
    int nrows;
    unsigned char *blob; /* unescaped bytea of the last col_blob call */
} pg__stmt;

static db_fault pg__fault_of(const char *sqlstate)
{
    if (sqlstate == NULL)
        return DB_FAULT_CONNECTION;
    if (strcmp(sqlstate, "23505") == 0)
        return DB_FAULT_UNIQUE;
    if (strcmp(sqlstate, "23503") == 0)
        return DB_FAULT_FOREIGN_KEY;
    if (strcmp(sqlstate, "23514") == 0)
        return DB_FAULT_CHECK;
    if (strcmp(sqlstate, "23502") == 0)
        return DB_FAULT_NOT_NULL;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
        strcmp(sqlstate, "55P03") == 0)
        return DB_FAULT_BUSY;
    if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P", 3) == 0)
        return DB_FAULT_CONNECTION;
    if (strcmp(sqlstate, "53100") == 0) /* disk_full */
        return DB_FAULT_FULL;
    return DB_FAULT_OTHER;
}

/* libpq messages end in a newline and may span lines; keep the first line. */
static int pg__error(pg__conn *c, PGresult *res, db_error *err, const char *what)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(c->pg);
    size_t n = strcspn(msg, "\n");
    db_fault f =
        res ? pg__fault_of(PQresultErrorField(res, PG_DIAG_SQLSTATE)) : DB_FAULT_CONNECTION;
    if (PQstatus(c->pg) == CONNECTION_BAD)
        f = DB_FAULT_CONNECTION;
    return db_driver_set_error(err, f, "postgres: %s: %.*s", what, (int)n, msg);
}

static void pg__notice(void *arg, const char *message)
{
    log_debug("postgres notice: %s", message);
}

/* No JIT (decision 154): the service's statements are index reads of
 * milliseconds, and a planner estimate past jit_above_cost compiled one of
 * them for 140-225 ms on each of a connection's first five executions. */
static int pg__session_setup(pg__conn *c, db_error *err)
{
    PGresult *res = PQexec(c->pg, "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                  "SET client_min_messages = warning; SET jit = off");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg__error(c, res, err, "session setup");
    PQclear(res);
    return ok ? 0 : DB_ERR;
}

static void *pg__connect(const char *url, const char *app_name, db_error *err)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {url, "5", app_name, NULL};
    pg__conn *c = xcalloc(1, sizeof(*c));
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        const char *msg = c->pg ? PQerrorMessage(c->pg) : "out of memory";
        size_t n = strcspn(msg, "\n");
        /* A bad URI is libpq's "invalid connection option"/"invalid URI" error. */
        db_fault f = strstr(msg, "invalid") ? DB_FAULT_URL : DB_FAULT_CONNECTION;
        db_driver_set_error(err, f, "cannot connect to PostgreSQL: %.*s", (int)n, msg);
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, pg__notice, NULL);
    if (pg__session_setup(c, err) != 0) {
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    c->generation = 1;
    return c;
}

static void pg__disconnect(void *h)
{
    pg__conn *c = h;
    if (c == NULL)
        return;
    PQfinish(c->pg);
    free(c->listen_channel);
    free(c);
}

static int pg__listen_on(pg__conn *c, db_error *err)
{
    char *ident = PQescapeIdentifier(c->pg, c->listen_channel, strlen(c->listen_channel));
    if (ident == NULL)
        return pg__error(c, NULL, err, "listen");
    char sql[256];
    snprintf(sql, sizeof(sql), "LISTEN %s", ident);
    PQfreemem(ident);
    PGresult *res = PQexec(c->pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg__error(c, res, err, "listen");
    PQclear(res);
    return ok ? 0 : DB_ERR;
}

static void *pg__prepare(void *h, const char *sql, int slot, db_error *err)
{
    pg__stmt *s = xcalloc(1, sizeof(*s));
    s->sql = xstrdup(sql);
    snprintf(s->name, sizeof(s->name), "ps_%d", slot);
    s->row = -1;
    return s;
}

static void pg__clear_result(pg__stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->nrows = 0;
    PQfreemem(s->blob);
    s->blob = NULL;
}

static void pg__finalize(void *h, void *st)
{
    pg__stmt *s = st;
    pg__clear_result(s);
    free(s->sql);
    free(s);
}

/* A connection that dropped is re-established once per call; statements then
 * see a new generation and prepare themselves again. */
static int pg__ensure_connected(pg__conn *c, db_error *err)
{
    if (PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return pg__error(c, NULL, err, "reconnect");
    c->generation++;
    if (pg__session_setup(c, err) != 0)
        return DB_ERR;
    return c->listen_channel ? pg__listen_on(c, err) : 0;
}

static int pg__ensure_prepared(pg__conn *c, pg__stmt *s, db_error *err)
{
    if (s->prepared_in == c->generation)
        return 0;
    PGresult *res = PQprepare(c->pg, s->name, s->sql, 0, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg__error(c, res, err, "prepare");
    PQclear(res);
    if (!ok)
        return DB_ERR;
    s->prepared_in = c->generation;
    return 0;
}

static int pg__execute(pg__conn *c, pg__stmt *s, const db_param *params, int n, db_error *err)
{
    const char *values[DB_MAX_PARAMS];
    int lengths[DB_MAX_PARAMS];
    int formats[DB_MAX_PARAMS];
    char text[DB_MAX_PARAMS][TIME_STR_LEN + 8];
    for (int i = 0; i < n; i++) {
        const db_param *p = &params[i];
        lengths[i] = 0;
        formats[i] = 0;
        switch (p->type) {
        case DB_P_NULL:
            values[i] = NULL;
            break;
        case DB_P_TEXT:
            values[i] = p->p;
            break;
        case DB_P_INT64:
            snprintf(text[i], sizeof(text[i]), "%lld", (long long)p->i);
            values[i] = text[i];
            break;
        case DB_P_DOUBLE:
            snprintf(text[i], sizeof(text[i]), "%.17g", p->d);
            values[i] = text[i];
            break;
        case DB_P_BOOL:
            values[i] = p->i ? "true" : "false";
            break;
        case DB_P_TIME:
            time_format(p->i, text[i]);
            values[i] = text[i];
            break;
        case DB_P_BLOB:
            values[i] = p->p;
            lengths[i] = (int)p->n;
            formats[i] = 1;
            break;
        }
    }
    if (pg__ensure_connected(c, err) != 0 || pg__ensure_prepared(c, s, err) != 0)
        return DB_ERR;
    s->res = PQexecPrepared(c->pg, s->name, n, values, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(s->res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pg__error(c, s->res, err, "execute");
        pg__clear_result(s);
        return DB_ERR;
    }
    s->nrows = st == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
    s->row = -1;
    return 0;
}

static int pg__step(void *h, void *st, const db_param *params, int nparams, db_error *err)
{
    pg__conn *c = h;
    pg__stmt *s = st;
    if (s->res == NULL && pg__execute(c, s, params, nparams, err) != 0)
        return DB_ERR;
    PQfreemem(s->blob);
    s->blob = NULL;
    if (s->row + 1 < s->nrows) {
        s->row++;
        return DB_ROW;
    }
    s->row = s->nrows;
    return DB_DONE;
}

static int pg__col_count(void *st)
{
    pg__stmt *s = st;
    return s->res ? PQnfields(s->res) : 0;
}

static const char *pg__col_name(void *st, int i)
{
    pg__stmt *s = st;
    return s->res ? PQfname(s->res, i) : NULL;
}

static bool pg__col_is_null(void *st, int i)
{
    pg__stmt *s = st;
    return s->res == NULL || s->row < 0 || s->row >= s->nrows || PQgetisnull(s->res, s->row, i);
}

static const char *pg__col_text(void *st, int i)
{
    pg__stmt *s = st;
    if (pg__col_is_null(st, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static const void *pg__col_blob(void *st, int i, size_t *n)
{
    pg__stmt *s = st;
    *n = 0;
    const char *t = pg__col_text(st, i);
    if (t == NULL)
        return NULL;
    PQfreemem(s->blob);
    s->blob = PQunescapeBytea((const unsigned char *)t, n);
    return s->blob;
}

static int64_t pg__col_int64(void *st, int i)
{
    const char *t = pg__col_text(st, i);
    return t ? strtoll(t, NULL, 10) : 0;
}

static double pg__col_double(void *st, int i)
{
    const char *t = pg__col_text(st, i);
    return t ? strtod(t, NULL) : 0.0;
}

static int64_t pg__changes(void *h, void *st)
{
    pg__stmt *s = st;
    const char *t = s->res ? PQcmdTuples(s->res) : "";
    return t[0] ? strtoll(t, NULL, 10) : 0;
}

static void pg__reset(void *st)
{
    pg__clear_result(st);
}

static int pg__exec_script(void *h, const char *sql, db_error *err)
{
    pg__conn *c = h;
    if (pg__ensure_connected(c, err) != 0)
        return DB_ERR;
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (!ok)
        pg__error(c, res, err, "exec");
    PQclear(res);
    return ok ? 0 : DB_ERR;
}

static int pg__ping(void *h, db_error *err)
{
    return pg__exec_script(h, "SELECT 1", err);
}

static int pg__listen(void *h, const char *channel, db_error *err)
{
    pg__conn *c = h;
    if (pg__ensure_connected(c, err) != 0)
        return DB_ERR;
    free(c->listen_channel);
    c->listen_channel = xstrdup(channel);
    return pg__listen_on(c, err);
}

/* Drains every notification libpq has read, handing each payload to fn
 * (if any); true when there was one. */
static bool pg__drain_notifies(pg__conn *c, db_notify_fn fn, void *arg)
{
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        any = true;
        if (fn != NULL)
            fn(arg, n->extra ? n->extra : "");
        PQfreemem(n);
    }
    return any;
}

static int pg__wait_notify(void *h, int timeout_ms, db_notify_fn fn, void *arg, db_error *err)
{
    pg__conn *c = h;
    if (pg__ensure_connected(c, err) != 0)
        return DB_ERR;
    /* Notifications that arrived during earlier queries are already buffered. */
    if (PQconsumeInput(c->pg) == 0)
        return pg__error(c, NULL, err, "wait for notifications");
    if (pg__drain_notifies(c, fn, arg))
        return 1;
    struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        return db_driver_set_error(err, DB_FAULT_CONNECTION, "postgres: poll: %s", strerror(errno));
    if (rc <= 0)
        return 0;
    if (PQconsumeInput(c->pg) == 0)
        return pg__error(c, NULL, err, "wait for notifications");
    return pg__drain_notifies(c, fn, arg) ? 1 : 0;
}

const db_driver db_driver_pgsql = {
    .name = "postgres",
    .engine = DB_ENGINE_POSTGRES,
    .connect = pg__connect,
    .disconnect = pg__disconnect,
    .prepare = pg__prepare,
    .finalize = pg__finalize,
    .step = pg__step,
    .col_count = pg__col_count,
    .col_name = pg__col_name,
    .col_is_null = pg__col_is_null,
    .col_text = pg__col_text,
    .col_blob = pg__col_blob,
    .col_int64 = pg__col_int64,
    .col_double = pg__col_double,
    .changes = pg__changes,
    .reset = pg__reset,
    .exec_script = pg__exec_script,
    .ping = pg__ping,
    .listen = pg__listen,
    .wait_notify = pg__wait_notify,
    .begin_sql = "BEGIN",
    .begin_write_sql = "BEGIN",
};
