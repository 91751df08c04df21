#include "services/project_service.h"

#include "base/timeutil.h"
#include "domain/channel_store.h"
#include "services/media_service.h"
#include "services/persona_access.h"

#include <stdio.h>
#include <string.h>

/* The limits of the columns (project_row), said in words before the
 * database says them in SQL. A value not given passes. */
static int project__check_input(const project_input *in, error *err)
{
    project v = {.topic = in->topic,
                 .title = in->set_title ? in->title : NULL,
                 .description = in->set_description ? in->description : NULL};
    if (in->set_tags) {
        v.tags = (const char **)in->tags;
        v.ntags = in->ntags;
    }
    return row_check(&project_row, &v, "topic, title, description, tags", err);
}

/* A channel named in a body must be the caller's; another user's is as
 * absent as one that never existed. */
static int project__check_channel(db_conn *c, arena *a, const principal *p, const char *id,
                                  channel *out, error *err)
{
    if (channel_store_get(c, a, p->user_id, id, false, "channel_id", out, err) == 0)
        return 0;
    if (err->kind == ERR_NOT_FOUND)
        return error_set(err, ERR_INVALID, "channel_id", "no channel with id %s", id);
    return -1;
}

/* Flow 3: the persona asked for, else the channel's, else the plan's default. */
static int project__resolve_persona(db_conn *c, arena *a, const principal *p,
                                    const project_input *in, const channel *ch, project *pr,
                                    error *err)
{
    if (in->persona_id != NULL) {
        pr->persona_id = in->persona_id;
        return persona_access_check_choice(c, p, in->persona_id, &pr->persona_version, err);
    }
    if (ch != NULL && ch->persona_id != NULL) {
        pr->persona_id = ch->persona_id;
        if (persona_access_usable(c, p, ch->persona_id, NULL, &pr->persona_version, err) == 0)
            return 0;
        if (err->kind == ERR_NOT_FOUND)
            return error_set(err, ERR_INVALID, "channel_id",
                             "the persona of channel %s is no longer available to you; pass "
                             "persona_id or assign another persona to the channel",
                             ch->id);
        return -1;
    }
    char *id = arena_alloc(a, UUID_STR_LEN + 1);
    pr->persona_id = id;
    return persona_access_plan_default(c, p, id, &pr->persona_version, err);
}

static int project__create_in_tx(db_conn *c, arena *a, const principal *p, const project_input *in,
                                 project *pr, error *err)
{
    if (project_store_lock_quota(c, p->user_id, err) != 0)
        return -1;
    if (p->max_projects_per_month >= 0) {
        int64_t made = 0;
        if (project_store_count_since(c, p->user_id, time_month_start(pr->created_at), &made,
                                      err) != 0)
            return -1;
        if (made >= p->max_projects_per_month)
            return error_set(err, ERR_PLAN_LIMIT, "max_projects_per_month",
                             "your plan '%s' allows %d new project%s per calendar month (UTC) "
                             "and you have made %lld this month; wait for next month or upgrade "
                             "your plan",
                             p->plan_code, p->max_projects_per_month,
                             p->max_projects_per_month == 1 ? "" : "s", (long long)made);
    }
    channel ch;
    bool has_channel = in->set_channel && in->channel_id != NULL;
    if (has_channel && project__check_channel(c, a, p, in->channel_id, &ch, err) != 0)
        return -1;
    if (project__resolve_persona(c, a, p, in, has_channel ? &ch : NULL, pr, err) != 0)
        return -1;
    return project_store_insert(c, a, pr, err);
}

int project_service_create_tx(db_conn *c, arena *a, const principal *p, const project_input *in,
                              const char *status, project *out, error *err)
{
    if (in->topic == NULL)
        return error_set(err, ERR_INVALID, "topic", "topic is required");
    if (project__check_input(in, err) != 0)
        return -1;
    project pr = {0};
    uuid_v7(pr.id);
    snprintf(pr.user_id, sizeof(pr.user_id), "%s", p->user_id);
    pr.channel_id = in->set_channel ? in->channel_id : NULL;
    pr.topic = in->topic;
    pr.status = status;
    pr.title = in->set_title ? in->title : NULL;
    pr.description = in->set_description ? in->description : NULL;
    if (in->set_tags) {
        pr.tags = (const char **)in->tags;
        pr.ntags = in->ntags;
    }
    pr.language = in->language;
    pr.target_scenes = in->target_scenes;
    pr.target_seconds = in->target_seconds;
    pr.instructions = in->instructions;
    pr.created_at = pr.updated_at = time_now_usec();
    if (project__create_in_tx(c, a, p, in, &pr, err) != 0)
        return -1;
    *out = pr;
    return 0;
}

/* A create or an update of one project, as one write transaction. */
typedef struct project__edit {
    arena *a;
    const principal *p;
    const char *id; /* NULL: create */
    const project_input *in;
    project *out;
} project__edit;

static int project__create_body(db_conn *c, void *arg, error *err)
{
    project__edit *e = arg;
    return project_service_create_tx(c, e->a, e->p, e->in, "draft", e->out, err);
}

int project_service_create(db_conn *c, arena *a, const principal *p, const project_input *in,
                           project *out, error *err)
{
    project__edit e = {a, p, NULL, in, out};
    return db_tx(c, project__create_body, &e, err);
}

int project_service_get(db_conn *c, arena *a, const principal *p, const char *id, project *out,
                        scene **scenes, size_t *nscenes, error *err)
{
    if (project_store_get(c, a, p->user_id, id, out, err) != 0)
        return -1;
    if (scenes == NULL)
        return 0;
    return scene_store_list(c, a, p->user_id, id, scenes, nscenes, err);
}

int project_service_list(db_conn *c, arena *a, const principal *p, const project_filter *f,
                         const char *cursor, int limit, project **out, size_t *n, error *err)
{
    return project_store_list(c, a, p->user_id, f, cursor, limit, out, n, err);
}

static int project__update_in_tx(db_conn *c, arena *a, const principal *p, const char *id,
                                 const project_input *in, project *pr, error *err)
{
    if (project_store_lock_editable(c, p->user_id, id, err) != 0 ||
        project_store_get(c, a, p->user_id, id, pr, err) != 0)
        return -1;
    if (in->set_channel && in->channel_id != NULL) {
        channel ch;
        if (project__check_channel(c, a, p, in->channel_id, &ch, err) != 0)
            return -1;
    }
    if (in->topic != NULL)
        pr->topic = in->topic;
    if (in->set_title)
        pr->title = in->title;
    if (in->set_description)
        pr->description = in->description;
    if (in->set_tags) {
        pr->tags = (const char **)in->tags;
        pr->ntags = in->ntags;
    }
    if (in->set_channel)
        pr->channel_id = in->channel_id;
    pr->updated_at = time_now_usec();
    return project_store_update(c, a, pr, err);
}

static int project__update_body(db_conn *c, void *arg, error *err)
{
    project__edit *e = arg;
    return project__update_in_tx(c, e->a, e->p, e->id, e->in, e->out, err);
}

int project_service_update(db_conn *c, arena *a, const principal *p, const char *id,
                           const project_input *in, project *out, error *err)
{
    if (in->persona_id != NULL)
        return error_set(err, ERR_INVALID, "persona_id",
                         "persona_id is fixed when the project is created");
    if (project__check_input(in, err) != 0)
        return -1;
    project__edit e = {a, p, id, in, out};
    return db_tx(c, project__update_body, &e, err);
}

int project_service_delete(services *s, db_conn *c, const principal *p, const char *id, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s", id ? id : "(none)");
    if (project_store_delete(c, p->user_id, id, err) != 0)
        return -1;
    /* The row is gone for good (autocommit): now its files. */
    media_service_project_deleted(s, p->user_id, id);
    return 0;
}

/* ---- scenes --------------------------------------------------------------- */

int project_service_scenes(db_conn *c, arena *a, const principal *p, const char *project_id,
                           scene **out, size_t *n, error *err)
{
    project pr;
    if (project_store_get(c, a, p->user_id, project_id, &pr, err) != 0)
        return -1;
    return scene_store_list(c, a, p->user_id, project_id, out, n, err);
}

static int project__check_scene(const scene_input *in, error *err)
{
    scene v = {.narration = in->narration, .visual_description = in->visual_description};
    return row_check(&scene_row, &v, "narration, visual_description", err);
}

/* Runs fn inside a write transaction that holds the project's row lock and
 * ends by bumping the project's updated_at: the frame of every scene edit.
 * No edit runs while a generation is pending: the job replaces the scenes
 * (or rewrites one) when it finishes. */
typedef struct project__scene_op {
    arena *a;
    const principal *p;
    const char *project_id;
    const char *scene_id;
    const scene_input *in;
    const char *const *ids;
    size_t nids;
    scene *one;
    scene **many;
    size_t *nmany;
    int64_t now;
    int (*fn)(db_conn *c, struct project__scene_op *op, error *err);
} project__scene_op;

static int project__scene_body(db_conn *c, void *arg, error *err)
{
    project__scene_op *op = arg;
    if (project_store_lock_editable(c, op->p->user_id, op->project_id, err) != 0 ||
        op->fn(c, op, err) != 0 ||
        project_store_touch(c, op->p->user_id, op->project_id, op->now, err) != 0)
        return -1;
    return 0;
}

static int project__scene_tx(db_conn *c, project__scene_op *op,
                             int (*fn)(db_conn *c, project__scene_op *op, error *err), error *err)
{
    op->now = time_now_usec();
    op->fn = fn;
    return db_tx(c, project__scene_body, op, err);
}

static int project__scene_add(db_conn *c, project__scene_op *op, error *err)
{
    const char *uid = op->p->user_id;
    int64_t count = 0;
    if (scene_store_count(c, uid, op->project_id, &count, err) != 0)
        return -1;
    if (count >= PROJECT_SCENES_MAX)
        return error_set(err, ERR_INVALID, "scenes",
                         "a project holds at most %d scenes; delete one before adding another",
                         PROJECT_SCENES_MAX);
    int position = op->in->position;
    if (position < 0)
        position = (int)count;
    else if (position > count)
        return error_set(err, ERR_INVALID, "position",
                         "position must be from 0 to %lld (the number of scenes)",
                         (long long)count);
    if (position < count &&
        scene_store_shift(c, uid, op->project_id, position, 1, op->now, err) != 0)
        return -1;
    scene *sc = op->one;
    memset(sc, 0, sizeof(*sc));
    uuid_v7(sc->id);
    snprintf(sc->project_id, sizeof(sc->project_id), "%s", op->project_id);
    snprintf(sc->user_id, sizeof(sc->user_id), "%s", uid);
    sc->position = position;
    sc->narration = op->in->narration ? op->in->narration : "";
    sc->visual_description = op->in->visual_description ? op->in->visual_description : "";
    sc->image_status = "PENDING";
    sc->audio_status = "PENDING";
    sc->duration_ms = -1;
    sc->created_at = sc->updated_at = op->now;
    return scene_store_insert(c, sc, err);
}

int project_service_scene_add(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const scene_input *in, scene *out, error *err)
{
    if (in->narration == NULL && in->visual_description == NULL)
        return error_set(err, ERR_INVALID, "narration",
                         "a new scene needs narration, visual_description or both");
    if (project__check_scene(in, err) != 0)
        return -1;
    project__scene_op op = {.a = a, .p = p, .project_id = project_id, .in = in, .one = out};
    return project__scene_tx(c, &op, project__scene_add, err);
}

static int project__scene_update(db_conn *c, project__scene_op *op, error *err)
{
    scene *sc = op->one;
    if (scene_store_get(c, op->a, op->p->user_id, op->project_id, op->scene_id, sc, err) != 0)
        return -1;
    scene before = *sc;
    if (op->in->narration != NULL)
        sc->narration = op->in->narration;
    if (op->in->visual_description != NULL)
        sc->visual_description = op->in->visual_description;
    sc->updated_at = op->now;
    if (scene_store_update(c, sc, err) != 0)
        return -1;
    bool words = strcmp(before.narration, sc->narration) != 0;
    bool picture = strcmp(before.visual_description, sc->visual_description) != 0;
    if (!words && !picture)
        return 0;
    /* New words make the audio stale, a new picture the image: re-queued,
     * and shown as such. */
    return (words && media_service_narration_changed(c, &before, err) != 0) ||
                   (picture && media_service_visual_changed(c, &before, err) != 0) ||
                   scene_store_get(c, op->a, op->p->user_id, op->project_id, op->scene_id, sc,
                                   err) != 0
               ? -1
               : 0;
}

int project_service_scene_update(db_conn *c, arena *a, const principal *p, const char *project_id,
                                 const char *scene_id, const scene_input *in, scene *out,
                                 error *err)
{
    if (project__check_scene(in, err) != 0)
        return -1;
    project__scene_op op = {
        .a = a, .p = p, .project_id = project_id, .scene_id = scene_id, .in = in, .one = out};
    return project__scene_tx(c, &op, project__scene_update, err);
}

static int project__scene_delete(db_conn *c, project__scene_op *op, error *err)
{
    const char *uid = op->p->user_id;
    scene sc;
    if (scene_store_get(c, op->a, uid, op->project_id, op->scene_id, &sc, err) != 0 ||
        scene_store_delete(c, uid, op->project_id, op->scene_id, err) != 0)
        return -1;
    return scene_store_shift(c, uid, op->project_id, sc.position + 1, -1, op->now, err);
}

int project_service_scene_delete(services *s, db_conn *c, const principal *p,
                                 const char *project_id, const char *scene_id, error *err)
{
    arena a;
    arena_init(&a, 4096);
    project__scene_op op = {.a = &a, .p = p, .project_id = project_id, .scene_id = scene_id};
    int rc = project__scene_tx(c, &op, project__scene_delete, err);
    arena_free(&a);
    /* The row is gone for good: now its files (decision 110). */
    if (rc == 0)
        media_service_scenes_deleted(s, c, p->user_id, project_id);
    return rc;
}

static int project__scene_reorder(db_conn *c, project__scene_op *op, error *err)
{
    const char *uid = op->p->user_id;
    scene *cur;
    size_t n;
    if (scene_store_list(c, op->a, uid, op->project_id, &cur, &n, err) != 0)
        return -1;
    /* Each listed id must match one scene not matched before; with as many
     * ids as scenes, that makes the list a permutation. */
    bool *seen = arena_calloc(op->a, n ? n : 1);
    int *order = arena_alloc(op->a, sizeof(int) * (n ? n : 1));
    for (size_t i = 0; i < op->nids; i++) {
        size_t k = 0;
        while (k < n && strcmp(cur[k].id, op->ids[i]) != 0)
            k++;
        if (k == n)
            return error_set(err, ERR_INVALID, "scene_ids", "%s is not a scene of this project",
                             op->ids[i]);
        if (seen[k])
            return error_set(err, ERR_INVALID, "scene_ids", "scene %s is listed more than once",
                             op->ids[i]);
        seen[k] = true;
        order[i] = (int)k;
    }
    if (op->nids != n) {
        size_t k = 0;
        while (k < n && seen[k])
            k++;
        return error_set(err, ERR_INVALID, "scene_ids",
                         "scene_ids must list all %zu scenes of the project; %s is missing", n,
                         k < n ? cur[k].id : "one");
    }
    scene *sorted = arena_alloc(op->a, sizeof(*sorted) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        sorted[i] = cur[order[i]];
        if (sorted[i].position != (int)i) {
            sorted[i].position = (int)i;
            sorted[i].updated_at = op->now;
            if (scene_store_set_position(c, uid, op->project_id, sorted[i].id, (int)i, op->now,
                                         err) != 0)
                return -1;
        }
    }
    *op->many = sorted;
    *op->nmany = n;
    return 0;
}

int project_service_scene_reorder(db_conn *c, arena *a, const principal *p, const char *project_id,
                                  const char *const *ids, size_t nids, scene **out, size_t *n,
                                  error *err)
{
    if (nids > PROJECT_SCENES_MAX)
        return error_set(err, ERR_INVALID, "scene_ids", "a project holds at most %d scenes",
                         PROJECT_SCENES_MAX);
    project__scene_op op = {.a = a,
                            .p = p,
                            .project_id = project_id,
                            .ids = ids,
                            .nids = nids,
                            .many = out,
                            .nmany = n};
    return project__scene_tx(c, &op, project__scene_reorder, err);
}
