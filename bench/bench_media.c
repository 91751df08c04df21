/*
 * bench_media: issue 14's media benchmark, driven as a user drives it.
 * Against a running `pstudio serve` (bench/media.sh starts one on SQLite in
 * a temporary data directory, offline writer, espeak-ng, cairo cards), over
 * HTTP: sign up, POST /api/v1/projects with 10 scenes, poll until the
 * project is scripted, POST …/media, poll until every scene's audio and
 * image are COMPLETED. The figure is the real-time factor: the wall time
 * from the first POST to the last COMPLETED, over the narration's length
 * (the sum of the scenes' duration_ms). Target: at most 0.01.
 *
 * So the figure is explained, the same scenes' stages are then run in this
 * process, one at a time, each as the job runs it: espeak-ng's synthesis,
 * the WAV written and the Opus encoded in process by libopusenc (decision
 * 133; before it, ffmpeg's encode cost 66-97 ms a scene just to start), the
 * card at each size, and each PNG's
 * atomic write (temporary, fsync, rename, directory fsync). With the job
 * rows' finish times (read from the server's database) this says what the
 * wall time was spent on. Nothing is asserted: it prints figures.
 *
 *   bench_media --base http://127.0.0.1:PORT --db DATABASE_URL [--scenes N]
 *               [--runs N] [--language en-US] [--poll-ms N]
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/subtitle.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "providers/card.h"
#include "providers/media_store.h"
#include "providers/oggopus.h"
#include "providers/tts.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_SCENES_MAX 30

static void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_media: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double ms_since(int64_t t0)
{
    return (double)(time_mono_usec() - t0) / 1000.0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ----------------------------------------------------------------------------- */

typedef struct bench_http {
    CURL *h;
    char base[256];
    char auth[300];
    buf body;
    long requests; /* how many this run sent, polls included */
} bench_http;

static size_t bench_sink(char *p, size_t size, size_t nmemb, void *ud)
{
    return buf_append(ud, p, size * nmemb) == BUF_OK ? size * nmemb : 0;
}

/* One request; the answer parsed as JSON (NULL when it has no body). */
static json_t *bench_call(bench_http *c, const char *method, const char *path, const char *body,
                          long want)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->auth[0])
        hd = curl_slist_append(hd, c->auth);
    buf_reset(&c->body);
    curl_easy_reset(c->h); /* keeps the connection, forgets the last request's options */
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hd);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    }
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, bench_sink);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
    long status = 0;
    CURLcode rc = curl_easy_perform(c->h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    c->requests++;
    if (status != want)
        bench_die("%s %s: HTTP %ld (wanted %ld): %s %s", method, path, status, want,
                  rc == CURLE_OK ? "" : curl_easy_strerror(rc), buf_cstr(&c->body));
    return c->body.len ? json_loads(buf_cstr(&c->body), 0, NULL) : NULL;
}

static const char *bench_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* CPU milliseconds of a process and of its children it waited for (ffmpeg),
 * from /proc/PID/stat; -1 when it cannot be read. */
static double bench_proc_cpu_ms(long pid)
{
    if (pid <= 0)
        return -1;
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* the command name may hold spaces */
    unsigned long long v[4] = {0};
    /* After ") ": state, then fields 4-13, then utime stime cutime cstime (14-17). */
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3]) != 4)
        return -1;
    return (double)(v[0] + v[1] + v[2] + v[3]) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* This thread's CPU time in ms. */
static double bench_thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- one end-to-end run --------------------------------------------------------------- */

typedef struct bench_scene {
    char *narration, *visual;
    int64_t duration_ms;
} bench_scene;

typedef struct bench_run {
    double script_ms, media_ms, wall_ms; /* POST -> scripted, POST media -> done, the sum */
    double server_cpu_ms;                /* the server's CPU and its waited-for children's */
    double narration_s;
    long requests;
    char project_id[40];
    int64_t started_at; /* the media POST, wall clock, to read the job rows against */
    bench_scene sc[BENCH_SCENES_MAX];
    int nscenes;
} bench_run;

/* True when every scene's audio and image are COMPLETED; dies on FAILED. */
static bool bench_all_done(json_t *items)
{
    bool all = json_array_size(items) > 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *s = json_array_get(items, i);
        const char *a = bench_str(s, "audio_status"), *im = bench_str(s, "image_status");
        if (strcmp(a, "FAILED") == 0 || strcmp(im, "FAILED") == 0)
            bench_die("scene %zu failed: audio %s, image %s", i + 1, bench_str(s, "audio_error"),
                      bench_str(s, "image_error"));
        all = all && strcmp(a, "COMPLETED") == 0 && strcmp(im, "COMPLETED") == 0;
    }
    return all;
}

static void bench_one(bench_http *c, int scenes, const char *language, int poll_ms, int n,
                      long server_pid, bench_run *out)
{
    double cpu0 = bench_proc_cpu_ms(server_pid);
    char body[256], path[256];
    snprintf(body, sizeof(body),
             "{\"topic\":\"Run %d: how lighthouses guided ships before radio\","
             "\"target_scenes\":%d,\"language\":\"%s\"}",
             n, scenes, language);
    long before = c->requests;
    int64_t t0 = time_mono_usec();
    json_t *pr = bench_call(c, "POST", "/api/v1/projects", body, 202);
    snprintf(out->project_id, sizeof(out->project_id), "%s", bench_str(pr, "id"));
    json_decref(pr);
    snprintf(path, sizeof(path), "/api/v1/projects/%s", out->project_id);
    for (;;) {
        pr = bench_call(c, "GET", path, NULL, 200);
        const char *st = bench_str(pr, "status");
        bool done = strcmp(st, "scripted") == 0;
        if (strcmp(st, "failed") == 0)
            bench_die("the script failed: %s", buf_cstr(&c->body));
        json_decref(pr);
        if (done)
            break;
        sleep_ms(poll_ms);
    }
    out->script_ms = ms_since(t0);
    int64_t t1 = time_mono_usec();
    out->started_at = time_now_usec();
    snprintf(path, sizeof(path), "/api/v1/projects/%s/media", out->project_id);
    json_decref(bench_call(c, "POST", path, NULL, 202));
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", out->project_id);
    json_t *list;
    for (;;) {
        list = bench_call(c, "GET", path, NULL, 200);
        if (bench_all_done(json_object_get(list, "items")))
            break;
        json_decref(list);
        sleep_ms(poll_ms);
    }
    out->media_ms = ms_since(t1);
    out->wall_ms = ms_since(t0);
    out->server_cpu_ms = cpu0 < 0 ? -1 : bench_proc_cpu_ms(server_pid) - cpu0;
    out->requests = c->requests - before;
    json_t *items = json_object_get(list, "items");
    out->nscenes = (int)json_array_size(items);
    if (out->nscenes > BENCH_SCENES_MAX)
        out->nscenes = BENCH_SCENES_MAX;
    int64_t total = 0;
    for (int i = 0; i < out->nscenes; i++) {
        json_t *s = json_array_get(items, (size_t)i);
        out->sc[i].narration = xstrdup(bench_str(s, "narration"));
        out->sc[i].visual = xstrdup(bench_str(s, "visual_description"));
        out->sc[i].duration_ms = json_integer_value(json_object_get(s, "duration_ms"));
        total += out->sc[i].duration_ms;
    }
    out->narration_s = (double)total / 1000.0;
    json_decref(list);
}

/* When, after the media POST, the last job of each kind finished, and
 * the spread of the image jobs' finishes: from the server's own rows. */
static void bench_job_times(db *d, const bench_run *r)
{
    static db_sql q = DB_SQL(
        "SELECT kind, count(*), min(finished_at), max(finished_at) FROM jobs "
        "WHERE kind IN ('media.audio', 'media.image') AND created_at >= $1 AND status = 'done' "
        "GROUP BY kind ORDER BY kind");
    db_conn *c = db_acquire(d);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        bench_die("job rows: %s", de.message);
    db_bind_time(s, 1, r->started_at);
    int64_t start = r->started_at;
    while (db_step(s, &de) == DB_ROW) {
        int64_t first = db_col_time(s, 2), last = db_col_time(s, 3);
        printf("      %-12s %2lld jobs done; first finished %7.1f ms, last %7.1f ms after the "
               "media POST\n",
               db_col_text(s, 0), (long long)db_col_int64(s, 1), (double)(first - start) / 1000.0,
               (double)(last - start) / 1000.0);
    }
    db_reset(s);
    db_release(c);
}

/* ---- the stages, one at a time in this process ---------------------------------------- */

typedef struct bench_stages {
    double synth_ms, wav_ms, encode_ms, card_land_ms, card_port_ms, put_ms;
    size_t png_bytes, ogg_bytes;
} bench_stages;

static void bench_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        bench_die("writing %s failed", path);
    close(fd);
}

/* The Opus as the narration job encodes it, PCM in, Ogg Opus out: the
 * CPU it used; its size into *bytes. */
static double bench_encode(const tts_result *tr, const char *ogg, size_t *bytes)
{
    bench_write_file(ogg, "", 0); /* the job's temporary exists before it is written */
    error e;
    double t0 = bench_thread_cpu_ms();
    if (oggopus_write_file(ogg, tr->samples, tr->nsamples, tr->sample_rate, &e) != 0)
        bench_die("opus: %s", e.message);
    double ms = bench_thread_cpu_ms() - t0;
    struct stat sb;
    if (stat(ogg, &sb) == 0)
        *bytes += (size_t)sb.st_size;
    return ms;
}

static void bench_stages_run(const bench_run *r, const char *language, const char *dir,
                             bench_stages *st)
{
    memset(st, 0, sizeof(*st));
    error e;
    char root[512], wav[600], ogg[600];
    snprintf(root, sizeof(root), "%s/store", dir);
    media_store *ms = media_store_local(root, &e);
    if (ms == NULL)
        bench_die("store: %s", e.message);
    const char *uid = "01900000-0000-7000-8000-000000000001";
    const char *pid = "01900000-0000-7000-8000-000000000002";
    snprintf(wav, sizeof(wav), "%s/scene.wav", dir);
    snprintf(ogg, sizeof(ogg), "%s/scene.ogg", dir);
    uint8_t head[WAV_HEADER_LEN];

    for (int i = 0; i < r->nscenes; i++) {
        tts_request rq = {.text = r->sc[i].narration, .language = language, .pitch = -1};
        tts_result tr;
        double t0 = bench_thread_cpu_ms();
        tts_espeak_synthesize(&rq, &tr);
        st->synth_ms += bench_thread_cpu_ms() - t0;
        if (tr.outcome != TTS_OK)
            bench_die("synthesis: %s", tr.message);
        t0 = bench_thread_cpu_ms();
        wav_header(head, tr.sample_rate, 1, tr.nsamples);
        int fd = open(wav, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
            write(fd, tr.samples, tr.nsamples * 2) != (ssize_t)(tr.nsamples * 2))
            bench_die("writing the WAV failed");
        close(fd);
        st->wav_ms += bench_thread_cpu_ms() - t0;
        st->encode_ms += bench_encode(&tr, ogg, &st->ogg_bytes);
        tts_result_free(&tr);

        static const card_format formats[] = {CARD_PORTRAIT, CARD_LANDSCAPE};
        for (size_t k = 0; k < 2; k++) {
            card_request cq = {.title = "How lighthouses guided ships before radio",
                               .text = r->sc[i].visual[0] ? r->sc[i].visual : r->sc[i].narration,
                               .scene_number = i + 1,
                               .scene_count = r->nscenes,
                               .format = formats[k]};
            buf b;
            buf_init(&b, CARD_PNG_MAX);
            card_result cr;
            t0 = bench_thread_cpu_ms();
            if (card_render_png(&cq, &b, &cr, &e) != 0)
                bench_die("card: %s", e.message);
            *(k == 0 ? &st->card_port_ms : &st->card_land_ms) += bench_thread_cpu_ms() - t0;
            char name[64];
            snprintf(name, sizeof(name), "scene-%d%s.png", i, k == 0 ? "-portrait" : "");
            int64_t w0 = time_mono_usec();
            if (media_store_put(ms, uid, pid, name, b.data, b.len, &e) != 0)
                bench_die("put: %s", e.message);
            st->put_ms += ms_since(w0); /* mostly waiting for the disk: wall time */
            st->png_bytes += b.len;
            buf_free(&b);
        }
    }
    media_store_remove_project(ms, uid, pid, &e);
    media_store_free(ms);
    unlink(wav);
    unlink(ogg);
}

/* ---- main ----------------------------------------------------------------------------- */

static int bench_cmp(const void *a, const void *b)
{
    double x = ((const bench_run *)a)->wall_ms / ((const bench_run *)a)->narration_s;
    double y = ((const bench_run *)b)->wall_ms / ((const bench_run *)b)->narration_s;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *base = NULL, *url = NULL, *language = "en-US";
    int scenes = 10, runs = 3, poll_ms = 10;
    long server_pid = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--base") == 0)
            base = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--db") == 0)
            url = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--scenes") == 0)
            scenes = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--language") == 0)
            language = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--poll-ms") == 0)
            poll_ms = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--server-pid") == 0)
            server_pid = atol(argv[++i]);
        else
            bench_die("usage: bench_media --base URL --db DATABASE_URL [--scenes N] [--runs N] "
                      "[--language L] [--poll-ms N] [--server-pid PID]");
    }
    if (base == NULL || url == NULL)
        bench_die("--base and --db are needed (bench/media.sh passes them)");
    if (scenes < 1 || scenes > BENCH_SCENES_MAX || runs < 1 || runs > 50 || poll_ms < 1)
        bench_die("--scenes 1-%d, --runs 1-50, --poll-ms at least 1", BENCH_SCENES_MAX);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db_error de;
    db *d = db_open(url, 1, &de);
    if (d == NULL)
        bench_die("%s", de.message);

    bench_http c = {.h = curl_easy_init()};
    buf_init(&c.body, 64u << 20);
    snprintf(c.base, sizeof(c.base), "%s", base);
    char signup[160];
    snprintf(signup, sizeof(signup),
             "{\"email\":\"media-%lld@example.com\",\"password\":\"a long bench passphrase\"}",
             (long long)time_now_usec());
    json_t *doc = bench_call(&c, "POST", "/api/v1/auth/signup", signup, 201);
    snprintf(c.auth, sizeof(c.auth), "Authorization: Bearer %s", bench_str(doc, "token"));
    json_decref(doc);

    bench_run *r = xcalloc((size_t)runs, sizeof(*r));
    for (int i = 0; i < runs; i++) {
        bench_one(&c, scenes, language, poll_ms, i + 1, server_pid, &r[i]);
        printf("run %d: %d scenes, narration %.1f s; wall %.0f ms (script %.0f, media %.0f), "
               "%ld requests; server CPU %.0f ms; real-time factor %.4f\n",
               i + 1, r[i].nscenes, r[i].narration_s, r[i].wall_ms, r[i].script_ms, r[i].media_ms,
               r[i].requests, r[i].server_cpu_ms, r[i].wall_ms / 1000.0 / r[i].narration_s);
        bench_job_times(d, &r[i]);
    }
    /* The median run (by real-time factor) is the one explained below. */
    qsort(r, (size_t)runs, sizeof(*r), bench_cmp);
    bench_run *m = &r[runs / 2];
    double rtf = m->wall_ms / 1000.0 / m->narration_s;

    char dir[] = "/tmp/pstudio-bench-media-XXXXXX";
    if (mkdtemp(dir) == NULL)
        bench_die("mkdtemp failed");
    bench_stages st;
    bench_stages_run(m, language, dir, &st);
    rmdir(dir);

    int n = m->nscenes;
    double stages =
        st.synth_ms + st.wav_ms + st.encode_ms + st.card_land_ms + st.card_port_ms + st.put_ms;
    printf("\nbench_media: %d scenes (%s), median of %d run%s, poll every %d ms\n", n, language,
           runs, runs == 1 ? "" : "s", poll_ms);
    printf("  end to end   POST /projects -> every scene's audio and image COMPLETED: %.0f ms\n",
           m->wall_ms);
    printf("               narration %.1f s; real-time factor %.4f (target <= 0.01: %s)\n",
           m->narration_s, rtf, rtf <= 0.01 ? "met" : "MISSED");
    printf("               script phase %.0f ms, media phase %.0f ms\n", m->script_ms, m->media_ms);
    if (m->server_cpu_ms >= 0)
        printf("               server CPU (any children included) %.0f ms: %.2f of %ld "
               "cores busy over the wall time\n",
               m->server_cpu_ms, m->server_cpu_ms / m->wall_ms, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  stages one at a time in this process, CPU ms (per scene, for %d scenes, share of "
           "the wall time):\n",
           n);
#define STAGE(label, v)                                                                            \
    printf("    %-40s %7.1f ms %8.1f ms %6.1f %%\n", label, (v) / n, (v), 100.0 * (v) / m->wall_ms)
    STAGE("espeak-ng synthesis", st.synth_ms);
    STAGE("WAV write", st.wav_ms);
    STAGE("Opus encode (libopusenc, in process)", st.encode_ms);
    STAGE("card 1080x1920 (portrait)", st.card_port_ms);
    STAGE("card 1920x1080 (landscape)", st.card_land_ms);
    STAGE("PNG writes (wall: temp, fsync, rename)", st.put_ms);
    STAGE("sum of the stages", stages);
    printf("    PNGs: %.0f KB a scene; Opus: %.1f KB a scene\n", (double)st.png_bytes / 1024.0 / n,
           (double)st.ogg_bytes / 1024.0 / n);
    printf("  what a wall time at the target would be: %.0f ms for this narration\n",
           m->narration_s * 10.0);

    for (int i = 0; i < runs; i++)
        for (int k = 0; k < r[i].nscenes; k++) {
            free(r[i].sc[k].narration);
            free(r[i].sc[k].visual);
        }
    free(r);
    buf_free(&c.body);
    curl_easy_cleanup(c.h);
    db_close(d);
    curl_global_cleanup();
    return 0;
}
