#include "providers/youtube_analytics.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YA_COUNT_MAX    1e15 /* no channel comes near; past it the answer is not a count */
#define YA_DURATION_MAX 1e9  /* seconds */

/* The columns read, by their names in columnHeaders. */
enum {
    YA_DAY,
    YA_VIEWS,
    YA_LIKES,
    YA_COMMENTS,
    YA_SHARES,
    YA_MINUTES,
    YA_DURATION,
    YA_PERCENTAGE,
    YA_GAINED,
    YA_LOST,
    YA_VIDEO, /* only in the report by video */
    YA_NCOLS
};
static const char *const ya__names[YA_NCOLS] = {
    "day",
    "views",
    "likes",
    "comments",
    "shares",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "averageViewPercentage",
    "subscribersGained",
    "subscribersLost",
    "video",
};

static int ya__malformed(google_status *st, error *err, const char *why)
{
    st->fault = GOOGLE_REJECTED;
    return error_set(err, ERR_UNAVAILABLE, NULL,
                     "the YouTube Analytics report came back malformed (%s); nothing was stored",
                     why);
}

/* A JSON number within 0..max; integral when whole is set. */
static bool ya__number(json_t *v, double max, bool whole, double *out)
{
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0 || d > max || (whole && d != floor(d)))
        return false;
    *out = d;
    return true;
}

/* Maps each column we read to its place in the answer's columnHeaders. */
static int ya__headers(json_t *headers, bool video, int at[YA_NCOLS], size_t *ncols,
                       google_status *st, error *err)
{
    if (!json_is_array(headers) || json_array_size(headers) == 0 || json_array_size(headers) > 64)
        return ya__malformed(st, err, "columnHeaders is missing or not a list");
    for (int k = 0; k < YA_NCOLS; k++)
        at[k] = -1;
    size_t i;
    json_t *h;
    json_array_foreach(headers, i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        if (name == NULL)
            return ya__malformed(st, err, "a column header has no name");
        for (int k = 0; k < YA_NCOLS; k++) {
            if (strcmp(name, ya__names[k]) != 0)
                continue;
            if (at[k] >= 0)
                return ya__malformed(st, err, "a column is named twice");
            at[k] = (int)i;
        }
    }
    for (int k = 0; k < YA_NCOLS; k++)
        if (at[k] < 0 && (k != YA_VIDEO || video)) {
            char why[96];
            snprintf(why, sizeof(why), "the column %s is missing", ya__names[k]);
            return ya__malformed(st, err, why);
        }
    *ncols = json_array_size(headers);
    return 0;
}

/* One row, checked whole; with ids, its video must be one of them. */
static bool ya__row(json_t *row, const int at[YA_NCOLS], size_t ncols, int64_t from, int64_t to,
                    const char *const *ids, size_t n_ids, youtube_analytics_video_day *vd)
{
    youtube_analytics_day *d = &vd->m;
    if (!json_is_array(row) || json_array_size(row) != ncols)
        return false;
    const char *day = json_string_value(json_array_get(row, (size_t)at[YA_DAY]));
    if (!time_day_parse(day, &d->day) || d->day < from || d->day > to)
        return false;
    if (ids != NULL) {
        const char *v = json_string_value(json_array_get(row, (size_t)at[YA_VIDEO]));
        vd->video = n_ids;
        for (size_t i = 0; v != NULL && i < n_ids; i++)
            if (strcmp(v, ids[i]) == 0)
                vd->video = i;
        if (vd->video == n_ids)
            return false;
    }
    double v[YA_NCOLS];
    for (int k = YA_VIEWS; k < YA_VIDEO; k++) {
        /* The store's own limits (a percentage past its bound) are checked
         * again where rows are stored. */
        double max = k == YA_DURATION ? YA_DURATION_MAX : YA_COUNT_MAX;
        bool whole = k != YA_PERCENTAGE && k != YA_DURATION && k != YA_MINUTES;
        if (!ya__number(json_array_get(row, (size_t)at[k]), max, whole, &v[k]))
            return false;
    }
    d->views = (int64_t)v[YA_VIEWS];
    d->likes = (int64_t)v[YA_LIKES];
    d->comments = (int64_t)v[YA_COMMENTS];
    d->shares = (int64_t)v[YA_SHARES];
    d->minutes_watched = v[YA_MINUTES];
    d->avg_view_duration_s = v[YA_DURATION];
    d->avg_view_percentage = v[YA_PERCENTAGE];
    d->subscribers_gained = (int64_t)v[YA_GAINED];
    d->subscribers_lost = (int64_t)v[YA_LOST];
    return true;
}

/* Whether row i comes in order: a later day than the row before, or (by
 * video) the same day and a video not seen that day yet. */
static bool ya__in_order(const youtube_analytics_video_day *rows, size_t i, bool video)
{
    if (i == 0 || rows[i].m.day > rows[i - 1].m.day)
        return true;
    if (!video || rows[i].m.day < rows[i - 1].m.day)
        return false;
    for (size_t k = i; k-- > 0 && rows[k].m.day == rows[i].m.day;)
        if (rows[k].video == rows[i].video)
            return false;
    return true;
}

int youtube_analytics__parse(const char *body, int64_t from, int64_t to, const char *const *ids,
                     size_t n_ids, arena *a, youtube_analytics_video_day **out, size_t *n,
                     google_status *st, error *err)
{
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return ya__malformed(st, err, "not a JSON object");
    }
    bool video = ids != NULL;
    int at[YA_NCOLS];
    size_t ncols = 0;
    json_t *rows = json_object_get(doc, "rows");
    int rc = ya__headers(json_object_get(doc, "columnHeaders"), video, at, &ncols, st, err);
    size_t max = (size_t)(to - from + 1) * (video ? n_ids : 1);
    if (rc == 0 && rows != NULL && (!json_is_array(rows) || json_array_size(rows) > max))
        rc = ya__malformed(st, err,
                           video ? "rows is not a list of at most one row per day and video"
                                 : "rows is not a list of at most one row per day asked for");
    size_t nrows = rc == 0 ? json_array_size(rows) : 0;
    *out = arena_calloc(a, (nrows ? nrows : 1) * sizeof(**out));
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        if (!ya__row(json_array_get(rows, i), at, ncols, from, to, ids, n_ids, &(*out)[i]))
            rc = ya__malformed(st, err,
                               video ? "a row is not a day of the range and a video asked for, "
                                       "with valid metrics"
                                     : "a row is not a day of the range with valid metrics");
        else if (!ya__in_order(*out, i, video))
            rc = ya__malformed(st, err,
                               video ? "the days are not in order, or a video comes twice a day"
                                     : "the days are not in order, or one comes twice");
    }
    json_decref(doc);
    *n = rc == 0 ? nrows : 0;
    return rc;
}

/* GET {base}/v2/reports for channel==MINE from..to with the metrics and the
 * given dimensions, filters (NULL: none) and sort; the rows parsed. */
static int ya__query(const char *base_url, const char *access_token, int64_t from, int64_t to,
                     const char *dimensions, const char *filters, const char *const *ids,
                     size_t n_ids, arena *a, youtube_analytics_video_day **out, size_t *n,
                     google_status *st, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1], metrics[256], dims[64];
    /* Every byte of a filter may take three when encoded. */
    char filt[3 * YOUTUBE_ANALYTICS_VIDEOS_MAX * (YOUTUBE_ANALYTICS_VIDEO_ID_MAX + 1) + 32] = "";
    time_day_format(from, f);
    time_day_format(to, t);
    http_client_urlencode(YOUTUBE_ANALYTICS_METRICS, metrics, sizeof(metrics));
    http_client_urlencode(dimensions, dims, sizeof(dims));
    if (filters != NULL) {
        strcpy(filt, "&filters=");
        if (!http_client_urlencode(filters, filt + 9, sizeof(filt) - 9))
            return error_set(err, ERR_INTERNAL, NULL, "a YouTube Analytics filter is too long");
    }
    char url[sizeof(filt) + 1024];
    if (snprintf(url, sizeof(url),
                 "%s/v2/reports?ids=channel%%3D%%3DMINE&startDate=%s&endDate=%s&metrics=%s"
                 "&dimensions=%s%s&sort=day",
                 base_url, f, t, metrics, dims, filt) >= (int)sizeof(url))
        return error_set(err, ERR_CONFIG, NULL, "the YouTube Analytics URL is too long");
    size_t blen = strlen(access_token) + 32;
    char *bearer = xmalloc(blen);
    snprintf(bearer, blen, "Authorization: Bearer %s", access_token);
    const char *const headers[] = {bearer, "Accept: application/json", NULL};
    http_client_resp resp;
    int rc = google_oauth_send("GET", url, headers, NULL, &resp, st, err);
    sodium_memzero(bearer, blen);
    free(bearer);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = google_oauth_fail(&resp, "the YouTube Analytics report", st, err);
    else if (rc == 0)
        rc = youtube_analytics__parse(buf_cstr(&resp.body), from, to, ids, n_ids, a, out, n, st, err);
    http_client_resp_free(&resp);
    return rc;
}

int youtube_analytics_days(const char *base_url, const char *access_token, int64_t from, int64_t to,
                           arena *a, youtube_analytics_day **out, size_t *n, google_status *st,
                           error *err)
{
    *n = 0;
    *out = NULL;
    youtube_analytics_video_day *rows;
    size_t nrows = 0;
    int rc = ya__query(base_url, access_token, from, to, "day", NULL, NULL, 0, a, &rows, &nrows, st,
                       err);
    if (rc != 0)
        return rc;
    *out = arena_calloc(a, (nrows ? nrows : 1) * sizeof(**out));
    for (size_t i = 0; i < nrows; i++)
        (*out)[i] = rows[i].m;
    *n = nrows;
    return 0;
}

bool youtube_analytics_video_id_ok(const char *v)
{
    size_t len = v ? strlen(v) : 0;
    if (len == 0 || len > YOUTUBE_ANALYTICS_VIDEO_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

int youtube_analytics_video_days(const char *base_url, const char *access_token, int64_t from,
                                 int64_t to, const char *const *ids, size_t n_ids, arena *a,
                                 youtube_analytics_video_day **out, size_t *n, google_status *st,
                                 error *err)
{
    *n = 0;
    *out = NULL;
    if (n_ids == 0 || n_ids > YOUTUBE_ANALYTICS_VIDEOS_MAX)
        return error_set(err, ERR_INTERNAL, NULL, "a video report names 1 to %d videos, not %zu",
                         YOUTUBE_ANALYTICS_VIDEOS_MAX, n_ids);
    char filters[YOUTUBE_ANALYTICS_VIDEOS_MAX * (YOUTUBE_ANALYTICS_VIDEO_ID_MAX + 1) + 8] =
        "video==";
    size_t at = strlen(filters);
    for (size_t i = 0; i < n_ids; i++) {
        if (!youtube_analytics_video_id_ok(ids[i]))
            return error_set(err, ERR_INTERNAL, NULL, "a stored YouTube video id is not one");
        at += (size_t)snprintf(filters + at, sizeof(filters) - at, "%s%s", i ? "," : "", ids[i]);
    }
    return ya__query(base_url, access_token, from, to, "day,video", filters, ids, n_ids, a, out, n,
                     st, err);
}
