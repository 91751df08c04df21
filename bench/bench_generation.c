/*
 * bench_generation: end-to-end script generation with the offline writer,
 * in projects per second from POST /api/v1/projects to "scripted", printed
 * beside a baseline measured in the same run on the same kind of database:
 * the bare offline writer plus the same database writes (project, scenes,
 * script, usage row, in one transaction each, on as many threads as the
 * pool has workers) with no HTTP and no queue.
 * The gap between the two is what the API, the durable queue (claim, lease,
 * status transitions, completion) and the polling cost.
 *
 *   bench_generation [--projects N] [--workers W] [--scenes S] [--url DATABASE_URL]
 *
 * Without --url it uses a fresh SQLite file in a temporary directory; with a
 * postgres:// URL it uses that (empty) database. Nothing is asserted: it
 * prints figures.
 */
#include "base/alloc.h"
#include "base/arena.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "db/migrate.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"
#include "domain/usage_store.h"
#include "http/http.h"
#include "http/routes.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/llm.h"
#include "services/script_prompt.h"
#include "services/script_service.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_generation: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static db *bench_open(const char *url)
{
    db_error de;
    db *d = db_open(url, 8, &de);
    if (d == NULL)
        bench_die("%s", de.message);
    int applied = 0;
    if (migrate_apply(d, &applied, &de) != 0)
        bench_die("migrate: %s", de.message);
    return d;
}

static void bench_exec(db *d, const char *sql)
{
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(d);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL || db_exec(s, &de) != 0)
        bench_die("%s: %s", sql, de.message);
    db_reset(s);
    db_release(c);
}

static int64_t bench_scalar(db *d, const char *sql)
{
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(d);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        bench_die("%s: %s", sql, de.message);
    int64_t v = db_step(s, &de) == DB_ROW ? db_col_int64(s, 0) : 0;
    db_reset(s);
    db_release(c);
    return v;
}

/* ---- the baseline: writer + the same writes, no HTTP, no queue ------------------------ */

typedef struct bench_base {
    db *d;
    const char *user_id;
    const persona *ps;
    int first, count, scenes;
} bench_base;

/* One thread's share of the baseline, on a connection of its own. */
static void *bench_baseline_thread(void *arg)
{
    bench_base *b = arg;
    llm_settings ls = {.provider = NULL};
    error e;
    llm *m = llm_new(&ls, &e);
    script_options o = {.target_scenes = b->scenes};
    db_conn *c = db_acquire(b->d);
    for (int i = b->first; i < b->first + b->count; i++) {
        arena a;
        arena_init(&a, 16384);
        project pr = {0};
        uuid_v7(pr.id);
        snprintf(pr.user_id, sizeof(pr.user_id), "%s", b->user_id);
        pr.persona_id = b->ps->id;
        pr.persona_version = (int)b->ps->version;
        pr.topic = arena_sprintf(&a, "Baseline topic number %d: why is the night sky dark?", i);
        pr.status = "generating";
        pr.created_at = pr.updated_at = time_now_usec();
        script_ask ask = {.ps = b->ps,
                          .pr = &pr,
                          .o = &o,
                          .language = b->ps->language,
                          .seed = "bench",
                          .scene_index = -1};
        llm_request rq;
        llm_brief brief;
        json_t *schema;
        script_prompt_build(&a, &ask, &rq, &brief, &schema);
        llm_result res;
        int64_t started = time_mono_usec();
        llm_generate(m, &rq, &res);
        int64_t ms = (time_mono_usec() - started) / 1000;
        script_answer ans;
        char why[200];
        if (res.outcome != LLM_OK ||
            script_prompt_accept(&a, &ask, res.json, &ans, why, sizeof(why)) != 0)
            bench_die("the offline writer failed: %s", res.message);
        db_error de;
        bool matched;
        if (db_begin_write(c, &de) != 0 || project_store_insert(c, &a, &pr, &e) != 0)
            bench_die("baseline insert: %s", e.message);
        for (size_t k = 0; k < ans.nscenes; k++) {
            scene sc = {0};
            uuid_v7(sc.id);
            snprintf(sc.project_id, sizeof(sc.project_id), "%s", pr.id);
            snprintf(sc.user_id, sizeof(sc.user_id), "%s", b->user_id);
            sc.position = (int)k;
            sc.visual_description = ans.visual[k];
            sc.narration = ans.narration[k];
            sc.image_status = sc.audio_status = "PENDING";
            sc.created_at = sc.updated_at = time_now_usec();
            if (scene_store_insert(c, &sc, &e) != 0)
                bench_die("baseline scene: %s", e.message);
        }
        pr.title = ans.title;
        pr.description = ans.description;
        pr.tags = ans.tags;
        pr.ntags = ans.ntags;
        pr.status = "scripted";
        pr.updated_at = time_now_usec();
        usage_row u = {.persona_id = b->ps->id,
                       .user_id = b->user_id,
                       .project_id = pr.id,
                       .action = USAGE_ACTION_SCRIPT,
                       .success = true,
                       .duration_ms = ms,
                       .provider = llm_provider(m),
                       .model = llm_model(m)};
        if (project_store_save_script(c, &a, &pr, 0, &matched, &e) != 0 ||
            usage_store_insert(c, &u, &e) != 0 || db_commit(c, &de) != 0)
            bench_die("baseline save: %s", e.message);
        json_decref(schema);
        llm_result_free(&res);
        arena_free(&a);
    }
    db_release(c);
    llm_free(m);
    return NULL;
}

/* The same number of threads as the end-to-end run has workers, so both
 * sides get the same parallelism. */
static double bench_baseline(db *d, const char *user_id, const persona *ps, int n, int scenes,
                             int threads)
{
    pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
    bench_base *b = xcalloc((size_t)threads, sizeof(*b));
    int64_t t0 = time_mono_usec();
    for (int i = 0; i < threads; i++) {
        b[i] = (bench_base){d,
                            user_id,
                            ps,
                            i * (n / threads),
                            n / threads + (i == threads - 1 ? n % threads : 0),
                            scenes};
        pthread_create(&t[i], NULL, bench_baseline_thread, &b[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double secs = (double)(time_mono_usec() - t0) / 1e6;
    free(t);
    free(b);
    return n / secs;
}

/* ---- end to end ----------------------------------------------------------------------- */

typedef struct bench_body {
    char *p;
    size_t n;
} bench_body;

static size_t bench_sink(char *p, size_t size, size_t nmemb, void *ud)
{
    bench_body *b = ud;
    size_t k = size * nmemb;
    b->p = xrealloc(b->p, b->n + k + 1);
    memcpy(b->p + b->n, p, k);
    b->n += k;
    b->p[b->n] = '\0';
    return k;
}

static long bench_post(CURL *h, const char *url, const char *auth, const char *body,
                       bench_body *out)
{
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth != NULL)
        hd = curl_slist_append(hd, auth);
    out->n = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    return status;
}

static int bench_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Latency from creation to scripted, per project, from the rows themselves. */
static void bench_latency(db *d, int n, double *p50, double *p95)
{
    static db_sql q = DB_SQL("SELECT created_at, updated_at FROM projects WHERE status = "
                             "'scripted' AND topic LIKE 'E2E%'");
    int64_t *v = xcalloc((size_t)n + 1, sizeof(*v));
    size_t k = 0;
    db_conn *c = db_acquire(d);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    while (s != NULL && db_step(s, &de) == DB_ROW && k < (size_t)n)
        v[k++] = db_col_time(s, 1) - db_col_time(s, 0);
    if (s != NULL)
        db_reset(s);
    db_release(c);
    qsort(v, k, sizeof(*v), bench_cmp);
    *p50 = k ? (double)v[(k * 50 + 99) / 100 - 1] / 1000.0 : 0;
    *p95 = k ? (double)v[(k * 95 + 99) / 100 - 1] / 1000.0 : 0;
    free(v);
}

int main(int argc, char **argv)
{
    int n = 500, workers = 2, scenes = 6;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--projects") == 0)
            n = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--scenes") == 0)
            scenes = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--url") == 0)
            url = argv[++i];
        else
            bench_die("usage: bench_generation [--projects N] [--workers W] [--scenes S] "
                      "[--url DATABASE_URL]");
    }
    if (n < 1 || workers < 1 || scenes < 1 || scenes > SCRIPT_SCENES_MAX)
        bench_die("--projects and --workers must be positive, --scenes 1-30");
    char sqlite_url[512];
    if (url == NULL) {
        char dir[] = "/tmp/pstudio-bench-XXXXXX";
        if (mkdtemp(dir) == NULL)
            bench_die("mkdtemp failed");
        snprintf(sqlite_url, sizeof(sqlite_url), "sqlite://%s/bench.db", dir);
        url = sqlite_url;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db *d = bench_open(url);
    /* No plan limit gets in the way of a benchmark. */
    bench_exec(d, "UPDATE plans SET max_projects_per_month = NULL");

    services svc;
    services_defaults(&svc);
    svc.db = d;
    script_service_register_jobs(&svc);
    job_unschedule_all();
    size_t nroutes = 0;
    http_route *routes = http_all_routes(&nroutes);
    http_server_config hc = {.port = 0, .threads = 4, .db = d, .app = &svc};
    error e;
    http_server *srv = http_server_start(&hc, routes, nroutes, &e);
    free(routes);
    if (srv == NULL)
        bench_die("server: %s", e.message);
    char base[64], auth[256], purl[128];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", http_server_port(srv));
    CURL *h = curl_easy_init();
    bench_body body = {0};
    char signup[128];
    snprintf(signup, sizeof(signup), "%s/api/v1/auth/signup", base);
    if (bench_post(h, signup, NULL,
                   "{\"email\":\"bench@example.com\",\"password\":\"a long bench passphrase\"}",
                   &body) != 201)
        bench_die("signup failed: %s", body.p ? body.p : "");
    json_t *doc = json_loads(body.p, 0, NULL);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(doc, "token")));
    json_decref(doc);

    /* The baseline, on the same database and persona. */
    char user_id[UUID_STR_LEN + 1], persona_id[UUID_STR_LEN + 1];
    {
        db_sql q = DB_SQL("SELECT u.id, p.default_persona_id FROM users u JOIN plans p ON "
                          "p.id = u.plan_id WHERE u.email = 'bench@example.com'");
        db_conn *c = db_acquire(d);
        db_error de;
        db_stmt *s = db_prepare(c, &q, &de);
        if (s == NULL || db_step(s, &de) != DB_ROW || db_col_text(s, 1) == NULL)
            bench_die("the bench user has no default persona");
        snprintf(user_id, sizeof(user_id), "%s", db_col_text(s, 0));
        snprintf(persona_id, sizeof(persona_id), "%s", db_col_text(s, 1));
        db_reset(s);
        db_release(c);
    }
    persona *ps = xcalloc(1, sizeof(*ps));
    arena ps_arena; /* the persona's texts */
    arena_init(&ps_arena, 32768);
    db_conn *c = db_acquire(d);
    if (persona_store_get_visible(c, &ps_arena, persona_id, user_id, ps, &e) != 0)
        bench_die("persona: %s", e.message);
    db_release(c);
    double base_rate = bench_baseline(d, user_id, ps, n, scenes, workers);

    /* End to end: POST, the queue, the worker pool, scripted. */
    job_pool *pool = job_pool_start(d, workers, "bench:generation", &e);
    if (pool == NULL)
        bench_die("pool: %s", e.message);
    snprintf(purl, sizeof(purl), "%s/api/v1/projects", base);
    int64_t t0 = time_mono_usec();
    for (int i = 0; i < n; i++) {
        char req[256];
        snprintf(req, sizeof(req),
                 "{\"topic\":\"E2E topic number %d: why is the night sky dark?\","
                 "\"target_scenes\":%d}",
                 i, scenes);
        if (bench_post(h, purl, auth, req, &body) != 202)
            bench_die("POST /projects: %s", body.p ? body.p : "");
    }
    int64_t posted = time_mono_usec();
    while (bench_scalar(d, "SELECT count(*) FROM projects WHERE status = 'scripted' AND topic "
                           "LIKE 'E2E%'") < n) {
        if (bench_scalar(d, "SELECT count(*) FROM projects WHERE status = 'failed'") > 0)
            bench_die("a generation failed");
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double secs = (double)(time_mono_usec() - t0) / 1e6;
    double post_secs = (double)(posted - t0) / 1e6;
    double e2e_rate = n / secs;
    double p50, p95;
    bench_latency(d, n, &p50, &p95);

    printf("bench_generation: %d projects of %d scenes, %d worker%s, %s\n", n, scenes, workers,
           workers == 1 ? "" : "s", db_engine_name(db_engine_of(d)));
    printf("  baseline  offline writer + the same DB writes, no HTTP/queue, %d thread%s: "
           "%8.1f projects/s\n",
           workers, workers == 1 ? "" : "s", base_rate);
    printf("  end2end   POST /projects -> scripted (HTTP + queue + pool):   %8.1f projects/s "
           "(%.0f%% of baseline)\n",
           e2e_rate, 100.0 * e2e_rate / base_rate);
    printf("            POSTs alone: %.1f requests/s; latency POST -> scripted p50 %.1f ms, "
           "p95 %.1f ms\n",
           n / post_secs, p50, p95);

    job_pool_stop(pool, 5000);
    http_server_stop(srv);
    curl_easy_cleanup(h);
    free(body.p);
    free(ps);
    arena_free(&ps_arena);
    db_close(d);
    curl_global_cleanup();
    return 0;
}
