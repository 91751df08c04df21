/*
 * publish_service: a finished video goes to the YouTube channel its project
 * was made for (issue 16), through the YouTube Data API's resumable upload
 * (providers/youtube_upload.h), then gets its generated thumbnail.
 *
 *  - Request: only with PSTUDIO_YOUTUBE_PUBLISHING=true, a project meant for
 *    a channel linked to an active Google account whose grant includes
 *    youtube.upload, and a finished video (publish_service__ready). The
 *    publication (what was asked for, the metadata as it will be sent) and
 *    its job are written in one transaction.
 *  - Job youtube.publish: starts an upload session and stores its URI
 *    before sending a byte, so a worker killed mid-upload leaves a session
 *    the next attempt asks for its offset and resumes; a session that
 *    already finished answers the video, so a retry never makes a second
 *    one. Chunks are multiples of 256 KiB (PSTUDIO_YOUTUBE_UPLOAD_CHUNK_KIB);
 *    after a dropped connection or a 5xx the session is asked where it
 *    stands and the upload continues from there. Each confirmed chunk
 *    commits the publication's progress.
 *  - Faults: a 401 refreshes the token once; invalid_grant and a missing
 *    scope fail it naming the reconnect; quotaExceeded waits for Google's
 *    quota reset at midnight Pacific time (status "waiting");
 *    uploadLimitExceeded fails it with the reason, never retried blindly;
 *    anything else retries with the queue's backoff.
 */
#ifndef PS_SERVICES_PUBLISH_SERVICE_H
#define PS_SERVICES_PUBLISH_SERVICE_H

#include "base/arena.h"
#include "db/db.h"
#include "domain/publication_store.h"
#include "services/google_service.h"
#include "services/services.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUBLISH_JOB "youtube.publish" /* {"project_id"} */

#define PUBLISH_VIDEO_NAME       "video.mp4"       /* in the project's media store */
#define PUBLISH_THUMBNAIL_NAME   "thumbnail.png"   /* sent when present */
#define PUBLISH_THUMBNAIL_MAX    (2 * 1024 * 1024) /* YouTube's limit for a custom thumbnail */
#define PUBLISH_DEFAULT_CATEGORY "22"              /* People & Blogs */

/* A publish request; NULL / unset fields come from the project. */
typedef struct publish_request {
    const char *privacy_status; /* required */
    int64_t publish_at;         /* 0: none; only with private */
    bool made_for_kids;         /* required */
    bool synthetic_set;
    bool contains_synthetic_media; /* with synthetic_set; else true (decision 116) */
    const char *title;
    const char *description;
    const char *const *tags;
    size_t ntags;
    bool tags_set;
    const char *category_id;
} publish_request;

/**
 * Publishes the caller's project: the publication row (status queued) and
 * its job. Not the caller's project: ERR_NOT_FOUND; publishing off:
 * GOOGLE_PROBLEM_PUBLISHING_OFF; no upload scope: GOOGLE_PROBLEM_SCOPE; an
 * account to reconnect: GOOGLE_PROBLEM_RECONNECT; no channel, no linked
 * account, no finished video, or a publication already on its way or done:
 * ERR_CONFLICT naming the field; bad values: ERR_INVALID naming the field.
 */
int publish_service_request(services *s, db_conn *c, arena *a, const principal *p,
                            const char *project_id, const publish_request *rq, publication *out,
                            google_err *ge);
/** The caller's project's publication; ERR_NOT_FOUND for none or another user's. */
int publish_service_get(db_conn *c, arena *a, const principal *p, const char *project_id,
                        publication *out, error *err);

/** Registers the youtube.publish handler (app_register_jobs). */
void publish_service_register_jobs(services *s);

#endif
