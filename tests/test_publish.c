/*
 * Publishing to YouTube (issue 16): a finished video goes up through the
 * resumable upload protocol to a fake upload server on loopback
 * (fake_upload.c) that speaks it as Google documents it and misbehaves as
 * networks do. What arrives is byte for byte the project's video, in
 * 256 KiB multiples, in one session and as one video whatever happens: a
 * connection dropped mid-chunk, a 503, an expired token, a worker killed
 * with -9 mid-upload. The metadata carries the audience and AI disclosures;
 * quota waits for its window; uploadLimitExceeded is reported, not retried;
 * every refusal is a problem naming what is missing; and another user's
 * project is a 404.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "fake_google.h"
#include "fake_upload.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/media_store.h"
#include "providers/youtube_upload.h"
#include "services/google_service.h"
#include "services/publish_service.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_ID     "pstudio-test.apps.googleusercontent.com"
#define CLIENT_SECRET "GOCSPX-test-client-secret-0123456789"
#define ALICE_1       "UCalice0000000000000001"
#define CHUNK         (256 * 1024)

typedef struct world {
    test_api api;
    fake_google *fg;
    fake_upload *fu;
    char key[64];
    char urls[8][256];
    char dir[256], media[300];
    char ana[128], ben[128];
    char ana_cookie[200];
    char ana_id[37];
    char account[37], channel[37], project[37];
    unsigned char *video; /* the project's video as written to the store */
    long long video_size;
} world;

/* Writes a short real MP4 (about a megabyte) and a PNG into the project's
 * media store, through a temporary as the renderer will. */
static void put_media(world *w, const char *project_id, bool thumbnail)
{
    media_temp t;
    error e;
    if (media_store_temp(w->api.svc.media, w->ana_id, project_id, PUBLISH_VIDEO_NAME, &t, &e) != 0)
        fail_msg("media_store_temp: %s", e.message);
    const char *const argv[] = {"/usr/bin/ffmpeg",
                                "-v",
                                "error",
                                "-y",
                                "-f",
                                "lavfi",
                                "-i",
                                "testsrc2=size=640x360:rate=25",
                                "-t",
                                "3",
                                "-c:v",
                                "mpeg4",
                                "-b:v",
                                "3M",
                                "-f",
                                "mp4",
                                t.path,
                                NULL};
    char out[4096];
    if (test_run(argv, NULL, NULL, out, sizeof(out)) != 0)
        fail_msg("ffmpeg: %s", out);
    if (media_store_commit(w->api.svc.media, &t, &e) != 0)
        fail_msg("media_store_commit: %s", e.message);
    /* What the render job records when it commits its files. */
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "UPDATE projects SET render_status = 'rendered', render_progress = 1000, "
                     "rendered_at = $1 WHERE id = $2",
                     "ts", time_now_usec(), project_id) != 0)
        fail_msg("marking the project rendered: %s", de.message);
    media_file f;
    assert_int_equal(
        media_store_open(w->api.svc.media, w->ana_id, project_id, PUBLISH_VIDEO_NAME, &f, &e), 0);
    free(w->video);
    w->video_size = f.size;
    w->video = malloc((size_t)f.size);
    assert_int_equal(pread(f.fd, w->video, (size_t)f.size, 0), f.size);
    close(f.fd);
    /* Several chunks, the last one short: chunking and the final range. */
    assert_true(w->video_size > 3 * CHUNK);
    if (!thumbnail)
        return;
    if (media_store_temp(w->api.svc.media, w->ana_id, project_id, PUBLISH_THUMBNAIL_NAME, &t, &e) !=
        0)
        fail_msg("media_store_temp: %s", e.message);
    const char *const png[] = {"/usr/bin/ffmpeg",
                               "-v",
                               "error",
                               "-y",
                               "-f",
                               "lavfi",
                               "-i",
                               "testsrc2=size=1280x720",
                               "-frames:v",
                               "1",
                               "-f",
                               "image2",
                               "-c:v",
                               "png",
                               t.path,
                               NULL};
    if (test_run(png, NULL, NULL, out, sizeof(out)) != 0)
        fail_msg("ffmpeg: %s", out);
    if (media_store_commit(w->api.svc.media, &t, &e) != 0)
        fail_msg("media_store_commit: %s", e.message);
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Connects ana's Google account (as the fake's "alice", with the scopes
 * publishing asks for) and imports her first channel. */
static void connect_and_import(world *w)
{
    const char *h[] = {w->ana_cookie, NULL};
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", NULL, NULL, h);
    test_expect(&r, 302, NULL);
    char url[4096];
    assert_true(test_resp_header(&r, "Location", url, sizeof(url)));
    test_resp_free(&r);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    assert_non_null(loc);
    char callback[4096];
    snprintf(callback, sizeof(callback), "%s", strstr(loc, "/api/"));
    curl_easy_cleanup(c);
    const char *h2[] = {w->ana_cookie, "Accept: application/json", NULL};
    r = test_req(&w->api, "GET", callback, NULL, NULL, h2);
    test_expect(&r, 200, NULL);
    snprintf(w->account, sizeof(w->account), "%s",
             json_string_value(json_object_get(json_object_get(r.json, "account"), "id")));
    test_resp_free(&r);
    char body[256];
    snprintf(body, sizeof(body), "{\"account_id\":\"%s\",\"youtube_channel_ids\":[\"%s\"]}",
             w->account, ALICE_1);
    r = test_req(&w->api, "POST", "/api/v1/channels/import", w->ana, body, NULL);
    test_expect(&r, 200, NULL);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    snprintf(w->channel, sizeof(w->channel), "%s", json_string_value(json_object_get(it, "id")));
    test_resp_free(&r);
    /* Importing queued an analytics backfill; these tests run only publish jobs. */
    testdb_exec(&w->api.t, "DELETE FROM jobs");
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    w->fg = fake_google_start(CLIENT_ID, CLIENT_SECRET);
    w->fu = fake_upload_start(w->fg);
    int fp = w->fg->port;
    snprintf(w->urls[0], sizeof(w->urls[0]), "http://127.0.0.1:%d/o/oauth2/v2/auth", fp);
    snprintf(w->urls[1], sizeof(w->urls[1]), "http://127.0.0.1:%d/token", fp);
    snprintf(w->urls[2], sizeof(w->urls[2]), "http://127.0.0.1:%d/v1/userinfo", fp);
    snprintf(w->urls[3], sizeof(w->urls[3]), "http://127.0.0.1:%d/revoke", fp);
    snprintf(w->urls[4], sizeof(w->urls[4]), "http://127.0.0.1:%d/youtube/v3", fp);
    snprintf(w->urls[5], sizeof(w->urls[5]), "http://127.0.0.1:%d/api/v1/google/callback",
             w->api.port);
    snprintf(w->urls[6], sizeof(w->urls[6]), "http://127.0.0.1:%d", fp);
    snprintf(w->urls[7], sizeof(w->urls[7]), "http://127.0.0.1:%d/upload", w->fu->port);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(w->key, sizeof(w->key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    google_settings *g = &w->api.svc.google;
    g->client_id = CLIENT_ID;
    g->client_secret = CLIENT_SECRET;
    g->auth_url = w->urls[0];
    g->token_url = w->urls[1];
    g->userinfo_url = w->urls[2];
    g->revoke_url = w->urls[3];
    g->youtube_api_url = w->urls[4];
    g->redirect_uri = w->urls[5];
    g->youtube_analytics_url = w->urls[6];
    g->youtube_upload_url = w->urls[7];
    g->upload_chunk_bytes = CHUNK;
    g->publishing = true;
    w->api.svc.secret_key_b64 = w->key;
    test_tmpdir(w->dir, sizeof(w->dir));
    snprintf(w->media, sizeof(w->media), "%s/media", w->dir);
    error e;
    w->api.svc.media = media_store_local(w->media, &e);
    if (w->api.svc.media == NULL)
        fail_msg("media_store_local: %s", e.message);
    test_signup(&w->api, "ana@example.com", w->ana);
    test_signup(&w->api, "ben@example.com", w->ben);
    snprintf(w->ana_cookie, sizeof(w->ana_cookie), "Cookie: pstudio_session=%s", w->ana);
    test_resp r = test_req(&w->api, "GET", "/api/v1/me", w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    snprintf(w->ana_id, sizeof(w->ana_id), "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    publish_service_register_jobs(&w->api.svc);
    google_service_register_jobs(&w->api.svc);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    job_unregister_all();
    job_unschedule_all();
    media_store_free(w->api.svc.media);
    test_api_stop(&w->api);
    fake_upload_stop(w->fu);
    fake_google_stop(w->fg);
    free(w->video);
    test_free(w);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static int64_t count(world *w, const char *sql)
{
    return testdb_scalar(&w->api.t, sql);
}

/* ana's project for her imported channel, with a finished video. */
static void ready_project(world *w, bool thumbnail)
{
    connect_and_import(w);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"topic\":\"Why is the sky blue?\",\"channel_id\":\"%s\",\"generate\":false}",
             w->channel);
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->ana, body, NULL);
    if (r.status != 201 && r.status != 202)
        test_expect(&r, 201, NULL);
    snprintf(w->project, sizeof(w->project), "%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"title\":\"Why the sky is blue\",\"description\":\"Rayleigh scattering, "
             "simply.\",\"tags\":[\"science\",\"sky\"]}");
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", w->project);
    r = test_req(&w->api, "PATCH", path, w->ana, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    put_media(w, w->project, thumbnail);
}

static test_resp publish(world *w, const char *token, const char *project, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/publish", project);
    return test_req(&w->api, "POST", path, token, body, NULL);
}

static json_t *get_publication(world *w)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/publish", w->project);
    test_resp r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *doc = json_incref(r.json);
    test_resp_free(&r);
    return doc;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void work_one(world *w)
{
    error e;
    int rc = job_work_one(w->api.t.db, "test:1", &e);
    if (rc != 1)
        fail_msg("expected a job to run (%d): %s", rc, rc < 0 ? e.message : "none runnable");
}

#define PUBLIC_BODY "{\"privacy_status\":\"public\",\"made_for_kids\":false}"

/* ana publishes her project publicly; the request is accepted. */
static void publish_ok(world *w)
{
    test_resp r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
}

/* A counter of the fake upload server, read under its lock. */
static int fake_count(world *w, const int *counter)
{
    fake_upload_lock(w->fu);
    int v = *counter;
    fake_upload_unlock(w->fu);
    return v;
}

/* Sets one of the fake's behaviour flags under its lock. */
static void fake_arm(world *w, bool *flag)
{
    fake_upload_lock(w->fu);
    *flag = true;
    fake_upload_unlock(w->fu);
}

/* Exactly one session and one video at the fake, holding the project's
 * video byte for byte. */
static void expect_one_video_of_the_file(world *w)
{
    fake_upload_lock(w->fu);
    int sessions = w->fu->nsessions, videos = w->fu->videos;
    bool same = sessions == 1 && w->fu->sessions[0].total == w->video_size &&
                w->fu->sessions[0].held == w->video_size &&
                memcmp(w->fu->sessions[0].data, w->video, (size_t)w->video_size) == 0;
    char bad[160];
    snprintf(bad, sizeof(bad), "%s", w->fu->bad);
    fake_upload_unlock(w->fu);
    if (bad[0])
        fail_msg("the fake refused a request: %s", bad);
    assert_int_equal(sessions, 1);
    assert_int_equal(videos, 1);
    assert_true(same);
    json_t *pb = get_publication(w);
    assert_string_equal(str(pb, "status"), "published");
    assert_string_equal(str(pb, "youtube_video_id"), "vid00000001");
    assert_string_equal(str(pb, "url"), "https://www.youtube.com/watch?v=vid00000001");
    assert_int_equal(json_integer_value(json_object_get(pb, "bytes_sent")), w->video_size);
    assert_int_equal(json_integer_value(json_object_get(pb, "bytes_total")), w->video_size);
    json_decref(pb);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_a_clean_upload_sends_the_video_in_256k_chunks_then_the_thumbnail(void **state)
{
    world *w = *state;
    ready_project(w, true);
    test_resp r =
        publish(w, w->ana, w->project, "{\"privacy_status\":\"unlisted\",\"made_for_kids\":false}");
    test_expect(&r, 202, NULL);
    assert_string_equal(str(r.json, "status"), "queued");
    assert_string_equal(str(r.json, "title"), "Why the sky is blue");
    assert_true(json_is_true(json_object_get(r.json, "contains_synthetic_media")));
    assert_null(json_object_get(r.json, "session_uri")); /* never shown */
    test_resp_free(&r);
    work_one(w);
    expect_one_video_of_the_file(w);
    fake_upload_lock(w->fu);
    int chunks = w->fu->chunks, queries = w->fu->queries, thumbs = w->fu->thumbnails;
    char thumb_video[16];
    snprintf(thumb_video, sizeof(thumb_video), "%s", w->fu->thumbnail_video);
    char type[sizeof(w->fu->sessions[0].content_type)];
    snprintf(type, sizeof(type), "%s", w->fu->sessions[0].content_type);
    fake_upload_unlock(w->fu);
    assert_int_equal(chunks, (int)((w->video_size + CHUNK - 1) / CHUNK));
    assert_int_equal(queries, 0);
    assert_int_equal(thumbs, 1);
    assert_string_equal(thumb_video, "vid00000001");
    assert_string_equal(type, "video/mp4");
    json_t *pb = get_publication(w);
    assert_string_equal(str(pb, "thumbnail_status"), "set");
    assert_true(json_is_null(json_object_get(pb, "error")));
    json_decref(pb);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish' AND "
                              "status = 'done'"),
                     1);
}

static void test_the_metadata_carries_the_audience_and_ai_disclosures(void **state)
{
    world *w = *state;
    ready_project(w, false);
    char body[512], when[TIME_STR_LEN + 1];
    time_format(time_now_usec() + (int64_t)3 * 86400 * 1000000, when);
    snprintf(body, sizeof(body),
             "{\"privacy_status\":\"private\",\"publish_at\":\"%s\",\"made_for_kids\":true,"
             "\"contains_synthetic_media\":false,\"title\":\"Sky, edited\",\"tags\":[\"a\"],"
             "\"category_id\":\"27\"}",
             when);
    test_resp r = publish(w, w->ana, w->project, body);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    work_one(w);
    expect_one_video_of_the_file(w);
    fake_upload_lock(w->fu);
    json_t *meta = json_loads(w->fu->sessions[0].metadata, 0, NULL);
    fake_upload_unlock(w->fu);
    assert_non_null(meta);
    json_t *st = json_object_get(meta, "status");
    json_t *sn = json_object_get(meta, "snippet");
    assert_true(json_is_true(json_object_get(st, "selfDeclaredMadeForKids")));
    assert_true(json_is_false(json_object_get(st, "containsSyntheticMedia")));
    assert_string_equal(str(st, "privacyStatus"), "private");
    int64_t at = 0, asked = 0;
    assert_true(time_parse(str(st, "publishAt"), &at));
    assert_true(time_parse(when, &asked));
    assert_true(at == asked);
    assert_string_equal(str(sn, "title"), "Sky, edited");
    assert_string_equal(str(sn, "description"), "Rayleigh scattering, simply.");
    assert_string_equal(json_string_value(json_array_get(json_object_get(sn, "tags"), 0)), "a");
    assert_int_equal(json_array_size(json_object_get(sn, "tags")), 1);
    assert_string_equal(str(sn, "categoryId"), "27");
    json_decref(meta);
    /* The default, and its reason: generated narration and imagery. */
    int thumbs = fake_count(w, &w->fu->thumbnails);
    assert_int_equal(thumbs, 0); /* no thumbnail.png: none sent */
    json_t *pb = get_publication(w);
    assert_string_equal(str(pb, "thumbnail_status"), "none");
    json_decref(pb);
}

static void test_a_connection_dropped_mid_chunk_resumes_from_the_sessions_offset(void **state)
{
    world *w = *state;
    ready_project(w, false);
    fake_arm(w, &w->fu->drop_next_chunk);
    publish_ok(w);
    work_one(w);
    expect_one_video_of_the_file(w);
    int queries = fake_count(w, &w->fu->queries);
    int chunks = fake_count(w, &w->fu->chunks);
    assert_int_equal(queries, 1);
    /* The cut chunk, then the rest from the session's offset (0: it kept no
     * whole unit of a 128 KiB half). */
    assert_int_equal(chunks, 1 + (int)((w->video_size + CHUNK - 1) / CHUNK));
}

static void test_a_dropped_connection_resumes_at_an_offset_inside_a_chunk(void **state)
{
    world *w = *state;
    w->api.svc.google.upload_chunk_bytes = 4 * CHUNK; /* half a chunk is two whole units */
    ready_project(w, false);
    fake_arm(w, &w->fu->drop_next_chunk);
    publish_ok(w);
    work_one(w);
    expect_one_video_of_the_file(w);
    int queries = fake_count(w, &w->fu->queries);
    assert_int_equal(queries, 1);
}

static void test_a_503_asks_the_session_and_resumes(void **state)
{
    world *w = *state;
    ready_project(w, false);
    fake_arm(w, &w->fu->fail_next_chunk);
    publish_ok(w);
    work_one(w);
    expect_one_video_of_the_file(w);
    int queries = fake_count(w, &w->fu->queries);
    assert_int_equal(queries, 1);
}

static void test_an_expired_access_token_is_refreshed_and_the_upload_goes_on(void **state)
{
    world *w = *state;
    ready_project(w, false);
    publish_ok(w);
    fake_google_expire_access_tokens(w->fg);
    fake_google_lock(w->fg);
    int before = w->fg->refreshes;
    fake_google_unlock(w->fg);
    work_one(w);
    expect_one_video_of_the_file(w);
    fake_google_lock(w->fg);
    int after = w->fg->refreshes;
    fake_google_unlock(w->fg);
    assert_int_equal(after, before + 1);
    int refused = fake_count(w, &w->fu->unauthorized);
    assert_int_equal(refused, 1);
}

/* Starts p, the worker subprocess: the test's database, media and fakes,
 * its output appended to log. */
static void spawn_worker(test_proc *p, world *w, const char *log)
{
    fake_google_settings google;
    char upload[300];
    const char *env[14];
    size_t n = fake_google_env(w->fg, w->urls[5], w->key, &google, env);
    snprintf(upload, sizeof(upload), "PSTUDIO_YOUTUBE_UPLOAD_URL=%s", w->urls[7]);
    env[n++] = "PSTUDIO_YOUTUBE_PUBLISHING=true";
    env[n++] = upload;
    env[n++] = "PSTUDIO_YOUTUBE_UPLOAD_CHUNK_KIB=256";
    env[n] = NULL;
    test_proc_opts o = {.db_url = w->api.t.url, .data_dir = w->dir, .log = log, .env = env};
    test_proc_start(p, "worker", &o);
}

static void test_a_worker_killed_mid_upload_is_resumed_into_one_video(void **state)
{
    world *w = *state;
    ready_project(w, false);
    fake_upload_lock(w->fu);
    w->fu->stall_at = 2 * CHUNK; /* the third chunk hangs until the worker is dead */
    fake_upload_unlock(w->fu);
    publish_ok(w);
    char log[320];
    snprintf(log, sizeof(log), "%s/worker.log", w->dir);
    test_proc worker;
    spawn_worker(&worker, w, log);
    bool stalled = false;
    int64_t until = time_mono_usec() + (int64_t)60 * 1000000;
    while (!stalled && time_mono_usec() < until) {
        fake_upload_lock(w->fu);
        stalled = w->fu->stalled;
        fake_upload_unlock(w->fu);
        if (!stalled)
            test_nap_ms(20);
    }
    test_proc_stop(&worker, SIGKILL, 30);
    if (!stalled)
        test_proc_print_log(&worker);
    assert_true(stalled);
    assert_true(WIFSIGNALED(worker.wstatus) && WTERMSIG(worker.wstatus) == SIGKILL);
    /* The session was stored before the first byte, and the progress of
     * each confirmed chunk. */
    assert_int_equal(count(w, "SELECT count(*) FROM project_publications WHERE session_uri IS "
                              "NOT NULL AND status = 'uploading'"),
                     1);
    assert_int_equal(count(w, "SELECT bytes_sent FROM project_publications"), 2 * CHUNK);

    /* Its lease runs out (we do not wait for it); the next attempt asks the
     * stored session where it stands and finishes it. */
    fake_upload_lock(w->fu);
    w->fu->stall_at = 0;
    fake_upload_unlock(w->fu);
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "UPDATE jobs SET lease_expires_at = $1 WHERE kind = 'youtube.publish'", "t",
                     time_now_usec() - 1000000) != 0)
        fail_msg("%s", de.message);
    work_one(w);
    expect_one_video_of_the_file(w);
    int starts = fake_count(w, &w->fu->starts);
    int queries = fake_count(w, &w->fu->queries);
    assert_int_equal(starts, 1);
    assert_int_equal(queries, 1);
    assert_int_equal(count(w, "SELECT attempts FROM jobs WHERE kind = 'youtube.publish'"), 2);
}

static void
test_a_retry_after_the_last_chunk_finds_the_video_instead_of_making_another(void **state)
{
    world *w = *state;
    ready_project(w, false);
    publish_ok(w);
    work_one(w);
    /* As if the worker died after YouTube made the video but before the
     * publication said so: the job runs again on the stored session. */
    testdb_exec(&w->api.t, "UPDATE project_publications SET status = 'uploading', "
                           "youtube_video_id = NULL, published_at = NULL");
    testdb_exec(&w->api.t, "UPDATE jobs SET status = 'queued', attempts = 1 WHERE kind = "
                           "'youtube.publish'");
    work_one(w);
    expect_one_video_of_the_file(w);
    int starts = fake_count(w, &w->fu->starts);
    assert_int_equal(starts, 1);
}

static void test_quota_exceeded_waits_for_the_next_pacific_midnight(void **state)
{
    world *w = *state;
    ready_project(w, false);
    fake_upload_lock(w->fu);
    w->fu->start_mode = 1;
    fake_upload_unlock(w->fu);
    publish_ok(w);
    work_one(w);
    json_t *pb = get_publication(w);
    assert_string_equal(str(pb, "status"), "waiting");
    assert_non_null(strstr(str(pb, "error"), "midnight Pacific"));
    json_decref(pb);
    int64_t reset = time_next_pacific_midnight(time_now_usec());
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish' AND "
                              "status = 'queued'"),
                     1);
    /* Queued again for no earlier than Google's reset. */
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "DELETE FROM jobs WHERE kind = 'youtube.publish' AND run_at >= $1", "t",
                     reset) != 0)
        fail_msg("%s", de.message);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish'"), 0);
    int sessions = fake_count(w, &w->fu->nsessions);
    assert_int_equal(sessions, 0);
}

static void test_upload_limit_exceeded_is_reported_and_not_retried(void **state)
{
    world *w = *state;
    ready_project(w, false);
    fake_upload_lock(w->fu);
    w->fu->start_mode = 2;
    fake_upload_unlock(w->fu);
    publish_ok(w);
    work_one(w);
    json_t *pb = get_publication(w);
    assert_string_equal(str(pb, "status"), "failed");
    assert_non_null(strstr(str(pb, "error"), "uploadLimitExceeded"));
    json_decref(pb);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish' AND "
                              "status = 'queued'"),
                     0);
    int starts = fake_count(w, &w->fu->starts);
    assert_int_equal(starts, 1);
    /* The user may ask again once the limit has passed. */
    fake_upload_lock(w->fu);
    w->fu->start_mode = 0;
    fake_upload_unlock(w->fu);
    test_resp r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    work_one(w);
    expect_one_video_of_the_file(w);
}

static void test_another_user_cannot_publish_or_read_a_publication(void **state)
{
    world *w = *state;
    ready_project(w, false);
    test_resp r = publish(w, w->ben, w->project, PUBLIC_BODY);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/publish", w->project);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish'"), 1);
}

static void test_bad_requests_are_problems_naming_what_is_wrong(void **state)
{
    world *w = *state;
    ready_project(w, false);
    static const struct {
        const char *body, *slug, *field;
    } bad[] = {
        {"{\"privacy_status\":\"public\"}", "invalid-request", "made_for_kids"},
        {"{\"made_for_kids\":false}", "invalid-request", "privacy_status"},
        {"{\"privacy_status\":\"secret\",\"made_for_kids\":false}", "invalid-request",
         "privacy_status"},
        {"{\"privacy_status\":\"public\",\"made_for_kids\":\"no\"}", "invalid-request",
         "made_for_kids"},
        {"{\"privacy_status\":\"public\",\"made_for_kids\":false,\"publish_at\":"
         "\"2030-01-01T00:00:00Z\"}",
         NULL, "publish_at"},
        {"{\"privacy_status\":\"private\",\"made_for_kids\":false,\"publish_at\":"
         "\"2001-01-01T00:00:00Z\"}",
         NULL, "publish_at"},
        {"{\"privacy_status\":\"public\",\"made_for_kids\":false,\"title\":\"a <b>\"}", NULL,
         "title"},
        {"{\"privacy_status\":\"public\",\"made_for_kids\":false,\"category_id\":\"x1\"}", NULL,
         "category_id"},
        {"{\"privacy_status\":\"public\",\"made_for_kids\":false,\"session_uri\":\"x\"}",
         "invalid-request", "session_uri"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_resp r = publish(w, w->ana, w->project, bad[i].body);
        if (r.status != 422)
            fail_msg("%s: %ld %s", bad[i].body, r.status, r.body);
        if (bad[i].slug != NULL)
            test_expect(&r, 422, bad[i].slug);
        assert_non_null(strstr(r.body, bad[i].field));
        test_resp_free(&r);
    }
    test_resp r = publish(w, w->ana, w->project, "not json");
    test_expect(&r, 400, "malformed-json");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM project_publications"), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs"), 0);

    /* Publishing off: the setting is named. */
    w->api.svc.google.publishing = false;
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 409, "publishing-disabled");
    assert_non_null(strstr(r.body, "PSTUDIO_YOUTUBE_PUBLISHING"));
    test_resp_free(&r);
    w->api.svc.google.publishing = true;

    /* A grant without youtube.upload: the scope is named. */
    testdb_exec(&w->api.t, "UPDATE accounts SET scopes = 'openid email "
                           "https://www.googleapis.com/auth/youtube.readonly'");
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 409, "google-scope-missing");
    assert_non_null(strstr(r.body, "youtube.upload"));
    test_resp_free(&r);

    /* No finished video yet. */
    char other[37];
    fixture_project(&w->api.t, w->ana_id, w->channel, NULL, other);
    testdb_exec(&w->api.t, "UPDATE accounts SET scopes = 'openid email "
                           "https://www.googleapis.com/auth/youtube.upload'");
    r = publish(w, w->ana, other, PUBLIC_BODY);
    test_expect(&r, 409, NULL);
    assert_non_null(strstr(r.body, "render_status"));
    test_resp_free(&r);
    /* A video whose scenes changed since it was rendered is not published. */
    testdb_exec(&w->api.t, "UPDATE projects SET render_status = 'stale'");
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 409, NULL);
    assert_non_null(strstr(r.body, "stale"));
    test_resp_free(&r);
    testdb_exec(&w->api.t, "UPDATE projects SET render_status = 'rendered' WHERE rendered_at "
                           "IS NOT NULL");

    /* Once on its way, not twice. */
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = publish(w, w->ana, w->project, PUBLIC_BODY);
    test_expect(&r, 409, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'youtube.publish'"), 1);
}

static void test_deleting_the_project_deletes_its_publication(void **state)
{
    world *w = *state;
    ready_project(w, false);
    publish_ok(w);
    work_one(w);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", w->project);
    test_resp r = test_req(&w->api, "DELETE", path, w->ana, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM project_publications"), 0);
}

/* Found by fuzz/youtube_upload.c: the last byte's index at INT64_MAX made
 * "last + 1" overflow (UBSan) instead of being refused as past the total. */
static void test_a_range_past_any_total_is_refused_without_overflow(void **state)
{
    (void)state;
    static const struct {
        const char *range;
        int rc;
        int64_t held;
    } cases[] = {
        {"bytes=0-9223372036854775807", -1, 0},
        {"bytes=0-99999999999999999999", -1, 0},
        {"bytes=0-999", -1, 0},
        {"bytes=0-998", 0, 999},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_client_resp resp;
        memset(&resp, 0, sizeof(resp));
        resp.status = 308;
        snprintf(resp.range, sizeof(resp.range), "%s", cases[i].range);
        youtube_upload_state out;
        google_status st = {0};
        error err;
        assert_int_equal(youtube_upload__answer(&resp, 999, &out, &st, &err), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(out.offset, cases[i].held);
        else
            assert_int_equal(st.fault, GOOGLE_REJECTED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_a_clean_upload_sends_the_video_in_256k_chunks_then_the_thumbnail),
        T(test_the_metadata_carries_the_audience_and_ai_disclosures),
        T(test_a_connection_dropped_mid_chunk_resumes_from_the_sessions_offset),
        T(test_a_dropped_connection_resumes_at_an_offset_inside_a_chunk),
        T(test_a_503_asks_the_session_and_resumes),
        T(test_an_expired_access_token_is_refreshed_and_the_upload_goes_on),
        T(test_a_worker_killed_mid_upload_is_resumed_into_one_video),
        T(test_a_retry_after_the_last_chunk_finds_the_video_instead_of_making_another),
        T(test_quota_exceeded_waits_for_the_next_pacific_midnight),
        T(test_upload_limit_exceeded_is_reported_and_not_retried),
        T(test_another_user_cannot_publish_or_read_a_publication),
        T(test_bad_requests_are_problems_naming_what_is_wrong),
        T(test_deleting_the_project_deletes_its_publication),
#undef T
        cmocka_unit_test(test_a_range_past_any_total_is_refused_without_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
