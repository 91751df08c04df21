#include "domain/persona_store.h"

#include "base/jsonout.h"
#include "base/lang.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const persona_types[] = {"SYSTEM", "CUSTOM", NULL};
const char *const persona_visibilities[] = {"PRIVATE", "PUBLIC", NULL};

/*
 * The columns in the order the API and the snapshots write them. type and
 * is_official are an administrator's to set (and an import's never); the
 * plan's rank comes with every read; "locked" is the viewer's, written by
 * the handler, and listed so that a body naming it is told it is read-only.
 */
#define PERSONA__COLUMNS(type_flags, official_flags)                                               \
    ROW_COL(persona, id, ROW_CHARS, 0, 0, 0),                                                      \
        ROW_ENUM_COL(persona, type, type_flags, persona_types),                                    \
        ROW_COL(persona, owner_id, ROW_CHARS, ROW_NULLABLE, 0, 0),                                 \
        ROW_ENUM_COL(persona, visibility, ROW_WRITE, persona_visibilities),                        \
        ROW_COL(persona, required_plan, ROW_TEXT, ROW_WRITE, 1, PLAN_CODE_MAX),                    \
        ROW_COL(persona, name, ROW_TEXT, ROW_WRITE | ROW_REQUIRED, 1, PERSONA_NAME_MAX),           \
        ROW_COL(persona, description, ROW_TEXT, ROW_WRITE, 0, PERSONA_DESCRIPTION_MAX),            \
        ROW_COL(persona, system_instruction, ROW_TEXT, ROW_WRITE | ROW_REQUIRED, 1,                \
                PERSONA_INSTRUCTION_MAX),                                                          \
        ROW_COL(persona, temperature, ROW_REAL, ROW_WRITE, 0, PERSONA_TEMPERATURE_MAX),            \
        ROW_COL(persona, top_p, ROW_REAL, ROW_WRITE, 0, PERSONA_TOP_P_MAX),                        \
        ROW_COL(persona, top_k, ROW_INT64, ROW_WRITE, 1, PERSONA_TOP_K_MAX),                       \
        ROW_COL(persona, language, ROW_TEXT, ROW_WRITE, PERSONA_LANGUAGE_MIN,                      \
                PERSONA_LANGUAGE_MAX),                                                             \
        ROW_COL(persona, voice, ROW_TEXT, ROW_WRITE | ROW_NULLABLE | ROW_EMPTY_NUL, 1,             \
                PERSONA_VOICE_MAX),                                                                \
        ROW_COL(persona, voice_rate, ROW_INT64, ROW_WRITE | ROW_NULLABLE, PERSONA_VOICE_RATE_MIN,  \
                PERSONA_VOICE_RATE_MAX),                                                           \
        ROW_COL(persona, voice_pitch, ROW_INT64, ROW_WRITE | ROW_NULLABLE, 0,                      \
                PERSONA_VOICE_PITCH_MAX),                                                          \
        ROW_COL(persona, is_official, ROW_BOOL, official_flags, 0, 0),                             \
        ROW_COL(persona, version, ROW_INT64, 0, 0, 0),                                             \
        ROW_COL(persona, created_at, ROW_TIME, 0, 0, 0),                                           \
        ROW_COL(persona, updated_at, ROW_TIME, 0, 0, 0),                                           \
        ROW_COL(persona, archived_at, ROW_TIME, 0, 0, 0),                                          \
        ROW_COL(persona, required_rank, ROW_INT, ROW_PRIVATE, 0, 0),                               \
        ROW_COL(persona, system_instruction_length, ROW_INT64, ROW_PRIVATE, 0, 0),                 \
        ROW_COL(persona, system_instruction_preview, ROW_TEXT, ROW_PRIVATE, 0, 0),                 \
        ROW_FIELD("locked", ROW_BOOL, 0, 0, 0)

static const row_col persona__cols[] = {
    PERSONA__COLUMNS(ROW_CREATE | ROW_ADMIN, ROW_WRITE | ROW_ADMIN),
    ROW_FIELD("change_reason", ROW_TEXT, ROW_WRITE, 0, PERSONA_REASON_MAX),
};
const row_spec persona_row = ROW_SPEC(persona, "persona", persona__cols);

/* An import names the format and the preset columns; everything else of a
 * persona is read-only to it. */
static const row_col persona__preset_cols[] = {
    ROW_FIELD("format", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1, PERSONA_FORMAT_MAX),
    PERSONA__COLUMNS(0, 0),
};
const row_spec persona_preset_row = ROW_SPEC(persona, "persona preset", persona__preset_cols);

/* A version as the API shows it; the rest is the store's. */
static const row_col persona__history_cols[] = {
    ROW_COL(persona_revision, version, ROW_INT64, 0, 0, 0),
    ROW_COL(persona_revision, changed_by, ROW_CHARS, ROW_NULLABLE, 0, 0),
    ROW_COL(persona_revision, change_reason, ROW_TEXT, ROW_NULLABLE, 0, PERSONA_REASON_MAX),
    ROW_COL(persona_revision, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(persona_revision, id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(persona_revision, persona_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(persona_revision, snapshot, ROW_TEXT, ROW_PRIVATE, 0, 0),
};
const row_spec persona_history_row =
    ROW_SPEC(persona_revision, "persona revision", persona__history_cols);

void persona_store_defaults(persona *p)
{
    memset(p, 0, sizeof(*p));
    p->type = "CUSTOM";
    p->visibility = "PRIVATE";
    p->required_plan = "free";
    p->name = p->description = p->system_instruction = "";
    p->temperature = 1.0;
    p->top_p = 0.95;
    p->top_k = 40;
    p->language = "en";
    p->voice_rate = p->voice_pitch = -1;
    p->version = 1;
}

/* ---- invariants ---------------------------------------------------------- */

int persona_store_check(const persona *p, error *err)
{
    bool system = p->type != NULL && strcmp(p->type, "SYSTEM") == 0;
    if (row_check(&persona_row, p, "type, visibility", err) != 0)
        return -1;
    if (system && p->owner_id[0])
        return error_set(err, ERR_INVALID, "owner_id", "a SYSTEM persona has no owner");
    if (!system && !p->owner_id[0])
        return error_set(err, ERR_INVALID, "owner_id", "a CUSTOM persona needs an owner");
    if (row_check(&persona_row, p,
                  "required_plan, name, description, system_instruction, temperature, top_p, "
                  "top_k, voice, voice_rate, voice_pitch",
                  err) != 0)
        return -1;
    size_t lang = p->language ? strlen(p->language) : 0;
    if (lang < PERSONA_LANGUAGE_MIN || lang > PERSONA_LANGUAGE_MAX || !lang_is_bcp47(p->language))
        return error_set(err, ERR_INVALID, "language",
                         "language must be a BCP-47 tag of %d to %d characters such as \"en\" or "
                         "\"pt-BR\"",
                         PERSONA_LANGUAGE_MIN, PERSONA_LANGUAGE_MAX);
    if (p->is_official && !system)
        return error_set(err, ERR_INVALID, "is_official", "only SYSTEM personas can be official");
    return 0;
}

/* ---- snapshots ----------------------------------------------------------- */

int persona_store_from_json(const json_t *snap, arena *a, persona *out, error *err)
{
    persona_store_defaults(out);
    if (!json_is_object(snap))
        return error_set(err, ERR_INTERNAL, NULL, "a persona snapshot is not a JSON object");
    /* Times are optional: snapshots written by migrations (the starter
     * library) carry only the content and the version. */
    if (row_from_json(&persona_row, out, snap, PERSONA_SNAPSHOT, a, err) != 0)
        return -1;
    if (!out->id[0] || !json_is_string(json_object_get(snap, "type")))
        return error_set(err, ERR_INTERNAL, NULL, "the snapshot names no persona id and type");
    if (!json_is_integer(json_object_get(snap, "version")))
        return error_set(err, ERR_INTERNAL, "version", "the snapshot has no version");
    return 0;
}

/* ---- personas ------------------------------------------------------------- */

#define PERSONA__HEAD                                                                              \
    "SELECT p.id, p.type, p.owner_id, p.visibility, p.required_plan, p.name, p.description, "
#define PERSONA__TAIL                                                                              \
    "p.temperature, p.top_p, p.top_k, p.language, p.voice, p.voice_rate, p.voice_pitch, "          \
    "p.is_official, p.version, "                                                                   \
    "p.created_at, p.updated_at, p.archived_at, pl.rank AS required_rank "                         \
    "FROM personas p JOIN plans pl ON pl.code = p.required_plan "
#define PERSONA__COLS PERSONA__HEAD "p.system_instruction, " PERSONA__TAIL
/* The list's columns: the instruction's length and preview, which the
 * database keeps beside it (migration 0011), instead of the text. */
#define PERSONA__SUMMARY_COLS                                                                      \
    PERSONA__HEAD "p.system_instruction_length, p.system_instruction_preview, " PERSONA__TAIL

/* What a caller may see: SYSTEM personas, their own, and PUBLIC ones. */
#define PERSONA__VISIBLE "(p.type = 'SYSTEM' OR p.owner_id = $2 OR p.visibility = 'PUBLIC')"

static db_sql Q_GET_VISIBLE =
    DB_SQL(PERSONA__COLS "WHERE p.id = $1 AND " PERSONA__VISIBLE " AND p.archived_at IS NULL");
/* Writers lock the row on PostgreSQL so concurrent changes without If-Match
 * queue up instead of failing; SQLite's BEGIN IMMEDIATE already serializes. */
static db_sql Q_GET_WRITABLE =
    DB_SQL2(PERSONA__COLS "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2)",
            PERSONA__COLS "WHERE p.id = $1 AND (p.type = 'SYSTEM' OR p.owner_id = $2) "
                          "FOR UPDATE OF p");
/* The names GET /personas/{id} would show viewer $2 among the ids of the
 * JSON array $1: visible and live (Q_GET_VISIBLE's rule), or archived and
 * the viewer's to write, an admin's ($3 = 1) for a SYSTEM one
 * (persona_service_get_visible). */
#define PERSONA__NAMES(IDS)                                                                        \
    "SELECT p.id, p.name FROM personas p WHERE p.id IN (" IDS ") AND ((" PERSONA__VISIBLE          \
    " AND p.archived_at IS NULL) OR (p.archived_at IS NOT NULL AND ((p.type <> 'SYSTEM' AND "      \
    "p.owner_id = $2) OR (p.type = 'SYSTEM' AND $3 = 1))))"
static db_sql Q_NAMES_VISIBLE =
    DB_SQL2(PERSONA__NAMES("SELECT value FROM json_each($1)"),
            PERSONA__NAMES("SELECT value::uuid FROM json_array_elements_text($1::json)"));
/* No cursor binds the greatest UUID, so the id condition needs no NULL case. */
static db_sql Q_LIST =
    DB_SQL(PERSONA__SUMMARY_COLS
           "WHERE " PERSONA__VISIBLE " AND p.archived_at IS NULL"
           " AND (CAST($3 AS TEXT) IS NULL OR p.type = CAST($3 AS TEXT))"
           " AND (CAST($4 AS TEXT) IS NULL OR p.visibility = CAST($4 AS TEXT))"
           " AND (CAST($5 AS TEXT) IS NULL OR lower(p.language) = lower(CAST($5 AS TEXT)))"
           " AND ($6 = 0 OR p.owner_id = $2)"
           " AND p.id < $1 ORDER BY p.id DESC LIMIT $7");
/* The unfiltered list, the common case (the dashboard's first screen), gets a
 * statement of its own, as projects' does: PostgreSQL's generic plan for the
 * filtered form cannot fold the unset filters, estimates one row, and reads,
 * joins and sorts every visible persona; this one walks personas_pkey
 * backwards and stops after the page (0.06 against 0.28 ms measured). */
static db_sql Q_LIST_ALL =
    DB_SQL(PERSONA__SUMMARY_COLS "WHERE " PERSONA__VISIBLE " AND p.archived_at IS NULL"
                                 " AND p.id < $1 ORDER BY p.id DESC LIMIT $3");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO personas (" PERSONA_SNAPSHOT ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
           "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)");
/* The content, version and updated_at ($1 … $15, bound from the row), then
 * the row's id, the version it must still be at and the writer. */
#define PERSONA__UPDATE PERSONA_CONTENT ", version, updated_at, id"
static db_sql Q_UPDATE =
    DB_SQL("UPDATE personas SET visibility = $1, required_plan = $2, name = $3, description = $4, "
           "system_instruction = $5, temperature = $6, top_p = $7, top_k = $8, language = $9, "
           "voice = $10, voice_rate = $11, voice_pitch = $12, is_official = $13, version = $14, "
           "updated_at = $15 WHERE id = $16 AND version = $17 AND "
           "(type = 'SYSTEM' OR owner_id = $18)");
/* Anything of record that names the persona (each has an index on persona_id). */
static db_sql Q_REFERENCED =
    DB_SQL("SELECT CASE WHEN EXISTS (SELECT 1 FROM projects WHERE persona_id = $1) "
           "OR EXISTS (SELECT 1 FROM persona_usage_logs WHERE persona_id = $1) "
           "OR EXISTS (SELECT 1 FROM channel_persona_assignments WHERE persona_id = $1) "
           "THEN 1 ELSE 0 END");
static db_sql Q_ARCHIVE =
    DB_SQL("UPDATE personas SET archived_at = $4 WHERE id = $1 AND version = $2 AND "
           "(type = 'SYSTEM' OR owner_id = $3)");
/* A delete's ON DELETE SET NULL on the live settings, which archiving keeps. */
static db_sql Q_RELEASE_CHANNELS =
    DB_SQL("UPDATE channels SET persona_id = NULL, updated_at = $2 WHERE persona_id = $1");
static db_sql Q_RELEASE_PLANS =
    DB_SQL("UPDATE plans SET default_persona_id = NULL, updated_at = $2 "
           "WHERE default_persona_id = $1");
static db_sql Q_DELETE = DB_SQL(
    "DELETE FROM personas WHERE id = $1 AND version = $2 AND (type = 'SYSTEM' OR owner_id = $3)");

/* Reads a row into the persona out. */
static int persona__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&persona_row, s, a, out, err);
}

/* Ids are stored in lowercase; SQLite compares text byte by byte, so a
 * client's uppercase spelling of the same UUID is folded first. */
static void persona__lower_id(const char *id, char out[UUID_STR_LEN + 1])
{
    size_t i = 0;
    for (; id[i] && i < UUID_STR_LEN; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[i] = '\0';
}

static int persona__get(db_conn *c, db_sql *q, arena *a, const char *id, const char *user_id,
                        persona *out, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no persona with id %s", id ? id : "(none)");
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    return db_one(c, q, DB_ARGS(DB_TEXT(key), DB_TEXT(user_id)), persona__row, a, out, err, NULL,
                  "no persona with id %s", id);
}

int persona_store_get_visible(db_conn *c, arena *a, const char *id, const char *viewer_id,
                              persona *out, error *err)
{
    return persona__get(c, &Q_GET_VISIBLE, a, id, viewer_id, out, err);
}

int persona_store_get_writable(db_conn *c, arena *a, const char *id, const char *user_id,
                               persona *out, error *err)
{
    return persona__get(c, &Q_GET_WRITABLE, a, id, user_id, out, err);
}

/* A listing's visitor. Each row is read into an arena of its own, let go
 * once the visitor has seen it, so a page of 100 costs one row's memory. */
typedef struct persona__visit {
    persona_visit_fn fn;
    void *ctx;
} persona__visit;

static int persona__visit_row(db_stmt *s, arena *a, void *arg, error *err)
{
    (void)a;
    persona__visit *v = arg;
    arena row_arena;
    arena_init(&row_arena, 4096);
    persona row;
    int rc = persona__row(s, &row_arena, &row, err) != 0 ? -1 : 0;
    if (rc == 0)
        rc = v->fn(&row, v->ctx) != 0 ? 1 : 0;
    arena_free(&row_arena);
    return rc;
}

int persona_store_list(db_conn *c, const char *viewer_id, const persona_filter *f,
                       const char *cursor, int limit, persona_visit_fn fn, void *ctx, error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(cursor ? cursor : "ffffffff-ffff-ffff-ffff-ffffffffffff", key);
    persona__visit v = {fn, ctx};
    if (f->type == NULL && f->visibility == NULL && f->language == NULL && !f->mine)
        return db_each(c, &Q_LIST_ALL, DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id), DB_INT(limit)),
                       persona__visit_row, NULL, &v, err);
    return db_each(c, &Q_LIST,
                   DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id), DB_TEXT(f->type),
                           DB_TEXT(f->visibility), DB_TEXT(f->language), DB_INT(f->mine ? 1 : 0),
                           DB_INT(limit)),
                   persona__visit_row, NULL, &v, err);
}

int persona_store_insert(db_conn *c, const persona *p, error *err)
{
    row_argv av;
    return db_write(c, &Q_INSERT, row_args(&persona_row, p, PERSONA_SNAPSHOT, NULL, &av), NULL,
                    err) < 0
               ? -1
               : 0;
}

int persona_store_update(db_conn *c, const persona *p, int64_t expected_version,
                         const char *user_id, error *err)
{
    row_argv av;
    db_args args = row_args(&persona_row, p, PERSONA__UPDATE, NULL, &av);
    av.v[args.n++] = DB_INT(expected_version);
    av.v[args.n++] = DB_TEXT(user_id);
    int64_t changed = db_write(c, &Q_UPDATE, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_PRECONDITION, NULL,
                         "persona %s changed while this request was being handled (it is no "
                         "longer at version %lld); read it again and retry",
                         p->id, (long long)expected_version);
    return changed < 0 ? -1 : 0;
}

int persona_store_is_referenced(db_conn *c, const char *id, bool *referenced, error *err)
{
    *referenced = false;
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    int64_t n = 0;
    if (db_int64(c, &Q_REFERENCED, DB_ARGS(DB_TEXT(key)), &n, err) != 0)
        return -1;
    *referenced = n != 0;
    return 0;
}

/* Runs a conditional write of ($1 persona id, $2 expected version, $3 user,
 * …); no row changed means another request changed the persona first. */
static int persona__write_at_version(db_conn *c, db_sql *q, db_args args, const char *id,
                                     error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_PRECONDITION, NULL,
                         "persona %s changed while this request was being handled; read it "
                         "again and retry",
                         id);
    return changed < 0 ? -1 : 0;
}

int persona_store_archive(db_conn *c, const char *id, int64_t expected_version, const char *user_id,
                          int64_t now, error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    if (persona__write_at_version(
            c, &Q_ARCHIVE,
            DB_ARGS(DB_TEXT(key), DB_INT(expected_version), DB_TEXT(user_id), DB_TIME(now)), id,
            err) != 0)
        return -1;
    db_args release = DB_ARGS(DB_TEXT(key), DB_TIME(now));
    if (db_write(c, &Q_RELEASE_CHANNELS, release, NULL, err) < 0 ||
        db_write(c, &Q_RELEASE_PLANS, release, NULL, err) < 0)
        return -1;
    return 0;
}

int persona_store_delete(db_conn *c, const char *id, int64_t expected_version, const char *user_id,
                         error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    return persona__write_at_version(
        c, &Q_DELETE, DB_ARGS(DB_TEXT(key), DB_INT(expected_version), DB_TEXT(user_id)), id, err);
}

/* ---- history ---------------------------------------------------------------- */

#define PERSONA__HISTORY_COLS "h.version, h.changed_by, h.change_reason, h.created_at"
#define PERSONA__HISTORY                                                                           \
    "FROM persona_history h JOIN personas p ON p.id = h.persona_id "                               \
    "WHERE h.persona_id = $1 AND " PERSONA__VISIBLE
#define PERSONA__HISTORY_INSERT                                                                    \
    "id, persona_id, version, snapshot, changed_by, change_reason, created_at"

static db_sql Q_HISTORY_INSERT = DB_SQL("INSERT INTO persona_history (" PERSONA__HISTORY_INSERT
                                        ") VALUES ($1, $2, $3, $4, $5, $6, $7)");
static db_sql Q_HISTORY_LIST = DB_SQL("SELECT " PERSONA__HISTORY_COLS " " PERSONA__HISTORY
                                      " AND h.version < $3 ORDER BY h.version DESC LIMIT $4");
static db_sql Q_HISTORY_GET =
    DB_SQL("SELECT " PERSONA__HISTORY_COLS ", h.snapshot " PERSONA__HISTORY " AND h.version = $3");

/* A snapshot: the largest persona, every byte of its instruction escaped. */
#define PERSONA_SNAPSHOT_CAP (1u << 20)

/*
 * The fewest significant digits (15 to 17) that print every real column of
 * p so that it reads back as the same double: 0.7 is stored as "0.7", not
 * jansson's default "0.69999999999999996", and nothing is ever rounded.
 */
static int persona__real_precision(const persona *p)
{
    int prec = 15;
    for (size_t i = 0; i < persona_row.ncols; i++) {
        if (persona_row.cols[i].type != ROW_REAL)
            continue;
        double v = *(const double *)((const char *)p + persona_row.cols[i].off);
        for (int k = prec; k <= 17; k++) {
            char text[40];
            snprintf(text, sizeof(text), "%.*g", k, v);
            prec = k;
            if (strtod(text, NULL) == v)
                break;
        }
    }
    return prec;
}

int persona_store_history_insert(db_conn *c, const persona *p, const char *changed_by,
                                 const char *reason, error *err)
{
    buf snap;
    buf_init(&snap, PERSONA_SNAPSHOT_CAP);
    jw w;
    jw_init(&w, &snap);
    w.real_digits = persona__real_precision(p);
    jw_obj_begin(&w);
    row_json_names(&w, &persona_row, p, PERSONA_SNAPSHOT);
    jw_obj_end(&w);
    if (jw_error(&w) != BUF_OK || snap.data == NULL) {
        buf_free(&snap);
        return error_set(err, ERR_INTERNAL, NULL, "cannot encode the snapshot of persona %s",
                         p->id);
    }
    persona_revision rev = {.version = p->version,
                            .change_reason = reason,
                            .created_at = p->updated_at,
                            .snapshot = snap.data};
    uuid_v7(rev.id);
    snprintf(rev.persona_id, sizeof(rev.persona_id), "%s", p->id);
    snprintf(rev.changed_by, sizeof(rev.changed_by), "%s", changed_by ? changed_by : "");
    row_argv av;
    int64_t rc = db_write(c, &Q_HISTORY_INSERT,
                          row_args(&persona_history_row, &rev, PERSONA__HISTORY_INSERT, NULL, &av),
                          NULL, err);
    buf_free(&snap);
    if (rc < 0 && db_last_fault(c) == DB_FAULT_UNIQUE)
        return error_set(err, ERR_CONFLICT, "version",
                         "the history of persona %s already has a version %lld; nothing was "
                         "changed, read the persona again and retry",
                         p->id, (long long)p->version);
    return rc < 0 ? -1 : 0;
}

static int persona__revision_row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&persona_history_row, s, a, out, err);
}

typedef struct persona__revision_visit {
    persona_revision_visit_fn fn;
    void *ctx;
} persona__revision_visit;

static int persona__revision_visit_row(db_stmt *s, arena *a, void *arg, error *err)
{
    (void)a;
    persona__revision_visit *v = arg;
    arena row_arena;
    arena_init(&row_arena, 1024);
    persona_revision rev;
    int rc = persona__revision_row(s, &row_arena, &rev, err) != 0 ? -1
             : v->fn(&rev, v->ctx) != 0                           ? 1
                                                                  : 0;
    arena_free(&row_arena);
    return rc;
}

int persona_store_history_list(db_conn *c, const char *persona_id, const char *viewer_id,
                               int64_t before, int limit, persona_revision_visit_fn fn, void *ctx,
                               error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(persona_id, key);
    persona__revision_visit v = {fn, ctx};
    /* version is a 32-bit integer on PostgreSQL: its largest value means "no cursor". */
    return db_each(
        c, &Q_HISTORY_LIST,
        DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id),
                DB_INT(before > 0 && before <= PERSONA_VERSION_MAX ? before : PERSONA_VERSION_MAX),
                DB_INT(limit)),
        persona__revision_visit_row, NULL, &v, err);
}

int persona_store_history_get(db_conn *c, arena *a, const char *persona_id, const char *viewer_id,
                              int64_t version, persona_revision *rev, json_t **snap, error *err)
{
    if (version < 1 || version > PERSONA_VERSION_MAX)
        return error_set(err, ERR_NOT_FOUND, "version", "persona %s has no version %lld",
                         persona_id, (long long)version);
    char key[UUID_STR_LEN + 1];
    persona__lower_id(persona_id, key);
    if (db_one(c, &Q_HISTORY_GET, DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id), DB_INT(version)),
               persona__revision_row, a, rev, err, "version", "persona %s has no version %lld",
               persona_id, (long long)version) != 0)
        return -1;
    if (snap != NULL) {
        *snap = rev->snapshot ? json_loads(rev->snapshot, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (*snap == NULL)
            return error_set(err, ERR_INTERNAL, NULL,
                             "the snapshot of version %lld of persona %s is not valid JSON",
                             (long long)version, persona_id);
    }
    return 0;
}

typedef struct persona__names {
    const char *const *ids;
    const char **names;
    size_t n;
} persona__names;

static int persona__name_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)err;
    persona__names *pn = out;
    const char *id = db_col_text(s, 0), *name = db_col_text(s, 1);
    for (size_t i = 0; id != NULL && name != NULL && i < pn->n; i++)
        if (strcmp(pn->ids[i], id) == 0)
            pn->names[i] = arena_strdup(a, name);
    return 0;
}

int persona_store_names_visible(db_conn *c, arena *a, const char *viewer_id, bool viewer_admin,
                                const char *const *ids, size_t n, const char **names, error *err)
{
    for (size_t i = 0; i < n; i++)
        names[i] = NULL;
    if (n == 0)
        return 0;
    /* The ids are UUIDs read back from the database: no escaping needed. */
    char *list = arena_alloc(a, n * (UUID_STR_LEN + 3) + 3), *w = list;
    *w++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (strlen(ids[i]) != UUID_STR_LEN)
            return error_set(err, ERR_INTERNAL, NULL, "a persona id is not a UUID");
        w += sprintf(w, "%s\"%s\"", i > 0 ? "," : "", ids[i]);
    }
    *w++ = ']';
    *w = '\0';
    persona__names pn = {ids, names, n};
    return db_each(c, &Q_NAMES_VISIBLE,
                   DB_ARGS(DB_TEXT(list), DB_TEXT(viewer_id), DB_INT(viewer_admin ? 1 : 0)),
                   persona__name_row, a, &pn, err);
}
