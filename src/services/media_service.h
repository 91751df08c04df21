/*
 * media_service: a scene's narration, from request to files, and the
 * project's media as the owner reads them.
 *
 * Audio is asked for explicitly (decision 89): POST …/media queues every
 * scene whose audio was never asked for or failed, POST …/scenes/{sid}/audio
 * one scene again. Each request bumps the scene's audio_generation, sets
 * audio_status PENDING and enqueues a media.audio job in the same
 * transaction. Editing the narration of a scene whose audio was asked for
 * marks it stale the same way (PENDING, re-queued).
 *
 * The job (PENDING -> PROCESSING -> COMPLETED | FAILED with the reason)
 * synthesises with no transaction open, writes the files atomically
 * through the media store (WAV, Opus in Ogg encoded in process by
 * libopusenc, SRT, WebVTT, word timings as JSON), all under the stem
 * scene-<scene id>-a<generation>, and then records the result and the
 * job's completion in one transaction, only while the scene is still at
 * the generation the job was queued for. A worker killed mid-job leaves at
 * most invisible temporaries and complete files of that stem; the job runs
 * again once its lease expires and writes them afresh.
 *
 * Images (decision 99) work the same way with image_generation and a
 * media.image job, queued by the same POST …/media and one scene's by
 * POST …/scenes/{sid}/image; editing the visual description makes the image
 * stale. The job draws the offline card (providers/card.h, decision 98),
 * or asks the configured image model (providers/image.h, decision 105) and
 * fits its answer with ffmpeg, at 1920x1080 and 1080x1920:
 * scene-<scene id>-i<generation>.png and …-portrait.png.
 *
 * A project's files are deleted with it (after the row's delete commits),
 * and a scene's with the scene: after a scene's delete, or a whole-script
 * rewrite that replaces the scenes, commits, every file named for a scene
 * the project no longer has goes (decision 110). What a crash between the
 * commit and the removal, or a user's deletion (the database cascades,
 * files cannot), leaves behind, the hourly media.sweep removes: every
 * project directory whose project no longer exists, and in the others the
 * files of scenes that no longer exist.
 */
#ifndef PS_SERVICES_MEDIA_SERVICE_H
#define PS_SERVICES_MEDIA_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/scene_store.h"
#include "jobs/queue.h"
#include "providers/media_store.h"
#include "services/services.h"

#include <stddef.h>

#define MEDIA_JOB_AUDIO "media.audio"
#define MEDIA_JOB_SWEEP "media.sweep"
#define MEDIA_JOB_IMAGE "media.image"

/**
 * Queues audio, and an image, for every scene of the project that never had
 * it asked for, or whose audio (image) failed; returns all scenes. ERR_CONFLICT (field "scenes")
 * when the project has no scenes yet.
 */
int media_service_generate(db_conn *c, arena *a, const principal *p, const char *project_id,
                           scene **out, size_t *n, error *err);
/** Queues the scene's audio again, whatever its status; returns the scene. */
int media_service_scene_audio(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const char *scene_id, scene *out, error *err);
/**
 * Queues the scene's image again, whatever its status; returns the scene.
 * ERR_CONFLICT when it has neither a visual description nor a narration.
 */
int media_service_scene_image(db_conn *c, arena *a, const principal *p, const char *project_id,
                              const char *scene_id, scene *out, error *err);
/**
 * Inside the caller's open transaction: the visual description of before
 * changed, so its image, when it was ever asked for, is stale: back to
 * PENDING and queued again.
 */
int media_service_visual_changed(db_conn *c, const scene *before, error *err);
/**
 * Inside the caller's open transaction: the narration of before (the
 * scene as it was) changed, so its audio, when it was ever asked for, is
 * stale: back to PENDING and queued again.
 */
int media_service_narration_changed(db_conn *c, const scene *before, error *err);

/**
 * Opens the project's media file name for its owner. ERR_NOT_FOUND when
 * the project is not the caller's or there is no such file; ERR_INVALID
 * (field "path") for a name that could not be one; ERR_UNAVAILABLE when
 * no media store is configured.
 */
int media_service_open(services *s, db_conn *c, arena *a, const principal *p,
                       const char *project_id, const char *name, media_file *out, error *err);
/**
 * Like media_service_open, but when the store serves files by redirect
 * (S3 in presigned mode) returns 1 with a short-lived URL of the file in
 * redirect instead of opening it (out->fd stays -1).
 */
int media_service_fetch(services *s, db_conn *c, arena *a, const principal *p,
                        const char *project_id, const char *name, media_file *out, char *redirect,
                        size_t redirect_n, error *err);
/** The Content-Type of a media name, by its extension. */
const char *media_service_content_type(const char *name);

/** After a project's row was deleted: removes its files (a failure is logged; the sweep retries).
 */
void media_service_project_deleted(services *s, const char *user_id, const char *project_id);
/**
 * After a transaction that deleted scenes of the project committed: removes
 * every file named for a scene (scene-<id>-…) whose scene the project no
 * longer has; *removed (may be NULL) counts the files. The files are listed
 * before the scenes are read, so a scene made meanwhile is never taken for
 * a deleted one. ERR_UNAVAILABLE from the store, or the database's error;
 * 0 with nothing to do when no media store is configured.
 */
int media_service_prune_scenes(services *s, db_conn *c, const char *user_id, const char *project_id,
                               int *removed, error *err);
/** The same, its failure logged rather than returned (the sweep retries): for the delete paths. */
void media_service_scenes_deleted(services *s, db_conn *c, const char *user_id,
                                  const char *project_id);
/**
 * Removes the files of every project the database no longer has, and in
 * the projects it has, the files of scenes it no longer has (as
 * media_service_prune_scenes); *removed counts the projects. Run hourly by
 * media.sweep; exposed for tests.
 */
int media_service_sweep(services *s, db_conn *c, int *removed, error *err);

/** The job handler of MEDIA_JOB_AUDIO and MEDIA_JOB_SWEEP; ctx is the services. */
void media_service_job(db_conn *c, const job *j, job_result *out, void *ctx);
/** The job handler of MEDIA_JOB_IMAGE (media_image_job.c); ctx is the services. */
void media_image_job(db_conn *c, const job *j, job_result *out, void *ctx);
/** What a dead MEDIA_JOB_IMAGE leaves: its scene FAILED with why. */
void media_image_dead(db_conn *c, const job *j, const char *why, void *ctx);
/** Registers the job kinds above with s as their context. */
void media_service_register_jobs(services *s);

#endif
