/*
 * The request side of script generation: the use cases that queue a
 * generation (with the idempotency check around them) and the usage
 * summary. The job that does the writing is in script_job.c.
 */
#include "services/script_service.h"

#include "base/alloc.h"
#include "base/lang.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "domain/idempotency_store.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"
#include "services/persona_access.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The answer stored under an Idempotency-Key: one project, without scenes. */
#define SCRIPT_ANSWER_CAP (1u << 20)

/* ---- validation -------------------------------------------------------------- */

static bool script__options_empty(const script_options *o)
{
    return o == NULL || (o->language == NULL && o->target_scenes == 0 && o->target_seconds == 0 &&
                         o->instructions == NULL);
}

static int script__check_options(const script_options *o, bool scene_mode, error *err)
{
    if (o == NULL)
        return 0;
    if (o->language != NULL && !lang_is_bcp47(o->language))
        return error_set(err, ERR_INVALID, "language",
                         "language must be a BCP-47 tag such as \"en\" or \"pt-BR\"");
    if (scene_mode && (o->target_scenes != 0 || o->target_seconds != 0))
        return error_set(err, ERR_INVALID, o->target_scenes ? "target_scenes" : "target_seconds",
                         "a scene is rewritten at its own length; target_scenes and "
                         "target_seconds apply to whole scripts");
    if (o->target_scenes != 0 && o->target_seconds != 0)
        return error_set(err, ERR_INVALID, "target_seconds",
                         "give target_scenes or target_seconds, not both");
    if (o->target_scenes != 0 &&
        (o->target_scenes < SCRIPT_SCENES_MIN || o->target_scenes > SCRIPT_SCENES_MAX))
        return error_set(err, ERR_INVALID, "target_scenes", "target_scenes must be from %d to %d",
                         SCRIPT_SCENES_MIN, SCRIPT_SCENES_MAX);
    if (o->target_seconds != 0 &&
        (o->target_seconds < SCRIPT_SECONDS_MIN || o->target_seconds > SCRIPT_SECONDS_MAX))
        return error_set(err, ERR_INVALID, "target_seconds", "target_seconds must be from %d to %d",
                         SCRIPT_SECONDS_MIN, SCRIPT_SECONDS_MAX);
    if (o->instructions != NULL && utf8_chars(o->instructions) > SCRIPT_INSTRUCTIONS_MAX)
        return error_set(err, ERR_INVALID, "instructions",
                         "instructions must be at most %d characters", SCRIPT_INSTRUCTIONS_MAX);
    return 0;
}

int script_service_check_key(const char *key, error *err)
{
    size_t n = key ? strlen(key) : 0;
    bool ok = n >= 1 && n <= IDEMPOTENCY_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] >= 0x20 && key[i] <= 0x7E;
    if (!ok)
        return error_set(err, ERR_INVALID, "Idempotency-Key",
                         "Idempotency-Key must be 1 to %d printable ASCII characters, such as a "
                         "UUID",
                         IDEMPOTENCY_KEY_MAX);
    return 0;
}

/* ---- the frame every queuing use case shares ------------------------------------- */

/* What one use case does inside the frame's transaction: its writes, and
 * the project and status to answer with. */
typedef struct script__op {
    arena *a;
    const principal *p;
    const project_input *in;
    bool generate;
    const script_options *o;
    const char *project_id;
    const char *scene_id;
    project pr; /* filled by the step: what the answer shows */
    int status; /* filled by the step */
} script__op;

typedef int (*script__step)(db_conn *c, script__op *op, error *err);

static void script__fingerprint(const script_idempotency *idem, char out[65])
{
    char *body = idem->body ? json_dumps(idem->body, JSON_COMPACT | JSON_SORT_KEYS |
                                                         JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))
                            : NULL;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    const char *scope = idem->scope ? idem->scope : "";
    crypto_hash_sha256_update(&st, (const unsigned char *)scope, strlen(scope) + 1);
    if (body != NULL)
        crypto_hash_sha256_update(&st, (const unsigned char *)body, strlen(body));
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof(h));
    free(body);
}

/* The stored answer under the key, if any: a replay when the request is the
 * same, ERR_INVALID when the key was used for another request. */
static int script__replay(db_conn *c, script__op *op, const script_idempotency *idem,
                          const char *fp, script_reply *out, bool *replayed, error *err)
{
    *replayed = false;
    idempotency_row row;
    bool found = false;
    if (idempotency_store_find(c, op->a, op->p->user_id, idem->key, time_now_usec(), &row, &found,
                               err) != 0)
        return -1;
    if (!found)
        return 0;
    if (strcmp(row.fingerprint, fp) != 0)
        return error_set(err, ERR_INVALID, "Idempotency-Key",
                         "this Idempotency-Key was already used in the last 24 hours for a "
                         "different request; send a new key with a new request");
    out->status = row.status_code;
    out->body = row.response;
    out->replayed = true;
    out->project_id[0] = '\0';
    json_t *doc = json_loads(row.response, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (id != NULL)
        snprintf(out->project_id, sizeof(out->project_id), "%s", id);
    json_decref(doc);
    *replayed = true;
    return 0;
}

/* One attempt of the frame, the body of its write transaction (db_tx). */
typedef struct script__try {
    script__op *op;
    script__step step;
    const script_idempotency *idem;
    const char *fp;
    script_reply *out;
    bool lost; /* a concurrent request stored an answer under the key first */
} script__try;

/* Looks for a stored answer, runs the step, writes the project as the
 * answer (row_json_write) and stores it. */
static int script__attempt_body(db_conn *c, void *arg, error *err)
{
    script__try *t = arg;
    script__op *op = t->op;
    script_reply *out = t->out;
    bool keyed = t->idem != NULL && t->idem->key != NULL;
    bool replayed = false;
    if (keyed && script__replay(c, op, t->idem, t->fp, out, &replayed, err) != 0)
        return -1;
    if (replayed)
        return 0;
    if (t->step(c, op, err) != 0)
        return -1;
    buf text;
    buf_init(&text, SCRIPT_ANSWER_CAP);
    jw w;
    jw_init(&w, &text);
    row_json_write(&w, &project_row, &op->pr);
    if (jw_error(&w) != BUF_OK || text.data == NULL) {
        buf_free(&text);
        return error_set(err, ERR_INTERNAL, NULL, "the answer could not be encoded as JSON");
    }
    out->body = arena_strdup(op->a, text.data);
    buf_free(&text);
    out->status = op->status;
    out->replayed = false;
    snprintf(out->project_id, sizeof(out->project_id), "%s", op->pr.id);
    if (keyed && idempotency_store_insert(c, op->p->user_id, t->idem->key, t->fp, out->status,
                                          out->body, time_now_usec(), err) != 0) {
        t->lost = err->kind == ERR_CONFLICT;
        return -1;
    }
    return 0;
}

/* One attempt of the frame; *lost as in script__try. */
static int script__attempt(db_conn *c, script__op *op, script__step step,
                           const script_idempotency *idem, const char *fp, script_reply *out,
                           bool *lost, error *err)
{
    script__try t = {op, step, idem, fp, out, false};
    int rc = db_tx(c, script__attempt_body, &t, err);
    *lost = t.lost;
    return rc;
}

static int script__frame(db_conn *c, script__op *op, script__step step,
                         const script_idempotency *idem, script_reply *out, error *err)
{
    char fp[65] = "";
    if (idem != NULL && idem->key != NULL) {
        if (script_service_check_key(idem->key, err) != 0)
            return -1;
        script__fingerprint(idem, fp);
    }
    bool lost = false;
    int rc = script__attempt(c, op, step, idem, fp, out, &lost, err);
    /* A concurrent request with the same key committed first (PostgreSQL
     * only; SQLite serializes writers): its answer is now stored. */
    if (rc != 0 && lost)
        rc = script__attempt(c, op, step, idem, fp, out, &lost, err);
    return rc;
}

/* ---- queuing a generation ------------------------------------------------------ */

/* The job's payload: which generation of which project, and what was asked. */
static json_t *script__payload(const project *pr, int64_t generation, const script_options *o,
                               const char *scene_id, const char *prior_status)
{
    json_t *p = json_pack("{s:s,s:I}", "project_id", pr->id, "generation", (json_int_t)generation);
    if (o != NULL) {
        if (o->language)
            json_object_set_new(p, "language", json_string(o->language));
        if (o->target_scenes)
            json_object_set_new(p, "target_scenes", json_integer(o->target_scenes));
        if (o->target_seconds)
            json_object_set_new(p, "target_seconds", json_integer(o->target_seconds));
        if (o->instructions)
            json_object_set_new(p, "instructions", json_string(o->instructions));
    }
    if (scene_id != NULL)
        json_object_set_new(p, "scene_id", json_string(scene_id));
    if (prior_status != NULL)
        json_object_set_new(p, "prior_status", json_string(prior_status));
    return p;
}

static int script__enqueue(db_conn *c, const principal *p, const char *kind, json_t *payload,
                           error *err)
{
    job_options jo = {.user_id = p->user_id, .max_attempts = 5};
    char id[UUID_STR_LEN + 1];
    int rc = job_enqueue(c, kind, payload, &jo, id, err);
    json_decref(payload);
    return rc;
}

/* Counts one generation against the plan's monthly limit. It runs in the
 * transaction that queues the job and raises the counter before reading
 * it, so of two requests at the last slot the second waits for the first
 * and sees its count; a refusal rolls the raise back with everything else. */
static int script__count_generation(db_conn *c, const principal *p, error *err)
{
    int64_t used = 0;
    if (usage_store_count_generation(c, p->user_id, time_month_start(time_now_usec()), 1, &used,
                                     err) != 0)
        return -1;
    int max = p->max_generations_per_month;
    if (max >= 0 && used > max)
        return error_set(err, ERR_PLAN_LIMIT, "max_generations_per_month",
                         "your plan '%s' allows %d script generation%s per calendar month (UTC), "
                         "scene rewrites included, and you have used %lld this month; wait for "
                         "next month or upgrade your plan",
                         p->plan_code, max, max == 1 ? "" : "s", (long long)(used - 1));
    return 0;
}

static int script__create_step(db_conn *c, script__op *op, error *err)
{
    /* The project keeps the controls of its first generation for the next. */
    project_input in = *op->in;
    if (op->o != NULL) {
        in.language = op->o->language;
        in.target_scenes = op->o->target_scenes;
        in.target_seconds = op->o->target_seconds;
        in.instructions = op->o->instructions;
    }
    if (project_service_create_tx(c, op->a, op->p, &in, op->generate ? "queued" : "draft", &op->pr,
                                  err) != 0)
        return -1;
    op->status = op->generate ? 202 : 201;
    if (!op->generate)
        return 0;
    if (script__count_generation(c, op->p, err) != 0)
        return -1;
    return script__enqueue(c, op->p, SCRIPT_JOB_GENERATE,
                           script__payload(&op->pr, op->pr.generation, op->o, NULL, NULL), err);
}

int script_service_create(db_conn *c, arena *a, const principal *p, const project_input *in,
                          bool generate, const script_options *o, const script_idempotency *idem,
                          script_reply *out, error *err)
{
    if (!generate && !script__options_empty(o))
        return error_set(err, ERR_INVALID, "generate",
                         "language, target_scenes, target_seconds and instructions only apply "
                         "when the script is generated; drop them or drop \"generate\": false");
    if (script__check_options(o, false, err) != 0)
        return -1;
    script__op op = {.a = a, .p = p, .in = in, .generate = generate, .o = o};
    return script__frame(c, &op, script__create_step, idem, out, err);
}

static bool script__busy(const project *pr)
{
    return strcmp(pr->status, "queued") == 0 || strcmp(pr->status, "generating") == 0;
}

/* Locks the caller's project and refuses while a generation is pending. */
static int script__lock_idle(db_conn *c, script__op *op, project *pr, error *err)
{
    if (project_store_lock(c, op->p->user_id, op->project_id, err) != 0 ||
        project_store_get(c, op->a, op->p->user_id, op->project_id, pr, err) != 0)
        return -1;
    if (script__busy(pr))
        return error_set(err, ERR_CONFLICT, "status",
                         "a script generation of this project is already %s; wait until it "
                         "ends (follow GET /api/v1/events or the project's status)",
                         strcmp(pr->status, "queued") == 0 ? "queued" : "running");
    return 0;
}

/* A generation needs the project's persona to be one the caller may still
 * use. Deleted (archived, or gone: the record of a persona deleted before
 * archiving existed) or no longer visible is refused here, up front, with
 * what to do, instead of a 202 and a job that fails in the background. A
 * persona above the caller's plan is refused too (README, Plans): a plan may
 * have dropped since the project was made; the job checks again, since it
 * may drop while queued. */
static int script__check_persona(db_conn *c, const script__op *op, const project *cur, error *err)
{
    error e;
    if (cur->persona_id != NULL &&
        persona_access_usable(c, op->p, cur->persona_id, NULL, NULL, &e) == 0)
        return 0;
    if (cur->persona_id != NULL && e.kind != ERR_NOT_FOUND) {
        if (err != NULL)
            *err = e;
        return -1;
    }
    return error_set(err, ERR_NO_PERSONA, "persona_id",
                     "the persona of this project was deleted or is no longer available to you, "
                     "so nothing of it can be written again; create a new project with another "
                     "persona (POST /api/v1/projects with persona_id)");
}

/* Queues the next generation and re-reads the project for the answer. */
static int script__queue(db_conn *c, script__op *op, const char *kind, const char *prior_status,
                         const script_options *o, error *err)
{
    int64_t generation = 0;
    if (script__count_generation(c, op->p, err) != 0 ||
        project_store_queue_generation(c, op->p->user_id, op->project_id, time_now_usec(),
                                       &generation, err) != 0 ||
        project_store_get(c, op->a, op->p->user_id, op->project_id, &op->pr, err) != 0)
        return -1;
    op->status = 202;
    return script__enqueue(
        c, op->p, kind, script__payload(&op->pr, generation, o, op->scene_id, prior_status), err);
}

/*
 * The controls a generation runs with: each one the request gives, else the
 * one the project keeps, so a project does not forget its language, length
 * or instructions between requests. A length target replaces both stored
 * ones (they are exclusive); "instructions": "" clears them.
 */
static void script__controls(const project *cur, const script_options *asked, bool scene_mode,
                             script_options *out)
{
    memset(out, 0, sizeof(*out));
    if (asked != NULL)
        *out = *asked;
    if (out->language == NULL)
        out->language = cur->language;
    if (out->instructions == NULL)
        out->instructions = cur->instructions;
    /* A scene is rewritten at its own length. */
    if (!scene_mode && out->target_scenes == 0 && out->target_seconds == 0) {
        out->target_scenes = cur->target_scenes;
        out->target_seconds = cur->target_seconds;
    }
}

static int script__regenerate_step(db_conn *c, script__op *op, error *err)
{
    project cur;
    if (script__lock_idle(c, op, &cur, err) != 0 || script__check_persona(c, op, &cur, err) != 0)
        return -1;
    script_options eff;
    script__controls(&cur, op->o, false, &eff);
    cur.language = eff.language;
    cur.target_scenes = eff.target_scenes;
    cur.target_seconds = eff.target_seconds;
    cur.instructions = eff.instructions;
    if (project_store_set_controls(c, &cur, err) != 0)
        return -1;
    return script__queue(c, op, SCRIPT_JOB_GENERATE, NULL, &eff, err);
}

int script_service_regenerate(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const script_options *o, const script_idempotency *idem,
                              script_reply *out, error *err)
{
    if (script__check_options(o, false, err) != 0)
        return -1;
    script__op op = {.a = a, .p = p, .o = o, .project_id = project_id};
    return script__frame(c, &op, script__regenerate_step, idem, out, err);
}

static int script__scene_step(db_conn *c, script__op *op, error *err)
{
    project cur;
    scene sc;
    if (script__lock_idle(c, op, &cur, err) != 0 ||
        scene_store_get(c, op->a, op->p->user_id, op->project_id, op->scene_id, &sc, err) != 0 ||
        script__check_persona(c, op, &cur, err) != 0)
        return -1;
    /* A rewrite's own controls apply to it alone; the project keeps its. */
    script_options eff;
    script__controls(&cur, op->o, true, &eff);
    return script__queue(c, op, SCRIPT_JOB_SCENE, cur.status, &eff, err);
}

int script_service_regenerate_scene(db_conn *c, arena *a, const principal *p,
                                    const char *project_id, const char *scene_id,
                                    const script_options *o, const script_idempotency *idem,
                                    script_reply *out, error *err)
{
    if (script__check_options(o, true, err) != 0)
        return -1;
    script__op op = {.a = a, .p = p, .o = o, .project_id = project_id, .scene_id = scene_id};
    return script__frame(c, &op, script__scene_step, idem, out, err);
}

int script_service_check_target(db_conn *c, arena *a, const principal *p, const char *project_id,
                                const char *scene_id, error *err)
{
    project pr;
    if (project_store_get(c, a, p->user_id, project_id, &pr, err) != 0)
        return -1;
    if (scene_id == NULL)
        return 0;
    scene sc;
    return scene_store_get(c, a, p->user_id, project_id, scene_id, &sc, err);
}

int script_service_changes(db_conn *c, arena *a, const char *user_id, int64_t since, int limit,
                           project_change **out, size_t *n, error *err)
{
    return project_store_changes(c, a, user_id, since, limit, out, n, err);
}

/* ---- usage ----------------------------------------------------------------------- */

int script_service_generations_used(db_conn *c, const principal *p, int64_t *used, error *err)
{
    return usage_store_generations(c, p->user_id, time_month_start(time_now_usec()), used, err);
}

int script_service_usage(db_conn *c, arena *a, const principal *p, const char *persona_id,
                         int64_t since, int64_t until, usage_summary *out, error *err)
{
    if (until <= since)
        return error_set(err, ERR_INVALID, "until", "until must be later than since");
    /* The rows a caller may write are the ones whose usage they may read:
     * SYSTEM personas and their own. */
    persona ps;
    int rc = persona_store_get_writable(c, a, persona_id, p->user_id, &ps, err);
    bool system = rc == 0 && strcmp(ps.type, "SYSTEM") == 0;
    if (rc != 0)
        return -1;
    if (system && !p->is_admin)
        return error_set(err, ERR_NOT_FOUND, NULL, "no persona with id %s", persona_id);
    return usage_store_summary(c, a, persona_id, system ? NULL : p->user_id, since, until, out,
                               err);
}
