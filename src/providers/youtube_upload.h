/*
 * youtube_upload: publishing a video through the YouTube Data API v3's
 * resumable upload protocol, over http_client, and setting its thumbnail.
 *
 *  - youtube_upload_start: POST {upload_url}/youtube/v3/videos?uploadType=
 *    resumable&part=snippet,status with the video resource as JSON and
 *    X-Upload-Content-Length/-Type; the session URI comes back in Location.
 *  - youtube_upload_put: PUT one chunk to the session with Content-Range
 *    "bytes FIRST-LAST/TOTAL"; a 308 answers how much the session holds
 *    (its Range header, none: nothing), a 200 or 201 the finished video.
 *  - youtube_upload_query: PUT with no body and "Content-Range: bytes
 *    *\/TOTAL" asks the session where it stands, after a dropped connection
 *    or a 5xx, or when a new worker takes over a stored session.
 *  - youtube_thumbnail_set: POST {upload_url}/youtube/v3/thumbnails/set.
 *
 * The session URI must be on the upload URL's origin: the access token is
 * sent with every request to it, and must never go anywhere else. A session
 * YouTube no longer knows (404 or 410) is reported as such, so the caller
 * starts a new one. Other failures are classified like every Google call
 * (providers/google_oauth.h); a transport failure or 5xx is
 * GOOGLE_UNAVAILABLE.
 */
#ifndef PS_PROVIDERS_YOUTUBE_UPLOAD_H
#define PS_PROVIDERS_YOUTUBE_UPLOAD_H

#include "base/arena.h"
#include "base/error.h"
#include "providers/google_oauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YOUTUBE_UPLOAD_UNIT  (256 * 1024) /* chunks but the last are multiples of this */
#define YOUTUBE_VIDEO_ID_MAX 64

/* The video resource's snippet and status as sent. Strings are borrowed. */
typedef struct youtube_upload_meta {
    const char *title;
    const char *description;
    const char *const *tags;
    size_t ntags;
    const char *category_id;
    const char *default_language;  /* NULL: not sent */
    const char *privacy_status;    /* private | unlisted | public */
    const char *publish_at;        /* RFC 3339, or NULL; only with private */
    bool made_for_kids;            /* status.selfDeclaredMadeForKids */
    bool contains_synthetic_media; /* status.containsSyntheticMedia */
} youtube_upload_meta;

/* Where a session stands. */
typedef struct youtube_upload_state {
    bool done;      /* the video exists: video_id is set */
    bool gone;      /* the session expired or is unknown: start again */
    int64_t offset; /* bytes the session holds */
    char video_id[YOUTUBE_VIDEO_ID_MAX + 1];
} youtube_upload_state;

/** The video resource JSON for m (a jansson string the caller frees). */
char *youtube_upload_resource(const youtube_upload_meta *m);

/** Starts a session for total bytes of content_type; *session_uri in a. */
int youtube_upload_start(const char *upload_url, const char *access, const youtube_upload_meta *m,
                         int64_t total, const char *content_type, arena *a,
                         const char **session_uri, google_status *st, error *err);
/** Sends data as bytes offset..offset+len-1 of total; *out says where the session is now. */
int youtube_upload_put(const char *upload_url, const char *session_uri, const char *access,
                       const void *data, size_t len, int64_t offset, int64_t total,
                       const char *content_type, youtube_upload_state *out, google_status *st,
                       error *err);
/** Asks the session how much of total it holds. */
int youtube_upload_query(const char *upload_url, const char *session_uri, const char *access,
                         int64_t total, youtube_upload_state *out, google_status *st, error *err);
/** Sets the video's custom thumbnail to data (an image of content_type). */
int youtube_thumbnail_set(const char *upload_url, const char *access, const char *video_id,
                          const void *data, size_t len, const char *content_type, google_status *st,
                          error *err);
/**
 * Reads a session's answer to a chunk or a query into out: 308 with its
 * Range (how much is held, at most total), 200/201 with the video's id, 404
 * or 410 (gone), anything else classified by google_oauth_fail. The calls'
 * parsing half, for fuzz/.
 */
int youtube_upload__answer(const http_client_resp *resp, int64_t total, youtube_upload_state *out,
                           google_status *st, error *err);

#endif
