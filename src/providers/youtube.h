/*
 * youtube: the YouTube Data API v3 calls Persona Studio makes, over
 * http_client. For now one: channels.list?mine=true with the snippet,
 * statistics and contentDetails parts, which names the channels an OAuth
 * grant covers (a brand account grants one channel per consent) with their
 * title, custom URL, thumbnail, counts and uploads playlist.
 *
 * The API sends counts as JSON strings ("12345"); they are parsed into
 * int64 here, and a count that is hidden (hiddenSubscriberCount) or absent
 * becomes -1, "unknown", never 0. Failures are classified like every Google
 * call (providers/google_oauth.h): quota and rate limits, 401 for a dead
 * access token, and so on. Rows live in the arena the caller passes.
 */
#ifndef PS_PROVIDERS_YOUTUBE_H
#define PS_PROVIDERS_YOUTUBE_H

#include "base/arena.h"
#include "base/error.h"
#include "providers/google_oauth.h"

#include <stddef.h>
#include <stdint.h>

typedef struct youtube_channel {
    const char *id; /* "UC…" */
    const char *title;
    const char *custom_url;          /* "@handle"; NULL when the channel has none */
    const char *thumbnail;           /* the best of medium, high, default; NULL when none */
    const char *uploads_playlist_id; /* NULL when not sent */
    int64_t subscriber_count;        /* -1: hidden or unknown */
    int64_t view_count;              /* -1: unknown */
    int64_t video_count;             /* -1: unknown */
} youtube_channel;

/**
 * Lists the channels of the grant behind access_token (every page, up to a
 * bound). base_url is the API root, e.g. https://www.googleapis.com/youtube/v3.
 */
int youtube_channels_mine(const char *base_url, const char *access_token, arena *a,
                          youtube_channel **out, size_t *n, google_status *st, error *err);

/* The page reader on its own, for fuzz/. */
#define YOUTUBE_MAX_CHANNELS 500 /* rows a listing keeps at most: 10 pages of 50 */
/**
 * Reads one channels.list answer (NUL-terminated body) into rows, appending
 * from *n while *n < YOUTUBE_MAX_CHANNELS; items without an id or a title are
 * skipped. *next is the nextPageToken (in a) or NULL. -1 with st->fault
 * GOOGLE_REJECTED when the body is not an object with an items list.
 */
int youtube__read_page(const char *body, arena *a, youtube_channel *rows, size_t *n,
                       const char **next, google_status *st, error *err);

#endif
