/*
 * channel_service: the use cases of a user's YouTube channels. A channel is
 * imported from a connected Google account (services/google_service fetches
 * it and calls channel_service_import_in_tx) or registered by hand. The service enforces
 * the plan's channel limit, checks that an assigned persona is one the user
 * may use, and logs every change of a channel's persona in
 * channel_persona_assignments in the same transaction as the change (the
 * optimizer attributes analytics by that log). Rows come back in the arena
 * the caller passes.
 */
#ifndef PS_SERVICES_CHANNEL_SERVICE_H
#define PS_SERVICES_CHANNEL_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/channel_store.h"
#include "services/services.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a create or update asks for. On update, unset members stay as they are. */
typedef struct channel_input {
    const char *youtube_channel_id; /* create only, required */
    const char *name;               /* required on create; NULL: unchanged */
    bool set_thumbnail;
    const char *thumbnail; /* NULL clears */
    bool set_persona;
    const char *persona_id; /* NULL clears */
    bool set_auto_optimize; /* the legacy alias of optimization_mode (decision 85) */
    bool auto_optimize;
    const char *optimization_mode; /* NULL: unchanged; setting it ends a revert's pause */
    const char *objective;         /* NULL: unchanged */
    const char *assignment_reason; /* only with set_persona; may be NULL */
} channel_input;

int channel_service_create(db_conn *c, arena *a, const principal *p, const channel_input *in,
                           channel *out, error *err);
int channel_service_get(db_conn *c, arena *a, const principal *p, const char *id, channel *out,
                        error *err);
/** A page of the caller's channels, newest first; persona_id (nullable) filters. */
int channel_service_list(db_conn *c, arena *a, const principal *p, const char *persona_id,
                         const char *cursor, int limit, channel **out, size_t *n, error *err);
int channel_service_update(db_conn *c, arena *a, const principal *p, const char *id,
                           const channel_input *in, channel *out, error *err);
/** Deletes the channel; its projects stay, with channel_id cleared. */
int channel_service_delete(db_conn *c, const principal *p, const char *id, error *err);
/* One channel to import, as YouTube describes it. Counts: -1 is unknown. */
typedef struct channel_import_item {
    const char *youtube_channel_id;
    const char *name;
    const char *thumbnail; /* NULL: none (a URL we would not serve is dropped) */
    const char *custom_url;
    const char *uploads_playlist_id;
    int64_t subscriber_count;
    int64_t view_count;
    int64_t video_count;
} channel_import_item;

/**
 * Imports items for the caller, linked to account_id, inside the caller's open
 * write transaction: a channel the caller already has (same YouTube id) is
 * updated, never duplicated; new ones count against the plan's channel limit,
 * all or nothing (ERR_PLAN_LIMIT names how many fit). out receives n rows in
 * the order of items; *created counts the new ones.
 */
int channel_service_import_in_tx(db_conn *c, arena *a, const principal *p, const char *account_id,
                                 const channel_import_item *items, size_t n, channel *out,
                                 size_t *created, error *err);

/** A page of the channel's persona assignment log, newest first. */
int channel_service_assignments(db_conn *c, arena *a, const principal *p, const char *id,
                                const char *cursor, int limit, channel_assignment **out, size_t *n,
                                error *err);

#endif
