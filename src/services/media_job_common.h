/*
 * What the two scene-media jobs (media.audio in media_job.c, media.image in
 * media_image_job.c) share: reading their payload, the failure reason as a
 * scene keeps it, and completing a job that has nothing left to do.
 * Private to those two files.
 */
#ifndef PS_SERVICES_MEDIA_JOB_COMMON_H
#define PS_SERVICES_MEDIA_JOB_COMMON_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "jobs/queue.h"

#include <stdint.h>

/* The scene a media job is for, at the generation it was queued for. */
typedef struct media_job_scene {
    const char *project_id; /* in the job's payload */
    const char *scene_id;
    int64_t generation;
    char stem[96]; /* scene-<id>-<tag><generation>: its files' names start so */
} media_job_scene;

/**
 * Reads j's payload {project_id, scene_id, generation}; tag is the kind's
 * letter in the file stem ('a' audio, 'i' image). ERR_INVALID (field
 * "payload") when anything is missing or not a UUID, or j has no user.
 */
int media_job_scene_of(const job *j, char tag, media_job_scene *out, error *err);

/** why as a scene keeps it: at most SCENE_AUDIO_ERROR_MAX bytes, cut on a character boundary. */
const char *media_job_reason(arena *a, const char *why);

/** Completes j alone, in its own transaction: 0, or -1 with err filled. */
int media_job_complete_only(db_conn *c, const job *j, error *err);

#endif
