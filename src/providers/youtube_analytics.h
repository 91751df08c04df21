/*
 * youtube_analytics: the YouTube Analytics API v2 call Persona Studio makes,
 * over http_client: reports.query for one channel (ids=channel==MINE) by
 * day, with the metrics the daily collection stores.
 *
 * The answer is a resultTable: columnHeaders[] name the columns (the
 * dimension first, then the metrics, but they are read by name here, never
 * by position), rows[] hold the values, and rows is absent when there is no
 * data (a new channel, or days YouTube has not finished). Every value is
 * checked: a day inside the range asked for, once, in order; counts whole
 * and not negative; ratios and durations finite and within their bounds.
 * Anything else is a malformed answer (GOOGLE_REJECTED), and no row of it
 * is returned. Failures are classified like every Google call
 * (providers/google_oauth.h). Rows live in the arena the caller passes.
 *
 * The same report by day and video (dimensions=day,video,
 * filters=video==ID1,ID2,…) for up to YOUTUBE_ANALYTICS_VIDEOS_MAX videos a
 * request: several rows per day, one per video YouTube has data for. Each
 * (day, video) must come once, the days in order, every video one of those
 * asked for; the same checks on the values as the channel's days.
 */
#ifndef PS_PROVIDERS_YOUTUBE_ANALYTICS_H
#define PS_PROVIDERS_YOUTUBE_ANALYTICS_H

#include "base/arena.h"
#include "base/error.h"
#include "providers/google_oauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The metrics asked for, in the order the request names them. */
#define YOUTUBE_ANALYTICS_METRICS                                                                  \
    "views,likes,comments,shares,estimatedMinutesWatched,averageViewDuration,"                     \
    "averageViewPercentage,subscribersGained,subscribersLost"

typedef struct youtube_analytics_day {
    int64_t day; /* days since 1970-01-01 (timeutil) */
    int64_t views;
    int64_t likes;
    int64_t comments;
    int64_t shares;
    double minutes_watched;     /* estimatedMinutesWatched */
    double avg_view_duration_s; /* averageViewDuration, seconds */
    double avg_view_percentage; /* averageViewPercentage; above 100 for looping Shorts */
    int64_t subscribers_gained;
    int64_t subscribers_lost;
} youtube_analytics_day;

/**
 * The channel's day rows from..to (days, inclusive) as YouTube reports
 * them, in order; days YouTube has no row for are simply absent. base_url is
 * the API root, e.g. https://youtubeanalytics.googleapis.com.
 */
/* Video ids per request (decision 139): at 30 days a chunk, 50 videos keep
 * the answer (at most 1,500 rows, about 150 KiB) far inside the 1 MiB cap
 * on Google answers and inside the 200-item lists the API's video reports
 * take. */
#define YOUTUBE_ANALYTICS_VIDEOS_MAX   50
#define YOUTUBE_ANALYTICS_VIDEO_ID_MAX 64

typedef struct youtube_analytics_video_day {
    youtube_analytics_day m;
    size_t video; /* index into the ids asked for */
} youtube_analytics_video_day;

int youtube_analytics_days(const char *base_url, const char *access_token, int64_t from, int64_t to,
                           arena *a, youtube_analytics_day **out, size_t *n, google_status *st,
                           error *err);

/**
 * The day rows from..to of the n videos of ids (1..YOUTUBE_ANALYTICS_VIDEOS_MAX,
 * YouTube video ids: letters, digits, '-' and '_'), by day then as YouTube
 * sends them; a video with no views on a day has no row that day.
 */
int youtube_analytics_video_days(const char *base_url, const char *access_token, int64_t from,
                                 int64_t to, const char *const *ids, size_t n_ids, arena *a,
                                 youtube_analytics_video_day **out, size_t *n, google_status *st,
                                 error *err);
/**
 * Reads a reports.query answer (NUL-terminated body) for the days from..to
 * (from <= to) into *out (in a). ids NULL: the channel's report by day (at
 * most one row a day, video 0); else the report by day and video of those
 * n_ids videos (each (day, video) once, only videos asked for). Every column
 * named once, rows in order, inside the range, with valid metrics; -1 with
 * st->fault GOOGLE_REJECTED otherwise. The calls' parsing half, for fuzz/.
 */
int youtube_analytics__parse(const char *body, int64_t from, int64_t to, const char *const *ids,
                             size_t n_ids, arena *a, youtube_analytics_video_day **out, size_t *n,
                             google_status *st, error *err);
/** True when v looks like a YouTube video id we may put in a filter. */
bool youtube_analytics_video_id_ok(const char *v);

#endif
