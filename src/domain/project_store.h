/*
 * project_store: the projects table. A project is a topic on its way to a
 * video: it records the persona (and the persona's version) that writes it,
 * the channel it is meant for, and its status. Every query is scoped by the
 * owner's user_id. Strings of a row are copied into the caller's arena; tags
 * cross this API as an array of strings and are stored as a JSON array.
 */
#ifndef PS_DOMAIN_PROJECT_STORE_H
#define PS_DOMAIN_PROJECT_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The statuses a project goes through, in order; "failed" may end any step. */
extern const char *const project_statuses[]; /* NULL-terminated */

typedef struct project {
    char id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *channel_id; /* NULL: not meant for a channel (or it was deleted) */
    const char *persona_id; /* NULL: the persona was deleted */
    int persona_version;    /* 0 with a NULL persona_id */
    const char *topic;
    const char *status;
    const char *title;       /* NULL until set */
    const char *description; /* NULL until set */
    const char **tags;
    size_t ntags;
    const char *error;  /* why the last step failed; NULL otherwise */
    int64_t generation; /* bumped each time a generation is queued (see script_service) */
    /* The controls its generations reuse when a request does not give them
     * (see script_service); NULL / 0 when not set. */
    const char *language;     /* BCP-47; NULL: the persona's */
    int target_scenes;        /* 0: not set; never with target_seconds */
    int target_seconds;       /* 0: not set */
    const char *instructions; /* NULL: none */
    int64_t created_at;
    int64_t updated_at;
    /* The video (decision 100): NULL, "rendering", "rendered", "failed" or
     * "stale"; progress per mille; the last request's options; the length
     * and time of the last committed video.mp4 (-1 / 0 when none). */
    const char *render_status;
    int render_progress;
    const char *render_error;
    const char *render_aspect;    /* "16:9" or "9:16"; NULL before the first request */
    const char *render_subtitles; /* "burn", "soft" or "none" */
    const char *render_music;     /* "none" or "ambient" */
    int64_t render_duration_ms;
    int64_t rendered_at;
    int64_t render_generation; /* bumped by each request and each change of the scenes */
    bool media_ready;          /* computed: scenes exist, every audio and image COMPLETED */
} project;

/* What a render job writes on its project (project_store_render_set). */
typedef struct project_render_state {
    const char *status;  /* "rendering", "rendered" or "failed" */
    int progress;        /* per mille */
    const char *error;   /* NULL: cleared */
    int64_t duration_ms; /* < 0: unchanged */
    int64_t rendered_at; /* 0: unchanged */
} project_render_state;

/* A project's progress, as the event stream reports it. */
typedef struct project_change {
    char id[UUID_STR_LEN + 1];
    const char *status;
    const char *error;         /* NULL when none */
    const char *render_status; /* NULL when none */
    int render_progress;       /* per mille */
    int64_t updated_at;
} project_change;

/* The projects table: its columns, their limits, which a client may write. */
extern const row_spec project_row;

typedef struct project_filter {
    const char *status;     /* NULL: any */
    const char *channel_id; /* NULL: any */
    const char *persona_id; /* NULL: any */
} project_filter;

/** Serializes per-user quota checks for the transaction (see channel_store_lock_quota). */
int project_store_lock_quota(db_conn *c, const char *user_id, error *err);
/** How many of the user's projects were created at or after since (usec). */
int project_store_count_since(db_conn *c, const char *user_id, int64_t since, int64_t *n,
                              error *err);
/** Inserts pr as given (id, status and times included). */
int project_store_insert(db_conn *c, arena *a, const project *pr, error *err);
/** Reads the user's project; ERR_NOT_FOUND when there is none. */
int project_store_get(db_conn *c, arena *a, const char *user_id, const char *id, project *out,
                      error *err);
/**
 * Makes sure the user's project exists and, on PostgreSQL, locks its row
 * until the transaction ends, so edits of its scenes are serialized.
 * ERR_NOT_FOUND when there is none.
 */
int project_store_lock(db_conn *c, const char *user_id, const char *id, error *err);
/**
 * project_store_lock for a change of the project's own content (its
 * fields or scenes): refused with ERR_CONFLICT, field "status", while a
 * generation is queued or running, since the job would overwrite the
 * change when it finishes. The status is read under the lock, inside the
 * caller's write transaction, so no generation can be queued between the
 * check and the caller's writes.
 */
int project_store_lock_editable(db_conn *c, const char *user_id, const char *id, error *err);
/** A page of the user's projects, newest first, ids below cursor (NULL: from the newest). */
int project_store_list(db_conn *c, arena *a, const char *user_id, const project_filter *f,
                       const char *cursor, int limit, project **out, size_t *n, error *err);
/** Writes topic, title, description, tags, channel_id and updated_at of the user's project. */
int project_store_update(db_conn *c, arena *a, const project *pr, error *err);
/** Bumps updated_at of the user's project (its scenes changed). */
int project_store_touch(db_conn *c, const char *user_id, const char *id, int64_t now, error *err);
/** Deletes the user's project (its scenes go with it); ERR_NOT_FOUND when there is none. */
int project_store_delete(db_conn *c, const char *user_id, const char *id, error *err);

/* ---- generation (script_service) ---- */

/**
 * Queues a new generation of the user's project: status "queued", error
 * cleared, generation bumped; *generation is the new number.
 * ERR_NOT_FOUND when there is no such project.
 */
int project_store_queue_generation(db_conn *c, const char *user_id, const char *id, int64_t now,
                                   int64_t *generation, error *err);
/** Writes the generation controls (language, targets, instructions) of the user's project. */
int project_store_set_controls(db_conn *c, const project *pr, error *err);
/**
 * Sets status and error (NULL clears) while the project is still at
 * `generation`; *matched is false (and nothing changes) when it is not, or
 * when the project is gone.
 */
int project_store_set_progress(db_conn *c, const char *user_id, const char *id, int64_t generation,
                               const char *status, const char *error_text, int64_t now,
                               bool *matched, error *err);
/**
 * Writes a generated script's title, description, tags and persona_version,
 * status pr->status, error cleared and updated_at, while the project is
 * still at `generation`; *matched as above.
 */
int project_store_save_script(db_conn *c, arena *a, const project *pr, int64_t generation,
                              bool *matched, error *err);
/* ---- the video (render_service) ---- */

/**
 * Requests a render with the given options: render_status "rendering",
 * progress 0, error cleared, render_generation bumped (*generation is the
 * new number). ERR_NOT_FOUND when there is no such project.
 */
int project_store_render_request(db_conn *c, const char *user_id, const char *id,
                                 const char *aspect, const char *subtitles, const char *music,
                                 int64_t now, int64_t *generation, error *err);
/**
 * Writes st while the project is at `generation` and still "rendering";
 * *matched is false (nothing changes) otherwise, or when it is gone. Bumps
 * updated_at, so the event stream reports it.
 */
int project_store_render_set(db_conn *c, const char *user_id, const char *id, int64_t generation,
                             const project_render_state *st, int64_t now, bool *matched,
                             error *err);

/**
 * The user's projects changed at or after since (usec), oldest change
 * first, at most limit.
 */
int project_store_changes(db_conn *c, arena *a, const char *user_id, int64_t since, int limit,
                          project_change **out, size_t *n, error *err);

#endif
