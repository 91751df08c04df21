/*
 * The private contract between db.c and each engine driver (dovecot's
 * sql-private.h). db.c owns the pool, the statement cache and parameter
 * storage; a driver turns those into engine calls. Only the db/ files
 * include this header.
 */
#ifndef PS_DB_DRIVER_H
#define PS_DB_DRIVER_H

#include "db/db.h"

typedef enum db_param_type {
    DB_P_NULL,
    DB_P_TEXT,
    DB_P_INT64,
    DB_P_DOUBLE,
    DB_P_BOOL,
    DB_P_TIME,
    DB_P_BLOB,
} db_param_type;

typedef struct db_param {
    db_param_type type;
    int64_t i; /* INT64, BOOL, TIME */
    double d;  /* DOUBLE */
    char *p;   /* TEXT (NUL-terminated), BLOB: owned copy */
    size_t n;  /* TEXT, BLOB length */
} db_param;

#define DB_MAX_PARAMS 64

typedef struct db_driver {
    const char *name;
    db_engine engine;
    /* Opens one connection, named app_name to the server where the engine
     * keeps such a name; returns the driver handle or NULL with err. */
    void *(*connect)(const char *url, const char *app_name, db_error *err);
    void (*disconnect)(void *h);
    /* Prepares text; returns a driver statement or NULL with err. */
    void *(*prepare)(void *h, const char *sql, int slot, db_error *err);
    void (*finalize)(void *h, void *st);
    /* Runs the statement with params on the first call, then advances. */
    int (*step)(void *h, void *st, const db_param *params, int nparams, db_error *err);
    int (*col_count)(void *st);
    const char *(*col_name)(void *st, int i);
    bool (*col_is_null)(void *st, int i);
    const char *(*col_text)(void *st, int i);
    const void *(*col_blob)(void *st, int i, size_t *n);
    int64_t (*col_int64)(void *st, int i);
    double (*col_double)(void *st, int i);
    int64_t (*changes)(void *h, void *st);
    void (*reset)(void *st);
    /* NULL, or whether the statement changes the database (SQLite:
     * !sqlite3_stmt_readonly): such a statement takes the write gate on
     * one_writer drivers. */
    bool (*writes)(void *st);
    int (*exec_script)(void *h, const char *sql, db_error *err);
    int (*ping)(void *h, db_error *err);
    int (*listen)(void *h, const char *channel, db_error *err);
    /* Consumes every pending notification, handing each payload to fn
     * (NULL: none is looked at), as db_wait_notify_each says. */
    int (*wait_notify)(void *h, int timeout_ms, db_notify_fn fn, void *arg, db_error *err);
    /* NULL, or makes the connection add 1 to *counter (atomically) each
     * time it sleeps waiting for another connection's lock. */
    void (*count_busy)(void *h, uint64_t *counter);
    /* Text of transaction statements. */
    const char *begin_sql;
    const char *begin_write_sql;
    /* One writer at a time per database (SQLite): the pool queues
     * db_begin_write() callers, and statements that write outside a write
     * transaction, on a mutex, which wakes the next one the moment the lock
     * is free, instead of leaving them to the busy handler's sleeps. */
    bool one_writer;
} db_driver;

extern const db_driver db_driver_sqlite;
extern const db_driver db_driver_pgsql;

/* What the drivers need of the db module lives in db_driver.c, so they
 * depend on this contract alone and db.c on their vtables: no circle. */

/** Fills err (NULL: nothing) with fault and the formatted message; returns DB_ERR. */
int db_driver_set_error(db_error *err, db_fault fault, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
