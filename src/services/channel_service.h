/*
 * channel_service: the use cases of a user's YouTube channels. Until the
 * Google import exists a channel is registered by hand. The service enforces
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

/* What a create or update asks for. On update, unset members stay as they are. */
typedef struct channel_input {
    const char *youtube_channel_id; /* create only, required */
    const char *name;               /* required on create; NULL: unchanged */
    bool set_thumbnail;
    const char *thumbnail; /* NULL clears */
    bool set_persona;
    const char *persona_id; /* NULL clears */
    bool set_auto_optimize;
    bool auto_optimize;
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
/** A page of the channel's persona assignment log, newest first. */
int channel_service_assignments(db_conn *c, arena *a, const principal *p, const char *id,
                                const char *cursor, int limit, channel_assignment **out, size_t *n,
                                error *err);

#endif
