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
#include <strings.h>
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
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

void testdb_admin_exec(const char *sql)
{
    testlib__pg_admin(sql);
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
    /* Every test also proves the data's invariants; the database goes
     * either way, then a broken one fails the test. */
    char why[2048] = "";
    int broken = 0, at = 0;
    db_error de;
    if (t->db != NULL && migrate_current(t->db, &at, &de) == 0 &&
        at == migrate_latest(db_engine_of(t->db)))
        broken = testdb_check_quiet(t, why, sizeof(why));
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
    if (broken != 0)
        fail_msg("%s", why);
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
    fixture_persona_history(t, id);
}

void fixture_persona_history(testdb *t, const char *persona_id)
{
    /* The snapshot the starter library's migration writes: the row's
     * columns, at each version. */
    static const char *const snap[2] = {
        "json_object('id', p.id, 'type', p.type, 'owner_id', p.owner_id, 'visibility', "
        "p.visibility, 'required_plan', p.required_plan, 'name', p.name, 'description', "
        "p.description, 'system_instruction', p.system_instruction, 'temperature', "
        "p.temperature, 'top_p', p.top_p, 'top_k', p.top_k, 'language', p.language, 'voice', "
        "p.voice, 'is_official', json(CASE WHEN p.is_official THEN 'true' ELSE 'false' END), "
        "'version', CAST($3 AS INTEGER))",
        "jsonb_build_object('id', p.id, 'type', p.type, 'owner_id', p.owner_id, 'visibility', "
        "p.visibility, 'required_plan', p.required_plan, 'name', p.name, 'description', "
        "p.description, 'system_instruction', p.system_instruction, 'temperature', "
        "p.temperature, 'top_p', p.top_p, 'top_k', p.top_k, 'language', p.language, 'voice', "
        "p.voice, 'is_official', p.is_official, 'version', CAST($3 AS INTEGER))"};
    char sql[2048], q[200];
    snprintf(q, sizeof(q), "SELECT version FROM personas WHERE id = '%s'", persona_id);
    int64_t version = testdb_scalar(t, q);
    snprintf(q, sizeof(q),
             "SELECT coalesce(max(version), 0) FROM persona_history WHERE persona_id = '%s'",
             persona_id);
    int64_t have = testdb_scalar(t, q);
    snprintf(sql, sizeof(sql),
             "INSERT INTO persona_history (id, persona_id, version, snapshot, changed_by, "
             "change_reason, created_at) VALUES ($1, $2, $3, (SELECT %s FROM personas p WHERE "
             "p.id = $2), (SELECT owner_id FROM personas WHERE id = $2), 'test fixture', $4)",
             snap[strcmp(test_engine(), "postgres") == 0]);
    for (int64_t v = have + 1; v <= version; v++) {
        db_error de;
        char hid[UUID_STR_LEN + 1];
        uuid_v7(hid);
        fixture__must(t, testdb_execf(t, &de, sql, "ssit", hid, persona_id, v, time_now_usec()),
                      &de, "persona history");
    }
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

void fixture_assignment(testdb *t, const char *channel_id)
{
    db_error de;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    int rc = testdb_execf(
        t, &de,
        "INSERT INTO channel_persona_assignments (id, channel_id, user_id, persona_id, "
        "persona_version, assigned_by, source, created_at) VALUES ($1, $2, "
        "(SELECT user_id FROM channels WHERE id = $2), "
        "(SELECT persona_id FROM channels WHERE id = $2), "
        "(SELECT p.version FROM channels c JOIN personas p ON p.id = c.persona_id "
        "WHERE c.id = $2), (SELECT user_id FROM channels WHERE id = $2), 'manual', $3)",
        "sst", id, channel_id, time_now_usec());
    fixture__must(t, rc, &de, "channel persona assignment");
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

/* ---- API tests ------------------------------------------------------------ */

#include "http/routes.h"

#include <curl/curl.h>
#include <strings.h>

void test_api_start(test_api *a)
{
    memset(a, 0, sizeof(*a));
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    testdb_create(&a->t);
    services_defaults(&a->svc);
    a->svc.db = a->t.db;
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .max_body = 1024 * 1024,
        .shutdown_timeout_ms = 5000,
        .db = a->t.db,
        .app = &a->svc,
    };
    error e;
    a->srv = http_server_start(&cfg, routes, n, &e);
    free(routes);
    if (a->srv == NULL)
        fail_msg("http_server_start: %s", e.message);
    a->port = http_server_port(a->srv);
}

void test_api_stop(test_api *a)
{
    if (a->srv != NULL)
        http_server_stop(a->srv);
    a->srv = NULL;
    testdb_destroy(&a->t);
}

int test_api_setup(void **state)
{
    test_api *a = test_calloc(1, sizeof(*a));
    test_api_start(a);
    *state = a;
    return 0;
}

int test_api_teardown(void **state)
{
    test_api *a = *state;
    test_api_stop(a);
    test_free(a);
    return 0;
}

typedef struct testlib__sink {
    char *p;
    size_t n;
} testlib__sink;

static size_t testlib__collect(char *data, size_t size, size_t nmemb, void *ud)
{
    testlib__sink *s = ud;
    size_t k = size * nmemb;
    s->p = realloc(s->p, s->n + k + 1);
    memcpy(s->p + s->n, data, k);
    s->n += k;
    s->p[s->n] = '\0';
    return k;
}

test_resp test_req(test_api *a, const char *method, const char *path, const char *token,
                   const char *body, const char *const *headers)
{
    test_resp out = {0};
    CURL *h = curl_easy_init();
    char url[2048];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", a->port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *hl = NULL;
    char authz[512];
    if (token != NULL) {
        snprintf(authz, sizeof(authz), "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, authz);
    }
    bool own_type = false; /* a Content-Type among headers replaces the JSON one */
    for (int i = 0; headers && headers[i]; i++)
        own_type |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
    if (body != NULL) {
        if (!own_type)
            hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    hl = curl_slist_append(hl, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    testlib__sink b = {0}, hd = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, testlib__collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, testlib__collect);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    out.body = b.p ? b.p : strdup("");
    out.len = b.n;
    out.headers = hd.p ? hd.p : strdup("");
    out.json = out.body[0] ? json_loads(out.body, 0, NULL) : NULL;
    return out;
}

void test_resp_free(test_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

bool test_resp_header(const test_resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
            return true;
        }
        p = eol ? eol + 2 : NULL;
    }
    return false;
}

void test_expect(const test_resp *r, long status, const char *problem_slug)
{
    if (r->status != status)
        fail_msg("expected HTTP %ld, got %ld: %s", status, r->status, r->body);
    if (problem_slug != NULL) {
        char want[128];
        snprintf(want, sizeof(want), "/problems/%s", problem_slug);
        const char *type = json_string_value(json_object_get(r->json, "type"));
        if (type == NULL || strcmp(type, want) != 0)
            fail_msg("expected problem %s, got: %s", want, r->body);
        char ct[128] = "";
        test_resp_header(r, "Content-Type", ct, sizeof(ct));
        if (strncmp(ct, "application/problem+json", 24) != 0)
            fail_msg("expected application/problem+json, got '%s'", ct);
    }
}

void test_signup(test_api *a, const char *email, char *token)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             email);
    test_resp r = test_req(a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
    test_expect(&r, 201, NULL);
    const char *t = json_string_value(json_object_get(r.json, "token"));
    assert_non_null(t);
    snprintf(token, 128, "%s", t);
    test_resp_free(&r);
}

void test_make_admin(test_api *a, const char *email)
{
    db_error de;
    if (testdb_execf(&a->t, &de, "UPDATE users SET role = 'admin' WHERE lower(email) = lower($1)",
                     "s", email) != 0)
        fail_msg("make admin: %s", de.message);
}

void test_set_plan(test_api *a, const char *email, const char *plan_code)
{
    db_error de;
    if (testdb_execf(&a->t, &de,
                     "UPDATE users SET plan_id = (SELECT id FROM plans WHERE code = $2) "
                     "WHERE lower(email) = lower($1)",
                     "ss", email, plan_code) != 0)
        fail_msg("set plan: %s", de.message);
}

const char *const test_utf8_units[TEST_UTF8_UNITS] = {"\xc3\xa9", "\xe2\x82\xac",
                                                      "\xf0\x9f\x98\x80"}; /* é € 😀 */

char *test_repeat(const char *prefix, const char *unit, int n)
{
    size_t p = strlen(prefix), u = strlen(unit);
    char *s = malloc(p + u * (size_t)n + 1);
    assert_non_null(s);
    memcpy(s, prefix, p);
    for (int i = 0; i < n; i++)
        memcpy(s + p + u * (size_t)i, unit, u);
    s[p + u * (size_t)n] = '\0';
    return s;
}

/* ---- files and child processes -------------------------------------------- */

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

void test_nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *test_slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (;;) {
        if (n + 1 == cap) {
            if (n >= TEST_SLURP_MAX)
                fail_msg("%s: %zu bytes or more, past what a test reads", path, n);
            cap = cap * 2 > TEST_SLURP_MAX + 1 ? TEST_SLURP_MAX + 1 : cap * 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        ssize_t r = read(fd, text + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(text);
            close(fd);
            errno = err;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    text[n] = '\0';
    if (len != NULL)
        *len = n;
    return text;
}

static void testlib__reaped(test_proc *p, int wstatus)
{
    p->pid = 0;
    p->wstatus = wstatus;
    p->ended = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

void test_proc_start(test_proc *p, const char *cmd, const test_proc_opts *o)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->cmd, sizeof(p->cmd), "%s", cmd);
    snprintf(p->dir, sizeof(p->dir), "%s", o->data_dir);
    snprintf(p->log, sizeof(p->log), "%s", o->log);
    int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        fail_msg("%s: %s", p->log, strerror(errno));
    bool serve = strcmp(cmd, "serve") == 0;
    p->pid = fork();
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no process behind */
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("PSTUDIO_DATABASE_URL", o->db_url, 1);
        setenv("PSTUDIO_DATA_DIR", o->data_dir, 1);
        setenv("PSTUDIO_PORT", "0", 1);
        setenv("PSTUDIO_WORKERS", serve ? "0" : "1", 1);
        setenv("PSTUDIO_SHUTDOWN_TIMEOUT_MS", "5000", 1);
        for (size_t i = 0; o->env != NULL && o->env[i] != NULL; i++)
            if (strchr(o->env[i], '=') != NULL)
                putenv((char *)o->env[i]);
            else
                unsetenv(o->env[i]);
        if (o->fsize > 0) {
            struct rlimit rl = {(rlim_t)o->fsize, RLIM_INFINITY};
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(126);
        }
        execl(PSTUDIO_BIN, PSTUDIO_BIN, cmd, (char *)NULL);
        _exit(127);
    }
    close(fd);
    if (p->pid < 0)
        fail_msg("fork: %s", strerror(errno));
}

void test_proc_ready(test_proc *p)
{
    const char *ready = strcmp(p->cmd, "serve") == 0 ? "listening" : "job workers started";
    for (int tries = 0; tries < 1200; tries++) {
        char *log = test_proc_log(p);
        const char *at = strstr(log, ready);
        const char *eol = at != NULL ? strchr(at, '\n') : NULL;
        if (eol != NULL) { /* the whole line is there */
            const char *bol = at;
            while (bol > log && bol[-1] != '\n')
                bol--;
            const char *port = strstr(bol, "\"port\":");
            if (port != NULL && port < eol)
                p->port = atoi(port + 7);
            free(log);
            return;
        }
        if (!test_proc_alive(p))
            fail_msg("pstudio %s exited (%d) before it was ready:\n%s", p->cmd, p->ended, log);
        free(log);
        test_nap_ms(25);
    }
    char *log = test_proc_log(p);
    test_proc_stop(p, SIGKILL, 30);
    fail_msg("pstudio %s never said '%s' in 30 s:\n%s", p->cmd, ready, log);
}

bool test_proc_alive(test_proc *p)
{
    if (p->pid <= 0)
        return false;
    int wstatus = 0;
    pid_t r = waitpid(p->pid, &wstatus, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return true;
    if (r == p->pid)
        testlib__reaped(p, wstatus);
    else
        p->pid = 0; /* not our child any more: nothing to wait for */
    return false;
}

int test_proc_wait(test_proc *p, int seconds)
{
    int64_t until = time_mono_usec() + (int64_t)seconds * 1000000;
    while (test_proc_alive(p)) {
        if (time_mono_usec() > until) {
            int wstatus = 0;
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &wstatus, 0);
            testlib__reaped(p, wstatus);
            p->ended = TEST_PROC_KILLED;
            break;
        }
        test_nap_ms(20);
    }
    return p->ended;
}

int test_proc_stop(test_proc *p, int sig, int seconds)
{
    if (p->pid > 0)
        kill(p->pid, sig);
    return test_proc_wait(p, seconds);
}

char *test_proc_log(const test_proc *p)
{
    char *log = p->log[0] != '\0' ? test_slurp(p->log, NULL) : NULL;
    return log != NULL ? log : strdup("");
}

void test_proc_print_log(const test_proc *p)
{
    char *log = test_proc_log(p);
    for (char *line = log, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        print_message("%s log: %s\n", p->cmd, line);
    }
    free(log);
}
