/*
 * channel_store: the channels table and its persona assignment log
 * (channel_persona_assignments). Every query is scoped by the owner's
 * user_id, so another user's channel simply does not exist here. Strings of a
 * row are copied into the arena the caller passes; callers choose the
 * transaction (a persona change and its log row must commit together).
 */
#ifndef PS_DOMAIN_CHANNEL_STORE_H
#define PS_DOMAIN_CHANNEL_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct channel {
    char id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *account_id; /* NULL: not linked to a Google account */
    const char *youtube_channel_id;
    const char *persona_id; /* NULL: no persona assigned */
    const char *name;
    const char *thumbnail;           /* NULL when unknown */
    const char *custom_url;          /* NULL when unknown */
    const char *uploads_playlist_id; /* NULL when unknown (not imported from YouTube) */
    const char *account_status;      /* read-only: the linked account's status, NULL when none */
    int64_t subscriber_count;        /* -1: unknown (the three counts alike) */
    int64_t view_count;
    int64_t video_count;
    int64_t stats_updated_at;      /* 0: never */
    bool auto_optimize;            /* the legacy alias: always optimization_mode == "auto" */
    const char *optimization_mode; /* "off" | "suggest" | "auto" (channel_optimization_modes) */
    const char *objective;         /* one of channel_objectives */
    int64_t optimizer_paused_at;   /* 0: not paused; else when a revert paused auto mode */
    const char *optimizer_status;  /* read-only: the last optimizer run's outcome, NULL: none */
    const char *optimizer_why;     /* read-only: its reason, for a person */
    int64_t optimizer_checked_at;  /* read-only: when it ran, 0: never */
    int64_t created_at;
    int64_t updated_at;
} channel;

/* The values of channels.optimization_mode and channels.objective, in the
 * order of opt_objective for the objectives. NULL-terminated. */
extern const char *const channel_optimization_modes[];
extern const char *const channel_objectives[];

typedef struct channel_assignment {
    char id[UUID_STR_LEN + 1];
    char channel_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *persona_id;          /* NULL: the persona was cleared */
    int persona_version;             /* 0 with a NULL persona */
    const char *previous_persona_id; /* NULL: there was none */
    const char *assigned_by;         /* NULL: the user was deleted, or the optimizer */
    const char *source;              /* "manual" | "optimizer" */
    const char *reason;              /* NULL when none was given */
    const char *evidence;            /* JSON text: the optimizer's evidence, NULL for none */
    const char *suggestion_id;       /* the accepted suggestion this switch applied, or NULL */
    int64_t created_at;
} channel_assignment;

/* The channels table: its columns, their limits, which a client may write
 * (and the body-only assignment_reason of a persona change). */
extern const row_spec channel_row;
/* The channel_persona_assignments table. */
extern const row_spec channel_assignment_row;

/**
 * Serializes quota checks of one user for the rest of the transaction, so
 * two concurrent creates cannot both pass a "count < limit" test. SQLite's
 * write transaction already does that; PostgreSQL takes an advisory lock.
 */
int channel_store_lock_quota(db_conn *c, const char *user_id, error *err);
/** How many channels the user has. */
int channel_store_count(db_conn *c, const char *user_id, int64_t *n, error *err);
/**
 * Inserts ch as given (id, times, counts and stats time included; a count of
 * -1 is stored as unknown). ERR_CONFLICT, field "youtube_channel_id".
 */
int channel_store_insert(db_conn *c, const channel *ch, error *err);
/**
 * Reads the user's channel; ERR_NOT_FOUND ("no channel with id …", field
 * not_found_field, may be NULL) when there is none. for_update locks the row
 * until the transaction ends (PostgreSQL; SQLite's write lock covers it).
 */
int channel_store_get(db_conn *c, arena *a, const char *user_id, const char *id, bool for_update,
                      const char *not_found_field, channel *out, error *err);
/**
 * A page of the user's channels, newest first: ids below cursor (NULL: from
 * the newest), at most limit, only those with persona_id when it is not NULL.
 */
int channel_store_list(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                       const char *cursor, int limit, channel **out, size_t *n, error *err);
/**
 * Writes name, thumbnail, persona_id, optimization_mode (and auto_optimize
 * from it), objective, optimizer_paused_at and updated_at of the user's
 * channel.
 */
int channel_store_update(db_conn *c, const channel *ch, error *err);
/** Deletes the user's channel; ERR_NOT_FOUND when there is none. */
int channel_store_delete(db_conn *c, const char *user_id, const char *id, error *err);

/** The user's channel for a YouTube channel id; ERR_NOT_FOUND when there is none. */
int channel_store_find_youtube(db_conn *c, arena *a, const char *user_id,
                               const char *youtube_channel_id, channel *out, error *err);
/**
 * Writes what an import brings to the user's channel with ch's YouTube id:
 * account_id, name, thumbnail, custom_url, uploads_playlist_id, the counts,
 * stats_updated_at and updated_at. The persona and auto_optimize stay.
 */
int channel_store_update_import(db_conn *c, const channel *ch, error *err);
/**
 * Refreshes the cached counts of the user's channel with this YouTube id
 * linked to account_id; *changed is false when there is none.
 */
int channel_store_update_stats(db_conn *c, const char *user_id, const char *account_id,
                               const char *youtube_channel_id, int64_t subscribers, int64_t views,
                               int64_t videos, int64_t now, bool *changed, error *err);

/**
 * For the daily analytics sweep, across users: a page of the channels linked
 * to an active Google account, by id, after `after` (NULL: from the first).
 */
int channel_store_list_linked(db_conn *c, arena *a, const char *after, int limit, channel **out,
                              size_t *n, error *err);

/* A channel named by id, with its owner. */
typedef struct channel_ref {
    char id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
} channel_ref;

/**
 * Every user's channels whose persona is persona_id, by id, with FOR UPDATE
 * on PostgreSQL so none changes persona before the caller releases them
 * (archiving a persona logs each release).
 */
int channel_store_using_persona(db_conn *c, arena *a, const char *persona_id, channel_ref **out,
                                size_t *n, error *err);
/**
 * For the optimizer's daily sweep, across users: a page of the channels in
 * auto mode, by id, after `after` (NULL: from the first).
 */
int channel_store_list_auto(db_conn *c, arena *a, const char *after, int limit, channel **out,
                            size_t *n, error *err);
/** Records the optimizer's last run on the user's channel (status, why, at). */
int channel_store_set_optimizer_status(db_conn *c, const char *user_id, const char *id,
                                       const char *status, const char *why, int64_t at, error *err);

/** Appends a row to the assignment log (id and created_at as given). */
int channel_store_assignment_insert(db_conn *c, const channel_assignment *as, error *err);
/** A page of one channel's assignment log, newest first (ids below cursor). */
int channel_store_assignment_list(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                                  const char *cursor, int limit, channel_assignment **out,
                                  size_t *n, error *err);
/** One assignment of the user's channel; ERR_NOT_FOUND ("no assignment with id …"). */
int channel_store_assignment_get(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                                 const char *id, channel_assignment *out, error *err);
/** The channel's latest assignment; *found false when it has none. */
int channel_store_assignment_latest(db_conn *c, arena *a, const char *channel_id,
                                    channel_assignment *out, bool *found, error *err);

#endif
