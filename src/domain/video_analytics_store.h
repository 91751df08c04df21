/*
 * video_analytics_store: the YouTube numbers of each published video by day
 * (video_analytics, decision 139), the same metrics as a channel's DAY row
 * in channel_analytics, and the persona and persona version its project was
 * written with, copied at write time so that attribution (decision 140)
 * reads one table. A row belongs to its project (unique per project and
 * day) and goes with it or with its channel.
 *
 * An upsert that brings the values a row already has changes nothing, not
 * even updated_at, so re-running a day is invisible; a revision overwrites.
 * The caller chooses the transaction (the collector writes a channel's
 * video days in the chunk's transaction that writes its channel days, so
 * the two agree). Every read is scoped by the owner's user_id. Errors: the
 * db helpers' kinds (ERR_CONSTRAINT for a value the schema refuses).
 */
#ifndef PS_DOMAIN_VIDEO_ANALYTICS_STORE_H
#define PS_DOMAIN_VIDEO_ANALYTICS_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct video_day_row {
    char id[UUID_STR_LEN + 1];
    char project_id[UUID_STR_LEN + 1];
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *youtube_video_id;
    const char *persona_id;  /* NULL: the project's persona is unknown or deleted */
    int64_t persona_version; /* -1: unknown */
    char date[TIME_DAY_STR_LEN + 1];
    int64_t views;
    int64_t likes;
    int64_t comments;
    int64_t shares;
    double watch_time_minutes;
    double avg_view_duration_seconds; /* -1: unknown */
    double avg_retention;             /* average view percentage; -1: unknown */
    int64_t subscribers_gained;
    int64_t subscribers_lost;
    int64_t created_at;
    int64_t updated_at;
} video_day_row;

/* A published video of a channel, as the collector asks YouTube for it. */
typedef struct video_published {
    const char *project_id;
    const char *youtube_video_id;
    const char *persona_id;  /* NULL: unknown */
    int64_t persona_version; /* -1: unknown */
} video_published;

/* The video_analytics table, as the API shows it. */
extern const row_spec video_day_row_spec;

/** Inserts or revises r's (project, date) row; *changed false when it held these values. */
int video_analytics_store_upsert(db_conn *c, const video_day_row *r, bool *changed, error *err);
/** The user's project's rows dated from..to (days), oldest first. */
int video_analytics_store_list(db_conn *c, arena *a, const char *user_id, const char *project_id,
                               int64_t from, int64_t to, video_day_row **out, size_t *n,
                               error *err);
/**
 * The channel's published videos (a publication with a YouTube video id
 * whose upload finished), by project id, with their project's persona and
 * version; at most max (the caller's cap) in the arena.
 */
int video_analytics_store_published(db_conn *c, arena *a, const char *user_id,
                                    const char *channel_id, size_t max, video_published **out,
                                    size_t *n, error *err);

#endif
