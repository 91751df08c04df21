#include "providers/youtube.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YOUTUBE_MAX_PAGES 10 /* 500 channels: far more than one grant covers */
#define YOUTUBE_PAGE_SIZE 50 /* the API's maximum */
_Static_assert(YOUTUBE_MAX_CHANNELS == YOUTUBE_MAX_PAGES * YOUTUBE_PAGE_SIZE,
               "a listing keeps every row of its pages");

static const char *youtube__str(arena *a, json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0 ? arena_strdup(a, json_string_value(v))
                                                          : NULL;
}

/* A count as the API sends it, a decimal string; tolerates a JSON integer.
 * Anything else is unknown (-1), never 0. */
static int64_t youtube__count(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    if (*s == '\0' || strlen(s) > 18)
        return -1;
    int64_t n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (*s - '0');
    }
    return n;
}

static const char *youtube__thumbnail(arena *a, json_t *thumbs)
{
    static const char *const sizes[] = {"medium", "high", "default"};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const char *url =
            youtube__str(a, json_object_get(json_object_get(thumbs, sizes[i]), "url"));
        if (url != NULL)
            return url;
    }
    return NULL;
}

static bool youtube__read(arena *a, json_t *item, youtube_channel *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->id = youtube__str(a, json_object_get(item, "id"));
    json_t *snippet = json_object_get(item, "snippet");
    json_t *stats = json_object_get(item, "statistics");
    ch->title = youtube__str(a, json_object_get(snippet, "title"));
    if (ch->id == NULL || ch->title == NULL)
        return false;
    ch->custom_url = youtube__str(a, json_object_get(snippet, "customUrl"));
    ch->thumbnail = youtube__thumbnail(a, json_object_get(snippet, "thumbnails"));
    ch->uploads_playlist_id =
        youtube__str(a, json_object_get(json_object_get(json_object_get(item, "contentDetails"),
                                                        "relatedPlaylists"),
                                        "uploads"));
    ch->view_count = youtube__count(json_object_get(stats, "viewCount"));
    ch->video_count = youtube__count(json_object_get(stats, "videoCount"));
    ch->subscriber_count = json_is_true(json_object_get(stats, "hiddenSubscriberCount"))
                               ? -1
                               : youtube__count(json_object_get(stats, "subscriberCount"));
    return true;
}

int youtube__read_page(const char *body, arena *a, youtube_channel *rows, size_t *n,
                       const char **next, google_status *st, error *err)
{
    *next = NULL;
    json_t *doc = json_loads(body, 0, NULL);
    json_t *items = json_object_get(doc, "items");
    if (!json_is_object(doc) || (items != NULL && !json_is_array(items))) {
        json_decref(doc);
        st->fault = GOOGLE_REJECTED;
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "the YouTube channel list came back in an unexpected shape");
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (*n < YOUTUBE_MAX_CHANNELS && youtube__read(a, item, &rows[*n]))
            (*n)++;
    }
    *next = youtube__str(a, json_object_get(doc, "nextPageToken"));
    json_decref(doc);
    return 0;
}

/* One page of channels.list; *next is the nextPageToken (arena) or NULL. */
static int youtube__page(const char *base_url, const char *bearer, const char *page_token, arena *a,
                         youtube_channel *rows, size_t *n, const char **next, google_status *st,
                         error *err)
{
    *next = NULL;
    char tok[512] = "";
    if (page_token != NULL && !http_client_urlencode(page_token, tok, sizeof(tok)))
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "the YouTube channel list sent a page token that is too long");
    char url[2048];
    snprintf(url, sizeof(url),
             "%s/channels?part=snippet%%2Cstatistics%%2CcontentDetails&mine=true&maxResults=%d%s%s",
             base_url, YOUTUBE_PAGE_SIZE, tok[0] ? "&pageToken=" : "", tok);
    const char *const headers[] = {bearer, "Accept: application/json", NULL};
    http_client_resp resp;
    if (google_oauth_send("GET", url, headers, NULL, &resp, st, err) != 0) {
        http_client_resp_free(&resp);
        return -1;
    }
    if (resp.status < 200 || resp.status > 299) {
        google_oauth_fail(&resp, "listing the YouTube channels", st, err);
        http_client_resp_free(&resp);
        return -1;
    }
    int rc = youtube__read_page(buf_cstr(&resp.body), a, rows, n, next, st, err);
    http_client_resp_free(&resp);
    return rc;
}

int youtube_channels_mine(const char *base_url, const char *access_token, arena *a,
                          youtube_channel **out, size_t *n, google_status *st, error *err)
{
    *n = 0;
    *out = arena_alloc(a, sizeof(**out) * YOUTUBE_MAX_CHANNELS);
    size_t blen = strlen(access_token) + 32;
    char *bearer = xmalloc(blen);
    snprintf(bearer, blen, "Authorization: Bearer %s", access_token);
    const char *next = NULL;
    int rc = 0;
    for (int page = 0; page < YOUTUBE_MAX_PAGES && rc == 0; page++) {
        rc = youtube__page(base_url, bearer, next, a, *out, n, &next, st, err);
        if (next == NULL)
            break;
    }
    sodium_memzero(bearer, blen);
    free(bearer);
    return rc;
}
