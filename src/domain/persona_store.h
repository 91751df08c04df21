/*
 * persona_store: the personas and persona_history tables. A persona is a
 * system instruction plus sampling settings; every change to one bumps its
 * version and is kept as a full JSON snapshot in persona_history, so any
 * version can be read back, compared or restored. This module owns the SQL,
 * the row <-> struct mapping, the snapshot format and the invariants a
 * persona must satisfy whoever writes it (ranges, lengths in characters,
 * BCP-47 language, "only SYSTEM personas are official"). Who may see or
 * change which persona is decided by persona_service; the queries here
 * still take the caller's user id so that visibility is enforced in SQL.
 * Every function takes a borrowed connection so the caller picks the
 * transaction.
 */
#ifndef PS_DOMAIN_PERSONA_STORE_H
#define PS_DOMAIN_PERSONA_STORE_H

#include "base/error.h"
#include "base/jsonout.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The snapshot and export format tag. */
#define PERSONA_PRESET_FORMAT "pstudio.persona/v1"

/*
 * One persona row. Texts live in the arena the read or the caller gave;
 * a NULL voice is none. Type, owner, id and version are not content: no
 * edit, restore or import changes them.
 */
typedef struct persona {
    char id[UUID_STR_LEN + 1];
    const char *type;                /* "SYSTEM" | "CUSTOM" */
    char owner_id[UUID_STR_LEN + 1]; /* "" for SYSTEM */
    const char *visibility;          /* "PRIVATE" | "PUBLIC" */
    const char *required_plan;
    int required_rank; /* plans.rank of required_plan; filled by reads */
    const char *name;
    const char *description;
    const char *system_instruction;
    double temperature; /* 0-2 */
    double top_p;       /* 0-1 */
    int64_t top_k;      /* >= 1 */
    const char *language;
    const char *voice;   /* NULL for none */
    int64_t voice_rate;  /* words per minute, PERSONA_VOICE_RATE_MIN-MAX; -1: the narrator's own */
    int64_t voice_pitch; /* 0-PERSONA_VOICE_PITCH_MAX, 50 is neutral; -1: the narrator's own */
    bool is_official;    /* SYSTEM only */
    int64_t version;     /* >= 1, bumped by every change */
    int64_t archived_at; /* 0: live; else when a delete archived it (records name it) */
    int64_t created_at;
    int64_t updated_at;
    /* Filled by the list (persona_store_list) instead of system_instruction,
     * which it leaves NULL: the instruction's length in characters and its
     * first PERSONA_PREVIEW_CHARS characters, which the database makes from
     * the text whenever it is written (generated columns, migration 0011). */
    int64_t system_instruction_length;
    const char *system_instruction_preview;
} persona;

/* The values of persona.type and persona.visibility (NULL-terminated). */
extern const char *const persona_types[];
extern const char *const persona_visibilities[];

/* The personas table (persona_row) and the body of an import
 * (persona_preset_row: the preset columns and "format"). */
extern const row_spec persona_row;
extern const row_spec persona_preset_row;

/* Groups of columns of persona_row (for row_json_names, row_from_json, row_diff). */
#define PERSONA_PRESET                                                                             \
    "visibility, required_plan, name, description, system_instruction, temperature, top_p, "       \
    "top_k, language, voice, voice_rate, voice_pitch"
/* What an edit or a restore may change. */
#define PERSONA_CONTENT PERSONA_PRESET ", is_official"
/* A version kept in persona_history, and the columns of an insert. */
#define PERSONA_SNAPSHOT "id, type, owner_id, " PERSONA_CONTENT ", version, created_at, updated_at"

/* One version in a persona's history. */
typedef struct persona_revision {
    int64_t version;
    char changed_by[UUID_STR_LEN + 1]; /* "" when unknown or the user is gone */
    const char *change_reason;         /* NULL when none was given */
    int64_t created_at;
    char id[UUID_STR_LEN + 1];
    char persona_id[UUID_STR_LEN + 1];
    const char *snapshot; /* the JSON text of the version; only a write sets it */
} persona_revision;

/* The persona_history table, as the API shows a version. */
extern const row_spec persona_history_row;

/* Filters of a listing; NULL members do not filter. */
typedef struct persona_filter {
    const char *type;
    const char *visibility;
    const char *language;
    bool mine;
} persona_filter;

/** Called once per row of a listing; a non-zero return stops the walk. The
 * row and its texts are valid during the call only. */
typedef int (*persona_visit_fn)(const persona *p, void *ctx);
typedef int (*persona_revision_visit_fn)(const persona_revision *rev, void *ctx);

/* ---- the persona struct, independent of the database ---- */

/** Fills p with the defaults of a new persona (the schema's column defaults). */
void persona_store_defaults(persona *p);
/** Checks every invariant of p; ERR_INVALID naming the first field at fault. */
int persona_store_check(const persona *p, error *err);
/** Reads a snapshot (the members PERSONA_SNAPSHOT names), its texts into a. */
int persona_store_from_json(const json_t *snap, arena *a, persona *out, error *err);

/* ---- personas ---- */

/**
 * The persona with this id if viewer_id may see it: SYSTEM, owned by the
 * viewer, or PUBLIC, and not archived. ERR_NOT_FOUND otherwise.
 */
int persona_store_get_visible(db_conn *c, arena *a, const char *id, const char *viewer_id,
                              persona *out, error *err);
/**
 * The names of the personas among ids (n of them) that viewer_id could read
 * with GET /personas/{id} (persona_store_get_visible's rule, or archived and
 * the viewer's to write: the owner's, an admin's for a SYSTEM one), in one
 * statement: names[i] (arena) or NULL.
 */
int persona_store_names_visible(db_conn *c, arena *a, const char *viewer_id, bool viewer_admin,
                                const char *const *ids, size_t n, const char **names, error *err);
/**
 * The persona with this id if it is SYSTEM or owned by user_id: the rows a
 * write may touch (whether a SYSTEM one may be changed is the service's
 * call), archived ones included. ERR_NOT_FOUND otherwise.
 */
int persona_store_get_writable(db_conn *c, arena *a, const char *id, const char *user_id,
                               persona *out, error *err);
/**
 * Walks what viewer_id may see, newest first, after `cursor` (an id; NULL for
 * the first page), at most `limit` rows. Archived personas are not listed.
 */
/* The list's JSON: every member of a persona but system_instruction, in
 * persona_row's order (the handler adds the length, the preview and
 * "locked"). A column added to persona_row belongs here too. */
#define PERSONA_SUMMARY_JSON                                                                       \
    "id, type, owner_id, visibility, required_plan, name, description, temperature, top_p, "       \
    "top_k, "                                                                                      \
    "language, voice, voice_rate, voice_pitch, is_official, version, created_at, updated_at, "     \
    "archived_at"
int persona_store_list(db_conn *c, const char *viewer_id, const persona_filter *f,
                       const char *cursor, int limit, persona_visit_fn fn, void *ctx, error *err);
/** Inserts p as given (id, version and times included). */
int persona_store_insert(db_conn *c, const persona *p, error *err);
/**
 * Writes p's content, version and updated_at over the row with p->id whose
 * version is still `expected_version` and that user_id may write.
 * ERR_PRECONDITION when the row changed meanwhile (or is gone).
 */
int persona_store_update(db_conn *c, const persona *p, int64_t expected_version,
                         const char *user_id, error *err);
/**
 * Whether anything of record names the persona: a project, a usage log row
 * or a channel assignment, of any user. Such a persona is archived rather
 * than deleted, so those records keep it.
 */
int persona_store_is_referenced(db_conn *c, const char *id, bool *referenced, error *err);
/**
 * Archives the persona if it is still at `expected_version` (ERR_PRECONDITION
 * otherwise) and lets go of it where it is a live setting, as a delete's
 * ON DELETE SET NULL would: channels that use it and plans that default to
 * it no longer do. Its row, history and every record naming it stay.
 */
int persona_store_archive(db_conn *c, const char *id, int64_t expected_version, const char *user_id,
                          int64_t now, error *err);
/** Deletes the row if it is still at `expected_version`; ERR_PRECONDITION otherwise. */
int persona_store_delete(db_conn *c, const char *id, int64_t expected_version, const char *user_id,
                         error *err);

/* ---- history ---- */

/**
 * Records p (at its current version) in persona_history. A version already
 * recorded is ERR_CONFLICT: the caller's transaction must then roll back.
 */
int persona_store_history_insert(db_conn *c, const persona *p, const char *changed_by,
                                 const char *reason, error *err);
/**
 * Walks the versions of a persona viewer_id may see, newest first, below
 * `before` (0 for the newest), at most `limit`.
 */
int persona_store_history_list(db_conn *c, const char *persona_id, const char *viewer_id,
                               int64_t before, int limit, persona_revision_visit_fn fn, void *ctx,
                               error *err);
/**
 * One version of a persona viewer_id may see: its metadata and, when snap is
 * not NULL, its snapshot (a new reference). ERR_NOT_FOUND for an unknown
 * version.
 */
int persona_store_history_get(db_conn *c, arena *a, const char *persona_id, const char *viewer_id,
                              int64_t version, persona_revision *rev, json_t **snap, error *err);

#endif
