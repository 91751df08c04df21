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
#include <stddef.h>
#include <stdint.h>
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
/** Runs one SQL statement with no parameters on t->db; fails the test on error. */
void testdb_exec(testdb *t, const char *sql);
/** Runs a query returning one int64 (first column, first row). */
int64_t testdb_scalar(testdb *t, const char *sql);
/** A fresh temporary directory (removed by the OS, not by us). */
void test_tmpdir(char *out, size_t n);

/** Runs argv with env additions (NULL-terminated "K=V" list), captures stdout+stderr. */
int test_run(const char *const argv[], const char *const env[], const char *stdin_text, char *out,
             size_t out_n);

#endif

/**
 * Runs one statement with parameters described by `types`, one letter each:
 * s text (NULL binds NULL), i int64, d double, b bool (int), t time (int64
 * usec), x blob (pointer, size_t), n null. Returns 0, or DB_ERR with *de filled.
 */
int testdb_execf(testdb *t, db_error *de, const char *sql, const char *types, ...);
/** Inserts a user on the free plan; returns its id in id (37 bytes). */
void fixture_user(testdb *t, const char *email, char *id);
/** Inserts a CUSTOM persona owned by owner_id. */
void fixture_persona(testdb *t, const char *owner_id, char *id);
/** Inserts a channel for user_id with the given YouTube id and persona (may be NULL). */
void fixture_channel(testdb *t, const char *user_id, const char *yt_id, const char *persona_id,
                     char *id);
/** Inserts a draft project for user_id on channel/persona (either may be NULL). */
void fixture_project(testdb *t, const char *user_id, const char *channel_id, const char *persona_id,
                     char *id);
