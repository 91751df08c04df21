/*
 * Many machines (issue 19): three `pstudio serve` and two `pstudio worker`
 * processes, each with its own data directory and port as if on its own
 * machine, share one PostgreSQL database, one PSTUDIO_SECRET_KEY and one S3
 * bucket (@20minutes/s3rver on loopback, tests/s3/). A user signs up on one
 * server and works through the others; the servers run no jobs, so the
 * script, the scenes' narration and images and the video are made by the
 * workers, whichever claims them, and the admin jobs API says which. Every
 * server then serves the video (200, the same bytes and ETag, Range 206)
 * and the narration to its owner and 404 to another user, although none of
 * them holds the files: they come from the bucket. A fourth server in
 * presigned mode redirects to a URL the bucket honours.
 *
 * PostgreSQL only: an SQLite file cannot be shared across machines. Without
 * PSTUDIO_TEST_PG_URL the program says so and exits 77 (ctest: skipped).
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "s3_server.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUCKET     "pstudio-fleet"
#define SECRET_KEY "PSTUDIO_SECRET_KEY=ZmxlZXQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4="
#define SERVERS    3
#define WORKERS    2
#define WAIT_S     240

static s3_server s3;

/* ---- processes ------------------------------------------------------------------------------ */

typedef struct fleet {
    testdb t;
    char dir[512];
    char prefix[64];
    test_proc serve[SERVERS + 1]; /* the last one serves by presigned redirect */
    test_proc worker[WORKERS];
} fleet;

/* Starts `pstudio cmd` as one machine of the fleet: its own data directory
 * under the test's, the shared database, key and bucket; extra is one more
 * "K=V" (or NULL). */
static void start(fleet *f, test_proc *p, const char *cmd, const char *name, const char *extra)
{
    char dir[600], log[700], endpoint[80], prefix[96];
    snprintf(dir, sizeof(dir), "%s/%s", f->dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", f->dir, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(endpoint, sizeof(endpoint), "PSTUDIO_S3_ENDPOINT=http://127.0.0.1:%d", s3.port);
    snprintf(prefix, sizeof(prefix), "PSTUDIO_S3_PREFIX=%s", f->prefix);
    /* The servers run no jobs (test_proc_start's default): whatever is
     * made, a worker made it. */
    const char *const env[] = {SECRET_KEY,
                               "PSTUDIO_AUTO_MIGRATE=false",
                               "PSTUDIO_MEDIA_STORE=s3",
                               endpoint,
                               "PSTUDIO_S3_BUCKET=" BUCKET,
                               "PSTUDIO_S3_REGION=us-east-1",
                               "PSTUDIO_S3_ACCESS_KEY_ID=S3RVER",
                               "PSTUDIO_S3_SECRET_ACCESS_KEY=S3RVER",
                               "PSTUDIO_S3_PATH_STYLE=true",
                               prefix,
                               extra, /* the end when NULL */
                               NULL};
    test_proc_opts o = {.db_url = f->t.url, .data_dir = dir, .log = log, .env = env};
    test_proc_start(p, cmd, &o);
}

static int setup(void **state)
{
    fleet *f = test_calloc(1, sizeof(*f));
    testdb_create(&f->t);
    test_tmpdir(f->dir, sizeof(f->dir));
    char rnd[37];
    uuid_v7(rnd);
    snprintf(f->prefix, sizeof(f->prefix), "fleet/%.8s", rnd + 24);
    char name[16];
    for (int i = 0; i < SERVERS; i++) {
        snprintf(name, sizeof(name), "serve%d", i + 1);
        start(f, &f->serve[i], "serve", name, NULL);
    }
    start(f, &f->serve[SERVERS], "serve", "serve-presigned", "PSTUDIO_S3_SERVE=presigned");
    for (int i = 0; i < WORKERS; i++) {
        snprintf(name, sizeof(name), "worker%d", i + 1);
        start(f, &f->worker[i], "worker", name, NULL);
    }
    for (int i = 0; i <= SERVERS; i++)
        test_proc_ready(&f->serve[i]);
    for (int i = 0; i < WORKERS; i++)
        test_proc_ready(&f->worker[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fleet *f = *state;
    for (int i = 0; i <= SERVERS; i++)
        test_proc_stop(&f->serve[i], SIGTERM, 20);
    for (int i = 0; i < WORKERS; i++)
        test_proc_stop(&f->worker[i], SIGTERM, 20);
    testdb_destroy(&f->t);
    test_free(f);
    return 0;
}

/* ---- requests, to one machine or another ----------------------------------------------------- */

static test_resp req(const test_proc *p, const char *method, const char *path, const char *tok,
                     const char *body, const char *const *headers)
{
    test_api a = {.port = p->port};
    return test_req(&a, method, path, tok, body, headers);
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void signup(const test_proc *p, const char *email, char *tok)
{
    char body[160];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             email);
    test_resp r = req(p, "POST", "/api/v1/auth/signup", NULL, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(tok, 128, "%s", str(r.json, "token"));
    test_resp_free(&r);
}

/* Polls GET path on the servers in turn until done(json) says so. */
static test_resp poll_until(fleet *f, const char *path, const char *tok, bool (*done)(json_t *),
                            const char *what)
{
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (int i = 0;; i++) {
        test_resp r = req(&f->serve[i % SERVERS], "GET", path, tok, NULL, NULL);
        test_expect(&r, 200, NULL);
        if (done(r.json))
            return r;
        if (time_mono_usec() > until) {
            for (int w = 0; w < WORKERS; w++) {
                char *log = test_proc_log(&f->worker[w]);
                print_message("%s:\n%.3000s\n", f->worker[w].log, log);
                free(log);
            }
            fail_msg("%s never happened: %s", what, r.body);
        }
        test_resp_free(&r);
        test_nap_ms(100);
    }
}

static bool scripted(json_t *pr)
{
    return strcmp(str(pr, "status"), "scripted") == 0;
}

static bool rendered(json_t *pr)
{
    const char *st = str(pr, "render_status");
    if (strcmp(st, "failed") == 0)
        fail_msg("the render failed: %s", str(pr, "render_error"));
    return strcmp(st, "rendered") == 0;
}

static bool media_done(json_t *scenes)
{
    json_t *items = json_object_get(scenes, "items");
    bool all = json_array_size(items) > 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *sc = json_array_get(items, i);
        if (strcmp(str(sc, "audio_status"), "FAILED") == 0 ||
            strcmp(str(sc, "image_status"), "FAILED") == 0)
            fail_msg("a scene's media failed: %s %s", str(sc, "audio_error"),
                     str(sc, "image_error"));
        all = all && strcmp(str(sc, "audio_status"), "COMPLETED") == 0 &&
              strcmp(str(sc, "image_status"), "COMPLETED") == 0;
    }
    return all;
}

/* True when a file named name lies anywhere under dir (depth-limited). */
static bool file_under(const char *dir, const char *name, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0)
            found = file_under(path, name, depth - 1);
        else if (strcmp(de->d_name, name) == 0)
            found = true;
    }
    closedir(d);
    return found;
}

/* Which worker (0-based) an owner "host:pid/token" names; -1 for none of them. */
static int worker_of(fleet *f, const char *owner)
{
    const char *colon = strrchr(owner, ':');
    long pid = colon ? strtol(colon + 1, NULL, 10) : 0;
    for (int i = 0; i < WORKERS; i++)
        if (pid == (long)f->worker[i].pid)
            return i;
    return -1;
}

/* ---- the test ----------------------------------------------------------------------------------
 */

static void test_a_video_rendered_by_any_worker_is_served_by_every_server(void **state)
{
    fleet *f = *state;
    char ana[128], bob[128], ops[128], id[37], path[256];
    /* Sessions are in the database: signed up on one server, used on all. */
    signup(&f->serve[0], "ana@example.com", ana);
    signup(&f->serve[1], "bob@example.com", bob);
    /* An operator, promoted before any server has seen their session. */
    signup(&f->serve[0], "ops@example.com", ops);
    testdb_exec(&f->t, "UPDATE users SET role = 'admin' WHERE email = 'ops@example.com'");

    test_resp r =
        req(&f->serve[0], "POST", "/api/v1/projects", ana,
            "{\"topic\":\"Why do cats purr?\",\"language\":\"en\",\"target_scenes\":2}", NULL);
    test_expect(&r, 202, NULL);
    snprintf(id, sizeof(id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    test_resp_free((test_resp[]){poll_until(f, path, ana, scripted, "the script")});

    snprintf(path, sizeof(path), "/api/v1/projects/%s/media", id);
    r = req(&f->serve[1], "POST", path, ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", id);
    test_resp scenes = poll_until(f, path, ana, media_done, "every scene's narration and image");

    snprintf(path, sizeof(path), "/api/v1/projects/%s/render", id);
    r = req(&f->serve[2], "POST", path, ana, "{\"subtitles\":\"soft\",\"music\":\"none\"}", NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    test_resp_free((test_resp[]){poll_until(f, path, ana, rendered, "the video")});

    /* Who did what: every job by one of the two workers, none by a server. */
    r = req(&f->serve[2], "GET", "/api/v1/admin/jobs?status=done&limit=100", ops, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *jobs = json_object_get(r.json, "items");
    int video_by = -1, by[WORKERS] = {0};
    size_t n_media = 0;
    for (size_t i = 0; i < json_array_size(jobs); i++) {
        json_t *j = json_array_get(jobs, i);
        const char *kind = str(j, "kind");
        if (strncmp(kind, "media.", 6) != 0 && strncmp(kind, "script.", 7) != 0)
            continue;
        int w = worker_of(f, str(j, "lease_owner"));
        if (w < 0)
            fail_msg("job %s (%s) was done by %s, not by a worker", str(j, "id"), kind,
                     str(j, "lease_owner"));
        by[w]++;
        n_media += strncmp(kind, "media.", 6) == 0;
        if (strcmp(kind, "media.video") == 0)
            video_by = w;
    }
    /* Two scenes, narration and image each, and the video. */
    assert_true(n_media >= 5);
    assert_true(video_by >= 0);
    print_message("jobs done: worker1 %d, worker2 %d; the video by worker%d\n", by[0], by[1],
                  video_by + 1);
    test_resp_free(&r);

    /* The files are in the bucket only: no machine has them in its data
     * directory, under the name the route serves. The servers keep copies
     * of what they served under s3-spool/cache, named by hashes. */
    for (int i = 0; i <= SERVERS; i++)
        assert_false(file_under(f->serve[i].dir, "video.mp4", 6));
    for (int i = 0; i < WORKERS; i++)
        assert_false(file_under(f->worker[i].dir, "video.mp4", 6));

    /* Every server: the same bytes and ETag, a Range, the narration; 404 to bob. */
    json_t *sc0 = json_array_get(json_object_get(scenes.json, "items"), 0);
    char ogg_url[256];
    snprintf(ogg_url, sizeof(ogg_url), "%s", str(json_object_get(sc0, "audio"), "ogg"));
    assert_true(ogg_url[0] == '/');
    test_resp_free(&scenes);
    char video_url[160];
    snprintf(video_url, sizeof(video_url), "/api/v1/projects/%s/media/video.mp4", id);
    test_resp first = {0}, first_ogg = {0};
    char first_etag[128] = "";
    for (int i = 0; i < SERVERS; i++) {
        const test_proc *s = &f->serve[i];
        char etag[128], h[128];
        r = req(s, "GET", video_url, ana, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_true(test_resp_header(&r, "Content-Type", h, sizeof(h)));
        assert_string_equal(h, "video/mp4");
        assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
        assert_true(r.len > 1000);
        assert_memory_equal(r.body + 4, "ftyp", 4);
        if (i == 0) {
            first = r;
            snprintf(first_etag, sizeof(first_etag), "%s", etag);
        } else {
            assert_int_equal(r.len, first.len);
            assert_memory_equal(r.body, first.body, first.len);
            assert_string_equal(etag, first_etag);
            test_resp_free(&r);
        }

        const char *range[] = {"Range: bytes=100-1099", NULL};
        r = req(s, "GET", video_url, ana, NULL, range);
        test_expect(&r, 206, NULL);
        assert_int_equal(r.len, 1000);
        assert_memory_equal(r.body, first.body + 100, 1000);
        assert_true(test_resp_header(&r, "Content-Range", h, sizeof(h)));
        char want[80];
        snprintf(want, sizeof(want), "bytes 100-1099/%zu", first.len);
        assert_string_equal(h, want);
        test_resp_free(&r);

        r = req(s, "GET", ogg_url, ana, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_memory_equal(r.body, "OggS", 4);
        if (i == 0) {
            first_ogg = r;
        } else {
            assert_int_equal(r.len, first_ogg.len);
            assert_memory_equal(r.body, first_ogg.body, first_ogg.len);
            test_resp_free(&r);
        }

        r = req(s, "GET", video_url, bob, NULL, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
        r = req(s, "GET", ogg_url, bob, NULL, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }

    /* Presigned mode: a redirect to the bucket, which serves the same bytes
     * and ranges; bob still gets a 404 and no URL. */
    const test_proc *ps = &f->serve[SERVERS];
    char loc[8192];
    r = req(ps, "GET", video_url, ana, NULL, NULL);
    test_expect(&r, 302, NULL);
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    test_resp_free(&r);
    char origin[64];
    snprintf(origin, sizeof(origin), "http://127.0.0.1:%d/", s3.port);
    assert_true(strncmp(loc, origin, strlen(origin)) == 0);
    assert_non_null(strstr(loc, "X-Amz-Signature="));
    test_proc bucket = {.port = s3.port};
    r = req(&bucket, "GET", loc + strlen(origin) - 1, NULL, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(r.len, first.len);
    assert_memory_equal(r.body, first.body, first.len);
    test_resp_free(&r);
    r = req(&bucket, "GET", loc + strlen(origin) - 1, NULL, NULL,
            (const char *const[]){"Range: bytes=100-1099", NULL});
    test_expect(&r, 206, NULL);
    assert_int_equal(r.len, 1000);
    assert_memory_equal(r.body, first.body + 100, 1000);
    test_resp_free(&r);
    r = req(ps, "GET", video_url, bob, NULL, NULL);
    test_expect(&r, 404, "not-found");
    assert_false(test_resp_header(&r, "Location", loc, sizeof(loc)));
    test_resp_free(&r);

    test_resp_free(&first);
    test_resp_free(&first_ogg);
}

int main(void)
{
    if (getenv("PSTUDIO_TEST_PG_URL") == NULL || getenv("PSTUDIO_TEST_PG_URL")[0] == '\0') {
        fprintf(stderr, "test_fleet: skipped: it needs PostgreSQL (PSTUDIO_TEST_PG_URL), as "
                        "SQLite cannot be shared across machines\n");
        return 77;
    }
    setenv("PSTUDIO_TEST_ENGINE", "postgres", 1);
    if (s3_server_start(&s3, BUCKET) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_video_rendered_by_any_worker_is_served_by_every_server, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    s3_server_stop(&s3);
    return rc;
}
