/*
 * persona_service: the persona use cases: who may see, create, change,
 * delete, restore, export and import which persona. A caller sees SYSTEM
 * personas, their own CUSTOM ones and other users' PUBLIC ones; they may
 * write only their own CUSTOM personas, and admins the SYSTEM ones. Another
 * user's persona is ERR_NOT_FOUND for every write, even when it is PUBLIC.
 * Every change bumps the version and records a full snapshot in the history
 * in the same transaction, conditioned on the version it read, so two
 * concurrent edits cannot both win. A persona whose required plan ranks
 * above the caller's is "locked": listed, but its content (system
 * instruction, snapshots, diffs, export) is withheld from anyone but its
 * owner and admins, or plan gating could be bypassed by copying it.
 */
#ifndef PS_SERVICES_PERSONA_SERVICE_H
#define PS_SERVICES_PERSONA_SERVICE_H

#include "base/error.h"
#include "db/db.h"
#include "domain/persona_store.h"
#include "services/services.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/** True when p needs a higher plan than the caller's: it may be listed but not used. */
bool persona_service_is_locked(const persona *p, const principal *who);
/** True when the caller may read p's content: not locked, or the owner, or an admin. */
bool persona_service_can_read_content(const persona *p, const principal *who);

/**
 * The persona with this id if the caller may see it (locked ones included:
 * check persona_service_is_locked() before using it), or if it is archived
 * and the caller could write it (check archived_at). ERR_NOT_FOUND when it
 * does not exist, is not visible, or id is not a UUID.
 */
int persona_service_get_visible(db_conn *c, arena *a, const principal *p, const char *id,
                                persona *out, error *err);
/** Walks what the caller may see, newest first, after cursor (an id, or NULL). */
int persona_service_list(db_conn *c, const principal *who, const persona_filter *f,
                         const char *cursor, int limit, persona_visit_fn fn, void *ctx, error *err);

/*
 * Reads and writes put the persona's texts in a (the caller's arena).
 * The writes take the request's fields as a JSON object already checked for
 * types and ranges by the API layer; they check the persona's invariants
 * again, and that required_plan names a plan. "change_reason" (a string) goes
 * to the history row. if_match is the version the caller last read, or -1 for
 * none; a different current version is ERR_PRECONDITION and nothing changes.
 */

/**
 * Creates version 1 of a persona owned by the caller, or a SYSTEM one when
 * an admin sets "type": "SYSTEM". Only admins may set "type" and
 * "is_official" (ERR_INVALID naming the field otherwise).
 */
int persona_service_create(db_conn *c, arena *a, const principal *who, const json_t *fields,
                           persona *out, error *err);
/**
 * Applies fields to the persona. A change that changes nothing writes nothing
 * and returns the persona as it is. ERR_FORBIDDEN for a SYSTEM persona and a
 * caller who is not an admin.
 */
int persona_service_update(db_conn *c, arena *a, const principal *who, const char *id,
                           const json_t *fields, int64_t if_match, persona *out, error *err);
/**
 * Deletes the persona, history included, when nothing of record names it.
 * When projects, usage logs or channel assignments do, it is archived
 * instead: it stays with its history (readable by its owner, or an admin
 * for a SYSTEM one), is no longer listed, usable or changeable, and
 * channels and plans that used it let go of it as a delete would.
 */
int persona_service_delete(db_conn *c, arena *a, const principal *who, const char *id,
                           int64_t if_match, error *err);
/**
 * Makes the content of `version` current again as a new version, always (a
 * restore is an audited act even when it changes nothing). reason NULL
 * records "restored from version N". An unknown version is ERR_INVALID
 * naming "version".
 */
int persona_service_restore(db_conn *c, arena *a, const principal *who, const char *id,
                            int64_t version, const char *reason, int64_t if_match, persona *out,
                            error *err);

/** Walks the versions of a visible persona, newest first, below `before` (0: from the newest). */
int persona_service_history(db_conn *c, arena *a, const principal *who, const char *id,
                            int64_t before, int limit, persona_revision_visit_fn fn, void *ctx,
                            error *err);
/** One version with its snapshot (a new reference). ERR_NOT_FOUND for unknown versions. */
int persona_service_revision(db_conn *c, arena *a, const principal *who, const char *id,
                             int64_t version, persona_revision *rev, json_t **snapshot, error *err);
/** A new array of {"field", "from", "to"}: the content fields that differ between two versions. */
int persona_service_diff(db_conn *c, arena *a, const principal *who, const char *id, int64_t from,
                         int64_t to, json_t **changes, error *err);

/**
 * The persona whose portable preset the caller may take: PERSONA_PRESET_FORMAT
 * as "format" plus its PERSONA_PRESET columns, never ids, owner, version or
 * times. ERR_PLAN_REQUIRED when locked.
 */
int persona_service_export(db_conn *c, arena *a, const principal *who, const char *id, persona *out,
                           error *err);
/**
 * Creates a CUSTOM PRIVATE persona for the caller from a preset. Anything
 * but "format" and the preset fields is ERR_INVALID naming it; a preset's
 * "visibility" is accepted but an import is never published.
 */
int persona_service_import(db_conn *c, arena *a, const principal *who, const json_t *preset,
                           persona *out, error *err);

#endif
