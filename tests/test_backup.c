/*
 * admin backup and admin restore as an operator runs them, on each engine:
 * a database filled through a running `pstudio serve`, backed up while a
 * thread keeps writing over HTTP, restored into a fresh database and
 * compared table by table, row by row; a quiet backup compared exactly; an
 * older schema migrated on restore; and the refusals (another engine, a
 * damaged file, a server in the way, a non-empty target, another key, a
 * pg_dump older than the server) each leaving the target as it was.
 */
#include "testlib.h"

#include "db/migrate.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY_A "PSTUDIO_SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define KEY_B "PSTUDIO_SECRET_KEY=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="

static char out[65536];

#define RUN(env, ...)                                                                              \
    test_run((const char *const[]){PSTUDIO_BIN, __VA_ARGS__, NULL}, env, NULL, out, sizeof(out))

static void expect_in_output(const char *needle)
{
    if (strstr(out, needle) == NULL)
        fail_msg("expected '%s' in output:\n%s", needle, out);
}

/* One database with the settings a pstudio process needs to use it. */
typedef struct site {
    testdb t;
    char dir[256];
    char env_url[1100];
    char env_dir[300];
} site;

static void site_make(site *s)
{
    testdb_create_empty(&s->t);
    test_tmpdir(s->dir, sizeof(s->dir));
    snprintf(s->env_url, sizeof(s->env_url), "PSTUDIO_DATABASE_URL=%s", s->t.url);
    snprintf(s->env_dir, sizeof(s->env_dir), "PSTUDIO_DATA_DIR=%s", s->dir);
}

static void site_close(site *s)
{
    db_close(s->t.db);
    s->t.db = NULL;
}

static void site_open(site *s)
{
    if (s->t.db != NULL)
        return;
    db_error de;
    s->t.db = db_open(s->t.url, 2, &de);
    if (s->t.db == NULL)
        fail_msg("db_open(%s): %s", s->t.url, de.message);
}

/* Servers running now (copies), killed by the teardown when a test fails midway. */
static test_proc servers[4];

typedef struct fx {
    site src, dst;
    char file[400];
} fx;

static int setup(void **state)
{
    fx *x = test_calloc(1, sizeof(*x));
    site_make(&x->src);
    site_make(&x->dst);
    snprintf(x->file, sizeof(x->file), "%s/backup.pstudio", x->src.dir);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        test_proc_stop(&servers[i], SIGKILL, 30);
    /* The consistency checker runs on both: a restore must keep every
     * invariant the source had. */
    site_open(&x->src);
    site_open(&x->dst);
    testdb_destroy(&x->src.t);
    testdb_destroy(&x->dst.t);
    test_free(x);
    return 0;
}

/* ---- every row of every table --------------------------------------------- */

#define SNAP_TABLES 64

/* The rows of each table, each row one string of its column values (typed
 * on SQLite, PostgreSQL's text output there), sorted. */
typedef struct snap {
    int n;
    char *name[SNAP_TABLES];
    char **rows[SNAP_TABLES];
    size_t nrows[SNAP_TABLES];
} snap;

static int snap__cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends text to a growing string. */
static void snap__add(char **s, size_t *len, size_t *cap, const char *text, size_t n)
{
    if (*len + n + 2 > *cap) {
        *cap = (*len + n + 2) * 2;
        *s = realloc(*s, *cap);
    }
    memcpy(*s + *len, text, n);
    *len += n;
    (*s)[(*len)++] = '\x1f';
    (*s)[*len] = '\0';
}

static void snap__push(snap *s, int t, char *row, size_t *cap)
{
    if (s->nrows[t] + 1 > *cap) {
        *cap = *cap ? *cap * 2 : 64;
        s->rows[t] = realloc(s->rows[t], *cap * sizeof(char *));
    }
    s->rows[t][s->nrows[t]++] = row;
}

static void snap_sqlite(const char *path, snap *s)
{
    sqlite3 *h;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(h));
    sqlite3_stmt *q;
    sqlite3_prepare_v2(h,
                       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                       "'sqlite_%' ORDER BY name",
                       -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW && s->n < SNAP_TABLES)
        s->name[s->n++] = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    for (int t = 0; t < s->n; t++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", s->name[t]);
        if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(h));
        size_t cap = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            char *row = NULL;
            size_t len = 0, rcap = 0;
            for (int i = 0; i < sqlite3_column_count(q); i++) {
                char num[64];
                switch (sqlite3_column_type(q, i)) {
                case SQLITE_NULL:
                    snap__add(&row, &len, &rcap, "\\N", 2);
                    break;
                case SQLITE_INTEGER:
                    snprintf(num, sizeof(num), "i:%lld", (long long)sqlite3_column_int64(q, i));
                    snap__add(&row, &len, &rcap, num, strlen(num));
                    break;
                case SQLITE_FLOAT:
                    snprintf(num, sizeof(num), "f:%.17g", sqlite3_column_double(q, i));
                    snap__add(&row, &len, &rcap, num, strlen(num));
                    break;
                default: {
                    /* Text and blobs by their bytes, with the type. */
                    const void *p = sqlite3_column_blob(q, i);
                    size_t n = (size_t)sqlite3_column_bytes(q, i);
                    char *v = malloc(n + 3);
                    v[0] = sqlite3_column_type(q, i) == SQLITE_TEXT ? 't' : 'b';
                    v[1] = ':';
                    memcpy(v + 2, p ? p : "", n);
                    snap__add(&row, &len, &rcap, v, n + 2);
                    free(v);
                }
                }
            }
            snap__push(s, t, row ? row : strdup(""), &cap);
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
}

static void snap_pg(const char *url, snap *s)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(c));
    PGresult *r = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER "
                            "BY tablename");
    for (int i = 0; i < PQntuples(r) && s->n < SNAP_TABLES; i++)
        s->name[s->n++] = strdup(PQgetvalue(r, i, 0));
    PQclear(r);
    for (int t = 0; t < s->n; t++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "SELECT * FROM public.\"%s\"", s->name[t]);
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(c));
        size_t cap = 0;
        for (int i = 0; i < PQntuples(r); i++) {
            char *row = NULL;
            size_t len = 0, rcap = 0;
            for (int j = 0; j < PQnfields(r); j++) {
                if (PQgetisnull(r, i, j))
                    snap__add(&row, &len, &rcap, "\\N", 2);
                else
                    snap__add(&row, &len, &rcap, PQgetvalue(r, i, j), (size_t)PQgetlength(r, i, j));
            }
            snap__push(s, t, row ? row : strdup(""), &cap);
        }
        PQclear(r);
    }
    PQfinish(c);
}

static void snap_take(const char *url, snap *s)
{
    memset(s, 0, sizeof(*s));
    if (strncmp(url, "sqlite://", 9) == 0)
        snap_sqlite(url + 9, s);
    else
        snap_pg(url, s);
    for (int t = 0; t < s->n; t++)
        if (s->nrows[t] > 0) /* an empty table has no row array */
            qsort(s->rows[t], s->nrows[t], sizeof(char *), snap__cmp);
}

static void snap_free(snap *s)
{
    for (int t = 0; t < s->n; t++) {
        for (size_t i = 0; i < s->nrows[t]; i++)
            free(s->rows[t][i]);
        free(s->rows[t]);
        free(s->name[t]);
    }
}

static size_t snap_count(const snap *s, const char *table)
{
    for (int t = 0; t < s->n; t++)
        if (strcmp(s->name[t], table) == 0)
            return s->nrows[t];
    fail_msg("no table %s", table);
    return 0;
}

static bool snap__listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Whether b's table u has a row whose first column (every table's key
 * comes first) equals row's. */
static bool snap__has_key(const snap *b, int u, const char *row)
{
    size_t k = strcspn(row, "\x1f");
    for (size_t i = 0; i < b->nrows[u]; i++)
        if (strncmp(b->rows[u][i], row, k) == 0 && b->rows[u][i][k] == '\x1f')
            return true;
    return false;
}

/* Every table of a is in b, and every row of each is in b's, identical;
 * with `exact`, b has nothing more either. A row of a table named in
 * `updated` (a NULL-ended list) may instead differ from b's row of the
 * same key: the writer updates those rows after inserting them (a project
 * gains its scene), so a copy taken in between holds the earlier row. */
static void snap_expect_within_but(const snap *a, const snap *b, bool exact,
                                   const char *const *updated)
{
    if (exact)
        assert_int_equal(a->n, b->n);
    for (int t = 0; t < a->n; t++) {
        int u = 0;
        while (u < b->n && strcmp(b->name[u], a->name[t]) != 0)
            u++;
        if (u == b->n)
            fail_msg("table %s is missing", a->name[t]);
        for (size_t i = 0; i < a->nrows[t]; i++)
            if ((b->nrows[u] == 0 || bsearch(&a->rows[t][i], b->rows[u], b->nrows[u],
                                             sizeof(char *), snap__cmp) == NULL) &&
                !(snap__listed(updated, a->name[t]) && snap__has_key(b, u, a->rows[t][i])))
                fail_msg("a row of %s is not in the other database, or differs: %s", a->name[t],
                         a->rows[t][i]);
        if (exact && a->nrows[t] != b->nrows[u])
            fail_msg("table %s has %zu rows and %zu", a->name[t], a->nrows[t], b->nrows[u]);
    }
}

static void snap_expect_within(const snap *a, const snap *b, bool exact)
{
    snap_expect_within_but(a, b, exact, NULL);
}

/* ---- a server and a writer over HTTP ---------------------------------------- */

/* Starts p, `pstudio serve` on s with extra settings, and waits until it listens. */
static void serve_start(site *s, const char *const extra[], test_proc *p)
{
    char dir[256], log[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    const char *env[8] = {"PSTUDIO_LLM_PROVIDER=offline"};
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        assert_true(i + 2 < sizeof(env) / sizeof(env[0]));
        env[i + 1] = extra[i];
    }
    test_proc_opts o = {.db_url = s->t.url, .data_dir = s->dir, .log = log, .env = env};
    test_proc_start(p, "serve", &o);
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        if (servers[i].pid <= 0) {
            servers[i] = *p;
            break;
        }
    test_proc_ready(p);
}

/* SIGTERM; the server must end cleanly. */
static void serve_stop(test_proc *p)
{
    pid_t pid = p->pid;
    int ended = test_proc_stop(p, SIGTERM, 30);
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        if (servers[i].pid == pid)
            servers[i].pid = 0;
    assert_int_equal(ended, 0);
}

typedef struct reply {
    char body[8192];
    size_t n;
} reply;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = size * n;
    size_t take = k < sizeof(r->body) - 1 - r->n ? k : sizeof(r->body) - 1 - r->n;
    memcpy(r->body + r->n, p, take);
    r->n += take;
    r->body[r->n] = '\0';
    return k;
}

/* POSTs body to path on the server; the status, the reply in *r. */
static long post(CURL *h, int port, const char *path, const char *token, const char *body, reply *r)
{
    char url[300], auth[300];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hd = curl_slist_append(hd, auth);
    }
    r->n = 0;
    r->body[0] = '\0';
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    return status;
}

/* The string value of "key" in a flat JSON reply, into v. */
static void json_field(const reply *r, const char *key, char *v, size_t n)
{
    json_t *j = json_loads(r->body, 0, NULL);
    const char *s = json_string_value(json_object_get(j, key));
    if (s == NULL)
        fail_msg("no %s in %s", key, r->body);
    snprintf(v, n, "%s", s);
    json_decref(j);
}

static void signup(CURL *h, int port, const char *email, char *token)
{
    char body[256];
    reply r;
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             email);
    if (post(h, port, "/api/v1/auth/signup", NULL, body, &r) != 201)
        fail_msg("signup: %s", r.body);
    json_field(&r, "token", token, 128);
}

/* One round of the writer: a persona, a project with it, a scene in it. */
static int write_round(CURL *h, int port, const char *token, int i)
{
    char body[512], id[64], path[200];
    reply r;
    snprintf(body, sizeof(body),
             "{\"name\":\"Writer %d\",\"system_instruction\":\"Speak plainly, round %d.\","
             "\"temperature\":0.7}",
             i, i);
    if (post(h, port, "/api/v1/personas", token, body, &r) != 201)
        return -1;
    json_field(&r, "id", id, sizeof(id));
    snprintf(body, sizeof(body),
             "{\"generate\":false,\"topic\":\"Round %d of the writer\",\"persona_id\":\"%s\"}", i,
             id);
    if (post(h, port, "/api/v1/projects", token, body, &r) != 201)
        return -1;
    json_field(&r, "id", id, sizeof(id));
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", id);
    snprintf(body, sizeof(body),
             "{\"narration\":\"Scene of round %d.\",\"visual_description\":\"a lake\"}", i);
    return post(h, port, path, token, body, &r) == 201 ? 0 : -1;
}

typedef struct writer {
    int port;
    char token[128];
    int done;   /* rounds written (atomic) */
    int failed; /* rounds that did not answer 201 */
    int stop;   /* atomic */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    CURL *h = curl_easy_init();
    for (int i = 0; !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
        if (write_round(h, w->port, w->token, i) != 0)
            w->failed++;
        __atomic_add_fetch(&w->done, 1, __ATOMIC_RELEASE);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void wait_rounds(writer *w, int n)
{
    while (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) < n)
        usleep(5000);
}

/* Users, plans, personas, channels, assignments, projects, scenes and
 * queued jobs, through the server where the API reaches and by fixture
 * where it needs Google (channels). */
static void populate(site *s, CURL *h, int port, char *token)
{
    char other[128];
    signup(h, port, "owner@example.com", token);
    signup(h, port, "other@example.com", other);
    site_open(s);
    testdb_exec(&s->t, "UPDATE users SET plan_id = (SELECT id FROM plans WHERE code = 'pro')");
    char uid[40], chan[40];
    db_error de;
    db_conn *c = db_acquire(s->t.db);
    static db_sql q = DB_SQL("SELECT id FROM users WHERE email = $1");
    db_stmt *st = db_prepare(c, &q, &de);
    assert_non_null(st);
    db_bind_text(st, 1, "owner@example.com");
    assert_int_equal(db_step(st, &de), DB_ROW);
    snprintf(uid, sizeof(uid), "%s", db_col_text(st, 0));
    db_reset(st);
    db_release(c);
    fixture_channel(&s->t, uid, "UC0123456789abcdefghijkl", NULL, chan);
    fixture_assignment(&s->t, chan);
    for (int i = 0; i < 3; i++)
        assert_int_equal(write_round(h, port, token, 1000 + i), 0);
    /* Projects asking for a script: their jobs wait in the queue (no
     * workers run here). */
    reply r;
    long status = post(h, port, "/api/v1/projects", token, "{\"topic\":\"Queued script\"}", &r);
    if (status != 201 && status != 202)
        fail_msg("project: %ld %s", status, r.body);
    assert_int_equal(write_round(h, port, other, 2000), 0);
    assert_true(testdb_scalar(&s->t, "SELECT COUNT(*) FROM jobs") > 0);
    assert_true(testdb_scalar(&s->t, "SELECT COUNT(*) FROM scenes") >= 4);
}

static void expect_schema_latest(site *s)
{
    site_open(s);
    char sql[100];
    snprintf(sql, sizeof(sql), "SELECT MAX(version) FROM schema_migrations");
    assert_int_equal(testdb_scalar(&s->t, sql), migrate_latest(db_engine_of(s->t.db)));
}

/* ---- the tests -------------------------------------------------------------- */

static void test_a_backup_taken_while_a_server_writes_restores_rows_the_source_has(void **state)
{
    fx *x = *state;
    const char *extra[] = {KEY_A, "PSTUDIO_WORKERS=0", NULL};
    test_proc srv;
    serve_start(&x->src, extra, &srv);
    int port = srv.port;
    CURL *h = curl_easy_init();
    writer w = {.port = port};
    populate(&x->src, h, port, w.token);

    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    wait_rounds(&w, 5);
    const char *src_env[] = {x->src.env_url, x->src.env_dir, KEY_A, NULL};
    int rc = RUN(src_env, "admin", "backup", "--to", x->file);
    int before_stop = __atomic_load_n(&w.done, __ATOMIC_ACQUIRE);
    __atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    if (rc != 0)
        fail_msg("backup: %s", out);
    expect_in_output("backed up the");
    /* The writer was never held up: every round it wrote was answered 201. */
    assert_int_equal(w.failed, 0);
    assert_true(before_stop >= 5);
    struct stat st;
    assert_int_equal(stat(x->file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, KEY_A, NULL};
    if (RUN(dst_env, "admin", "restore", "--from", x->file) != 0)
        fail_msg("restore: %s", out);
    expect_in_output("restored the");
    expect_schema_latest(&x->dst);

    /* Every row the backup holds is in the source, unchanged, and it holds
     * at least what was there before the writer began. The writer only
     * adds, except that adding a scene updates its project, and a
     * session's last use is rewritten once a minute: those rows need only
     * be there by key. */
    snap a, b;
    snap_take(x->dst.t.url, &a);
    snap_take(x->src.t.url, &b);
    snap_expect_within_but(&a, &b, false, (const char *const[]){"projects", "sessions", NULL});
    assert_true(snap_count(&a, "personas") >= 3 + 1 + 5);
    assert_true(snap_count(&a, "scenes") >= 4 + 5);
    assert_true(snap_count(&a, "channels") == 1);
    assert_true(snap_count(&a, "jobs") >= 1);
    assert_true(snap_count(&a, "users") == 2);
    snap_free(&a);
    snap_free(&b);

    /* Quiet now: a second backup equals the source exactly, every table. */
    serve_stop(&srv);
    if (RUN(src_env, "admin", "backup", "--to", x->file) != 0)
        fail_msg("backup: %s", out);
    site fresh;
    site_make(&fresh);
    const char *fresh_env[] = {fresh.env_url, fresh.env_dir, KEY_A, NULL};
    if (RUN(fresh_env, "admin", "restore", "--from", x->file) != 0)
        fail_msg("restore: %s", out);
    snap_take(fresh.t.url, &a);
    snap_take(x->src.t.url, &b);
    snap_expect_within(&a, &b, true);
    snap_expect_within(&b, &a, true);
    snap_free(&a);
    snap_free(&b);
    /* The restored database serves: the owner logs in with the same password. */
    test_proc srv2;
    serve_start(&fresh, (const char *const[]){KEY_A, "PSTUDIO_WORKERS=0", NULL}, &srv2);
    int port2 = srv2.port;
    reply r;
    assert_int_equal(
        post(h, port2, "/api/v1/auth/login", NULL,
             "{\"email\":\"owner@example.com\",\"password\":\"correct horse battery\"}", &r),
        200);
    serve_stop(&srv2);
    curl_easy_cleanup(h);
    testdb_destroy(&fresh.t);
}

static void test_an_older_schema_backup_is_migrated_on_restore(void **state)
{
    fx *x = *state;
    db_error de;
    x->src.t.db = db_open(x->src.t.url, 2, &de);
    assert_non_null(x->src.t.db);
    int latest = migrate_latest(db_engine_of(x->src.t.db)), applied = 0;
    int old = latest - 4;
    assert_int_equal(migrate_apply_to(x->src.t.db, old, &applied, &de), 0);
    char uid[40];
    fixture_user(&x->src.t, "early@example.com", uid);
    db_close(x->src.t.db);
    x->src.t.db = NULL;

    const char *src_env[] = {x->src.env_url, x->src.env_dir, NULL};
    if (RUN(src_env, "admin", "backup", "--to", x->file) != 0)
        fail_msg("backup: %s", out);
    char want[64];
    snprintf(want, sizeof(want), "schema version %d", old);
    expect_in_output(want);
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    if (RUN(dst_env, "admin", "restore", "--from", x->file) != 0)
        fail_msg("restore: %s", out);
    expect_in_output(want);
    expect_schema_latest(&x->dst);
    assert_int_equal(testdb_scalar(&x->dst.t, "SELECT COUNT(*) FROM users WHERE email = "
                                              "'early@example.com'"),
                     1);
    /* The source is as it was: a backup migrates nothing. */
    site_open(&x->src);
    assert_int_equal(testdb_scalar(&x->src.t, "SELECT MAX(version) FROM schema_migrations"), old);
    /* Migrate it, or the teardown's checker would read an old schema. */
    assert_int_equal(migrate_apply(x->src.t.db, &applied, &de), 0);
}

/* A backup made here, and a target that already holds a user. */
static void backup_and_fill_target(fx *x)
{
    const char *src_env[] = {x->src.env_url, x->src.env_dir, NULL};
    assert_int_equal(RUN(src_env, "migrate"), 0);
    site_open(&x->src);
    char uid[40];
    fixture_user(&x->src.t, "source@example.com", uid);
    if (RUN(src_env, "admin", "backup", "--to", x->file) != 0)
        fail_msg("backup: %s", out);
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    assert_int_equal(RUN(dst_env, "migrate"), 0);
    site_open(&x->dst);
    fixture_user(&x->dst.t, "target@example.com", uid);
    /* No connection of ours stays open: on PostgreSQL a restore refuses a
     * database pstudio processes are connected to. */
    site_close(&x->src);
    site_close(&x->dst);
}

/* The target still holds exactly its own user. */
static void expect_target_untouched(fx *x)
{
    site_open(&x->dst);
    assert_int_equal(testdb_scalar(&x->dst.t, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(
        testdb_scalar(&x->dst.t, "SELECT COUNT(*) FROM users WHERE email = 'target@example.com'"),
        1);
    char side[600];
    snprintf(side, sizeof(side), "%s.pre-restore", x->dst.t.name);
    assert_int_not_equal(access(side, F_OK), 0);
    site_close(&x->dst);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_a_non_empty_target_needs_clean_and_is_then_replaced(void **state)
{
    fx *x = *state;
    backup_and_fill_target(x);
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", x->file), 2);
    expect_in_output("--clean");
    expect_target_untouched(x);
    if (RUN(dst_env, "admin", "restore", "--from", x->file, "--clean") != 0)
        fail_msg("restore --clean: %s", out);
    site_open(&x->dst);
    assert_int_equal(testdb_scalar(&x->dst.t, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(
        testdb_scalar(&x->dst.t, "SELECT COUNT(*) FROM users WHERE email = 'source@example.com'"),
        1);
    if (strcmp(test_engine(), "sqlite") == 0) {
        /* The replaced file is kept beside the new one. */
        char side[600];
        snprintf(side, sizeof(side), "%s.pre-restore", x->dst.t.name);
        assert_int_equal(access(side, F_OK), 0);
    }
}

static void test_damaged_or_foreign_files_are_refused_and_change_nothing(void **state)
{
    fx *x = *state;
    backup_and_fill_target(x);
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    char bad[500];
    snprintf(bad, sizeof(bad), "%s/bad.pstudio", x->src.dir);
    size_t n;
    char *good = test_slurp(x->file, &n);
    assert_non_null(good);
    char *payload = strchr(strchr(good, '\n') + 1, '\n') + 1;
    size_t header = (size_t)(payload - good);

    /* Not a backup at all. */
    write_file(bad, "SQLite format 3\0 and then nothing", 33);
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("not a pstudio backup");
    /* Cut short. */
    write_file(bad, good, header + (n - header) / 2);
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("truncated");
    /* One byte of the database changed. */
    char *flipped = malloc(n);
    memcpy(flipped, good, n);
    flipped[header + (n - header) / 3] ^= 0x55;
    write_file(bad, flipped, n);
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("damaged");
    /* A manifest that is not one. */
    char *edited = malloc(n + 16);
    memcpy(edited, good, n);
    char *engine = strstr(edited, "\"engine\":\"");
    assert_non_null(engine);
    memcpy(engine + 10, "oracle", 6);
    write_file(bad, edited, n);
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("manifest");
    /* A whole, checksummed payload that is no database: the manifest
     * rewritten to describe random bytes. */
    unsigned char junk[4096], mac[32];
    randombytes_buf(junk, sizeof(junk));
    crypto_hash_sha256(mac, junk, sizeof(junk));
    char hex[65], head[2048];
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    const char *engine_name = test_engine();
    int hl = snprintf(head, sizeof(head),
                      "PSTUDIO-BACKUP 1\n{\"created_at\":\"2026-01-01T00:00:00.000000Z\","
                      "\"engine\":\"%s\",\"key_check\":\"\",\"key_version\":0,"
                      "\"payload_bytes\":%zu,\"payload_sha256\":\"%s\",\"pstudio_version\":"
                      "\"0.1.0\",\"schema_version\":5,\"tool_version\":\"%s\"}\n",
                      engine_name, sizeof(junk), hex,
                      strcmp(engine_name, "postgres") == 0 ? "15.1" : "");
    char *forged = malloc((size_t)hl + sizeof(junk));
    memcpy(forged, head, (size_t)hl);
    memcpy(forged + hl, junk, sizeof(junk));
    write_file(bad, forged, (size_t)hl + sizeof(junk));
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("nothing was changed");
    /* A schema newer than this binary. */
    memcpy(edited, good, n);
    char *ver = strstr(edited, "\"schema_version\":");
    assert_non_null(ver);
    memcpy(ver + 17, "99", 2);
    write_file(bad, edited, n);
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", bad, "--clean"), 2);
    expect_in_output("newer pstudio");
    /* A file that is not there. */
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", "/nonexistent/x.pstudio"), 2);
    expect_in_output("cannot open");
    /* Usage. */
    assert_int_equal(RUN(dst_env, "admin", "restore"), 2);
    expect_in_output("--from FILE is required");
    assert_int_equal(RUN(dst_env, "admin", "backup", "--to"), 2);
    expect_target_untouched(x);
    free(forged);
    free(edited);
    free(flipped);
    free(good);
}

static void test_a_backup_of_the_other_engine_is_refused(void **state)
{
    fx *x = *state;
    backup_and_fill_target(x);
    char other_url[600], other_dir[300];
    test_tmpdir(other_dir, sizeof(other_dir));
    bool pg = strcmp(test_engine(), "postgres") == 0;
    if (pg)
        snprintf(other_url, sizeof(other_url), "PSTUDIO_DATABASE_URL=sqlite://%s/pstudio.db",
                 other_dir);
    else
        snprintf(other_url, sizeof(other_url),
                 "PSTUDIO_DATABASE_URL=postgres://postgres@127.0.0.1:1/nothing");
    char env_dir[400];
    snprintf(env_dir, sizeof(env_dir), "PSTUDIO_DATA_DIR=%s", other_dir);
    const char *env[] = {other_url, env_dir, NULL};
    assert_int_equal(RUN(env, "admin", "restore", "--from", x->file), 2);
    expect_in_output(pg ? "backup of a postgres database" : "backup of a sqlite database");
    expect_in_output("PSTUDIO_DATABASE_URL");
    char file[400];
    snprintf(file, sizeof(file), "%s/pstudio.db", other_dir);
    assert_int_not_equal(access(file, F_OK), 0);
}

static void test_a_running_server_blocks_the_restore(void **state)
{
    fx *x = *state;
    backup_and_fill_target(x);
    test_proc srv;
    serve_start(&x->dst, (const char *const[]){"PSTUDIO_WORKERS=0", NULL}, &srv);
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    assert_int_equal(RUN(dst_env, "admin", "restore", "--from", x->file, "--clean"), 2);
    expect_in_output(strcmp(test_engine(), "postgres") == 0 ? "stop every 'pstudio serve'"
                                                            : "in use by a running");
    expect_target_untouched(x);
    serve_stop(&srv);
    if (RUN(dst_env, "admin", "restore", "--from", x->file, "--clean") != 0)
        fail_msg("restore: %s", out);
}

static void test_the_key_must_be_the_one_the_backup_was_made_with(void **state)
{
    fx *x = *state;
    /* serve stores the key's check value on its first start. */
    test_proc srv;
    serve_start(&x->src, (const char *const[]){KEY_A, "PSTUDIO_WORKERS=0", NULL}, &srv);
    serve_stop(&srv);
    const char *src_env[] = {x->src.env_url, x->src.env_dir, KEY_A, NULL};
    if (RUN(src_env, "admin", "backup", "--to", x->file) != 0)
        fail_msg("backup: %s", out);
    size_t n;
    char *file = test_slurp(x->file, &n);
    assert_non_null(file);
    /* The check value is there, the key is not. */
    assert_non_null(strstr(file, "\"key_version\":1"));
    assert_null(memmem(file, n, KEY_A + 19, strlen(KEY_A + 19)));
    free(file);

    const char *wrong[] = {x->dst.env_url, x->dst.env_dir, KEY_B, NULL};
    assert_int_equal(RUN(wrong, "admin", "restore", "--from", x->file), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output("not the one the backup's Google tokens are sealed with");
    /* No key at all: refused, and no key file is made up. */
    const char *none[] = {x->dst.env_url, x->dst.env_dir, NULL};
    assert_int_equal(RUN(none, "admin", "restore", "--from", x->file), 2);
    expect_in_output("none is configured");
    char keyfile[400];
    snprintf(keyfile, sizeof(keyfile), "%s/secret.key", x->dst.dir);
    assert_int_not_equal(access(keyfile, F_OK), 0);
    site_open(&x->dst);
    assert_int_equal(testdb_scalar(&x->dst.t, strcmp(test_engine(), "postgres") == 0
                                                  ? "SELECT COUNT(*) FROM pg_tables WHERE "
                                                    "schemaname = 'public'"
                                                  : "SELECT COUNT(*) FROM sqlite_schema"),
                     0);
    site_close(&x->dst);
    const char *right[] = {x->dst.env_url, x->dst.env_dir, KEY_A, NULL};
    if (RUN(right, "admin", "restore", "--from", x->file) != 0)
        fail_msg("restore: %s", out);
    /* And the restored database starts with that key. */
    serve_start(&x->dst, (const char *const[]){KEY_A, "PSTUDIO_WORKERS=0", NULL}, &srv);
    serve_stop(&srv);
}

/* PostgreSQL: a pg_dump older than the server is refused before anything
 * runs, and the password never reaches a command line. */
static void write_script(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
    assert_int_equal(chmod(path, 0700), 0);
}

static void test_pg_dump_is_checked_and_gets_the_password_from_the_environment(void **state)
{
    fx *x = *state;
    if (strcmp(test_engine(), "postgres") != 0)
        return; /* SQLite runs no program */
    const char *src_env[] = {x->src.env_url, x->src.env_dir, NULL};
    assert_int_equal(RUN(src_env, "migrate"), 0);
    char bin[300], path[400], env_bin[400], script[1200];
    test_tmpdir(bin, sizeof(bin));
    snprintf(env_bin, sizeof(env_bin), "PSTUDIO_PG_BIN_DIR=%s", bin);
    snprintf(path, sizeof(path), "%s/pg_dump", bin);
    write_script(path, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n");
    const char *old[] = {x->src.env_url, x->src.env_dir, env_bin, NULL};
    assert_int_equal(RUN(old, "admin", "backup", "--to", x->file), 2);
    expect_in_output("pg_dump 9.6.24 is older than the PostgreSQL");
    expect_in_output("PSTUDIO_PG_BIN_DIR");
    assert_int_not_equal(access(x->file, F_OK), 0);

    /* A pg_dump that notes what it was given, then runs the real one. */
    snprintf(script, sizeof(script),
             "#!/bin/sh\n"
             "if [ \"$1\" = --version ]; then exec /usr/bin/pg_dump --version; fi\n"
             "echo \"$@\" > %s/args\n"
             "echo \"password=$PGPASSWORD database=$PGDATABASE\" > %s/env\n"
             "exec /usr/bin/pg_dump \"$@\"\n",
             bin, bin);
    write_script(path, script);
    /* The same URL with a password (the test server trusts loopback, so
     * it is accepted and ignored). */
    char with_pw[1200];
    const char *at = strchr(x->src.t.url + 11, '@');
    assert_non_null(at);
    snprintf(with_pw, sizeof(with_pw), "PSTUDIO_DATABASE_URL=%.*s:Sekr1tPw%s",
             (int)(at - x->src.t.url), x->src.t.url, at);
    const char *pw[] = {with_pw, x->src.env_dir, env_bin, NULL};
    if (RUN(pw, "admin", "backup", "--to", x->file) != 0)
        fail_msg("backup: %s", out);
    char f[500];
    snprintf(f, sizeof(f), "%s/args", bin);
    char *args = test_slurp(f, NULL);
    assert_non_null(args);
    assert_null(strstr(args, "Sekr1tPw"));
    assert_null(strstr(args, "postgres://"));
    assert_non_null(strstr(args, "--format=custom"));
    free(args);
    snprintf(f, sizeof(f), "%s/env", bin);
    char *env = test_slurp(f, NULL);
    assert_non_null(env);
    assert_non_null(strstr(env, "password=Sekr1tPw"));
    assert_non_null(strstr(env, x->src.t.name));
    free(env);
    /* And it restores. */
    const char *dst_env[] = {x->dst.env_url, x->dst.env_dir, NULL};
    if (RUN(dst_env, "admin", "restore", "--from", x->file) != 0)
        fail_msg("restore: %s", out);
    expect_schema_latest(&x->dst);
}

static void test_admin_help_tells_the_backup_story(void **state)
{
    assert_int_equal(RUN(NULL, "admin", "--help"), 0);
    expect_in_output("admin backup --to FILE");
    expect_in_output("admin restore --from FILE");
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output("--clean");
    assert_int_equal(RUN(NULL, "admin", "backup", "--help"), 0);
    expect_in_output("Exit status");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (getenv("PSTUDIO_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("PSTUDIO_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_backup_taken_while_a_server_writes_restores_rows_the_source_has, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_an_older_schema_backup_is_migrated_on_restore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_non_empty_target_needs_clean_and_is_then_replaced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_damaged_or_foreign_files_are_refused_and_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_backup_of_the_other_engine_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_running_server_blocks_the_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_key_must_be_the_one_the_backup_was_made_with,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_pg_dump_is_checked_and_gets_the_password_from_the_environment, setup, teardown),
        cmocka_unit_test(test_admin_help_tells_the_backup_story),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
