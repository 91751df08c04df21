/*
 * Scene narration end to end, on both engines: a scripted project asks
 * for its media (202), an in-test worker pool synthesises every scene with
 * espeak-ng and encodes it as Opus in process (libopusenc), and the files
 * are checked as a player would: the WAV's header and length, the Opus file
 * through ffprobe and decoded by ffmpeg to the WAV's length, word timings in
 * order and inside the audio, SRT and WebVTT well formed and equal to the
 * timings. Then: editing a narration makes its audio stale and a new one
 * replaces it; failures end FAILED with a reason (a missing or hanging
 * ffmpeg on the one narration path that still runs it, an HTTP narrator's
 * MP3 to decode); the media route serves ranges, ETags and types to the
 * owner and refuses every way out of the project's directory; deleting a
 * project (or its user) deletes its files, a deleted or replaced scene's
 * files go too; and a `pstudio worker` killed with -9 mid-decoding, or
 * mid-card, leaves nothing half-written visible, after which the job runs
 * again and finishes. The HTTP narrators (OpenAI-compatible and Google,
 * against tests/fake_tts.c) make the same files, Google's words timed by
 * its marks; a 429 is retried after its Retry-After, a refused key and a
 * malformed answer end FAILED with a reason that, like the logs, never
 * holds the key.
 */
#include "testlib.h"

#include "fake_image.h"
#include "fake_tts.h"

#include "base/log.h"
#include "base/subtitle.h"
#include "base/timeutil.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/media_store.h"
#include "providers/oggopus.h"
#include "services/media_service.h"
#include "services/script_service.h"

#include <arpa/inet.h>
#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAST   "2000-01-01T00:00:00.000000Z"
#define WAIT_S 60

typedef struct world {
    test_api api;
    db *wdb;
    job_pool *pool;
    char dir[256];   /* the data directory */
    char media[300]; /* <dir>/media */
    char tok[128], tok_b[128];
    char ana[40]; /* ana's user id */
} world;

static void start_pool(world *w)
{
    if (w->pool != NULL)
        return;
    error e;
    w->pool = job_pool_start(w->wdb, 2, "test:media", &e);
    if (w->pool == NULL)
        fail_msg("job_pool_start: %s", e.message);
}

static void stop_pool(world *w)
{
    if (w->pool != NULL)
        job_pool_stop(w->pool, 5000);
    w->pool = NULL;
}

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

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    job_unregister_all();
    job_unschedule_all();
    test_tmpdir(w->dir, sizeof(w->dir));
    snprintf(w->media, sizeof(w->media), "%s/media", w->dir);
    w->api.svc.data_dir = w->dir;
    error e;
    w->api.svc.media = media_store_local(w->media, &e);
    if (w->api.svc.media == NULL)
        fail_msg("media_store_local: %s", e.message);
    script_service_register_jobs(&w->api.svc);
    media_service_register_jobs(&w->api.svc);
    job_unschedule_all(); /* the hourly purge and sweep would only add noise */
    db_error de;
    w->wdb = db_open(w->api.t.url, 3, &de);
    if (w->wdb == NULL)
        fail_msg("db_open: %s", de.message);
    test_signup(&w->api, "ana@example.com", w->tok);
    test_signup(&w->api, "bob@example.com", w->tok_b);
    test_set_plan(&w->api, "ana@example.com", "pro");
    text_of(w, w->ana, sizeof(w->ana), "SELECT id FROM users WHERE email = 'ana@example.com'");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    stop_pool(w);
    db_close(w->wdb);
    media_store_free(w->api.svc.media);
    test_api_stop(&w->api);
    job_unregister_all();
    job_unschedule_all();
    test_free(w);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

#define TTS_OPENAI_KEY "sk-test-media-OPENAIKEY-0123456789"
#define TTS_GOOGLE_KEY "AIza-test-media-GOOGLEKEY-0123456"

static void use_fake_narrator(world *w, fake_tts *f, const char *provider)
{
    w->api.svc.tts = (tts_settings){.provider = provider,
                                    .timeout_ms = 10000,
                                    .openai_base_url = f->s.base_url,
                                    .openai_api_key = TTS_OPENAI_KEY,
                                    .openai_model = "tts-1",
                                    .openai_voice = "alloy",
                                    .google_base_url = f->s.base_url,
                                    .google_api_key = TTS_GOOGLE_KEY};
}

/* A tone of ms as MP3 (libmp3lame), as an OpenAI-compatible server that
 * ignores response_format answers; its bytes (malloc'd). */
static char *mp3_tone(world *w, int ms, size_t *len)
{
    char path[400], src[96];
    snprintf(path, sizeof(path), "%s/tone.mp3", w->dir);
    snprintf(src, sizeof(src), "sine=frequency=330:sample_rate=24000:duration=%d.%03d", ms / 1000,
             ms % 1000);
    const char *argv[] = {
        "/usr/bin/ffmpeg", "-nostdin", "-v",  "error", "-y",  "-f", "lavfi", "-i", src, "-c:a",
        "libmp3lame",      "-b:a",     "64k", "-f",    "mp3", path, NULL};
    char out[2048];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffmpeg making an MP3: %d: %s", rc, out);
    char *d = test_slurp(path, len);
    assert_non_null(d);
    unlink(path);
    return d;
}

/* The OpenAI-compatible fake answering every call with mp3 (len bytes), so
 * the narration job decodes it with the ffmpeg program (decision 107): the
 * job of the narration that still runs ffmpeg since decision 133. */
static void use_mp3_narrator(world *w, fake_tts *f, const char *mp3, size_t len)
{
    use_fake_narrator(w, f, "openai");
    fake_server_lock(&f->s);
    f->compressed = mp3;
    f->compressed_len = len;
    f->compressed_type = "audio/mpeg";
    f->s.mode = FAKE_TTS_COMPRESSED;
    fake_server_unlock(&f->s);
}

/* A project written by the offline writer in language with n scenes; its id into id. */
static void scripted_project(world *w, const char *language, int n, char id[37])
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"topic\":\"Why is the sky blue?\",\"language\":\"%s\",\"target_scenes\":%d}",
             language, n);
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, NULL);
    test_expect(&r, 202, NULL);
    snprintf(id, 37, "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    start_pool(w);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
        const char *st = json_string_value(json_object_get(r.json, "status"));
        bool done = st != NULL && strcmp(st, "scripted") == 0;
        if (!done && time_mono_usec() > until)
            fail_msg("project %s never scripted: %s", id, r.body);
        test_resp_free(&r);
        if (done)
            return;
        test_nap_ms(25);
    }
}

/* GET /api/v1/projects/{id}<tail> as the owner, 200. */
static test_resp project_get(world *w, const char *id, const char *tail)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/projects/%s%s", id, tail);
    test_resp r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    return r;
}

static test_resp scenes_of(world *w, const char *id)
{
    return project_get(w, id, "/scenes");
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* Polls the scenes until every one's audio_status is want; returns them. */
static test_resp wait_audio(world *w, const char *id, const char *want)
{
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = scenes_of(w, id);
        json_t *items = json_object_get(r.json, "items");
        bool all = json_array_size(items) > 0;
        for (size_t i = 0; i < json_array_size(items); i++)
            all = all && strcmp(str(json_array_get(items, i), "audio_status"), want) == 0;
        if (all)
            return r;
        if (time_mono_usec() > until)
            fail_msg("the scenes of %s never all reached %s: %s", id, want, r.body);
        test_resp_free(&r);
        test_nap_ms(25);
    }
}

static test_resp ask_media(world *w, const char *id, long want)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media", id);
    test_resp r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, want, NULL);
    return r;
}

static void media_path(world *w, const char *project_id, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/%s/%s", w->media, w->ana, project_id, name);
}

/* The stem of a scene's audio files, from its audio_path. */
static void stem_of(json_t *sc, char *out, size_t n)
{
    const char *p = json_string_value(json_object_get(sc, "audio_path"));
    if (p == NULL) { /* the API shows URLs; the stem is the last segment less .ogg */
        const char *url = json_string_value(json_object_get(json_object_get(sc, "audio"), "ogg"));
        assert_non_null(url);
        p = strrchr(url, '/') + 1;
    }
    snprintf(out, n, "%.*s", (int)(strlen(p) - 4), p);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks a PCM WAV file's header against its size; its length in ms. */
static int64_t wav_ms(const char *path)
{
    size_t len;
    unsigned char *d = (unsigned char *)test_slurp(path, &len);
    if (d == NULL)
        fail_msg("no WAV at %s", path);
    assert_true(len > WAV_HEADER_LEN);
    assert_memory_equal(d, "RIFF", 4);
    assert_memory_equal(d + 8, "WAVEfmt ", 8);
    assert_int_equal(d[20] | d[21] << 8, 1);  /* PCM */
    assert_int_equal(d[22] | d[23] << 8, 1);  /* mono */
    assert_int_equal(d[34] | d[35] << 8, 16); /* bits */
    uint32_t rate = le32(d + 24), data = le32(d + 40);
    assert_memory_equal(d + 36, "data", 4);
    assert_int_equal(le32(d + 4), len - 8);
    assert_int_equal(data, len - WAV_HEADER_LEN);
    assert_true(rate >= 8000);
    free(d);
    return (int64_t)data / 2 * 1000 / rate;
}

/* ffprobe's view of a file: its format name and duration in ms. */
static int64_t probe_ms(const char *path, const char *want_format, const char *want_codec)
{
    const char *argv[] = {"/usr/bin/ffprobe",
                          "-v",
                          "error",
                          "-show_entries",
                          "format=format_name,duration:stream=codec_name",
                          "-of",
                          "default=nw=1",
                          path,
                          NULL};
    char out[2048];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffprobe %s: %d: %s", path, rc, out);
    char fmt[64];
    snprintf(fmt, sizeof(fmt), "format_name=%s", want_format);
    if (strstr(out, fmt) == NULL)
        fail_msg("%s is not %s: %s", path, want_format, out);
    snprintf(fmt, sizeof(fmt), "codec_name=%s", want_codec);
    if (strstr(out, fmt) == NULL)
        fail_msg("%s is not %s: %s", path, want_codec, out);
    const char *d = strstr(out, "duration=");
    assert_non_null(d);
    return (int64_t)(strtod(d + 9, NULL) * 1000.0 + 0.5);
}

/* An Ogg Opus file as a player sees it: one mono Opus stream at 48 kHz,
 * as Opus always decodes (ffprobe), whose decoding lasts the WAV's ms to
 * within 2 ms (the resampled length rounds up to a whole 48 kHz sample).
 * The length is counted from the decoded samples: ffprobe's duration of an
 * Ogg Opus file includes the pre-skip (6.5 ms), which a player drops. */
static void check_opus(const char *path, int64_t wav_ms_)
{
    const char *argv[] = {"/usr/bin/ffprobe",
                          "-v",
                          "error",
                          "-show_entries",
                          "format=format_name:stream=codec_name,sample_rate,channels",
                          "-of",
                          "default=nw=1",
                          path,
                          NULL};
    char out[2048];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffprobe %s: %d: %s", path, rc, out);
    const char *want[] = {"format_name=ogg\n", "codec_name=opus\n", "sample_rate=48000\n",
                          "channels=1\n", NULL};
    for (int i = 0; want[i]; i++)
        if (strstr(out, want[i]) == NULL)
            fail_msg("%s: no %s in %s", path, want[i], out);
    const char *tmp = getenv("TMPDIR");
    char raw[300];
    snprintf(raw, sizeof(raw), "%s/pstudio-opus-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(raw);
    assert_true(fd >= 0);
    close(fd);
    const char *decode[] = {"/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-y", "-i", path, "-f",
                            "s16le",           raw,        NULL};
    rc = test_run(decode, NULL, NULL, out, sizeof(out));
    struct stat st;
    int st_rc = stat(raw, &st);
    unlink(raw);
    if (rc != 0 || st_rc != 0)
        fail_msg("decoding %s: %d: %s", path, rc, out);
    int64_t ms = (int64_t)st.st_size / 2 * 1000 / 48000;
    if (llabs(ms - wav_ms_) > 2)
        fail_msg("%s decodes to %lld ms, its WAV lasts %lld ms", path, (long long)ms,
                 (long long)wav_ms_);
}

/* "HH:MM:SS,mmm" (sep ',' or '.') to ms; -1 when malformed. */
static int64_t cue_time(const char *s, char sep)
{
    int h, m, sec, ms;
    char c1, c2, c3;
    if (sscanf(s, "%2d%c%2d%c%2d%c%3d", &h, &c1, &m, &c2, &sec, &c3, &ms) != 7 || c1 != ':' ||
        c2 != ':' || c3 != sep || m > 59 || sec > 59)
        return -1;
    return ((int64_t)h * 3600 + m * 60 + sec) * 1000 + ms;
}

/* Checks subtitle text (SRT or WebVTT) cue by cue against the timings' cues. */
static void check_subtitles(const char *text, bool vtt, json_t *cues, int64_t duration_ms)
{
    const char *p = text;
    char sep = vtt ? '.' : ',';
    if (vtt) {
        assert_true(strncmp(p, "WEBVTT\n\n", 8) == 0);
        p += 8;
    }
    size_t n = json_array_size(cues);
    assert_true(n >= 1);
    int64_t prev = -1;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(cues, i);
        if (!vtt) {
            char num[24];
            snprintf(num, sizeof(num), "%zu\n", i + 1);
            assert_true(strncmp(p, num, strlen(num)) == 0);
            p += strlen(num);
        }
        int64_t a = cue_time(p, sep);
        assert_true(strncmp(p + 12, " --> ", 5) == 0);
        int64_t b = cue_time(p + 17, sep);
        assert_true(a >= 0 && b > a);
        assert_true(a >= prev);
        assert_true(b <= duration_ms);
        assert_int_equal(a, json_integer_value(json_object_get(c, "start_ms")));
        assert_int_equal(b, json_integer_value(json_object_get(c, "end_ms")));
        prev = a;
        p += 29;
        assert_int_equal(*p++, '\n');
        const char *end = strchr(p, '\n');
        assert_non_null(end);
        assert_true(end > p); /* a cue has text */
        assert_true(strncmp(p, str(c, "text"), (size_t)(end - p)) == 0);
        assert_true(strstr(p, "-->") == NULL || strstr(p, "-->") > end);
        p = end + 1;
        assert_int_equal(*p++, '\n');
    }
    assert_int_equal(*p, '\0');
}

/* Every file of a scene's narration, checked against each other. */
static void check_scene_files(world *w, const char *project_id, json_t *sc)
{
    char stem[160], path[600];
    stem_of(sc, stem, sizeof(stem));
    int64_t duration = json_integer_value(json_object_get(sc, "duration_ms"));
    assert_true(duration > 500);

    snprintf(path, sizeof(path), "%s/%s/%s/%s.wav", w->media, w->ana, project_id, stem);
    int64_t wav = wav_ms(path);
    assert_true(llabs(wav - duration) <= 1);
    assert_true(llabs(probe_ms(path, "wav", "pcm_s16le") - duration) <= 20);
    snprintf(path, sizeof(path), "%s/%s/%s/%s.ogg", w->media, w->ana, project_id, stem);
    check_opus(path, wav);

    snprintf(path, sizeof(path), "%s/%s/%s/%s.json", w->media, w->ana, project_id, stem);
    size_t len;
    char *text = test_slurp(path, &len);
    assert_non_null(text);
    json_error_t je;
    json_t *t = json_loads(text, 0, &je);
    free(text);
    assert_non_null(t);
    assert_int_equal(json_integer_value(json_object_get(t, "duration_ms")), duration);
    json_t *words = json_object_get(t, "words");
    assert_true(json_array_size(words) >= 3);
    int64_t prev = 0;
    for (size_t i = 0; i < json_array_size(words); i++) {
        json_t *wd = json_array_get(words, i);
        int64_t at = json_integer_value(json_object_get(wd, "start_ms"));
        assert_true(at >= prev);
        assert_true(at < duration);
        assert_true(strlen(str(wd, "text")) > 0);
        assert_non_null(strstr(str(sc, "narration"), str(wd, "text")));
        prev = at;
    }
    json_t *cues = json_object_get(t, "cues");
    snprintf(path, sizeof(path), "%s/%s/%s/%s.srt", w->media, w->ana, project_id, stem);
    text = test_slurp(path, &len);
    assert_non_null(text);
    check_subtitles(text, false, cues, duration);
    free(text);
    snprintf(path, sizeof(path), "%s/%s/%s/%s.vtt", w->media, w->ana, project_id, stem);
    text = test_slurp(path, &len);
    assert_non_null(text);
    check_subtitles(text, true, cues, duration);
    free(text);
    json_decref(t);
}

/* The names in the project's directory, joined by spaces ("" when none). */
/* The listing without the names ending in skip_ext (NULL: none skipped). */
static void listing_but(world *w, const char *project_id, const char *skip_ext, char *out, size_t n)
{
    char path[600];
    media_path(w, project_id, "", path, sizeof(path));
    out[0] = '\0';
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            size_t len = strlen(de->d_name);
            if (skip_ext != NULL && len >= strlen(skip_ext) &&
                strcmp(de->d_name + len - strlen(skip_ext), skip_ext) == 0)
                continue;
            strncat(out, de->d_name, n - strlen(out) - 1);
            strncat(out, " ", n - strlen(out) - 1);
        }
    closedir(d);
}

/* ---- narration ----------------------------------------------------------------------------- */

static void test_every_scene_is_narrated_as_wav_opus_timings_and_subtitles(void **state)
{
    world *w = *state;
    const char *languages[] = {"pt-BR", "en-US"};
    for (int l = 0; l < 2; l++) {
        char id[37];
        scripted_project(w, languages[l], 3, id);
        test_resp r = ask_media(w, id, 202);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 3);
        for (size_t i = 0; i < 3; i++) /* queued, or already taken by the pool */
            assert_true(strcmp(str(json_array_get(items, i), "audio_status"), "COMPLETED") != 0);
        test_resp_free(&r);
        r = wait_audio(w, id, "COMPLETED");
        items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *sc = json_array_get(items, i);
            assert_true(json_is_null(json_object_get(sc, "audio_error")));
            check_scene_files(w, id, sc);
        }
        /* The voice speaks the project's language. */
        char stem[160], path[600];
        stem_of(json_array_get(items, 0), stem, sizeof(stem));
        snprintf(path, sizeof(path), "%s/%s/%s/%s.json", w->media, w->ana, id, stem);
        size_t len;
        char *text = test_slurp(path, &len);
        assert_non_null(strstr(text, l == 0 ? "\"voice\":\"pt-br\"" : "\"voice\":\"en-us\""));
        free(text);
        test_resp_free(&r);
        /* Asking again queues nothing: every scene is done. */
        r = ask_media(w, id, 202);
        items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++)
            assert_string_equal(str(json_array_get(items, i), "audio_status"), "COMPLETED");
        test_resp_free(&r);
    }
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = "
                                              "'media.audio'"),
                     6);
}

static void test_a_project_without_scenes_cannot_ask_for_media(void **state)
{
    world *w = *state;
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->tok,
                           "{\"topic\":\"Empty\",\"generate\":false}", NULL);
    test_expect(&r, 201, NULL);
    char id[37];
    snprintf(id, sizeof(id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    r = ask_media(w, id, 409);
    assert_string_equal(str(r.json, "field"), "scenes");
    test_resp_free(&r);
}

static void test_editing_a_narration_makes_its_audio_stale_and_it_is_made_again(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en-US", 2, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_audio(w, id, "COMPLETED");
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    char sid[37], old_stem[160];
    snprintf(sid, sizeof(sid), "%s", str(first, "id"));
    stem_of(first, old_stem, sizeof(old_stem));
    assert_non_null(strstr(old_stem, "-a1"));
    test_resp_free(&r);

    /* A new picture leaves the audio alone. */
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id, sid);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"visual_description\":\"A new picture\"}",
                 NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(r.json, "audio_status"), "COMPLETED");
    test_resp_free(&r);

    /* New words make it stale at once, and it is made again. */
    r = test_req(&w->api, "PATCH", path, w->tok,
                 "{\"narration\":\"Light scatters. Blue light scatters the most, so the sky "
                 "looks blue.\"}",
                 NULL);
    test_expect(&r, 200, NULL);
    assert_true(strcmp(str(r.json, "audio_status"), "COMPLETED") != 0);
    test_resp_free(&r);
    r = wait_audio(w, id, "COMPLETED");
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    char stem[160];
    stem_of(sc, stem, sizeof(stem));
    assert_non_null(strstr(stem, "-a2"));
    check_scene_files(w, id, sc);
    test_resp_free(&r);
    /* The stale files are gone. */
    char file[600], name[200];
    snprintf(name, sizeof(name), "%s.ogg", old_stem);
    media_path(w, id, name, file, sizeof(file));
    assert_int_equal(access(file, F_OK), -1);

    /* One scene's audio, asked for again. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/audio", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(r.json, "id"), sid);
    assert_true(json_is_null(json_object_get(r.json, "audio")) ||
                strcmp(str(r.json, "audio_status"), "COMPLETED") != 0);
    test_resp_free(&r);
    r = wait_audio(w, id, "COMPLETED");
    stem_of(json_array_get(json_object_get(r.json, "items"), 0), stem, sizeof(stem));
    assert_non_null(strstr(stem, "-a3"));
    test_resp_free(&r);
}

static void test_failures_end_failed_with_a_reason_and_can_be_asked_again(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en-US", 1, id);
    /* A language espeak-ng does not speak can never succeed. */
    exec(w, "UPDATE projects SET language = 'zz' WHERE id = '%s'", id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_audio(w, id, "FAILED");
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(str(sc, "audio_error"), "no voice for the language \"zz\""));
    assert_true(json_is_null(json_object_get(sc, "audio")));
    test_resp_free(&r);

    /* ffmpeg missing where narration still needs it (an HTTP narrator's
     * MP3 to decode): a configuration fault, said as such, at once. */
    fake_tts f;
    fake_tts_start(&f);
    size_t mp3_len;
    char *mp3 = mp3_tone(w, 3000, &mp3_len);
    use_mp3_narrator(w, &f, mp3, mp3_len);
    w->api.svc.tts.ffmpeg = "/nonexistent/ffmpeg";
    exec(w, "UPDATE projects SET language = 'en-US' WHERE id = '%s'", id);
    r = ask_media(w, id, 202); /* FAILED scenes are asked for again */
    assert_string_equal(str(json_array_get(json_object_get(r.json, "items"), 0), "audio_status"),
                        "PENDING");
    test_resp_free(&r);
    r = wait_audio(w, id, "FAILED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(str(sc, "audio_error"), "PSTUDIO_FFMPEG"));
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT max(attempts) FROM jobs WHERE kind = "
                                              "'media.audio'"),
                     1);
    char names[2048];
    /* The scene's image job may be writing its card meanwhile: its files are not ours. */
    listing_but(w, id, ".png", names, sizeof(names));
    assert_null(strstr(names, ".ogg ")); /* nothing visible; no temporary left either */
    assert_null(strstr(names, ".tmp-"));

    w->api.svc.tts.ffmpeg = "ffmpeg";
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    r = wait_audio(w, id, "COMPLETED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    /* The MP3's three seconds, give or take its encoder's padding. */
    int64_t ms = json_integer_value(json_object_get(sc, "duration_ms"));
    if (ms < 2950 || ms > 3150)
        fail_msg("the decoded narration lasts %lld ms", (long long)ms);
    check_scene_files(w, id, sc);
    test_resp_free(&r);
    stop_pool(w);
    fake_tts_stop(&f);
    free(mp3);
}

/* An ffmpeg that never ends, on the narration job's one ffmpeg run left
 * (decoding an HTTP narrator's MP3): killed at the media timeout, and the
 * attempt retried with nothing of it left behind. */
static void test_an_ffmpeg_that_hangs_is_killed_and_the_attempt_retried(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en-US", 1, id);
    fake_tts f;
    fake_tts_start(&f);
    size_t mp3_len;
    char *mp3 = mp3_tone(w, 3000, &mp3_len);
    use_mp3_narrator(w, &f, mp3, mp3_len);
    char script[400];
    snprintf(script, sizeof(script), "%s/hang.sh", w->dir);
    FILE *fp = fopen(script, "w");
    fputs("#!/bin/sh\nexec sleep 30\n", fp);
    fclose(fp);
    chmod(script, 0700);
    w->api.svc.tts.ffmpeg = script;
    w->api.svc.tts.ffmpeg_timeout_ms = 300;
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = 'media.audio' AND "
                                    "attempts >= 1 AND status = 'queued'") == 0) {
        if (time_mono_usec() > until)
            fail_msg("the hanging attempt was never given up");
        test_nap_ms(25);
    }
    stop_pool(w);
    char last_error[600];
    text_of(w, last_error, sizeof(last_error),
            "SELECT last_error FROM jobs WHERE kind = 'media.audio'");
    assert_non_null(strstr(last_error, "did not finish within 300 ms"));
    test_resp r = scenes_of(w, id);
    assert_string_equal(str(json_array_get(json_object_get(r.json, "items"), 0), "audio_status"),
                        "PENDING");
    test_resp_free(&r);
    char names[2048];
    /* Nothing of the narration; the scene's image (no ffmpeg) is whole. */
    listing_but(w, id, ".png", names, sizeof(names));
    assert_string_equal(names, "");
    fake_tts_stop(&f);
    free(mp3);
}

static void test_the_personas_rate_and_pitch_reach_the_narrator(void **state)
{
    world *w = *state;
    /* Out of espeak-ng's range: refused before anything is stored. */
    const char *bad[] = {"\"voice_rate\":79", "\"voice_rate\":451", "\"voice_pitch\":101",
                         "\"voice_pitch\":-2", NULL};
    for (int i = 0; bad[i]; i++) {
        char body[300];
        snprintf(body, sizeof(body),
                 "{\"name\":\"Slow\",\"system_instruction\":\"Explain.\",\"language\":"
                 "\"en-US\",%s}",
                 bad[i]);
        test_resp r = test_req(&w->api, "POST", "/api/v1/personas", w->tok, body, NULL);
        test_expect(&r, 422, NULL);
        test_resp_free(&r);
    }
    test_resp r = test_req(&w->api, "POST", "/api/v1/personas", w->tok,
                           "{\"name\":\"Slow\",\"system_instruction\":\"Explain.\","
                           "\"language\":\"en-US\",\"voice_rate\":90,\"voice_pitch\":20}",
                           NULL);
    test_expect(&r, 201, NULL);
    char persona[37];
    snprintf(persona, sizeof(persona), "%s", str(r.json, "id"));
    assert_int_equal(json_integer_value(json_object_get(r.json, "voice_rate")), 90);
    assert_int_equal(json_integer_value(json_object_get(r.json, "voice_pitch")), 20);
    test_resp_free(&r);

    char body[300], id[37];
    snprintf(body, sizeof(body), "{\"topic\":\"Tides\",\"persona_id\":\"%s\",\"target_scenes\":1}",
             persona);
    r = test_req(&w->api, "POST", "/api/v1/projects", w->tok, body, NULL);
    test_expect(&r, 202, NULL);
    snprintf(id, sizeof(id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    start_pool(w);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (testdb_scalar(&w->api.t, "SELECT count(*) FROM projects WHERE status = 'scripted'") ==
           0) {
        if (time_mono_usec() > until)
            fail_msg("never scripted");
        test_nap_ms(25);
    }
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    r = wait_audio(w, id, "COMPLETED");
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    int64_t slow = json_integer_value(json_object_get(sc, "duration_ms"));
    char sid[37], path[200];
    snprintf(sid, sizeof(sid), "%s", str(sc, "id"));
    test_resp_free(&r);

    /* The same words at 300 words a minute take about 90/300 of the time. */
    snprintf(path, sizeof(path), "/api/v1/personas/%s", persona);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"voice_rate\":300}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/audio", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_audio(w, id, "COMPLETED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    char stem[160];
    stem_of(sc, stem, sizeof(stem));
    assert_non_null(strstr(stem, "-a2"));
    int64_t fast = json_integer_value(json_object_get(sc, "duration_ms"));
    check_scene_files(w, id, sc);
    test_resp_free(&r);
    assert_true(fast * 2 < slow);
}

/* ---- the media route ------------------------------------------------------------------------ */

/* A project with one narrated scene; its id and the stem of its files. */
static void narrated(world *w, char id[37], char *stem, size_t n)
{
    scripted_project(w, "en-US", 1, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_audio(w, id, "COMPLETED");
    stem_of(json_array_get(json_object_get(r.json, "items"), 0), stem, n);
    test_resp_free(&r);
}

static test_resp get_media(world *w, const char *tok, const char *id, const char *name,
                           const char *const *headers)
{
    char path[400];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media/%s", id, name);
    return test_req(&w->api, "GET", path, tok, NULL, headers);
}

static void test_media_are_served_with_ranges_etags_and_types(void **state)
{
    world *w = *state;
    char id[37], stem[160], name[200], file[600], h[200];
    narrated(w, id, stem, sizeof(stem));
    snprintf(name, sizeof(name), "%s.srt", stem);
    media_path(w, id, name, file, sizeof(file));
    size_t size;
    char *whole = test_slurp(file, &size);
    assert_true(size > 40);

    test_resp r = get_media(w, w->tok, id, name, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(r.body, whole);
    assert_true(test_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/x-subrip");
    assert_true(test_resp_header(&r, "Accept-Ranges", h, sizeof(h)));
    assert_string_equal(h, "bytes");
    char etag[100];
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_int_equal(etag[0], '"');
    test_resp_free(&r);

    /* If-None-Match with the tag: 304, no body; another tag: the file. */
    char inm[160];
    snprintf(inm, sizeof(inm), "If-None-Match: \"x\", %s", etag);
    r = get_media(w, w->tok, id, name, (const char *const[]){inm, NULL});
    test_expect(&r, 304, NULL);
    assert_string_equal(r.body, "");
    test_resp_free(&r);
    r = get_media(w, w->tok, id, name, (const char *const[]){"If-None-Match: \"other\"", NULL});
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    /* Single ranges: 206 with the bytes and their Content-Range. */
    struct {
        const char *range;
        size_t from, len;
    } cases[] = {{"bytes=0-9", 0, 10},
                 {"bytes=5-", 5, size - 5},
                 {"bytes=-7", size - 7, 7},
                 {"bytes=3-100000", 3, size - 3}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char hdr[64], want[64];
        snprintf(hdr, sizeof(hdr), "Range: %s", cases[i].range);
        r = get_media(w, w->tok, id, name, (const char *const[]){hdr, NULL});
        test_expect(&r, 206, NULL);
        assert_int_equal(strlen(r.body), cases[i].len);
        assert_memory_equal(r.body, whole + cases[i].from, cases[i].len);
        assert_true(test_resp_header(&r, "Content-Range", h, sizeof(h)));
        snprintf(want, sizeof(want), "bytes %zu-%zu/%zu", cases[i].from,
                 cases[i].from + cases[i].len - 1, size);
        assert_string_equal(h, want);
        test_resp_free(&r);
    }
    /* Past the end: 416 saying the size. */
    char hdr[64], want[64];
    snprintf(hdr, sizeof(hdr), "Range: bytes=%zu-", size);
    r = get_media(w, w->tok, id, name, (const char *const[]){hdr, NULL});
    test_expect(&r, 416, "range-not-satisfiable");
    assert_true(test_resp_header(&r, "Content-Range", h, sizeof(h)));
    snprintf(want, sizeof(want), "bytes */%zu", size);
    assert_string_equal(h, want);
    test_resp_free(&r);
    /* Several ranges, or a stale If-Range: the whole file. */
    r = get_media(w, w->tok, id, name, (const char *const[]){"Range: bytes=0-1,4-5", NULL});
    test_expect(&r, 200, NULL);
    assert_string_equal(r.body, whole);
    test_resp_free(&r);
    r = get_media(w, w->tok, id, name,
                  (const char *const[]){"Range: bytes=0-1", "If-Range: \"stale\"", NULL});
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    free(whole);

    /* The other files, with their types and whole lengths. */
    const char *types[][2] = {{".ogg", "audio/ogg"},
                              {".wav", "audio/wav"},
                              {".vtt", "text/vtt; charset=utf-8"},
                              {".json", "application/json"}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "%s%s", stem, types[i][0]);
        media_path(w, id, name, file, sizeof(file));
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        r = get_media(w, w->tok, id, name, NULL);
        test_expect(&r, 200, NULL);
        assert_true(test_resp_header(&r, "Content-Type", h, sizeof(h)));
        assert_string_equal(h, types[i][1]);
        assert_true(test_resp_header(&r, "Content-Length", h, sizeof(h)));
        assert_int_equal(strtoll(h, NULL, 10), st.st_size);
        test_resp_free(&r);
    }
    /* Another user: 404, as if there were nothing; no name: 404 too. */
    snprintf(name, sizeof(name), "%s.ogg", stem);
    r = get_media(w, w->tok_b, id, name, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = get_media(w, w->tok, id, "scene-none.ogg", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

/* GET path sent byte for byte over a socket (curl would normalize its dot
 * segments); the whole answer, malloc'd. */
static char *raw_get(world *w, const char *path, const char *tok)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)w->api.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n",
                     path, tok);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    ssize_t got;
    while (len + 1 < cap && (got = read(fd, out + len, cap - len - 1)) > 0)
        len += (size_t)got;
    close(fd);
    return out;
}

static void test_media_paths_cannot_leave_the_project(void **state)
{
    world *w = *state;
    char id[37], stem[160];
    narrated(w, id, stem, sizeof(stem));
    /* A secret beside the project's directory, and links to it inside. */
    char secret[600], link[600];
    snprintf(secret, sizeof(secret), "%s/%s/secret.txt", w->media, w->ana);
    FILE *f = fopen(secret, "w");
    fputs("TOP-SECRET-CONTENT", f);
    fclose(f);
    media_path(w, id, "link.srt", link, sizeof(link));
    assert_int_equal(symlink(secret, link), 0);
    media_path(w, id, "passwd.srt", link, sizeof(link));
    assert_int_equal(symlink("/etc/passwd", link), 0);
    media_path(w, id, ".tmp-x-half.ogg", link, sizeof(link));
    f = fopen(link, "w");
    fputs("HALF-WRITTEN", f);
    fclose(f);

    const char *refused[] = {"..%2Fsecret.txt",
                             "%2E%2E%2Fsecret.txt",
                             "%2e%2e",
                             ".%2e",
                             "%2Fetc%2Fpasswd",
                             "a%00.srt",
                             "%2E%2E%2F%2E%2E%2F%2E%2E%2Fpstudio.db",
                             ".tmp-x-half.ogg",
                             "x%5C..%5Csecret.txt",
                             NULL};
    for (int i = 0; refused[i]; i++) {
        test_resp r = get_media(w, w->tok, id, refused[i], NULL);
        if (r.status != 400 && r.status != 404)
            fail_msg("%s: expected a refusal, got %ld: %s", refused[i], r.status, r.body);
        assert_null(strstr(r.body, "TOP-SECRET-CONTENT"));
        assert_null(strstr(r.body, "HALF-WRITTEN"));
        assert_null(strstr(r.body, "root:"));
        /* An encoded '/' matches no route at all (404) and the server
         * refuses %00 in any path (400 bad-request); every other name
         * reaches the check and is refused as a media path. */
        if (strstr(refused[i], "%00") != NULL)
            test_expect(&r, 400, "bad-request");
        else if (strstr(refused[i], "%2F") == NULL)
            test_expect(&r, 400, "invalid-media-path");
        test_resp_free(&r);
    }
    /* Unencoded dot segments, as a client that does not normalize sends them. */
    const char *raw[] = {"..", "../secret.txt", "../../../pstudio.db", "./../secret.txt", NULL};
    for (int i = 0; raw[i]; i++) {
        char path[300];
        snprintf(path, sizeof(path), "/api/v1/projects/%s/media/%s", id, raw[i]);
        char *answer = raw_get(w, path, w->tok);
        if (strncmp(answer, "HTTP/1.1 400", 12) != 0 && strncmp(answer, "HTTP/1.1 404", 12) != 0)
            fail_msg("%s: expected a refusal, got: %.200s", path, answer);
        assert_null(strstr(answer, "TOP-SECRET-CONTENT"));
        free(answer);
    }
    /* A link planted in the directory is never followed. */
    const char *links[] = {"link.srt", "passwd.srt", NULL};
    for (int i = 0; links[i]; i++) {
        test_resp r = get_media(w, w->tok, id, links[i], NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
}

/* ---- deleting ----------------------------------------------------------------------------------
 */

static void test_media_go_with_their_project_and_the_sweep_takes_what_is_left(void **state)
{
    world *w = *state;
    char id[37], keep[37], stem[160], dir[600];
    narrated(w, id, stem, sizeof(stem));
    narrated(w, keep, stem, sizeof(stem));
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
    test_resp r = test_req(&w->api, "DELETE", path, w->tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    media_path(w, id, "", dir, sizeof(dir));
    assert_int_equal(access(dir, F_OK), -1);
    media_path(w, keep, "", dir, sizeof(dir));
    assert_int_equal(access(dir, F_OK), 0);

    /* Files the database no longer knows: a project deleted while its job
     * wrote, and a user deleted in the database (whose rows cascade). */
    error e;
    char orphan[37];
    uuid_v7(orphan);
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, orphan, "x.wav", "RIFF", 4, &e), 0);
    int removed = -1;
    db_conn *c = db_acquire(w->api.t.db);
    assert_int_equal(media_service_sweep(&w->api.svc, c, &removed, &e), 0);
    assert_int_equal(removed, 1);
    media_path(w, orphan, "", dir, sizeof(dir));
    assert_int_equal(access(dir, F_OK), -1);
    media_path(w, keep, "", dir, sizeof(dir));
    assert_int_equal(access(dir, F_OK), 0);

    stop_pool(w);
    exec(w, "DELETE FROM users WHERE id = '%s'", w->ana);
    assert_int_equal(media_service_sweep(&w->api.svc, c, &removed, &e), 0);
    assert_int_equal(removed, 1);
    snprintf(dir, sizeof(dir), "%s/%s", w->media, w->ana);
    assert_int_equal(access(dir, F_OK), -1);
    db_release(c);
}

/* ---- files of deleted scenes
 * ---------------------------------------------------------------------
 */

static test_resp wait_image(world *w, const char *id, const char *want);

/* How many files of the project are named for the scene (scene-<sid>-…). */
static int scene_files(world *w, const char *project_id, const char *sid)
{
    char names[8192], prefix[64];
    listing_but(w, project_id, NULL, names, sizeof(names));
    snprintf(prefix, sizeof(prefix), "scene-%s-", sid);
    int n = 0;
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        n += strncmp(tok, prefix, strlen(prefix)) == 0;
    return n;
}

/* Narration and image of every scene of the project, COMPLETED; the scene ids into ids. */
static size_t media_done(world *w, const char *id, char ids[][37], size_t max)
{
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp_free((test_resp[]){wait_image(w, id, "COMPLETED")});
    test_resp r = wait_audio(w, id, "COMPLETED");
    json_t *items = json_object_get(r.json, "items");
    size_t n = json_array_size(items) < max ? json_array_size(items) : max;
    for (size_t i = 0; i < n; i++)
        snprintf(ids[i], 37, "%s", str(json_array_get(items, i), "id"));
    test_resp_free(&r);
    return n;
}

static void
test_the_files_of_deleted_and_replaced_scenes_go_and_the_sweep_heals_a_crash(void **state)
{
    world *w = *state;
    char id[37], ids[3][37], path[200];
    scripted_project(w, "en-US", 3, id);
    assert_int_equal(media_done(w, id, ids, 3), 3);
    for (int i = 0; i < 3; i++) /* wav, ogg, srt, vtt, json and two PNGs */
        assert_int_equal(scene_files(w, id, ids[i]), 7);

    /* A deleted scene's files go with it; the others stay. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id, ids[1]);
    test_resp r = test_req(&w->api, "DELETE", path, w->tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(scene_files(w, id, ids[1]), 0);
    assert_int_equal(scene_files(w, id, ids[0]), 7);
    assert_int_equal(scene_files(w, id, ids[2]), 7);
    /* Another user's delete is a 404 and removes nothing. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id, ids[0]);
    r = test_req(&w->api, "DELETE", path, w->tok_b, NULL, NULL);
    test_expect(&r, 404, NULL);
    test_resp_free(&r);
    assert_int_equal(scene_files(w, id, ids[0]), 7);

    /* A whole new script replaces the scenes: the old ones' files go once
     * it has committed. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/generate", id);
    r = test_req(&w->api, "POST", path, w->tok, "{}", NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    char still[64];
    for (;;) { /* scripted again once the old scene rows are gone */
        text_of(w, still, sizeof(still), "SELECT count(*) FROM scenes WHERE id IN ('%s', '%s')",
                ids[0], ids[2]);
        char status[32];
        text_of(w, status, sizeof(status), "SELECT status FROM projects WHERE id = '%s'", id);
        if (strcmp(still, "0") == 0 && strcmp(status, "scripted") == 0)
            break;
        if (time_mono_usec() > until)
            fail_msg("the script was never rewritten");
        test_nap_ms(25);
    }
    /* The job removes them right after its commit, which also marks the
     * job done: the removal may still be under way when the row says so,
     * so wait for the files themselves. */
    until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (scene_files(w, id, ids[0]) != 0 || scene_files(w, id, ids[2]) != 0) {
        if (time_mono_usec() > until)
            fail_msg("the replaced scenes' files were never removed");
        test_nap_ms(25);
    }

    /* A crash between a delete's commit and the files' removal: the sweep
     * takes them, and leaves the live scenes' files and the rest alone. */
    char now[3][37];
    size_t n = media_done(w, id, now, 3);
    assert_true(n >= 2);
    stop_pool(w);
    exec(w, "DELETE FROM scenes WHERE id = '%s' AND position = %zu", now[n - 1], n - 1);
    error e;
    assert_int_equal(media_store_put(w->api.svc.media, w->ana, id, "notes.txt", "keep", 4, &e), 0);
    assert_int_equal(scene_files(w, id, now[n - 1]), 7);
    int removed = -1;
    db_conn *c = db_acquire(w->api.t.db);
    assert_int_equal(media_service_sweep(&w->api.svc, c, &removed, &e), 0);
    db_release(c);
    assert_int_equal(removed, 0); /* no project was gone */
    assert_int_equal(scene_files(w, id, now[n - 1]), 0);
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(scene_files(w, id, now[i]), 7);
    char file[600];
    media_path(w, id, "notes.txt", file, sizeof(file));
    assert_int_equal(access(file, F_OK), 0);
}

/* ---- a real worker process, killed mid-job ------------------------------------------------------
 */

/* Starts p, a `pstudio worker` on the test's database and data directory
 * with ffmpeg as its PSTUDIO_FFMPEG, its output appended to log; env, when
 * not NULL, is a NULL-terminated list of "NAME=value" set in its
 * environment too. */
static void spawn_worker_with(world *w, test_proc *p, const char *ffmpeg, const char *log,
                              const char *const *env)
{
    char setting[320];
    snprintf(setting, sizeof(setting), "PSTUDIO_FFMPEG=%s", ffmpeg);
    const char *all[12] = {setting};
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        assert_true(i + 2 < sizeof(all) / sizeof(all[0]));
        all[i + 1] = env[i];
    }
    test_proc_opts o = {.db_url = w->api.t.url, .data_dir = w->dir, .log = log, .env = all};
    test_proc_start(p, "worker", &o);
}

static void spawn_worker(world *w, test_proc *p, const char *ffmpeg, const char *log)
{
    spawn_worker_with(w, p, ffmpeg, log, NULL);
}

/* A `pstudio worker` narrating through the fake OpenAI-compatible narrator
 * at base_url (which answers MP3), its temporary files under tmpdir. */
static void spawn_mp3_worker(world *w, test_proc *p, const char *ffmpeg, const char *log,
                             const char *base_url, const char *tmpdir)
{
    char url[300], tmp[400];
    snprintf(url, sizeof(url), "PSTUDIO_TTS_OPENAI_BASE_URL=%s", base_url);
    snprintf(tmp, sizeof(tmp), "TMPDIR=%s", tmpdir);
    const char *env[] = {"PSTUDIO_TTS_PROVIDER=openai",
                         "PSTUDIO_LLM_PROVIDER=offline",
                         "PSTUDIO_OPENAI_API_KEY=" TTS_OPENAI_KEY,
                         url,
                         tmp,
                         NULL};
    spawn_worker_with(w, p, ffmpeg, log, env);
}

/* The one file of the first pstudio-tts-* directory under dir (the HTTP
 * narrator's private decoding directory), into out; false when none. */
static bool decoding_file(const char *dir, const char *file, char *out, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool found = false;
    while (d != NULL && !found && (de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "pstudio-tts-", 12) == 0) {
            snprintf(out, n, "%s/%s/%s", dir, de->d_name, file);
            found = true;
        }
    if (d != NULL)
        closedir(d);
    return found;
}

/* The narration job's one child program since decision 133 is the ffmpeg
 * that decodes an HTTP narrator's MP3: a worker killed with -9 while that
 * ffmpeg has written half its output leaves nothing of the narration
 * visible, and another worker finishes the job. (The Opus file is encoded
 * in process into the store's temporary, committed by rename like every
 * media file.) */
static void
test_a_worker_killed_mid_job_leaves_nothing_half_written_and_the_retry_finishes(void **state)
{
    world *w = *state;
    char id[37], log[300], script[300], pidfile[300], tmpdir[300];
    scripted_project(w, "pt-BR", 1, id);
    stop_pool(w); /* from here on, only the worker processes run jobs */
    fake_tts f;
    fake_tts_start(&f);
    size_t mp3_len;
    char *mp3 = mp3_tone(w, 3000, &mp3_len);
    use_mp3_narrator(w, &f, mp3, mp3_len);
    snprintf(log, sizeof(log), "%s/worker.log", w->dir);
    snprintf(pidfile, sizeof(pidfile), "%s/ffmpeg.pid", w->dir);
    snprintf(script, sizeof(script), "%s/slow-ffmpeg.sh", w->dir);
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", w->dir);
    assert_int_equal(mkdir(tmpdir, 0700), 0);
    /* A decoder that writes part of its output and then stalls. */
    FILE *fp = fopen(script, "w");
    fprintf(fp,
            "#!/bin/sh\nfor last; do :; done\nprintf 'RIFF-half' > \"$last\"\n"
            "echo $$ > %s.tmp && mv %s.tmp %s\nexec sleep 60\n",
            pidfile, pidfile, pidfile);
    fclose(fp);
    chmod(script, 0700);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});

    test_proc first, second;
    spawn_mp3_worker(w, &first, script, log, f.s.base_url, tmpdir);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (access(pidfile, F_OK) != 0 && time_mono_usec() < until)
        test_nap_ms(20);
    if (access(pidfile, F_OK) != 0)
        test_proc_print_log(&first);
    size_t len; /* the pid file appears whole (mv), after the half-written output */
    char *pid_text = test_slurp(pidfile, &len);
    assert_non_null(pid_text);
    pid_t decoder = (pid_t)atoi(pid_text);
    free(pid_text);
    assert_true(decoder > 1);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    kill(decoder, SIGKILL); /* the orphaned decoder */

    /* The half-written decoding is in the dead worker's private directory... */
    char half[700];
    assert_true(decoding_file(tmpdir, "audio.wav", half, sizeof(half)));
    char *text = test_slurp(half, &len);
    assert_non_null(text);
    assert_string_equal(text, "RIFF-half");
    free(text);
    /* ...and nothing of the narration is in the project's: no name a
     * reader could ask for (the scene's image, its own job, may be done:
     * its PNGs are whole). */
    test_resp r = scenes_of(w, id);
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(str(sc, "audio_status"), "PROCESSING");
    assert_true(json_is_null(json_object_get(sc, "audio")));
    char stem[160], name[200];
    snprintf(stem, sizeof(stem), "scene-%s-a1", str(sc, "id"));
    test_resp_free(&r);
    char names[2048];
    listing_but(w, id, ".png", names, sizeof(names));
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        if (strncmp(tok, ".tmp-", 5) != 0)
            fail_msg("a visible file after the kill: %s", tok);
    snprintf(name, sizeof(name), "%s.ogg", stem);
    r = get_media(w, w->tok, id, name, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);

    /* The dead worker's lease runs out; another worker does the job. */
    exec(w, "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE kind = 'media.audio'");
    spawn_mp3_worker(w, &second, "ffmpeg", log, f.s.base_url, tmpdir);
    r = wait_audio(w, id, "COMPLETED");
    int status = test_proc_stop(&second, SIGTERM, 30);
    if (status != 0)
        test_proc_print_log(&second);
    assert_int_equal(status, 0);
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    check_scene_files(w, id, sc);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT attempts FROM jobs WHERE kind = "
                                              "'media.audio'"),
                     2);
    r = get_media(w, w->tok, id, name, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    fake_tts_stop(&f);
    free(mp3);
}

/* ---- pure parts
 * ------------------------------------------------------------------------------------ */

/* The in-process encoder on its own: a tone at espeak-ng's 22,050 Hz
 * becomes a mono 48 kHz Ogg Opus file of the same length and loudness;
 * what it cannot do (a rate out of range, a full disk, a link planted
 * where its file should be, no file) is an error saying so. */
static void test_the_opus_encoder_keeps_length_and_level_and_says_why_it_fails(void **state)
{
    (void)state;
    char dir[256], path[300], link[300], target[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/tone.ogg", dir);
    const int rate = 22050;
    const size_t n = (size_t)rate * 3 / 2; /* 1.5 s */
    int16_t *pcm = malloc(n * sizeof(*pcm));
    for (size_t i = 0; i < n; i++) /* 440 Hz at a quarter of full scale: -12 dBFS */
        pcm[i] = (int16_t)(8192.0 * sin(2.0 * M_PI * 440.0 * (double)i / rate));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    error e;
    if (oggopus_write_file(path, pcm, n, rate, &e) != 0)
        fail_msg("oggopus_write_file: %s", e.message);
    check_opus(path, 1500);
    const char *argv[] = {"/usr/bin/ffmpeg", "-nostdin", "-hide_banner", "-i", path, "-af",
                          "volumedetect",    "-f",       "null",         "-",  NULL};
    char out[8192];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffmpeg volumedetect: %d: %s", rc, out);
    const char *peak = strstr(out, "max_volume: ");
    assert_non_null(peak);
    double peak_db = strtod(peak + 12, NULL);
    if (peak_db < -14.0 || peak_db > -10.0)
        fail_msg("the tone came back at %.1f dB, not about -12", peak_db);

    assert_int_equal(oggopus_write_file(path, pcm, n, 7000, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_non_null(strstr(e.message, "7000 Hz"));
    assert_int_equal(oggopus_write_file("/dev/full", pcm, n, rate, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_non_null(strstr(e.message, strerror(ENOSPC)));
    snprintf(target, sizeof(target), "%s/elsewhere", dir);
    snprintf(link, sizeof(link), "%s/linked.ogg", dir);
    fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(oggopus_write_file(link, pcm, n, rate, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    size_t len;
    char *kept = test_slurp(target, &len);
    assert_string_equal(kept, "keep"); /* the link was not followed */
    free(kept);
    snprintf(link, sizeof(link), "%s/absent.ogg", dir);
    assert_int_equal(oggopus_write_file(link, pcm, n, rate, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_non_null(strstr(e.message, "opening the narration's Opus file failed"));
    free(pcm);
}

static void test_subtitles_and_names_are_written_and_checked_exactly(void **state)
{
    (void)state;
    subtitle_cue cues[] = {{0, 1500, "Olá, mundo."}, {1500, 3723004, "Segunda frase."}};
    buf b;
    buf_init(&b, 4096);
    assert_int_equal(subtitle_write_srt(&b, cues, 2), 0);
    assert_string_equal(buf_cstr(&b), "1\n00:00:00,000 --> 00:00:01,500\nOlá, mundo.\n\n"
                                      "2\n00:00:01,500 --> 01:02:03,004\nSegunda frase.\n\n");
    buf_reset(&b);
    assert_int_equal(subtitle_write_vtt(&b, cues, 2), 0);
    assert_string_equal(buf_cstr(&b), "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nOlá, mundo.\n\n"
                                      "00:00:01.500 --> 01:02:03.004\nSegunda frase.\n\n");
    buf_free(&b);
    assert_true(media_name_valid("scene-01a2-a1.ogg"));
    const char *bad[] = {"", ".", "..", ".tmp-x.ogg", "a/b", "a\\b", "a b", "a%2e", NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(media_name_valid(bad[i]));
    char longest[MEDIA_NAME_MAX + 2];
    memset(longest, 'a', sizeof(longest));
    longest[MEDIA_NAME_MAX] = '\0';
    assert_true(media_name_valid(longest));
    longest[MEDIA_NAME_MAX] = 'a';
    longest[MEDIA_NAME_MAX + 1] = '\0';
    assert_false(media_name_valid(longest));
}

/* ---- the HTTP narrators -----------------------------------------------------------------------
 */

/* The timings file of a scene, parsed. */
static json_t *timings_of(world *w, const char *project_id, json_t *sc)
{
    char stem[160], path[600];
    stem_of(sc, stem, sizeof(stem));
    snprintf(path, sizeof(path), "%s/%s/%s/%s.json", w->media, w->ana, project_id, stem);
    size_t len;
    char *text = test_slurp(path, &len);
    assert_non_null(text);
    json_t *t = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(t);
    return t;
}

static void test_http_narrators_make_the_same_files_with_their_timings(void **state)
{
    world *w = *state;
    fake_tts f;
    fake_tts_start(&f);
    const char *providers[] = {"google", "openai"};
    for (int p = 0; p < 2; p++) {
        use_fake_narrator(w, &f, providers[p]);
        char id[37];
        scripted_project(w, "en-US", 2, id);
        int calls = fake_server_calls(&f.s);
        test_resp_free((test_resp[]){ask_media(w, id, 202)});
        test_resp r = wait_audio(w, id, "COMPLETED");
        assert_int_equal(fake_server_calls(&f.s), calls + 2);
        json_t *items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *sc = json_array_get(items, i);
            check_scene_files(w, id, sc); /* WAV, Opus (ffprobe), subtitles, word order */
            json_t *t = timings_of(w, id, sc);
            json_t *words = json_object_get(t, "words");
            size_t n = json_array_size(words);
            /* The fake speaks 300 ms a word: the audio is as long as that. */
            assert_int_equal(json_integer_value(json_object_get(t, "duration_ms")),
                             (json_int_t)n * 300);
            assert_int_equal(json_integer_value(json_object_get(sc, "duration_ms")),
                             (json_int_t)n * 300);
            assert_int_equal(json_integer_value(json_object_get(t, "sample_rate")), FAKE_TTS_RATE);
            assert_true(json_is_boolean(json_object_get(t, "approximate")));
            assert_int_equal(json_is_true(json_object_get(t, "approximate")), p == 1);
            if (p == 0) /* Google: each word where its mark was */
                for (size_t k = 0; k < n; k++)
                    assert_int_equal(
                        json_integer_value(json_object_get(json_array_get(words, k), "start_ms")),
                        (json_int_t)k * 300);
            else
                assert_string_equal(str(t, "voice"), "alloy");
            json_decref(t);
        }
        test_resp_free(&r);
    }
    fake_tts_stop(&f);
}

static void test_http_narrator_failures_retry_or_fail_and_never_show_the_key(void **state)
{
    world *w = *state;
    fake_tts f;
    fake_tts_start(&f);
    char logpath[300];
    snprintf(logpath, sizeof(logpath), "%s/log.jsonl", w->dir);
    FILE *log = fopen(logpath, "w");
    assert_non_null(log);
    log_init(LOG_DEBUG, log);

    /* 429 with Retry-After 1: the job waits and the next attempt succeeds. */
    use_fake_narrator(w, &f, "google");
    fake_server_lock(&f.s);
    f.s.retry_after = "1";
    fake_server_push(&f.s, FAKE_TTS_429);
    fake_server_unlock(&f.s);
    char id[37];
    scripted_project(w, "en-US", 1, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_audio(w, id, "COMPLETED");
    check_scene_files(w, id, json_array_get(json_object_get(r.json, "items"), 0));
    test_resp_free(&r);
    assert_int_equal(fake_server_calls(&f.s), 2);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT attempts FROM jobs WHERE kind = "
                                              "'media.audio'"),
                     2);

    /* A refused key: FAILED at once, with a reason that does not quote it. */
    const char *providers[] = {"google", "openai"};
    for (int p = 0; p < 2; p++) {
        use_fake_narrator(w, &f, providers[p]);
        fake_server_lock(&f.s);
        fake_server_push(&f.s, FAKE_TTS_401_ECHO);
        fake_server_unlock(&f.s);
        scripted_project(w, "en-US", 1, id);
        test_resp_free((test_resp[]){ask_media(w, id, 202)});
        r = wait_audio(w, id, "FAILED");
        json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
        assert_non_null(strstr(str(sc, "audio_error"), "refused the API key (HTTP 401)"));
        assert_null(strstr(r.body, "KEY-0123"));
        test_resp_free(&r);
    }

    /* A malformed answer: FAILED with the reason, and no file of it visible. */
    use_fake_narrator(w, &f, "google");
    fake_server_lock(&f.s);
    fake_server_push(&f.s, FAKE_TTS_BAD_BASE64);
    fake_server_unlock(&f.s);
    scripted_project(w, "en-US", 1, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    r = wait_audio(w, id, "FAILED");
    assert_non_null(strstr(str(json_array_get(json_object_get(r.json, "items"), 0), "audio_error"),
                           "not valid base64"));
    test_resp_free(&r);
    char names[2048];
    listing_but(w, id, ".png", names, sizeof(names)); /* the image job's files are not ours */
    assert_null(strstr(names, ".wav"));
    assert_null(strstr(names, ".ogg"));
    assert_null(strstr(names, ".tmp-"));

    stop_pool(w);
    log_init(LOG_INFO, NULL);
    fclose(log);
    size_t len;
    char *logs = test_slurp(logpath, &len);
    assert_non_null(logs);
    assert_non_null(strstr(logs, "refused the API key")); /* the failure was logged... */
    assert_null(strstr(logs, "KEY-0123"));                /* ...and neither key with it */
    free(logs);
    fake_tts_stop(&f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* ---- images ---------------------------------------------------------------------------------- */

/* Polls the scenes until every one's image_status is want; returns them. */
static test_resp wait_image(world *w, const char *id, const char *want)
{
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    for (;;) {
        test_resp r = scenes_of(w, id);
        json_t *items = json_object_get(r.json, "items");
        bool all = json_array_size(items) > 0;
        for (size_t i = 0; i < json_array_size(items); i++)
            all = all && strcmp(str(json_array_get(items, i), "image_status"), want) == 0;
        if (all)
            return r;
        if (time_mono_usec() > until)
            fail_msg("the images of %s never all reached %s: %s", id, want, r.body);
        test_resp_free(&r);
        test_nap_ms(25);
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The media name at the end of one of a scene's image URLs. */
static const char *image_name(json_t *sc, const char *which)
{
    const char *url = json_string_value(json_object_get(json_object_get(sc, "image"), which));
    assert_non_null(url);
    const char *slash = strrchr(url, '/');
    assert_non_null(slash);
    return slash + 1;
}

/* The scene's image in one format: served over HTTP to its owner as
 * image/png, byte for byte the stored file, a PNG whose IHDR says w x h and
 * which libpng (through cairo) decodes at that size. */
static void check_image(world *w, const char *id, json_t *sc, const char *which, uint32_t width,
                        uint32_t height)
{
    const char *name = image_name(sc, which);
    char file[600];
    media_path(w, id, name, file, sizeof(file));
    size_t len;
    unsigned char *png = (unsigned char *)test_slurp(file, &len);
    assert_non_null(png);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(len > 100);
    assert_memory_equal(png, sig, 8);
    assert_int_equal(be32(png + 8), 13);
    assert_memory_equal(png + 12, "IHDR", 4);
    assert_int_equal(be32(png + 16), width);
    assert_int_equal(be32(png + 20), height);
    assert_memory_equal(png + len - 8, "IEND", 4);
    cairo_surface_t *sf = cairo_image_surface_create_from_png(file);
    assert_int_equal(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(sf), (int)width);
    assert_int_equal(cairo_image_surface_get_height(sf), (int)height);
    cairo_surface_destroy(sf);

    test_resp r = get_media(w, w->tok, id, name, NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(strcasestr(r.headers, "Content-Type: image/png"));
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %zu\r", len);
    assert_non_null(strcasestr(r.headers, cl));
    assert_memory_equal(r.body, png, len);
    test_resp_free(&r);
    free(png);
}

static void test_every_scene_gets_a_card_in_both_sizes_with_its_narration(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "pt-BR", 2, id);
    /* Accents and an emoji in what the card shows. */
    test_resp r = scenes_of(w, id);
    char sid[37], path[160];
    snprintf(sid, sizeof(sid), "%s",
             str(json_array_get(json_object_get(r.json, "items"), 0), "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id, sid);
    r = test_req(&w->api, "PATCH", path, w->tok,
                 "{\"visual_description\":\"Ação: o pôr-do-sol sobre o mar, gaivotas 🐦 e um "
                 "farol; ção ã é ô\"}",
                 NULL);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "image")));
    test_resp_free(&r);

    r = ask_media(w, id, 202);
    json_t *items = json_object_get(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        assert_true(strcmp(str(json_array_get(items, i), "image_status"), "COMPLETED") != 0);
        /* Asked for once: the scene JSON counts it (queued, not "never"). */
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(items, i), "image_generation")), 1);
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(items, i), "audio_generation")), 1);
    }
    test_resp_free(&r);
    r = wait_image(w, id, "COMPLETED");
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *sc = json_array_get(items, i);
        assert_true(json_is_null(json_object_get(sc, "image_error")));
        assert_non_null(strstr(image_name(sc, "landscape"), "-i1.png"));
        check_image(w, id, sc, "landscape", 1920, 1080);
        check_image(w, id, sc, "portrait", 1080, 1920);
    }
    test_resp_free(&r);
    /* Asking again queues no image: every scene has one. */
    test_resp_free((test_resp[]){wait_audio(w, id, "COMPLETED")});
    r = ask_media(w, id, 202);
    items = json_object_get(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        assert_string_equal(str(json_array_get(items, i), "image_status"), "COMPLETED");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = "
                                              "'media.image'"),
                     2);
}

static void
test_editing_a_visual_description_makes_its_image_stale_and_it_is_made_again(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en-US", 1, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_image(w, id, "COMPLETED");
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    char sid[37], old_name[200], path[160], file[600];
    snprintf(sid, sizeof(sid), "%s", str(sc, "id"));
    snprintf(old_name, sizeof(old_name), "%s", image_name(sc, "landscape"));
    assert_non_null(strstr(old_name, "-i1.png"));
    test_resp_free(&r);
    test_resp_free((test_resp[]){wait_audio(w, id, "COMPLETED")});

    /* New words leave the image alone. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id, sid);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"narration\":\"Other words entirely.\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(r.json, "image_status"), "COMPLETED");
    test_resp_free(&r);

    /* A new picture makes it stale at once, and it is drawn again. */
    r = test_req(&w->api, "PATCH", path, w->tok,
                 "{\"visual_description\":\"A lighthouse at dusk, seen from the sea\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_true(strcmp(str(r.json, "image_status"), "COMPLETED") != 0);
    assert_true(json_is_null(json_object_get(r.json, "image")) ||
                strcmp(str(r.json, "image_status"), "COMPLETED") != 0);
    test_resp_free(&r);
    r = wait_image(w, id, "COMPLETED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(image_name(sc, "landscape"), "-i2.png"));
    assert_int_equal(json_integer_value(json_object_get(sc, "image_generation")), 2);
    assert_int_equal(json_integer_value(json_object_get(sc, "audio_generation")), 2);
    check_image(w, id, sc, "landscape", 1920, 1080);
    test_resp_free(&r);
    /* The stale files are gone. */
    media_path(w, id, old_name, file, sizeof(file));
    assert_int_equal(access(file, F_OK), -1);

    /* One scene's image, asked for again. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(r.json, "id"), sid);
    test_resp_free(&r);
    r = wait_image(w, id, "COMPLETED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(image_name(sc, "portrait"), "-i3-portrait.png"));
    check_image(w, id, sc, "portrait", 1080, 1920);
    test_resp_free(&r);

    /* A job of an overtaken generation writes nothing: asked twice in a
     * row, only the last number is ever recorded. */
    exec(w, "UPDATE scenes SET image_status = 'FAILED' WHERE id = '%s'", sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    r = wait_image(w, id, "COMPLETED");
    sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(image_name(sc, "landscape"), "-i5.png"));
    test_resp_free(&r);
    /* The overtaken job may still be drawing: wait until it has ended. */
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = 'media.image' AND "
                                    "status IN ('queued', 'running')") != 0) {
        if (time_mono_usec() > until)
            fail_msg("the image jobs never ended");
        test_nap_ms(25);
    }
    snprintf(old_name, sizeof(old_name), "scene-%s-i4.png", sid);
    media_path(w, id, old_name, file, sizeof(file));
    assert_int_equal(access(file, F_OK), -1);
}

static void test_another_users_images_are_not_found(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en-US", 1, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp r = wait_image(w, id, "COMPLETED");
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    char sid[37], name[200], path[200];
    snprintf(sid, sizeof(sid), "%s", str(sc, "id"));
    snprintf(name, sizeof(name), "%s", image_name(sc, "landscape"));
    test_resp_free(&r);
    /* Bob can neither read A's image nor ask for it again. */
    r = get_media(w, w->tok_b, id, name, NULL);
    test_expect(&r, 404, NULL);
    assert_null(strstr(r.body, "PNG"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
    r = test_req(&w->api, "POST", path, w->tok_b, NULL, NULL);
    test_expect(&r, 404, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    /* Bob's request changed nothing: the owner's was the second. */
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = "
                                              "'media.image'"),
                     2);
    /* A scene with nothing to draw is refused. */
    exec(w, "UPDATE scenes SET visual_description = '', narration = '' WHERE id = '%s'", sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 409, NULL);
    assert_string_equal(str(r.json, "field"), "visual_description");
    test_resp_free(&r);
}

/* Both names of the scene's image at generation gen answer 404 on the media route. */
static void image_names_not_found(world *w, const char *id, const char *sid, int gen)
{
    const char *suffixes[] = {".png", "-portrait.png"};
    for (int i = 0; i < 2; i++) {
        char name[200];
        snprintf(name, sizeof(name), "scene-%s-i%d%s", sid, gen, suffixes[i]);
        test_resp r = get_media(w, w->tok, id, name, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
}

/* After a worker was killed mid image job: the scene still PROCESSING,
 * naming no image, nothing but temporaries in the project's directory,
 * and neither of generation 1's names served. */
static void killed_mid_image_shows_nothing(world *w, const char *id, const char *sid)
{
    test_resp r = scenes_of(w, id);
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(str(sc, "image_status"), "PROCESSING");
    assert_true(json_is_null(json_object_get(sc, "image")));
    test_resp_free(&r);
    char names[2048];
    listing_but(w, id, NULL, names, sizeof(names));
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        if (strncmp(tok, ".tmp-", 5) != 0)
            fail_msg("a visible file after the kill: %s", tok);
    image_names_not_found(w, id, sid, 1);
}

/* The dead worker's lease runs out; a second worker (env as the first's)
 * makes both sizes of generation 1, on attempt 2. */
static void second_worker_makes_both_images(world *w, const char *id, const char *sid,
                                            const char *log, const char *const *env)
{
    exec(w, "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE kind = 'media.image'");
    test_proc second;
    spawn_worker_with(w, &second, "ffmpeg", log, env);
    test_resp r = wait_image(w, id, "COMPLETED");
    int status = test_proc_stop(&second, SIGTERM, 30);
    if (status != 0)
        test_proc_print_log(&second);
    assert_int_equal(status, 0);
    json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
    char name[200];
    snprintf(name, sizeof(name), "scene-%s-i1.png", sid);
    assert_string_equal(image_name(sc, "landscape"), name);
    check_image(w, id, sc, "landscape", 1920, 1080);
    check_image(w, id, sc, "portrait", 1080, 1920);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT attempts FROM jobs WHERE kind = "
                                              "'media.image'"),
                     2);
}

/*
 * A worker killed mid image job. The card renderer reads fontconfig's
 * configuration the first time it draws; the worker is started with
 * FONTCONFIG_FILE naming a FIFO, so its first card waits, inside the
 * renderer and with the scene PROCESSING, until something writes there.
 * The test knows the worker is waiting when it can open the FIFO for
 * writing without blocking (a reader has it open): no sleep, no timing.
 */
static void
test_a_worker_killed_mid_image_leaves_no_png_visible_and_the_retry_draws_both(void **state)
{
    world *w = *state;
    char id[37], sid[37], log[300], fifo[300], path[200];
    scripted_project(w, "pt-BR", 1, id);
    stop_pool(w); /* from here on, only the worker processes run jobs */
    test_resp r = scenes_of(w, id);
    snprintf(sid, sizeof(sid), "%s",
             str(json_array_get(json_object_get(r.json, "items"), 0), "id"));
    test_resp_free(&r);
    snprintf(log, sizeof(log), "%s/worker.log", w->dir);
    snprintf(fifo, sizeof(fifo), "%s/fonts.conf", w->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL); /* the image alone */
    test_expect(&r, 202, NULL);
    test_resp_free(&r);

    char fontconfig[400];
    snprintf(fontconfig, sizeof(fontconfig), "FONTCONFIG_FILE=%s", fifo);
    test_proc first;
    spawn_worker_with(w, &first, "ffmpeg", log, (const char *[]){fontconfig, NULL});
    int hold = -1;
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while ((hold = open(fifo, O_WRONLY | O_NONBLOCK)) < 0 && time_mono_usec() < until)
        test_nap_ms(20);
    if (hold < 0)
        test_proc_print_log(&first);
    assert_true(hold >= 0); /* the renderer is reading its fonts' configuration */
    r = scenes_of(w, id);
    assert_string_equal(str(json_array_get(json_object_get(r.json, "items"), 0), "image_status"),
                        "PROCESSING");
    test_resp_free(&r);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    close(hold);

    /* Nothing under a name a reader could ask for; then another worker
     * draws both sizes. */
    killed_mid_image_shows_nothing(w, id, sid);
    second_worker_makes_both_images(w, id, sid, log, NULL);
    /* Bob cannot read it. */
    char name[200];
    snprintf(name, sizeof(name), "scene-%s-i1.png", sid);
    r = get_media(w, w->tok_b, id, name, NULL);
    test_expect(&r, 404, NULL);
    test_resp_free(&r);
}

/* ---- the HTTP image models ------------------------------------------------------------------- */

#define IMG_GEMINI_KEY "AIza-test-image-GEMINIKEY-0123456"
#define IMG_OPENAI_KEY "sk-test-image-OPENAIKEY-0123456789"

static void use_fake_image_model(world *w, fake_image *f, const char *provider)
{
    w->api.svc.image = (image_settings){.provider = provider,
                                        .timeout_ms = 10000,
                                        .gemini_base_url = f->s.base_url,
                                        .gemini_api_key = IMG_GEMINI_KEY,
                                        .gemini_model = "gemini-image-test",
                                        .openai_base_url = f->s.base_url,
                                        .openai_api_key = IMG_OPENAI_KEY,
                                        .openai_model = "dall-e-3"};
}

/* A one-scene project of a persona with a look, its visual description set. */
static void styled_project(world *w, char id[37])
{
    test_resp r = test_req(&w->api, "POST", "/api/v1/personas", w->tok,
                           "{\"name\":\"Noir Narrator\",\"system_instruction\":\"Explain.\","
                           "\"description\":\"grainy black-and-white film noir\","
                           "\"language\":\"en-US\"}",
                           NULL);
    test_expect(&r, 201, NULL);
    char persona[37];
    snprintf(persona, sizeof(persona), "%s", str(r.json, "id"));
    test_resp_free(&r);
    scripted_project(w, "en-US", 1, id);
    exec(w, "UPDATE projects SET persona_id = '%s' WHERE id = '%s'", persona, id);
    exec(w,
         "UPDATE scenes SET visual_description = 'A lighthouse in a storm, ção' WHERE "
         "project_id = '%s'",
         id);
}

/* The last error the image jobs recorded. */
static const char *str_of_job_error(world *w)
{
    static char why[600];
    text_of(w, why, sizeof(why),
            "SELECT last_error FROM jobs WHERE kind = 'media.image' AND last_error IS NOT NULL "
            "ORDER BY created_at DESC LIMIT 1");
    return why;
}

/* Asks for the project's media and waits for its image to reach want. */
static test_resp image_of(world *w, const char *id, const char *want)
{
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    return wait_image(w, id, want);
}

static void test_image_models_make_both_sizes_from_a_styled_prompt(void **state)
{
    world *w = *state;
    fake_image f;
    fake_image_start(&f);
    const char *providers[] = {"gemini", "openai"};
    for (int p = 0; p < 2; p++) {
        use_fake_image_model(w, &f, providers[p]);
        for (int jpeg = 0; jpeg < 2; jpeg++) {
            char id[37];
            styled_project(w, id);
            int calls = fake_server_calls(&f.s);
            fake_server_lock(&f.s);
            /* Both shapes are asked for; the model's JPEG is made a PNG. */
            fake_server_push(&f.s, jpeg ? FAKE_IMAGE_JPEG : FAKE_IMAGE_OK);
            fake_server_push(&f.s, jpeg ? FAKE_IMAGE_JPEG : FAKE_IMAGE_OK);
            fake_server_unlock(&f.s);
            test_resp r = image_of(w, id, "COMPLETED");
            assert_int_equal(fake_server_calls(&f.s), calls + 2);
            json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
            check_image(w, id, sc, "landscape", 1920, 1080);
            check_image(w, id, sc, "portrait", 1080, 1920);
            test_resp_free(&r);
        }
        /* The last request (the landscape) as the provider documents it. */
        json_t *b = fake_server_last_body(&f.s);
        const char *prompt;
        fake_server_lock(&f.s);
        if (p == 0) {
            assert_string_equal(f.s.path, "/v1beta/models/gemini-image-test:generateContent");
            assert_string_equal(f.s.goog_key, IMG_GEMINI_KEY);
            assert_string_equal(f.s.authorization, "");
            json_t *gc = json_object_get(b, "generationConfig");
            json_t *mods = json_object_get(gc, "responseModalities");
            assert_int_equal(json_array_size(mods), 2);
            assert_string_equal(json_string_value(json_array_get(mods, 1)), "IMAGE");
            assert_string_equal(str(json_object_get(gc, "imageConfig"), "aspectRatio"), "16:9");
            prompt = str(
                json_array_get(
                    json_object_get(json_array_get(json_object_get(b, "contents"), 0), "parts"), 0),
                "text");
        } else {
            assert_string_equal(f.s.path, "/v1/images/generations");
            assert_string_equal(f.s.authorization, "Bearer " IMG_OPENAI_KEY);
            assert_string_equal(f.s.goog_key, "");
            assert_string_equal(str(b, "model"), "dall-e-3");
            assert_string_equal(str(b, "size"), "1792x1024");
            assert_string_equal(str(b, "response_format"), "b64_json");
            assert_int_equal(json_integer_value(json_object_get(b, "n")), 1);
            prompt = str(b, "prompt");
        }
        fake_server_unlock(&f.s);
        assert_non_null(strstr(prompt, "A lighthouse in a storm, ção"));
        assert_non_null(strstr(prompt, "Noir Narrator"));
        assert_non_null(strstr(prompt, "grainy black-and-white film noir"));
        assert_non_null(strstr(prompt, "16:9"));
        json_decref(b);
    }
    fake_image_stop(&f);
}

/* A model's failure and the reason the scene's image_error then holds. */
typedef struct image_failure {
    const char *provider;
    fake_image_mode mode;
    const char *reason;
} image_failure;

static void test_image_model_failures_fail_or_retry_and_never_show_the_key(void **state)
{
    world *w = *state;
    fake_image f;
    fake_image_start(&f);
    /* Each fails the scene at once, with its reason. */
    static const image_failure refused[] = {
        {"gemini", FAKE_IMAGE_REFUSED, "refused the prompt (blockReason PROHIBITED_CONTENT)"},
        {"gemini", FAKE_IMAGE_SAFETY, "made no image (finishReason IMAGE_SAFETY)"},
        {"gemini", FAKE_IMAGE_TEXT_ONLY, "made no image: I can't make that picture"},
        {"gemini", FAKE_IMAGE_401_ECHO, "refused the API key (HTTP 401)"},
        {"gemini", FAKE_IMAGE_WRONG_MIME, "said to be image/png but is image/jpeg"},
        {"gemini", FAKE_IMAGE_BAD_BASE64, "not valid base64"},
        {"gemini", FAKE_IMAGE_GIANT, "neither a PNG nor a JPEG of at most 8192x8192"},
        {"openai", FAKE_IMAGE_REFUSED,
         "refused the prompt: Your request was rejected as a result of our safety system."},
        {"openai", FAKE_IMAGE_401_ECHO, "refused the API key (HTTP 401)"},
        {"openai", FAKE_IMAGE_NOT_IMAGE, "neither a PNG nor a JPEG"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        use_fake_image_model(w, &f, refused[i].provider);
        char id[37];
        styled_project(w, id);
        int calls = fake_server_calls(&f.s);
        fake_server_lock(&f.s);
        fake_server_push(&f.s, refused[i].mode);
        fake_server_unlock(&f.s);
        test_resp r = image_of(w, id, "FAILED");
        json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
        if (strstr(str(sc, "image_error"), refused[i].reason) == NULL)
            fail_msg("case %zu: image_error is \"%s\"", i, str(sc, "image_error"));
        assert_null(strstr(r.body, "KEY-0123"));
        assert_true(json_is_null(json_object_get(sc, "image")));
        test_resp_free(&r);
        assert_int_equal(fake_server_calls(&f.s), calls + 1);          /* not retried */
        test_resp_free((test_resp[]){wait_audio(w, id, "COMPLETED")}); /* its files settle */
        char names[2048];
        listing_but(w, id, NULL, names, sizeof(names));
        assert_null(strstr(names, ".png"));
        assert_null(strstr(names, ".tmp-"));
    }

    /* 429 with Retry-After 1, a 500 and a body that is not JSON: retried,
     * and the next attempts succeed. */
    use_fake_image_model(w, &f, "gemini");
    fake_server_lock(&f.s);
    f.s.retry_after = "1";
    fake_server_push(&f.s, FAKE_IMAGE_429);
    fake_server_push(&f.s, FAKE_IMAGE_500);
    fake_server_push(&f.s, FAKE_IMAGE_MALFORMED);
    fake_server_unlock(&f.s);
    char id[37];
    styled_project(w, id);
    int calls = fake_server_calls(&f.s);
    test_resp r = image_of(w, id, "COMPLETED");
    check_image(w, id, json_array_get(json_object_get(r.json, "items"), 0), "landscape", 1920,
                1080);
    test_resp_free(&r);
    assert_int_equal(fake_server_calls(&f.s), calls + 5);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT max(attempts) FROM jobs WHERE kind = "
                                              "'media.image'"),
                     4);

    /* A model that does not answer in time: the attempt is retried. */
    w->api.svc.image.timeout_ms = 300;
    fake_server_lock(&f.s);
    f.s.stall_ms = 1500;
    fake_server_push(&f.s, FAKE_IMAGE_STALL);
    fake_server_unlock(&f.s);
    styled_project(w, id);
    calls = fake_server_calls(&f.s);
    r = image_of(w, id, "COMPLETED");
    test_resp_free(&r);
    assert_int_equal(fake_server_calls(&f.s), calls + 3);
    assert_non_null(strstr(str_of_job_error(w), "could not be reached"));
    stop_pool(w);
    fake_image_stop(&f);
}

/* The scene's id (its only scene) and asks for its image alone; the
 * pool is stopped first, so only the test's own steps run the job. */
static void image_alone(world *w, const char *id, char sid[37])
{
    stop_pool(w);
    test_resp r = scenes_of(w, id);
    snprintf(sid, 37, "%s", str(json_array_get(json_object_get(r.json, "items"), 0), "id"));
    test_resp_free(&r);
    char path[200];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
}

/* One attempt of the queued image job, on this thread, made due at once
 * (no waiting out its backoff); the scenes afterwards. */
static test_resp image_attempt(world *w, const char *id)
{
    exec(w, "UPDATE jobs SET run_at = '" PAST "' WHERE kind = 'media.image'");
    error e;
    int rc = job_work_one(w->wdb, "test:image", &e);
    if (rc != 1)
        fail_msg("no image job ran (%d): %s", rc, rc < 0 ? e.message : "none was due");
    return scenes_of(w, id);
}

/* Nothing of the scene's generation gen in the project's directory, not
 * even a temporary, and both its names 404 on the media route. */
static void no_image_files(world *w, const char *id, const char *sid, int gen)
{
    char names[4096], prefix[80];
    listing_but(w, id, NULL, names, sizeof(names));
    snprintf(prefix, sizeof(prefix), "scene-%s-i%d", sid, gen);
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        if (strstr(tok, prefix) != NULL)
            fail_msg("a file of generation %d is in the store: %s", gen, tok);
    image_names_not_found(w, id, sid, gen);
}

/*
 * Decision 160: the model answers the first shape (the portrait) and fails
 * the second, attempt after attempt (a 500, a body that is not JSON, on
 * both providers). No attempt leaves a PNG of the generation, committed
 * or temporary; the last one ends the scene FAILED with the reason; asked
 * again, both shapes are made and committed together.
 */
static void
test_an_image_whose_second_shape_fails_commits_neither_and_a_retry_makes_both(void **state)
{
    world *w = *state;
    fake_image f;
    fake_image_start(&f);
    static const image_failure cases[] = {
        {"gemini", FAKE_IMAGE_500, "the gemini image model answered HTTP 500"},
        {"gemini", FAKE_IMAGE_MALFORMED, "the gemini image model's answer is not JSON"},
        {"openai", FAKE_IMAGE_500, "the openai image model answered HTTP 500"},
        {"openai", FAKE_IMAGE_MALFORMED, "the openai image model"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        use_fake_image_model(w, &f, cases[i].provider);
        char id[37], sid[37];
        styled_project(w, id);
        image_alone(w, id, sid);
        int calls = fake_server_calls(&f.s);
        fake_server_lock(&f.s);
        fake_server_every(&f.s, 2, cases[i].mode);
        fake_server_unlock(&f.s);
        test_resp r = {0};
        for (int attempt = 1; attempt <= 5; attempt++) {
            test_resp_free(&r);
            r = image_attempt(w, id);
            json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
            assert_string_equal(str(sc, "image_status"), attempt < 5 ? "PENDING" : "FAILED");
            assert_true(json_is_null(json_object_get(sc, "image")));
            assert_int_equal(fake_server_calls(&f.s), calls + 2 * attempt);
            no_image_files(w, id, sid, 1);
        }
        json_t *sc = json_array_get(json_object_get(r.json, "items"), 0);
        const char *why = str(sc, "image_error");
        if (strstr(why, "gave up after 5 attempts") == NULL || strstr(why, cases[i].reason) == NULL)
            fail_msg("case %zu: image_error is \"%s\"", i, why);
        test_resp_free(&r);

        /* Asked for again, with a model that answers: both shapes, together. */
        fake_server_lock(&f.s);
        fake_server_every(&f.s, 0, 0);
        fake_server_unlock(&f.s);
        char path[200];
        snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s/image", id, sid);
        r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
        test_expect(&r, 202, NULL);
        test_resp_free(&r);
        r = image_attempt(w, id);
        sc = json_array_get(json_object_get(r.json, "items"), 0);
        assert_string_equal(str(sc, "image_status"), "COMPLETED");
        assert_non_null(strstr(image_name(sc, "landscape"), "-i2.png"));
        check_image(w, id, sc, "landscape", 1920, 1080);
        check_image(w, id, sc, "portrait", 1080, 1920);
        test_resp_free(&r);
        no_image_files(w, id, sid, 1);
        char names[4096];
        listing_but(w, id, NULL, names, sizeof(names));
        assert_null(strstr(names, ".tmp-"));
    }
    fake_image_stop(&f);
}

/*
 * A worker killed with -9 between the two shapes: the model answered the
 * portrait, which waits fitted in a temporary, and stalls on the
 * landscape. Nothing of the scene's image is visible after the kill; once
 * the lease runs out another worker makes and commits both.
 */
static void
test_a_worker_killed_between_the_two_shapes_leaves_no_png_and_the_retry_makes_both(void **state)
{
    world *w = *state;
    fake_image f;
    fake_image_start(&f);
    char id[37], sid[37], log[300], url[200];
    use_fake_image_model(w, &f, "gemini");
    styled_project(w, id);
    image_alone(w, id, sid);
    fake_server_lock(&f.s);
    f.s.stall_ms = 120000; /* ended early at fake_image_stop */
    fake_server_every(&f.s, 2, FAKE_IMAGE_STALL);
    fake_server_unlock(&f.s);
    snprintf(log, sizeof(log), "%s/worker.log", w->dir);
    snprintf(url, sizeof(url), "PSTUDIO_IMAGE_GEMINI_BASE_URL=%s", f.s.base_url);
    const char *env[] = {"PSTUDIO_IMAGE_PROVIDER=gemini",
                         "PSTUDIO_IMAGE_GEMINI_API_KEY=" IMG_GEMINI_KEY,
                         "PSTUDIO_IMAGE_GEMINI_MODEL=gemini-image-test",
                         "PSTUDIO_LLM_PROVIDER=offline",
                         url,
                         NULL};
    int calls = fake_server_calls(&f.s);
    test_proc first;
    spawn_worker_with(w, &first, "ffmpeg", log, env);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (fake_server_calls(&f.s) < calls + 2 && time_mono_usec() < until)
        test_nap_ms(20);
    if (fake_server_calls(&f.s) < calls + 2)
        test_proc_print_log(&first);
    assert_int_equal(fake_server_calls(&f.s), calls + 2); /* waiting on the landscape */
    /* The portrait is made, in a temporary only. */
    char names[4096], portrait[120];
    snprintf(portrait, sizeof(portrait), "scene-%s-i1-portrait.png", sid);
    listing_but(w, id, NULL, names, sizeof(names));
    if (strstr(names, portrait) == NULL || strstr(names, ".tmp-") == NULL)
        fail_msg("no temporary portrait while the landscape is asked for: %s", names);
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);
    killed_mid_image_shows_nothing(w, id, sid);

    /* With a model that answers, another worker makes both. */
    fake_server_lock(&f.s);
    fake_server_every(&f.s, 0, 0);
    fake_server_unlock(&f.s);
    second_worker_makes_both_images(w, id, sid, log, env);
    fake_image_stop(&f);
}

/* ---- the video
 * ------------------------------------------------------------------------------------
 */

/* The progress a render reported, as the job wrote it on the project. */
typedef struct progress_log {
    pthread_mutex_t lock;
    int values[4096];
    int n;
} progress_log;

static void record_progress(const char *project_id, int permille, void *ctx)
{
    (void)project_id;
    progress_log *pl = ctx;
    pthread_mutex_lock(&pl->lock);
    if (pl->n < (int)(sizeof(pl->values) / sizeof(pl->values[0])))
        pl->values[pl->n++] = permille;
    pthread_mutex_unlock(&pl->lock);
}

/* A project with n narrated and drawn scenes, every one COMPLETED. */
static test_resp media_ready_project(world *w, const char *language, int n, char id[37])
{
    scripted_project(w, language, n, id);
    test_resp_free((test_resp[]){ask_media(w, id, 202)});
    test_resp_free((test_resp[]){wait_image(w, id, "COMPLETED")});
    return wait_audio(w, id, "COMPLETED");
}

static test_resp ask_render(world *w, const char *tok, const char *id, const char *body, long want)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/render", id);
    test_resp r = test_req(&w->api, "POST", path, tok, body, NULL);
    test_expect(&r, want, NULL);
    return r;
}

static test_resp project_of(world *w, const char *id)
{
    return project_get(w, id, "");
}

/* Polls the project until its render_status is want (the JSON's null: ""). */
static test_resp wait_render(world *w, const char *id, const char *want)
{
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 4 * 1000000;
    for (;;) {
        test_resp r = project_of(w, id);
        if (strcmp(str(r.json, "render_status"), want) == 0)
            return r;
        if (time_mono_usec() > until)
            fail_msg("the render of %s never reached %s: %s", id, want, r.body);
        test_resp_free(&r);
        test_nap_ms(50);
    }
}

/* The sum of the scenes' narration lengths. */
static int64_t narration_ms(json_t *scenes)
{
    int64_t total = 0;
    for (size_t i = 0; i < json_array_size(scenes); i++)
        total += json_integer_value(json_object_get(json_array_get(scenes, i), "duration_ms"));
    return total;
}

/* The order of the MP4's top-level boxes: moov must come before mdat. */
static void check_faststart(const char *path)
{
    size_t len;
    unsigned char *d = (unsigned char *)test_slurp(path, &len);
    assert_non_null(d);
    long moov = -1, mdat = -1;
    for (size_t at = 0; at + 8 <= len;) {
        uint64_t size = be32(d + at);
        if (size == 1 && at + 16 <= len)
            size = (uint64_t)be32(d + at + 8) << 32 | be32(d + at + 12);
        if (memcmp(d + at + 4, "moov", 4) == 0)
            moov = (long)at;
        if (memcmp(d + at + 4, "mdat", 4) == 0)
            mdat = (long)at;
        if (size < 8)
            break;
        at += size;
    }
    free(d);
    assert_true(moov >= 0 && mdat >= 0);
    if (moov > mdat)
        fail_msg("moov at %ld after mdat at %ld: not +faststart", moov, mdat);
}

/* ffprobe's streams of the video: codecs, size and the container's duration. */
static void check_video(world *w, const char *id, int width, int height, bool soft_subtitles,
                        int64_t want_ms)
{
    char file[600];
    media_path(w, id, "video.mp4", file, sizeof(file));
    const char *argv[] = {"/usr/bin/ffprobe",
                          "-v",
                          "error",
                          "-show_entries",
                          "format=format_name,duration:stream=codec_type,codec_name,width,height",
                          "-of",
                          "default=nw=1",
                          file,
                          NULL};
    char out[4096];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffprobe %s: %d: %s", file, rc, out);
    assert_non_null(strstr(out, "format_name=mov,mp4"));
    assert_non_null(strstr(out, "codec_name=h264"));
    assert_non_null(strstr(out, "codec_name=aac"));
    char size[64];
    snprintf(size, sizeof(size), "width=%d\nheight=%d", width, height);
    if (strstr(out, size) == NULL)
        fail_msg("the video is not %dx%d: %s", width, height, out);
    if (soft_subtitles != (strstr(out, "codec_name=mov_text") != NULL))
        fail_msg("subtitle track %s expected: %s", soft_subtitles ? "a" : "no", out);
    const char *d = strstr(out, "duration=");
    assert_non_null(d);
    int64_t ms = (int64_t)(strtod(d + 9, NULL) * 1000.0 + 0.5);
    if (llabs(ms - want_ms) * 100 > want_ms)
        fail_msg("the video lasts %lld ms, the narrations %lld ms", (long long)ms,
                 (long long)want_ms);
    check_faststart(file);
}

/* The soft track's cues: the first one of each scene starts with its narration. */
static void check_soft_subtitles(world *w, const char *id, json_t *scenes)
{
    char file[600];
    media_path(w, id, "video.mp4", file, sizeof(file));
    const char *argv[] = {"/usr/bin/ffmpeg", "-v", "error", "-i", file, "-map",
                          "0:s:0",           "-f", "srt",   "-",  NULL};
    static char out[65536];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffmpeg extracting the subtitles: %d: %s", rc, out);
    int64_t start = 0;
    for (size_t i = 0; i < json_array_size(scenes); i++) {
        json_t *sc = json_array_get(scenes, i);
        json_t *t = timings_of(w, id, sc);
        json_t *first = json_array_get(json_object_get(t, "cues"), 0);
        int64_t at = start + json_integer_value(json_object_get(first, "start_ms"));
        char stamp[64];
        snprintf(stamp, sizeof(stamp), "%02lld:%02lld:%02lld,%03lld --> ",
                 (long long)(at / 3600000), (long long)(at / 60000 % 60),
                 (long long)(at / 1000 % 60), (long long)(at % 1000));
        if (strstr(out, stamp) == NULL)
            fail_msg("no cue at %s for scene %zu: %s", stamp, i + 1, out);
        assert_non_null(strstr(out, json_string_value(json_object_get(first, "text"))));
        json_decref(t);
        start += json_integer_value(json_object_get(sc, "duration_ms"));
    }
}

/* The video's length as ffprobe reads the MP4's container. */
static int64_t probe_video_ms(world *w, const char *id)
{
    char file[600], out[512];
    media_path(w, id, "video.mp4", file, sizeof(file));
    const char *argv[] = {
        "/usr/bin/ffprobe",  "-v", "error", "-show_entries", "format=duration", "-of",
        "default=nw=1:nk=1", file, NULL};
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffprobe %s: %d: %s", file, rc, out);
    return (int64_t)(strtod(out, NULL) * 1000.0 + 0.5);
}

/*
 * video.vtt (decision 155), served as text/vtt to its owner only and read
 * back by ffprobe's WebVTT demuxer: one cue per cue of the scenes'
 * timings (those the render keeps: cut at the narration's end, empty ones
 * dropped), each starting within 100 ms of its scene's offset in the video
 * (the narrations before it) plus its own start, and none past the video's
 * end.
 */
static void check_vtt(world *w, const char *id, json_t *scenes)
{
    test_resp r = get_media(w, w->tok, id, "video.vtt", NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(strcasestr(r.headers, "Content-Type: text/vtt"));
    assert_true(strncmp(r.body, "WEBVTT", 6) == 0);
    test_resp_free(&r);
    r = get_media(w, w->tok_b, id, "video.vtt", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);

    char file[600];
    media_path(w, id, "video.vtt", file, sizeof(file));
    const char *argv[] = {
        "/usr/bin/ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time", "-of",
        "csv=p=0",          file, NULL};
    static char out[65536];
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("ffprobe %s: %d: %s", file, rc, out);
    int64_t video_ms = probe_video_ms(w, id), offset = 0;
    const char *at = out;
    size_t want = 0;
    for (size_t i = 0; i < json_array_size(scenes); i++) {
        json_t *sc = json_array_get(scenes, i);
        int64_t dur = json_integer_value(json_object_get(sc, "duration_ms"));
        json_t *t = timings_of(w, id, sc), *cues = json_object_get(t, "cues");
        for (size_t k = 0; k < json_array_size(cues); k++) {
            json_t *c = json_array_get(cues, k);
            int64_t a = json_integer_value(json_object_get(c, "start_ms"));
            int64_t b = json_integer_value(json_object_get(c, "end_ms"));
            const char *text = json_string_value(json_object_get(c, "text"));
            if (b > dur)
                b = dur;
            if (a < 0 || a >= b || text == NULL || text[0] == '\0')
                continue;
            double start_s, len_s;
            if (sscanf(at, "%lf,%lf", &start_s, &len_s) != 2)
                fail_msg("video.vtt has %zu cues; scene %zu has more: %s", want, i + 1, out);
            int64_t start = (int64_t)(start_s * 1000.0 + 0.5),
                    end = start + (int64_t)(len_s * 1000.0 + 0.5);
            if (llabs(start - (offset + a)) > 100)
                fail_msg("scene %zu's cue %zu starts at %lld ms in the video, not %lld + %lld",
                         i + 1, k + 1, (long long)start, (long long)offset, (long long)a);
            if (start < 0 || end > video_ms)
                fail_msg("a cue [%lld, %lld] ms is outside the video's %lld ms", (long long)start,
                         (long long)end, (long long)video_ms);
            want++;
            at = strchr(at, '\n');
            at = at ? at + 1 : "";
        }
        json_decref(t);
        offset += dur;
    }
    assert_true(want > 0);
    if (*at != '\0')
        fail_msg("video.vtt has cues beyond the scenes' %zu: %s", want, at);
}

static void check_png_size(world *w, const char *id, const char *name, uint32_t width,
                           uint32_t height)
{
    char file[600];
    media_path(w, id, name, file, sizeof(file));
    cairo_surface_t *sf = cairo_image_surface_create_from_png(file);
    assert_int_equal(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(sf), (int)width);
    assert_int_equal(cairo_image_surface_get_height(sf), (int)height);
    cairo_surface_destroy(sf);
}

static void test_a_project_is_rendered_in_both_aspects_with_progress(void **state)
{
    world *w = *state;
    char id[37];
    progress_log pl = {.lock = PTHREAD_MUTEX_INITIALIZER};
    w->api.svc.render_observer = record_progress;
    w->api.svc.render_observer_ctx = &pl;
    test_resp r = media_ready_project(w, "pt-BR", 3, id);
    int64_t want_ms = narration_ms(json_object_get(r.json, "items"));
    test_resp_free(&r);
    r = project_of(w, id);
    assert_true(json_is_true(json_object_get(r.json, "media_ready")));
    assert_true(json_is_null(json_object_get(r.json, "render_status")));
    assert_true(json_is_null(json_object_get(r.json, "video")));
    test_resp_free(&r);

    /* Options are checked; then one render, asked twice while it runs. */
    test_resp_free((test_resp[]){ask_render(w, w->tok, id, "{\"aspect\":\"4:3\"}", 422)});
    test_resp_free((test_resp[]){ask_render(w, w->tok, id, "{\"speed\":2}", 422)});
    r = ask_render(w, w->tok, id,
                   "{\"aspect\":\"16:9\",\"subtitles\":\"soft\",\"music\":\"ambient\"}", 202);
    assert_string_equal(str(r.json, "render_status"), "rendering");
    assert_string_equal(str(r.json, "render_aspect"), "16:9");
    test_resp_free(&r);
    r = ask_render(w, w->tok, id, "{\"aspect\":\"9:16\"}", 202);
    assert_string_equal(str(r.json, "render_aspect"), "16:9"); /* the running one answers */
    test_resp_free(&r);
    r = wait_render(w, id, "rendered");
    assert_int_equal(json_integer_value(json_object_get(r.json, "render_progress")), 1000);
    assert_true(json_is_null(json_object_get(r.json, "render_error")));
    json_t *video = json_object_get(r.json, "video");
    char url[200];
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/video.mp4", id);
    assert_string_equal(str(video, "mp4"), url);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/thumbnail.png", id);
    assert_string_equal(str(video, "thumbnail"), url);
    snprintf(url, sizeof(url), "/api/v1/projects/%s/media/video.vtt", id);
    assert_string_equal(str(video, "vtt"), url);
    assert_int_equal(json_integer_value(json_object_get(r.json, "render_duration_ms")), want_ms);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = "
                                              "'media.video'"),
                     1);

    /* Progress was reported before the end, and only forward. */
    pthread_mutex_lock(&pl.lock);
    assert_true(pl.n >= 2);
    assert_true(pl.values[0] > 0 && pl.values[0] < 1000);
    for (int i = 1; i < pl.n; i++)
        assert_true(pl.values[i] > pl.values[i - 1]);
    assert_int_equal(pl.values[pl.n - 1], 1000);
    pl.n = 0;
    pthread_mutex_unlock(&pl.lock);

    r = scenes_of(w, id);
    check_video(w, id, 1920, 1080, true, want_ms);
    check_soft_subtitles(w, id, json_object_get(r.json, "items"));
    check_vtt(w, id, json_object_get(r.json, "items"));
    test_resp_free(&r);
    check_png_size(w, id, "thumbnail.png", 1280, 720);
    r = get_media(w, w->tok, id, "video.mp4", NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(strcasestr(r.headers, "Content-Type: video/mp4"));
    test_resp_free(&r);
    /* Another user: neither the render nor the files. */
    test_resp_free((test_resp[]){ask_render(w, w->tok_b, id, NULL, 404)});
    r = get_media(w, w->tok_b, id, "video.mp4", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);

    /* Shorts, subtitles burned in, no music. */
    r = ask_render(w, w->tok, id, "{\"aspect\":\"9:16\",\"subtitles\":\"burn\",\"music\":\"none\"}",
                   202);
    test_resp_free(&r);
    test_resp_free((test_resp[]){wait_render(w, id, "rendered")});
    check_video(w, id, 1080, 1920, false, want_ms);
    check_png_size(w, id, "thumbnail.png", 720, 1280);
    r = scenes_of(w, id);
    check_vtt(w, id, json_object_get(r.json, "items")); /* with burned-in subtitles too */
    test_resp_free(&r);
    w->api.svc.render_observer = NULL;

    /* Editing a scene makes the video stale; the last one is still served. */
    r = scenes_of(w, id);
    char path[200];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", id,
             str(json_array_get(json_object_get(r.json, "items"), 1), "id"));
    test_resp_free(&r);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"narration\":\"Uma frase nova.\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = project_of(w, id);
    assert_string_equal(str(r.json, "render_status"), "stale");
    assert_false(json_is_true(json_object_get(r.json, "media_ready")));
    assert_true(json_is_object(json_object_get(r.json, "video")));
    test_resp_free(&r);
    /* Its narration is on its way again: not ready, and the 409 says which scene. */
    r = ask_render(w, w->tok, id, NULL, 409);
    assert_string_equal(str(r.json, "field"), "scenes");
    assert_non_null(strstr(str(r.json, "detail"), "scene 2 (audio"));
    test_resp_free(&r);
}

static void test_a_project_without_ready_media_cannot_be_rendered(void **state)
{
    world *w = *state;
    char id[37];
    scripted_project(w, "en", 2, id);
    test_resp r = ask_render(w, w->tok, id, NULL, 409);
    assert_string_equal(str(r.json, "field"), "scenes");
    assert_non_null(strstr(str(r.json, "detail"), "scene 1 (audio PENDING, image PENDING)"));
    assert_non_null(strstr(str(r.json, "detail"), "scene 2 (audio PENDING, image PENDING)"));
    test_resp_free(&r);
    r = project_of(w, id);
    assert_false(json_is_true(json_object_get(r.json, "media_ready")));
    assert_true(json_is_null(json_object_get(r.json, "render_status")));
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT count(*) FROM jobs WHERE kind = "
                                              "'media.video'"),
                     0);
    test_resp_free((test_resp[]){ask_render(w, w->tok_b, id, "{}", 404)});
}

/* The project's render_progress, read straight from the database. */
static int64_t render_progress(world *w, const char *id)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT render_progress FROM projects WHERE id = '%s'", id);
    return testdb_scalar(&w->api.t, sql);
}

static void test_a_worker_killed_mid_render_leaves_no_video_and_the_retry_finishes(void **state)
{
    world *w = *state;
    char id[37], log[300];
    test_resp r = media_ready_project(w, "en", 3, id);
    int64_t want_ms = narration_ms(json_object_get(r.json, "items"));
    test_resp_free(&r);
    stop_pool(w); /* from here on, only the worker processes run jobs */
    snprintf(log, sizeof(log), "%s/render-worker.log", w->dir);
    test_resp_free((test_resp[]){ask_render(w, w->tok, id, "{\"music\":\"ambient\"}", 202)});

    test_proc first, second;
    spawn_worker(w, &first, "ffmpeg", log);
    int64_t until = time_mono_usec() + (int64_t)WAIT_S * 1000000;
    while (render_progress(w, id) == 0 && time_mono_usec() < until)
        test_nap_ms(10);
    if (render_progress(w, id) == 0)
        test_proc_print_log(&first);
    assert_true(render_progress(w, id) > 0);
    /* Killed, its ffmpeg dies on its next progress write (EPIPE). */
    assert_int_equal(test_proc_stop(&first, SIGKILL, 30), 128 + SIGKILL);

    r = project_of(w, id);
    assert_string_equal(str(r.json, "render_status"), "rendering");
    assert_true(json_is_null(json_object_get(r.json, "video")));
    test_resp_free(&r);
    r = get_media(w, w->tok, id, "video.mp4", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    char names[4096];
    listing_but(w, id, NULL, names, sizeof(names));
    for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " "))
        if (strncmp(tok, "scene-", 6) != 0 && strncmp(tok, ".tmp-", 5) != 0)
            fail_msg("a visible file after the kill: %s", tok);

    exec(w, "UPDATE jobs SET lease_expires_at = '" PAST "' WHERE kind = 'media.video'");
    spawn_worker(w, &second, "ffmpeg", log);
    r = wait_render(w, id, "rendered");
    test_resp_free(&r);
    int status = test_proc_stop(&second, SIGTERM, 60);
    if (status != 0)
        test_proc_print_log(&second);
    assert_int_equal(status, 0);
    check_video(w, id, 1920, 1080, true, want_ms);
    check_png_size(w, id, "thumbnail.png", 1280, 720);
    assert_int_equal(testdb_scalar(&w->api.t, "SELECT attempts FROM jobs WHERE kind = "
                                              "'media.video'"),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_scene_is_narrated_as_wav_opus_timings_and_subtitles),
        T(test_a_project_without_scenes_cannot_ask_for_media),
        T(test_editing_a_narration_makes_its_audio_stale_and_it_is_made_again),
        T(test_failures_end_failed_with_a_reason_and_can_be_asked_again),
        T(test_an_ffmpeg_that_hangs_is_killed_and_the_attempt_retried),
        T(test_the_personas_rate_and_pitch_reach_the_narrator),
        T(test_media_are_served_with_ranges_etags_and_types),
        T(test_media_paths_cannot_leave_the_project),
        T(test_media_go_with_their_project_and_the_sweep_takes_what_is_left),
        T(test_the_files_of_deleted_and_replaced_scenes_go_and_the_sweep_heals_a_crash),
        T(test_a_worker_killed_mid_job_leaves_nothing_half_written_and_the_retry_finishes),
        T(test_every_scene_gets_a_card_in_both_sizes_with_its_narration),
        T(test_editing_a_visual_description_makes_its_image_stale_and_it_is_made_again),
        T(test_another_users_images_are_not_found),
        T(test_a_worker_killed_mid_image_leaves_no_png_visible_and_the_retry_draws_both),
        T(test_http_narrators_make_the_same_files_with_their_timings),
        T(test_http_narrator_failures_retry_or_fail_and_never_show_the_key),
        T(test_image_models_make_both_sizes_from_a_styled_prompt),
        T(test_image_model_failures_fail_or_retry_and_never_show_the_key),
        T(test_an_image_whose_second_shape_fails_commits_neither_and_a_retry_makes_both),
        T(test_a_worker_killed_between_the_two_shapes_leaves_no_png_and_the_retry_makes_both),
        T(test_a_project_is_rendered_in_both_aspects_with_progress),
        T(test_a_project_without_ready_media_cannot_be_rendered),
        T(test_a_worker_killed_mid_render_leaves_no_video_and_the_retry_finishes),
        cmocka_unit_test(test_subtitles_and_names_are_written_and_checked_exactly),
        cmocka_unit_test(test_the_opus_encoder_keeps_length_and_level_and_says_why_it_fails),
    };
    /* ctest runs the video's tests (minutes of ffmpeg) as test_media_render
     * with PSTUDIO_TEST_FILTER, and the rest with PSTUDIO_TEST_SKIP, so each
     * stays within its timeout and the two can run in parallel. */
    if (getenv("PSTUDIO_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("PSTUDIO_TEST_FILTER"));
    if (getenv("PSTUDIO_TEST_SKIP") != NULL)
        cmocka_set_skip_filter(getenv("PSTUDIO_TEST_SKIP"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
