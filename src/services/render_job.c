/*
 * The job side of the video (decisions 101-103): one attempt at a
 * project's render. Every input is read through the media store into a
 * scratch directory of the job's own, the ffmpeg program renders into
 * store temporaries with no transaction open, and one transaction under
 * the project's lock commits video.mp4, thumbnail.png and video.vtt and records
 * "rendered", only while the project is still at the job's generation.
 */
#include "services/render_service.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/subtitle.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/scene_store.h"
#include "providers/ffmpeg.h"
#include "providers/media_store.h"
#include "services/media_job_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define RENDER__FPS           30
#define RENDER__FADE_MS       500  /* a cross-fade between two scenes, at most */
#define RENDER__ZOOM          0.08 /* how far the slow zoom goes over a scene */
#define RENDER__PRESET        "veryfast"
#define RENDER__CRF           "23"
#define RENDER__FILE_MAX      ((int64_t)1 << 30)  /* one input file, at most */
#define RENDER__CUES_MAX      ((int64_t)16 << 20) /* a scene's timings JSON, at most */
#define RENDER__PROGRESS_USEC 1000000             /* progress is written at most this often */
#define RENDER__LEASE_S       300 /* renewed by the worker's heartbeats while it runs */

typedef struct render__task {
    services *s;
    db_conn *c;
    arena *a;
    const job *j;
    const char *project_id;
    int64_t generation;
    project pr;
    scene *sc;
    size_t n;
    int64_t total_ms;
    char scratch[512];
    bool portrait;
    media_temp video, thumb, vtt;
    bool have_video, have_thumb, have_vtt;
    subtitle_cue *cues; /* every scene's, on the video's timeline (decision 101) */
    size_t ncues;
    int64_t last_write_us; /* monotonic; 0: nothing written yet */
    int last_permille;
    bool overtaken; /* the project moved on (ffmpeg was stopped for it) */
} render__task;

/* ---- the project's render state ---------------------------------------------------------- */

typedef struct render__state_tx {
    render__task *t;
    project_render_state st;
    bool matched;
} render__state_tx;

static int render__state_body(db_conn *c, void *arg, error *err)
{
    render__state_tx *tx = arg;
    return project_store_render_set(c, tx->t->j->user_id, tx->t->project_id, tx->t->generation,
                                    &tx->st, time_now_usec(), &tx->matched, err);
}

static int render__set(render__task *t, const project_render_state *st, bool *matched, error *err)
{
    render__state_tx tx = {.t = t, .st = *st};
    int rc = db_tx(t->c, render__state_body, &tx, err);
    if (matched != NULL)
        *matched = tx.matched;
    return rc < 0 ? -1 : 0;
}

static void render__retry(job_result *out, const error *e)
{
    out->outcome = JOB_OUTCOME_RETRY;
    out->err = *e;
}

static void render__complete_only(render__task *t, job_result *out)
{
    error e;
    if (media_job_complete_only(t->c, t->j, &e) != 0) {
        render__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

/* Ends the render as failed with why, and the job with it. */
static void render__fail(render__task *t, job_result *out, const char *why)
{
    error e;
    project_render_state st = {
        .status = "failed", .error = media_job_reason(t->a, why), .duration_ms = -1};
    if (render__set(t, &st, NULL, &e) != 0) {
        render__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_FAIL;
    error_set(&out->err, ERR_INVALID, NULL, "the video of project %s failed: %s", t->project_id,
              why);
}

/* A transient failure: retried (the render stays "rendering" from 0), or
 * failed on the last attempt. */
static void render__transient(render__task *t, job_result *out, const char *why)
{
    if (t->j->attempts >= t->j->max_attempts) {
        char reason[700];
        snprintf(reason, sizeof(reason), "gave up after %d attempts; the last one failed: %s",
                 t->j->attempts, why);
        render__fail(t, out, reason);
        return;
    }
    error e;
    project_render_state st = {.status = "rendering", .duration_ms = -1};
    if (render__set(t, &st, NULL, &e) != 0) {
        render__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_RETRY;
    error_set(&out->err, ERR_UNAVAILABLE, NULL, "%s", why);
}

/* ---- the scratch directory ------------------------------------------------------------------ */

/* Removes the scratch directory and its files (flat: no subdirectories). */
static void render__scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            unlinkat(dirfd(d), de->d_name, 0) != 0)
            log_warn("render: %s/%s not removed: %s", dir, de->d_name, strerror(errno));
    closedir(d);
    if (rmdir(dir) != 0 && errno != ENOENT)
        log_warn("render: %s not removed: %s", dir, strerror(errno));
}

/* The job's own directory under $TMPDIR (else /tmp), named by the job, so a
 * retry after a kill -9 clears what the killed attempt left. Its path goes
 * into a filter graph, so only plain characters are taken from $TMPDIR. */
static int render__scratch_make(render__task *t, error *err)
{
    const char *base = getenv("TMPDIR");
    bool plain = base != NULL && base[0] == '/' && strlen(base) < 256;
    for (const char *p = base; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '/' || *p == '.' || *p == '_' || *p == '-';
    snprintf(t->scratch, sizeof(t->scratch), "%s/pstudio-render-%s", plain ? base : "/tmp",
             t->j->id);
    render__scratch_remove(t->scratch);
    if (mkdir(t->scratch, 0700) != 0) {
        int saved = errno;
        t->scratch[0] = '\0';
        return error_set_io(err, saved, "render: no scratch directory");
    }
    return 0;
}

static const char *render__path(render__task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *render__path(render__task *t, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    return arena_sprintf(t->a, "%s/%s", t->scratch, name);
}

static int render__write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Copies the project's media file name into the scratch file dest, reading
 * it only through the store (which may not be a local directory). */
static int render__copy_in(render__task *t, const char *name, const char *dest, error *err)
{
    media_file f;
    if (media_store_open(t->s->media, t->j->user_id, t->project_id, name, &f, err) != 0)
        return -1;
    int rc = 0;
    if (f.size > RENDER__FILE_MAX)
        rc = error_set(err, ERR_INVALID, NULL, "%s is larger than the render reads (%lld bytes)",
                       name, (long long)RENDER__FILE_MAX);
    int out = rc == 0 ? open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
    if (rc == 0 && out < 0)
        rc = error_set_io(err, errno, "render: cannot create %s", dest);
    char chunk[65536];
    int64_t copied = 0;
    while (rc == 0) {
        ssize_t got = read(f.fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = error_set(err, ERR_UNAVAILABLE, NULL, "render: reading %s: %s", name,
                           strerror(errno));
        if (got <= 0)
            break;
        copied += got;
        if (copied > RENDER__FILE_MAX)
            rc = error_set(err, ERR_UNAVAILABLE, NULL, "render: copying %s failed", name);
        else if (render__write_all(out, chunk, (size_t)got) != 0)
            rc = error_set_io(err, errno, "render: copying %s into the scratch directory failed",
                              name);
    }
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = error_set_io(err, errno, "render: copying %s into the scratch directory failed", name);
    close(f.fd);
    return rc;
}

/* A scene's media name with its stem's extension replaced by suffix. */
static const char *render__sibling(render__task *t, const char *path, const char *suffix)
{
    const char *dot = strrchr(path, '.');
    int stem = dot != NULL ? (int)(dot - path) : (int)strlen(path);
    return arena_sprintf(t->a, "%.*s%s", stem, path, suffix);
}

/* Appends to b; *bad once anything did not fit. */
static void render__printf(buf *b, bool *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void render__printf(buf *b, bool *bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (buf_vprintf(b, fmt, ap) != BUF_OK)
        *bad = true;
    va_end(ap);
}

/* ---- subtitles ------------------------------------------------------------------------------- */

/* Reads the cues of scene i's timings JSON (written with its SRT and VTT
 * from the same cues), offset by the scene's start and cut at its end. */
static int render__scene_cues(render__task *t, size_t i, int64_t start_ms, subtitle_cue **cues,
                              size_t *n, size_t *cap, error *err)
{
    const char *name = render__sibling(t, t->sc[i].audio_path, ".json");
    const char *dest = render__path(t, "cues-%03zu.json", i);
    if (render__copy_in(t, name, dest, err) != 0)
        return -1;
    json_error_t je;
    json_t *doc = json_load_file(dest, 0, &je);
    json_t *arr = json_object_get(doc, "cues");
    if (!json_is_array(arr)) {
        json_decref(doc);
        return error_set(err, ERR_INVALID, NULL, "scene %d's timings hold no cues: %s",
                         t->sc[i].position + 1, doc == NULL ? je.text : "no \"cues\" array");
    }
    int64_t end = t->sc[i].duration_ms;
    for (size_t k = 0; k < json_array_size(arr); k++) {
        json_t *c = json_array_get(arr, k);
        json_t *s = json_object_get(c, "start_ms"), *e = json_object_get(c, "end_ms");
        const char *text = json_string_value(json_object_get(c, "text"));
        if (!json_is_integer(s) || !json_is_integer(e) || text == NULL)
            continue;
        int64_t a = json_integer_value(s), b = json_integer_value(e);
        if (b > end)
            b = end;
        if (a < 0 || a >= b || text[0] == '\0')
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *cues = arena_grow(t->a, *cues, *n, *cap, sizeof(**cues));
        }
        (*cues)[(*n)++] = (subtitle_cue){start_ms + a, start_ms + b, arena_strdup(t->a, text)};
    }
    json_decref(doc);
    return 0;
}

/* ASS text: braces would start override blocks and a backslash an escape,
 * so they are replaced by their look-alikes. */
static void render__ass_text(buf *b, bool *bad, const char *s)
{
    for (; *s; s++) {
        if (*s == '{')
            render__printf(b, bad, "%s", "(");
        else if (*s == '}')
            render__printf(b, bad, "%s", ")");
        else if (*s == '\\')
            render__printf(b, bad, "%s", "/");
        else if (*s == '\n' || *s == '\r')
            render__printf(b, bad, "%s", " ");
        else
            render__printf(b, bad, "%c", *s);
    }
}

static void render__ass_time(buf *b, bool *bad, int64_t ms)
{
    int64_t cs = ms / 10;
    render__printf(b, bad, "%lld:%02lld:%02lld.%02lld", (long long)(cs / 360000),
                   (long long)(cs / 6000 % 60), (long long)(cs / 100 % 60), (long long)(cs % 100));
}

/* Burned subtitles as an ASS script whose canvas is the video's, so sizes
 * and margins are in the video's pixels whichever the aspect. */
static void render__ass(buf *b, bool *bad, const subtitle_cue *cues, size_t n, int w, int h)
{
    int size = (w < h ? w : h) / 18, margin = w / 12;
    render__printf(
        b, bad,
        "[Script Info]\nScriptType: v4.00+\nPlayResX: %d\nPlayResY: %d\nWrapStyle: 0\n"
        "ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Default,DejaVu Sans,%d,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,"
        "0,100,100,0,0,1,%d,1,2,%d,%d,%d,1\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        w, h, size, size / 12 + 1, margin, margin, h / 14);
    for (size_t i = 0; i < n; i++) {
        render__printf(b, bad, "%s", "Dialogue: 0,");
        render__ass_time(b, bad, cues[i].start_ms);
        render__printf(b, bad, "%s", ",");
        render__ass_time(b, bad, cues[i].end_ms);
        render__printf(b, bad, "%s", ",Default,,0,0,0,,");
        render__ass_text(b, bad, cues[i].text);
        render__printf(b, bad, "%s", "\n");
    }
}

/* Writes b as path: a new file (O_EXCL), or the store temporary made for
 * it (O_TRUNC), never through a link. */
static int render__write_file(const char *path, const buf *b, int how, error *err)
{
    int fd = open(path, O_WRONLY | how | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = fd < 0 || render__write_all(fd, b->data ? b->data : "", b->len) != 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && !rc) {
        rc = 1;
        saved = errno;
    }
    return rc ? error_set_io(err, saved, "render: cannot write %s", path) : 0;
}

/* Every scene's cues on the video's timeline: scene i's shifted by S_i, the
 * sum of the narrations before it, where its narration starts (the
 * cross-fade into it begins there too, decision 101), and cut at D_i. */
static int render__cues(render__task *t, error *err)
{
    size_t cap = 0;
    int64_t start = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (render__scene_cues(t, i, start, &t->cues, &t->ncues, &cap, err) != 0)
            return -1;
        start += t->sc[i].duration_ms;
    }
    return 0;
}

/* The in-band subtitle file the render uses: "" when the options say none
 * or no scene has a cue. */
static int render__subtitles(render__task *t, int w, int h, const char **path, error *err)
{
    *path = "";
    if (strcmp(t->pr.render_subtitles, "none") == 0 || t->ncues == 0)
        return 0;
    buf b;
    buf_init(&b, 64u << 20);
    bool burn = strcmp(t->pr.render_subtitles, "burn") == 0, bad = false;
    if (burn)
        render__ass(&b, &bad, t->cues, t->ncues, w, h);
    else
        bad = subtitle_write_srt(&b, t->cues, t->ncues) != 0;
    *path = render__path(t, burn ? "subtitles.ass" : "subtitles.srt");
    int rc = bad ? error_set(err, ERR_TOO_LARGE, NULL, "the project's subtitles are too long")
                 : render__write_file(*path, &b, O_CREAT | O_EXCL, err);
    buf_free(&b);
    return rc;
}

/* video.vtt, whatever the subtitle option (decision 155): the same cues as
 * WebVTT for the browser's <track>, which cannot read the MP4's mov_text.
 * Written even with no cue (a bare header), so the committed file always
 * matches the video beside it and never an older render's script. */
static int render__vtt(render__task *t, error *err)
{
    buf b;
    buf_init(&b, 64u << 20);
    int rc = subtitle_write_vtt(&b, t->cues, t->ncues) != 0
                 ? error_set(err, ERR_TOO_LARGE, NULL, "the project's subtitles are too long")
                 : render__write_file(t->vtt.path, &b, O_TRUNC, err);
    buf_free(&b);
    return rc;
}

/* ISO 639-2 for the soft track's language tag, from the project's BCP-47. */
static const char *render__language(const char *bcp47)
{
    static const struct {
        const char *two, *three;
    } map[] = {{"pt", "por"}, {"en", "eng"}, {"es", "spa"}, {"fr", "fra"},
               {"de", "deu"}, {"it", "ita"}, {"ja", "jpn"}, {"zh", "zho"}};
    for (size_t i = 0; bcp47 != NULL && i < sizeof(map) / sizeof(map[0]); i++)
        if (strncasecmp(bcp47, map[i].two, 2) == 0 && (bcp47[2] == '\0' || bcp47[2] == '-'))
            return map[i].three;
    return "und";
}

/* ---- the ffmpeg command ------------------------------------------------------------------------
 */

typedef struct render__args {
    arena *a;
    const char **v;
    size_t n, cap;
} render__args;

static void render__arg(render__args *x, const char *s)
{
    if (x->n + 2 > x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->v = arena_grow(x->a, x->v, x->n, x->cap, sizeof(*x->v));
    }
    x->v[x->n++] = s;
    x->v[x->n] = NULL;
}

static void render__args_of(render__args *x, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        render__arg(x, list[i]);
}

/* Scene i's video: its image scaled to cover the frame, then a slow zoom
 * in (even scenes) or a pan across (odd ones) for len_ms, as frames. */
static void render__scene_video(buf *g, bool *bad, size_t i, int64_t len_ms, int w, int h)
{
    long frames = (long)((len_ms * RENDER__FPS + 500) / 1000);
    if (frames < 1)
        frames = 1;
    render__printf(g, bad,
                   "[%zu:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1,",
                   2 * i, w, h, w, h);
    if (i % 2 == 0)
        render__printf(g, bad,
                       "zoompan=z='1+%.3f*on/%ld':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'",
                       RENDER__ZOOM, frames);
    else
        render__printf(g, bad, "zoompan=z='%.3f':x='(iw-iw/zoom)*on/%ld':y='ih/2-(ih/zoom/2)'",
                       1 + RENDER__ZOOM, frames);
    render__printf(g, bad, ":d=%ld:s=%dx%d:fps=%d,format=yuv420p,setpts=PTS-STARTPTS[v%zu];",
                   frames, w, h, RENDER__FPS, i);
}

/*
 * The filter graph. Timing (decision 101): scene i's narration starts at
 * S_i, the sum of the narrations before it, and lasts D_i; the voices are
 * concatenated exactly (each padded or cut to D_i), so the video's length
 * is the sum of the D_i. Each picture but the last is drawn F longer, and
 * the cross-fade into scene i+1 runs from S_{i+1} to S_{i+1} + F: the new
 * picture fades in as its narration starts.
 */
static void render__graph(render__task *t, buf *g, bool *bad, int w, int h, const char *ass)
{
    int64_t fade = RENDER__FADE_MS;
    for (size_t i = 0; i < t->n; i++)
        if (t->sc[i].duration_ms < fade)
            fade = t->sc[i].duration_ms;
    int64_t start = 0;
    for (size_t i = 0; i < t->n; i++)
        render__scene_video(g, bad, i, t->sc[i].duration_ms + (i + 1 < t->n ? fade : 0), w, h);
    const char *last = "v0";
    for (size_t i = 1; i < t->n; i++) {
        start += t->sc[i - 1].duration_ms;
        const char *next = arena_sprintf(t->a, "x%zu", i);
        render__printf(g, bad, "[%s][v%zu]xfade=transition=fade:duration=%.3f:offset=%.3f[%s];",
                       last, i, (double)fade / 1000.0, (double)start / 1000.0, next);
        last = next;
    }
    if (ass[0] != '\0')
        render__printf(g, bad, "[%s]ass=filename=%s[vout];", last, ass);
    else
        render__printf(g, bad, "[%s]null[vout];", last);

    for (size_t i = 0; i < t->n; i++)
        render__printf(
            g, bad,
            "[%zu:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,apad,"
            "atrim=end_sample=%lld,asetpts=N/SR/TB[a%zu];",
            2 * i + 1, (long long)(t->sc[i].duration_ms * 48), i);
    for (size_t i = 0; i < t->n; i++)
        render__printf(g, bad, "[a%zu]", i);
    render__printf(g, bad, "concat=n=%zu:v=0:a=1[voice]", t->n);
    if (strcmp(t->pr.render_music, "ambient") != 0) {
        render__printf(g, bad, "%s", ";[voice]anull[aout]");
        return;
    }
    /* An ambient bed made by ffmpeg itself (brown noise under a low drone),
     * faded in and out, ducked under the voice by a sidechain compressor. */
    double total = (double)t->total_ms / 1000.0;
    double out = total > 3.0 ? total - 2.0 : total / 2;
    render__printf(
        g, bad,
        ";anoisesrc=color=brown:sample_rate=48000:amplitude=0.6:duration=%.3f,"
        "lowpass=f=320,aformat=sample_fmts=fltp:channel_layouts=stereo[noise]"
        ";sine=frequency=110:sample_rate=48000:duration=%.3f,volume=0.25,"
        "aformat=sample_fmts=fltp:channel_layouts=stereo[drone]"
        ";[noise][drone]amix=inputs=2:normalize=0,volume=0.18,afade=t=in:d=1.5,"
        "afade=t=out:st=%.3f:d=2[bed]"
        ";[voice]asplit=2[vmain][vkey]"
        ";[bed][vkey]sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350[duck]"
        ";[vmain][duck]amix=inputs=2:duration=first:normalize=0[aout]",
        total, total, out);
}

/* ---- progress
 * ------------------------------------------------------------------------------------ */

/* ffmpeg's out_time: written on the project at most once a second, and only
 * forward; a project that moved on (or a lost lease) stops the run. */
static int render__progress(int64_t out_us, void *ctx)
{
    render__task *t = ctx;
    if (job_cancelled())
        return 1;
    int64_t pm = t->total_ms > 0 ? out_us / t->total_ms : 0; /* (us / 1000) * 1000 / total */
    if (pm > 999)
        pm = 999;
    int64_t now = time_mono_usec();
    if (pm <= t->last_permille ||
        (t->last_write_us != 0 && now - t->last_write_us < RENDER__PROGRESS_USEC))
        return 0;
    project_render_state st = {.status = "rendering", .progress = (int)pm, .duration_ms = -1};
    bool matched = false;
    error e;
    if (render__set(t, &st, &matched, &e) != 0) {
        log_warn("render of project %s: progress not written: %s", t->project_id, e.message);
        return 0;
    }
    if (!matched) {
        t->overtaken = true;
        return 1;
    }
    t->last_write_us = now;
    t->last_permille = (int)pm;
    if (t->s->render_observer != NULL)
        t->s->render_observer(t->project_id, (int)pm, t->s->render_observer_ctx);
    return 0;
}

/* ---- the files ----------------------------------------------------------------------------------
 */

/* Copies every scene's picture (of the aspect) and WAV into the scratch directory. */
static int render__inputs(render__task *t, error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const scene *sc = &t->sc[i];
        const char *image =
            t->portrait ? render__sibling(t, sc->image_path, "-portrait.png") : sc->image_path;
        if (render__copy_in(t, image, render__path(t, "scene-%03zu.png", i), err) != 0 ||
            render__copy_in(t, render__sibling(t, sc->audio_path, ".wav"),
                            render__path(t, "scene-%03zu.wav", i), err) != 0)
            return -1;
    }
    return 0;
}

static int render__video(render__task *t, int w, int h, error *err)
{
    const char *subs;
    if (render__subtitles(t, w, h, &subs, err) != 0)
        return -1;
    bool soft = subs[0] != '\0' && strcmp(t->pr.render_subtitles, "soft") == 0;
    buf g;
    buf_init(&g, 4u << 20);
    bool bad = false;
    render__graph(t, &g, &bad, w, h, soft ? "" : subs);
    if (bad) {
        buf_free(&g);
        return error_set(err, ERR_TOO_LARGE, NULL, "the render's filter graph is too large");
    }
    render__args x = {.a = t->a};
    static const char *const head[] = {"-nostdin",  "-hide_banner", "-loglevel", "error", "-y",
                                       "-progress", "pipe:1",       "-nostats",  NULL};
    render__args_of(&x, head);
    for (size_t i = 0; i < t->n; i++) {
        render__arg(&x, "-i");
        render__arg(&x, render__path(t, "scene-%03zu.png", i));
        render__arg(&x, "-i");
        render__arg(&x, render__path(t, "scene-%03zu.wav", i));
    }
    if (soft) {
        render__arg(&x, "-i");
        render__arg(&x, subs);
    }
    render__arg(&x, "-filter_complex");
    render__arg(&x, arena_strdup(t->a, buf_cstr(&g)));
    buf_free(&g);
    static const char *const maps[] = {"-map", "[vout]", "-map", "[aout]", NULL};
    render__args_of(&x, maps);
    if (soft) {
        render__arg(&x, "-map");
        render__arg(&x, arena_sprintf(t->a, "%zu:s", 2 * t->n));
        static const char *const subs_out[] = {"-c:s", "mov_text", "-disposition:s:0", "default",
                                               NULL};
        render__args_of(&x, subs_out);
        render__arg(&x, "-metadata:s:s:0");
        render__arg(&x, arena_sprintf(t->a, "language=%s", render__language(t->pr.language)));
    }
    static const char *const enc[] = {
        "-c:v",    "libx264", "-preset",   RENDER__PRESET, "-crf", RENDER__CRF, "-pix_fmt",
        "yuv420p", "-r",      "30",        "-c:a",         "aac",  "-b:a",      "160k",
        "-ar",     "48000",   "-movflags", "+faststart",   "-f",   "mp4",       NULL};
    render__args_of(&x, enc);
    render__arg(&x, t->video.path);
    return ffmpeg_run_progress(t->s->ffmpeg, x.v, t->s->render_timeout_ms, render__progress, t,
                               err);
}

/* The thumbnail: the first scene's picture at 1280x720 (720x1280 for 9:16). */
static int render__thumbnail(render__task *t, error *err)
{
    const char *scale = t->portrait ? "scale=720:1280:force_original_aspect_ratio=increase,"
                                      "crop=720:1280"
                                    : "scale=1280:720:force_original_aspect_ratio=increase,"
                                      "crop=1280:720";
    const char *args[] = {"-nostdin",
                          "-hide_banner",
                          "-loglevel",
                          "error",
                          "-y",
                          "-i",
                          render__path(t, "scene-000.png"),
                          "-vf",
                          scale,
                          "-frames:v",
                          "1",
                          "-update",
                          "1",
                          "-c:v",
                          "png",
                          "-f",
                          "image2",
                          t->thumb.path,
                          NULL};
    return ffmpeg_run(t->s->ffmpeg, args, t->s->media_timeout_ms, err);
}

static void render__discard(render__task *t)
{
    if (t->have_video)
        media_store_discard(t->s->media, &t->video);
    if (t->have_thumb)
        media_store_discard(t->s->media, &t->thumb);
    if (t->have_vtt)
        media_store_discard(t->s->media, &t->vtt);
    t->have_video = t->have_thumb = t->have_vtt = false;
}

/* ---- committing --------------------------------------------------------------------------------
 */

typedef struct render__commit_tx {
    render__task *t;
    bool matched;
} render__commit_tx;

/* Under the project's lock: only a render still wanted replaces the files,
 * then records them and completes the job, all or (but for a rename) none. */
static int render__commit_body(db_conn *c, void *arg, error *err)
{
    render__commit_tx *tx = arg;
    render__task *t = tx->t;
    project now;
    tx->matched = false;
    if (project_store_lock(c, t->j->user_id, t->project_id, err) != 0 ||
        project_store_get(c, t->a, t->j->user_id, t->project_id, &now, err) != 0)
        return err->kind == ERR_NOT_FOUND ? job_complete(c, t->j, err) : -1;
    if (now.render_generation != t->generation || now.render_status == NULL ||
        strcmp(now.render_status, "rendering") != 0)
        return job_complete(c, t->j, err);
    if (media_store_commit(t->s->media, &t->video, err) != 0) {
        t->have_video = false; /* a failed commit discards */
        return -1;
    }
    t->have_video = false;
    if (media_store_commit(t->s->media, &t->thumb, err) != 0) {
        t->have_thumb = false;
        return -1;
    }
    t->have_thumb = false;
    if (media_store_commit(t->s->media, &t->vtt, err) != 0) {
        t->have_vtt = false;
        return -1;
    }
    t->have_vtt = false;
    project_render_state st = {.status = "rendered",
                               .progress = 1000,
                               .duration_ms = t->total_ms,
                               .rendered_at = time_now_usec()};
    if (project_store_render_set(c, t->j->user_id, t->project_id, t->generation, &st,
                                 time_now_usec(), &tx->matched, err) != 0)
        return -1;
    return job_complete(c, t->j, err);
}

/* ---- one attempt
 * --------------------------------------------------------------------------------- */

static int render__payload(const job *j, const char **project_id, int64_t *generation, error *err)
{
    json_t *gen = json_object_get(j->payload, "generation");
    *project_id = json_string_value(json_object_get(j->payload, "project_id"));
    if (*project_id == NULL || !uuid_is_valid(*project_id) || !json_is_integer(gen) ||
        j->user_id[0] == '\0')
        return error_set(err, ERR_INVALID, "payload",
                         "a %s job needs project_id, generation and a user", j->kind);
    *generation = json_integer_value(gen);
    return 0;
}

/* The project and its scenes as the job renders them: false when the job
 * has nothing (more) to do or out is decided. */
static bool render__load(render__task *t, job_result *out)
{
    error e;
    if (project_store_get(t->c, t->a, t->j->user_id, t->project_id, &t->pr, &e) != 0) {
        if (e.kind == ERR_NOT_FOUND)
            render__complete_only(t, out); /* the project is gone */
        else
            render__retry(out, &e);
        return false;
    }
    if (t->pr.render_generation != t->generation || t->pr.render_status == NULL ||
        strcmp(t->pr.render_status, "rendering") != 0) {
        render__complete_only(t, out); /* asked again, or the scenes changed, since */
        return false;
    }
    if (scene_store_list(t->c, t->a, t->j->user_id, t->project_id, &t->sc, &t->n, &e) != 0) {
        render__retry(out, &e);
        return false;
    }
    if (t->s->media == NULL) {
        render__fail(t, out, "media storage is not configured on the worker");
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        const scene *sc = &t->sc[i];
        if (strcmp(sc->audio_status, "COMPLETED") != 0 ||
            strcmp(sc->image_status, "COMPLETED") != 0 || sc->audio_path == NULL ||
            sc->image_path == NULL || sc->duration_ms <= 0) {
            char why[160];
            snprintf(why, sizeof(why), "scene %d's audio or image is not ready", sc->position + 1);
            render__fail(t, out, why);
            return false;
        }
        t->total_ms += sc->duration_ms;
    }
    if (t->n == 0) {
        render__fail(t, out, "the project has no scenes");
        return false;
    }
    t->portrait = t->pr.render_aspect != NULL && strcmp(t->pr.render_aspect, "9:16") == 0;
    if (t->pr.render_subtitles == NULL)
        t->pr.render_subtitles = "soft";
    if (t->pr.render_music == NULL)
        t->pr.render_music = "none";
    return true;
}

static void render__run(render__task *t, job_result *out)
{
    error e;
    if (render__payload(t->j, &t->project_id, &t->generation, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_FAIL;
        return;
    }
    if (!render__load(t, out))
        return;
    int w = t->portrait ? 1080 : 1920, h = t->portrait ? 1920 : 1080;
    int rc = render__scratch_make(t, &e);
    if (rc == 0 && (rc = media_store_temp(t->s->media, t->j->user_id, t->project_id,
                                          RENDER_VIDEO_NAME, &t->video, &e)) == 0)
        t->have_video = true;
    if (rc == 0 && (rc = media_store_temp(t->s->media, t->j->user_id, t->project_id,
                                          RENDER_THUMBNAIL_NAME, &t->thumb, &e)) == 0)
        t->have_thumb = true;
    if (rc == 0 && (rc = media_store_temp(t->s->media, t->j->user_id, t->project_id,
                                          RENDER_VTT_NAME, &t->vtt, &e)) == 0)
        t->have_vtt = true;
    if (rc == 0)
        rc = render__inputs(t, &e);
    if (rc == 0)
        rc = render__cues(t, &e);
    if (rc == 0)
        rc = render__vtt(t, &e);
    if (rc == 0)
        rc = render__video(t, w, h, &e);
    if (rc == 0)
        rc = render__thumbnail(t, &e);
    if (rc != 0) {
        render__discard(t);
        if (t->overtaken)
            render__complete_only(t, out);
        else if (e.kind == ERR_CONFLICT)
            render__retry(out, &e); /* the lease was lost: its holder renders */
        else if (e.kind == ERR_CONFIG || e.kind == ERR_INVALID || e.kind == ERR_NOT_FOUND ||
                 e.kind == ERR_TOO_LARGE || e.kind == ERR_NO_SPACE)
            render__fail(t, out, e.message); /* a full disk: failed now (decision 142) */
        else
            render__transient(t, out, e.message);
        return;
    }
    render__commit_tx tx = {.t = t};
    if (db_tx(t->c, render__commit_body, &tx, &e) < 0) {
        render__discard(t);
        render__retry(out, &e); /* a lost lease or a fault: nothing recorded */
        return;
    }
    render__discard(t); /* overtaken: the temporaries were not committed */
    out->outcome = JOB_OUTCOME_DONE;
    if (tx.matched && t->s->render_observer != NULL)
        t->s->render_observer(t->project_id, 1000, t->s->render_observer_ctx);
}

void render_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    arena a;
    arena_init(&a, 64 * 1024);
    render__task t = {.s = ctx, .c = c, .a = &a, .j = j};
    render__run(&t, out);
    if (t.scratch[0] != '\0')
        render__scratch_remove(t.scratch);
    arena_free(&a);
}

/* A job that died without its handler deciding (its last attempt lost the
 * lease): the render would stay "rendering" for good. */
void render_job_dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    if (strcmp(j->kind, MEDIA_JOB_VIDEO) != 0 || !json_is_object(j->payload))
        return;
    arena a;
    arena_init(&a, 1024);
    render__task t = {.s = ctx, .c = c, .a = &a, .j = j};
    error e;
    if (render__payload(j, &t.project_id, &t.generation, &e) == 0) {
        project_render_state st = {
            .status = "failed", .error = media_job_reason(&a, why), .duration_ms = -1};
        if (render__set(&t, &st, NULL, &e) != 0)
            log_error("job %s died and its render could not be marked failed: %s", j->id,
                      e.message);
    }
    arena_free(&a);
}

void render_service_register_jobs(services *s)
{
    /* The lease is renewed by the worker's heartbeats while the render
     * runs (PSTUDIO_RENDER_TIMEOUT_MS bounds the run itself), so a killed
     * worker's render starts again within five minutes. */
    job_register(MEDIA_JOB_VIDEO, render_job, s, RENDER__LEASE_S);
    job_on_dead(MEDIA_JOB_VIDEO, render_job_dead);
}
