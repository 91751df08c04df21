/*
 * The job side of narration: one attempt at a scene's audio (see
 * media_service.h for the whole contract). Synthesis and encoding run with
 * no transaction open; every file is written atomically before the one
 * transaction that records the result and completes the job.
 */
#include "services/media_job_common.h"
#include "services/media_service.h"
#include "services/render_service.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/subtitle.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "jobs/worker.h"
#include "providers/oggopus.h"
#include "providers/tts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "WAV samples are written in host order, which must be little-endian"
#endif

/* A cue holds at most this many words or bytes of text: two lines of a
 * subtitle at the usual 42 characters. */
#define MEDIA__CUE_WORDS 12
#define MEDIA__CUE_BYTES 84
static const char *const media__exts[] = {".wav", ".ogg", ".srt", ".vtt", ".json", NULL};

/* ---- what to say and how ------------------------------------------------------------------ */

/* Language, voice, rate and pitch: the project's language, else the
 * persona's; the persona's voice settings. A persona deleted since leaves
 * the defaults, which still narrate. */
static void media__voice(media_job_task *t, tts_request *rq)
{
    project pr;
    error e;
    rq->language = "en";
    rq->pitch = -1;
    if (project_store_get(t->c, t->a, t->j->user_id, t->js.project_id, &pr, &e) != 0)
        return;
    persona ps;
    if (pr.persona_id != NULL &&
        persona_store_get_visible(t->c, t->a, pr.persona_id, t->j->user_id, &ps, &e) == 0) {
        rq->language = ps.language;
        rq->voice = ps.voice;
        rq->rate = ps.voice_rate > 0 ? (int)ps.voice_rate : 0;
        rq->pitch = (int)ps.voice_pitch;
    }
    /* The persona's voice speaks its own language; a project in another
     * one gets that language's voice. */
    if (pr.language != NULL && strcasecmp(pr.language, rq->language) != 0) {
        rq->language = pr.language;
        rq->voice = NULL;
    }
}

/* ---- the files ------------------------------------------------------------------------------ */

/* The cue text from one word to another: the narration between them, with
 * the punctuation that ends the last word, on one line. */
static const char *media__cue_text(arena *a, const char *text, const tts_word *first,
                                   const tts_word *last)
{
    size_t from = first->offset, to = last->offset + last->len, n = strlen(text);
    while (from > 0 && text[from - 1] != ' ' && text[from - 1] != '\n' && text[from - 1] != '\t' &&
           text[from - 1] != '\r')
        from--;
    while (to < n && text[to] != ' ' && text[to] != '\n' && text[to] != '\t' && text[to] != '\r')
        to++;
    char *s = arena_alloc(a, to - from + 1);
    size_t k = 0;
    bool space = false;
    for (size_t i = from; i < to; i++) {
        char ch = text[i];
        bool ws = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (ws) {
            space = k > 0;
            continue;
        }
        if (space)
            s[k++] = ' ';
        space = false;
        s[k++] = ch;
    }
    s[k] = '\0';
    /* "-->" would end a cue's timing line early in a reader. */
    for (char *arrow; (arrow = strstr(s, "-->")) != NULL;)
        arrow[2] = ' ';
    return s;
}

/* Cues from the words: a new one at each sentence, and when one would pass
 * MEDIA__CUE_WORDS words or MEDIA__CUE_BYTES bytes. A cue lasts until the
 * next begins, the last until the audio ends. */
static subtitle_cue *media__cues(arena *a, const char *text, const tts_result *r, size_t *ncues)
{
    subtitle_cue *cues = arena_alloc(a, (r->nwords ? r->nwords : 1) * sizeof(*cues));
    size_t n = 0, first = 0;
    int64_t end_ms = tts_result_duration_ms(r);
    for (size_t i = 0; i <= r->nwords; i++) {
        bool split = i == r->nwords;
        if (!split && i > first) {
            const tts_word *w = &r->words[i];
            size_t bytes = w->offset + w->len - r->words[first].offset;
            split = w->sentence || i - first >= MEDIA__CUE_WORDS || bytes > MEDIA__CUE_BYTES;
        }
        if (!split || i == first)
            continue;
        subtitle_cue *c = &cues[n++];
        c->start_ms = r->words[first].start_ms;
        c->end_ms = i < r->nwords ? r->words[i].start_ms : end_ms;
        if (c->end_ms <= c->start_ms)
            c->end_ms = c->start_ms + 1;
        c->text = media__cue_text(a, text, &r->words[first], &r->words[i - 1]);
        first = i;
    }
    *ncues = n;
    return cues;
}

static int media__put_text(media_job_task *t, const char *ext, const buf *b, error *err)
{
    char name[MEDIA_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s%s", t->js.stem, ext);
    return media_store_put(t->s->media, t->j->user_id, t->js.project_id, name,
                           b->data ? b->data : "", b->len, err);
}

static int media__write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The WAV and its Opus encoding (in process, decision 133): both
 * temporaries until both are whole, then committed, the WAV first. */
static int media__audio_files(media_job_task *t, const tts_result *r, error *err)
{
    media_store *ms = t->s->media;
    const char *uid = t->j->user_id;
    char wav_name[MEDIA_NAME_MAX + 1], ogg_name[MEDIA_NAME_MAX + 1];
    snprintf(wav_name, sizeof(wav_name), "%s.wav", t->js.stem);
    snprintf(ogg_name, sizeof(ogg_name), "%s.ogg", t->js.stem);
    media_temp wav, ogg;
    if (media_store_temp(ms, uid, t->js.project_id, wav_name, &wav, err) != 0)
        return -1;
    if (media_store_temp(ms, uid, t->js.project_id, ogg_name, &ogg, err) != 0) {
        media_store_discard(ms, &wav);
        return -1;
    }
    uint8_t head[WAV_HEADER_LEN];
    wav_header(head, r->sample_rate, 1, r->nsamples);
    int fd = open(wav.path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    int rc = fd < 0 || media__write_all(fd, head, sizeof(head)) != 0 ||
                     media__write_all(fd, r->samples, r->nsamples * sizeof(*r->samples)) != 0
                 ? error_set_io(err, errno, "writing the narration's WAV failed")
                 : 0;
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = oggopus_write_file(ogg.path, r->samples, r->nsamples, r->sample_rate, err);
    if (rc != 0) {
        media_store_discard(ms, &wav);
        media_store_discard(ms, &ogg);
        return -1;
    }
    if (media_store_commit(ms, &wav, err) != 0) {
        media_store_discard(ms, &ogg);
        return -1;
    }
    return media_store_commit(ms, &ogg, err);
}

/* Subtitles and timings, each written whole. */
static int media__text_files(media_job_task *t, const tts_result *r, error *err)
{
    size_t ncues;
    subtitle_cue *cues = media__cues(t->a, t->sc.narration, r, &ncues);
    buf b;
    buf_init(&b, 16u << 20);
    int rc = subtitle_write_srt(&b, cues, ncues) != 0 || media__put_text(t, ".srt", &b, err) != 0;
    buf_reset(&b);
    rc = rc || subtitle_write_vtt(&b, cues, ncues) != 0 || media__put_text(t, ".vtt", &b, err) != 0;
    buf_reset(&b);
    if (!rc) {
        jw w;
        jw_init(&w, &b);
        jw_obj_begin(&w);
        jw_member_int(&w, "duration_ms", tts_result_duration_ms(r));
        jw_member_int(&w, "sample_rate", r->sample_rate);
        jw_member_str(&w, "voice", r->voice);
        jw_member_bool(&w, "approximate", r->approximate);
        jw_key(&w, "words");
        jw_arr_begin(&w);
        for (size_t i = 0; i < r->nwords; i++) {
            jw_obj_begin(&w);
            jw_member_int(&w, "start_ms", r->words[i].start_ms);
            char *word = arena_alloc(t->a, r->words[i].len + 1);
            memcpy(word, t->sc.narration + r->words[i].offset, r->words[i].len);
            word[r->words[i].len] = '\0';
            jw_member_str(&w, "text", word);
            jw_member_bool(&w, "sentence", r->words[i].sentence);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "cues");
        jw_arr_begin(&w);
        for (size_t i = 0; i < ncues; i++) {
            jw_obj_begin(&w);
            jw_member_int(&w, "start_ms", cues[i].start_ms);
            jw_member_int(&w, "end_ms", cues[i].end_ms);
            jw_member_str(&w, "text", cues[i].text);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        rc = jw_error(&w) != BUF_OK || media__put_text(t, ".json", &b, err) != 0;
    }
    buf_free(&b);
    if (rc && err->kind == ERR_NONE)
        error_set(err, ERR_INTERNAL, NULL, "the subtitles of the narration could not be written");
    return rc ? -1 : 0;
}

static int64_t media__generation(const scene *sc)
{
    return sc->audio_generation;
}

static int media__set_state(db_conn *c, const job *j, const media_job_scene *js,
                            const media_job_state *st, bool *matched, error *err)
{
    scene_audio_state as = {
        .status = st->status, .error = st->error, .path = st->path, .duration_ms = st->duration_ms};
    return scene_store_audio_set(c, j->user_id, js->project_id, js->scene_id, js->generation, &as,
                                 time_now_usec(), matched, err);
}

/* Synthesises the narration and writes its files. */
static void media__produce(media_job_task *t, media_job_product *out)
{
    error e;
    tts_request rq = {.text = t->sc.narration};
    media__voice(t, &rq);
    tts_result r;
    tts_synthesize(&t->s->tts, &rq, &r);
    if (r.outcome == TTS_PERMANENT) {
        media_job_product_fail(out, MEDIA_PERMANENT, "%s", r.message);
    } else if (r.outcome == TTS_TRANSIENT) {
        media_job_product_fail(out, MEDIA_TRANSIENT, "%s", r.message);
        out->retry_after_s = r.retry_after_s;
    } else if (media__audio_files(t, &r, &e) != 0 || media__text_files(t, &r, &e) != 0) {
        media_job_product_fail(out, media_job_permanent(&e) ? MEDIA_PERMANENT : MEDIA_TRANSIENT,
                               "%s", e.message);
    } else {
        snprintf(out->path, sizeof(out->path), "%s.ogg", t->js.stem);
        out->duration_ms = tts_result_duration_ms(&r);
    }
    tts_result_free(&r);
}

static const media_job_kind media__kind = {
    .job_kind = MEDIA_JOB_AUDIO,
    .tag = 'a',
    .what = "narration",
    .suffixes = media__exts,
    .generation = media__generation,
    .set_state = media__set_state,
    .produce = media__produce,
};

static void media__dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    media_job_dead(&media__kind, c, j, why, ctx);
}

static void media__sweep_job(services *s, db_conn *c, const job *j, job_result *out)
{
    int removed = 0;
    error e;
    if (media_service_sweep(s, c, &removed, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        out->err = e;
        return;
    }
    if (removed > 0)
        log_info("media sweep: removed the files of %d deleted project%s", removed,
                 removed == 1 ? "" : "s");
    job_complete_alone(c, j, out);
}

void media_service_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    services *s = ctx;
    if (strcmp(j->kind, MEDIA_JOB_SWEEP) == 0) {
        media__sweep_job(s, c, j, out);
        return;
    }
    media_job_handle(&media__kind, c, j, out, ctx);
}

void media_service_register_jobs(services *s)
{
    /* One lease covers a synthesis (milliseconds), or an HTTP narrator's
     * call and the ffmpeg run that decodes a compressed answer, and the
     * encoding (milliseconds). */
    int lease = (s->media_timeout_ms > 0 ? s->media_timeout_ms : 120000) / 1000 + 60;
    job_register(MEDIA_JOB_AUDIO, media_service_job, s, lease);
    job_on_dead(MEDIA_JOB_AUDIO, media__dead);
    /* A card draws in tens of milliseconds; the lease covers a long wait
     * for the renderer's lock too. An image model is called twice (both
     * shapes), each answer fitted by one ffmpeg run. */
    int image_lease = 120;
    if (!image_offline(&s->image))
        image_lease = 2 * ((s->image.timeout_ms > 0 ? s->image.timeout_ms : 180000) / 1000) +
                      2 * ((s->media_timeout_ms > 0 ? s->media_timeout_ms : 120000) / 1000) + 60;
    job_register(MEDIA_JOB_IMAGE, media_image_job, s, image_lease);
    job_on_dead(MEDIA_JOB_IMAGE, media_image_dead);
    render_service_register_jobs(s); /* the video, media.video */
    job_register(MEDIA_JOB_SWEEP, media_service_job, s, 300);
    job_schedule(MEDIA_JOB_SWEEP, 3600, "{}");
}
