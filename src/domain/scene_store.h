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

#include <stdbool.h>
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
    /* How many times audio was asked for (0: never); a media.audio job
     * carries the number it was queued for and writes only while it holds. */
    int64_t audio_generation;
    const char *audio_path;  /* the Ogg/Opus narration's media name; NULL: none yet */
    const char *audio_error; /* why audio_status is FAILED; NULL otherwise */
    /* The same for the image (media.image jobs). */
    int64_t image_generation;
    const char *image_path;  /* the landscape PNG's media name; NULL: none yet */
    const char *image_error; /* why image_status is FAILED; NULL otherwise */
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
/**
 * Asks for the scene's audio again: audio_generation + 1, audio_status
 * PENDING, no error; the new number into *generation. ERR_NOT_FOUND when
 * there is no such scene.
 */
int scene_store_audio_request(db_conn *c, const char *user_id, const char *project_id,
                              const char *id, int64_t now, int64_t *generation, error *err);

/* What an audio job writes on its scene. */
typedef struct scene_audio_state {
    const char *status;  /* PROCESSING | COMPLETED | FAILED | PENDING */
    const char *error;   /* FAILED: why; else NULL */
    const char *path;    /* COMPLETED: the media name; else unchanged */
    int64_t duration_ms; /* COMPLETED: the narration's length; else unchanged */
} scene_audio_state;

/**
 * Writes st on the scene while its audio_generation is still generation;
 * *matched says whether it was (a newer request, or a deleted scene,
 * leaves it false and nothing written).
 */
int scene_store_audio_set(db_conn *c, const char *user_id, const char *project_id, const char *id,
                          int64_t generation, const scene_audio_state *st, int64_t now,
                          bool *matched, error *err);

/** The image's scene_store_audio_request: image_generation + 1, image_status PENDING. */
int scene_store_image_request(db_conn *c, const char *user_id, const char *project_id,
                              const char *id, int64_t now, int64_t *generation, error *err);

/* What an image job writes on its scene. */
typedef struct scene_image_state {
    const char *status; /* PROCESSING | COMPLETED | FAILED | PENDING */
    const char *error;  /* FAILED: why; else NULL */
    const char *path;   /* COMPLETED: the landscape PNG's media name; else unchanged */
} scene_image_state;

/** The image's scene_store_audio_set: writes st only at generation (*matched). */
int scene_store_image_set(db_conn *c, const char *user_id, const char *project_id, const char *id,
                          int64_t generation, const scene_image_state *st, int64_t now,
                          bool *matched, error *err);

/** Deletes one scene; ERR_NOT_FOUND when there is none. */
int scene_store_delete(db_conn *c, const char *user_id, const char *project_id, const char *id,
                       error *err);

#endif
