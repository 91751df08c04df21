/* The db layer itself, the same on both engines: statement cache, binding,
 * transactions, fault classification, the pool and reconnection. */
#include "testlib.h"

#include "base/arena.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "base/uuid.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    testdb *t = test_calloc(1, sizeof(*t));
    testdb_create(t);
    testdb_exec(t, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, n BIGINT)");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    testdb *t = *state;
    testdb_destroy(t);
    test_free(t);
    return 0;
}

static db_sql Q_PUT = DB_SQL("INSERT INTO kv (k, v, n) VALUES ($1, $2, $3)");
static db_sql Q_GET = DB_SQL("SELECT v, n FROM kv WHERE k = $1");
static db_sql Q_BUMP = DB_SQL("UPDATE kv SET n = n + 1 WHERE n >= $1");

static int put(db_conn *c, const char *k, const char *v, int64_t n, db_error *de)
{
    db_stmt *s = db_prepare(c, &Q_PUT, de);
    if (s == NULL)
        return DB_ERR;
    db_bind_text(s, 1, k);
    db_bind_text(s, 2, v);
    db_bind_int64(s, 3, n);
    int rc = db_exec(s, de);
    db_reset(s);
    return rc;
}

static void test_a_statement_is_prepared_once_per_connection_and_reused(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    db_stmt *a = db_prepare(c, &Q_GET, &de);
    db_reset(a);
    db_stmt *b = db_prepare(c, &Q_GET, &de);
    assert_ptr_equal(a, b);
    db_reset(b);
    db_release(c);
}

static void test_parameters_bind_natively_so_quotes_are_data(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    const char *nasty = "x'); DROP TABLE kv; --";
    assert_int_equal(put(c, nasty, "it's \"quoted\"", 1, &de), 0);
    db_stmt *s = db_prepare(c, &Q_GET, &de);
    db_bind_text(s, 1, nasty);
    assert_int_equal(db_step(s, &de), DB_ROW);
    assert_string_equal(db_col_text(s, 0), "it's \"quoted\"");
    db_reset(s);
    db_release(c);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 1);
}

static void test_null_binds_and_reads_back_as_null(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(put(c, "k", NULL, 0, &de), 0);
    db_stmt *s = db_prepare(c, &Q_GET, &de);
    db_bind_text(s, 1, "k");
    assert_int_equal(db_step(s, &de), DB_ROW);
    assert_true(db_col_is_null(s, 0));
    assert_null(db_col_text(s, 0));
    assert_false(db_col_is_null(s, 1));
    db_reset(s);
    db_release(c);
}

static void test_changes_counts_the_rows_an_update_touched(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    for (int i = 0; i < 5; i++) {
        char k[24];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(put(c, k, "v", i, &de), 0);
    }
    db_stmt *s = db_prepare(c, &Q_BUMP, &de);
    db_bind_int64(s, 1, 2);
    assert_int_equal(db_exec(s, &de), 0);
    assert_int_equal(db_changes(s), 3);
    db_reset(s);
    db_release(c);
}

static void test_rollback_discards_every_write_of_the_transaction(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(put(c, "a", "1", 1, &de), 0);
    assert_int_equal(put(c, "b", "2", 2, &de), 0);
    db_rollback(c);
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(put(c, "c", "3", 3, &de), 0);
    assert_int_equal(db_commit(c, &de), 0);
    db_release(c);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 1);
}

static void test_a_failed_statement_inside_a_transaction_rolls_back_cleanly(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(put(c, "a", "1", 1, &de), 0);
    assert_int_equal(put(c, "a", "again", 2, &de), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_UNIQUE);
    db_rollback(c);
    /* The connection is usable afterwards, and nothing of the transaction stayed. */
    assert_int_equal(put(c, "z", "ok", 1, &de), 0);
    db_release(c);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 1);
}

static void test_a_syntax_error_carries_the_engines_message(void **state)
{
    testdb *t = *state;
    db_sql bad = DB_SQL("SELEC nonsense");
    db_conn *c = db_acquire(t->db);
    db_error de;
    db_stmt *s = db_prepare(c, &bad, &de);
    if (s != NULL) { /* PostgreSQL reports at prepare, SQLite too; either is fine */
        assert_int_equal(db_step(s, &de), DB_ERR);
        db_reset(s);
    }
    db_release(c);
    assert_int_equal(de.fault, DB_FAULT_OTHER);
    assert_non_null(strstr(de.message, "syntax"));
}

static void test_malformed_urls_are_refused_before_connecting(void **state)
{
    db_error de;
    assert_null(db_open("mysql://localhost/x", 1, &de));
    assert_int_equal(de.fault, DB_FAULT_URL);
    assert_null(db_open("sqlite://relative/path.db", 1, &de));
    assert_int_equal(de.fault, DB_FAULT_URL);
    assert_null(db_open("", 1, &de));
    assert_int_equal(de.fault, DB_FAULT_URL);
    assert_int_equal(db_url_check("postgres://u@h:5432/db", &de), 0);
    assert_int_equal(db_url_check("sqlite:///tmp/x.db", &de), 0);
}

static void test_an_unreachable_database_is_a_connection_fault(void **state)
{
    db_error de;
    const char *url = strcmp(test_engine(), "postgres") == 0
                          ? "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
                          : "sqlite:///nonexistent-dir-for-pstudio-tests/x.db";
    assert_null(db_open(url, 1, &de));
    assert_int_equal(de.fault, DB_FAULT_CONNECTION);
    assert_true(strlen(de.message) > 10);
}

typedef struct pool_arg {
    db *d;
    int got; /* atomic */
} pool_arg;

static void *pool_waiter(void *p)
{
    pool_arg *a = p;
    db_conn *c = db_acquire(a->d);
    __atomic_store_n(&a->got, 1, __ATOMIC_SEQ_CST);
    db_release(c);
    return NULL;
}

static void test_the_pool_lends_each_connection_once_and_makes_others_wait(void **state)
{
    testdb *t = *state;
    db_pool_stats st;
    db_conn *held[4];
    for (int i = 0; i < 4; i++)
        held[i] = db_acquire(t->db);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            assert_ptr_not_equal(held[i], held[j]);
    db_stats(t->db, &st);
    assert_int_equal(st.size, 4);
    assert_int_equal(st.in_use, 4);
    pool_arg a = {t->db, 0};
    pthread_t th;
    pthread_create(&th, NULL, pool_waiter, &a);
    /* The waiter cannot get a connection until one is released; wait until
     * the pool has counted its wait, then release. */
    for (int i = 0; i < 5000; i++) {
        db_stats(t->db, &st);
        if (st.waits > 0)
            break;
        usleep(1000);
    }
    assert_int_equal(__atomic_load_n(&a.got, __ATOMIC_SEQ_CST), 0);
    assert_true(st.waits >= 1);
    db_release(held[0]);
    pthread_join(th, NULL);
    assert_int_equal(a.got, 1);
    for (int i = 1; i < 4; i++)
        db_release(held[i]);
    db_stats(t->db, &st);
    assert_int_equal(st.in_use, 0);
}

/* A COMMIT that fails (a deferred foreign key) ends the transaction: nothing
 * of it stays, the caller's rollback is harmless, and the next writer gets
 * in at once (on SQLite it would otherwise wait for the write gate forever). */
static void test_a_failed_commit_ends_the_transaction_and_frees_the_writer_slot(void **state)
{
    testdb *t = *state;
    testdb_exec(t, "CREATE TABLE parent (id TEXT PRIMARY KEY)");
    testdb_exec(t, "CREATE TABLE child (pid TEXT REFERENCES parent (id) "
                   "DEFERRABLE INITIALLY DEFERRED)");
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(db_exec_script(c, "INSERT INTO child (pid) VALUES ('nobody')", &de), 0);
    assert_int_equal(db_commit(c, &de), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_FOREIGN_KEY);
    db_rollback(c);
    /* The same connection, and then another, can write again. */
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(put(c, "a", "1", 1, &de), 0);
    assert_int_equal(db_commit(c, &de), 0);
    db_release(c);
    db_conn *other = db_acquire(t->db);
    assert_int_equal(db_begin_write(other, &de), 0);
    assert_int_equal(put(other, "b", "2", 2, &de), 0);
    assert_int_equal(db_commit(other, &de), 0);
    db_release(other);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM child"), 0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 2);
}

/* A connection handed back inside a write transaction is rolled back, and
 * does not keep other writers out. */
static void test_a_connection_released_mid_transaction_is_rolled_back(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(db_begin_write(c, &de), 0);
    assert_int_equal(put(c, "lost", "1", 1, &de), 0);
    db_release(c);
    db_conn *other = db_acquire(t->db);
    assert_int_equal(db_begin_write(other, &de), 0);
    assert_int_equal(put(other, "kept", "2", 2, &de), 0);
    assert_int_equal(db_commit(other, &de), 0);
    db_release(other);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv WHERE k = 'lost'"), 0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv WHERE k = 'kept'"), 1);
}

typedef struct writer_arg {
    db *d;
    int id;
    int failures;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < 50; i++) {
        db_conn *c = db_acquire(w->d);
        db_error de;
        char k[32];
        snprintf(k, sizeof(k), "w%d-%d", w->id, i);
        if (db_begin_write(c, &de) != 0 || put(c, k, "v", i, &de) != 0 || db_commit(c, &de) != 0) {
            w->failures++;
            db_rollback(c);
        }
        db_release(c);
    }
    return NULL;
}

static void test_concurrent_write_transactions_all_land(void **state)
{
    testdb *t = *state;
    pthread_t th[4];
    writer_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer_arg){t->db, i, 0};
        pthread_create(&th[i], NULL, writer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 200);
}

static void test_a_dropped_postgres_connection_is_reestablished(void **state)
{
    testdb *t = *state;
    if (strcmp(test_engine(), "postgres") != 0)
        skip(); /* SQLite connections are files: there is no server link to lose */
    db_conn *c = db_acquire(t->db);
    db_error de;
    assert_int_equal(put(c, "before", "v", 1, &de), 0);
    db_sql kill = DB_SQL("SELECT pg_terminate_backend(pg_backend_pid())");
    db_stmt *s = db_prepare(c, &kill, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ERR);
    assert_int_equal(de.fault, DB_FAULT_CONNECTION);
    db_reset(s);
    /* The next use reconnects and prepares again on the new session. */
    assert_int_equal(put(c, "after", "v", 2, &de), 0);
    db_release(c);
    assert_int_equal(db_ping(t->db, &de), 0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 2);
}

/* Decisions 4 and 154: every session, a reconnected one too, runs in UTC
 * and without JIT. */
static void pg_settings_are(db_conn *c)
{
    db_sql q = DB_SQL("SELECT current_setting('TimeZone'), current_setting('jit')");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ROW);
    assert_string_equal(db_col_text(s, 0), "UTC");
    assert_string_equal(db_col_text(s, 1), "off");
    db_reset(s);
}

static void test_postgres_sessions_run_in_utc_without_jit_after_a_reconnect_too(void **state)
{
    testdb *t = *state;
    if (strcmp(test_engine(), "postgres") != 0)
        skip(); /* session settings are PostgreSQL's */
    db_conn *c = db_acquire(t->db);
    pg_settings_are(c);
    db_sql kill = DB_SQL("SELECT pg_terminate_backend(pg_backend_pid())");
    db_error de;
    db_stmt *s = db_prepare(c, &kill, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ERR);
    db_reset(s);
    pg_settings_are(c);
    db_release(c);
}

/* ---- Statement helpers (db_one, db_first, db_each, db_list, db_write, db_tx) ---- */

static db_sql Q_LIST_KV = DB_SQL("SELECT k, v, n FROM kv ORDER BY k");
static db_sql Q_COUNT_KV = DB_SQL("SELECT COUNT(*) FROM kv");

typedef struct kv_row {
    char k[8];
    const char *v;
    int64_t n;
} kv_row;

static int kv__row(db_stmt *s, arena *a, void *out, error *err)
{
    kv_row *r = out;
    if (DB_COL_COPY(s, 0, r->k) != 0)
        return db_col_too_long(err, "key");
    const char *v = db_col_text(s, 1);
    r->v = v ? arena_strdup(a, v) : NULL;
    r->n = db_col_int64(s, 2);
    return 0;
}

static int kv__get_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)err;
    kv_row *r = out;
    const char *v = db_col_text(s, 0);
    r->v = v ? arena_strdup(a, v) : NULL;
    r->n = db_col_int64(s, 1);
    return 0;
}

static void test_db_one_reads_the_row_or_names_what_was_not_found(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    arena a;
    arena_init(&a, 1024);
    error err;
    assert_int_equal(
        db_write(c, &Q_PUT, DB_ARGS(DB_TEXT("a"), DB_TEXT("it's"), DB_INT(7)), NULL, &err), 1);
    kv_row r = {0};
    assert_int_equal(
        db_one(c, &Q_GET, DB_ARGS(DB_TEXT("a")), kv__get_row, &a, &r, &err, NULL, "no key %s", "a"),
        0);
    assert_string_equal(r.v, "it's");
    assert_int_equal(r.n, 7);
    assert_int_equal(db_one(c, &Q_GET, DB_ARGS(DB_TEXT("b")), kv__get_row, &a, &r, &err, "key",
                            "no key %s", "b"),
                     -1);
    assert_int_equal(err.kind, ERR_NOT_FOUND);
    assert_string_equal(err.field, "key");
    assert_string_equal(err.message, "no key b");
    assert_int_equal(db_first(c, &Q_GET, DB_ARGS(DB_TEXT("b")), NULL, NULL, NULL, &err), 0);
    assert_int_equal(db_first(c, &Q_GET, DB_ARGS(DB_TEXT("a")), NULL, NULL, NULL, &err), 1);
    arena_free(&a);
    db_release(c);
}

static void test_db_list_collects_every_row_past_its_first_capacity(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    arena a;
    arena_init(&a, 1024);
    error err;
    for (int i = 0; i < 5; i++) {
        char k[24];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_NULL, DB_INT(i)), NULL, &err),
                         1);
    }
    kv_row *rows;
    size_t n;
    assert_int_equal(
        db_list(c, &Q_LIST_KV, DB_NOARGS, kv__row, &a, sizeof(*rows), 2, &rows, &n, &err), 0);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        char k[24];
        snprintf(k, sizeof(k), "k%zu", i);
        assert_string_equal(rows[i].k, k);
        assert_null(rows[i].v);
        assert_int_equal(rows[i].n, (int64_t)i);
    }
    int64_t count;
    assert_int_equal(db_int64(c, &Q_GET, DB_ARGS(DB_TEXT("none")), &count, &err), 0);
    assert_int_equal(count, 0); /* no row: 0 */
    assert_int_equal(db_int64(c, &Q_COUNT_KV, DB_NOARGS, &count, &err), 0);
    assert_int_equal(count, 5);
    assert_int_equal(db_write(c, &Q_BUMP, DB_ARGS(DB_INT(3)), NULL, &err), 2);
    arena_free(&a);
    db_release(c);
}

static void test_a_row_that_does_not_fit_is_an_error_not_a_cut_value(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    arena a;
    arena_init(&a, 1024);
    error err;
    assert_int_equal(
        db_write(c, &Q_PUT, DB_ARGS(DB_TEXT("a-long-key"), DB_TEXT("v"), DB_INT(1)), NULL, &err),
        1);
    kv_row *rows;
    size_t n;
    assert_int_equal(
        db_list(c, &Q_LIST_KV, DB_NOARGS, kv__row, &a, sizeof(*rows), 4, &rows, &n, &err), -1);
    assert_int_equal(err.kind, ERR_INTERNAL);
    /* the statement was reset: the connection runs the next one */
    assert_int_equal(db_first(c, &Q_GET, DB_ARGS(DB_TEXT("a-long-key")), NULL, NULL, NULL, &err),
                     1);
    arena_free(&a);
    db_release(c);
}

static void test_db_write_maps_a_unique_violation_and_remembers_its_fault(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    error err;
    db_args args = DB_ARGS(DB_TEXT("a"), DB_TEXT("v"), DB_INT(1));
    assert_int_equal(db_write(c, &Q_PUT, args, "key", &err), 1);
    assert_int_equal(db_last_fault(c), DB_FAULT_NONE);
    assert_int_equal(db_write(c, &Q_PUT, args, "key", &err), -1);
    assert_int_equal(err.kind, ERR_CONFLICT);
    assert_string_equal(err.field, "key");
    assert_int_equal(db_last_fault(c), DB_FAULT_UNIQUE);
    db_release(c);
}

typedef struct kv_tx {
    int puts;
    bool fail;
} kv_tx;

static int kv__tx(db_conn *c, void *arg, error *err)
{
    kv_tx *x = arg;
    for (int i = 0; i < x->puts; i++) {
        char k[24];
        snprintf(k, sizeof(k), "t%d", i);
        if (db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_NULL, DB_INT(i)), NULL, err) < 0)
            return -1;
    }
    if (x->fail)
        return error_set(err, ERR_INVALID, "x", "refused after %d writes", x->puts);
    return x->puts;
}

static void test_db_tx_commits_all_of_fn_or_none_of_it(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    error err;
    kv_tx x = {.puts = 3, .fail = true};
    assert_int_equal(db_tx(c, kv__tx, &x, &err), -1);
    assert_int_equal(err.kind, ERR_INVALID);
    assert_string_equal(err.message, "refused after 3 writes");
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 0);
    x.fail = false;
    assert_int_equal(db_tx(c, kv__tx, &x, &err), 3);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 3);
    /* a failed statement inside fn rolls the others back too */
    x.puts = 4;
    assert_int_equal(db_tx(c, kv__tx, &x, &err), -1);
    assert_int_equal(err.kind, ERR_CONFLICT);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 3);
    db_release(c);
}

/* ---- The write gate and single statements (decision 71) ---- */

static db_sql Q_PUT_RETURNING = DB_SQL("INSERT INTO kv (k, v, n) VALUES ($1, $2, $3) RETURNING n");
static db_sql Q_BUMP_RETURNING = DB_SQL("UPDATE kv SET n = n + 1 RETURNING k");

typedef struct mixed_arg {
    db *d;
    int id;
    int failures;
} mixed_arg;

static int mixed__tx(db_conn *c, void *arg, error *err)
{
    const char *k = arg;
    char k2[48];
    snprintf(k2, sizeof(k2), "%s-b", k);
    if (db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_TEXT("tx"), DB_INT(1)), NULL, err) < 0 ||
        db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k2), DB_TEXT("tx"), DB_INT(2)), NULL, err) < 0)
        return -1;
    return 0;
}

/* Threads 0 and 1 write in transactions; 2 and 3 one statement at a time,
 * through db_write and through db_one (an INSERT … RETURNING, which reads a
 * row like a query but writes). */
static void *mixed_writer(void *p)
{
    mixed_arg *w = p;
    for (int i = 0; i < 200; i++) {
        db_conn *c = db_acquire(w->d);
        error err;
        char k[32];
        snprintf(k, sizeof(k), "m%d-%d", w->id, i);
        int rc;
        if (w->id < 2) {
            rc = db_tx(c, mixed__tx, k, &err);
        } else if (w->id == 2) {
            rc =
                db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_TEXT("one"), DB_INT(i)), NULL, &err) == 1
                    ? 0
                    : -1;
        } else {
            int64_t n = -1;
            rc = db_one(c, &Q_PUT_RETURNING, DB_ARGS(DB_TEXT(k), DB_TEXT("one"), DB_INT(i)),
                        db_row_int64, NULL, &n, &err, NULL, "no row");
            if (rc == 0 && n != i)
                rc = -1;
        }
        if (rc != 0)
            w->failures++;
        db_release(c);
    }
    return NULL;
}

/* Decision 71: a single statement that writes queues on the pool's write
 * gate like a transaction, so no writer of this process meets another's
 * lock and sleeps in SQLite's busy handler. */
static void test_single_statement_writers_queue_on_the_gate_not_in_the_busy_handler(void **state)
{
    testdb *t = *state;
    db_pool_stats before, after;
    db_stats(t->db, &before);
    pthread_t th[4];
    mixed_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (mixed_arg){t->db, i, 0};
        pthread_create(&th[i], NULL, mixed_writer, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w[i].failures, 0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 2 * 400 + 2 * 200);
    db_stats(t->db, &after);
    assert_int_equal(after.busy_sleeps - before.busy_sleeps, 0);
}

/* Reads never take the gate: a writer holding it does not hold up a query,
 * a read transaction or a read that ends in no row, on another connection.
 * (Were they gated, each would wait out the gate's 5 s and fail busy.) */
static void test_reads_run_beside_a_writer_that_holds_the_gate(void **state)
{
    testdb *t = *state;
    db_conn *w = db_acquire(t->db);
    db_conn *r = db_acquire(t->db);
    db_error de;
    error err;
    assert_int_equal(
        db_write(r, &Q_PUT, DB_ARGS(DB_TEXT("a"), DB_TEXT("1"), DB_INT(1)), NULL, &err), 1);
    assert_int_equal(db_begin_write(w, &de), 0);
    assert_int_equal(put(w, "b", "2", 2, &de), 0);
    assert_int_equal(db_first(r, &Q_GET, DB_ARGS(DB_TEXT("a")), NULL, NULL, NULL, &err), 1);
    assert_int_equal(db_first(r, &Q_GET, DB_ARGS(DB_TEXT("b")), NULL, NULL, NULL, &err), 0);
    assert_int_equal(db_begin(r, &de), 0);
    int64_t n = 0;
    assert_int_equal(db_int64(r, &Q_COUNT_KV, DB_NOARGS, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_commit(r, &de), 0);
    assert_int_equal(db_commit(w, &de), 0);
    db_release(r);
    db_release(w);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 2);
}

typedef struct late_writer {
    db *d;
    int rc;
} late_writer;

static void *late_write(void *p)
{
    late_writer *l = p;
    db_conn *c = db_acquire(l->d);
    error err;
    l->rc = (int)db_write(c, &Q_PUT, DB_ARGS(DB_TEXT("late"), DB_TEXT("v"), DB_INT(9)), NULL, &err);
    db_release(c);
    return NULL;
}

/* A transaction begun for reading (db_begin) that then writes keeps the gate
 * from its first write to its end, as SQLite keeps its write lock: another
 * connection's write waits for the commit on the gate, not in the busy
 * handler. */
static void test_a_read_transaction_that_writes_holds_the_gate_until_it_ends(void **state)
{
    testdb *t = *state;
    db_pool_stats before, after;
    db_stats(t->db, &before);
    db_conn *c = db_acquire(t->db);
    db_error de;
    error err;
    assert_int_equal(db_begin(c, &de), 0);
    assert_int_equal(
        db_write(c, &Q_PUT, DB_ARGS(DB_TEXT("first"), DB_TEXT("v"), DB_INT(1)), NULL, &err), 1);
    late_writer l = {t->db, -1};
    pthread_t th;
    pthread_create(&th, NULL, late_write, &l);
    usleep(20000); /* gives the other writer its chance to collide; asserts nothing */
    assert_int_equal(
        db_write(c, &Q_PUT, DB_ARGS(DB_TEXT("second"), DB_TEXT("v"), DB_INT(2)), NULL, &err), 1);
    assert_int_equal(db_commit(c, &de), 0);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 1);
    db_release(c);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv"), 3);
    db_stats(t->db, &after);
    assert_int_equal(after.busy_sleeps - before.busy_sleeps, 0);
}

static int bump__row(db_stmt *s, arena *a, void *out, error *err)
{
    db_conn *c = out;
    char k[48];
    snprintf(k, sizeof(k), "%s-seen", db_col_text(s, 0));
    return db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_NULL, DB_INT(0)), NULL, err) == 1 ? 0 : -1;
}

/* A write made while another write of the same connection is still
 * returning rows (a callback of an UPDATE … RETURNING, outside any
 * transaction) shares that statement's hold on the gate instead of
 * waiting for itself; so does a write inside db_tx. */
static void test_a_connection_never_waits_for_its_own_hold_on_the_gate(void **state)
{
    testdb *t = *state;
    db_conn *c = db_acquire(t->db);
    error err;
    for (int i = 0; i < 3; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(db_write(c, &Q_PUT, DB_ARGS(DB_TEXT(k), DB_NULL, DB_INT(i)), NULL, &err),
                         1);
    }
    assert_int_equal(db_each(c, &Q_BUMP_RETURNING, DB_NOARGS, bump__row, NULL, c, &err), 0);
    assert_int_equal(testdb_scalar(t, "SELECT COUNT(*) FROM kv WHERE k LIKE '%-seen'"), 3);
    kv_tx x = {.puts = 2, .fail = false};
    assert_int_equal(db_tx(c, kv__tx, &x, &err), 2);
    db_release(c);
    /* and the gate is free again for another connection */
    db_conn *other = db_acquire(t->db);
    assert_int_equal(db_tx(other, kv__tx, &(kv_tx){.puts = 0}, &err), 0);
    assert_int_equal(
        db_write(other, &Q_PUT, DB_ARGS(DB_TEXT("last"), DB_NULL, DB_INT(0)), NULL, &err), 1);
    db_release(other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_statement_is_prepared_once_per_connection_and_reused),
        T(test_parameters_bind_natively_so_quotes_are_data),
        T(test_null_binds_and_reads_back_as_null),
        T(test_changes_counts_the_rows_an_update_touched),
        T(test_rollback_discards_every_write_of_the_transaction),
        T(test_a_failed_statement_inside_a_transaction_rolls_back_cleanly),
        T(test_a_syntax_error_carries_the_engines_message),
        cmocka_unit_test(test_malformed_urls_are_refused_before_connecting),
        cmocka_unit_test(test_an_unreachable_database_is_a_connection_fault),
        T(test_the_pool_lends_each_connection_once_and_makes_others_wait),
        T(test_concurrent_write_transactions_all_land),
        T(test_a_failed_commit_ends_the_transaction_and_frees_the_writer_slot),
        T(test_a_connection_released_mid_transaction_is_rolled_back),
        T(test_a_dropped_postgres_connection_is_reestablished),
        T(test_postgres_sessions_run_in_utc_without_jit_after_a_reconnect_too),
        T(test_db_one_reads_the_row_or_names_what_was_not_found),
        T(test_db_list_collects_every_row_past_its_first_capacity),
        T(test_a_row_that_does_not_fit_is_an_error_not_a_cut_value),
        T(test_db_write_maps_a_unique_violation_and_remembers_its_fault),
        T(test_db_tx_commits_all_of_fn_or_none_of_it),
        T(test_single_statement_writers_queue_on_the_gate_not_in_the_busy_handler),
        T(test_reads_run_beside_a_writer_that_holds_the_gate),
        T(test_a_read_transaction_that_writes_holds_the_gate_until_it_ends),
        T(test_a_connection_never_waits_for_its_own_hold_on_the_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
