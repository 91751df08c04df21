/*
 * The job side of scene images: one attempt at a scene's image (decision
 * 99), shaped like the narration's (media_job.c). The card is drawn with
 * no transaction open; both PNGs are written atomically before the one
 * transaction that records the result and completes the job, and only
 * while the scene is still at the generation the job was queued for.
 */
#include "services/media_job_common.h"
#include "services/media_service.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/project_store.h"
#include "jobs/worker.h"
#include "providers/card.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Both formats, each written whole (the store writes a temporary and
 * renames it): the portrait first, so the landscape, the name the scene
 * records, is there last. */
static int image__files(media_job_task *t, const card_request *base, error *err)
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
        char name[MEDIA_NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s%s", t->js.stem, formats[i].suffix);
        if (rc == 0)
            rc = media_store_put(t->s->media, t->j->user_id, t->js.project_id, name, b.data, b.len,
                                 err);
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

/* Draws the card in both formats and writes them. */
static void image__produce(media_job_task *t, media_job_product *out)
{
    error e;
    card_request rq;
    image__request(t, &rq);
    if (image__files(t, &rq, &e) != 0) {
        media_job_product_fail(
            out, e.kind == ERR_CONFIG || e.kind == ERR_INVALID ? MEDIA_PERMANENT : MEDIA_TRANSIENT,
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
