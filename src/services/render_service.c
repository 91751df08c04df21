/*
 * The request side of the video: checking that the project's media are
 * ready and queueing one media.video job per request (see render_service.h).
 */
#include "services/render_service.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "domain/scene_store.h"

#include <stdio.h>
#include <string.h>

const char *const render_aspects[] = {"16:9", "9:16", NULL};
const char *const render_subtitles[] = {"soft", "burn", "none", NULL};
const char *const render_musics[] = {"none", "ambient", NULL};

/* Shown in the 409: at most this many scenes are named. */
#define RENDER__NAMED_MAX 12

/* v when it is one of values (NULL: the first); else ERR_INVALID naming field. */
static int render__option(const char *field, const char *v, const char *const *values,
                          const char **out, error *err)
{
    if (v == NULL) {
        *out = values[0];
        return 0;
    }
    for (size_t i = 0; values[i] != NULL; i++)
        if (strcmp(values[i], v) == 0) {
            *out = values[i];
            return 0;
        }
    char list[128] = "";
    for (size_t i = 0; values[i] != NULL; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 values[i]);
    return error_set(err, ERR_INVALID, field, "%s must be one of: %s", field, list);
}

typedef struct render__op {
    arena *a;
    const principal *p;
    const char *project_id;
    render_options o;
    project *out;
    bool started;
} render__op;

/* ERR_CONFLICT naming the scenes whose media are not COMPLETED; 0 when none. */
static int render__ready(const scene *sc, size_t n, error *err)
{
    if (n == 0)
        return error_set(err, ERR_CONFLICT, "scenes",
                         "the project has no scenes yet: write its script, then ask for its "
                         "media (POST …/media), then render");
    buf b;
    buf_init(&b, 4096);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        bool audio = strcmp(sc[i].audio_status, "COMPLETED") == 0;
        bool image = strcmp(sc[i].image_status, "COMPLETED") == 0;
        if (audio && image)
            continue;
        if (++missing > RENDER__NAMED_MAX)
            continue;
        buf_printf(&b, "%sscene %d (", missing > 1 ? ", " : "", sc[i].position + 1);
        if (!audio)
            buf_printf(&b, "audio %s%s", sc[i].audio_status, image ? "" : ", ");
        if (!image)
            buf_printf(&b, "image %s", sc[i].image_status);
        buf_puts(&b, ")");
    }
    if (missing > RENDER__NAMED_MAX)
        buf_printf(&b, " and %d more", missing - RENDER__NAMED_MAX);
    int rc = 0;
    if (missing > 0)
        rc = error_set(err, ERR_CONFLICT, "scenes",
                       "the media of %d scene%s %s not ready: %s; ask for them (POST …/media) and "
                       "render once every scene's audio and image is COMPLETED",
                       missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are", buf_cstr(&b));
    buf_free(&b);
    return rc;
}

static int render__request_body(db_conn *c, void *arg, error *err)
{
    render__op *op = arg;
    const char *uid = op->p->user_id;
    if (project_store_lock(c, uid, op->project_id, err) != 0 ||
        project_store_get(c, op->a, uid, op->project_id, op->out, err) != 0)
        return -1;
    if (op->out->render_status != NULL && strcmp(op->out->render_status, "rendering") == 0)
        return 0; /* the render under way answers */
    scene *sc;
    size_t n;
    if (scene_store_list(c, op->a, uid, op->project_id, &sc, &n, err) != 0 ||
        render__ready(sc, n, err) != 0)
        return -1;
    int64_t now = time_now_usec(), gen;
    if (project_store_render_request(c, uid, op->project_id, op->o.aspect, op->o.subtitles,
                                     op->o.music, now, &gen, err) != 0)
        return -1;
    json_t *payload =
        json_pack("{s:s, s:I}", "project_id", op->project_id, "generation", (json_int_t)gen);
    char key[128];
    snprintf(key, sizeof(key), "%s:%s:%lld", MEDIA_JOB_VIDEO, op->project_id, (long long)gen);
    /* A render is minutes of work: fewer attempts than a scene's. */
    job_options jo = {.user_id = uid, .max_attempts = 3, .unique_key = key};
    char id[UUID_STR_LEN + 1];
    int rc = job_enqueue(c, MEDIA_JOB_VIDEO, payload, &jo, id, err);
    json_decref(payload);
    if (rc != 0)
        return -1;
    op->started = true;
    return project_store_get(c, op->a, uid, op->project_id, op->out, err);
}

int render_service_request(db_conn *c, arena *a, const principal *p, const char *project_id,
                           const render_options *o, project *out, bool *started, error *err)
{
    render__op op = {.a = a, .p = p, .project_id = project_id, .out = out};
    *started = false;
    if (project_id == NULL || !uuid_is_valid(project_id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s",
                         project_id ? project_id : "(none)");
    if (render__option("aspect", o->aspect, render_aspects, &op.o.aspect, err) != 0 ||
        render__option("subtitles", o->subtitles, render_subtitles, &op.o.subtitles, err) != 0 ||
        render__option("music", o->music, render_musics, &op.o.music, err) != 0)
        return -1;
    int rc = db_tx(c, render__request_body, &op, err) < 0 ? -1 : 0;
    *started = op.started;
    return rc;
}
