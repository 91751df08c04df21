/*
 * scene_store: the scenes table. A project's scenes are an ordered list
 * whose positions are always 0..n-1 with no gap; the functions here move
 * positions in bulk so a use case can keep that invariant inside one
 * transaction (callers lock the project first: project_store_lock). Every
 * query is scoped by the owner's user_id as well as the project.
 */
#ifndef PS_DOMAIN_SCENE_STORE_H
#define PS_DOMAIN_SCENE_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stddef.h>
#include <stdint.h>

typedef struct scene {
    char id[UUID_STR_LEN + 1];
    char project_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    int position;
    const char *narration;
    const char *visual_description;
    const char *image_status; /* PENDING | PROCESSING | COMPLETED | FAILED */
    const char *audio_status; /* the same */
    int64_t duration_ms;      /* -1: unknown until the audio exists */
    int64_t created_at;
    int64_t updated_at;
} scene;

/* The scenes table: its columns, their limits, which a client may write. */
extern const row_spec scene_row;
/* The statuses of a scene's image and audio. */
extern const char *const scene_media_statuses[]; /* NULL-terminated */

/** The project's scenes ordered by position. */
int scene_store_list(db_conn *c, arena *a, const char *user_id, const char *project_id, scene **out,
                     size_t *n, error *err);
/** How many scenes the project has. */
int scene_store_count(db_conn *c, const char *user_id, const char *project_id, int64_t *n,
                      error *err);
/** Reads one scene of the project; ERR_NOT_FOUND when there is none. */
int scene_store_get(db_conn *c, arena *a, const char *user_id, const char *project_id,
                    const char *id, scene *out, error *err);
/** Inserts sc as given (id, position, statuses and times included). */
int scene_store_insert(db_conn *c, const scene *sc, error *err);
/** Adds delta to the position of every scene of the project at or after from. */
int scene_store_shift(db_conn *c, const char *user_id, const char *project_id, int from, int delta,
                      int64_t now, error *err);
/** Writes narration, visual_description and updated_at of one scene. */
int scene_store_update(db_conn *c, const scene *sc, error *err);
/** Moves one scene to position. */
int scene_store_set_position(db_conn *c, const char *user_id, const char *project_id,
                             const char *id, int position, int64_t now, error *err);
/** Deletes one scene; ERR_NOT_FOUND when there is none. */
int scene_store_delete(db_conn *c, const char *user_id, const char *project_id, const char *id,
                       error *err);

#endif
