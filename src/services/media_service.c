/*
 * The request side of media: queueing narration, serving a project's
 * files to its owner, and deleting them with the project. The job itself
 * is in media_job.c.
 */
#include "services/media_service.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "domain/project_store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- queueing ------------------------------------------------------------------------ */

/* Bumps the scene's audio generation and enqueues its job, in the caller's
 * transaction. A job per generation: the unique key makes a retried
 * request (the same generation) enqueue nothing twice. */
static int media__request(db_conn *c, const char *user_id, const char *project_id,
                          const char *scene_id, int64_t now, error *err)
{
    int64_t gen;
    if (scene_store_audio_request(c, user_id, project_id, scene_id, now, &gen, err) != 0)
        return -1;
    json_t *payload = json_pack("{s:s, s:s, s:I}", "project_id", project_id, "scene_id", scene_id,
                                "generation", (json_int_t)gen);
    char key[128];
    snprintf(key, sizeof(key), "%s:%s:%lld", MEDIA_JOB_AUDIO, scene_id, (long long)gen);
    job_options jo = {.user_id = user_id, .max_attempts = 5, .unique_key = key};
    char id[UUID_STR_LEN + 1];
    int rc = job_enqueue(c, MEDIA_JOB_AUDIO, payload, &jo, id, err);
    json_decref(payload);
    return rc;
}

/* The same for the scene's image (decision 99). */
static int media__image_request(db_conn *c, const char *user_id, const char *project_id,
                                const char *scene_id, int64_t now, error *err)
{
    int64_t gen;
    if (scene_store_image_request(c, user_id, project_id, scene_id, now, &gen, err) != 0)
        return -1;
    json_t *payload = json_pack("{s:s, s:s, s:I}", "project_id", project_id, "scene_id", scene_id,
                                "generation", (json_int_t)gen);
    char key[128];
    snprintf(key, sizeof(key), "%s:%s:%lld", MEDIA_JOB_IMAGE, scene_id, (long long)gen);
    job_options jo = {.user_id = user_id, .max_attempts = 5, .unique_key = key};
    char id[UUID_STR_LEN + 1];
    int rc = job_enqueue(c, MEDIA_JOB_IMAGE, payload, &jo, id, err);
    json_decref(payload);
    return rc;
}

typedef struct media__op {
    arena *a;
    const principal *p;
    const char *project_id;
    const char *scene_id; /* NULL: every scene that needs it */
    scene **list;
    size_t *n;
    scene *one;
} media__op;

static int media__generate_body(db_conn *c, void *arg, error *err)
{
    media__op *op = arg;
    const char *uid = op->p->user_id;
    if (project_store_lock(c, uid, op->project_id, err) != 0 ||
        scene_store_list(c, op->a, uid, op->project_id, op->list, op->n, err) != 0)
        return -1;
    if (*op->n == 0)
        return error_set(err, ERR_CONFLICT, "scenes",
                         "the project has no scenes yet: generate or write its script first");
    int64_t now = time_now_usec();
    for (size_t i = 0; i < *op->n; i++) {
        scene *sc = &(*op->list)[i];
        bool wanted = sc->audio_generation == 0 || strcmp(sc->audio_status, "FAILED") == 0;
        if (wanted && media__request(c, uid, op->project_id, sc->id, now, err) != 0)
            return -1;
        wanted = sc->image_generation == 0 || strcmp(sc->image_status, "FAILED") == 0;
        if (wanted && media__image_request(c, uid, op->project_id, sc->id, now, err) != 0)
            return -1;
    }
    /* The list as it is now, statuses included. */
    return scene_store_list(c, op->a, uid, op->project_id, op->list, op->n, err);
}

int media_service_generate(db_conn *c, arena *a, const principal *p, const char *project_id,
                           scene **out, size_t *n, error *err)
{
    media__op op = {.a = a, .p = p, .project_id = project_id, .list = out, .n = n};
    return db_tx(c, media__generate_body, &op, err) < 0 ? -1 : 0;
}

static int media__scene_body(db_conn *c, void *arg, error *err)
{
    media__op *op = arg;
    const char *uid = op->p->user_id;
    if (project_store_lock(c, uid, op->project_id, err) != 0 ||
        scene_store_get(c, op->a, uid, op->project_id, op->scene_id, op->one, err) != 0)
        return -1;
    if (op->one->narration == NULL || op->one->narration[0] == '\0')
        return error_set(err, ERR_CONFLICT, "narration",
                         "the scene has no narration to speak: write it first");
    if (media__request(c, uid, op->project_id, op->scene_id, time_now_usec(), err) != 0)
        return -1;
    return scene_store_get(c, op->a, uid, op->project_id, op->scene_id, op->one, err);
}

int media_service_scene_audio(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const char *scene_id, scene *out, error *err)
{
    if (project_id == NULL || !uuid_is_valid(project_id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s",
                         project_id ? project_id : "(none)");
    media__op op = {.a = a, .p = p, .project_id = project_id, .scene_id = scene_id, .one = out};
    return db_tx(c, media__scene_body, &op, err) < 0 ? -1 : 0;
}

static int media__image_body(db_conn *c, void *arg, error *err)
{
    media__op *op = arg;
    const char *uid = op->p->user_id;
    if (project_store_lock(c, uid, op->project_id, err) != 0 ||
        scene_store_get(c, op->a, uid, op->project_id, op->scene_id, op->one, err) != 0)
        return -1;
    if ((op->one->visual_description == NULL || op->one->visual_description[0] == '\0') &&
        (op->one->narration == NULL || op->one->narration[0] == '\0'))
        return error_set(err, ERR_CONFLICT, "visual_description",
                         "the scene has no visual description to draw: write it first");
    if (media__image_request(c, uid, op->project_id, op->scene_id, time_now_usec(), err) != 0)
        return -1;
    return scene_store_get(c, op->a, uid, op->project_id, op->scene_id, op->one, err);
}

int media_service_scene_image(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const char *scene_id, scene *out, error *err)
{
    if (project_id == NULL || !uuid_is_valid(project_id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s",
                         project_id ? project_id : "(none)");
    media__op op = {.a = a, .p = p, .project_id = project_id, .scene_id = scene_id, .one = out};
    return db_tx(c, media__image_body, &op, err) < 0 ? -1 : 0;
}

int media_service_visual_changed(db_conn *c, const scene *before, error *err)
{
    if (before->image_generation == 0)
        return 0; /* never asked for: it is made when it is */
    return media__image_request(c, before->user_id, before->project_id, before->id, time_now_usec(),
                                err);
}

int media_service_narration_changed(db_conn *c, const scene *before, error *err)
{
    if (before->audio_generation == 0)
        return 0; /* never asked for: it is made when it is */
    return media__request(c, before->user_id, before->project_id, before->id, time_now_usec(), err);
}

/* ---- reading -------------------------------------------------------------------------- */

int media_service_open(services *s, db_conn *c, arena *a, const principal *p,
                       const char *project_id, const char *name, media_file *out, error *err)
{
    return media_service_fetch(s, c, a, p, project_id, name, out, NULL, 0, err);
}

int media_service_fetch(services *s, db_conn *c, arena *a, const principal *p,
                        const char *project_id, const char *name, media_file *out, char *redirect,
                        size_t redirect_n, error *err)
{
    out->fd = -1;
    project pr;
    if (project_id == NULL || !uuid_is_valid(project_id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s",
                         project_id ? project_id : "(none)");
    if (project_store_get(c, a, p->user_id, project_id, &pr, err) != 0)
        return -1;
    if (!media_name_valid(name))
        return error_set(err, ERR_INVALID, "path",
                         "a media path is one file name of letters, digits, '.', '_' and '-' "
                         "(at most %d), not starting with '.': no '/', '..' or NUL",
                         MEDIA_NAME_MAX);
    if (s->media == NULL)
        return error_set(err, ERR_UNAVAILABLE, NULL, "media storage is not configured");
    if (redirect != NULL) {
        int rc = media_store_presign(s->media, p->user_id, project_id, name,
                                     media_service_content_type(name), redirect, redirect_n, err);
        if (rc != 0)
            return rc;
    }
    return media_store_open(s->media, p->user_id, project_id, name, out, err);
}

const char *media_service_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".ogg", "audio/ogg"},
        {".opus", "audio/ogg"},
        {".wav", "audio/wav"},
        {".mp3", "audio/mpeg"},
        {".srt", "application/x-subrip"},
        {".vtt", "text/vtt; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".mp4", "video/mp4"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* ---- deleting ------------------------------------------------------------------------- */

void media_service_project_deleted(services *s, const char *user_id, const char *project_id)
{
    if (s->media == NULL)
        return;
    error e;
    if (media_store_remove_project(s->media, user_id, project_id, &e) != 0)
        log_warn("media of deleted project %s not removed (the sweep will retry): %s", project_id,
                 e.message);
}

/* The scene id in a media name scene-<uuid>-…, into id; false for any other name. */
static bool media__scene_of(const char *name, char id[UUID_STR_LEN + 1])
{
    if (strncmp(name, "scene-", 6) != 0 || strlen(name) < 6 + UUID_STR_LEN + 1 ||
        name[6 + UUID_STR_LEN] != '-')
        return false;
    memcpy(id, name + 6, UUID_STR_LEN);
    id[UUID_STR_LEN] = '\0';
    return uuid_is_valid(id);
}

typedef struct media__names {
    arena *a;
    const char **v;
    size_t n, cap;
} media__names;

static void media__collect(const char *name, void *ctx)
{
    media__names *l = ctx;
    char id[UUID_STR_LEN + 1];
    if (!media__scene_of(name, id))
        return; /* temporaries and files of the project itself stay */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = arena_grow(l->a, l->v, l->n, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = arena_strdup(l->a, name);
}

int media_service_prune_scenes(services *s, db_conn *c, const char *user_id, const char *project_id,
                               int *removed, error *err)
{
    if (removed != NULL)
        *removed = 0;
    if (s->media == NULL)
        return 0;
    arena a;
    arena_init(&a, 8192);
    media__names files = {.a = &a};
    scene *scenes = NULL;
    size_t nscenes = 0;
    int rc = media_store_list(s->media, user_id, project_id, media__collect, &files, err);
    /* Read after the listing: any scene a listed file is named for was
     * made before the file, so absent now means deleted. */
    if (rc == 0 && files.n > 0)
        rc = scene_store_list(c, &a, user_id, project_id, &scenes, &nscenes, err);
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        char id[UUID_STR_LEN + 1];
        media__scene_of(files.v[i], id);
        bool live = false;
        for (size_t k = 0; k < nscenes && !live; k++)
            live = strcmp(scenes[k].id, id) == 0;
        if (live)
            continue;
        error e;
        if (media_store_remove(s->media, user_id, project_id, files.v[i], &e) != 0)
            log_warn("media of a deleted scene not removed (the sweep will retry): %s: %s",
                     files.v[i], e.message);
        else if (removed != NULL)
            (*removed)++;
    }
    arena_free(&a);
    return rc;
}

void media_service_scenes_deleted(services *s, db_conn *c, const char *user_id,
                                  const char *project_id)
{
    error e;
    if (media_service_prune_scenes(s, c, user_id, project_id, NULL, &e) != 0)
        log_warn("media of deleted scenes of project %s not removed (the sweep will retry): %s",
                 project_id, e.message);
}

typedef struct media__sweep {
    services *s;
    db_conn *c;
    arena a;
    int removed;
    int scene_files; /* files of deleted scenes in live projects */
    int failed;
    error err;
} media__sweep;

static void media__sweep_one(const char *user_id, const char *project_id, void *ctx)
{
    media__sweep *sw = ctx;
    project pr;
    error e;
    if (sw->failed)
        return;
    if (project_store_get(sw->c, &sw->a, user_id, project_id, &pr, &e) == 0) {
        int n = 0;
        if (media_service_prune_scenes(sw->s, sw->c, user_id, project_id, &n, &e) != 0)
            log_warn("media sweep: project %s: %s", project_id, e.message);
        sw->scene_files += n;
        return;
    }
    if (e.kind != ERR_NOT_FOUND) {
        sw->failed = 1;
        sw->err = e;
        return;
    }
    if (media_store_remove_project(sw->s->media, user_id, project_id, &e) == 0)
        sw->removed++;
    else
        log_warn("media sweep: project %s: %s", project_id, e.message);
}

int media_service_sweep(services *s, db_conn *c, int *removed, error *err)
{
    *removed = 0;
    if (s->media == NULL)
        return 0;
    media__sweep sw = {.s = s, .c = c};
    arena_init(&sw.a, 4096);
    int rc = media_store_list_projects(s->media, media__sweep_one, &sw, err);
    arena_free(&sw.a);
    if (rc == 0 && sw.failed) {
        *err = sw.err;
        rc = -1;
    }
    *removed = sw.removed;
    if (sw.scene_files > 0)
        log_info("media sweep: removed %d file%s of deleted scenes", sw.scene_files,
                 sw.scene_files == 1 ? "" : "s");
    return rc;
}
