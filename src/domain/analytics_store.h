/*
 * analytics_store: a channel's YouTube numbers by date (channel_analytics)
 * and the progress of its backfills (analytics_backfills).
 *
 * DAY rows are what YouTube reports for a day; WEEK rows (dated the Monday
 * of their ISO week) are never written from outside: they are the rollup of
 * the week's DAY rows, recomputed by analytics_store_rollup_week in the
 * transaction that wrote the days, so a WEEK row always equals its days:
 * sums of the counts, view-weighted means of retention and view duration,
 * an impression-weighted CTR (NULL without impressions).
 *
 * An upsert that brings the values a row already has changes nothing, not
 * even updated_at, so re-running a day is invisible; a revision overwrites.
 * A DAY upsert from the Analytics API leaves impressions and avg_ctr alone:
 * they come from another source (the Reporting API) and are folded in by
 * their own writer.
 *
 * Reach (impressions and their click-through rate) comes from the YouTube
 * Reporting API by report, and is kept per channel and day in
 * channel_reach_days, whether or not the DAY row exists yet;
 * analytics_store_merge_reach copies it into the DAY rows that exist, and
 * both writers (the Analytics API's days, the reports' reach) call it
 * before rolling up the weeks. Each report folded is recorded in
 * channel_reach_reports, so none is counted twice; a day takes the numbers
 * of the report with the latest createTime that covered it.
 *
 * Every read is scoped by the owner's user_id. Callers choose the
 * transaction, and serialize the writers of one channel (analytics_service
 * locks the channel's row first): on PostgreSQL a rollup sees only the days
 * committed before its statement, so two concurrent writers of one week
 * would each miss the other's days. Errors are the db helpers' (ERR_CONSTRAINT for a value the
 * schema refuses, ERR_UNAVAILABLE, ERR_INTERNAL) and ERR_NOT_FOUND where
 * named.
 */
#ifndef PS_DOMAIN_ANALYTICS_STORE_H
#define PS_DOMAIN_ANALYTICS_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANALYTICS_DAY  "DAY"
#define ANALYTICS_WEEK "WEEK"

typedef struct analytics_row {
    char id[UUID_STR_LEN + 1];
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    char date[TIME_DAY_STR_LEN + 1]; /* DAY: the day; WEEK: its Monday */
    const char *period;              /* ANALYTICS_DAY | ANALYTICS_WEEK */
    int64_t views;
    int64_t likes;
    int64_t comments;
    int64_t shares;
    double watch_time_minutes;
    double avg_view_duration_seconds; /* -1: unknown (NULL) */
    double avg_retention;             /* average view percentage; -1: unknown */
    double avg_ctr;                   /* impressions click-through rate, %; -1: unknown */
    int64_t impressions;              /* -1: unknown */
    int64_t subscribers_gained;
    int64_t subscribers_lost;
    int64_t created_at;
    int64_t updated_at;
} analytics_row;

typedef struct analytics_backfill {
    char id[UUID_STR_LEN + 1]; /* the id of the job that runs it */
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    char from_date[TIME_DAY_STR_LEN + 1];
    char to_date[TIME_DAY_STR_LEN + 1];
    char next_date[TIME_DAY_STR_LEN + 1]; /* the first day not stored yet; "" once done */
    int64_t created_at;
    int64_t updated_at;
} analytics_backfill;

/* The channel_analytics table, as the API writes it. */
extern const row_spec analytics_row_spec;
/* The analytics_backfills table. */
extern const row_spec analytics_backfill_row;

/**
 * Inserts or revises the DAY row of r->channel_id and r->date with r's
 * Analytics API values (id and created_at are used only when inserting).
 * *changed is false when the row already held exactly these values; then
 * nothing, updated_at included, was written.
 */
int analytics_store_upsert_day(db_conn *c, const analytics_row *r, bool *changed, error *err);
/**
 * The same, and r's impressions and avg_ctr too (-1: unknown, stored NULL),
 * for a source that reports them with the rest (a YouTube Studio export).
 */
int analytics_store_upsert_day_reach(db_conn *c, const analytics_row *r, bool *changed, error *err);
/**
 * Recomputes the WEEK row of the ISO week starting on monday (a day number)
 * from its DAY rows; writes nothing when it is already equal, or when the
 * week has no DAY row.
 */
int analytics_store_rollup_week(db_conn *c, const char *user_id, const char *channel_id,
                                int64_t monday, int64_t now, error *err);
/** The user's channel's rows of one period dated from..to (days), oldest first. */
int analytics_store_list(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                         const char *period, int64_t from, int64_t to, analytics_row **out,
                         size_t *n, error *err);
/** The last day the channel has a DAY row for; *found false when none. */
int analytics_store_last_day(db_conn *c, const char *channel_id, int64_t *day, bool *found,
                             error *err);

/* One day's reach from one Reporting API report. */
typedef struct analytics_reach_day {
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    int64_t day;
    int64_t impressions;
    double avg_ctr; /* percent; -1: none (no impressions) */
    const char *report_id;
    int64_t report_created_at; /* the report's createTime */
} analytics_reach_day;

/**
 * Records that the report was folded into the channel, in the caller's
 * transaction; *fresh false when it already was (then nothing is written,
 * and the caller must not fold it again).
 */
int analytics_store_reach_report(db_conn *c, const char *user_id, const char *channel_id,
                                 const char *report_id, int64_t first_day, int64_t last_day,
                                 int64_t created_at, int64_t now, bool *fresh, error *err);
/** The latest createTime of a report folded into the channel; *found false when none. */
int analytics_store_reach_cursor(db_conn *c, const char *channel_id, int64_t *created_at,
                                 bool *found, error *err);
/** True in *folded when the channel's report was folded already. */
int analytics_store_reach_folded(db_conn *c, const char *channel_id, const char *report_id,
                                 bool *folded, error *err);
/**
 * Stores a day's reach, replacing what an older report (an earlier or
 * equal createTime) gave that day; a newer report's numbers stay.
 */
int analytics_store_reach_put(db_conn *c, const analytics_reach_day *r, int64_t now, error *err);
/**
 * Copies the channel's stored reach into its DAY rows dated from..to (days)
 * where they differ; days with no DAY row keep their reach until one comes.
 */
int analytics_store_merge_reach(db_conn *c, const char *user_id, const char *channel_id,
                                int64_t from, int64_t to, int64_t now, error *err);

/** Records a backfill; one with this id already recorded is kept as it is. */
int analytics_store_backfill_insert(db_conn *c, const analytics_backfill *b, error *err);
/** The user's backfill; ERR_NOT_FOUND when there is none. */
int analytics_store_backfill_get(db_conn *c, const char *user_id, const char *id,
                                 analytics_backfill *out, error *err);
/** Moves the backfill's cursor to next (a day), or marks it done (next < 0). */
int analytics_store_backfill_advance(db_conn *c, const char *user_id, const char *id, int64_t next,
                                     int64_t now, error *err);

#endif
