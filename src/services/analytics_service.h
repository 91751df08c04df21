/*
 * analytics_service: seed flow 4's collection, "every day each connected
 * channel's YouTube numbers land in channel_analytics", and reading them.
 *
 *  - Daily: a scheduled sweep queues one collect job per channel linked to
 *    an active Google account (unique per channel and day). It fetches from
 *    the last stored day minus 2 (YouTube revises its last days) up to
 *    yesterday (UTC), or the last ANALYTICS_IMPORT_DAYS days when nothing is
 *    stored yet.
 *  - Backfill: importing a channel queues the last ANALYTICS_IMPORT_DAYS
 *    days once; a user may ask for any past range (at most
 *    ANALYTICS_RANGE_MAX days). A backfill runs in chunks of
 *    ANALYTICS_CHUNK_DAYS, each fetched, stored and its cursor moved in one
 *    transaction (the last one with the job's completion), so a crash
 *    resumes at the first chunk not stored, with no gap and, since rows are
 *    upserted, no double count.
 *  - Every chunk's DAY rows and the WEEK rows they touch commit together
 *    (domain/analytics_store.h).
 *  - Reach: impressions and CTR come from the Reporting API in their own
 *    job (analytics.reach, below), queued by the same sweep.
 *  - Faults: a 401 refreshes the token once; invalid_grant marks the account
 *    needs_reconnect; 429 waits Retry-After (or a minute); 403 quotaExceeded
 *    waits for Google's quota reset at midnight Pacific time (or
 *    Retry-After); 5xx, timeouts and malformed answers retry with the
 *    queue's backoff. None of them touches rows already stored.
 *
 * It shares google_service's token handling (services/google_internal.h).
 */
#ifndef PS_SERVICES_ANALYTICS_SERVICE_H
#define PS_SERVICES_ANALYTICS_SERVICE_H

#include "base/arena.h"
#include "db/db.h"
#include "domain/analytics_store.h"
#include "domain/channel_store.h"
#include "domain/video_analytics_store.h"
#include "services/google_service.h"
#include "services/services.h"

#include <stddef.h>
#include <stdint.h>

/* Job kinds. */
#define ANALYTICS_JOB_COLLECT     "analytics.collect"     /* {"channel_id"}: one channel's days */
#define ANALYTICS_JOB_COLLECT_ALL "analytics.collect_all" /* daily; fans out per channel */
#define ANALYTICS_JOB_BACKFILL                                                                     \
    "analytics.backfill" /* {"channel_id"}; its analytics_backfills                                \
                            row has the job's id */

#define ANALYTICS_JOB_REACH                                                                        \
    "analytics.reach" /* {"channel_id"}: impressions and CTR from the Reporting API */

#define ANALYTICS_IMPORT_DAYS  90 /* backfilled on import, and the first daily run's reach */
#define ANALYTICS_REVISED_DAYS 2  /* YouTube's last days are unfinished: fetched again */
#define ANALYTICS_DEFAULT_DAYS 28 /* a read without from */

/**
 * A read's range (days since the epoch) from its optional from and to
 * ("YYYY-MM-DD"): to defaults to yesterday (UTC), from to the
 * ANALYTICS_DEFAULT_DAYS days ending at to (the twelve weeks ending with
 * to's week for WEEK). ERR_INVALID naming the parameter for a malformed
 * date, from after to, or more than ANALYTICS_RANGE_MAX days. The
 * analytics and the persona-performance reads share it.
 */
int analytics_service_range(bool week, const char *from, const char *to, int64_t *f, int64_t *t,
                            error *err);

/* A read: the period and range it covers (days), and its rows (arena). */
typedef struct analytics_read {
    const char *period;
    int64_t from, to;
    analytics_row *rows;
    size_t n;
} analytics_read;

/**
 * The caller's channel's rows of period ("DAY" when NULL) dated from..to
 * (texts "YYYY-MM-DD"; to defaults to yesterday, UTC; from to the
 * ANALYTICS_DEFAULT_DAYS days ending at to, or the twelve weeks for WEEK).
 * ERR_NOT_FOUND for a channel that is not the caller's; ERR_INVALID naming
 * the parameter for a bad date, period or range.
 */
int analytics_service_read(db_conn *c, arena *a, const principal *p, const char *channel_id,
                           const char *period, const char *from, const char *to,
                           analytics_read *out, error *err);

/* A read of one video's days (decision 141). */
typedef struct analytics_video_read {
    const char *youtube_video_id; /* NULL: the project was never published */
    int64_t from, to;
    video_day_row *rows;
    size_t n;
} analytics_video_read;

/**
 * The caller's project's video rows dated from..to, with the range's
 * defaults of analytics_service_read; period may only be DAY (NULL: DAY).
 * ERR_NOT_FOUND for a project that is not the caller's; ERR_INVALID naming
 * the parameter otherwise. A project never published reads no rows.
 */
int analytics_service_read_video(db_conn *c, arena *a, const principal *p, const char *project_id,
                                 const char *period, const char *from, const char *to,
                                 analytics_video_read *out, error *err);

/**
 * Queues a backfill of from..to for the caller's channel, or shares the one
 * already queued or running for that range; fills the backfill and the
 * job's status (arena). Not the caller's channel: ERR_NOT_FOUND; bad dates:
 * ERR_INVALID; not linked to Google: ERR_CONFLICT; an account that must
 * reconnect: GOOGLE_PROBLEM_RECONNECT.
 */
int analytics_service_request_backfill(services *s, db_conn *c, arena *a, const principal *p,
                                       const char *channel_id, const char *from, const char *to,
                                       analytics_backfill *out, const char **status,
                                       google_err *ge);

/**
 * Inside an import's open transaction: queues the backfill of a channel's
 * last ANALYTICS_IMPORT_DAYS days, once per channel ever.
 */
int analytics_service_queue_import_backfill(db_conn *c, const channel *ch, error *err);

/* ---- the YouTube Studio CSV import (services/analytics_import.c) ---- */

#define ANALYTICS_IMPORT_MAX_BYTES (1024 * 1024) /* a CSV body */
#define ANALYTICS_IMPORT_MAX_ROWS  4000          /* records, header included: ten years of days */

typedef struct analytics_import_reject {
    size_t line;
    const char *reason;
} analytics_import_reject;

/* What an import did (arena). */
typedef struct analytics_import_report {
    size_t imported;   /* DAY rows written: new, or revised by the file */
    size_t unchanged;  /* DAY rows that already held the file's values */
    size_t total_line; /* the line of Studio's "Total" row, skipped; 0: none */
    analytics_import_reject *rejected;
    size_t n_rejected;
    const char **ignored_columns; /* headers not understood, in file order */
    size_t n_ignored;
} analytics_import_report;

/**
 * Imports a YouTube Studio analytics export by date (CSV, data[0..len)) into
 * the caller's channel: every good row is upserted as a DAY row and the
 * weeks they touch rolled up, in one transaction; bad rows are reported
 * with their line and reason. Not the caller's channel: ERR_NOT_FOUND; past
 * ANALYTICS_IMPORT_MAX_BYTES or _ROWS: ERR_TOO_LARGE; malformed CSV, no
 * date column, or no good row at all: ERR_INVALID (nothing written; the
 * report is filled as far as it got).
 */
int analytics_service_import_csv(db_conn *c, arena *a, const principal *p, const char *channel_id,
                                 const char *data, size_t len, analytics_import_report *out,
                                 error *err);

/** Registers the job handlers and the daily sweep (app_register_jobs). */
void analytics_service_register_jobs(services *s);

/* ---- reach from the YouTube Reporting API (services/analytics_reach.c) ---- */

/**
 * Registers the analytics.reach handler (app_register_jobs); the daily
 * sweep above queues one per linked channel. A run finds the channel's
 * channel_reach_basic_a1 reporting job (creating it the first time), lists
 * the reports made since the last one folded, and folds each new one in its
 * own transaction: its days' reach stored, merged into the DAY rows that
 * exist, the weeks rolled up, the report recorded so it is never counted
 * twice (decision 78).
 */
void analytics_reach_register_jobs(services *s);

#endif
