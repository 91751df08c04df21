/*
 * render_service: a project's finished video (issue 14, decisions 100-104).
 *
 * POST …/render asks for it: once every scene's audio and image is
 * COMPLETED (media_ready), the request bumps the project's
 * render_generation, sets render_status "rendering" with the options
 * (aspect 16:9 | 9:16, subtitles burn | soft | none, music none | ambient)
 * and enqueues a media.video job, in one transaction under the project's
 * lock. Asking again while a render runs answers that render.
 *
 * The job (render_job.c) copies the scenes' files out of the media store
 * into a scratch directory of its own, runs the ffmpeg program once for the
 * video (progress written on the project at most once a second, which the
 * event stream reports) and once for the thumbnail, both into store
 * temporaries, and commits video.mp4, thumbnail.png and video.vtt with the project's
 * "rendered" state only while the project is still at the job's
 * generation. A change to the scenes (a database trigger, migration 0019)
 * moves the generation on, so a render of content that changed since
 * commits nothing, and marks a finished video "stale".
 */
#ifndef PS_SERVICES_RENDER_SERVICE_H
#define PS_SERVICES_RENDER_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/project_store.h"
#include "jobs/queue.h"
#include "services/services.h"

#include <stdbool.h>

#define MEDIA_JOB_VIDEO       "media.video"
#define RENDER_VIDEO_NAME     "video.mp4"
#define RENDER_THUMBNAIL_NAME "thumbnail.png"
#define RENDER_VTT_NAME       "video.vtt" /* the whole video's cues, for a player's <track> */

/* What a render request may say; NULL members take the defaults
 * (16:9, soft, none). */
typedef struct render_options {
    const char *aspect;    /* "16:9" | "9:16" */
    const char *subtitles; /* "burn" | "soft" | "none" */
    const char *music;     /* "none" | "ambient" */
} render_options;

extern const char *const render_aspects[];   /* NULL-terminated */
extern const char *const render_subtitles[]; /* NULL-terminated */
extern const char *const render_musics[];    /* NULL-terminated */

/**
 * Requests the project's video. ERR_NOT_FOUND when the project is not the
 * caller's; ERR_INVALID naming the option that is not one of its values;
 * ERR_CONFLICT (field "scenes") when there are no scenes or some scene's
 * audio or image is not COMPLETED, naming those scenes. A render already
 * running is answered as it is (*started false, options unchanged).
 * *out is the project as it is after the request.
 */
int render_service_request(db_conn *c, arena *a, const principal *p, const char *project_id,
                           const render_options *o, project *out, bool *started, error *err);

/** The job handler of MEDIA_JOB_VIDEO (render_job.c); ctx is the services. */
void render_job(db_conn *c, const job *j, job_result *out, void *ctx);
/** What a dead MEDIA_JOB_VIDEO leaves: its project's render "failed" with why. */
void render_job_dead(db_conn *c, const job *j, const char *why, void *ctx);
/** Registers MEDIA_JOB_VIDEO with s as its context. */
void render_service_register_jobs(services *s);

#endif
