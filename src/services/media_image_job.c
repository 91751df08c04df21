/*
 * The job side of scene images: one attempt at a scene's image (decision
 * 99), run by the skeleton in media_job_common.c. The card is drawn, or the
 * image model asked (decision 105), with no transaction open, both PNGs
 * into store temporaries; the one transaction that records the result and
 * completes the job commits the two together, only while the scene is
 * still at the generation the job was queued for (decision 160). A failure
 * of either shape commits neither.
 */
#include "services/media_job_common.h"
#include "services/media_service.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "jobs/worker.h"
#include "providers/card.h"
#include "providers/ffmpeg.h"
#include "providers/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- the card ------------------------------------------------------------------------------ */

/* What the card shows: the project's title, the scene's number of the
 * project's count, its visual description (its narration when it has
 * none), in the look of the project's persona and the word for "Scene" in
 * the project's language. A project gone since leaves the scene alone. */
static void image__request(media_job_task *t, card_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    rq->text = t->sc.visual_description != NULL && t->sc.visual_description[0] != '\0'
                   ? t->sc.visual_description
                   : t->sc.narration;
    rq->scene_number = t->sc.position + 1;
    project pr;
    error e;
    if (project_store_get(t->c, t->a, t->j->user_id, t->js.project_id, &pr, &e) != 0)
        return;
    rq->title = pr.title;
    rq->style_seed = pr.persona_id;
    if (pr.language != NULL && strncasecmp(pr.language, "pt", 2) == 0)
        rq->label_scene = "Cena";
    int64_t n;
    if (scene_store_count(t->c, t->j->user_id, t->js.project_id, &n, &e) == 0 && n > 0 &&
        n <= PROJECT_SCENES_MAX)
        rq->scene_count = (int)n;
}

/* Writes len bytes into the store temporary at path (already created). */
static int image__write_file(const char *path, const uint8_t *data, size_t len, error *err)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    int saved = fd < 0 ? errno : 0;
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0) {
            saved = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (fd >= 0)
        close(fd);
    return done == len && fd >= 0
               ? 0
               : error_set_io(err, saved, "writing an image into the media store failed");
}

/* Both formats into the product's temporaries, committed together with
 * the state by the skeleton. */
static int image__files(media_job_task *t, const card_request *base, media_job_product *out,
                        error *err)
{
    static const struct {
        card_format f;
        const char *suffix;
    } formats[] = {{CARD_PORTRAIT, "-portrait.png"}, {CARD_LANDSCAPE, ".png"}};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        card_request rq = *base;
        rq.format = formats[i].f;
        buf b;
        buf_init(&b, CARD_PNG_MAX);
        card_result res;
        int rc = card_render_png(&rq, &b, &res, err);
        if (rc == 0 && res.unknown_glyphs > 0)
            log_warn("media: scene %s: %d character%s no installed font can draw", t->js.scene_id,
                     res.unknown_glyphs, res.unknown_glyphs == 1 ? "" : "s");
        media_temp *mt;
        if (rc == 0)
            rc = media_job_temp(t, out, formats[i].suffix, &mt, err);
        if (rc == 0)
            rc = image__write_file(mt->path, (const uint8_t *)b.data, b.len, err);
        buf_free(&b);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static const char *const image__suffixes[] = {".png", "-portrait.png", NULL};

static int64_t image__generation(const scene *sc)
{
    return sc->image_generation;
}

static int image__set_state(db_conn *c, const job *j, const media_job_scene *js,
                            const media_job_state *st, bool *matched, error *err)
{
    scene_image_state is = {.status = st->status, .error = st->error, .path = st->path};
    return scene_store_image_set(c, j->user_id, js->project_id, js->scene_id, js->generation, &is,
                                 time_now_usec(), matched, err);
}

/* ---- an image model ------------------------------------------------------------------------ */

/* Appends at most max bytes of s, cut on a character boundary. */
static void image__append_cut(buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    buf_append(b, s, n);
}

/* The prompt (decision 106): the scene's visual description (its narration
 * when it has none), then the look of the project's persona, taken from
 * its name and description (a persona has no visual-style field), and the
 * frame's shape; no lettering, since the video adds its own subtitles. */
static const char *image__prompt(media_job_task *t, bool portrait)
{
    const char *what = t->sc.visual_description != NULL && t->sc.visual_description[0] != '\0'
                           ? t->sc.visual_description
                           : t->sc.narration;
    const char *name = NULL, *desc = NULL;
    project pr;
    persona ps;
    error e;
    if (project_store_get(t->c, t->a, t->j->user_id, t->js.project_id, &pr, &e) == 0 &&
        pr.persona_id != NULL &&
        persona_store_get_visible(t->c, t->a, pr.persona_id, t->j->user_id, &ps, &e) == 0) {
        name = ps.name;
        desc = ps.description != NULL && ps.description[0] != '\0' ? ps.description : NULL;
    }
    buf b;
    buf_init(&b, 64u << 10);
    image__append_cut(&b, what ? what : "", IMAGE_PROMPT_MAX / 2);
    if (name != NULL) {
        buf_puts(&b, "\n\nVisual style: the look of the video channel persona \"");
        image__append_cut(&b, name, 80);
        buf_puts(&b, "\"");
        if (desc != NULL) {
            buf_puts(&b, ", described as: ");
            image__append_cut(&b, desc, 600);
        }
    }
    buf_printf(&b,
               "\n\nOne %s frame of a narrated video. No text, captions, letters, logos or "
               "watermarks in the image.",
               portrait ? "vertical 9:16" : "horizontal 16:9");
    const char *s = arena_strdup(t->a, buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* Checks the file at path is a PNG of exactly w x h. */
static int image__check_png(const char *path, int w, int h, error *err)
{
    uint8_t head[64];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    const char *mime;
    int gw, gh;
    if (n <= 0 || image_probe(head, (size_t)n, &mime, &gw, &gh) != 0 ||
        strcmp(mime, "image/png") != 0 || gw != w || gh != h)
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "ffmpeg did not make a %dx%d PNG of the model's image", w, h);
    return 0;
}

/* Scales img to cover w x h and crops the middle (ffmpeg), into the
 * temporary dst, checked to be that PNG. */
static int image__fit(media_job_task *t, const image_result *img, const media_temp *dst, int w,
                      int h, error *err)
{
    media_store *ms = t->s->media;
    char src_name[sizeof(dst->name) + 4]; /* the store refuses it past MEDIA_NAME_MAX */
    snprintf(src_name, sizeof(src_name), "%s-src", dst->name);
    media_temp src;
    if (media_store_temp(ms, t->j->user_id, t->js.project_id, src_name, &src, err) != 0)
        return -1;
    char vf[160];
    snprintf(vf, sizeof(vf),
             "scale=%d:%d:force_original_aspect_ratio=increase:flags=lanczos,crop=%d:%d,setsar=1",
             w, h, w, h);
    const char *args[] = {"-nostdin",
                          "-hide_banner",
                          "-loglevel",
                          "error",
                          "-y",
                          "-f",
                          strcmp(img->mime, "image/png") == 0 ? "png_pipe" : "jpeg_pipe",
                          "-i",
                          src.path,
                          "-vf",
                          vf,
                          "-frames:v",
                          "1",
                          "-pix_fmt",
                          "rgb24",
                          "-c:v",
                          "png",
                          "-f",
                          "image2",
                          dst->path,
                          NULL};
    int rc = image__write_file(src.path, img->data, img->len, err);
    if (rc == 0)
        rc = ffmpeg_run(t->s->ffmpeg, args, t->s->media_timeout_ms, err);
    if (rc == 0)
        rc = image__check_png(dst->path, w, h, err);
    media_store_discard(ms, &src);
    return rc;
}

/* Asks the image model for both shapes, portrait first, and fits each to
 * its exact size into a temporary; a failure of the second leaves the
 * first uncommitted, discarded by the skeleton. */
static void image__from_model(media_job_task *t, media_job_product *out)
{
    static const struct {
        bool portrait;
        const char *suffix;
        int w, h;
    } shapes[] = {{true, "-portrait.png", CARD_SHORT_SIDE, CARD_LONG_SIDE},
                  {false, ".png", CARD_LONG_SIDE, CARD_SHORT_SIDE}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        image_request rq = {.prompt = image__prompt(t, shapes[i].portrait),
                            .portrait = shapes[i].portrait};
        image_result img;
        image_generate(&t->s->image, &rq, &img);
        if (img.outcome != IMAGE_OK) {
            media_job_product_fail(
                out, img.outcome == IMAGE_PERMANENT ? MEDIA_PERMANENT : MEDIA_TRANSIENT, "%s",
                img.message);
            out->retry_after_s = img.retry_after_s;
            return;
        }
        error e;
        media_temp *dst;
        int rc = media_job_temp(t, out, shapes[i].suffix, &dst, &e);
        if (rc == 0)
            rc = image__fit(t, &img, dst, shapes[i].w, shapes[i].h, &e);
        image_result_free(&img);
        if (rc != 0) {
            media_job_product_fail(out, media_job_permanent(&e) ? MEDIA_PERMANENT : MEDIA_TRANSIENT,
                                   "%s", e.message);
            return;
        }
    }
    snprintf(out->path, sizeof(out->path), "%s.png", t->js.stem);
}

/* The card (offline) or the configured image model, in both formats. */
static void image__produce(media_job_task *t, media_job_product *out)
{
    if (!image_offline(&t->s->image)) {
        image__from_model(t, out);
        return;
    }
    error e;
    card_request rq;
    image__request(t, &rq);
    if (image__files(t, &rq, out, &e) != 0) {
        media_job_product_fail(out,
                               media_job_permanent(&e) || e.kind == ERR_INVALID ? MEDIA_PERMANENT
                                                                                : MEDIA_TRANSIENT,
                               "%s", e.message);
        return;
    }
    snprintf(out->path, sizeof(out->path), "%s.png", t->js.stem);
}

static const media_job_kind image__kind = {
    .job_kind = MEDIA_JOB_IMAGE,
    .tag = 'i',
    .what = "the image",
    .suffixes = image__suffixes,
    .generation = image__generation,
    .set_state = image__set_state,
    .produce = image__produce,
};

void media_image_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    media_job_handle(&image__kind, c, j, out, ctx);
}

void media_image_dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    media_job_dead(&image__kind, c, j, why, ctx);
}
