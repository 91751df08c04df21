/*
 * script_service: flow 3, the persona writes the script. Asking for a
 * script (a new project, a whole regeneration, or one scene) is quick: in
 * one transaction the project moves to "queued", its generation number is
 * bumped and a job is enqueued, and the caller gets a 202 at once. The job
 * then builds the provider request from the project's persona (its system
 * instruction and sampling values, the version used recorded on the
 * project), calls the configured llm provider with no transaction open,
 * checks the answer against the script schema and sane bounds, and writes
 * the scenes, the project's new state, a usage log row and the job's
 * completion in ONE transaction. Failed attempts log their usage row on
 * their own and either go back to "queued" for a retry (rate limits, 5xx,
 * timeouts) or end in "failed" with a reason a person can read.
 *
 * Project states: draft -> queued -> generating -> scripted, or failed.
 * A job whose generation number is no longer the project's does nothing.
 *
 * Every generation asked for (a new project's, a regeneration, a scene
 * rewrite) counts one against the plan's monthly limit, in the transaction
 * that queues it; past the limit the request is ERR_PLAN_LIMIT, field
 * "max_generations_per_month", and nothing is queued.
 *
 * A POST that starts work may carry an Idempotency-Key: the first answer
 * (its status and the project as domain/project_json writes it) is stored
 * with a fingerprint of the request (same transaction as the work) and
 * replayed for 24 hours; the same key with another request is
 * refused.
 */
#ifndef PS_SERVICES_SCRIPT_SERVICE_H
#define PS_SERVICES_SCRIPT_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/usage_store.h"
#include "jobs/queue.h"
#include "services/project_service.h"
#include "services/services.h"

#include <jansson.h>
#include <stdbool.h>

#define SCRIPT_JOB_GENERATE "script.generate"
#define SCRIPT_JOB_SCENE    "script.regenerate_scene"
#define SCRIPT_JOB_PURGE    "idempotency.purge"

#define SCRIPT_TITLE_MAX       100
#define SCRIPT_DESCRIPTION_MAX 5000
#define SCRIPT_TAGS_MAX        15

/* What the caller may ask of one generation. Unset members are 0 / NULL. */
typedef struct script_options {
    const char *language;     /* BCP-47; NULL: the persona's */
    int target_scenes;        /* SCRIPT_SCENES_MIN..MAX; 0: not set */
    int target_seconds;       /* SCRIPT_SECONDS_MIN..MAX; 0: not set (not with target_scenes) */
    const char *instructions; /* at most SCRIPT_INSTRUCTIONS_MAX characters; NULL: none */
} script_options;

/* The request as the idempotency check sees it. */
typedef struct script_idempotency {
    const char *key;    /* the Idempotency-Key header; NULL: none */
    const char *scope;  /* what was asked, e.g. "POST /api/v1/projects" */
    const json_t *body; /* the request body; NULL: none. Compared canonically. */
} script_idempotency;

/*
 * The answer to send, as data: a fresh one, or the one first sent under
 * the key. The handler sends it as it is; the service never renders HTTP.
 */
typedef struct script_reply {
    int status;       /* 201 draft, 202 queued, or the replayed status */
    const char *body; /* the project as project_json_write() wrote it, in the caller's arena */
    char project_id[UUID_STR_LEN + 1];
    bool replayed;
} script_reply;

/**
 * Checks an Idempotency-Key header value: 1-200 printable ASCII
 * characters. ERR_INVALID naming "Idempotency-Key" otherwise.
 */
int script_service_check_key(const char *key, error *err);

/**
 * Creates a project. With generate, it starts "queued" with its first
 * generation enqueued (202); without, it is a "draft" (201) and o must be
 * empty.
 */
int script_service_create(db_conn *c, arena *a, const principal *p, const project_input *in,
                          bool generate, const script_options *o, const script_idempotency *idem,
                          script_reply *out, error *err);
/**
 * Regenerates the whole script (202). ERR_CONFLICT while a generation of
 * the project is queued or running.
 */
int script_service_regenerate(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const script_options *o, const script_idempotency *idem,
                              script_reply *out, error *err);
/**
 * Regenerates one scene with its neighbours as context (202); o may carry
 * language and instructions only. ERR_CONFLICT as above.
 */
int script_service_regenerate_scene(db_conn *c, arena *a, const principal *p,
                                    const char *project_id, const char *scene_id,
                                    const script_options *o, const script_idempotency *idem,
                                    script_reply *out, error *err);
/**
 * Makes sure the caller may see project_id (and scene_id, when not NULL)
 * before a body is read, so another user's object is a 404 whatever the
 * body says.
 */
int script_service_check_target(db_conn *c, arena *a, const principal *p, const char *project_id,
                                const char *scene_id, error *err);

/**
 * The user's projects whose status or error changed at or after since
 * (usec), oldest change first, at most limit: what the event stream
 * reports. Takes the user id rather than a principal because a stream
 * outlives the request that authenticated it.
 */
int script_service_changes(db_conn *c, arena *a, const char *user_id, int64_t since, int limit,
                           project_change **out, size_t *n, error *err);

/**
 * How many generations (whole scripts and scene rewrites) the caller asked
 * for this calendar month (UTC): what the plan's max_generations_per_month
 * is checked against.
 */
int script_service_generations_used(db_conn *c, const principal *p, int64_t *used, error *err);

/**
 * The persona's generation attempts with since <= created_at < until. The
 * owner of a CUSTOM persona sees their own attempts with it; an admin sees
 * everyone's attempts with a SYSTEM persona. Anyone else: ERR_NOT_FOUND.
 * Its texts are in a.
 */
int script_service_usage(db_conn *c, arena *a, const principal *p, const char *persona_id,
                         int64_t since, int64_t until, usage_summary *out, error *err);

/**
 * The job handler of SCRIPT_JOB_GENERATE, SCRIPT_JOB_SCENE and
 * SCRIPT_JOB_PURGE; ctx is the services. Exposed so tests and the
 * benchmark can run a job without a worker pool.
 */
void script_service_job(db_conn *c, const job *j, job_result *out, void *ctx);
/** Registers the job kinds above with s as their context; s must outlive the workers. */
void script_service_register_jobs(services *s);

#endif
