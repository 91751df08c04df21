/*
 * The job side of script generation: one attempt at writing a project's
 * script (or one of its scenes). The provider is called with no
 * transaction open; everything the attempt changes is then written at
 * once: on success the scenes, the project, the usage row and the job's
 * completion in one transaction; on failure the usage row on its own
 * (it must survive the retry) and the project's new state.
 *
 * Running twice is harmless: a job acts only while the project is still at
 * the generation the job was queued for, and job_complete() refuses a
 * worker whose lease was taken over, so a second run either finds the work
 * done or redoes it in place of the first.
 */
#include "services/script_service.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/idempotency_store.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"
#include "domain/usage_store.h"
#include "jobs/worker.h"
#include "providers/llm.h"
#include "services/media_service.h"
#include "services/persona_access.h"
#include "services/script_prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One attempt, from payload to outcome. */
typedef struct script__task {
    services *s;
    db_conn *c;
    arena *a;
    const job *j;
    bool scene_mode;
    const char *project_id;
    int64_t generation;
    script_options o;
    const char *scene_id;
    const char *prior_status; /* scene mode: where the project returns on failure */
    project pr;
    persona *ps; /* its texts in a */
    script_ask ask;
    const llm *m;
} script__task;

static int script__payload(script__task *t, error *err)
{
    json_t *p = t->j->payload;
    json_t *gen = json_object_get(p, "generation");
    t->project_id = json_string_value(json_object_get(p, "project_id"));
    if (t->project_id == NULL || !json_is_integer(gen) || t->j->user_id[0] == '\0')
        return error_set(err, ERR_INVALID, "payload",
                         "a %s job needs project_id, generation and a user", t->j->kind);
    t->generation = json_integer_value(gen);
    t->o.language = json_string_value(json_object_get(p, "language"));
    t->o.target_scenes = (int)json_integer_value(json_object_get(p, "target_scenes"));
    t->o.target_seconds = (int)json_integer_value(json_object_get(p, "target_seconds"));
    t->o.instructions = json_string_value(json_object_get(p, "instructions"));
    t->scene_id = json_string_value(json_object_get(p, "scene_id"));
    t->prior_status = json_string_value(json_object_get(p, "prior_status"));
    if (t->scene_mode && (t->scene_id == NULL || t->prior_status == NULL))
        return error_set(err, ERR_INVALID, "payload", "a %s job needs scene_id and prior_status",
                         t->j->kind);
    return 0;
}

static void script__retry(job_result *out, const error *e)
{
    out->outcome = JOB_OUTCOME_RETRY;
    out->err = *e;
}

/* Completes the job with nothing else to write: the project is gone, or
 * has moved on to a newer generation. */
static int script__complete_body(db_conn *c, void *j, error *err)
{
    return job_complete(c, j, err);
}

static void script__complete_only(script__task *t, job_result *out)
{
    error e;
    if (db_tx(t->c, script__complete_body, (void *)t->j, &e) != 0) {
        script__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

/* The usage row of one attempt. Its persona and project are taken from the
 * project row as it is now: either may have been deleted meanwhile, and a
 * row naming a deleted one would break its foreign key. */
static int script__usage(script__task *t, const llm_result *res, int64_t duration_ms,
                         const char *error_code, error *err)
{
    project now;
    bool gone = project_store_get(t->c, t->a, t->j->user_id, t->project_id, &now, err) != 0;
    if (gone && err->kind != ERR_NOT_FOUND)
        return -1;
    usage_row row = {
        .persona_id = gone ? NULL : now.persona_id,
        .user_id = t->j->user_id,
        .project_id = gone ? NULL : t->project_id,
        .action = t->scene_mode ? USAGE_ACTION_SCENE : USAGE_ACTION_SCRIPT,
        .success = error_code == NULL,
        .duration_ms = duration_ms,
        .tokens_in = res ? res->tokens_in : 0,
        .tokens_out = res ? res->tokens_out : 0,
        .provider = llm_provider(t->m),
        .model = llm_model(t->m),
        .error_code = error_code,
    };
    return usage_store_insert(t->c, &row, err);
}

/* A failed attempt's usage row, in a transaction of its own so it stays
 * whatever the job does next. A failure to log is logged, not fatal. */
typedef struct script__failed_usage {
    script__task *t;
    const llm_result *res;
    int64_t duration_ms;
    const char *code;
} script__failed_usage;

static int script__usage_failed_body(db_conn *c, void *arg, error *err)
{
    (void)c;
    script__failed_usage *u = arg;
    return script__usage(u->t, u->res, u->duration_ms, u->code, err);
}

static void script__usage_failed(script__task *t, const llm_result *res, int64_t duration_ms,
                                 const char *code)
{
    error e;
    script__failed_usage u = {t, res, duration_ms, code};
    if (db_tx(t->c, script__usage_failed_body, &u, &e) == 0)
        return;
    log_warn("usage log of a failed %s attempt for project %s not written", t->j->kind,
             t->project_id);
}

/* Puts the project where a generation that ended for good leaves it:
 * failed (a scene rewrite returns to where the project was), with reason
 * as its error. *matched is false when the project has moved on to a newer
 * generation, or is gone, and so was left alone. */
static int script__end_project(script__task *t, const char *reason, char *text, size_t n,
                               bool *matched, error *err)
{
    const char *status = "failed";
    if (t->scene_mode) {
        status = t->prior_status;
        snprintf(text, n, "Rewriting a scene failed: %s", reason);
    } else {
        snprintf(text, n, "The script could not be written: %s", reason);
    }
    return project_store_set_progress(t->c, t->j->user_id, t->project_id, t->generation, status,
                                      text, time_now_usec(), matched, err);
}

/* Ends the generation for good, and the job with it. */
static void script__give_up(script__task *t, job_result *out, const char *reason)
{
    char text[1024];
    bool matched;
    error e;
    if (script__end_project(t, reason, text, sizeof(text), &matched, &e) != 0) {
        script__retry(out, &e);
        return;
    }
    if (!matched) { /* the project moved on meanwhile: nothing to report on it */
        script__complete_only(t, out);
        return;
    }
    out->outcome = JOB_OUTCOME_FAIL;
    error_set(&out->err, ERR_INVALID, NULL, "%s", text);
}

/* A failed provider call: log it, then retry or give up. */
static void script__attempt_failed(script__task *t, job_result *out, const llm_result *res,
                                   int64_t duration_ms)
{
    script__usage_failed(t, res, duration_ms, res->error_code);
    bool last = t->j->attempts >= t->j->max_attempts;
    if (res->outcome == LLM_PERMANENT) {
        script__give_up(t, out, res->message);
        return;
    }
    if (last) {
        char reason[700];
        snprintf(reason, sizeof(reason), "gave up after %d attempts; the last one failed: %s",
                 t->j->attempts, res->message);
        script__give_up(t, out, reason);
        return;
    }
    char text[800];
    snprintf(text, sizeof(text), "Attempt %d of %d failed and will be retried: %s", t->j->attempts,
             t->j->max_attempts, res->message);
    bool matched;
    error e;
    if (project_store_set_progress(t->c, t->j->user_id, t->project_id, t->generation, "queued",
                                   text, time_now_usec(), &matched, &e) != 0) {
        script__retry(out, &e);
        return;
    }
    if (res->outcome == LLM_RATE_LIMITED && res->retry_after_s >= 0) {
        out->outcome = JOB_OUTCOME_RETRY_AT;
        out->retry_at = time_now_usec() + (int64_t)res->retry_after_s * 1000000;
    } else {
        out->outcome = JOB_OUTCOME_RETRY;
    }
    error_set(&out->err, ERR_UNAVAILABLE, res->error_code, "%s", res->message);
}

/* ---- loading what the request is built from -------------------------------------- */

/* The persona that writes the project and, for a scene, the script around
 * it. ERR_NOT_FOUND / ERR_INVALID / ERR_PLAN_REQUIRED (the persona is above
 * the user's plan now) say the attempt cannot be made at all. */
static int script__load(script__task *t, error *err)
{
    if (t->pr.persona_id == NULL)
        return error_set(err, ERR_NOT_FOUND, "persona_id",
                         "the persona of this project was deleted; create a new project with "
                         "another persona");
    /* The plan as it is now: it may have dropped since the job was queued. */
    if (persona_access_usable_now(t->c, t->j->user_id, t->pr.persona_id, err) != 0) {
        if (err->kind == ERR_NOT_FOUND)
            error_set(err, ERR_NOT_FOUND, "persona_id",
                      "the persona of this project is no longer available to you");
        return -1;
    }
    t->ps = xcalloc(1, sizeof(*t->ps));
    /* The current row, even if it changed since the project was created:
     * the version it is at now is recorded as the one that wrote it. */
    if (persona_store_get_visible(t->c, t->a, t->pr.persona_id, t->j->user_id, t->ps, err) != 0) {
        if (err->kind == ERR_NOT_FOUND)
            error_set(err, ERR_NOT_FOUND, "persona_id",
                      "the persona of this project is no longer available to you");
        return -1;
    }
    script_ask *ask = &t->ask;
    ask->ps = t->ps;
    ask->pr = &t->pr;
    ask->o = &t->o;
    ask->language = t->o.language ? t->o.language : t->ps->language;
    ask->scene_index = -1;
    if (t->scene_mode) {
        scene *rows;
        size_t n;
        if (scene_store_list(t->c, t->a, t->j->user_id, t->project_id, &rows, &n, err) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].id, t->scene_id) == 0)
                ask->scene_index = (int)i;
        if (ask->scene_index < 0)
            return error_set(err, ERR_NOT_FOUND, "scene_id",
                             "the scene was deleted before it could be rewritten");
        ask->scenes = rows;
        ask->nscenes = n;
    }
    /* A rewrite should not repeat the scene it replaces: the offline
     * writer's variation takes the job id too. */
    ask->seed = arena_sprintf(t->a, "%s:%lld%s%s", t->ps->id, (long long)t->ps->version,
                              t->scene_mode ? ":" : "", t->scene_mode ? t->j->id : "");
    return 0;
}

/* ---- saving a success ------------------------------------------------------------- */

static int script__replace_scenes(script__task *t, const script_answer *ans, int64_t now,
                                  error *err)
{
    const char *uid = t->j->user_id;
    scene *old;
    size_t n;
    if (scene_store_list(t->c, t->a, uid, t->project_id, &old, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (scene_store_delete(t->c, uid, t->project_id, old[i].id, err) != 0)
            return -1;
    for (size_t i = 0; i < ans->nscenes; i++) {
        scene sc = {0};
        uuid_v7(sc.id);
        snprintf(sc.project_id, sizeof(sc.project_id), "%s", t->project_id);
        snprintf(sc.user_id, sizeof(sc.user_id), "%s", uid);
        sc.position = (int)i;
        sc.visual_description = ans->visual[i];
        sc.narration = ans->narration[i];
        sc.image_status = "PENDING";
        sc.audio_status = "PENDING";
        sc.duration_ms = -1;
        sc.created_at = sc.updated_at = now;
        if (scene_store_insert(t->c, &sc, err) != 0)
            return -1;
    }
    return 0;
}

/* The writes of a success, inside the open transaction. Nothing, and 0,
 * when the project is gone or at another generation: nothing of the answer
 * is kept. */
static int script__save_in_tx(script__task *t, const script_answer *ans, error *err)
{
    const char *uid = t->j->user_id;
    int64_t now = time_now_usec();
    project cur;
    if (project_store_lock(t->c, uid, t->project_id, err) != 0 ||
        project_store_get(t->c, t->a, uid, t->project_id, &cur, err) != 0)
        return err->kind == ERR_NOT_FOUND ? 0 : -1;
    if (cur.generation != t->generation)
        return 0;
    bool matched = false;
    if (!t->scene_mode) {
        if (script__replace_scenes(t, ans, now, err) != 0)
            return -1;
        cur.title = ans->title;
        cur.description = ans->description;
        cur.tags = ans->tags;
        cur.ntags = ans->ntags;
        cur.persona_version = (int)t->ps->version;
        cur.status = "scripted";
        cur.updated_at = now;
        if (project_store_save_script(t->c, t->a, &cur, t->generation, &matched, err) != 0)
            return -1;
    } else {
        scene sc;
        if (scene_store_get(t->c, t->a, uid, t->project_id, t->scene_id, &sc, err) != 0) {
            if (err->kind != ERR_NOT_FOUND)
                return -1;
            return project_store_set_progress(
                t->c, uid, t->project_id, t->generation, t->prior_status,
                "Rewriting a scene failed: the scene was deleted before its new version was ready",
                now, &matched, err);
        }
        scene before = sc;
        sc.visual_description = ans->visual[0];
        sc.narration = ans->narration[0];
        sc.updated_at = now;
        if (scene_store_update(t->c, &sc, err) != 0 ||
            (strcmp(before.narration, sc.narration) != 0 &&
             media_service_narration_changed(t->c, &before, err) != 0) ||
            (strcmp(before.visual_description, sc.visual_description) != 0 &&
             media_service_visual_changed(t->c, &before, err) != 0) ||
            project_store_set_progress(t->c, uid, t->project_id, t->generation, "scripted", NULL,
                                       now, &matched, err) != 0)
            return -1;
    }
    return 0;
}

/* A success's transaction: the answer's writes, the attempt's usage row and
 * the job's completion. When the project is gone or at another generation
 * the answer is dropped and only the record that the attempt happened is
 * kept; nothing was written before that was known (the project's lock and
 * read come first), so the usage row and the completion share the same
 * transaction rather than a second one. */
typedef struct script__success_tx {
    script__task *t;
    const llm_result *res;
    const script_answer *ans;
    int64_t duration_ms;
} script__success_tx;

static int script__succeeded_body(db_conn *c, void *arg, error *err)
{
    (void)c;
    script__success_tx *tx = arg;
    if (script__save_in_tx(tx->t, tx->ans, err) != 0 ||
        script__usage(tx->t, tx->res, tx->duration_ms, NULL, err) != 0)
        return -1;
    return job_complete(tx->t->c, tx->t->j, err);
}

static void script__succeeded(script__task *t, job_result *out, const llm_result *res,
                              const script_answer *ans, int64_t duration_ms)
{
    error e;
    script__success_tx tx = {t, res, ans, duration_ms};
    if (db_tx(t->c, script__succeeded_body, &tx, &e) == 0) {
        out->outcome = JOB_OUTCOME_DONE;
        /* A whole script replaced the scenes: the old ones' files go, now
         * that the replacement has committed (decision 110). */
        if (!t->scene_mode)
            media_service_scenes_deleted(t->s, t->c, t->j->user_id, t->project_id);
        return;
    }
    /* Nothing was written (a lost lease, a database fault): the job runs
     * again, and this attempt's tokens are on record as spent. */
    script__usage_failed(t, res, duration_ms,
                         e.kind == ERR_CONFLICT ? "lease_lost" : "save_failed");
    script__retry(out, &e);
}

/* ---- one attempt ------------------------------------------------------------------- */

static void script__run(script__task *t, job_result *out)
{
    error e;
    if (script__payload(t, &out->err) != 0) {
        out->outcome = JOB_OUTCOME_FAIL;
        return;
    }
    const char *uid = t->j->user_id;
    if (project_store_get(t->c, t->a, uid, t->project_id, &t->pr, &e) != 0) {
        if (e.kind == ERR_NOT_FOUND)
            script__complete_only(t, out);
        else
            script__retry(out, &e);
        return;
    }
    bool matched = false;
    if (t->pr.generation == t->generation &&
        project_store_set_progress(t->c, uid, t->project_id, t->generation, "generating", NULL,
                                   time_now_usec(), &matched, &e) != 0) {
        script__retry(out, &e);
        return;
    }
    if (!matched) {
        script__complete_only(t, out);
        return;
    }
    if (script__load(t, &e) != 0) {
        if (e.kind == ERR_NOT_FOUND || e.kind == ERR_INVALID || e.kind == ERR_PLAN_REQUIRED)
            script__give_up(t, out, e.message);
        else
            script__retry(out, &e);
        return;
    }

    llm_request rq;
    llm_brief brief;
    json_t *schema = NULL;
    script_prompt_build(t->a, &t->ask, &rq, &brief, &schema);
    llm_result res;
    int64_t started = time_mono_usec();
    llm_generate(t->m, &rq, &res);
    int64_t duration_ms = (time_mono_usec() - started) / 1000;
    json_decref(schema);

    script_answer ans;
    char why[400];
    if (res.outcome == LLM_OK &&
        script_prompt_accept(t->a, &t->ask, res.json, &ans, why, sizeof(why)) != 0) {
        res.outcome = LLM_PERMANENT;
        snprintf(res.error_code, sizeof(res.error_code), "schema_violation");
        snprintf(res.message, sizeof(res.message),
                 "the model's answer does not fit the script format: %s", why);
    }
    if (res.outcome == LLM_OK)
        script__succeeded(t, out, &res, &ans, duration_ms);
    else
        script__attempt_failed(t, out, &res, duration_ms);
    llm_result_free(&res);
}

static int script__purge_body(db_conn *c, void *j, error *err)
{
    int64_t deleted = 0;
    if (idempotency_store_purge(c, time_now_usec(), &deleted, err) != 0)
        return -1;
    return job_complete(c, j, err);
}

static void script__purge(db_conn *c, const job *j, job_result *out)
{
    error e;
    if (db_tx(c, script__purge_body, (void *)j, &e) != 0) {
        script__retry(out, &e);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

void script_service_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(j->kind, SCRIPT_JOB_PURGE) == 0) {
        script__purge(c, j, out);
        return;
    }
    services *s = ctx;
    error e;
    llm *m = llm_new(&s->llm, &e);
    arena a;
    arena_init(&a, 16 * 1024);
    script__task t = {.s = s,
                      .c = c,
                      .a = &a,
                      .j = j,
                      .scene_mode = strcmp(j->kind, SCRIPT_JOB_SCENE) == 0,
                      .m = m};
    if (m == NULL) {
        /* A configuration fault: no attempt is possible until it is fixed. */
        if (script__payload(&t, &out->err) == 0 &&
            project_store_get(c, &a, j->user_id, t.project_id, &t.pr, &out->err) == 0 &&
            t.pr.generation == t.generation) {
            char reason[700];
            snprintf(reason, sizeof(reason), "the script writer is misconfigured (%s: %s)", e.field,
                     e.message);
            script__give_up(&t, out, reason);
        } else {
            out->outcome = JOB_OUTCOME_FAIL;
            out->err = e;
        }
    } else {
        script__run(&t, out);
    }
    free(t.ps);
    llm_free(m);
    arena_free(&a);
}

/* A generation whose job died without its handler ending it (its last
 * attempt lost its lease, or failed wanting another): without this the
 * project would stay queued or generating for good, and every new
 * generation of it would be refused as already pending. */
static void script__dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    if (strcmp(j->kind, SCRIPT_JOB_PURGE) == 0 || !json_is_object(j->payload))
        return;
    script__task t = {
        .s = ctx, .c = c, .j = j, .scene_mode = strcmp(j->kind, SCRIPT_JOB_SCENE) == 0};
    char text[1024];
    bool matched;
    error e;
    if (script__payload(&t, &e) != 0 ||
        script__end_project(&t, why, text, sizeof(text), &matched, &e) != 0) {
        log_error("job %s died and its project could not be set back: %s", j->id, e.message);
        return;
    }
    if (matched)
        log_warn("project %s: %s", t.project_id, text);
}

void script_service_register_jobs(services *s)
{
    int timeout_ms = s->llm.timeout_ms > 0 ? s->llm.timeout_ms : 120000;
    /* The lease covers one provider call and the writes after it; the
     * worker heartbeats meanwhile, so this is the bound on a lost worker. */
    int lease = timeout_ms / 1000 + 30;
    job_register(SCRIPT_JOB_GENERATE, script_service_job, s, lease);
    job_register(SCRIPT_JOB_SCENE, script_service_job, s, lease);
    job_on_dead(SCRIPT_JOB_GENERATE, script__dead);
    job_on_dead(SCRIPT_JOB_SCENE, script__dead);
    job_register(SCRIPT_JOB_PURGE, script_service_job, s, 60);
    job_schedule(SCRIPT_JOB_PURGE, 3600, "{}");
}
