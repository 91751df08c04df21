#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int testlib__counter;

const char *test_engine(void)
{
    const char *e = getenv("PSTUDIO_TEST_ENGINE");
    return e && strcmp(e, "postgres") == 0 ? "postgres" : "sqlite";
}

void test_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, n, "%s/pstudio-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(out) == NULL)
        fail_msg("mkdtemp: %s", strerror(errno));
}

static const char *testlib__pg_admin_url(void)
{
    const char *u = getenv("PSTUDIO_TEST_PG_URL");
    if (u == NULL || u[0] == '\0')
        fail_msg("PSTUDIO_TEST_ENGINE=postgres needs PSTUDIO_TEST_PG_URL (an admin URL such as "
                 "postgres://postgres@127.0.0.1:5432/postgres); 'make test' starts a cluster");
    return u;
}

static void testlib__pg_admin(const char *sql)
{
    PGconn *pg = PQconnectdb(testlib__pg_admin_url());
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("cannot reach the test PostgreSQL: %s", PQerrorMessage(pg));
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

/* Replaces the database part of the admin URL with name. */
static void testlib__pg_url_for(const char *name, char *out, size_t n)
{
    const char *admin = testlib__pg_admin_url();
    const char *hostpart = strstr(admin, "://");
    assert_non_null(hostpart);
    hostpart += 3;
    const char *slash = strchr(hostpart, '/');
    const char *query = strchr(hostpart, '?');
    size_t head = slash ? (size_t)(slash - admin) : query ? (size_t)(query - admin) : strlen(admin);
    snprintf(out, n, "%.*s/%s%s", (int)head, admin, name, query ? query : "");
}

void testdb_create_empty(testdb *t)
{
    memset(t, 0, sizeof(*t));
    if (strcmp(test_engine(), "postgres") == 0) {
        snprintf(t->name, sizeof(t->name), "pstest_%d_%d_%u", (int)getpid(), ++testlib__counter,
                 randombytes_uniform(1000000));
        char sql[700];
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", t->name);
        testlib__pg_admin(sql);
        testlib__pg_url_for(t->name, t->url, sizeof(t->url));
    } else {
        char dir[256];
        test_tmpdir(dir, sizeof(dir));
        snprintf(t->name, sizeof(t->name), "%s/test.db", dir);
        snprintf(t->url, sizeof(t->url), "sqlite://%s", t->name);
    }
}

void testdb_create(testdb *t)
{
    if (sodium_init() < 0)
        fail_msg("sodium_init failed");
    testdb_create_empty(t);
    db_error de;
    t->db = db_open(t->url, 4, &de);
    if (t->db == NULL)
        fail_msg("db_open(%s): %s", t->url, de.message);
    int applied = 0;
    if (migrate_apply(t->db, &applied, &de) != 0)
        fail_msg("migrate: %s", de.message);
}

void testdb_destroy(testdb *t)
{
    db_close(t->db);
    t->db = NULL;
    if (strcmp(test_engine(), "postgres") == 0) {
        char sql[700];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
        testlib__pg_admin(sql);
    } else {
        char path[700];
        unlink(t->name);
        snprintf(path, sizeof(path), "%s-wal", t->name);
        unlink(path);
        snprintf(path, sizeof(path), "%s-shm", t->name);
        unlink(path);
        char *slash = strrchr(t->name, '/');
        if (slash != NULL) {
            *slash = '\0';
            rmdir(t->name);
        }
    }
}

void testdb_exec(testdb *t, const char *sql)
{
    db_conn *c = db_acquire(t->db);
    db_error de;
    int rc = db_exec_script(c, sql, &de);
    db_release(c);
    if (rc != 0)
        fail_msg("%s: %s", sql, de.message);
}

int64_t testdb_scalar(testdb *t, const char *sql)
{
    db_sql q = DB_SQL(sql);
    /* A one-off statement: each call takes a new cache slot (drivers copy the
     * text), and the prepared statements are freed with the pool. */
    db_conn *c = db_acquire(t->db);
    db_error de;
    int64_t v = 0;
    q.slot = 0;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL) {
        db_release(c);
        fail_msg("%s: %s", sql, de.message);
    }
    int rc = db_step(s, &de);
    if (rc == DB_ROW)
        v = db_col_int64(s, 0);
    db_reset(s);
    db_release(c);
    if (rc == DB_ERR)
        fail_msg("%s: %s", sql, de.message);
    return v;
}

int test_run(const char *const argv[], const char *const env[], const char *stdin_text, char *out,
             size_t out_n)
{
    int in_pipe[2], out_pipe[2];
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0)
        fail_msg("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(out_pipe[1], 2);
        close(in_pipe[1]);
        close(out_pipe[0]);
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    if (stdin_text != NULL && write(in_pipe[1], stdin_text, strlen(stdin_text)) < 0)
        fail_msg("write: %s", strerror(errno));
    close(in_pipe[1]);
    size_t len = 0;
    for (;;) {
        char chunk[4096];
        ssize_t r = read(out_pipe[0], chunk, sizeof(chunk));
        if (r <= 0)
            break;
        size_t k = (size_t)r;
        if (len + k >= out_n)
            k = out_n - 1 - len;
        memcpy(out + len, chunk, k);
        len += k;
    }
    out[len] = '\0';
    close(out_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int testdb_execf(testdb *t, db_error *de, const char *sql, const char *types, ...)
{
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(t->db);
    db_stmt *s = db_prepare(c, &q, de);
    if (s == NULL) {
        db_release(c);
        return DB_ERR;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        int k = i + 1;
        switch (types[i]) {
        case 's':
            db_bind_text(s, k, va_arg(ap, const char *));
            break;
        case 'i':
            db_bind_int64(s, k, va_arg(ap, int64_t));
            break;
        case 'd':
            db_bind_double(s, k, va_arg(ap, double));
            break;
        case 'b':
            db_bind_bool(s, k, va_arg(ap, int) != 0);
            break;
        case 't':
            db_bind_time(s, k, va_arg(ap, int64_t));
            break;
        case 'x': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            db_bind_blob(s, k, p, n);
            break;
        }
        case 'n':
            db_bind_null(s, k);
            break;
        default:
            fail_msg("testdb_execf: unknown type letter '%c'", types[i]);
        }
    }
    va_end(ap);
    int rc = db_exec(s, de);
    db_reset(s);
    db_release(c);
    return rc;
}

static void fixture__must(testdb *t, int rc, const db_error *de, const char *what)
{
    if (rc != 0)
        fail_msg("fixture %s: %s", what, de->message);
}

void fixture_user(testdb *t, const char *email, char *id)
{
    db_error de;
    uuid_v7(id);
    int rc =
        testdb_execf(t, &de,
                     "INSERT INTO users (id, email, name, role, plan_id, created_at, updated_at) "
                     "VALUES ($1, $2, 'Test User', 'user', "
                     "(SELECT id FROM plans WHERE code = 'free'), $3, $3)",
                     "sst", id, email, time_now_usec());
    fixture__must(t, rc, &de, "user");
}

void fixture_persona(testdb *t, const char *owner_id, char *id)
{
    db_error de;
    uuid_v7(id);
    int rc = testdb_execf(t, &de,
                          "INSERT INTO personas (id, type, owner_id, name, system_instruction, "
                          "created_at, updated_at) VALUES ($1, 'CUSTOM', $2, 'Narrator', "
                          "'You write calm science explainers.', $3, $3)",
                          "sst", id, owner_id, time_now_usec());
    fixture__must(t, rc, &de, "persona");
}

void fixture_channel(testdb *t, const char *user_id, const char *yt_id, const char *persona_id,
                     char *id)
{
    db_error de;
    uuid_v7(id);
    int rc =
        testdb_execf(t, &de,
                     "INSERT INTO channels (id, user_id, youtube_channel_id, persona_id, name, "
                     "created_at, updated_at) VALUES ($1, $2, $3, $4, 'My Channel', $5, $5)",
                     "sssst", id, user_id, yt_id, persona_id, time_now_usec());
    fixture__must(t, rc, &de, "channel");
}

void fixture_project(testdb *t, const char *user_id, const char *channel_id, const char *persona_id,
                     char *id)
{
    db_error de;
    uuid_v7(id);
    int rc = testdb_execf(t, &de,
                          "INSERT INTO projects (id, user_id, channel_id, persona_id, topic, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, 'Black holes', $5, $5)",
                          "sssst", id, user_id, channel_id, persona_id, time_now_usec());
    fixture__must(t, rc, &de, "project");
}
