/*
 * project_service: the use cases of projects and their scenes. Creating a
 * project resolves the persona that will write it (the one asked for, else
 * the channel's, else the plan's default), checks the caller may use it and
 * records its version, and enforces the plan's projects-per-month limit.
 * Scene edits keep a project's positions contiguous (0..n-1) and run in one
 * transaction under a lock on the project row. Rows come back in the arena
 * the caller passes.
 */
#ifndef PS_SERVICES_PROJECT_SERVICE_H
#define PS_SERVICES_PROJECT_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/project_store.h"
#include "domain/scene_store.h"
#include "services/services.h"

#include <stdbool.h>
#include <stddef.h>

/* What a create or update asks for. On update, unset members stay as they are. */
typedef struct project_input {
    const char *topic; /* required on create; NULL: unchanged */
    bool set_title;
    const char *title; /* NULL clears */
    bool set_description;
    const char *description; /* NULL clears */
    bool set_tags;
    const char *const *tags;
    size_t ntags;
    bool set_channel;
    const char *channel_id; /* NULL clears */
    const char *persona_id; /* create only; NULL: resolve from the channel or the plan */
    /* create only: the controls its generations keep (see project.language) */
    const char *language;
    int target_scenes;
    int target_seconds;
    const char *instructions;
} project_input;

typedef struct scene_input {
    const char *narration;          /* NULL: unchanged (update) or "" (add) */
    const char *visual_description; /* the same */
    int position;                   /* add only; -1 appends */
} scene_input;

int project_service_create(db_conn *c, arena *a, const principal *p, const project_input *in,
                           project *out, error *err);
/**
 * project_service_create inside the caller's open write transaction, with
 * the status the new project starts in ("draft", or "queued" when a
 * generation is enqueued in the same transaction). On failure the caller
 * rolls back.
 */
int project_service_create_tx(db_conn *c, arena *a, const principal *p, const project_input *in,
                              const char *status, project *out, error *err);
/** The project, and its scenes in order when scenes is not NULL. */
int project_service_get(db_conn *c, arena *a, const principal *p, const char *id, project *out,
                        scene **scenes, size_t *nscenes, error *err);
/** A page of the caller's projects, newest first, narrowed by f (nullable). */
int project_service_list(db_conn *c, arena *a, const principal *p, const project_filter *f,
                         const char *cursor, int limit, project **out, size_t *n, error *err);
int project_service_update(db_conn *c, arena *a, const principal *p, const char *id,
                           const project_input *in, project *out, error *err);
/** Deletes the project and its scenes, then its media files (media_service). */
int project_service_delete(services *s, db_conn *c, const principal *p, const char *id, error *err);

/** The project's scenes in order. */
int project_service_scenes(db_conn *c, arena *a, const principal *p, const char *project_id,
                           scene **out, size_t *n, error *err);
/**
 * Adds a scene at in->position (shifting later ones) or at the end. It needs
 * narration or visual_description (a missing one is "").
 */
int project_service_scene_add(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const scene_input *in, scene *out, error *err);
int project_service_scene_update(db_conn *c, arena *a, const principal *p, const char *project_id,
                                 const char *scene_id, const scene_input *in, scene *out,
                                 error *err);
/**
 * Deletes a scene; later scenes move up to close the gap. Once that has
 * committed, the scene's media files go (a failure is logged; the sweep
 * retries).
 */
int project_service_scene_delete(services *s, db_conn *c, const principal *p,
                                 const char *project_id, const char *scene_id, error *err);
/**
 * Puts the project's scenes in the order of ids, which must name each of
 * them exactly once (ERR_INVALID, field "scene_ids", otherwise). Returns the
 * scenes in their new order.
 */
int project_service_scene_reorder(db_conn *c, arena *a, const principal *p, const char *project_id,
                                  const char *const *ids, size_t nids, scene **out, size_t *n,
                                  error *err);

#endif
