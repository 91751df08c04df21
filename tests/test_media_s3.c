/*
 * The S3 media store (providers/media_store_s3.c) against a real
 * S3-protocol server on loopback: @20minutes/s3rver (tests/s3/server.js),
 * which checks every AWS Signature V4, in headers and in presigned query
 * strings. Files go in through the store and come out through the HTTP
 * media route (Range, ETag, 304, another user's 404) on both engines; a
 * file larger than the part size goes up as a multipart upload; a project's
 * deletion and the sweep remove its objects; a wrong secret or key is a
 * configuration error naming the setting; presigned mode redirects to a URL
 * the server accepts and a tampered one it refuses; a scene's two images
 * (tests/fake_image.c's model) go up together or not at all.
 *
 * tests/s3/run.sh installs the server's modules and names them in
 * PSTUDIO_TEST_S3_MODULES.
 */
#include "testlib.h"

#include "fake_image.h"
#include "s3_server.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/http_client.h"
#include "providers/media_store.h"
#include "services/media_service.h"
#include "services/script_service.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUCKET    "pstudio-media"
#define PART_SIZE (5 * 1024 * 1024)

/* ---- the S3 server, one per test program ------------------------------------------------ */

static s3_server s3;
static int s3_port;

static int s3_start(void **state)
{
    (void)state;
    if (s3_server_start(&s3, BUCKET) != 0)
        return -1;
    s3_port = s3.port;
    return 0;
}

static int s3_stop(void **state)
{
    (void)state;
    s3_server_stop(&s3);
    return 0;
}

/* ---- the world -------------------------------------------------------------------------- */

typedef struct world {
    test_api api;
    char dir[512];
    char spool[600];
    char endpoint[64];
    char ana[37], tok[128], tok_b[128];
    media_s3_settings set;
} world;

static void user_id(world *w, const char *email, char *out)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT id FROM users WHERE email = '%s'", email);
    db_sql q = DB_SQL(sql);
    db_conn *c = db_acquire(w->api.t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s: %s", sql, de.message);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(out, 37, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
}

/* A store on the test server with w->set as changed by the test. */
static media_store *store(world *w)
{
    error e;
    media_store *ms = media_store_s3(&w->set, &e);
    if (ms == NULL)
        fail_msg("media_store_s3: %s", e.message);
    return ms;
}

static void use_store(world *w)
{
    media_store_free(w->api.svc.media);
    w->api.svc.media = store(w);
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    test_tmpdir(w->dir, sizeof(w->dir));
    snprintf(w->spool, sizeof(w->spool), "%s/s3-spool", w->dir);
    snprintf(w->endpoint, sizeof(w->endpoint), "http://127.0.0.1:%d", s3_port);
    w->api.svc.data_dir = w->dir;
    /* A prefix of its own per test: the bucket outlives the test. */
    char *prefix = test_malloc(64);
    char rnd[37];
    uuid_v7(rnd);
    snprintf(prefix, 64, "t/%.8s%.4s", rnd + 24, rnd + 9);
    w->set = (media_s3_settings){
        .endpoint = w->endpoint,
        .bucket = BUCKET,
        .region = "us-east-1",
        .access_key_id = "S3RVER",
        .secret_key = "S3RVER",
        .path_style = true,
        .prefix = prefix,
        .presign_expiry_s = 60,
        .part_size = PART_SIZE,
        .cache_bytes = 64 * 1024 * 1024,
        .spool_dir = w->spool,
        .timeout_ms = 30000,
    };
    w->api.svc.media = store(w);
    test_signup(&w->api, "ana@example.com", w->tok);
    test_signup(&w->api, "bob@example.com", w->tok_b);
    user_id(w, "ana@example.com", w->ana);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    media_store_free(w->api.svc.media);
    test_api_stop(&w->api);
    test_free((char *)w->set.prefix);
    test_free(w);
    return 0;
}

static void new_project(world *w, char *id)
{
    fixture_project(&w->api.t, w->ana, NULL, NULL, id);
}

static test_resp get_media(world *w, const char *tok, const char *id, const char *name,
                           const char *const *headers)
{
    char path[400];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media/%s", id, name);
    return test_req(&w->api, "GET", path, tok, NULL, headers);
}

/* Printable bytes that differ at every offset's neighbours (no NUL: the
 * test client reads bodies as text). */
static char *pattern(size_t n, unsigned seed)
{
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + i / 26 + seed) % 26);
    p[n] = '\0';
    return p;
}

/* media_store_put that must succeed (its error message on failure). */
static void put(world *w, const char *project_id, const char *name, const char *data, size_t n)
{
    error e;
    if (media_store_put(w->api.svc.media, w->ana, project_id, name, data, n, &e) != 0)
        fail_msg("put %s: %s", name, e.message);
}

static bool exists(world *w, const char *project_id, const char *name)
{
    media_file f;
    error e;
    int rc = media_store_open(w->api.svc.media, w->ana, project_id, name, &f, &e);
    if (rc == 0) {
        close(f.fd);
        return true;
    }
    if (e.kind != ERR_NOT_FOUND)
        fail_msg("open %s: %s", name, e.message);
    return false;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_files_are_served_from_the_bucket_with_ranges_and_etags(void **state)
{
    world *w = *state;
    char id[37], h[200], etag[100];
    new_project(w, id);
    const char *text = "1\n00:00:00,000 --> 00:00:01,500\nOlá, mundo\n";
    error e;
    put(w, id, "s1.srt", text, strlen(text));

    test_resp r = get_media(w, w->tok, id, "s1.srt", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(r.body, text);
    assert_true(test_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/x-subrip");
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    test_resp_free(&r);

    r = get_media(w, w->tok, id, "s1.srt", (const char *const[]){"Range: bytes=2-9", NULL});
    test_expect(&r, 206, NULL);
    assert_string_equal(r.body, "00:00:00");
    assert_true(test_resp_header(&r, "Content-Range", h, sizeof(h)));
    char want[64];
    snprintf(want, sizeof(want), "bytes 2-9/%zu", strlen(text));
    assert_string_equal(h, want);
    test_resp_free(&r);

    char inm[160];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    r = get_media(w, w->tok, id, "s1.srt", (const char *const[]){inm, NULL});
    test_expect(&r, 304, NULL);
    test_resp_free(&r);

    /* A new version is a new ETag and new bytes, never the old local copy. */
    const char *text2 = "1\n00:00:00,000 --> 00:00:02,000\nTchau\n";
    put(w, id, "s1.srt", text2, strlen(text2));
    r = get_media(w, w->tok, id, "s1.srt", (const char *const[]){inm, NULL});
    test_expect(&r, 200, NULL);
    assert_string_equal(r.body, text2);
    assert_true(test_resp_header(&r, "ETag", h, sizeof(h)));
    assert_string_not_equal(h, etag);
    test_resp_free(&r);

    /* Another server (its own spool, no copies yet) serves the same bytes. */
    char other[700];
    snprintf(other, sizeof(other), "%s/other-spool", w->dir);
    media_s3_settings set2 = w->set;
    set2.spool_dir = other;
    set2.cache_bytes = 0;
    media_store *ms2 = media_store_s3(&set2, &e);
    assert_non_null(ms2);
    media_file f;
    assert_int_equal(media_store_open(ms2, w->ana, id, "s1.srt", &f, &e), 0);
    assert_int_equal(f.size, (int64_t)strlen(text2));
    char got[128] = "";
    assert_int_equal(pread(f.fd, got, sizeof(got) - 1, 0), (ssize_t)strlen(text2));
    assert_string_equal(got, text2);
    close(f.fd);
    snprintf(other, sizeof(other), "%s/other-spool/cache", w->dir);
    assert_int_equal(count_files(other), 0); /* cache_bytes 0: the copy was unlinked */
    media_store_free(ms2);

    /* Tenancy and names: another user's project and a missing file are 404s. */
    r = get_media(w, w->tok_b, id, "s1.srt", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = get_media(w, w->tok, id, "none.srt", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = get_media(w, w->tok, id, ".hidden", NULL);
    test_expect(&r, 400, "invalid-media-path");
    test_resp_free(&r);
}

static void test_a_large_file_goes_up_in_parts_and_reads_back_whole(void **state)
{
    world *w = *state;
    char id[37], h[200];
    new_project(w, id);
    size_t size = 2 * PART_SIZE + 12345; /* three parts, the last one short */
    char *data = pattern(size, 3);
    media_temp t;
    error e;
    assert_int_equal(media_store_temp(w->api.svc.media, w->ana, id, "video.mp4", &t, &e), 0);
    assert_non_null(strstr(t.path, w->spool));
    assert_non_null(strstr(t.path, ".mp4"));
    FILE *fp = fopen(t.path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, size, fp), size);
    fclose(fp);
    if (media_store_commit(w->api.svc.media, &t, &e) != 0)
        fail_msg("commit: %s", e.message);
    assert_int_equal(access(t.path[0] ? t.path : "/nonexistent-spool", F_OK), -1);
    char tmp[700];
    snprintf(tmp, sizeof(tmp), "%s/tmp", w->spool);
    assert_int_equal(count_files(tmp), 0);

    media_file f;
    if (media_store_open(w->api.svc.media, w->ana, id, "video.mp4", &f, &e) != 0)
        fail_msg("open: %s", e.message);
    assert_int_equal(f.size, (int64_t)size);
    char *back = malloc(size);
    assert_int_equal(pread(f.fd, back, size, 0), (ssize_t)size);
    assert_memory_equal(back, data, size);
    close(f.fd);
    free(back);

    /* A Range across the first part boundary, through the route. */
    char range[80];
    size_t from = PART_SIZE - 10;
    snprintf(range, sizeof(range), "Range: bytes=%zu-%zu", from, from + 19);
    test_resp r = get_media(w, w->tok, id, "video.mp4", (const char *const[]){range, NULL});
    test_expect(&r, 206, NULL);
    assert_int_equal(strlen(r.body), 20);
    assert_memory_equal(r.body, data + from, 20);
    assert_true(test_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "video/mp4");
    test_resp_free(&r);

    /* A discarded temporary leaves nothing behind, locally or in the bucket. */
    assert_int_equal(media_store_temp(w->api.svc.media, w->ana, id, "gone.mp4", &t, &e), 0);
    media_store_discard(w->api.svc.media, &t);
    assert_int_equal(count_files(tmp), 0);
    assert_false(exists(w, id, "gone.mp4"));
    free(data);
}

typedef struct seen {
    char ids[16][37];
    int n;
} seen;

static void note_project(const char *user, const char *project_id, void *ctx)
{
    (void)user;
    seen *s = ctx;
    if (s->n < 16)
        snprintf(s->ids[s->n++], 37, "%s", project_id);
}

static bool seen_has(const seen *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

/* Collects the names media_store_list gives as "[a][b]…", in any order:
 * the test looks each one up. */
typedef struct names_seen {
    char all[512];
    int n;
} names_seen;

static void note_name(const char *name, void *ctx)
{
    names_seen *ns = ctx;
    ns->n++;
    size_t len = strlen(ns->all);
    snprintf(ns->all + len, sizeof(ns->all) - len, "[%s]", name);
}

static void test_deleting_a_project_removes_its_objects_and_the_sweep_the_rest(void **state)
{
    world *w = *state;
    char gone[37], keep[37];
    new_project(w, gone);
    new_project(w, keep);
    error e;
    const char *names[] = {"a.wav", "a.ogg", "a.json", "b.png"};
    for (int i = 0; i < 4; i++) {
        put(w, gone, names[i], "x", 1);
        put(w, keep, names[i], "y", 1);
    }
    assert_true(exists(w, gone, "a.wav")); /* leaves a local copy behind */
    seen s = {.n = 0};
    if (media_store_list_projects(w->api.svc.media, note_project, &s, &e) != 0)
        fail_msg("list_projects: %s", e.message);
    assert_int_equal(s.n, 2);
    assert_true(seen_has(&s, gone) && seen_has(&s, keep));
    /* A project's names, as the media service's prune of deleted scenes reads them. */
    names_seen ns = {.n = 0};
    if (media_store_list(w->api.svc.media, w->ana, keep, note_name, &ns, &e) != 0)
        fail_msg("list: %s", e.message);
    assert_int_equal(ns.n, 4);
    for (int i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof(want), "[%s]", names[i]);
        assert_non_null(strstr(ns.all, want));
    }

    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", gone);
    test_resp r = test_req(&w->api, "DELETE", path, w->tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    for (int i = 0; i < 4; i++) {
        assert_false(exists(w, gone, names[i]));
        assert_true(exists(w, keep, names[i]));
    }
    s.n = 0;
    assert_int_equal(media_store_list_projects(w->api.svc.media, note_project, &s, &e), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], keep);

    /* One file: remove, and removing what is not there is not an error. */
    assert_int_equal(media_store_remove(w->api.svc.media, w->ana, keep, "b.png", &e), 0);
    assert_false(exists(w, keep, "b.png"));
    assert_int_equal(media_store_remove(w->api.svc.media, w->ana, keep, "b.png", &e), 0);

    /* Objects the database does not know: the sweep removes them. */
    char orphan[37];
    uuid_v7(orphan);
    put(w, orphan, "x.wav", "RIFF", 4);
    int removed = -1;
    db_conn *c = db_acquire(w->api.t.db);
    assert_int_equal(media_service_sweep(&w->api.svc, c, &removed, &e), 0);
    db_release(c);
    assert_int_equal(removed, 1);
    assert_false(exists(w, orphan, "x.wav"));
    assert_true(exists(w, keep, "a.wav"));
}

static void test_a_wrong_secret_or_key_is_a_configuration_error_naming_it(void **state)
{
    world *w = *state;
    char id[37];
    new_project(w, id);
    error e;
    put(w, id, "ok.srt", "1", 1);

    w->set.secret_key = "not-the-secret-key";
    use_store(w);
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, id, "x.srt", "1", 1, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, "PSTUDIO_S3_SECRET_ACCESS_KEY");
    assert_non_null(strstr(e.message, "SignatureDoesNotMatch"));
    assert_null(strstr(e.message, "not-the-secret-key"));
    media_file f;
    assert_int_equal(media_store_open(w->api.svc.media, w->ana, id, "ok.srt", &f, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, "PSTUDIO_S3_SECRET_ACCESS_KEY");
    seen s = {.n = 0};
    assert_int_equal(media_store_list_projects(w->api.svc.media, note_project, &s, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    /* Through the route it is the server's fault, not the caller's. */
    test_resp r = get_media(w, w->tok, id, "ok.srt", NULL);
    assert_true(r.status >= 500);
    assert_null(strstr(r.body, "not-the-secret-key"));
    test_resp_free(&r);

    w->set.secret_key = "S3RVER";
    w->set.access_key_id = "NOSUCHKEY";
    use_store(w);
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, id, "x.srt", "1", 1, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, "PSTUDIO_S3_ACCESS_KEY_ID");

    w->set.access_key_id = "S3RVER";
    w->set.bucket = "no-such-bucket";
    use_store(w);
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, id, "x.srt", "1", 1, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, "PSTUDIO_S3_BUCKET");
}

static void test_an_unreachable_server_is_unavailable(void **state)
{
    world *w = *state;
    char id[37];
    new_project(w, id);
    /* A port nothing listens on: bound, then closed. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    snprintf(w->endpoint, sizeof(w->endpoint), "http://127.0.0.1:%d", ntohs(a.sin_port));
    use_store(w);
    error e;
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, id, "x.srt", "1", 1, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    test_resp r = get_media(w, w->tok, id, "x.srt", NULL);
    test_expect(&r, 503, NULL);
    test_resp_free(&r);
}

static void test_settings_are_checked_when_the_store_opens(void **state)
{
    world *w = *state;
    error e;
    struct {
        const char *what;
        const char *field;
    } cases[] = {
        {"endpoint", "PSTUDIO_S3_ENDPOINT"},
        {"bucket", "PSTUDIO_S3_BUCKET"},
        {"prefix", "PSTUDIO_S3_PREFIX"},
        {"part", "PSTUDIO_S3_PART_SIZE_MB"},
        {"missing", "PSTUDIO_S3_SECRET_ACCESS_KEY"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        media_s3_settings s = w->set;
        if (strcmp(cases[i].what, "endpoint") == 0)
            s.endpoint = "http://127.0.0.1:9/some/path";
        else if (strcmp(cases[i].what, "bucket") == 0)
            s.bucket = "Not_A_Bucket";
        else if (strcmp(cases[i].what, "prefix") == 0)
            s.prefix = "a/../b";
        else if (strcmp(cases[i].what, "part") == 0)
            s.part_size = 1024;
        else
            s.secret_key = NULL;
        assert_null(media_store_s3(&s, &e));
        assert_int_equal(e.kind, ERR_CONFIG);
        assert_string_equal(e.field, cases[i].field);
    }
}

static void test_presigned_mode_redirects_to_a_url_the_server_accepts(void **state)
{
    world *w = *state;
    char id[37], loc[8192], h[200];
    new_project(w, id);
    w->set.presigned = true;
    use_store(w);
    const char *text = "WEBVTT\n\n00:00.000 --> 00:01.000\nOi\n";
    error e;
    put(w, id, "s1.vtt", text, strlen(text));

    test_resp r = get_media(w, w->tok, id, "s1.vtt", NULL);
    test_expect(&r, 302, NULL);
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    assert_true(test_resp_header(&r, "Cache-Control", h, sizeof(h)));
    assert_string_equal(h, "no-store");
    test_resp_free(&r);
    assert_non_null(strstr(loc, "X-Amz-Signature="));
    assert_non_null(strstr(loc, "X-Amz-Expires=60&"));

    /* Anyone holding the URL gets the file, with its type, until it expires. */
    http_client_resp got;
    http_client_req rq = {.method = "GET", .url = loc};
    assert_int_equal(http_client_do(&rq, &got, &e), 0);
    assert_int_equal(got.status, 200);
    assert_string_equal(got.body.data, text);
    assert_string_equal(got.content_type, "text/vtt; charset=utf-8");
    http_client_resp_free(&got);
    const char *range[] = {"Range: bytes=0-5", NULL};
    rq.headers = range;
    assert_int_equal(http_client_do(&rq, &got, &e), 0);
    assert_int_equal(got.status, 206);
    assert_string_equal(got.body.data, "WEBVTT");
    http_client_resp_free(&got);

    /* A URL changed in any part is refused. */
    char *sig = strstr(loc, "X-Amz-Signature=") + strlen("X-Amz-Signature=");
    sig[0] = sig[0] == 'a' ? 'b' : 'a';
    rq.headers = NULL;
    assert_int_equal(http_client_do(&rq, &got, &e), 0);
    assert_int_equal(got.status, 403);
    http_client_resp_free(&got);

    r = get_media(w, w->tok_b, id, "s1.vtt", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = get_media(w, w->tok, id, "none.vtt", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

static void count_hidden(const char *name, void *ctx)
{
    if (name[0] == '.')
        ++*(int *)ctx;
}

/* The narration job writes its WAV and its Opus (encoded in process into
 * the store's temporary, decision 133) through the S3 store like the local
 * one: the scene completes, and the Opus object read back from the bucket
 * is a mono 48 kHz Ogg Opus file. */
static void test_a_scene_is_narrated_into_the_bucket_with_its_opus_whole(void **state)
{
    world *w = *state;
    job_unregister_all();
    job_unschedule_all();
    script_service_register_jobs(&w->api.svc);
    media_service_register_jobs(&w->api.svc);
    job_unschedule_all();
    db_error de;
    db *wdb = db_open(w->api.t.url, 3, &de);
    if (wdb == NULL)
        fail_msg("db_open: %s", de.message);
    error e;
    job_pool *pool = job_pool_start(wdb, 2, "test:s3", &e);
    if (pool == NULL)
        fail_msg("job_pool_start: %s", e.message);
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok,
                           "{\"topic\":\"Why is the sky blue?\",\"language\":\"en-US\","
                           "\"target_scenes\":1}",
                           NULL);
    test_expect(&r, 202, NULL);
    char id[37], path[200];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    /* Scripted, then the media asked for, then the narration done. */
    const char *steps[] = {"scripted", "media", "COMPLETED"};
    for (int step = 0; step < 3; step++) {
        if (step == 1) {
            snprintf(path, sizeof(path), "/api/v1/projects/%s/media", id);
            r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
            test_expect(&r, 202, NULL);
            test_resp_free(&r);
            continue;
        }
        snprintf(path, sizeof(path), "/api/v1/projects/%s%s", id, step == 0 ? "" : "/scenes");
        int64_t until = time_mono_usec() + 60 * 1000000LL;
        for (;;) {
            r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
            json_t *o = step == 0 ? r.json : json_array_get(json_object_get(r.json, "items"), 0);
            const char *st =
                json_string_value(json_object_get(o, step == 0 ? "status" : "audio_status"));
            if (st != NULL && strcmp(st, steps[step]) == 0)
                break;
            if (st != NULL && strcmp(st, "FAILED") == 0)
                fail_msg("the narration failed: %s", r.body);
            if (time_mono_usec() > until)
                fail_msg("never %s: %s", steps[step], r.body);
            test_resp_free(&r);
            struct timespec ts = {0, 25000000L};
            nanosleep(&ts, NULL);
        }
        if (step == 2)
            break;
        test_resp_free(&r);
    }
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    char ogg[200];
    const char *url = json_string_value(json_object_get(json_object_get(sc, "audio"), "ogg"));
    snprintf(ogg, sizeof(ogg), "%s", url ? url : "");
    const char *slash = strrchr(ogg, '/');
    char name[200];
    snprintf(name, sizeof(name), "%s", slash ? slash + 1 : ogg);
    test_resp_free(&r);
    job_pool_stop(pool, 5000);
    db_close(wdb);
    assert_non_null(strstr(name, ".ogg"));

    /* The object, as the bucket holds it, copied out and probed. */
    media_file f;
    if (media_store_open(w->api.svc.media, w->ana, id, name, &f, &e) != 0)
        fail_msg("open %s: %s", name, e.message);
    assert_true(f.size > 1000);
    char *d = malloc((size_t)f.size);
    assert_int_equal(pread(f.fd, d, (size_t)f.size, 0), (ssize_t)f.size);
    close(f.fd);
    assert_memory_equal(d, "OggS", 4);
    char copy[700];
    snprintf(copy, sizeof(copy), "%s/copy.ogg", w->dir);
    int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(write(fd, d, (size_t)f.size), (ssize_t)f.size);
    close(fd);
    free(d);
    const char *argv[] = {"/usr/bin/ffprobe",
                          "-v",
                          "error",
                          "-show_entries",
                          "stream=codec_name,sample_rate,channels",
                          "-of",
                          "default=nw=1",
                          copy,
                          NULL};
    char out[1024];
    assert_int_equal(test_run(argv, NULL, NULL, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "codec_name=opus\n"));
    assert_non_null(strstr(out, "sample_rate=48000\n"));
    assert_non_null(strstr(out, "channels=1\n"));
    /* Its WAV went up beside it; no temporary went up at all. */
    char wav[200];
    snprintf(wav, sizeof(wav), "%.*s.wav", (int)(strlen(name) - 4), name);
    assert_true(exists(w, id, wav));
    int hidden = 0;
    assert_int_equal(media_store_list(w->api.svc.media, w->ana, id, count_hidden, &hidden, &e), 0);
    assert_int_equal(hidden, 0);
    job_unregister_all();
}

/* The names of the project's objects, joined by spaces. */
static void join_name(const char *name, void *ctx)
{
    strncat(ctx, name, 4095 - strlen(ctx));
    strncat(ctx, " ", 4095 - strlen(ctx));
}

/* The width and height in the IHDR of the PNG object name, read through the store. */
static void png_size(world *w, const char *project_id, const char *name, uint32_t *pw, uint32_t *ph)
{
    media_file f;
    error e;
    if (media_store_open(w->api.svc.media, w->ana, project_id, name, &f, &e) != 0)
        fail_msg("open %s: %s", name, e.message);
    unsigned char head[24];
    assert_int_equal(pread(f.fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
    close(f.fd);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(head + 12, "IHDR", 4);
    *pw = (uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 | head[19];
    *ph = (uint32_t)head[20] << 24 | (uint32_t)head[21] << 16 | (uint32_t)head[22] << 8 | head[23];
}

/* Decision 160 on S3: an image model that answers the portrait and
 * refuses the landscape leaves no object of the generation in the bucket,
 * temporaries included; asked again, both PNGs go up, at their sizes. */
static void
test_an_image_whose_second_shape_fails_puts_no_object_and_a_retry_puts_both(void **state)
{
    world *w = *state;
    fake_image f;
    fake_image_start(&f);
    w->api.svc.image = (image_settings){.provider = "gemini",
                                        .timeout_ms = 10000,
                                        .gemini_base_url = f.s.base_url,
                                        .gemini_api_key = "AIza-test-s3-image-key",
                                        .gemini_model = "gemini-image-test"};
    job_unregister_all();
    job_unschedule_all();
    media_service_register_jobs(&w->api.svc);
    job_unschedule_all();
    char id[37], sid[37], path[200], names[4096];
    new_project(w, id);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", id);
    test_resp r = test_req(&w->api, "POST", path, w->tok,
                           "{\"visual_description\":\"A lighthouse in a storm\","
                           "\"narration\":\"The waves rise.\"}",
                           NULL);
    test_expect(&r, 201, NULL);
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
    for (int gen = 1; gen <= 2; gen++) {
        fake_server_lock(&f.s);
        fake_server_every(&f.s, gen == 1 ? 2 : 0, FAKE_IMAGE_REFUSED);
        fake_server_unlock(&f.s);
        r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
        test_expect(&r, 202, NULL);
        test_resp_free(&r);
        int calls = fake_server_calls(&f.s);
        error e;
        assert_int_equal(job_work_one(w->api.t.db, "test:s3", &e), 1);
        assert_int_equal(fake_server_calls(&f.s), calls + 2);
        char scenes[200];
        snprintf(scenes, sizeof(scenes), "/api/v1/projects/%s/scenes", id);
        r = test_req(&w->api, "GET", scenes, w->tok, NULL, NULL);
        test_expect(&r, 200, NULL);
        json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
        const char *status = json_string_value(json_object_get(sc, "image_status"));
        const char *why = json_string_value(json_object_get(sc, "image_error"));
        assert_string_equal(status, gen == 1 ? "FAILED" : "COMPLETED");
        if (gen == 1 && (why == NULL || strstr(why, "refused the prompt") == NULL))
            fail_msg("image_error is %s", r.body);
        test_resp_free(&r);
        names[0] = '\0';
        assert_int_equal(media_store_list(w->api.svc.media, w->ana, id, join_name, names, &e), 0);
        assert_null(strstr(names, "-i1"));   /* the failed generation: nothing */
        assert_null(strstr(names, ".tmp-")); /* no temporary went up */
        char land[120], port[120];
        snprintf(land, sizeof(land), "scene-%s-i%d.png", sid, gen);
        snprintf(port, sizeof(port), "scene-%s-i%d-portrait.png", sid, gen);
        r = get_media(w, w->tok, id, land, NULL);
        test_expect(&r, gen == 1 ? 404 : 200, NULL);
        test_resp_free(&r);
        r = get_media(w, w->tok, id, port, NULL);
        test_expect(&r, gen == 1 ? 404 : 200, NULL);
        test_resp_free(&r);
        if (gen == 2) {
            uint32_t pw, ph;
            png_size(w, id, land, &pw, &ph);
            assert_true(pw == 1920 && ph == 1080);
            png_size(w, id, port, &pw, &ph);
            assert_true(pw == 1080 && ph == 1920);
        }
    }
    job_unregister_all();
    fake_image_stop(&f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_files_are_served_from_the_bucket_with_ranges_and_etags),
        T(test_a_large_file_goes_up_in_parts_and_reads_back_whole),
        T(test_deleting_a_project_removes_its_objects_and_the_sweep_the_rest),
        T(test_a_wrong_secret_or_key_is_a_configuration_error_naming_it),
        T(test_an_unreachable_server_is_unavailable),
        T(test_settings_are_checked_when_the_store_opens),
        T(test_presigned_mode_redirects_to_a_url_the_server_accepts),
        T(test_a_scene_is_narrated_into_the_bucket_with_its_opus_whole),
        T(test_an_image_whose_second_shape_fails_puts_no_object_and_a_retry_puts_both),
    };
    return cmocka_run_group_tests(tests, s3_start, s3_stop);
}
