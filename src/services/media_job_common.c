#include "services/media_job_common.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/limits.h"
#include "domain/project_store.h"
#include "jobs/worker.h"
#include "providers/media_store.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int media_job_scene_of(const job *j, char tag, media_job_scene *out, error *err)
{
    json_t *p = j->payload;
    json_t *gen = json_object_get(p, "generation");
    out->project_id = json_string_value(json_object_get(p, "project_id"));
    out->scene_id = json_string_value(json_object_get(p, "scene_id"));
    if (out->project_id == NULL || out->scene_id == NULL || !json_is_integer(gen) ||
        j->user_id[0] == '\0' || !uuid_is_valid(out->project_id) || !uuid_is_valid(out->scene_id))
        return error_set(err, ERR_INVALID, "payload",
                         "a %s job needs project_id, scene_id, generation and a user", j->kind);
    out->generation = json_integer_value(gen);
    snprintf(out->stem, sizeof(out->stem), "scene-%s-%c%lld", out->scene_id, tag,
             (long long)out->generation);
    return 0;
}

const char *media_job_reason(arena *a, const char *why)
{
    size_t n = strlen(why);
    if (n <= SCENE_AUDIO_ERROR_MAX)
        return arena_strdup(a, why);
    n = SCENE_AUDIO_ERROR_MAX;
    while (n > 0 && ((unsigned char)why[n] & 0xC0) == 0x80)
        n--;
    char *s = arena_alloc(a, n + 1);
    memcpy(s, why, n);
    s[n] = '\0';
    return s;
}

static int media_job__complete_body(db_conn *c, void *j, error *err)
{
    return job_complete(c, j, err);
}

int media_job_complete_only(db_conn *c, const job *j, error *err)
{
    return db_tx(c, media_job__complete_body, (void *)j, err) < 0 ? -1 : 0;
}

bool media_job_permanent(const error *e)
{
    return e->kind == ERR_CONFIG || e->kind == ERR_NO_SPACE;
}

int media_job_temp(media_job_task *t, media_job_product *p, const char *suffix, media_temp **out,
                   error *err)
{
    assert(p->nfiles < MEDIA_JOB_FILES_MAX);
    char name[MEDIA_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s%s", t->js.stem, suffix);
    media_temp *mt = &p->files[p->nfiles];
    if (media_store_temp(t->s->media, t->j->user_id, t->js.project_id, name, mt, err) != 0)
        return -1;
    p->nfiles++;
    *out = mt;
    return 0;
}

void media_job_product_fail(media_job_product *p, media_job_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->outcome = o;
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
}

/* ---- writing the scene's state ---------------------------------------------------------- */

/* How far back older generations' files are looked for and removed. */
#define MEDIA_JOB__OLD_GENERATIONS 64

typedef struct media_job__state_tx {
    media_job_task *t;
    media_job_state st;
    bool complete;        /* also complete the job */
    media_job_product *p; /* its temporaries are committed too (NULL: none) */
    bool matched;
} media_job__state_tx;

/* Renames p's temporaries into place, all or none: when one fails, those
 * already in place are removed, and so is its own (the local store may
 * have renamed it before its directory's sync failed), so the rollback
 * that follows leaves no file of the generation visible. */
static int media_job__commit_files(media_job_task *t, media_job_product *p, error *err)
{
    for (int i = 0; i < p->nfiles; i++) {
        if (media_store_commit(t->s->media, &p->files[i], err) == 0)
            continue;
        for (int k = 0; k <= i; k++) {
            error e;
            if (media_store_remove(t->s->media, t->j->user_id, t->js.project_id, p->files[k].name,
                                   &e) != 0)
                log_warn("media: %s not removed: %s", p->files[k].name, e.message);
        }
        return -1;
    }
    return 0;
}

static void media_job__discard_files(media_job_task *t, media_job_product *p)
{
    for (int i = 0; i < p->nfiles; i++)
        media_store_discard(t->s->media, &p->files[i]); /* a committed one: nothing to do */
    p->nfiles = 0;
}

/* With files, under the project's lock (as the render's commit, decision
 * 103): the state, the job's completion, then the files, only while the
 * scene is at the job's generation. The files go last, so a lost lease or
 * a moved-on scene commits none of them. */
static int media_job__state_body(db_conn *c, void *arg, error *err)
{
    media_job__state_tx *tx = arg;
    media_job_task *t = tx->t;
    bool files = tx->p != NULL && tx->p->nfiles > 0;
    tx->matched = false;
    if (files && project_store_lock(c, t->j->user_id, t->js.project_id, err) != 0)
        return err->kind == ERR_NOT_FOUND && tx->complete ? job_complete(c, t->j, err) : -1;
    if (t->kind->set_state(c, t->j, &t->js, &tx->st, &tx->matched, err) != 0)
        return -1;
    if (tx->complete && job_complete(c, t->j, err) != 0)
        return -1;
    return files && tx->matched ? media_job__commit_files(t, tx->p, err) : 0;
}

static int media_job__set_state_with(media_job_task *t, const media_job_state *st, bool complete,
                                     media_job_product *p, bool *matched, error *err)
{
    media_job__state_tx tx = {.t = t, .st = *st, .complete = complete, .p = p};
    int rc = db_tx(t->c, media_job__state_body, &tx, err);
    if (matched != NULL)
        *matched = rc >= 0 && tx.matched;
    return rc < 0 ? -1 : 0;
}

static int media_job__set_state(media_job_task *t, const media_job_state *st, bool complete,
                                bool *matched, error *err)
{
    return media_job__set_state_with(t, st, complete, NULL, matched, err);
}

static void media_job__retry(job_result *out, const error *e)
{
    out->outcome = JOB_OUTCOME_RETRY;
    out->err = *e;
}

/* Ends the scene's media as FAILED with why, and the job with it. */
static void media_job__fail(media_job_task *t, job_result *out, const char *why)
{
    error e;
    media_job_state st = {
        .status = "FAILED", .error = media_job_reason(t->a, why), .duration_ms = -1};
    if (media_job__set_state(t, &st, false, NULL, &e) != 0) {
        media_job__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_FAIL;
    error_set(&out->err, ERR_INVALID, NULL, "%s of scene %s failed: %s", t->kind->what,
              t->js.scene_id, why);
}

/* A transient failure: retried (at retry_after_s when >= 0), or the scene
 * FAILED on the last attempt. */
static void media_job__transient(media_job_task *t, job_result *out, const char *why,
                                 long retry_after_s)
{
    if (t->j->attempts >= t->j->max_attempts) {
        char reason[700];
        snprintf(reason, sizeof(reason), "gave up after %d attempts; the last one failed: %s",
                 t->j->attempts, why);
        media_job__fail(t, out, reason);
        return;
    }
    error e;
    media_job_state st = {.status = "PENDING", .duration_ms = -1};
    if (media_job__set_state(t, &st, false, NULL, &e) != 0) {
        media_job__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_RETRY;
    error_set(&out->err, ERR_UNAVAILABLE, NULL, "%s", why);
    if (retry_after_s >= 0) {
        out->outcome = JOB_OUTCOME_RETRY_AT;
        out->retry_at = time_now_usec() + (int64_t)retry_after_s * 1000000;
    }
}

static void media_job__complete_only(media_job_task *t, job_result *out)
{
    error e;
    if (media_job_complete_only(t->c, t->j, &e) != 0) {
        media_job__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

/* Removes the files of one generation of the scene's media (best effort). */
static void media_job__remove_generation(media_job_task *t, int64_t generation)
{
    for (size_t i = 0; t->kind->suffixes[i] != NULL; i++) {
        char name[MEDIA_NAME_MAX + 1];
        snprintf(name, sizeof(name), "scene-%s-%c%lld%s", t->js.scene_id, t->kind->tag,
                 (long long)generation, t->kind->suffixes[i]);
        error e;
        if (media_store_remove(t->s->media, t->j->user_id, t->js.project_id, name, &e) != 0)
            log_warn("media: %s not removed: %s", name, e.message);
    }
}

/* ---- one attempt ------------------------------------------------------------------------------
 */

static void media_job__run(media_job_task *t, job_result *out)
{
    error e;
    if (media_job_scene_of(t->j, t->kind->tag, &t->js, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_FAIL;
        return;
    }
    if (scene_store_get(t->c, t->a, t->j->user_id, t->js.project_id, t->js.scene_id, &t->sc, &e) !=
        0) {
        if (e.kind == ERR_NOT_FOUND)
            media_job__complete_only(t, out); /* the scene or its project is gone */
        else
            media_job__retry(out, &e);
        return;
    }
    bool matched = false;
    media_job_state processing = {.status = "PROCESSING", .duration_ms = -1};
    if (t->kind->generation(&t->sc) == t->js.generation &&
        media_job__set_state(t, &processing, false, &matched, &e) != 0) {
        media_job__retry(out, &e);
        return;
    }
    if (!matched) { /* asked for again since: that request's job does the work */
        media_job__complete_only(t, out);
        return;
    }
    if (t->s->media == NULL) {
        media_job__fail(t, out, "media storage is not configured on the worker");
        return;
    }
    /* An earlier attempt killed between two commits, or whose transaction
     * failed after its renames, may have left files of this generation;
     * the scene, PROCESSING at it, names none of them (decision 160). */
    if (t->j->attempts > 1)
        media_job__remove_generation(t, t->js.generation);

    media_job_product p = {.outcome = MEDIA_PRODUCED, .retry_after_s = -1, .duration_ms = -1};
    t->kind->produce(t, &p);
    if (p.outcome != MEDIA_PRODUCED) {
        media_job__discard_files(t, &p);
        if (p.outcome == MEDIA_PERMANENT)
            media_job__fail(t, out, p.reason);
        else
            media_job__transient(t, out, p.reason, p.retry_after_s);
        return;
    }
    media_job_state done = {.status = "COMPLETED", .path = p.path, .duration_ms = p.duration_ms};
    int rc = media_job__set_state_with(t, &done, true, &p, &matched, &e);
    media_job__discard_files(t, &p); /* what was not committed */
    if (rc != 0) {
        media_job__retry(out, &e); /* a lost lease or a fault: nothing recorded */
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
    /* Files of older requests are no longer named by the scene; this
     * request's are not either when it was overtaken meanwhile. */
    if (!matched)
        media_job__remove_generation(t, t->js.generation);
    for (int64_t g = t->js.generation - 1;
         matched && g >= 1 && g >= t->js.generation - MEDIA_JOB__OLD_GENERATIONS; g--)
        media_job__remove_generation(t, g);
}

void media_job_handle(const media_job_kind *k, db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    arena a;
    arena_init(&a, 16 * 1024);
    media_job_task t = {.s = ctx, .c = c, .a = &a, .j = j, .kind = k};
    media_job__run(&t, out);
    arena_free(&a);
}

/* A job that died without its handler deciding (its last attempt lost the
 * lease): the scene would stay PROCESSING for good. */
void media_job_dead(const media_job_kind *k, db_conn *c, const job *j, const char *why, void *ctx)
{
    if (strcmp(j->kind, k->job_kind) != 0 || !json_is_object(j->payload))
        return;
    arena a;
    arena_init(&a, 1024);
    media_job_task t = {.s = ctx, .c = c, .a = &a, .j = j, .kind = k};
    error e;
    if (media_job_scene_of(j, k->tag, &t.js, &e) == 0) {
        media_job_state st = {
            .status = "FAILED", .error = media_job_reason(&a, why), .duration_ms = -1};
        bool matched = false;
        if (media_job__set_state(&t, &st, false, &matched, &e) != 0)
            log_error("job %s died and its scene could not be marked failed: %s", j->id, e.message);
        else if (matched && t.s->media != NULL)
            media_job__remove_generation(&t, t.js.generation); /* what its attempts left */
    }
    arena_free(&a);
}
