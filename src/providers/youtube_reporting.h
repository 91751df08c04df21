/*
 * youtube_reporting: the YouTube Reporting API v1 calls Persona Studio makes,
 * over http_client, for a channel's thumbnail impressions and their
 * click-through rate (report type channel_reach_basic_a1), which the
 * Analytics API's reports.query does not serve reliably.
 *
 * The API works by jobs: jobs.create {reportTypeId, name} asks YouTube to
 * make the report every day; jobs.list finds a job made before;
 * jobs.reports.list (createdAfter, pageToken) names the reports made since,
 * each with the time it covers (startTime, endTime), when it was made
 * (createTime; a regenerated report for the same time has a later one) and
 * a downloadUrl. The report is a CSV with one row per day and video and
 * further breakdown columns, read here by its header names, never by
 * position.
 *
 * The access token is sent only to the configured base URL's origin: a
 * downloadUrl anywhere else is refused before any request is made. Every
 * answer is size-capped (the JSON ones at google_oauth_send's cap, a CSV at
 * YOUTUBE_REPORTING_CSV_MAX) and checked whole; anything not in the
 * documented shape is GOOGLE_REJECTED and nothing of it is returned.
 * Failures are classified like every Google call (providers/google_oauth.h).
 * Results live in the arena the caller passes.
 */
#ifndef PS_PROVIDERS_YOUTUBE_REPORTING_H
#define PS_PROVIDERS_YOUTUBE_REPORTING_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"
#include "providers/google_oauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YOUTUBE_REACH_REPORT_TYPE  "channel_reach_basic_a1"
#define YOUTUBE_REACH_JOB_NAME     "Persona Studio reach"
#define YOUTUBE_REPORTING_ID_MAX   128                 /* job and report ids */
#define YOUTUBE_REPORTING_CSV_MAX  (16u * 1024 * 1024) /* one report's CSV */
#define YOUTUBE_REPORTING_CSV_ROWS 400000              /* records, header included */
#define YOUTUBE_REPORT_DAYS_MAX    93                  /* days one report may cover */

typedef struct youtube_report {
    char id[YOUTUBE_REPORTING_ID_MAX + 1];
    int64_t start_time, end_time, create_time; /* microseconds since the epoch */
    int64_t first_day, last_day;               /* the days it covers (timeutil days) */
    const char *download_url;                  /* arena */
} youtube_report;

/* One day's reach in a report, summed over its videos and breakdown rows. */
typedef struct youtube_reach_day {
    int64_t day;
    int64_t impressions;
    double avg_ctr; /* impression-weighted click-through rate, percent 0..100; -1: no impressions */
} youtube_reach_day;

/**
 * The id of a live job of report_type (jobs.list, every page), or *job_id
 * NULL when there is none. base_url is the API root, e.g.
 * https://youtubereporting.googleapis.com.
 */
int youtube_reporting_find_job(const char *base_url, const char *access_token,
                               const char *report_type, arena *a, const char **job_id,
                               google_status *st, error *err);
/** Creates a job of report_type (jobs.create) and gives its id. */
int youtube_reporting_create_job(const char *base_url, const char *access_token,
                                 const char *report_type, const char *name, arena *a,
                                 const char **job_id, google_status *st, error *err);
/**
 * One page of the job's reports (jobs.reports.list): those created after
 * created_after (microseconds; < 0: all), from page_token (NULL: the first
 * page). *next_page is NULL on the last page.
 */
int youtube_reporting_list_reports(const char *base_url, const char *access_token,
                                   const char *job_id, int64_t created_after,
                                   const char *page_token, arena *a, youtube_report **out,
                                   size_t *n, const char **next_page, google_status *st,
                                   error *err);
/** True when url is on base_url's origin (same scheme, host and port), followed by a path. */
bool youtube_reporting_same_origin(const char *base_url, const char *url);
/**
 * Downloads a report's CSV into out (buf_free it) with the bearer token,
 * after checking its downloadUrl is on base_url's origin.
 */
int youtube_reporting_download(const char *base_url, const char *access_token,
                               const youtube_report *r, buf *out, google_status *st, error *err);
/**
 * Reads a channel_reach_basic_a1 CSV (data[0..len)) of report r: the rows
 * of youtube_channel_id (other channels' rows are skipped) summed by day,
 * one entry per day r covers, in order (a day with no row has 0
 * impressions). The CTR column is a ratio 0..1 (0.05 is 5 %), returned in
 * percent, weighted by impressions.
 */
int youtube_reporting_reach_days(const char *data, size_t len, const char *youtube_channel_id,
                                 const youtube_report *r, arena *a, youtube_reach_day **out,
                                 size_t *n, google_status *st, error *err);

#endif
