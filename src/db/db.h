/*
 * db: one API over two engines, SQLite and PostgreSQL (after dovecot's
 * lib-sql). A `db` is a fixed pool of connections opened from a URL
 * (sqlite:///path/to/file.db, postgres://user@host:port/name). A thread
 * borrows one connection with db_acquire(), runs statements on it and gives it
 * back with db_release(). A connection is used by one thread at a time.
 *
 * Statements are declared once, statically, with DB_SQL(): the text is
 * written with $1, $2 … placeholders, which both drivers bind natively; where
 * the engines' SQL differs the declaration carries a second text for
 * PostgreSQL right beside the first. Each connection prepares a statement the
 * first time it is used and keeps it, so SQL is parsed once per connection.
 *
 * Values cross the API in one representation whatever the engine:
 *   time   int64 microseconds since the epoch, UTC (timestamptz / RFC 3339 TEXT)
 *   bool   bool (boolean / INTEGER 0-1)
 *   uuid   36-char text (uuid / TEXT)
 *   json   text (jsonb / TEXT checked by json_valid)
 *
 * Ownership: the db owns its connections; db_close() must come after every
 * connection was released. Column values returned by db_col_*() stay valid
 * until the next db_step() or db_reset() of that statement.
 */
#ifndef PS_DB_DB_H
#define PS_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db db;
typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;

typedef enum db_engine { DB_ENGINE_SQLITE, DB_ENGINE_POSTGRES } db_engine;

/* What went wrong, in terms a caller can act on: a unique violation becomes
 * a 409, a foreign key or check violation a 422, a connection fault a 503. */
typedef enum db_fault {
    DB_FAULT_NONE = 0,
    DB_FAULT_UNIQUE,
    DB_FAULT_FOREIGN_KEY,
    DB_FAULT_CHECK,
    DB_FAULT_NOT_NULL,
    DB_FAULT_BUSY,       /* lock timeout or serialization failure: retry */
    DB_FAULT_CONNECTION, /* the server is gone or unreachable */
    DB_FAULT_URL,        /* the URL itself is malformed */
    DB_FAULT_SCHEMA,     /* the schema version does not match this binary */
    DB_FAULT_FULL,       /* the database's disk is full (or past a file size limit) */
    DB_FAULT_OTHER,
} db_fault;

typedef struct db_error {
    db_fault fault;
    char message[512]; /* the engine's own message, with context */
} db_error;

/* A statement declaration. Use DB_SQL / DB_SQL2 at file scope:
 *   static db_sql Q_USER_BY_ID = DB_SQL("SELECT … WHERE id = $1");
 * `slot` is assigned on first use and indexes each connection's cache. */
typedef struct db_sql {
    const char *sqlite;
    const char *pg; /* NULL: the same text as sqlite */
    int slot;
} db_sql;

#define DB_SQL(text)                                                                               \
    {                                                                                              \
        (text), NULL, 0                                                                            \
    }
#define DB_SQL2(sqlite, pg)                                                                        \
    {                                                                                              \
        (sqlite), (pg), 0                                                                          \
    }

/* Step results. */
#define DB_ROW  1
#define DB_DONE 0
#define DB_ERR  (-1)

typedef struct db_pool_stats {
    int size;          /* connections in the pool */
    int in_use;        /* currently borrowed */
    uint64_t acquires; /* total db_acquire() calls */
    uint64_t waits;    /* acquires that had to wait for a free connection */
    /* SQLite: times a statement of this pool slept in the busy handler
     * because another connection held the write lock (0 on PostgreSQL).
     * Writers of one pool queue on its write gate instead, so this counts
     * other pools and other processes. */
    uint64_t busy_sleeps;
} db_pool_stats;

/** Opens a pool of `pool_size` connections (at least 1) to url; NULL and err on failure. */
db *db_open(const char *url, int pool_size, db_error *err);
/**
 * As db_open, with the connections named app_name to the server
 * (PostgreSQL's application_name, which pg_stat_activity shows; SQLite has
 * no such name). db_open names them "pstudio".
 */
db *db_open_named(const char *url, int pool_size, const char *app_name, db_error *err);
void db_close(db *d);
db_engine db_engine_of(const db *d);
const char *db_engine_name(db_engine e);
/** Checks that url names a known engine and is well formed; does not connect. */
int db_url_check(const char *url, db_error *err);

/** Borrows a connection, waiting for one if all are in use. */
db_conn *db_acquire(db *d);
void db_release(db_conn *c);
db_engine db_conn_engine(const db_conn *c);
/** Runs a trivial query on a pooled connection; reconnects a broken PostgreSQL link. */
int db_ping(db *d, db_error *err);
void db_stats(db *d, db_pool_stats *out);

/** Prepares (or takes from the cache) and resets the statement; NULL and err on failure. */
db_stmt *db_prepare(db_conn *c, db_sql *sql, db_error *err);
/* Parameters are 1-based, as in SQL. Text and blobs are copied. */
void db_bind_text(db_stmt *s, int i, const char *v); /* NULL binds NULL */
void db_bind_textn(db_stmt *s, int i, const char *v, size_t n);
void db_bind_int64(db_stmt *s, int i, int64_t v);
void db_bind_double(db_stmt *s, int i, double v);
void db_bind_bool(db_stmt *s, int i, bool v);
void db_bind_time(db_stmt *s, int i, int64_t usec);
void db_bind_blob(db_stmt *s, int i, const void *v, size_t n);
void db_bind_null(db_stmt *s, int i);
/** Runs or advances the statement: DB_ROW, DB_DONE, or DB_ERR with err filled. */
int db_step(db_stmt *s, db_error *err);
/* Columns are 0-based. */
int db_col_count(db_stmt *s);
/** Column i's name as the query gives it (its alias, if any); valid while the row is. */
const char *db_col_name(db_stmt *s, int i);
bool db_col_is_null(db_stmt *s, int i);
const char *db_col_text(db_stmt *s, int i); /* NULL for SQL NULL */
int64_t db_col_int64(db_stmt *s, int i);
double db_col_double(db_stmt *s, int i);
bool db_col_bool(db_stmt *s, int i);
int64_t db_col_time(db_stmt *s, int i); /* 0 for NULL */
const void *db_col_blob(db_stmt *s, int i, size_t *n);
/**
 * Copies column i's text (NULL as "") into dst of size bytes, whole or not
 * at all (text_copy): -1, and dst "", when it does not fit. Stores read into
 * fixed buffers only through this, and turn a -1 into db_col_too_long.
 */
int db_col_copy(db_stmt *s, int i, char *dst, size_t size);
#define DB_COL_COPY(s, i, dst) db_col_copy((s), (i), (dst), sizeof(dst))
/** Number of rows the last INSERT/UPDATE/DELETE changed. */
int64_t db_changes(db_stmt *s);
/** Ends the statement's current use; always call it when done with a statement. */
void db_reset(db_stmt *s);

/** Runs a statement with no result rows and the parameters already bound. */
int db_exec(db_stmt *s, db_error *err);
/** Runs a script of several statements with no parameters (migrations). */
int db_exec_script(db_conn *c, const char *sql, db_error *err);

/* Transactions. db_begin_write() takes the write lock up front on SQLite
 * (BEGIN IMMEDIATE) so a read-then-write transaction cannot deadlock.
 * On SQLite one writer of the pool runs at a time, queued on a mutex (the
 * write gate): a write transaction holds it from begin to end, a statement
 * that writes outside one from its first step until it is done or reset,
 * and a db_begin() transaction from its first write to its end. Reads never
 * wait for it. db_exec_script() does not take it: run a script that writes
 * inside db_begin_write(). */
int db_begin(db_conn *c, db_error *err);
int db_begin_write(db_conn *c, db_error *err);
int db_commit(db_conn *c, db_error *err);
/** Rolls back; never fails from the caller's point of view (errors are logged). */
void db_rollback(db_conn *c);

const char *db_fault_name(db_fault f);

/* Notifications (PostgreSQL LISTEN/NOTIFY), for waking idle job workers.
 * Keep a connection that listens for that alone: it is not returned to a
 * pool in use by others. SQLite has no notifications: db_listen() does
 * nothing and db_wait_notify() just sleeps, so callers poll instead. */

/** The URL the pool was opened with (to open a side connection like it). */
const char *db_url(const db *d);
/** Starts listening on channel; a reconnect listens again by itself. */
int db_listen(db_conn *c, const char *channel, db_error *err);
/**
 * Waits up to timeout_ms for a notification on a listening connection and
 * consumes every one pending: 1 when there was one, 0 on timeout, DB_ERR
 * when the connection failed (the next call reconnects).
 */
int db_wait_notify(db_conn *c, int timeout_ms, db_error *err);
/* One notification's payload (never NULL; "" when the sender gave none). */
typedef void (*db_notify_fn)(void *arg, const char *payload);
/**
 * As db_wait_notify, handing each notification's payload to fn, in the
 * order the server sent them, before it returns. timeout_ms 0 only takes
 * what has already arrived (e.g. during a query on the connection).
 */
int db_wait_notify_each(db_conn *c, int timeout_ms, db_notify_fn fn, void *arg, db_error *err);

/**
 * Maps a database error onto the app's error convention and returns -1:
 * unique → ERR_CONFLICT ("<field> is already taken"), foreign key / check /
 * not null → ERR_CONSTRAINT, connection or lock trouble → ERR_UNAVAILABLE
 * with DB_UNAVAILABLE_MESSAGE (the engine's message, which names hosts and
 * databases, goes to the log as a warning instead).
 */
#define DB_UNAVAILABLE_MESSAGE "the database is unavailable; try again shortly"
struct error;
typedef struct error error;
typedef struct arena arena;
int db_to_error(struct error *err, const db_error *de, const char *field);
/** The error for a stored value longer than the buffer it is read into
 * (ERR_INTERNAL, naming what was read); returns -1. */
int db_col_too_long(struct error *err, const char *what);
/** Column i's text copied into a (NULL for SQL NULL): for texts of no fixed size. */
const char *db_col_strdup(db_stmt *s, int i, arena *a);
/** Column i's blob copied into a, its length in *n (NULL and 0 for SQL NULL). */
const unsigned char *db_col_blobdup(db_stmt *s, int i, arena *a, size_t *n);
/** Runs s (no result rows), resets it, and maps a failure into err as
 * db_to_error does; *changes (may be NULL) gets the rows it touched. */
int db_run(db_stmt *s, int64_t *changes, struct error *err, const char *field);

/*
 * Statement helpers. A store call is one line: the statement, its arguments
 * bound natively (never pasted into the text), what to do with the rows, and
 * the error to fill. Each helper prepares (from the connection's cache), binds,
 * steps, always resets, and maps an engine failure into the app's error once,
 * as db_to_error does (field NULL): ERR_CONFLICT for a unique violation,
 * ERR_CONSTRAINT for a foreign key, check or not-null one, ERR_UNAVAILABLE
 * for connection or lock trouble, ERR_INTERNAL otherwise. They allocate
 * nothing beyond what the row callback does.
 *
 *   return db_one(c, &Q_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), channel__row, a, out,
 *                 err, NULL, "no channel with id %s", id);
 */
typedef enum db_arg_kind {
    DB_ARG_NULL,
    DB_ARG_TEXT, /* NULL binds NULL */
    DB_ARG_TEXTN,
    DB_ARG_INT64,
    DB_ARG_DOUBLE,
    DB_ARG_BOOL,
    DB_ARG_TIME,
    DB_ARG_BLOB,
} db_arg_kind;

/* One parameter value, bound as db_bind_<kind> would bind it. */
typedef struct db_arg {
    db_arg_kind kind;
    size_t n; /* TEXTN and BLOB */
    union {
        const char *text;
        const void *blob;
        int64_t i;
        double d;
        bool b;
    } v;
} db_arg;

/* The parameters $1 … $n of one call; the array lives on the caller's stack. */
typedef struct db_args {
    const db_arg *v;
    int n;
} db_args;

#define DB_NULL          ((db_arg){.kind = DB_ARG_NULL})
#define DB_TEXT(x)       ((db_arg){.kind = DB_ARG_TEXT, .v.text = (x)})
#define DB_TEXTN(x, len) ((db_arg){.kind = DB_ARG_TEXTN, .n = (len), .v.text = (x)})
#define DB_INT(x)        ((db_arg){.kind = DB_ARG_INT64, .v.i = (int64_t)(x)})
#define DB_DOUBLE(x)     ((db_arg){.kind = DB_ARG_DOUBLE, .v.d = (x)})
#define DB_BOOL(x)       ((db_arg){.kind = DB_ARG_BOOL, .v.b = (x)})
#define DB_TIME(usec)    ((db_arg){.kind = DB_ARG_TIME, .v.i = (usec)})
#define DB_BLOB(x, len)  ((db_arg){.kind = DB_ARG_BLOB, .n = (len), .v.blob = (x)})
/* $1 … $n in order: DB_ARGS(DB_TEXT(id), DB_INT(limit)). */
#define DB_ARGS(...)                                                                               \
    ((db_args){(const db_arg[]){__VA_ARGS__},                                                      \
               (int)(sizeof((db_arg[]){__VA_ARGS__}) / sizeof(db_arg))})
#define DB_NOARGS ((db_args){NULL, 0})

/** Binds args as $1 … $n of s. */
void db_bind_args(db_stmt *s, db_args args);

/**
 * Reads one row. It returns 0, or -1 with err filled (db_col_too_long when a
 * text does not fit its buffer), which the helper returns; db_each and
 * db_list also stop, with success, on 1 (a visitor that has seen enough).
 * `a` and `out` are the caller's, passed through: out is one element for
 * db_list.
 */
typedef int (*db_row_fn)(db_stmt *s, arena *a, void *out, error *err);

/**
 * Runs a query that should yield one row and hands it to read (NULL: the row
 * is only checked for). 0 when there was a row; -1 with err filled when there
 * was none (ERR_NOT_FOUND, not_found_field, the message formatted from
 * not_found_fmt), when the engine failed (the kinds above) or when read
 * failed. Rows after the first are ignored.
 */
int db_one(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err,
           const char *not_found_field, const char *not_found_fmt, ...)
    __attribute__((format(printf, 9, 10)));
/** As db_one where no row is an answer, not an error: 1 row read, 0 no row, -1 err filled. */
int db_first(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err);
/** A db_row_fn reading column 0 into an int64_t *out (0 for NULL). */
int db_row_int64(db_stmt *s, arena *a, void *out, error *err);
/** Column 0 of the first row as an int64 into *out (0 when no row or NULL): counts. 0 or -1. */
int db_int64(db_conn *c, db_sql *q, db_args args, int64_t *out, error *err);
/**
 * The database server's clock, in microseconds since the epoch (SQLite: this
 * machine's, since the file has no server). For the start-up skew check.
 */
int db_now_usec(db_conn *c, int64_t *out, error *err);
/** Calls read for each row, in order, with out as given. 0, or -1 with err filled. */
int db_each(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, void *out, error *err);
/**
 * Collects the rows into an array of elements of `size` bytes allocated from
 * a, read one element at a time (zeroed first). `cap` is the expected count
 * (a LIMIT: one allocation); the array doubles past it. *out and *n are set
 * even on failure (to what was read). 0, or -1 with err filled.
 */
int db_list(db_conn *c, db_sql *q, db_args args, db_row_fn read, arena *a, size_t size, size_t cap,
            void *out, size_t *n, error *err);
/**
 * Runs a statement with no result rows: the number of rows it changed (0 or
 * more), or -1 with err filled (field names the value for a unique conflict,
 * as in db_to_error).
 */
int64_t db_write(db_conn *c, db_sql *q, db_args args, const char *field, error *err);

/** The fault of the last helper call on c that failed in the engine
 * (DB_FAULT_NONE after one that did not), for a store that answers one fault
 * in its own words, e.g. a unique violation as "already registered". */
db_fault db_last_fault(const db_conn *c);

/**
 * A write transaction around fn (db_begin_write … db_commit): fn's statements
 * all happen or none does. Returns fn's result (0 or more) once committed;
 * -1 with err filled when the transaction could not begin or commit (mapped
 * as above) or when fn returned -1 (its err kept; rolled back).
 */
typedef int (*db_tx_fn)(db_conn *c, void *arg, error *err);
int db_tx(db_conn *c, db_tx_fn fn, void *arg, error *err);

/**
 * Fault simulation, for tests only (SQLite's faultsimConfig): once armed on
 * d, the delay-th db_step() (or db_commit()) from now fails with
 * DB_FAULT_CONNECTION, and so do the `repeat` ones after it (-1: all); a
 * failed commit rolls the transaction back. delay 0 only counts.
 * db_faultsim_seen() says how many were counted and how many failed.
 * Production code never arms it; disarmed, it costs one predicted branch.
 */
typedef enum db_faultsim_target { DB_FAULTSIM_STEP = 0, DB_FAULTSIM_COMMIT = 1 } db_faultsim_target;
void db_faultsim_config(db *d, db_faultsim_target t, int delay, int repeat);
/** Disarms d and forgets the delays (the counts stay readable). */
void db_faultsim_off(db *d);
int db_faultsim_seen(db_faultsim_target t, int *fired);

#endif
