/*
 * fake_upload: YouTube's media upload endpoints on loopback, speaking the
 * resumable upload protocol as Google documents it, on a plain socket so it
 * can also misbehave the way networks do (a connection dropped mid-chunk).
 *
 *  - POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
 *    with a bearer token fake_google issued, the video resource as JSON and
 *    X-Upload-Content-Length/-Type: 200 with the session URI in Location.
 *  - PUT {session} with Content-Range "bytes A-B/T": the bytes must start at
 *    what the session holds (A may be lower; the overlap is ignored, as
 *    Google does); 308 with "Range: bytes=0-N" until the last byte, then 201
 *    with the video resource (its id). The new video is declared to the
 *    fake Google (fake_google_add_video: a quarter of the channel's views),
 *    so reports by video have numbers for it, as YouTube Analytics would.
 *  - PUT {session} with "Content-Range: bytes *\/T" and no body: where the
 *    session stands (308 with Range, or no Range when it holds nothing), or
 *    the video again when it is finished.
 *  - POST /upload/youtube/v3/thumbnails/set?videoId=…: 200.
 *
 * Failures on demand: 403 quotaExceeded or 400 uploadLimitExceeded at the
 * start, a 503 for the next chunk, a connection dropped after half of the
 * next chunk arrived (the session keeps the whole 256 KiB units it got), and
 * a stall: a chunk that would take the session past stall_at waits, holding
 * the connection, until the test clears it (a worker is killed meanwhile).
 * One connection at a time, closed after each answer.
 */
#ifndef PS_TESTS_FAKE_UPLOAD_H
#define PS_TESTS_FAKE_UPLOAD_H

#include "fake_google.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_UPLOAD_MAX_SESSIONS 8

typedef struct fake_upload_session {
    char id[32];
    long long total;
    long long held;
    unsigned char *data; /* total bytes; the first held are what arrived */
    char video_id[16];   /* "" until finished */
    char metadata[4096]; /* the video resource the session was started with */
    char content_type[128];
} fake_upload_session;

typedef struct fake_upload {
    pthread_t thread;
    int listen_fd;
    int port;
    volatile int stop;
    fake_google *fg;
    pthread_mutex_t lock;

    /* behaviour (under lock) */
    int start_mode;       /* 0 ok, 1 403 quotaExceeded, 2 400 uploadLimitExceeded */
    bool fail_next_chunk; /* the next chunk answers 503, once */
    bool drop_next_chunk; /* the next chunk is cut off halfway, once */
    long long stall_at;   /* > 0: a chunk reaching past this many bytes waits while it is set */
    bool stalled;         /* a chunk is waiting */

    /* records (under lock) */
    fake_upload_session sessions[FAKE_UPLOAD_MAX_SESSIONS];
    int nsessions;
    int videos;     /* finished uploads */
    int starts;     /* start requests, answered or not */
    int chunks;     /* PUTs with a body */
    int queries;    /* PUTs asking for the offset */
    int thumbnails; /* thumbnails set */
    long long thumbnail_bytes;
    char thumbnail_video[16];
    int unauthorized; /* requests refused for their token */
    char bad[160];    /* why the last malformed request was refused */
} fake_upload;

fake_upload *fake_upload_start(fake_google *fg);
void fake_upload_stop(fake_upload *fu);
void fake_upload_lock(fake_upload *fu);
void fake_upload_unlock(fake_upload *fu);

#endif
