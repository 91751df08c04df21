/*
 * testlib: what every test program shares. testdb_* give each test a fresh,
 * migrated database on the engine named by PSTUDIO_TEST_ENGINE (sqlite when
 * unset): a new file under a temporary directory, or a new PostgreSQL
 * database created through the admin URL in PSTUDIO_TEST_PG_URL. The
 * postgres engine without that URL is a hard failure, never a skip.
 */
#ifndef PS_TESTLIB_H
#define PS_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
/* cmocka needs the three above first. */
#include <cmocka.h>

#include "db/db.h"

typedef struct testdb {
    char url[1024]; /* connect here */
    char name[512]; /* database name (postgres) or file path (sqlite) */
    db *db;         /* an open, migrated pool of 4 */
} testdb;

/** The engine under test: "sqlite" or "postgres". */
const char *test_engine(void);
/** Creates an empty database and fills t->url; t->db stays NULL. */
void testdb_create_empty(testdb *t);
/** Creates a database, applies all migrations and opens t->db. */
void testdb_create(testdb *t);
/** Closes t->db and drops the database or deletes the file. */
void testdb_destroy(testdb *t);
/**
 * The consistency checker (testcheck.c): runs a query per invariant the
 * schema cannot state and fails the test naming the first broken one and
 * its row. testdb_destroy() runs it on every migrated database, after
 * every test, whoever wrote the rows.
 */
void testdb_check(testdb *t);
/** The same, without failing: 0, or 1 (broken) / -1 (a query failed) and why. */
int testdb_check_quiet(testdb *t, char *why, size_t n);
/** Runs one SQL statement on the PostgreSQL admin URL (postgres engine only). */
void testdb_admin_exec(const char *sql);
/** Runs one SQL statement with no parameters on t->db; fails the test on error. */
void testdb_exec(testdb *t, const char *sql);
/** Runs a query returning one int64 (first column, first row). */
int64_t testdb_scalar(testdb *t, const char *sql);
/** A fresh temporary directory (removed by the OS, not by us). */
void test_tmpdir(char *out, size_t n);

/** Runs argv with env additions (NULL-terminated "K=V" list), captures stdout+stderr. */
int test_run(const char *const argv[], const char *const env[], const char *stdin_text, char *out,
             size_t out_n);

/**
 * Runs one statement with parameters described by `types`, one letter each:
 * s text (NULL binds NULL), i int64, d double, b bool (int), t time (int64
 * usec), x blob (pointer, size_t), n null. Returns 0, or DB_ERR with *de filled.
 */
int testdb_execf(testdb *t, db_error *de, const char *sql, const char *types, ...);
/** Inserts a user on the free plan; returns its id in id (37 bytes). */
void fixture_user(testdb *t, const char *email, char *id);
/** Inserts a CUSTOM persona owned by owner_id, at version 1 with its history row. */
void fixture_persona(testdb *t, const char *owner_id, char *id);
/**
 * Writes the persona_history rows a persona inserted or bumped by hand
 * lacks, up to its version (snapshots of the row as it is now), as the app
 * writes one per version.
 */
void fixture_persona_history(testdb *t, const char *persona_id);
/** Inserts a channel for user_id with the given YouTube id and persona (may be NULL). */
void fixture_channel(testdb *t, const char *user_id, const char *yt_id, const char *persona_id,
                     char *id);
/** Logs the channel's persona as it is now in channel_persona_assignments,
 * as the app does with every persona it sets on a channel. */
void fixture_assignment(testdb *t, const char *channel_id);
/** Inserts a draft project for user_id on channel/persona (either may be NULL). */
void fixture_project(testdb *t, const char *user_id, const char *channel_id, const char *persona_id,
                     char *id);

/* ---- API tests: a real server on loopback with every route -------------- */

#include "http/http.h"
#include "services/services.h"

#include <jansson.h>

typedef struct test_api {
    testdb t;
    services svc;
    http_server *srv;
    int port;
} test_api;

typedef struct test_resp {
    long status;
    char *body;    /* NUL-terminated */
    size_t len;    /* the body's bytes (it may hold NULs) */
    json_t *json;  /* parsed body, NULL when not JSON */
    char *headers; /* raw response headers */
} test_resp;

/** A migrated database (engine per PSTUDIO_TEST_ENGINE) and a server on a free port. */
void test_api_start(test_api *a);
void test_api_stop(test_api *a);
/** cmocka setup/teardown: *state is a started test_api, stopped and freed after the test. */
int test_api_setup(void **state);
int test_api_teardown(void **state);
/**
 * Sends method path with an optional Bearer token (NULL: none), JSON body
 * (NULL: none) and extra headers ("Name: value", NULL-terminated list or NULL);
 * a Content-Type among them replaces application/json.
 */
test_resp test_req(test_api *a, const char *method, const char *path, const char *token,
                   const char *body, const char *const *headers);
void test_resp_free(test_resp *r);
/** The value of a response header (case-insensitive), copied into out; false when absent. */
bool test_resp_header(const test_resp *r, const char *name, char *out, size_t n);
/** Signs up email with a fixed password and returns a session token (out >= 128 bytes). */
void test_signup(test_api *a, const char *email, char *token);
/** Promotes the user with this email to admin, directly in the database. */
void test_make_admin(test_api *a, const char *email);
/** Moves the user with this email to the plan with this code, directly in the database. */
void test_set_plan(test_api *a, const char *email, const char *plan_code);
/** Asserts status and, for problems, the type slug ("not-found"); prints the body on failure. */
void test_expect(const test_resp *r, long status, const char *problem_slug);

/* ---- text limits --------------------------------------------------------- */

/* Characters of 2, 3 and 4 bytes of UTF-8: a value of exactly a field's limit
 * in any of them must come back unchanged, and one more is a 422. */
#define TEST_UTF8_UNITS 3
extern const char *const test_utf8_units[TEST_UTF8_UNITS];
/** prefix followed by n copies of unit, malloc'd (the caller frees it). */
char *test_repeat(const char *prefix, const char *unit, int n);

/* ---- files and child processes -------------------------------------------- */

/** Sleeps ms milliseconds. */
void test_nap_ms(int ms);

/* The most test_slurp() reads; a file as large fails the test. */
#define TEST_SLURP_MAX ((size_t)256 << 20)
/**
 * The whole file, malloc'd with a NUL after its bytes (the caller frees it);
 * *len, when len is not NULL, is its length (the bytes may hold NULs). NULL,
 * with errno set, when it cannot be opened or read. A file of TEST_SLURP_MAX
 * bytes or more fails the test: nothing comes back cut.
 */
char *test_slurp(const char *path, size_t *len);

/* A `pstudio serve` or `pstudio worker` started by the test. */
typedef struct test_proc {
    pid_t pid;     /* > 0 while it runs (not yet reaped) */
    int port;      /* serve: the port of its "listening" line, once test_proc_ready() saw it */
    int ended;     /* once reaped: what test_proc_wait() returned */
    int wstatus;   /* once reaped: the raw waitpid() status */
    char cmd[16];  /* "serve" or "worker" */
    char dir[700]; /* its data directory */
    char log[700]; /* its stdout and stderr, appended */
} test_proc;

/* test_proc_wait()'s answer when the process outlived the wait and was killed. */
#define TEST_PROC_KILLED (-1)

typedef struct test_proc_opts {
    const char *db_url;     /* PSTUDIO_DATABASE_URL */
    const char *data_dir;   /* PSTUDIO_DATA_DIR */
    const char *log;        /* file its stdout and stderr are appended to (created) */
    const char *const *env; /* more "NAME=value" (NULL-terminated, or NULL), set last; a
                             * bare "NAME" unsets it (the product's default applies) */
    long fsize;             /* > 0: no file it writes may grow past fsize bytes (RLIMIT_FSIZE,
                             * the hard limit left open so prlimit can give room again) */
} test_proc_opts;

/**
 * Starts `pstudio cmd` (PSTUDIO_BIN) with o's database, data directory and
 * log, and PSTUDIO_PORT=0, PSTUDIO_WORKERS=0 for serve or 1 for worker and
 * PSTUDIO_SHUTDOWN_TIMEOUT_MS=5000, which o->env may override. It dies with
 * the test (PR_SET_PDEATHSIG). Returns once forked: see test_proc_ready().
 */
void test_proc_start(test_proc *p, const char *cmd, const test_proc_opts *o);
/**
 * Waits up to 30 s for the line that says p is ready ("listening" for serve,
 * with its port into p->port; "job workers started" for worker). Fails the
 * test, showing the log, when p exits first or never says it (then killed).
 */
void test_proc_ready(test_proc *p);
/** True while p runs; reaps it (filling ended and wstatus) once it has exited. */
bool test_proc_alive(test_proc *p);
/**
 * Waits up to seconds for p to exit and reaps it; past that, kills it with
 * SIGKILL. How it ended: its exit status, 128 + the signal that ended it, or
 * TEST_PROC_KILLED when the wait ran out. For a p not running, what it
 * ended with last (0 for one never started).
 */
int test_proc_wait(test_proc *p, int seconds);
/** Sends sig to p (when running), then test_proc_wait(p, seconds). */
int test_proc_stop(test_proc *p, int sig, int seconds);
/** p's log so far, malloc'd ("" when there is none yet); the caller frees it. */
char *test_proc_log(const test_proc *p);
/** Prints p's log, each line as "<cmd> log: <line>" (for a failing test). */
void test_proc_print_log(const test_proc *p);

#endif
