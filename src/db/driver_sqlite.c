/*
 * The SQLite driver. Every connection runs in WAL mode with foreign keys on
 * and a busy handler, so concurrent readers never block and a writer waits
 * for the lock (5 s at most) instead of failing at once. It tells the pool
 * which statements write (sqlite3_stmt_readonly), so they take its gate. Placeholders are written
 * $1, $2 … in the shared SQL; SQLite treats "$1" as a named parameter, so binding maps each index
 * to the parameter named "$<index>" rather than trusting order.
 */
#include "base/alloc.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "db/db_driver.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQLITE__BUSY_TIMEOUT_MS 5000

/* SQLite's own busy handler sleeps 1, 2, 5 … up to 100 ms between tries, so
 * a writer that arrives just after another can sleep far longer than the
 * lock is held (writes here take well under a millisecond). This one tries
 * again after 0.1, 0.2, 0.4, 0.8, 1.6 ms and then every 2 ms, for the same
 * 5 s in all. Every writer of one pool, transaction or single statement,
 * queues on the pool's write gate (db.c) and does not get here; other pools
 * and other processes do. The pool counts the sleeps (db_stats). */
static int sqlite__busy(void *counter, int count)
{
    /* count tries so far: they waited 100 * (2^count - 1) us while doubling,
     * then 2 ms each after the fifth. */
    int64_t waited = count <= 5 ? 100LL * ((1LL << count) - 1) : 3100 + (count - 5) * 2000LL;
    if (waited >= SQLITE__BUSY_TIMEOUT_MS * 1000LL)
        return 0;
    long step_us = count < 5 ? 100L << count : 2000L;
    struct timespec ts = {0, step_us * 1000};
    if (counter != NULL)
        __atomic_add_fetch((uint64_t *)counter, 1, __ATOMIC_RELAXED);
    nanosleep(&ts, NULL);
    return 1;
}

static void sqlite__count_busy(void *h, uint64_t *counter)
{
    sqlite3_busy_handler(h, sqlite__busy, counter);
}

typedef struct sqlite__stmt {
    sqlite3_stmt *st;
    int map[DB_MAX_PARAMS + 1]; /* $n → sqlite parameter index, 0 if absent */
    int64_t changes;
} sqlite__stmt;

/* The errno behind an I/O error. sqlite3_system_errno() is set only where
 * a statement fails inside the VDBE; a COMMIT's WAL write fails after it
 * and leaves it 0. The unix VFS keeps each file's last errno, though: the
 * write-ahead log's first (a transaction's writes all go there), then the
 * database file's. 0 when none is known. */
static int sqlite__io_errno(sqlite3 *h)
{
    sqlite3_file *wal = NULL;
    int e = 0;
    if (sqlite3_file_control(h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK &&
        wal != NULL && wal->pMethods != NULL &&
        wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK && e != 0)
        return e;
    e = 0;
    if (sqlite3_file_control(h, "main", SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK && e != 0)
        return e;
    return sqlite3_system_errno(h);
}

static db_fault sqlite__fault(sqlite3 *h, int rc, int io_errno)
{
    switch (sqlite3_extended_errcode(h)) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return DB_FAULT_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return DB_FAULT_FOREIGN_KEY;
    case SQLITE_CONSTRAINT_CHECK:
        return DB_FAULT_CHECK;
    case SQLITE_CONSTRAINT_NOTNULL:
        return DB_FAULT_NOT_NULL;
    default:
        break;
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return DB_FAULT_BUSY;
    /* A write cut short by a full disk is SQLITE_FULL; one refused
     * outright (EFBIG past RLIMIT_FSIZE, EDQUOT) is an I/O error, most
     * often SQLITE_IOERR_WRITE, whose errno says why. */
    if ((rc & 0xff) == SQLITE_FULL ||
        ((rc & 0xff) == SQLITE_IOERR && error_errno_is_full(io_errno)))
        return DB_FAULT_FULL;
    return DB_FAULT_OTHER;
}

/* Sets err from a failed call; an I/O error's message names SQLite's
 * extended code and the errno, which the log needs to tell a full disk
 * from a failing one. */
static int sqlite__fail(sqlite3 *h, int rc, db_error *err, const char *what, const char *msg)
{
    int kind = rc & 0xff;
    if (kind != SQLITE_IOERR && kind != SQLITE_FULL)
        return db_driver_set_error(err, sqlite__fault(h, rc, 0), "sqlite: %s%s%s", what,
                                   what[0] ? ": " : "", msg);
    int io_errno = sqlite__io_errno(h);
    return db_driver_set_error(err, sqlite__fault(h, rc, io_errno),
                               "sqlite: %s%s%s (extended code %d, errno %d: %s)", what,
                               what[0] ? ": " : "", msg, sqlite3_extended_errcode(h), io_errno,
                               io_errno != 0 ? strerror(io_errno) : "none");
}

static int sqlite__error(sqlite3 *h, int rc, db_error *err, const char *what)
{
    return sqlite__fail(h, rc, err, what, sqlite3_errmsg(h));
}

static void *sqlite__connect(const char *url, const char *app_name, db_error *err)
{
    const char *path = url + strlen("sqlite://");
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(
        path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        db_driver_set_error(err, DB_FAULT_CONNECTION, "cannot open SQLite database %s: %s", path,
                            h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_handler(h, sqlite__busy, NULL);
    static const char setup[] = "PRAGMA journal_mode=WAL;"
                                "PRAGMA foreign_keys=ON;"
                                "PRAGMA synchronous=NORMAL;";
    char *msg = NULL;
    rc = sqlite3_exec(h, setup, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        db_driver_set_error(err, DB_FAULT_CONNECTION, "cannot set up SQLite database %s: %s", path,
                            msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(h);
        return NULL;
    }
    return h;
}

static void sqlite__disconnect(void *h)
{
    sqlite3_close_v2(h);
}

static void *sqlite__prepare(void *h, const char *sql, int slot, db_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return sqlite__error(h, rc, err, "prepare"), NULL;
    sqlite__stmt *s = xcalloc(1, sizeof(*s));
    s->st = st;
    for (int i = 1; i <= DB_MAX_PARAMS; i++) {
        char name[8];
        snprintf(name, sizeof(name), "$%d", i);
        s->map[i] = sqlite3_bind_parameter_index(st, name);
    }
    return s;
}

static void sqlite__finalize(void *h, void *st)
{
    sqlite__stmt *s = st;
    sqlite3_finalize(s->st);
    free(s);
}

static int sqlite__bind(sqlite3 *h, sqlite__stmt *s, const db_param *params, int n, db_error *err)
{
    for (int i = 1; i <= n; i++) {
        int idx = s->map[i];
        if (idx == 0)
            continue;
        const db_param *p = &params[i - 1];
        int rc = SQLITE_OK;
        char ts[TIME_STR_LEN + 1];
        switch (p->type) {
        case DB_P_NULL:
            rc = sqlite3_bind_null(s->st, idx);
            break;
        case DB_P_TEXT:
            rc = sqlite3_bind_text64(s->st, idx, p->p, p->n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        case DB_P_INT64:
        case DB_P_BOOL:
            rc = sqlite3_bind_int64(s->st, idx, p->i);
            break;
        case DB_P_DOUBLE:
            rc = sqlite3_bind_double(s->st, idx, p->d);
            break;
        case DB_P_TIME:
            time_format(p->i, ts);
            rc = sqlite3_bind_text(s->st, idx, ts, -1, SQLITE_TRANSIENT);
            break;
        case DB_P_BLOB:
            rc = sqlite3_bind_blob64(s->st, idx, p->p, p->n, SQLITE_STATIC);
            break;
        }
        if (rc != SQLITE_OK)
            return sqlite__error(h, rc, err, "bind");
    }
    return 0;
}

static int sqlite__step(void *h, void *st, const db_param *params, int nparams, db_error *err)
{
    sqlite__stmt *s = st;
    if (!sqlite3_stmt_busy(s->st)) {
        if (sqlite__bind(h, s, params, nparams, err) != 0)
            return DB_ERR;
    }
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(h);
        return DB_DONE;
    }
    sqlite__error(h, rc, err, "step");
    sqlite3_reset(s->st);
    return DB_ERR;
}

static int sqlite__col_count(void *st)
{
    return sqlite3_column_count(((sqlite__stmt *)st)->st);
}

static const char *sqlite__col_name(void *st, int i)
{
    return sqlite3_column_name(((sqlite__stmt *)st)->st, i);
}

static bool sqlite__col_is_null(void *st, int i)
{
    return sqlite3_column_type(((sqlite__stmt *)st)->st, i) == SQLITE_NULL;
}

static const char *sqlite__col_text(void *st, int i)
{
    return (const char *)sqlite3_column_text(((sqlite__stmt *)st)->st, i);
}

static const void *sqlite__col_blob(void *st, int i, size_t *n)
{
    sqlite3_stmt *s = ((sqlite__stmt *)st)->st;
    const void *p = sqlite3_column_blob(s, i);
    *n = (size_t)sqlite3_column_bytes(s, i);
    return p;
}

static int64_t sqlite__col_int64(void *st, int i)
{
    return sqlite3_column_int64(((sqlite__stmt *)st)->st, i);
}

static double sqlite__col_double(void *st, int i)
{
    return sqlite3_column_double(((sqlite__stmt *)st)->st, i);
}

static int64_t sqlite__changes(void *h, void *st)
{
    return ((sqlite__stmt *)st)->changes;
}

static void sqlite__reset(void *st)
{
    sqlite__stmt *s = st;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
}

static bool sqlite__writes(void *st)
{
    return !sqlite3_stmt_readonly(((sqlite__stmt *)st)->st);
}

static int sqlite__exec_script(void *h, const char *sql, db_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    sqlite__fail(h, rc, err, "", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return DB_ERR;
}

static int sqlite__ping(void *h, db_error *err)
{
    return sqlite__exec_script(h, "SELECT 1 FROM sqlite_schema LIMIT 1", err);
}

/* SQLite has no notifications: listening is a no-op and waiting a sleep,
 * so the caller's loop polls at the rate of its timeout. */
static int sqlite__listen(void *h, const char *channel, db_error *err)
{
    return 0;
}

static int sqlite__wait_notify(void *h, int timeout_ms, db_notify_fn fn, void *arg, db_error *err)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

const db_driver db_driver_sqlite = {
    .name = "sqlite",
    .engine = DB_ENGINE_SQLITE,
    .connect = sqlite__connect,
    .disconnect = sqlite__disconnect,
    .prepare = sqlite__prepare,
    .finalize = sqlite__finalize,
    .step = sqlite__step,
    .col_count = sqlite__col_count,
    .col_name = sqlite__col_name,
    .col_is_null = sqlite__col_is_null,
    .col_text = sqlite__col_text,
    .col_blob = sqlite__col_blob,
    .col_int64 = sqlite__col_int64,
    .col_double = sqlite__col_double,
    .changes = sqlite__changes,
    .reset = sqlite__reset,
    .writes = sqlite__writes,
    .exec_script = sqlite__exec_script,
    .ping = sqlite__ping,
    .listen = sqlite__listen,
    .wait_notify = sqlite__wait_notify,
    .count_busy = sqlite__count_busy,
    .begin_sql = "BEGIN",
    .begin_write_sql = "BEGIN IMMEDIATE",
    .one_writer = true,
};
