#include "db/db.h"

#include "base/alloc.h"
#include "base/arena.h"
#include "base/error.h"
#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "db/db_driver.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Statement slots are process-wide: each db_sql declaration gets the next
 * number the first time any connection uses it. */
static int db__next_slot; /* atomic */

struct db_stmt {
    db_conn *conn;
    void *st; /* driver statement */
    db_param params[DB_MAX_PARAMS];
    int nparams; /* highest bound index */
    bool started;
    bool writes; /* changes the database (drv->writes): gated on one_writer drivers */
    bool gated;  /* holds one of conn->gate_refs until it is done or reset */
};

struct db_conn {
    db *owner;
    void *h; /* driver handle */
    db_stmt **cache;
    int ncache;
    bool in_use;
    bool in_tx;       /* inside db_begin or db_begin_write */
    bool writing;     /* the transaction holds one of gate_refs (one_writer drivers) */
    int gate_refs;    /* holds of owner->write_gate: the transaction's, and each gated
                       * statement's outside one; locked while > 0 */
    bool rolled_back; /* a failed COMMIT was already rolled back (SQLite) */
    db_fault fault;   /* of the last statement helper's failure (db_last_fault) */
};

struct db {
    const db_driver *drv;
    char *url;
    db_conn *conns;
    int size;
    int in_use;
    uint64_t acquires;
    uint64_t waits;
    uint64_t busy_sleeps; /* atomic: drv->count_busy */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    pthread_mutex_t write_gate; /* one writer at a time (drv->one_writer) */
    int faultsim_armed;         /* tests only: db_faultsim_config(); see the end of the file */
};

static int db__faultsim(db *d, db_faultsim_target t, db_error *err);

int db_to_error(error *err, const db_error *de, const char *field)
{
    switch (de->fault) {
    case DB_FAULT_UNIQUE:
        return error_set(err, ERR_CONFLICT, field, "%s is already taken", field ? field : "value");
    case DB_FAULT_FOREIGN_KEY:
    case DB_FAULT_CHECK:
    case DB_FAULT_NOT_NULL:
        return error_set(err, ERR_CONSTRAINT, field, "%s", de->message);
    case DB_FAULT_FULL:
        log_error("database storage full: %s", de->message);
        return error_set(err, ERR_NO_SPACE, NULL,
                         "the database's disk is full; nothing was written (free space on the "
                         "database's disk)");
    case DB_FAULT_CONNECTION:
    case DB_FAULT_BUSY:
        /* The engine's text names hosts, ports, users and databases: it is
         * for the operator's log, and the error (which callers may show to
         * anyone) says only what happened. */
        log_warn("database unavailable (%s): %s", db_fault_name(de->fault), de->message);
        return error_set(err, ERR_UNAVAILABLE, NULL, "%s", DB_UNAVAILABLE_MESSAGE);
    default:
        return error_set(err, ERR_INTERNAL, NULL, "database error: %s", de->message);
    }
}

const char *db_col_strdup(db_stmt *s, int i, arena *a)
{
    const char *t = db_col_text(s, i);
    return t ? arena_strdup(a, t) : NULL;
}

const unsigned char *db_col_blobdup(db_stmt *s, int i, arena *a, size_t *n)
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

int db_col_copy(db_stmt *s, int i, char *dst, size_t size)
{
    return text_copy(dst, size, db_col_text(s, i));
}

int db_col_too_long(error *err, const char *what)
{
    return error_set(err, ERR_INTERNAL, NULL,
                     "a stored %s is longer than this server can read; it was not cut", what);
}

int db_run(db_stmt *s, int64_t *changes, error *err, const char *field)
{
    db_error de;
    int rc = db_exec(s, &de);
    if (changes != NULL)
        *changes = rc == 0 ? db_changes(s) : 0;
    db_reset(s);
    return rc == 0 ? 0 : db_to_error(err, &de, field);
}

const char *db_fault_name(db_fault f)
{
    switch (f) {
    case DB_FAULT_NONE:
        return "none";
    case DB_FAULT_UNIQUE:
        return "unique";
    case DB_FAULT_FOREIGN_KEY:
        return "foreign_key";
    case DB_FAULT_CHECK:
        return "check";
    case DB_FAULT_NOT_NULL:
        return "not_null";
    case DB_FAULT_BUSY:
        return "busy";
    case DB_FAULT_CONNECTION:
        return "connection";
    case DB_FAULT_URL:
        return "url";
    case DB_FAULT_SCHEMA:
        return "schema";
    case DB_FAULT_FULL:
        return "full";
    case DB_FAULT_OTHER:
        return "other";
    }
    return "other";
}

const char *db_engine_name(db_engine e)
{
    return e == DB_ENGINE_SQLITE ? "sqlite" : "postgres";
}

static const db_driver *db__driver_for(const char *url)
{
    if (strncmp(url, "sqlite://", 9) == 0)
        return &db_driver_sqlite;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return &db_driver_pgsql;
    return NULL;
}

int db_url_check(const char *url, db_error *err)
{
    if (url == NULL || url[0] == '\0')
        return db_driver_set_error(err, DB_FAULT_URL, "the database URL is empty");
    const db_driver *drv = db__driver_for(url);
    if (drv == NULL)
        return db_driver_set_error(
            err, DB_FAULT_URL,
            "unsupported database URL scheme in '%.40s…': use sqlite:///path/to/file.db "
            "or postgres://user@host:port/dbname",
            url);
    if (drv == &db_driver_sqlite) {
        const char *path = url + 9;
        if (path[0] != '/' || path[1] == '\0')
            return db_driver_set_error(
                err, DB_FAULT_URL,
                "a SQLite URL needs an absolute file path: sqlite:///path/to/file.db");
        return 0;
    }
    const char *rest = strstr(url, "://") + 3;
    if (rest[0] == '\0' || (rest[0] == '/' && rest[1] == '\0'))
        return db_driver_set_error(
            err, DB_FAULT_URL,
            "a PostgreSQL URL needs a host or a database: postgres://user@host:port/dbname");
    for (const char *p = rest; *p && *p != '/' && *p != '?'; p++) {
        if (*p == ' ')
            return db_driver_set_error(err, DB_FAULT_URL, "the PostgreSQL URL contains a space");
    }
    return 0;
}

db *db_open(const char *url, int pool_size, db_error *err)
{
    return db_open_named(url, pool_size, "pstudio", err);
}

db *db_open_named(const char *url, int pool_size, const char *app_name, db_error *err)
{
    if (db_url_check(url, err) != 0)
        return NULL;
    if (pool_size < 1)
        pool_size = 1;
    db *d = xcalloc(1, sizeof(*d));
    d->drv = db__driver_for(url);
    d->url = xstrdup(url);
    d->size = pool_size;
    d->conns = xcalloc((size_t)pool_size, sizeof(db_conn));
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->freed, NULL);
    pthread_mutex_init(&d->write_gate, NULL);
    for (int i = 0; i < pool_size; i++) {
        d->conns[i].owner = d;
        d->conns[i].h = d->drv->connect(url, app_name, err);
        if (d->conns[i].h == NULL) {
            db_close(d);
            return NULL;
        }
        if (d->drv->count_busy != NULL)
            d->drv->count_busy(d->conns[i].h, &d->busy_sleeps);
    }
    return d;
}

static void db__conn_clear_cache(db_conn *c)
{
    for (int i = 0; i < c->ncache; i++) {
        db_stmt *s = c->cache[i];
        if (s == NULL)
            continue;
        db_reset(s);
        c->owner->drv->finalize(c->h, s->st);
        free(s);
    }
    free(c->cache);
    c->cache = NULL;
    c->ncache = 0;
}

void db_close(db *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->size; i++) {
        db_conn *c = &d->conns[i];
        assert(!c->in_use);
        if (c->h == NULL)
            continue;
        db__conn_clear_cache(c);
        d->drv->disconnect(c->h);
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->freed);
    pthread_mutex_destroy(&d->write_gate);
    free(d->conns);
    free(d->url);
    free(d);
}

const char *db_url(const db *d)
{
    return d->url;
}

int db_listen(db_conn *c, const char *channel, db_error *err)
{
    return c->owner->drv->listen(c->h, channel, err);
}

int db_wait_notify(db_conn *c, int timeout_ms, db_error *err)
{
    return c->owner->drv->wait_notify(c->h, timeout_ms, NULL, NULL, err);
}

int db_wait_notify_each(db_conn *c, int timeout_ms, db_notify_fn fn, void *arg, db_error *err)
{
    return c->owner->drv->wait_notify(c->h, timeout_ms, fn, arg, err);
}

db_engine db_engine_of(const db *d)
{
    return d->drv->engine;
}

db_engine db_conn_engine(const db_conn *c)
{
    return c->owner->drv->engine;
}

db_conn *db_acquire(db *d)
{
    pthread_mutex_lock(&d->lock);
    d->acquires++;
    if (d->in_use == d->size)
        d->waits++;
    while (d->in_use == d->size)
        pthread_cond_wait(&d->freed, &d->lock);
    db_conn *c = NULL;
    for (int i = 0; i < d->size; i++) {
        if (!d->conns[i].in_use) {
            c = &d->conns[i];
            break;
        }
    }
    assert(c != NULL);
    c->in_use = true;
    d->in_use++;
    pthread_mutex_unlock(&d->lock);
    return c;
}

void db_release(db_conn *c)
{
    db *d = c->owner;
    if (c->in_tx || c->writing) { /* a caller forgot to end its transaction */
        log_error("a connection came back to the pool inside a transaction; rolling back");
        db_rollback(c);
    }
    if (c->gate_refs > 0) { /* a writing statement was never reset */
        log_error("a connection came back to the pool with a write unfinished; resetting it");
        for (int i = 0; i < c->ncache; i++)
            if (c->cache[i] != NULL && c->cache[i]->gated)
                db_reset(c->cache[i]);
    }
    c->rolled_back = false;
    pthread_mutex_lock(&d->lock);
    assert(c->in_use);
    c->in_use = false;
    d->in_use--;
    pthread_cond_signal(&d->freed);
    pthread_mutex_unlock(&d->lock);
}

void db_stats(db *d, db_pool_stats *out)
{
    pthread_mutex_lock(&d->lock);
    out->size = d->size;
    out->in_use = d->in_use;
    out->acquires = d->acquires;
    out->waits = d->waits;
    pthread_mutex_unlock(&d->lock);
    out->busy_sleeps = __atomic_load_n(&d->busy_sleeps, __ATOMIC_RELAXED);
}

int db_ping(db *d, db_error *err)
{
    db_conn *c = db_acquire(d);
    int rc = d->drv->ping(c->h, err);
    db_release(c);
    return rc;
}

static void db__param_clear(db_param *p)
{
    if (p->type == DB_P_TEXT || p->type == DB_P_BLOB)
        free(p->p);
    memset(p, 0, sizeof(*p));
}

db_stmt *db_prepare(db_conn *c, db_sql *sql, db_error *err)
{
    int slot = __atomic_load_n(&sql->slot, __ATOMIC_ACQUIRE);
    if (slot == 0) {
        int fresh = __atomic_add_fetch(&db__next_slot, 1, __ATOMIC_ACQ_REL);
        int expected = 0;
        if (!__atomic_compare_exchange_n(&sql->slot, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            fresh = expected; /* another thread won; its number stands */
        slot = fresh;
    }
    if (slot >= c->ncache) {
        int n = slot + 32;
        c->cache = xrealloc(c->cache, (size_t)n * sizeof(*c->cache));
        memset(c->cache + c->ncache, 0, (size_t)(n - c->ncache) * sizeof(*c->cache));
        c->ncache = n;
    }
    db_stmt *s = c->cache[slot];
    if (s == NULL) {
        const db_driver *drv = c->owner->drv;
        const char *text = drv->engine == DB_ENGINE_POSTGRES && sql->pg ? sql->pg : sql->sqlite;
        void *st = drv->prepare(c->h, text, slot, err);
        if (st == NULL)
            return NULL;
        s = xcalloc(1, sizeof(*s));
        s->conn = c;
        s->st = st;
        s->writes = drv->one_writer && drv->writes != NULL && drv->writes(st);
        c->cache[slot] = s;
    }
    db_reset(s);
    return s;
}

static db_param *db__param(db_stmt *s, int i)
{
    /* A parameter number is fixed in our own code, never taken from input, so
     * one out of range is a bug: stop here in every build rather than write
     * past the array where NDEBUG has removed the assert. */
    if (i < 1 || i > DB_MAX_PARAMS) {
        log_error("db: parameter $%d is outside 1..%d", i, DB_MAX_PARAMS);
        abort();
    }
    db_param *p = &s->params[i - 1];
    db__param_clear(p);
    if (i > s->nparams)
        s->nparams = i;
    return p;
}

void db_bind_textn(db_stmt *s, int i, const char *v, size_t n)
{
    db_param *p = db__param(s, i);
    if (v == NULL)
        return;
    p->type = DB_P_TEXT;
    p->p = xstrndup(v, n);
    p->n = n;
}

void db_bind_text(db_stmt *s, int i, const char *v)
{
    db_bind_textn(s, i, v, v ? strlen(v) : 0);
}

void db_bind_int64(db_stmt *s, int i, int64_t v)
{
    db_param *p = db__param(s, i);
    p->type = DB_P_INT64;
    p->i = v;
}

void db_bind_double(db_stmt *s, int i, double v)
{
    db_param *p = db__param(s, i);
    p->type = DB_P_DOUBLE;
    p->d = v;
}

void db_bind_bool(db_stmt *s, int i, bool v)
{
    db_param *p = db__param(s, i);
    p->type = DB_P_BOOL;
    p->i = v ? 1 : 0;
}

void db_bind_time(db_stmt *s, int i, int64_t usec)
{
    db_param *p = db__param(s, i);
    p->type = DB_P_TIME;
    p->i = usec;
}

void db_bind_blob(db_stmt *s, int i, const void *v, size_t n)
{
    db_param *p = db__param(s, i);
    p->type = DB_P_BLOB;
    p->p = xmalloc(n ? n : 1);
    if (n)
        memcpy(p->p, v, n);
    p->n = n;
}

void db_bind_null(db_stmt *s, int i)
{
    db__param(s, i);
}

static int db__gate_take(db_conn *c, db_error *err);
static void db__gate_drop(db_conn *c);

/* A statement that writes, run outside a write transaction, holds the write
 * gate from its first step until it is done (SQLite commits an autocommit
 * statement then) or reset. In a transaction begun with db_begin() its first
 * write takes the gate for the rest of the transaction, as SQLite keeps its
 * write lock until the end (decision 71). */
static int db__gate_statement(db_stmt *s, db_error *err)
{
    db_conn *c = s->conn;
    if (c->writing)
        return 0;
    if (db__gate_take(c, err) != 0)
        return DB_ERR;
    if (c->in_tx)
        c->writing = true;
    else
        s->gated = true;
    return 0;
}

static void db__stmt_ungate(db_stmt *s)
{
    if (s->gated) {
        s->gated = false;
        db__gate_drop(s->conn);
    }
}

int db_step(db_stmt *s, db_error *err)
{
    const db_driver *drv = s->conn->owner->drv;
    bool first = !s->started;
    s->started = true;
    if (__builtin_expect(__atomic_load_n(&s->conn->owner->faultsim_armed, __ATOMIC_RELAXED), 0) &&
        db__faultsim(s->conn->owner, DB_FAULTSIM_STEP, err) != 0)
        return DB_ERR;
    if (s->writes && first && db__gate_statement(s, err) != 0)
        return DB_ERR;
    int rc = drv->step(s->conn->h, s->st, s->params, s->nparams, err);
    if (rc != DB_ROW)
        db__stmt_ungate(s);
    return rc;
}

int db_col_count(db_stmt *s)
{
    return s->conn->owner->drv->col_count(s->st);
}

const char *db_col_name(db_stmt *s, int i)
{
    return s->conn->owner->drv->col_name(s->st, i);
}

bool db_col_is_null(db_stmt *s, int i)
{
    return s->conn->owner->drv->col_is_null(s->st, i);
}

const char *db_col_text(db_stmt *s, int i)
{
    const db_driver *drv = s->conn->owner->drv;
    return drv->col_is_null(s->st, i) ? NULL : drv->col_text(s->st, i);
}

int64_t db_col_int64(db_stmt *s, int i)
{
    return s->conn->owner->drv->col_int64(s->st, i);
}

double db_col_double(db_stmt *s, int i)
{
    return s->conn->owner->drv->col_double(s->st, i);
}

bool db_col_bool(db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t != NULL && (t[0] == 't' || t[0] == '1' || t[0] == 'T');
}

int64_t db_col_time(db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    int64_t usec = 0;
    if (t != NULL && !time_parse(t, &usec))
        log_error("unparseable timestamp '%s' in column %d", t, i);
    return usec;
}

const void *db_col_blob(db_stmt *s, int i, size_t *n)
{
    return s->conn->owner->drv->col_blob(s->st, i, n);
}

int64_t db_changes(db_stmt *s)
{
    return s->conn->owner->drv->changes(s->conn->h, s->st);
}

void db_reset(db_stmt *s)
{
    if (s->started)
        s->conn->owner->drv->reset(s->st);
    s->started = false;
    db__stmt_ungate(s);
    for (int i = 0; i < s->nparams; i++)
        db__param_clear(&s->params[i]);
    s->nparams = 0;
}

int db_exec(db_stmt *s, db_error *err)
{
    int rc = db_step(s, err);
    while (rc == DB_ROW)
        rc = db_step(s, err);
    return rc == DB_DONE ? 0 : DB_ERR;
}

int db_exec_script(db_conn *c, const char *sql, db_error *err)
{
    return c->owner->drv->exec_script(c->h, sql, err);
}

/* How long a writer queues for the gate before it gives up: SQLite's own
 * busy timeout, so a stuck writer fails the same way either way. */
#define DB_WRITE_GATE_TIMEOUT_MS 5000

/* Takes one hold of the write gate for c, locking it when c had none; a
 * connection never waits for its own hold (a write inside db_tx, or while
 * another write of c still returns rows). */
static int db__gate_take(db_conn *c, db_error *err)
{
    if (c->gate_refs > 0) {
        c->gate_refs++;
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DB_WRITE_GATE_TIMEOUT_MS / 1000;
    if (pthread_mutex_timedlock(&c->owner->write_gate, &until) != 0)
        return db_driver_set_error(err, DB_FAULT_BUSY, "another writer held the database for %d s",
                                   DB_WRITE_GATE_TIMEOUT_MS / 1000);
    c->gate_refs = 1;
    return 0;
}

static void db__gate_drop(db_conn *c)
{
    assert(c->gate_refs > 0);
    if (--c->gate_refs == 0)
        pthread_mutex_unlock(&c->owner->write_gate);
}

/* Ends the transaction's hold of the gate, if it has one. */
static void db__gate_open(db_conn *c)
{
    if (c->writing) {
        c->writing = false;
        db__gate_drop(c);
    }
}

int db_begin(db_conn *c, db_error *err)
{
    c->rolled_back = false;
    int rc = db_exec_script(c, c->owner->drv->begin_sql, err);
    c->in_tx = rc == 0;
    return rc;
}

int db_begin_write(db_conn *c, db_error *err)
{
    c->rolled_back = false;
    if (c->owner->drv->one_writer) {
        assert(!c->writing);
        if (db__gate_take(c, err) != 0)
            return DB_ERR;
        c->writing = true;
    }
    int rc = db_exec_script(c, c->owner->drv->begin_write_sql, err);
    c->in_tx = rc == 0;
    if (rc != 0)
        db__gate_open(c);
    return rc;
}

int db_commit(db_conn *c, db_error *err)
{
    if (__builtin_expect(__atomic_load_n(&c->owner->faultsim_armed, __ATOMIC_RELAXED), 0) &&
        db__faultsim(c->owner, DB_FAULTSIM_COMMIT, err) != 0) {
        db_rollback(c); /* a COMMIT that failed ended the transaction, undone */
        c->rolled_back = true;
        return DB_ERR;
    }
    int rc = db_exec_script(c, "COMMIT", err);
    /* A failed COMMIT ends PostgreSQL's transaction but leaves SQLite's
     * open; end it here too, so no transaction (and no write gate) outlives
     * this call, and make the caller's db_rollback() a no-op. */
    if (rc != 0 && c->owner->drv->one_writer) {
        db_error ignored;
        db_exec_script(c, "ROLLBACK", &ignored);
        c->rolled_back = true;
    }
    c->in_tx = false;
    db__gate_open(c);
    return rc;
}

void db_rollback(db_conn *c)
{
    if (c->rolled_back) {
        c->rolled_back = false;
        return;
    }
    db_error err;
    if (db_exec_script(c, "ROLLBACK", &err) != 0)
        log_warn("rollback failed: %s", err.message);
    c->in_tx = false;
    db__gate_open(c);
}

/* ---- Statement helpers: one call per store statement (db.h). ---- */

void db_bind_args(db_stmt *s, db_args args)
{
    for (int i = 0; i < args.n; i++) {
        const db_arg *v = &args.v[i];
        switch (v->kind) {
        case DB_ARG_NULL:
            db_bind_null(s, i + 1);
            break;
        case DB_ARG_TEXT:
            db_bind_text(s, i + 1, v->v.text);
            break;
        case DB_ARG_TEXTN:
            db_bind_textn(s, i + 1, v->v.text, v->n);
            break;
        case DB_ARG_INT64:
            db_bind_int64(s, i + 1, v->v.i);
            break;
        case DB_ARG_DOUBLE:
            db_bind_double(s, i + 1, v->v.d);
            break;
        case DB_ARG_BOOL:
            db_bind_bool(s, i + 1, v->v.b);
            break;
        case DB_ARG_TIME:
            db_bind_time(s, i + 1, v->v.i);
            break;
        case DB_ARG_BLOB:
            db_bind_blob(s, i + 1, v->v.blob, v->n);
            break;
        }
    }
}

/* Maps a failure of a helper's statement on c, remembering its fault. */
static int db__fail(db_conn *c, error *err, const db_error *de, const char *field)
{
    c->fault = de->fault;
    return db_to_error(err, de, field);
}

db_fault db_last_fault(const db_conn *c)
{
    return c->fault;
}

/* Prepares q and binds args; NULL with err filled when it cannot prepare. */
static db_stmt *db__start(db_conn *c, db_sql *q, db_args args, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, q, &de);
    c->fault = DB_FAULT_NONE;
    if (s == NULL) {
        db__fail(c, err, &de, NULL);
        return NULL;
    }
    db_bind_args(s, args);
    return s;
}

int db_first(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err)
{
    db_stmt *s = db__start(c, q, args, err);
    if (s == NULL)
        return -1;
    db_error de;
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW && read != NULL ? read(s, a, out, err) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db__fail(c, err, &de, NULL);
    if (bad != 0)
        return -1;
    return rc == DB_ROW ? 1 : 0;
}

int db_one(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err,
           const char *not_found_field, const char *not_found_fmt, ...)
{
    int rc = db_first(c, q, args, read, a, out, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (err != NULL) {
        char msg[sizeof(err->message)];
        va_list ap;
        va_start(ap, not_found_fmt);
        vsnprintf(msg, sizeof(msg), not_found_fmt, ap);
        va_end(ap);
        error_set(err, ERR_NOT_FOUND, not_found_field, "%s", msg);
    }
    return -1;
}

int db_row_int64(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    *(int64_t *)out = db_col_int64(s, 0);
    return 0;
}

int db_int64(db_conn *c, db_sql *q, db_args args, int64_t *out, error *err)
{
    *out = 0;
    return db_first(c, q, args, db_row_int64, NULL, out, err) < 0 ? -1 : 0;
}

/* clock_timestamp(), not now(): now() is the start of the transaction. */
static db_sql Q_NOW =
    DB_SQL2("SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");

int db_now_usec(db_conn *c, int64_t *out, error *err)
{
    return db_int64(c, &Q_NOW, DB_NOARGS, out, err);
}

int db_each(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err)
{
    db_stmt *s = db__start(c, q, args, err);
    if (s == NULL)
        return -1;
    db_error de;
    int rc, bad = 0;
    while (bad == 0 && (rc = db_step(s, &de)) == DB_ROW)
        bad = read(s, a, out, err);
    db_reset(s);
    if (bad != 0)
        return bad < 0 ? -1 : 0;
    return rc == DB_ERR ? db__fail(c, err, &de, NULL) : 0;
}

int db_list(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, size_t size, size_t cap,
            void *out, size_t *n, error *err)
{
    char *v = arena_alloc(a, size * (cap > 0 ? cap : 1));
    cap = cap > 0 ? cap : 1;
    *n = 0;
    memcpy(out, &v, sizeof(v));
    db_stmt *s = db__start(c, q, args, err);
    if (s == NULL)
        return -1;
    db_error de;
    int rc, bad = 0;
    while (bad == 0 && (rc = db_step(s, &de)) == DB_ROW) {
        if (*n == cap) {
            v = arena_grow(a, v, cap, cap * 2, size);
            cap *= 2;
            memcpy(out, &v, sizeof(v));
        }
        void *el = v + size * (*n)++;
        memset(el, 0, size);
        bad = read(s, a, el, err);
    }
    db_reset(s);
    if (bad != 0)
        return bad < 0 ? -1 : 0;
    return rc == DB_ERR ? db__fail(c, err, &de, NULL) : 0;
}

int64_t db_write(db_conn *c, db_sql *q, db_args args, const char *field, error *err)
{
    db_stmt *s = db__start(c, q, args, err);
    if (s == NULL)
        return -1;
    db_error de;
    int rc = db_exec(s, &de);
    int64_t changed = rc == 0 ? db_changes(s) : 0;
    db_reset(s);
    return rc == 0 ? changed : db__fail(c, err, &de, field);
}

int db_tx(db_conn *c, db_tx_fn fn, void *arg, error *err)
{
    db_error de;
    if (db_begin_write(c, &de) != 0)
        return db__fail(c, err, &de, NULL);
    int rc = fn(c, arg, err);
    if (rc < 0) {
        db_rollback(c);
        return -1;
    }
    if (db_commit(c, &de) != 0) {
        db_rollback(c);
        return db__fail(c, err, &de, NULL);
    }
    return rc;
}

/* ---- fault simulation (tests only) ------------------------------------------------
 *
 * SQLite's test_malloc.c faultsimConfig(nDelay, nRepeat), for statements:
 * when armed, every db_step() and db_commit() is counted, and the delay-th
 * one of the chosen kind fails, with repeat more after it, as a lost
 * connection would. Disarmed (always, outside tests) the cost is the one
 * relaxed load and predicted branch in db_step() and db_commit(). The
 * counters are shared by every connection of the pool: tests arm it around
 * one request and nothing else runs meanwhile. */

static int db__fs_delay[2], db__fs_repeat[2], db__fs_seen[2], db__fs_fired[2];
static pthread_mutex_t db__fs_lock = PTHREAD_MUTEX_INITIALIZER;

static int db__faultsim(db *d, db_faultsim_target t, db_error *err)
{
    (void)d;
    pthread_mutex_lock(&db__fs_lock);
    int n = ++db__fs_seen[t];
    bool fail = db__fs_delay[t] > 0 && n >= db__fs_delay[t] &&
                (db__fs_repeat[t] < 0 || n <= db__fs_delay[t] + db__fs_repeat[t]);
    if (fail)
        db__fs_fired[t]++;
    pthread_mutex_unlock(&db__fs_lock);
    if (!fail)
        return 0;
    return db_driver_set_error(err, DB_FAULT_CONNECTION, "simulated fault: %s number %d failed",
                               t == DB_FAULTSIM_STEP ? "statement" : "commit", n);
}

void db_faultsim_config(db *d, db_faultsim_target t, int delay, int repeat)
{
    pthread_mutex_lock(&db__fs_lock);
    db__fs_delay[t] = delay;
    db__fs_repeat[t] = repeat;
    db__fs_seen[t] = 0;
    db__fs_fired[t] = 0;
    pthread_mutex_unlock(&db__fs_lock);
    __atomic_store_n(&d->faultsim_armed, 1, __ATOMIC_RELAXED);
}

void db_faultsim_off(db *d)
{
    __atomic_store_n(&d->faultsim_armed, 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&db__fs_lock);
    memset(db__fs_delay, 0, sizeof(db__fs_delay));
    pthread_mutex_unlock(&db__fs_lock);
}

int db_faultsim_seen(db_faultsim_target t, int *fired)
{
    pthread_mutex_lock(&db__fs_lock);
    int n = db__fs_seen[t];
    if (fired != NULL)
        *fired = db__fs_fired[t];
    pthread_mutex_unlock(&db__fs_lock);
    return n;
}
