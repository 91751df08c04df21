/*
 * Script generation end to end, on both engines: POST /projects answers 202
 * and an in-test worker pool writes the script, with the offline writer and
 * with a fake Gemini on loopback. Every failure ends in the right project
 * state, usage-log row and readable reason; Idempotency-Key replays; whole
 * and one-scene regeneration; the persona usage summary; the event stream
 * (the owner hears, nobody else does, shutdown ends it); and a `pstudio
 * worker` killed with -9 mid-generation, after which the job runs again
 * elsewhere and the project has exactly one set of scenes.
 */
#include "testlib.h"

#include "fake_llm.h"

#include "base/timeutil.h"
#include "domain/limits.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/script_service.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAST   "2000-01-01T00:00:00.000000Z"
#define SYSTEM "You are Calm Astro, a patient astronomer."
#define KEY    "AIzaSyTESTKEY-generation-0123456789"
#define WAIT_S 30

typedef struct world {
    test_api api;
    fake_llm fake;
    db *wdb; /* the worker pool's own connections */
    job_pool *pool;
    char tok[128], tok_b[128];
    char root[128]; /* an admin's token, once admin_set_plan made one */
} world;

static void start_pool(world *w)
{
    if (w->pool != NULL)
        return;
    error e;
    w->pool = job_pool_start(w->wdb, 2, "test:generation", &e);
    if (w->pool == NULL)
        fail_msg("job_pool_start: %s", e.message);
}

static void stop_pool(world *w)
{
    if (w->pool != NULL)
        job_pool_stop(w->pool, 5000);
    w->pool = NULL;
}

static void use_gemini(world *w, int timeout_ms)
{
    llm_settings *l = &w->api.svc.llm;
    l->provider = "gemini";
    l->model = "gemini-test";
    l->timeout_ms = timeout_ms;
    l->gemini_base_url = w->fake.s.base_url;
    l->gemini_api_key = KEY;
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    job_unregister_all();
    job_unschedule_all();
    fake_llm_start(&w->fake);
    script_service_register_jobs(&w->api.svc);
    job_unschedule_all(); /* the hourly purge would only add noise */
    db_error de;
    w->wdb = db_open(w->api.t.url, 3, &de);
    if (w->wdb == NULL)
        fail_msg("db_open: %s", de.message);
    test_signup(&w->api, "ana@example.com", w->tok);
    test_signup(&w->api, "bob@example.com", w->tok_b);
    test_set_plan(&w->api, "ana@example.com", "pro");
    test_set_plan(&w->api, "bob@example.com", "pro");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    stop_pool(w);
    db_close(w->wdb);
    test_api_stop(&w->api);
    fake_llm_stop(&w->fake);
    job_unregister_all();
    job_unschedule_all();
    test_free(w);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

static int64_t count(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t count(world *w, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return testdb_scalar(&w->api.t, sql);
}

/* The first column of the first row as text ("" for NULL or no row), into out. */
static void text_of(world *w, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void text_of(world *w, char *out, size_t n, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(w->api.t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s: %s", sql, de.message);
    out[0] = '\0';
    if (db_step(s, &de) == DB_ROW && db_col_text(s, 0) != NULL)
        snprintf(out, n, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
}

static void exec(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec(world *w, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    testdb_exec(&w->api.t, sql);
}

/* POSTs a project and returns its id; fails unless the status is want. */
static void create(world *w, const char *tok, const char *body, long want, char id[37])
{
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", tok, body, NULL);
    test_expect(&r, want, NULL);
    snprintf(id, 37, "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

/* Polls the project until its status is want; returns it (caller frees). */
static test_resp wait_project(world *w, const char *tok, const char *id, const char *want)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = test_req(&w->api, "GET", path, tok, NULL, NULL);
        const char *st = json_string_value(json_object_get(r.json, "status"));
        if (st != NULL && strcmp(st, want) == 0)
            return r;
        if (time_mono_usec() > until)
            fail_msg("project %s never reached %s; last: %s", id, want, r.body);
        test_resp_free(&r);
        test_nap_ms(25);
    }
}

/* Waits until the project's job has been attempted n times and is no
 * longer running (retried, done or dead). */
static void wait_attempts(world *w, const char *project_id, int n)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%' AND attempts >= "
             "%d AND "
             "status <> 'running'",
             project_id, n);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (testdb_scalar(&w->api.t, sql) == 0) {
        if (time_mono_usec() > until)
            fail_msg("the job of project %s never finished attempt %d", project_id, n);
        test_nap_ms(25);
    }
}

static const char *str(const test_resp *r, const char *key)
{
    const char *v = json_string_value(json_object_get(r->json, key));
    return v ? v : "";
}

/* The usage rows of a project, oldest first, as "action|success|code|provider|model|in|out". */
/* Waits until the project is in status with an error that says needle. */
static test_resp wait_error(world *w, const char *id, const char *status, const char *needle)
{
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = wait_project(w, w->tok, id, status);
        const char *e = str(&r, "error");
        if (e != NULL && strstr(e, needle) != NULL)
            return r;
        if (time_mono_usec() > until)
            fail_msg("project %s is %s but its error never said '%s': %s", id, status, needle,
                     r.body);
        test_resp_free(&r);
        test_nap_ms(25);
    }
}

static void usage_rows(world *w, const char *project_id, char rows[][160], int max, int *n)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT action, success, error_code, provider, model, tokens_in, tokens_out FROM "
             "persona_usage_logs WHERE project_id = '%s' ORDER BY created_at, id",
             project_id);
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(w->api.t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    *n = 0;
    while (*n < max && db_step(s, &de) == DB_ROW) {
        const char *code = db_col_text(s, 2);
        snprintf(rows[*n], 160, "%s|%d|%s|%s|%s|%lld|%lld", db_col_text(s, 0),
                 db_col_bool(s, 1) ? 1 : 0, code ? code : "-", db_col_text(s, 3), db_col_text(s, 4),
                 (long long)db_col_int64(s, 5), (long long)db_col_int64(s, 6));
        (*n)++;
    }
    db_reset(s);
    db_release(c);
}

static void push(world *w, fake_llm_mode m)
{
    fake_server_lock(&w->fake.s);
    fake_server_push(&w->fake.s, m);
    fake_server_unlock(&w->fake.s);
}

/* A persona of ana's with distinctive sampling values; returns its id. */
static void persona_of_ana(world *w, char id[37])
{
    test_resp r = test_req(&w->api, "POST", "/api/v1/personas", w->tok,
                           "{\"name\":\"Calm Astro\",\"system_instruction\":\"" SYSTEM "\","
                           "\"temperature\":0.35,\"top_p\":0.8,\"top_k\":21,\"language\":\"en\"}",
                           NULL);
    test_expect(&r, 201, NULL);
    snprintf(id, 37, "%s", str(&r, "id"));
    test_resp_free(&r);
}

/* ---- offline, the default ------------------------------------------------------------ */

static void test_a_new_project_is_scripted_by_the_offline_writer_and_logged(void **state)
{
    world *w = *state;
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok,
                           "{\"topic\":\"Why is the night sky dark?\",\"target_scenes\":4}", NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    char id[37], loc[128], want[128];
    snprintf(id, sizeof(id), "%s", str(&r, "id"));
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    snprintf(want, sizeof(want), "/api/v1/projects/%s", id);
    assert_string_equal(loc, want);
    test_resp_free(&r);

    start_pool(w);
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(strncmp(str(&r, "title"), "Offline draft: ", 15) == 0);
    assert_non_null(strstr(str(&r, "description"), "no AI model was used"));
    assert_true(json_is_null(json_object_get(r.json, "error")));
    json_t *scenes = json_object_get(r.json, "scenes");
    assert_int_equal(json_array_size(scenes), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *sc = json_array_get(scenes, i);
        assert_int_equal(json_integer_value(json_object_get(sc, "position")), (json_int_t)i);
        assert_true(strlen(json_string_value(json_object_get(sc, "narration"))) > 20);
        assert_string_equal(json_string_value(json_object_get(sc, "audio_status")), "PENDING");
    }
    assert_true(json_integer_value(json_object_get(r.json, "persona_version")) >= 1);
    test_resp_free(&r);

    char rows[4][160];
    int n;
    usage_rows(w, id, rows, 4, &n);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0], "generate_script|1|-|offline|offline-draft-writer|0|0");
    assert_int_equal(count(w,
                           "SELECT count(*) FROM jobs WHERE status = 'done' AND "
                           "CAST(payload AS TEXT) LIKE '%%%s%%'",
                           id),
                     1);
}

static void test_generate_false_keeps_a_draft_and_controls_are_validated(void **state)
{
    world *w = *state;
    char id[37];
    create(w, w->tok, "{\"topic\":\"Bees\",\"generate\":false}", 201, id);
    char st[32];
    text_of(w, st, sizeof(st), "SELECT status FROM projects WHERE id = '%s'", id);
    assert_string_equal(st, "draft");
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind LIKE 'script.%%'"), 0);

    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"topic\":\"t\",\"generate\":false,\"target_scenes\":3}", "generate"},
        {"{\"topic\":\"t\",\"target_scenes\":3,\"target_seconds\":60}", "target_seconds"},
        {"{\"topic\":\"t\",\"target_scenes\":31}", "target_scenes"},
        {"{\"topic\":\"t\",\"target_seconds\":14}", "target_seconds"},
        {"{\"topic\":\"t\",\"language\":\"english!\"}", "language"},
        {"{\"topic\":\"t\",\"generate\":\"yes\"}", "generate"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, bad[i].body, NULL);
        test_expect(&r, 422, "invalid-request");
        assert_string_equal(str(&r, "field"), bad[i].field);
        test_resp_free(&r);
    }
    char big[2100 + 64];
    int k = snprintf(big, sizeof(big), "{\"topic\":\"t\",\"instructions\":\"");
    memset(big + k, 'x', 2001);
    snprintf(big + k + 2001, sizeof(big) - (size_t)k - 2001, "\"}");
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, big, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 1);
}

/* ---- a model provider ------------------------------------------------------------------ */

static void test_gemini_writes_the_script_with_the_personas_settings(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    char persona[37], id[37], body[256];
    persona_of_ana(w, persona);
    snprintf(body, sizeof(body),
             "{\"topic\":\"Why is the night sky dark?\",\"persona_id\":\"%s\",\"language\":"
             "\"pt-BR\",\"instructions\":\"Mention Olbers.\"}",
             persona);
    create(w, w->tok, body, 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    assert_string_equal(str(&r, "title"), "Why is the night dark?");
    assert_string_equal(str(&r, "description"), "Olbers' paradox, explained.");
    assert_int_equal(json_array_size(json_object_get(r.json, "tags")), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 3);
    test_resp_free(&r);

    json_t *b = fake_server_last_body(&w->fake.s);
    const json_t *gc = json_object_get(b, "generationConfig");
    assert_true(json_number_value(json_object_get(gc, "temperature")) == 0.35);
    assert_true(json_number_value(json_object_get(gc, "topP")) == 0.8);
    assert_int_equal(json_integer_value(json_object_get(gc, "topK")), 21);
    const char *sys = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(b, "systemInstruction"), "parts"), 0),
        "text"));
    assert_string_equal(sys, SYSTEM);
    const char *prompt = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(b, "contents"), 0), "parts"),
                       0),
        "text"));
    assert_non_null(strstr(prompt, "pt-BR"));
    assert_non_null(strstr(prompt, "Mention Olbers."));
    json_decref(b);
    fake_server_lock(&w->fake.s);
    assert_string_equal(w->fake.s.goog_key, KEY);
    fake_server_unlock(&w->fake.s);

    char rows[4][160];
    int n;
    usage_rows(w, id, rows, 4, &n);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0], "generate_script|1|-|gemini|gemini-test|120|345");
    char pid[64];
    text_of(w, pid, sizeof(pid),
            "SELECT persona_id FROM persona_usage_logs WHERE project_id = '%s'", id);
    assert_string_equal(pid, persona);
}

static void test_permanent_failures_end_failed_with_a_reason_and_a_usage_row(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    static const struct {
        fake_llm_mode mode;
        const char *code, *says;
    } cases[] = {
        {FAKE_SAFETY, "finish_reason:SAFETY", "safety reasons"},
        {FAKE_MAX_TOKENS, "finish_reason:MAX_TOKENS", "ran out of output tokens"},
        {FAKE_MALFORMED, "malformed_json", "not valid JSON"},
        {FAKE_SCHEMA, "schema_violation", "scenes: is missing"},
        {FAKE_BLANK, "schema_violation", "scenes[1].narration is blank"},
        {FAKE_401_ECHO, "http_401", "refused the server's credentials"},
    };
    start_pool(w);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        push(w, cases[i].mode);
        char id[37];
        create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
        test_resp r = wait_project(w, w->tok, id, "failed");
        const char *why = str(&r, "error");
        if (strstr(why, cases[i].says) == NULL || strstr(why, KEY) != NULL)
            fail_msg("case %zu: error is '%s'", i, why);
        assert_true(strncmp(why, "The script could not be written: ", 33) == 0);
        assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 0);
        test_resp_free(&r);
        wait_attempts(w, id, 1);
        char rows[4][160], want[160];
        int n;
        usage_rows(w, id, rows, 4, &n);
        assert_int_equal(n, 1);
        snprintf(want, sizeof(want), "generate_script|0|%s|gemini|gemini-test|", cases[i].code);
        assert_true(strncmp(rows[0], want, strlen(want)) == 0);
        /* Given up at once: one attempt, the job dead with the same reason. */
        char st[16], err[600];
        text_of(w, st, sizeof(st),
                "SELECT status FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id);
        assert_string_equal(st, "dead");
        text_of(w, err, sizeof(err),
                "SELECT last_error FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id);
        assert_non_null(strstr(err, cases[i].says));
        assert_int_equal(
            count(w, "SELECT attempts FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id), 1);
    }
}

static void test_transient_failures_retry_and_then_succeed_with_a_row_per_attempt(void **state)
{
    world *w = *state;
    use_gemini(w, 400);
    fake_server_lock(&w->fake.s);
    w->fake.s.stall_ms = 3000;
    fake_server_unlock(&w->fake.s);
    push(w, FAKE_429);
    push(w, FAKE_500);
    push(w, FAKE_STALL);
    char id[37];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
    start_pool(w);

    /* 429: back to queued, not before Retry-After (7 s). */
    wait_attempts(w, id, 1);
    test_resp r = wait_project(w, w->tok, id, "queued");
    assert_non_null(strstr(str(&r, "error"), "rate limiting"));
    assert_non_null(strstr(str(&r, "error"), "Attempt 1 of 5"));
    test_resp_free(&r);
    char run_at[64];
    text_of(w, run_at, sizeof(run_at),
            "SELECT run_at FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id);
    int64_t due = 0;
    assert_true(time_parse(run_at, &due));
    assert_true(due >= time_now_usec() + 5 * 1000000);

    /* Time passes: each retry is made due at once. */
    for (int attempt = 2; attempt <= 3; attempt++) {
        exec(w, "UPDATE jobs SET run_at = '" PAST "' WHERE CAST(payload AS TEXT) LIKE '%%%s%%'",
             id);
        wait_attempts(w, id, attempt);
    }
    r = wait_project(w, w->tok, id, "queued");
    assert_non_null(strstr(str(&r, "error"), "timed out"));
    test_resp_free(&r);
    exec(w, "UPDATE jobs SET run_at = '" PAST "' WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id);
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(json_is_null(json_object_get(r.json, "error")));
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 3);
    test_resp_free(&r);

    char rows[6][160];
    int n;
    usage_rows(w, id, rows, 6, &n);
    assert_int_equal(n, 4);
    assert_true(strncmp(rows[0], "generate_script|0|rate_limited|gemini", 37) == 0);
    assert_true(strncmp(rows[1], "generate_script|0|http_500|gemini", 33) == 0);
    assert_true(strncmp(rows[2], "generate_script|0|timeout|gemini", 32) == 0);
    assert_true(strncmp(rows[3], "generate_script|1|-|gemini", 26) == 0);
}

static void test_the_last_transient_failure_gives_up(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    push(w, FAKE_500);
    char id[37];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
    /* Four attempts already failed. */
    exec(w, "UPDATE jobs SET attempts = 4 WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "failed");
    /* The final text says it gave up, and nothing in it promises a retry. */
    assert_string_equal(str(&r, "error"),
                        "The script could not be written: gave up after 5 attempts; the last one "
                        "failed: the gemini provider failed (HTTP 500): An internal error has "
                        "occurred.");
    assert_null(strstr(str(&r, "error"), "retried"));
    test_resp_free(&r);
    wait_attempts(w, id, 5);
    char st[16];
    text_of(w, st, sizeof(st), "SELECT status FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'",
            id);
    assert_string_equal(st, "dead");
}

/* A worker that died during the last allowed attempt leaves its job
 * running with an expired lease. The next claim buries it, and the project
 * must not stay generating, where every new generation would be a 409. */
static void lose_the_last_lease(world *w, const char *kind, const char *project_id)
{
    exec(w,
         "UPDATE jobs SET status = 'running', attempts = max_attempts, "
         "lease_owner = 'crashed:1:x', lease_expires_at = '2001-01-01T00:00:00.000000Z' "
         "WHERE kind = '%s' AND status = 'queued' AND CAST(payload AS TEXT) LIKE '%%%s%%'",
         kind, project_id);
    exec(w, "UPDATE projects SET status = 'generating' WHERE id = '%s'", project_id);
}

static void
test_a_generation_whose_job_dies_unhandled_does_not_leave_the_project_stuck(void **state)
{
    world *w = *state;
    char id[37], st[16];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
    lose_the_last_lease(w, "script.generate", id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "failed");
    assert_non_null(strstr(str(&r, "error"), "The script could not be written"));
    assert_non_null(strstr(str(&r, "error"), "lost its lease"));
    test_resp_free(&r);
    text_of(w, st, sizeof(st), "SELECT status FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'",
            id);
    assert_string_equal(st, "dead");

    /* It can be generated again. */
    char path[256], scene_id[64], draft[37];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    stop_pool(w);

    /* A scene rewrite that dies the same way puts the project back where it
     * was: here a draft whose scenes were written by hand, so "back" is not
     * what a success would have left. */
    create(w, w->tok, "{\"topic\":\"Bees\",\"generate\":false}", 201, draft);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", draft);
    r = test_req(&w->api, "POST", path, w->tok,
                 "{\"narration\":\"Bees dance.\",\"visual_description\":\"A hive.\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(scene_id, sizeof(scene_id), "%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/regenerate", draft, scene_id);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    lose_the_last_lease(w, "script.regenerate_scene", draft);
    start_pool(w);
    r = wait_error(w, draft, "draft", "Rewriting a scene failed");
    assert_non_null(strstr(str(&r, "error"), "lost its lease"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "scenes"), 0), "narration")),
                        "Bees dance.");
    test_resp_free(&r);
}

/* ---- idempotency ---------------------------------------------------------------------- */

static void test_idempotency_key_replays_the_first_answer_and_enqueues_one_job(void **state)
{
    world *w = *state;
    const char *body = "{\"topic\":\"Why is the night sky dark?\",\"target_scenes\":2}";
    const char *key[] = {"Idempotency-Key: 3f1c2a8e-retry-me", NULL};
    test_resp r1 = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, key);
    test_expect(&r1, 202, NULL);
    /* Same request again, the same JSON written differently. */
    test_resp r2 =
        test_req(&w->api, "POST", "/api/v1/projects", w->tok,
                 "{ \"target_scenes\": 2, \"topic\": \"Why is the night sky dark?\" }", key);
    test_expect(&r2, 202, NULL);
    assert_string_equal(r1.body, r2.body);
    char replayed[16];
    assert_true(test_resp_header(&r2, "Idempotent-Replayed", replayed, sizeof(replayed)));
    assert_string_equal(replayed, "true");
    assert_false(test_resp_header(&r1, "Idempotent-Replayed", replayed, sizeof(replayed)));
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'script.generate'"), 1);

    /* The same key with another request is refused and changes nothing. */
    test_resp r3 = test_req(&w->api, "POST", "/api/v1/projects", w->tok,
                            "{\"topic\":\"Something else\"}", key);
    test_expect(&r3, 422, "invalid-request");
    assert_string_equal(str(&r3, "field"), "Idempotency-Key");
    assert_non_null(strstr(str(&r3, "detail"), "different request"));
    /* Keys are per user: bob's same key is his own request. */
    test_resp r4 = test_req(&w->api, "POST", "/api/v1/projects", w->tok_b, body, key);
    test_expect(&r4, 202, NULL);
    assert_string_not_equal(str(&r4, "id"), str(&r1, "id"));
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 2);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'script.generate'"), 2);

    /* The replay stays the first answer even after the project moved on. */
    start_pool(w);
    test_resp done = wait_project(w, w->tok, str(&r1, "id"), "scripted");
    test_resp_free(&done);
    test_resp r5 = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, key);
    test_expect(&r5, 202, NULL);
    assert_string_equal(r5.body, r1.body);

    static const char *const bad[] = {"Idempotency-Key: ", "Idempotency-Key: tab\there", NULL};
    for (int i = 0; bad[i]; i++) {
        const char *h[] = {bad[i], NULL};
        test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, h);
        if (r.status != 422 && i == 0) { /* curl may drop an empty header */
            test_resp_free(&r);
            continue;
        }
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
    }
    char long_key[260] = "Idempotency-Key: ";
    memset(long_key + 17, 'k', 201);
    long_key[17 + 201] = '\0';
    const char *h[] = {long_key, NULL};
    test_resp r6 = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, h);
    test_expect(&r6, 422, "invalid-request");
    test_resp_free(&r6);
    test_resp_free(&r1);
    test_resp_free(&r2);
    test_resp_free(&r3);
    test_resp_free(&r4);
    test_resp_free(&r5);
}

typedef struct racer {
    world *w;
    pthread_t t;
    test_resp r;
} racer;

static void *race_post(void *arg)
{
    racer *x = arg;
    const char *key[] = {"Idempotency-Key: the-same-key-from-four-threads", NULL};
    x->r = test_req(&x->w->api, "POST", "/api/v1/projects", x->w->tok,
                    "{\"topic\":\"Why is the night sky dark?\"}", key);
    return NULL;
}

static void test_concurrent_requests_with_one_key_create_one_project(void **state)
{
    world *w = *state;
    racer x[4];
    for (int i = 0; i < 4; i++) {
        x[i].w = w;
        pthread_create(&x[i].t, NULL, race_post, &x[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(x[i].t, NULL);
    for (int i = 0; i < 4; i++) {
        test_expect(&x[i].r, 202, NULL);
        assert_string_equal(x[i].r.body, x[0].r.body);
    }
    for (int i = 0; i < 4; i++)
        test_resp_free(&x[i].r);
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'script.generate'"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM idempotency_keys"), 1);
}

/* ---- regeneration ------------------------------------------------------------------- */

static void test_regenerating_replaces_every_scene_and_is_409_while_pending(void **state)
{
    world *w = *state;
    char id[37], path[128], old_scene[64];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\",\"target_scenes\":5}", 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    text_of(w, old_scene, sizeof(old_scene),
            "SELECT id FROM scenes WHERE project_id = '%s' ORDER BY position", id);
    stop_pool(w);

    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, "{\"target_scenes\":2}", NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->tok, "{\"topic\":\"nope\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    /* The old script stays until the new one replaces it. */
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 5);

    start_pool(w);
    r = wait_project(w, w->tok, id, "scripted");
    json_t *scenes = json_object_get(r.json, "scenes");
    assert_int_equal(json_array_size(scenes), 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_not_equal(json_string_value(json_object_get(json_array_get(scenes, i), "id")),
                                old_scene);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 2);
    assert_int_equal(count(w, "SELECT generation FROM projects WHERE id = '%s'", id), 1);

    /* Another user's project is a 404, whatever the body. */
    r = test_req(&w->api, "POST", path, w->tok_b, "{\"topic\":\"B\"}", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

static void test_one_scene_is_rewritten_in_place_with_its_neighbours_as_context(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    char id[37], path[256], middle[64], first_text[256];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    text_of(w, middle, sizeof(middle),
            "SELECT id FROM scenes WHERE project_id = '%s' AND position = 1", id);
    text_of(w, first_text, sizeof(first_text),
            "SELECT narration FROM scenes WHERE project_id = '%s' AND position = 0", id);

    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/regenerate", id, middle);
    r = test_req(&w->api, "POST", path, w->tok, "{\"instructions\":\"Shorter.\"}", NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_project(w, w->tok, id, "scripted");
    json_t *scenes = json_object_get(r.json, "scenes");
    assert_int_equal(json_array_size(scenes), 3);
    json_t *mid = json_array_get(scenes, 1);
    assert_string_equal(json_string_value(json_object_get(mid, "id")), middle);
    assert_string_equal(json_string_value(json_object_get(mid, "narration")),
                        "A rewritten line about the dark.");
    assert_string_equal(json_string_value(json_object_get(json_array_get(scenes, 0), "narration")),
                        first_text);
    test_resp_free(&r);
    json_t *b = fake_server_last_body(&w->fake.s);
    const char *prompt = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(b, "contents"), 0), "parts"),
                       0),
        "text"));
    assert_non_null(strstr(prompt, "The scene before it"));
    assert_non_null(strstr(prompt, first_text));
    assert_non_null(strstr(prompt, "The scene after it"));
    assert_non_null(strstr(prompt, "Shorter."));
    json_decref(b);

    /* A failed rewrite leaves the script as it was and says why. */
    push(w, FAKE_SAFETY);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    wait_attempts(w, id, 1);
    r = wait_error(w, id, "scripted", "Rewriting a scene failed");
    assert_non_null(strstr(str(&r, "error"), "safety"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "scenes"), 1), "narration")),
                        "A rewritten line about the dark.");
    test_resp_free(&r);
    char rows[4][160];
    int n;
    usage_rows(w, id, rows, 4, &n);
    assert_int_equal(n, 3);
    assert_true(strncmp(rows[1], "regenerate_scene|1|-|gemini", 27) == 0);
    assert_true(strncmp(rows[2], "regenerate_scene|0|finish_reason:SAFETY|gemini", 46) == 0);
}

/* ---- plans ---------------------------------------------------------------------------- */

#define PRO_PERSONA "01936f4e-0001-7000-8000-000000000015" /* a starter persona of the pro plan */

static void make_admin(world *w)
{
    if (w->root[0] != '\0')
        return;
    test_signup(&w->api, "root@example.com", w->root);
    test_make_admin(&w->api, "root@example.com");
}

/* Moves ana to plan_code the way an operator does: through the admin API. */
static void admin_set_plan(world *w, const char *plan_code)
{
    make_admin(w);
    test_resp r = test_req(&w->api, "GET", "/api/v1/me", w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    char path[128], body[64];
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", plan_code);
    r = test_req(&w->api, "PATCH", path, w->root, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

static void expect_locked(const test_resp *r)
{
    test_expect(r, 403, "plan-upgrade-required");
    assert_string_equal(str(r, "field"), "persona_id");
    assert_non_null(strstr(str(r, "detail"), "'pro' plan"));
}

/* A job reads the user's plan as it is now; a plan code of PLAN_CODE_MAX
 * characters of 4 bytes was cut there to its first 32 bytes, so a refusal
 * at run time named a plan that does not exist. */
static void test_a_refusal_at_run_time_names_a_multibyte_plan_code_whole(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    char id[37], path[128], body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"Why is the night sky dark?\",\"persona_id\":\"%s\"}",
             PRO_PERSONA);
    create(w, w->tok, body, 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    stop_pool(w);

    make_admin(w);
    char *code = test_repeat("", test_utf8_units[2], PLAN_CODE_MAX);
    json_t *doc = json_pack("{s:s,s:s,s:i}", "code", code, "name", "Lite", "rank", 5);
    char *text = json_dumps(doc, JSON_COMPACT);
    r = test_req(&w->api, "POST", "/api/v1/admin/plans", w->root, text, NULL);
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    free(text);
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/me", w->tok, NULL, NULL);
    char user_path[128];
    snprintf(user_path, sizeof(user_path), "/api/v1/admin/users/%s", str(&r, "id"));
    test_resp_free(&r);
    doc = json_pack("{s:s}", "plan", code);
    text = json_dumps(doc, JSON_COMPACT);
    r = test_req(&w->api, "PATCH", user_path, w->root, text, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    free(text);
    json_decref(doc);

    start_pool(w);
    r = wait_project(w, w->tok, id, "failed");
    char want[512];
    snprintf(want, sizeof(want),
             "The script could not be written: persona 'Mysteries & Unexplained' needs the 'pro' "
             "plan and your plan is '%s'; upgrade to use it",
             code);
    assert_string_equal(str(&r, "error"), want);
    test_resp_free(&r);
    stop_pool(w);
    free(code);
}

static void test_a_persona_above_the_plan_is_refused_when_queued_and_when_run(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    char id[37], path[128], scene_path[256], scene_id[64], body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"Why is the night sky dark?\",\"persona_id\":\"%s\"}",
             PRO_PERSONA);
    create(w, w->tok, body, 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    stop_pool(w);
    text_of(w, scene_id, sizeof(scene_id),
            "SELECT id FROM scenes WHERE project_id = '%s' AND position = 1", id);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    snprintf(scene_path, sizeof(scene_path), "/api/v1/projects/%s/scenes/%s/regenerate", id,
             scene_id);
    int calls = fake_server_calls(&w->fake.s);
    int64_t rows = count(w, "SELECT count(*) FROM persona_usage_logs");

    /* The plan drops: the project keeps its persona, which is now locked. */
    admin_set_plan(w, "free");
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    expect_locked(&r);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", scene_path, w->tok, NULL, NULL);
    expect_locked(&r);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, NULL);
    expect_locked(&r);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind LIKE 'script.%%'"), 1);
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(json_is_null(json_object_get(r.json, "error")));
    test_resp_free(&r);

    /* Queued while the plan allowed it, run after it dropped: the job
     * fails at once, calls no model and leaves the script alone. */
    admin_set_plan(w, "pro");
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    admin_set_plan(w, "free");
    start_pool(w);
    r = wait_project(w, w->tok, id, "failed");
    assert_string_equal(str(&r, "error"),
                        "The script could not be written: persona 'Mysteries & Unexplained' needs "
                        "the 'pro' plan and your plan is 'free'; upgrade to use it");
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 3);
    test_resp_free(&r);
    wait_attempts(w, id, 1);
    stop_pool(w);
    char st[16];
    text_of(w, st, sizeof(st),
            "SELECT status FROM jobs WHERE kind = 'script.generate' AND attempts = 1 AND "
            "status <> 'done'");
    assert_string_equal(st, "dead");

    /* The same for a scene rewrite, which returns the project to where it was. */
    admin_set_plan(w, "pro");
    r = test_req(&w->api, "POST", scene_path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    admin_set_plan(w, "free");
    start_pool(w);
    r = wait_error(w, id, "failed",
                   "Rewriting a scene failed: persona 'Mysteries & Unexplained' needs");
    test_resp_free(&r);
    wait_attempts(w, id, 1);
    assert_int_equal(fake_server_calls(&w->fake.s), calls);
    assert_int_equal(count(w, "SELECT count(*) FROM persona_usage_logs"), rows);
}

/* The caller's plan limit and this month's count, from GET /me. */
static void me_generations(world *w, json_int_t *max, json_int_t *used)
{
    test_resp r = test_req(&w->api, "GET", "/api/v1/me", w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *lim = json_object_get(json_object_get(r.json, "plan"), "max_generations_per_month");
    *max = json_is_null(lim) ? -1 : json_integer_value(lim);
    *used = json_integer_value(
        json_object_get(json_object_get(r.json, "usage"), "generations_this_month"));
    test_resp_free(&r);
}

static void pro_generation_limit(world *w, int max)
{
    make_admin(w);
    char body[64];
    snprintf(body, sizeof(body), "{\"max_generations_per_month\":%d}", max);
    test_resp r =
        test_req(&w->api, "PATCH", "/api/v1/admin/plans/01936f4e-0000-7000-8000-000000000003",
                 w->root, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

static void expect_generation_limit(const test_resp *r)
{
    test_expect(r, 403, "plan-limit-reached");
    assert_string_equal(str(r, "field"), "max_generations_per_month");
    assert_non_null(strstr(str(r, "detail"), "allows 3 script generations per calendar month"));
    assert_non_null(strstr(str(r, "detail"), "you have used 3 this month"));
}

/* A draft of ana's with one hand-written scene; its id and the scene's. */
static void draft_with_scene(world *w, char id[37], char scene_path[256])
{
    create(w, w->tok, "{\"topic\":\"Bees\",\"generate\":false}", 201, id);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", id);
    test_resp r =
        test_req(&w->api, "POST", path, w->tok,
                 "{\"narration\":\"Bees dance.\",\"visual_description\":\"A hive.\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(scene_path, 256, "/api/v1/projects/%s/scenes/%s/regenerate", id, str(&r, "id"));
    test_resp_free(&r);
}

typedef struct gen_racer {
    world *w;
    pthread_t t;
    char path[128];
    test_resp r;
} gen_racer;

static void *race_generate(void *arg)
{
    gen_racer *x = arg;
    x->r = test_req(&x->w->api, "POST", x->path, x->w->tok, NULL, NULL);
    return NULL;
}

static void test_generations_per_month_are_limited_by_the_plan_scene_rewrites_included(void **state)
{
    world *w = *state;
    /* The starter plans' limits, on the plans and on the caller. */
    test_resp r = test_req(&w->api, "GET", "/api/v1/plans", w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    static const json_int_t want[] = {50, 500, 5000};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "items"), i),
                                               "max_generations_per_month")),
            want[i]);
    test_resp_free(&r);
    json_int_t max, used;
    me_generations(w, &max, &used);
    assert_int_equal(max, 5000);
    assert_int_equal(used, 0);

    pro_generation_limit(w, 3);
    char a[37], b[37], c[37], d[37], b_scene[256], d_scene[256], path[128];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, a); /* 1 */
    draft_with_scene(w, b, b_scene);
    create(w, w->tok, "{\"topic\":\"Ants\",\"generate\":false}", 201, c); /* drafts are free */
    draft_with_scene(w, d, d_scene);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", c);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL); /* 2 */
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", b_scene, w->tok, NULL, NULL); /* 3: a rewrite counts as one */
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    me_generations(w, &max, &used);
    assert_int_equal(max, 3);
    assert_int_equal(used, 3);

    /* At the limit, every way of asking is refused and nothing is queued. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", d);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    expect_generation_limit(&r);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", d_scene, w->tok, NULL, NULL);
    expect_generation_limit(&r);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, "{\"topic\":\"Moths\"}", NULL);
    expect_generation_limit(&r);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM projects"), 4);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind LIKE 'script.%%'"), 3);
    char st[16];
    text_of(w, st, sizeof(st), "SELECT status FROM projects WHERE id = '%s'", d);
    assert_string_equal(st, "draft");
    me_generations(w, &max, &used);
    assert_int_equal(used, 3);

    /* One slot left and four requests at once: exactly one gets it. */
    pro_generation_limit(w, 4);
    gen_racer x[4];
    for (int i = 0; i < 4; i++) {
        char id[37];
        if (i == 0)
            snprintf(id, sizeof(id), "%s", d);
        else
            create(w, w->tok, "{\"topic\":\"Wasps\",\"generate\":false}", 201, id);
        x[i].w = w;
        snprintf(x[i].path, sizeof(x[i].path), "/api/v1/projects/%s/generate", id);
    }
    for (int i = 0; i < 4; i++)
        pthread_create(&x[i].t, NULL, race_generate, &x[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(x[i].t, NULL);
    int won = 0;
    for (int i = 0; i < 4; i++) {
        if (x[i].r.status == 202)
            won++;
        else
            test_expect(&x[i].r, 403, "plan-limit-reached");
        test_resp_free(&x[i].r);
    }
    assert_int_equal(won, 1);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind LIKE 'script.%%'"), 4);
    me_generations(w, &max, &used);
    assert_int_equal(used, 4);

    /* A new month starts from zero. */
    exec(w, "UPDATE generation_counts SET month_start = '" PAST "'");
    me_generations(w, &max, &used);
    assert_int_equal(used, 0);
    r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, "{\"topic\":\"Moths\"}", NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    me_generations(w, &max, &used);
    assert_int_equal(used, 1);
}

/* Sends method path with body as ana and expects 409 /problems/conflict naming the status. */
static void expect_busy(world *w, const char *method, const char *path, const char *body)
{
    test_resp r = test_req(&w->api, method, path, w->tok, body, NULL);
    test_expect(&r, 409, "conflict");
    assert_string_equal(str(&r, "field"), "status");
    test_resp_free(&r);
}

static void test_edits_while_a_generation_is_pending_are_refused_and_never_lost(void **state)
{
    world *w = *state;
    char id[37], path[256], scenes_path[128];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\",\"target_scenes\":3}", 202, id);
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    snprintf(scenes_path, sizeof(scenes_path), "/api/v1/projects/%s/scenes", id);
    int64_t stamp = count(w, "SELECT generation FROM projects WHERE id = '%s'", id);

    /* Queued, no worker yet: the job would overwrite each of these. */
    expect_busy(w, "PATCH", path, "{\"title\":\"My own title\",\"tags\":[\"mine\"]}");
    expect_busy(w, "POST", scenes_path, "{\"narration\":\"My own scene.\"}");
    char st[32], title[128];
    text_of(w, st, sizeof(st), "SELECT status FROM projects WHERE id = '%s'", id);
    assert_string_equal(st, "queued");
    text_of(w, title, sizeof(title), "SELECT title FROM projects WHERE id = '%s'", id);
    assert_string_equal(title, "");
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 0);
    assert_int_equal(count(w, "SELECT generation FROM projects WHERE id = '%s'", id), stamp);

    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    assert_true(strncmp(str(&r, "title"), "Offline draft: ", 15) == 0);
    test_resp_free(&r);
    stop_pool(w);

    /* A scene rewrite holds the whole project too: it reads the neighbours
     * and writes the scene when it ends. */
    char sid[64], second[64], narration[2048], upath[256], rpath[256];
    text_of(w, sid, sizeof(sid), "SELECT id FROM scenes WHERE project_id = '%s' AND position = 1",
            id);
    text_of(w, second, sizeof(second),
            "SELECT id FROM scenes WHERE project_id = '%s' AND position = 2", id);
    text_of(w, narration, sizeof(narration), "SELECT narration FROM scenes WHERE id = '%s'", sid);
    snprintf(rpath, sizeof(rpath), "%s/%s/regenerate", scenes_path, sid);
    r = test_req(&w->api, "POST", rpath, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    snprintf(upath, sizeof(upath), "%s/%s", scenes_path, sid);
    expect_busy(w, "PATCH", upath, "{\"narration\":\"Edited by hand.\"}");
    expect_busy(w, "DELETE", upath, NULL);
    char reorder[256], other[256];
    snprintf(reorder, sizeof(reorder), "%s/reorder", scenes_path);
    char first[64];
    text_of(w, first, sizeof(first),
            "SELECT id FROM scenes WHERE project_id = '%s' AND position = 0", id);
    snprintf(other, sizeof(other), "{\"scene_ids\":[\"%s\",\"%s\",\"%s\"]}", second, sid, first);
    expect_busy(w, "POST", reorder, other);
    expect_busy(w, "PATCH", path, "{\"title\":\"Mine after all\"}");
    expect_busy(w, "POST", scenes_path, "{\"narration\":\"Appended.\"}");
    char now[2048];
    text_of(w, now, sizeof(now), "SELECT narration FROM scenes WHERE id = '%s'", sid);
    assert_string_equal(now, narration);
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 3);
    assert_int_equal(count(w, "SELECT position FROM scenes WHERE id = '%s'", second), 2);

    /* Once the rewrite is done, edits go through and stay. */
    start_pool(w);
    r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    r = test_req(&w->api, "PATCH", upath, w->tok, "{\"narration\":\"Edited by hand.\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"title\":\"Mine after all\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    text_of(w, now, sizeof(now), "SELECT narration FROM scenes WHERE id = '%s'", sid);
    assert_string_equal(now, "Edited by hand.");
    text_of(w, title, sizeof(title), "SELECT title FROM projects WHERE id = '%s'", id);
    assert_string_equal(title, "Mine after all");
}

/* The project's stored controls, as "language|target_scenes|target_seconds|instructions". */
static void controls_of(world *w, const char *id, char *out, size_t n)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT language, target_scenes, target_seconds, instructions FROM projects WHERE id "
             "= '%s'",
             id);
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(w->api.t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(out, n, "%s|%lld|%lld|%s", db_col_text(s, 0) ? db_col_text(s, 0) : "-",
             db_col_is_null(s, 1) ? -1LL : (long long)db_col_int64(s, 1),
             db_col_is_null(s, 2) ? -1LL : (long long)db_col_int64(s, 2),
             db_col_text(s, 3) ? db_col_text(s, 3) : "-");
    db_reset(s);
    db_release(c);
}

static void test_a_project_keeps_its_language_length_and_instructions(void **state)
{
    world *w = *state;
    /* An English persona at temperature 0: the offline writer's plainest
     * draft, so each scene's wording is known in both languages. */
    test_resp r = test_req(&w->api, "POST", "/api/v1/personas", w->tok,
                           "{\"name\":\"Plain\",\"system_instruction\":\"" SYSTEM "\","
                           "\"temperature\":0,\"language\":\"en\"}",
                           NULL);
    test_expect(&r, 201, NULL);
    char persona[37], id[37], body[512], path[256], got[256];
    snprintf(persona, sizeof(persona), "%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"topic\":\"Why is the night sky dark?\",\"persona_id\":\"%s\",\"language\":"
             "\"pt-BR\",\"target_scenes\":3,\"instructions\":\"Fale devagar.\"}",
             persona);
    create(w, w->tok, body, 202, id);
    controls_of(w, id, got, sizeof(got));
    assert_string_equal(got, "pt-BR|3|-1|Fale devagar.");
    start_pool(w);
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(strncmp(str(&r, "title"), "Rascunho offline: ", 18) == 0);
    assert_string_equal(str(&r, "language"), "pt-BR");
    assert_int_equal(json_integer_value(json_object_get(r.json, "target_scenes")), 3);
    assert_true(json_is_null(json_object_get(r.json, "target_seconds")));
    assert_string_equal(str(&r, "instructions"), "Fale devagar.");
    test_resp_free(&r);

    /* A regeneration without a body: the same language, length and
     * instructions (the offline writer notes instructions it cannot follow). */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "language"), "pt-BR");
    test_resp_free(&r);
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(strncmp(str(&r, "title"), "Rascunho offline: ", 18) == 0);
    assert_non_null(strstr(str(&r, "description"), "Suas instruções extras"));
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 3);
    test_resp_free(&r);

    /* A scene rewrite without a body: Portuguese too. */
    char sid[64], narration[2048];
    text_of(w, sid, sizeof(sid), "SELECT id FROM scenes WHERE project_id = '%s' AND position = 1",
            id);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/regenerate", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    assert_int_equal(count(w,
                           "SELECT count(*) FROM jobs WHERE kind = 'script.regenerate_scene' AND "
                           "status = 'done'"),
                     1);
    text_of(w, narration, sizeof(narration), "SELECT narration FROM scenes WHERE id = '%s'", sid);
    assert_true(strncmp(narration, "Primeiro, um pouco de contexto.", 31) == 0);
    /* Its own controls are for that rewrite only. */
    r = test_req(&w->api, "POST", path, w->tok, "{\"language\":\"en\"}", NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    text_of(w, narration, sizeof(narration), "SELECT narration FROM scenes WHERE id = '%s'", sid);
    assert_true(strncmp(narration, "First, some background.", 23) == 0);
    controls_of(w, id, got, sizeof(got));
    assert_string_equal(got, "pt-BR|3|-1|Fale devagar.");

    /* What /generate gives replaces what is kept: a length in seconds
     * replaces the scene count, "" clears the instructions. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, "{\"target_seconds\":60,\"instructions\":\"\"}",
                 NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    controls_of(w, id, got, sizeof(got));
    assert_string_equal(got, "pt-BR|-1|60|-");
    r = wait_project(w, w->tok, id, "scripted");
    assert_true(strncmp(str(&r, "title"), "Rascunho offline: ", 18) == 0);
    assert_null(strstr(str(&r, "description"), "Suas instruções extras"));
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 5);
    assert_true(json_is_null(json_object_get(r.json, "instructions")));
    test_resp_free(&r);

    /* The controls are changed by /generate, not by PATCH. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"language\":\"en\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
}

static void test_a_generation_whose_persona_was_deleted_is_refused_up_front(void **state)
{
    world *w = *state;
    char persona[37], id[37], body[256], path[256], sid[64];
    persona_of_ana(w, persona);
    snprintf(body, sizeof(body), "{\"topic\":\"Tides\",\"persona_id\":\"%s\",\"target_scenes\":3}",
             persona);
    create(w, w->tok, body, 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    text_of(w, sid, sizeof(sid), "SELECT id FROM scenes WHERE project_id = '%s' AND position = 1",
            id);

    snprintf(path, sizeof(path), "/api/v1/personas/%s", persona);
    r = test_req(&w->api, "DELETE", path, w->tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    /* The project still says which persona, at which version, wrote it. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "persona_id"), persona);
    assert_int_equal(json_integer_value(json_object_get(r.json, "persona_version")), 1);
    test_resp_free(&r);

    /* Nothing that would fail in the background is accepted. */
    char gen[256], rew[256];
    snprintf(gen, sizeof(gen), "/api/v1/projects/%s/generate", id);
    snprintf(rew, sizeof(rew), "/api/v1/projects/%s/scenes/%s/regenerate", id, sid);
    const char *paths[] = {gen, rew};
    for (size_t i = 0; i < 2; i++) {
        r = test_req(&w->api, "POST", paths[i], w->tok, NULL, NULL);
        test_expect(&r, 409, "persona-unavailable");
        assert_string_equal(str(&r, "field"), "persona_id");
        assert_non_null(strstr(str(&r, "detail"), "another persona"));
        test_resp_free(&r);
    }
    /* A project whose persona was deleted before deletes archived. */
    exec(w, "UPDATE projects SET persona_id = NULL, persona_version = NULL");
    r = test_req(&w->api, "POST", gen, w->tok, NULL, NULL);
    test_expect(&r, 409, "persona-unavailable");
    test_resp_free(&r);
    char st[32];
    text_of(w, st, sizeof(st), "SELECT status FROM projects WHERE id = '%s'", id);
    assert_string_equal(st, "scripted");
    assert_int_equal(count(w, "SELECT generation FROM projects WHERE id = '%s'", id), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind LIKE 'script.%%'"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 3);

    /* Deleted while its generation waits in the queue: the job fails the
     * project with the reason, and the project still names the persona. */
    stop_pool(w);
    char other[37], queued[37];
    persona_of_ana(w, other);
    snprintf(body, sizeof(body), "{\"topic\":\"Tides\",\"persona_id\":\"%s\"}", other);
    create(w, w->tok, body, 202, queued);
    snprintf(path, sizeof(path), "/api/v1/personas/%s", other);
    r = test_req(&w->api, "DELETE", path, w->tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(
        count(w, "SELECT count(*) FROM personas WHERE id = '%s' AND archived_at IS NOT NULL",
              other),
        1);
    start_pool(w);
    r = wait_project(w, w->tok, queued, "failed");
    assert_non_null(strstr(str(&r, "error"), "no longer available"));
    assert_string_equal(str(&r, "persona_id"), other);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", queued), 0);
}

/* ---- usage summary ------------------------------------------------------------------- */

static void test_usage_summary_is_for_the_personas_owner_only(void **state)
{
    world *w = *state;
    use_gemini(w, 5000);
    char persona[37], id[37], body[256], path[128];
    persona_of_ana(w, persona);
    snprintf(body, sizeof(body), "{\"topic\":\"Dark skies\",\"persona_id\":\"%s\"}", persona);
    push(w, FAKE_SAFETY);
    create(w, w->tok, body, 202, id);
    start_pool(w);
    test_resp r = wait_project(w, w->tok, id, "failed");
    test_resp_free(&r);
    create(w, w->tok, body, 202, id);
    r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);

    snprintf(path, sizeof(path), "/api/v1/personas/%s/usage", persona);
    r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "attempts")), 2);
    assert_int_equal(json_integer_value(json_object_get(r.json, "successes")), 1);
    assert_true(json_real_value(json_object_get(r.json, "success_rate")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "tokens_in")), 240);
    json_t *dur = json_object_get(r.json, "duration_ms");
    assert_true(json_is_integer(json_object_get(dur, "p50")));
    assert_true(json_integer_value(json_object_get(dur, "p95")) >=
                json_integer_value(json_object_get(dur, "p50")));
    json_t *by = json_object_get(r.json, "by_action");
    assert_int_equal(json_array_size(by), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(by, 0), "action")),
                        "generate_script");
    json_t *errs = json_object_get(r.json, "errors");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "error_code")),
                        "finish_reason:SAFETY");
    test_resp_free(&r);

    /* A window with nothing in it. */
    char windowed[256];
    snprintf(windowed, sizeof(windowed), "%s?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z",
             path);
    r = test_req(&w->api, "GET", windowed, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "attempts")), 0);
    assert_true(json_is_null(json_object_get(r.json, "success_rate")));
    test_resp_free(&r);
    snprintf(windowed, sizeof(windowed), "%s?since=yesterday", path);
    r = test_req(&w->api, "GET", windowed, w->tok, NULL, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);

    /* Not the owner: 404. A SYSTEM persona: admins only. */
    r = test_req(&w->api, "GET", path, w->tok_b, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    char sys_id[64];
    text_of(w, sys_id, sizeof(sys_id),
            "SELECT id FROM personas WHERE type = 'SYSTEM' ORDER BY id LIMIT 1");
    snprintf(path, sizeof(path), "/api/v1/personas/%s/usage", sys_id);
    r = test_req(&w->api, "GET", path, w->tok_b, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    test_make_admin(&w->api, "bob@example.com");
    r = test_req(&w->api, "GET", path, w->tok_b, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

/* ---- the event stream ------------------------------------------------------------------ */

typedef struct stream {
    CURL *h;
    struct curl_slist *headers;
    char *data;
    size_t len;
    char content_type[128];
} stream;

static size_t stream__write(char *p, size_t size, size_t n, void *ud)
{
    stream *s = ud;
    size_t k = size * n;
    s->data = realloc(s->data, s->len + k + 1);
    memcpy(s->data + s->len, p, k);
    s->len += k;
    s->data[s->len] = '\0';
    return k;
}

static void stream_open(world *w, CURLM *m, stream *s, const char *tok)
{
    memset(s, 0, sizeof(*s));
    s->data = calloc(1, 1);
    char url[128], auth[200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/events", w->api.port);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
    s->headers = curl_slist_append(NULL, auth);
    s->h = curl_easy_init();
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, stream__write);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(m, s->h);
}

static void stream_close(CURLM *m, stream *s)
{
    curl_multi_remove_handle(m, s->h);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(s->headers);
    free(s->data);
}

/* Pumps the streams until stop(ctx) says so or seconds pass; false on timeout. */
static bool pump(CURLM *m, int seconds, bool (*stop)(void *ctx), void *ctx)
{
    int64_t until = time_mono_usec() + (int64_t)seconds * 1000000;
    int running = 1;
    while (time_mono_usec() < until) {
        curl_multi_perform(m, &running);
        if (stop != NULL && stop(ctx))
            return true;
        if (running == 0)
            return stop == NULL;
        curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    return stop == NULL;
}

typedef struct wanted {
    stream *s;
    const char *needle[3];
} wanted;

static bool has_all(void *ctx)
{
    wanted *wt = ctx;
    for (int i = 0; i < 3 && wt->needle[i]; i++)
        if (strstr(wt->s->data, wt->needle[i]) == NULL)
            return false;
    return true;
}

static void test_event_stream_tells_the_owner_and_nobody_else(void **state)
{
    world *w = *state;
    CURLM *m = curl_multi_init();
    stream sa, sb;
    stream_open(w, m, &sa, w->tok);
    stream_open(w, m, &sb, w->tok_b);
    wanted connected_a = {&sa, {": connected", NULL, NULL}};
    wanted connected_b = {&sb, {": connected", NULL, NULL}};
    assert_true(pump(m, WAIT_S, has_all, &connected_a));
    assert_true(pump(m, WAIT_S, has_all, &connected_b));
    char *ct = NULL;
    curl_easy_getinfo(sa.h, CURLINFO_CONTENT_TYPE, &ct);
    assert_non_null(ct);
    assert_true(strncmp(ct, "text/event-stream", 17) == 0);

    char id[37], idq[64];
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\"}", 202, id);
    snprintf(idq, sizeof(idq), "\"id\":\"%s\"", id);
    wanted queued = {&sa, {"event: project\n", idq, "\"status\":\"queued\""}};
    if (!pump(m, WAIT_S, has_all, &queued))
        fail_msg("the owner never heard of the new project: %s", sa.data);
    start_pool(w);
    wanted scripted = {&sa, {"event: project\n", idq, "\"status\":\"scripted\""}};
    if (!pump(m, WAIT_S, has_all, &scripted))
        fail_msg("the owner never heard the project become scripted: %s", sa.data);
    const char *q = strstr(sa.data, "\"status\":\"queued\"");
    assert_non_null(q);
    assert_true(q < strstr(sa.data, "\"status\":\"scripted\""));
    assert_non_null(strstr(sa.data, "\nid: "));
    /* A few more polls' worth for bob, who must hear nothing of it. */
    pump(m, 2, NULL, NULL);
    assert_null(strstr(sb.data, "event: project"));
    assert_null(strstr(sb.data, id));
    stream_close(m, &sb);

    /* Shutdown ends an open stream within one step. */
    http_server_stop(w->api.srv);
    w->api.srv = NULL;
    wanted bye = {&sa, {"reconnect", NULL, NULL}};
    assert_true(pump(m, WAIT_S, has_all, &bye));
    int left = 1;
    curl_multi_perform(m, &left);
    stream_close(m, &sa);
    curl_multi_cleanup(m);
}

/* Opens a stream on its own multi handle: true once it is connected (it
 * stays open in *s, on *m), false once the server refused it (*status). */
static bool stream_try(world *w, CURLM **m, stream *s, const char *tok, long *status)
{
    *m = curl_multi_init();
    stream_open(w, *m, s, tok);
    wanted connected = {s, {": connected", NULL, NULL}};
    bool ok = pump(*m, WAIT_S, has_all, &connected);
    *status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, status);
    if (!ok) {
        stream_close(*m, s);
        curl_multi_cleanup(*m);
        *m = NULL;
    }
    return ok;
}

static void stream_end(CURLM *m, stream *s)
{
    stream_close(m, s);
    curl_multi_cleanup(m);
}

static void
test_one_user_holds_only_so_many_event_streams_and_a_left_one_frees_at_once(void **state)
{
    world *w = *state;
    w->api.svc.event_streams_per_user = 2;
    CURLM *m[2];
    stream s[2];
    long status;
    for (int i = 0; i < 2; i++)
        if (!stream_try(w, &m[i], &s[i], w->tok, &status))
            fail_msg("stream %d of 2 was refused with %ld", i + 1, status);
    /* A third for the same user is refused, with a time to come back; */
    test_resp r = test_req(&w->api, "GET", "/api/v1/events", w->tok, NULL, NULL);
    test_expect(&r, 429, "too-many-streams");
    char retry[32];
    assert_true(test_resp_header(&r, "Retry-After", retry, sizeof(retry)));
    assert_true(atoi(retry) > 0);
    test_resp_free(&r);
    /* another user is not affected. */
    CURLM *mb;
    stream sb;
    if (!stream_try(w, &mb, &sb, w->tok_b, &status))
        fail_msg("another user's stream was refused with %ld", status);
    /* The client of one of them goes away: its slot is free as soon as the
     * server sees the socket close (the stream's next keep-alive, which
     * is what used to tell, is 15 s away). */
    stream_end(m[0], &s[0]);
    CURLM *mc = NULL;
    stream sc;
    bool admitted = false;
    for (int i = 0; i < 50 && !admitted; i++) {
        admitted = stream_try(w, &mc, &sc, w->tok, &status);
        if (!admitted) {
            assert_int_equal(status, 429);
            test_nap_ms(100);
        }
    }
    if (!admitted)
        fail_msg("the slot of a stream whose client left was still taken after 5 s");
    stream_end(mc, &sc);
    stream_end(mb, &sb);
    stream_end(m[1], &s[1]);
}

static void test_event_stream_needs_a_signed_in_user(void **state)
{
    world *w = *state;
    test_resp r = test_req(&w->api, "GET", "/api/v1/events", NULL, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
}

/* ---- a real worker process, killed mid-generation ---------------------------------------- */

/* Starts p, a `pstudio worker` on the test's database writing with the fake
 * Gemini, its output appended to log. */
static void spawn_worker(test_proc *p, world *w, const char *dir, const char *log)
{
    char base_url[300];
    snprintf(base_url, sizeof(base_url), "PSTUDIO_GEMINI_BASE_URL=%s", w->fake.s.base_url);
    const char *const env[] = {"PSTUDIO_LLM_PROVIDER=gemini",  "PSTUDIO_LLM_MODEL=gemini-test",
                               "PSTUDIO_LLM_TIMEOUT_MS=20000", base_url,
                               "PSTUDIO_GEMINI_API_KEY=" KEY,  NULL};
    test_proc_opts o = {.db_url = w->api.t.url, .data_dir = dir, .log = log, .env = env};
    test_proc_start(p, "worker", &o);
}

static void test_a_worker_killed_mid_generation_leaves_exactly_one_set_of_scenes(void **state)
{
    world *w = *state;
    char dir[256], log[300], id[37];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/worker.log", dir);
    fake_server_lock(&w->fake.s);
    w->fake.s.stall_ms = 20000;
    fake_server_push(&w->fake.s, FAKE_STALL); /* the first worker hangs in the call */
    fake_server_push(&w->fake.s, FAKE_OK);
    fake_server_unlock(&w->fake.s);
    create(w, w->tok, "{\"topic\":\"Why is the night sky dark?\",\"target_scenes\":4}", 202, id);

    test_proc first, second;
    spawn_worker(&first, w, dir, log);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (fake_server_calls(&w->fake.s) < 1 && time_mono_usec() < until)
        test_nap_ms(20);
    if (fake_server_calls(&w->fake.s) < 1)
        test_proc_print_log(&first);
    assert_int_equal(fake_server_calls(&w->fake.s), 1);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    char st[32];
    text_of(w, st, sizeof(st), "SELECT status FROM projects WHERE id = '%s'", id);
    assert_string_equal(st, "generating");
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 0);

    /* The dead worker's lease runs out. */
    exec(w,
         "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE CAST(payload AS TEXT) LIKE '%%%s%%'",
         id);
    spawn_worker(&second, w, dir, log);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    test_resp r = wait_project(w, w->tok, id, "scripted");
    test_resp_free(&r);
    wait_attempts(w, id, 2);
    int status = test_proc_stop(&second, SIGTERM, 30);
    if (status != 0)
        test_proc_print_log(&second);
    assert_int_equal(status, 0);

    assert_int_equal(fake_server_calls(&w->fake.s), 2);
    assert_int_equal(count(w, "SELECT count(*) FROM scenes WHERE project_id = '%s'", id), 4);
    assert_int_equal(
        count(w, "SELECT count(DISTINCT position) FROM scenes WHERE project_id = '%s'", id), 4);
    assert_int_equal(
        count(w, "SELECT attempts FROM jobs WHERE CAST(payload AS TEXT) LIKE '%%%s%%'", id), 2);
    char rows[4][160];
    int n;
    usage_rows(w, id, rows, 4, &n);
    assert_int_equal(n, 1); /* the killed attempt never got to write anything */
    assert_true(strncmp(rows[0], "generate_script|1|-|gemini|gemini-test", 38) == 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_new_project_is_scripted_by_the_offline_writer_and_logged),
        T(test_generate_false_keeps_a_draft_and_controls_are_validated),
        T(test_gemini_writes_the_script_with_the_personas_settings),
        T(test_permanent_failures_end_failed_with_a_reason_and_a_usage_row),
        T(test_transient_failures_retry_and_then_succeed_with_a_row_per_attempt),
        T(test_the_last_transient_failure_gives_up),
        T(test_a_generation_whose_job_dies_unhandled_does_not_leave_the_project_stuck),
        T(test_idempotency_key_replays_the_first_answer_and_enqueues_one_job),
        T(test_concurrent_requests_with_one_key_create_one_project),
        T(test_regenerating_replaces_every_scene_and_is_409_while_pending),
        T(test_one_scene_is_rewritten_in_place_with_its_neighbours_as_context),
        T(test_a_persona_above_the_plan_is_refused_when_queued_and_when_run),
        T(test_a_refusal_at_run_time_names_a_multibyte_plan_code_whole),
        T(test_generations_per_month_are_limited_by_the_plan_scene_rewrites_included),
        T(test_edits_while_a_generation_is_pending_are_refused_and_never_lost),
        T(test_a_project_keeps_its_language_length_and_instructions),
        T(test_a_generation_whose_persona_was_deleted_is_refused_up_front),
        T(test_usage_summary_is_for_the_personas_owner_only),
        T(test_event_stream_tells_the_owner_and_nobody_else),
        T(test_event_stream_needs_a_signed_in_user),
        T(test_one_user_holds_only_so_many_event_streams_and_a_left_one_frees_at_once),
        T(test_a_worker_killed_mid_generation_leaves_exactly_one_set_of_scenes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
