/*
 * Fault injection over the write paths (SQLite's test_malloc.c, curl's
 * torture mode): each operation runs once per statement it executes, the
 * Nth statement failing as a lost connection would, and then once per
 * commit it makes, that commit failing. After each failure the request
 * must have answered a 5xx problem, every table must hold exactly what it
 * held before (a generic dump of all rows of all tables), and the
 * consistency checker must pass. The run without a fault that ends each
 * loop proves the pool recovered and the operation works.
 *
 * Every attempt starts from fresh preconditions (prepare), made without
 * faults, so one attempt's outcome never feeds the next. A path that
 * spends something before its transaction on purpose (Google connect
 * spends its single-use OAuth state) names those rows, which the dump
 * leaves out. Jobs (the Google import, stats refresh and daily sweep) are
 * run by the worker instead of a request: their own row may change (a
 * claim, a retry), every other row must stay as it was until the job
 * finishes.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "fake_google.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/google_service.h"
#include "services/script_service.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
    test_api a;
    char tok[128];
    int serial; /* makes names unique across attempts */
    char email[64];
    char persona[37], persona2[37], channel[37], project[37], key[37];
    char scenes[3][37];
    char user[37], job[37], plan[37];
    /* Google (setup_google): the fake, its endpoints, the connected account. */
    fake_google *fg;
    char urls[6][256];
    char secret_key[64];
    char cookie[200];
    char callback[4096];
    char account[37];
} fx;

static int setup(void **state)
{
    fx *x = test_calloc(1, sizeof(*x));
    test_api_start(&x->a);
    x->a.svc.login_max_attempts = 1000000; /* every attempt signs up from one address */
    job_unregister_all();
    job_unschedule_all();
    script_service_register_jobs(&x->a.svc);
    job_unschedule_all();
    test_signup(&x->a, "ana@example.com", x->tok);
    test_set_plan(&x->a, "ana@example.com", "pro");
    /* Every attempt makes a channel or two. */
    testdb_exec(&x->a.t, "UPDATE plans SET max_channels = NULL");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    test_api_stop(&x->a);
    job_unregister_all();
    test_free(x);
    return 0;
}

/* ---- a dump of every row of every table -------------------------------------------- */

/* Rate-limit counters are bookkeeping a request writes on purpose before
 * (and whatever) its outcome: an attempt counts even when it fails. */
static bool skipped_table(const char *name)
{
    return strcmp(name, "rate_limits") == 0;
}

static db_sql Q_TABLES = DB_SQL2("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                 "name NOT LIKE 'sqlite_%' ORDER BY name",
                                 "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                 "ORDER BY tablename");

/* One statement per table, prepared once per connection. */
#define MAX_TABLES 64
static struct {
    char name[64];
    char text[128];
    db_sql sql;
} tables[MAX_TABLES];
static int ntables;

static db_sql *select_all(const char *name)
{
    for (int i = 0; i < ntables; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i].sql;
    assert_true(ntables < MAX_TABLES);
    snprintf(tables[ntables].name, sizeof(tables[ntables].name), "%s", name);
    snprintf(tables[ntables].text, sizeof(tables[ntables].text), "SELECT * FROM %s", name);
    tables[ntables].sql = (db_sql)DB_SQL(tables[ntables].text);
    return &tables[ntables++].sql;
}

typedef struct strs {
    char **v;
    size_t n, cap;
} strs;

static void strs_add(strs *s, char *v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = v;
}

static int by_text(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every row of every table, rows sorted, one line each ("table|v|v|…"),
 * but the lines that start with skip (NULL: none): what a path writes on
 * purpose whatever its outcome, e.g. the row of the job under test. */
static char *dump(testdb *t, const char *skip)
{
    db_conn *c = db_acquire(t->db);
    db_error de;
    strs names = {0}, rows = {0};
    db_stmt *s = db_prepare(c, &Q_TABLES, &de);
    if (s == NULL)
        fail_msg("list tables: %s", de.message);
    while (db_step(s, &de) == DB_ROW)
        strs_add(&names, strdup(db_col_text(s, 0)));
    db_reset(s);
    for (size_t i = 0; i < names.n; i++) {
        if (skipped_table(names.v[i]))
            continue;
        s = db_prepare(c, select_all(names.v[i]), &de);
        if (s == NULL)
            fail_msg("dump %s: %s", names.v[i], de.message);
        int rc;
        while ((rc = db_step(s, &de)) == DB_ROW) {
            size_t cap = 256, len = (size_t)snprintf(NULL, 0, "%s", names.v[i]);
            char *line = malloc(cap);
            snprintf(line, cap, "%s", names.v[i]);
            for (int k = 0; k < db_col_count(s); k++) {
                const char *v = db_col_is_null(s, k) ? "<null>" : db_col_text(s, k);
                size_t need = len + strlen(v) + 2;
                if (need > cap) {
                    cap = need * 2;
                    line = realloc(line, cap);
                }
                len += (size_t)snprintf(line + len, cap - len, "|%s", v);
            }
            if (skip != NULL && strncmp(line, skip, strlen(skip)) == 0)
                free(line);
            else
                strs_add(&rows, line);
        }
        db_reset(s);
        if (rc == DB_ERR)
            fail_msg("dump %s: %s", names.v[i], de.message);
    }
    db_release(c);
    qsort(rows.v, rows.n, sizeof(*rows.v), by_text);
    size_t total = 1;
    for (size_t i = 0; i < rows.n; i++)
        total += strlen(rows.v[i]) + 1;
    char *out = malloc(total), *p = out;
    for (size_t i = 0; i < rows.n; i++) {
        size_t n = strlen(rows.v[i]);
        memcpy(p, rows.v[i], n);
        p[n] = '\n';
        p += n + 1;
        free(rows.v[i]);
    }
    *p = '\0';
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    free(rows.v);
    return out;
}

/* Fails naming the first line that differs. */
static void expect_same(const char *what, int n, const char *before, const char *after)
{
    if (strcmp(before, after) == 0)
        return;
    const char *b = before, *a = after;
    while (*b && *b == *a) {
        b++;
        a++;
    }
    while (b > before && b[-1] != '\n') {
        b--;
        a--;
    }
    fail_msg("%s, failure %d: the database changed; first difference:\n  before: %.300s\n  "
             "after:  %.300s",
             what, n, b, a);
}

/* ---- requests ---------------------------------------------------------------------- */

static test_resp req(fx *x, const char *method, const char *body, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static test_resp req(fx *x, const char *method, const char *body, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return test_req(&x->a, method, path, x->tok, body, NULL);
}

/* A request that must work (preparation): its "id", when out is given. */
static void must(fx *x, const char *method, const char *body, char out[37], const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void must(fx *x, const char *method, const char *body, char out[37], const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    test_resp r = test_req(&x->a, method, path, x->tok, body, NULL);
    if (r.status < 200 || r.status > 299)
        fail_msg("%s %s: %ld %s", method, path, r.status, r.body);
    if (out != NULL) {
        const char *id = json_string_value(json_object_get(r.json, "id"));
        assert_non_null(id);
        snprintf(out, 37, "%s", id);
    }
    test_resp_free(&r);
}

static void new_persona(fx *x, char out[37])
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"Narrator %d\",\"system_instruction\":\"You explain calmly.\"}",
             ++x->serial);
    must(x, "POST", body, out, "/api/v1/personas");
}

static void new_channel(fx *x, const char *persona, char out[37])
{
    char body[256];
    if (persona != NULL)
        snprintf(body, sizeof(body),
                 "{\"youtube_channel_id\":\"UC%d\",\"name\":\"Channel\",\"persona_id\":\"%s\"}",
                 ++x->serial, persona);
    else
        snprintf(body, sizeof(body), "{\"youtube_channel_id\":\"UC%d\",\"name\":\"Channel\"}",
                 ++x->serial);
    must(x, "POST", body, out, "/api/v1/channels");
}

/* A draft of three scenes. */
static void new_draft(fx *x)
{
    new_persona(x, x->persona);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"topic\":\"Black holes\",\"generate\":false,\"persona_id\":\"%s\"}", x->persona);
    must(x, "POST", body, x->project, "/api/v1/projects");
    for (int i = 0; i < 3; i++)
        must(x, "POST", "{\"narration\":\"A scene.\"}", x->scenes[i], "/api/v1/projects/%s/scenes",
             x->project);
}

/* ---- the loop ----------------------------------------------------------------------- */

typedef struct op {
    const char *name;
    void (*prepare)(fx *x);
    test_resp (*run)(fx *x);
    /* Statements whose failure the path ignores by design (bit n for
     * statement n): it must then succeed whole. */
    unsigned tolerated;
    /* Rows the path writes before its transaction, on purpose, whatever
     * follows (a line prefix of the dump; NULL: none). */
    const char *spent;
} op;

/* One attempt with the nth statement or commit failing: false when nothing
 * failed (the operation had fewer), after checking it succeeded. */
static bool attempt(fx *x, const op *o, db_faultsim_target target, int n)
{
    if (o->prepare != NULL)
        o->prepare(x);
    db *d = x->a.t.db;
    char *before = dump(&x->a.t, o->spent);
    db_faultsim_config(d, DB_FAULTSIM_STEP, target == DB_FAULTSIM_STEP ? n : 0, 0);
    db_faultsim_config(d, DB_FAULTSIM_COMMIT, target == DB_FAULTSIM_COMMIT ? n : 0, 0);
    test_resp r = o->run(x);
    db_faultsim_off(d);
    int fired = 0;
    db_faultsim_seen(target, &fired);
    const char *what = target == DB_FAULTSIM_STEP ? "statement" : "commit";
    if (fired != 0 && target == DB_FAULTSIM_STEP && n < 32 && (o->tolerated & (1u << n)) != 0) {
        if (r.status < 200 || r.status > 299)
            fail_msg("%s, tolerated statement %d failed: %ld %s", o->name, n, r.status, r.body);
        test_resp_free(&r);
        free(before);
        testdb_check(&x->a.t);
        return true;
    }
    if (fired == 0) {
        if (r.status < 200 || r.status > 299)
            fail_msg("%s with no fault: %ld %s", o->name, r.status, r.body);
        test_resp_free(&r);
        free(before);
        testdb_check(&x->a.t);
        return false;
    }
    if (r.status < 500 || r.status > 599)
        fail_msg("%s, %s %d failed: answered %ld, not a 5xx: %s", o->name, what, n, r.status,
                 r.body);
    char ct[128] = "";
    test_resp_header(&r, "Content-Type", ct, sizeof(ct));
    if (strncmp(ct, "application/problem+json", 24) != 0)
        fail_msg("%s, %s %d failed: answered %s, not a problem", o->name, what, n, ct);
    test_resp_free(&r);
    char *after = dump(&x->a.t, o->spent);
    char label[160];
    snprintf(label, sizeof(label), "%s (%s)", o->name, what);
    expect_same(label, n, before, after);
    free(before);
    free(after);
    testdb_check(&x->a.t);
    return true;
}

/* Fails each statement, then each commit, in turn; ends with a clean run. */
static void torture(fx *x, const op *o)
{
    int n = 1;
    while (attempt(x, o, DB_FAULTSIM_STEP, n))
        n++;
    assert_true(n > 1); /* a write runs at least one statement */
    int m = 1;
    while (attempt(x, o, DB_FAULTSIM_COMMIT, m))
        m++;
}

/* ---- the write paths ----------------------------------------------------------------- */

static void prep_email(fx *x)
{
    snprintf(x->email, sizeof(x->email), "user%d@example.com", ++x->serial);
}

static test_resp run_signup(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             x->email);
    return test_req(&x->a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
}

static test_resp run_login(fx *x)
{
    return test_req(&x->a, "POST", "/api/v1/auth/login", NULL,
                    "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}", NULL);
}

static test_resp run_persona_create(fx *x)
{
    return req(x, "POST", "{\"name\":\"Fresh\",\"system_instruction\":\"You write.\"}",
               "/api/v1/personas");
}

static void prep_persona(fx *x)
{
    new_persona(x, x->persona);
}

static test_resp run_persona_update(fx *x)
{
    return req(x, "PATCH", "{\"name\":\"Renamed\",\"temperature\":0.3}", "/api/v1/personas/%s",
               x->persona);
}

static void prep_persona_v2(fx *x)
{
    new_persona(x, x->persona);
    must(x, "PATCH", "{\"name\":\"Second\"}", NULL, "/api/v1/personas/%s", x->persona);
}

static test_resp run_persona_restore(fx *x)
{
    return req(x, "POST", "{\"version\":1}", "/api/v1/personas/%s/restore", x->persona);
}

static void prep_persona_in_use(fx *x)
{
    new_persona(x, x->persona);
    new_channel(x, x->persona, x->channel);
}

static test_resp run_persona_delete(fx *x)
{
    return req(x, "DELETE", NULL, "/api/v1/personas/%s", x->persona);
}

static void prep_persona_and_channel(fx *x)
{
    new_persona(x, x->persona);
    new_channel(x, NULL, x->channel);
}

static test_resp run_channel_create(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UCnew%d\",\"name\":\"New\",\"persona_id\":\"%s\"}",
             x->serial, x->persona);
    return req(x, "POST", body, "/api/v1/channels");
}

static test_resp run_channel_assign(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\",\"assignment_reason\":\"better\"}",
             x->persona);
    return req(x, "PATCH", body, "/api/v1/channels/%s", x->channel);
}

static test_resp run_project_draft(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"Tides\",\"generate\":false,\"channel_id\":\"%s\"}",
             x->channel);
    return req(x, "POST", body, "/api/v1/projects");
}

static void prep_channel_with_persona(fx *x)
{
    new_persona(x, x->persona);
    new_channel(x, x->persona, x->channel);
}

static test_resp run_project_generate(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"Tides\",\"channel_id\":\"%s\"}", x->channel);
    const char *headers[] = {NULL, NULL};
    char key[80];
    snprintf(key, sizeof(key), "Idempotency-Key: k-%d", ++x->serial);
    headers[0] = key;
    return test_req(&x->a, "POST", "/api/v1/projects", x->tok, body, headers);
}

static test_resp run_scene_add(fx *x)
{
    return req(x, "POST", "{\"narration\":\"First now.\",\"position\":0}",
               "/api/v1/projects/%s/scenes", x->project);
}

static test_resp run_scene_edit(fx *x)
{
    return req(x, "PATCH", "{\"narration\":\"Edited.\"}", "/api/v1/projects/%s/scenes/%s",
               x->project, x->scenes[1]);
}

static test_resp run_scene_delete(fx *x)
{
    return req(x, "DELETE", NULL, "/api/v1/projects/%s/scenes/%s", x->project, x->scenes[0]);
}

static test_resp run_scene_reorder(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"scene_ids\":[\"%s\",\"%s\",\"%s\"]}", x->scenes[2],
             x->scenes[0], x->scenes[1]);
    return req(x, "POST", body, "/api/v1/projects/%s/scenes/reorder", x->project);
}

static test_resp run_key_create(fx *x)
{
    return req(x, "POST", "{\"name\":\"deploy\"}", "/api/v1/api-keys");
}

static void prep_key(fx *x)
{
    must(x, "POST", "{\"name\":\"old\"}", x->key, "/api/v1/api-keys");
}

static test_resp run_key_revoke(fx *x)
{
    return req(x, "DELETE", NULL, "/api/v1/api-keys/%s", x->key);
}

static void test_sign_up_leaves_nothing_behind_a_failure_at_any_statement(void **state)
{
    /* Statement 2 is the rate limiter's prune of past windows, best effort. */
    op o = {"sign-up", prep_email, run_signup, 1u << 2, NULL};
    torture(*state, &o);
}

static void test_log_in_leaves_nothing_behind_a_failure_at_any_statement(void **state)
{
    /* Statements 2 and 4 are the prunes of the two rate limiters (address,
     * account), best effort. */
    op o = {"log-in", NULL, run_login, (1u << 2) | (1u << 4), NULL};
    torture(*state, &o);
}

static void test_persona_writes_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    op ops[] = {
        {"persona create", NULL, run_persona_create, 0, NULL},
        {"persona update", prep_persona, run_persona_update, 0, NULL},
        {"persona restore", prep_persona_v2, run_persona_restore, 0, NULL},
        {"persona delete (archive)", prep_persona_in_use, run_persona_delete, 0, NULL},
        {"persona delete", prep_persona, run_persona_delete, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        torture(x, &ops[i]);
}

static void test_channel_writes_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    op create = {"channel create", prep_persona, run_channel_create, 0, NULL};
    torture(x, &create);
    op assign = {"persona assignment", prep_persona_and_channel, run_channel_assign, 0, NULL};
    torture(x, &assign);
}

static void test_project_creation_leaves_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    op draft = {"project create (draft)", prep_channel_with_persona, run_project_draft, 0, NULL};
    torture(x, &draft);
    op gen = {"project create (generate)", prep_channel_with_persona, run_project_generate, 0,
              NULL};
    torture(x, &gen);
}

static void test_scene_edits_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    op ops[] = {
        {"scene add", new_draft, run_scene_add, 0, NULL},
        {"scene edit", new_draft, run_scene_edit, 0, NULL},
        {"scene delete", new_draft, run_scene_delete, 0, NULL},
        {"scene reorder", new_draft, run_scene_reorder, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        torture(x, &ops[i]);
}

static void test_api_key_writes_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    op create = {"api key create", NULL, run_key_create, 0, NULL};
    torture(x, &create);
    op revoke = {"api key revoke", prep_key, run_key_revoke, 0, NULL};
    torture(x, &revoke);
}

/* ---- the script job's completion ------------------------------------------------------ */

static int64_t scalar(fx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t scalar(fx *x, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return testdb_scalar(&x->a.t, sql);
}

/* The completion is all or nothing: scenes, a scripted project, a
 * successful usage row and the job done together, or none of them. */
static bool script_written(fx *x)
{
    int64_t scenes = scalar(x, "SELECT count(*) FROM scenes WHERE project_id = '%s'", x->project);
    int64_t scripted = scalar(x,
                              "SELECT count(*) FROM projects WHERE id = '%s' AND "
                              "status = 'scripted'",
                              x->project);
    int64_t ok_rows = scalar(x,
                             "SELECT count(*) FROM persona_usage_logs WHERE project_id = '%s' "
                             "AND success",
                             x->project);
    int64_t done = scalar(x,
                          "SELECT count(*) FROM jobs WHERE status = 'done' AND kind = '%s' AND "
                          "CAST(payload AS TEXT) LIKE '%%%s%%'",
                          SCRIPT_JOB_GENERATE, x->project);
    bool all = scenes > 0 && scripted == 1 && ok_rows == 1 && done == 1;
    bool none = scenes == 0 && scripted == 0 && ok_rows == 0 && done == 0;
    if (!all && !none)
        fail_msg("a partial completion: %lld scenes, scripted %lld, %lld successful usage rows, "
                 "%lld done jobs",
                 (long long)scenes, (long long)scripted, (long long)ok_rows, (long long)done);
    return all;
}

/* Runs the job with the nth statement or commit failing: true when a fault fired. */
static bool job_attempt(fx *x, db_faultsim_target target, int n)
{
    db *d = x->a.t.db;
    /* What a failure left (a backoff, a lease, a spent attempt) must not
     * hold the next try back or let the job die. */
    testdb_exec(&x->a.t, "UPDATE jobs SET run_at = '2000-01-01T00:00:00.000000Z', "
                         "lease_expires_at = '2000-01-01T00:00:00.000000Z', attempts = 0 "
                         "WHERE status IN ('queued', 'running')");
    db_faultsim_config(d, DB_FAULTSIM_STEP, target == DB_FAULTSIM_STEP ? n : 0, 0);
    db_faultsim_config(d, DB_FAULTSIM_COMMIT, target == DB_FAULTSIM_COMMIT ? n : 0, 0);
    error e;
    int rc = job_work_one(d, "test:faults", &e);
    db_faultsim_off(d);
    int fired = 0;
    db_faultsim_seen(target, &fired);
    bool written = script_written(x);
    testdb_check(&x->a.t);
    if (fired == 0) {
        if (rc != 1 || !written) {
            char *now = dump(&x->a.t, NULL);
            fail_msg("the job with no fault (after %s %d failed): rc %d, script written %d; the "
                     "jobs: %s",
                     target == DB_FAULTSIM_STEP ? "statement" : "commit", n - 1, rc, written,
                     strstr(now, "\njobs|") ? strstr(now, "\njobs|") : now);
        }
        return false;
    }
    return !written;
}

/* Queues a generation of a new project. */
static void queue_generation(fx *x)
{
    prep_channel_with_persona(x);
    test_resp r = run_project_generate(x);
    test_expect(&r, 202, NULL);
    snprintf(x->project, sizeof(x->project), "%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

static void test_the_script_jobs_completion_is_all_or_nothing_at_any_statement(void **state)
{
    fx *x = *state;
    /* Each failure leaves the job to run again; the loop ends with the run
     * no fault reached, which must write the script. */
    db_faultsim_target targets[] = {DB_FAULTSIM_STEP, DB_FAULTSIM_COMMIT};
    for (int t = 0; t < 2; t++) {
        queue_generation(x);
        int n = 1;
        while (job_attempt(x, targets[t], n))
            n++;
        assert_true(n > 1);
        assert_true(script_written(x));
    }
}

/* ---- the admin's user update ------------------------------------------------------------ */

static void prep_user(fx *x)
{
    prep_email(x);
    fixture_user(&x->a.t, x->email, x->user);
}

static test_resp run_admin_user_update(fx *x)
{
    return req(x, "PATCH", "{\"name\":\"Renamed\",\"role\":\"admin\",\"plan\":\"creator\"}",
               "/api/v1/admin/users/%s", x->user);
}

/* A SYSTEM persona of the starter library: a plan's default must be one. */
#define STARTER_PERSONA "01936f4e-0001-7000-8000-000000000001"

static void prep_plan_code(fx *x)
{
    x->serial++;
}

static test_resp run_plan_create(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"code\":\"team%d\",\"name\":\"Team\",\"rank\":%d,\"max_channels\":9,"
             "\"default_persona_id\":\"" STARTER_PERSONA "\"}",
             x->serial, 100 + x->serial);
    return req(x, "POST", body, "/api/v1/admin/plans");
}

static void prep_plan(fx *x)
{
    prep_plan_code(x);
    test_resp r = run_plan_create(x);
    test_expect(&r, 201, NULL);
    snprintf(x->plan, sizeof(x->plan), "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

static test_resp run_plan_update(fx *x)
{
    return req(x, "PATCH",
               "{\"name\":\"Team plus\",\"max_channels\":12,\"default_persona_id\":null}",
               "/api/v1/admin/plans/%s", x->plan);
}

static void test_admin_changes_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    test_make_admin(&x->a, "ana@example.com");
    op ops[] = {
        {"admin user update", prep_user, run_admin_user_update, 0, NULL},
        {"admin plan create", prep_plan_code, run_plan_create, 0, NULL},
        {"admin plan update", prep_plan, run_plan_update, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        torture(x, &ops[i]);
}

/* ---- Google: connect, import, and the jobs that import and refresh ---------------------- */

#define GOOGLE_CLIENT_ID     "pstudio-test.apps.googleusercontent.com"
#define GOOGLE_CLIENT_SECRET "GOCSPX-test-client-secret-0123456789"
#define ALICE_1              "UCalice0000000000000001"
#define ALICE_2              "UCalice0000000000000002"

static int setup_google(void **state)
{
    setup(state);
    fx *x = *state;
    x->fg = fake_google_start(GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET);
    snprintf(x->fg->identity, sizeof(x->fg->identity), "alice");
    int fp = x->fg->port;
    const char *paths[] = {"/o/oauth2/v2/auth", "/token", "/v1/userinfo", "/revoke", "/youtube/v3"};
    for (int i = 0; i < 5; i++)
        snprintf(x->urls[i], sizeof(x->urls[i]), "http://127.0.0.1:%d%s", fp, paths[i]);
    snprintf(x->urls[5], sizeof(x->urls[5]), "http://127.0.0.1:%d/api/v1/google/callback",
             x->a.port);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(x->secret_key, sizeof(x->secret_key), raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    google_settings *g = &x->a.svc.google;
    g->client_id = GOOGLE_CLIENT_ID;
    g->client_secret = GOOGLE_CLIENT_SECRET;
    g->auth_url = x->urls[0];
    g->token_url = x->urls[1];
    g->userinfo_url = x->urls[2];
    g->revoke_url = x->urls[3];
    g->youtube_api_url = x->urls[4];
    g->redirect_uri = x->urls[5];
    x->a.svc.secret_key_b64 = x->secret_key;
    snprintf(x->cookie, sizeof(x->cookie), "Cookie: pstudio_session=%s", x->tok);
    google_service_register_jobs(&x->a.svc);
    job_unschedule_all();
    return 0;
}

static int teardown_google(void **state)
{
    fx *x = *state;
    fake_google *fg = x->fg;
    job_unschedule_all();
    teardown(state);
    fake_google_stop(fg);
    return 0;
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Starts a connect in ana's browser session and lets the fake Google
 * consent: x->callback is the path Google sends the browser back to. */
static void prep_google_flow(fx *x)
{
    const char *h[] = {x->cookie, NULL};
    test_resp r = test_req(&x->a, "GET", "/api/v1/google/connect", NULL, NULL, h);
    test_expect(&r, 302, NULL);
    char url[4096], back[4096];
    assert_true(test_resp_header(&r, "Location", url, sizeof(url)));
    test_resp_free(&r);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) != CURLE_OK)
        fail_msg("the fake Google's consent page did not answer");
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    snprintf(back, sizeof(back), "%s", loc ? loc : "");
    curl_easy_cleanup(c);
    const char *path = strstr(back, "/api/v1/google/callback");
    assert_non_null(path);
    snprintf(x->callback, sizeof(x->callback), "%s", path);
}

static test_resp run_google_callback(fx *x)
{
    const char *h[] = {x->cookie, "Accept: application/json", NULL};
    return test_req(&x->a, "GET", x->callback, NULL, NULL, h);
}

/* Connects alice's Google account (no faults); its id in x->account. */
static void connect_google(fx *x)
{
    prep_google_flow(x);
    test_resp r = run_google_callback(x);
    test_expect(&r, 200, NULL);
    const char *id = json_string_value(json_object_get(json_object_get(r.json, "account"), "id"));
    assert_non_null(id);
    snprintf(x->account, sizeof(x->account), "%s", id);
    test_resp_free(&r);
}

static test_resp run_google_import(fx *x)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"account_id\":\"%s\",\"youtube_channel_ids\":[\"" ALICE_1 "\",\"" ALICE_2 "\"]}",
             x->account);
    return req(x, "POST", body, "/api/v1/channels/import");
}

static void
test_google_connect_and_import_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    /* The OAuth state is spent once presented, whatever follows: it is
     * single use, so a retry of the same callback cannot connect twice. The
     * first run that gets through connects; the commit faults that follow
     * reconnect the same account (its update). */
    op connect = {"google connect", prep_google_flow, run_google_callback, 0, "oauth_states|"};
    torture(x, &connect);
    connect_google(x);
    op import = {"google import", NULL, run_google_import, 0, NULL};
    torture(x, &import);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT count(*) FROM channels WHERE account_id IS "
                                            "NOT NULL"),
                     2);
}

/* Runs the job x->job with the nth statement or commit failing. Its own row
 * may change (a claim, a retry); everything else must stay as it was
 * unless the job finished, and the checker must pass. False once it ran
 * to the end. */
static bool job_fault_attempt(fx *x, const char *name, db_faultsim_target target, int n)
{
    db *d = x->a.t.db;
    testdb_exec(&x->a.t, "UPDATE jobs SET run_at = '2000-01-01T00:00:00.000000Z', "
                         "lease_expires_at = '2000-01-01T00:00:00.000000Z', attempts = 0 "
                         "WHERE status IN ('queued', 'running')");
    char own[64];
    snprintf(own, sizeof(own), "jobs|%s|", x->job);
    char *before = dump(&x->a.t, own);
    db_faultsim_config(d, DB_FAULTSIM_STEP, target == DB_FAULTSIM_STEP ? n : 0, 0);
    db_faultsim_config(d, DB_FAULTSIM_COMMIT, target == DB_FAULTSIM_COMMIT ? n : 0, 0);
    error e;
    int rc = job_work_one(d, "test:faults", &e);
    db_faultsim_off(d);
    int fired = 0;
    db_faultsim_seen(target, &fired);
    char q[200];
    snprintf(q, sizeof(q), "SELECT count(*) FROM jobs WHERE id = '%s' AND status = 'done'", x->job);
    bool done = testdb_scalar(&x->a.t, q) == 1;
    testdb_check(&x->a.t);
    const char *what = target == DB_FAULTSIM_STEP ? "statement" : "commit";
    if (fired == 0 && (rc != 1 || !done))
        fail_msg("%s with no fault (after %s %d failed): rc %d, done %d", name, what, n - 1, rc,
                 done);
    if (!done) {
        char *after = dump(&x->a.t, own);
        char label[160];
        snprintf(label, sizeof(label), "%s (%s)", name, what);
        expect_same(label, n, before, after);
        free(after);
    }
    free(before);
    return !done;
}

/* Fails each statement of the job in turn until it runs to the end, then
 * queues it again (prepare) and fails each commit in turn. */
static void job_torture(fx *x, const char *name, void (*prepare)(fx *x))
{
    db_faultsim_target targets[] = {DB_FAULTSIM_STEP, DB_FAULTSIM_COMMIT};
    for (int t = 0; t < 2; t++) {
        prepare(x);
        int n = 1;
        while (job_fault_attempt(x, name, targets[t], n))
            n++;
        assert_true(n > 1);
    }
}

/* An import the quota held back, queued as a job. */
static void prep_import_job(fx *x)
{
    testdb_exec(&x->a.t, "DELETE FROM channels");
    fake_google_lock(x->fg);
    x->fg->channels_mode = 1;
    fake_google_unlock(x->fg);
    test_resp r = run_google_import(x);
    test_expect(&r, 202, NULL);
    snprintf(x->job, sizeof(x->job), "%s", json_string_value(json_object_get(r.json, "job_id")));
    test_resp_free(&r);
    fake_google_lock(x->fg);
    x->fg->channels_mode = 0;
    fake_google_unlock(x->fg);
}

/* A stats refresh asked for on demand, with new counts at YouTube. */
static void prep_refresh_job(fx *x)
{
    fake_google_lock(x->fg);
    snprintf(x->fg->alice_subscribers, sizeof(x->fg->alice_subscribers), "%d", 1000 + ++x->serial);
    fake_google_unlock(x->fg);
    char q[200];
    snprintf(q, sizeof(q), "SELECT id FROM channels WHERE youtube_channel_id = '%s'", ALICE_1);
    db_conn *c = db_acquire(x->a.t.db);
    db_sql sql = DB_SQL(q);
    db_error de;
    db_stmt *s = db_prepare(c, &sql, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(x->channel, sizeof(x->channel), "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
    test_resp r = req(x, "POST", NULL, "/api/v1/channels/%s/refresh-stats", x->channel);
    test_expect(&r, 202, NULL);
    snprintf(x->job, sizeof(x->job), "%s", json_string_value(json_object_get(r.json, "job_id")));
    test_resp_free(&r);
}

/* The daily sweep, with the refresh jobs a previous sweep queued gone. */
static void prep_sweep_job(fx *x)
{
    snprintf(x->job, sizeof(x->job), "%s", "");
    testdb_exec(&x->a.t, "DELETE FROM jobs WHERE status <> 'done'");
    db_conn *c = db_acquire(x->a.t.db);
    error e;
    char unique[64];
    snprintf(unique, sizeof(unique), "sweep-%d", ++x->serial);
    job_options o = {.unique_key = unique};
    assert_int_equal(job_enqueue(c, GOOGLE_JOB_REFRESH_ALL, NULL, &o, x->job, &e), 0);
    db_release(c);
}

static void test_google_jobs_leave_nothing_behind_a_failure_at_any_statement(void **state)
{
    fx *x = *state;
    connect_google(x);
    job_torture(x, "import job", prep_import_job);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT count(*) FROM channels"), 2);
    job_torture(x, "stats refresh job", prep_refresh_job);
    char q[200];
    snprintf(q, sizeof(q), "SELECT subscriber_count FROM channels WHERE id = '%s'", x->channel);
    assert_int_equal(testdb_scalar(&x->a.t, q), 1000 + x->serial);
    job_torture(x, "daily sweep job", prep_sweep_job);
    char kind[200];
    snprintf(kind, sizeof(kind),
             "SELECT count(*) FROM jobs WHERE kind = '%s' AND status = 'queued'",
             GOOGLE_JOB_REFRESH_STATS);
    assert_int_equal(testdb_scalar(&x->a.t, kind), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_sign_up_leaves_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_log_in_leaves_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_persona_writes_leave_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_channel_writes_leave_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_project_creation_leaves_nothing_behind_a_failure_at_any_statement, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_scene_edits_leave_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_api_key_writes_leave_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_the_script_jobs_completion_is_all_or_nothing_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_admin_changes_leave_nothing_behind_a_failure_at_any_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_google_connect_and_import_leave_nothing_behind_a_failure_at_any_statement,
            setup_google, teardown_google),
        cmocka_unit_test_setup_teardown(
            test_google_jobs_leave_nothing_behind_a_failure_at_any_statement, setup_google,
            teardown_google),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
