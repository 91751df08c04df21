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

/* How far back older generations' files are looked for and removed. */
#define IMAGE__OLD_GENERATIONS 64

typedef struct image__task {
    services *s;
    db_conn *c;
    arena *a;
    const job *j;
    media_job_scene js; /* project_id, scene_id, generation, stem */
    scene sc;
} image__task;

static int image__payload(image__task *t, error *err)
{
    return media_job_scene_of(t->j, 'i', &t->js, err);
}

/* ---- writing the scene's state ---------------------------------------------------------- */

typedef struct image__state_tx {
    image__task *t;
    scene_image_state st;
    bool complete; /* also complete the job */
    bool matched;
} image__state_tx;

static int image__state_body(db_conn *c, void *arg, error *err)
{
    image__state_tx *tx = arg;
    image__task *t = tx->t;
    if (scene_store_image_set(c, t->j->user_id, t->js.project_id, t->js.scene_id, t->js.generation,
                              &tx->st, time_now_usec(), &tx->matched, err) != 0)
        return -1;
    return tx->complete ? job_complete(c, t->j, err) : 0;
}

static int image__set_state(image__task *t, const scene_image_state *st, bool complete,
                            bool *matched, error *err)
{
    image__state_tx tx = {.t = t, .st = *st, .complete = complete};
    int rc = db_tx(t->c, image__state_body, &tx, err);
    if (matched != NULL)
        *matched = tx.matched;
    return rc < 0 ? -1 : 0;
}

static void image__retry(job_result *out, const error *e)
{
    out->outcome = JOB_OUTCOME_RETRY;
    out->err = *e;
}

/* Ends the scene's image as FAILED with why, and the job with it. */
static void image__fail(image__task *t, job_result *out, const char *why)
{
    error e;
    scene_image_state st = {.status = "FAILED", .error = media_job_reason(t->a, why)};
    if (image__set_state(t, &st, false, NULL, &e) != 0) {
        image__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_FAIL;
    error_set(&out->err, ERR_INVALID, NULL, "the image of scene %s failed: %s", t->js.scene_id,
              why);
}

/* A transient failure: retried, or the scene FAILED on the last attempt. */
static void image__transient(image__task *t, job_result *out, const char *why)
{
    if (t->j->attempts >= t->j->max_attempts) {
        char reason[700];
        snprintf(reason, sizeof(reason), "gave up after %d attempts; the last one failed: %s",
                 t->j->attempts, why);
        image__fail(t, out, reason);
        return;
    }
    error e;
    scene_image_state st = {.status = "PENDING"};
    if (image__set_state(t, &st, false, NULL, &e) != 0) {
        image__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_RETRY;
    error_set(&out->err, ERR_UNAVAILABLE, NULL, "%s", why);
}

static void image__complete_only(image__task *t, job_result *out)
{
    error e;
    if (media_job_complete_only(t->c, t->j, &e) != 0) {
        image__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

/* ---- the card ------------------------------------------------------------------------------ */

/* What the card shows: the project's title, the scene's number of the
 * project's count, its visual description (its narration when it has
 * none), in the look of the project's persona and the word for "Scene" in
 * the project's language. A project gone since leaves the scene alone. */
static void image__request(image__task *t, card_request *rq)
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
static int image__files(image__task *t, const card_request *base, error *err)
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

/* Removes the files of one generation of the scene's image (best effort). */
static void image__remove_generation(image__task *t, int64_t generation)
{
    static const char *const suffixes[] = {".png", "-portrait.png"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char name[MEDIA_NAME_MAX + 1];
        snprintf(name, sizeof(name), "scene-%s-i%lld%s", t->js.scene_id, (long long)generation,
                 suffixes[i]);
        error e;
        if (media_store_remove(t->s->media, t->j->user_id, t->js.project_id, name, &e) != 0)
            log_warn("media: %s not removed: %s", name, e.message);
    }
}

/* ---- one attempt ------------------------------------------------------------------------------
 */

static void image__run(image__task *t, job_result *out)
{
    error e;
    if (image__payload(t, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_FAIL;
        return;
    }
    if (scene_store_get(t->c, t->a, t->j->user_id, t->js.project_id, t->js.scene_id, &t->sc, &e) !=
        0) {
        if (e.kind == ERR_NOT_FOUND)
            image__complete_only(t, out); /* the scene or its project is gone */
        else
            image__retry(out, &e);
        return;
    }
    bool matched = false;
    scene_image_state processing = {.status = "PROCESSING"};
    if (t->sc.image_generation == t->js.generation &&
        image__set_state(t, &processing, false, &matched, &e) != 0) {
        image__retry(out, &e);
        return;
    }
    if (!matched) { /* asked for again since: that request's job does the work */
        image__complete_only(t, out);
        return;
    }
    if (t->s->media == NULL) {
        image__fail(t, out, "media storage is not configured on the worker");
        return;
    }
    card_request rq;
    image__request(t, &rq);
    if (image__files(t, &rq, &e) != 0) {
        if (e.kind == ERR_CONFIG || e.kind == ERR_INVALID)
            image__fail(t, out, e.message);
        else
            image__transient(t, out, e.message);
        return;
    }
    char path[MEDIA_NAME_MAX + 1];
    snprintf(path, sizeof(path), "%s.png", t->js.stem);
    scene_image_state done = {.status = "COMPLETED", .path = path};
    if (image__set_state(t, &done, true, &matched, &e) != 0) {
        image__retry(out, &e); /* a lost lease or a fault: nothing recorded */
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
    if (!matched)
        image__remove_generation(t, t->js.generation);
    for (int64_t g = t->js.generation - 1;
         matched && g >= 1 && g >= t->js.generation - IMAGE__OLD_GENERATIONS; g--)
        image__remove_generation(t, g);
}

void media_image_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    arena a;
    arena_init(&a, 16 * 1024);
    image__task t = {.s = ctx, .c = c, .a = &a, .j = j};
    image__run(&t, out);
    arena_free(&a);
}

/* A job that died without its handler deciding (its last attempt lost the
 * lease): the scene would stay PROCESSING for good. */
void media_image_dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    if (strcmp(j->kind, MEDIA_JOB_IMAGE) != 0 || !json_is_object(j->payload))
        return;
    arena a;
    arena_init(&a, 1024);
    image__task t = {.s = ctx, .c = c, .a = &a, .j = j};
    error e;
    if (image__payload(&t, &e) == 0) {
        scene_image_state st = {.status = "FAILED", .error = media_job_reason(&a, why)};
        if (image__set_state(&t, &st, false, NULL, &e) != 0)
            log_error("job %s died and its scene could not be marked failed: %s", j->id, e.message);
    }
    arena_free(&a);
}
