#include "domain/persona_store.h"

#include "base/alloc.h"
#include "base/jsonout.h"
#include "base/lang.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the field table: one description drives apply, JSON, diff ---------- */

typedef enum persona__kind {
    PK_TEXT,     /* NOT NULL text */
    PK_OPT_TEXT, /* nullable text: "" in the struct, null in JSON */
    PK_REAL,
    PK_INT,
    PK_BOOL,
} persona__kind;

typedef struct persona__field {
    const char *name;
    persona__kind kind;
    size_t off;
    size_t size;
    unsigned groups;
} persona__field;

#define PF(member, kind, groups)                                                                   \
    {                                                                                              \
#member, kind, offsetof(persona, member), sizeof(((persona *)0)->member), groups           \
    }
#define CP (PERSONA_FIELDS_CONTENT | PERSONA_FIELDS_PRESET)

/* Type, owner, id and version are not here: no edit, restore or import may
 * change them. */
static const persona__field persona__fields[] = {
    PF(visibility, PK_TEXT, CP),
    PF(required_plan, PK_TEXT, CP),
    PF(name, PK_TEXT, CP),
    PF(description, PK_TEXT, CP),
    PF(system_instruction, PK_TEXT, CP),
    PF(temperature, PK_REAL, CP),
    PF(top_p, PK_REAL, CP),
    PF(top_k, PK_INT, CP),
    PF(language, PK_TEXT, CP),
    PF(voice, PK_OPT_TEXT, CP),
    PF(is_official, PK_BOOL, PERSONA_FIELDS_CONTENT),
};

#define PERSONA__NFIELDS (sizeof(persona__fields) / sizeof(persona__fields[0]))

static char *persona__text(const persona *p, const persona__field *f)
{
    return (char *)p + f->off;
}

static double *persona__real(const persona *p, const persona__field *f)
{
    return (double *)((char *)p + f->off);
}

static int64_t *persona__int(const persona *p, const persona__field *f)
{
    return (int64_t *)((char *)p + f->off);
}

static bool *persona__bool(const persona *p, const persona__field *f)
{
    return (bool *)((char *)p + f->off);
}

void persona_store_defaults(persona *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->type, sizeof(p->type), "CUSTOM");
    snprintf(p->visibility, sizeof(p->visibility), "PRIVATE");
    snprintf(p->required_plan, sizeof(p->required_plan), "free");
    p->temperature = 1.0;
    p->top_p = 0.95;
    p->top_k = 40;
    snprintf(p->language, sizeof(p->language), "en");
    p->version = 1;
}

static int persona__copy_text(char *dst, size_t size, const char *name, const json_t *v, error *err)
{
    if (!json_is_string(v))
        return error_set(err, ERR_INVALID, name, "%s must be a string", name);
    size_t n = json_string_length(v);
    if (n >= size)
        return error_set(err, ERR_INVALID, name, "%s is too long", name);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n) != NULL)
        return error_set(err, ERR_INVALID, name, "%s must not contain NUL characters", name);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int persona_store_apply(persona *p, const json_t *obj, unsigned which, error *err)
{
    for (size_t i = 0; i < PERSONA__NFIELDS; i++) {
        const persona__field *f = &persona__fields[i];
        const json_t *v = json_object_get(obj, f->name);
        if (v == NULL || !(f->groups & which))
            continue;
        switch (f->kind) {
        case PK_OPT_TEXT:
            if (json_is_null(v)) {
                persona__text(p, f)[0] = '\0';
                break;
            }
            /* fall through */
        case PK_TEXT:
            if (persona__copy_text(persona__text(p, f), f->size, f->name, v, err) != 0)
                return -1;
            break;
        case PK_REAL:
            if (!json_is_number(v))
                return error_set(err, ERR_INVALID, f->name, "%s must be a number", f->name);
            *persona__real(p, f) = json_number_value(v);
            break;
        case PK_INT:
            if (json_is_integer(v))
                *persona__int(p, f) = json_integer_value(v);
            else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                     fabs(json_real_value(v)) < 9e15)
                *persona__int(p, f) = (int64_t)json_real_value(v);
            else
                return error_set(err, ERR_INVALID, f->name, "%s must be an integer", f->name);
            break;
        case PK_BOOL:
            if (!json_is_boolean(v))
                return error_set(err, ERR_INVALID, f->name, "%s must be true or false", f->name);
            *persona__bool(p, f) = json_is_true(v);
            break;
        }
    }
    return 0;
}

bool persona_store_is_field(const char *name, unsigned which)
{
    for (size_t i = 0; i < PERSONA__NFIELDS; i++)
        if ((persona__fields[i].groups & which) && strcmp(persona__fields[i].name, name) == 0)
            return true;
    return false;
}

/* ---- invariants ---------------------------------------------------------- */

static int persona__check_len(const char *s, const char *name, size_t min, size_t max, error *err)
{
    size_t n = utf8_chars(s); /* as the schema's length() counts */
    if (n < min || n > max) {
        if (min == 0)
            return error_set(err, ERR_INVALID, name,
                             "%s must be at most %zu characters (it has %zu)", name, max, n);
        return error_set(err, ERR_INVALID, name, "%s must be %zu to %zu characters (it has %zu)",
                         name, min, max, n);
    }
    return 0;
}

int persona_store_check(const persona *p, error *err)
{
    bool system = strcmp(p->type, "SYSTEM") == 0;
    if (!system && strcmp(p->type, "CUSTOM") != 0)
        return error_set(err, ERR_INVALID, "type", "type must be SYSTEM or CUSTOM");
    if (system && p->owner_id[0])
        return error_set(err, ERR_INVALID, "owner_id", "a SYSTEM persona has no owner");
    if (!system && !p->owner_id[0])
        return error_set(err, ERR_INVALID, "owner_id", "a CUSTOM persona needs an owner");
    if (strcmp(p->visibility, "PRIVATE") != 0 && strcmp(p->visibility, "PUBLIC") != 0)
        return error_set(err, ERR_INVALID, "visibility", "visibility must be PRIVATE or PUBLIC");
    if (persona__check_len(p->required_plan, "required_plan", 1, PLAN_CODE_MAX, err) ||
        persona__check_len(p->name, "name", 1, PERSONA_NAME_MAX, err) ||
        persona__check_len(p->description, "description", 0, PERSONA_DESCRIPTION_MAX, err) ||
        persona__check_len(p->system_instruction, "system_instruction", 1, PERSONA_INSTRUCTION_MAX,
                           err) ||
        persona__check_len(p->voice, "voice", 0, PERSONA_VOICE_MAX, err))
        return -1;
    if (!(p->temperature >= 0 && p->temperature <= 2))
        return error_set(err, ERR_INVALID, "temperature", "temperature must be between 0 and 2");
    if (!(p->top_p >= 0 && p->top_p <= 1))
        return error_set(err, ERR_INVALID, "top_p", "top_p must be between 0 and 1");
    if (p->top_k < 1 || p->top_k > INT32_MAX)
        return error_set(err, ERR_INVALID, "top_k", "top_k must be an integer from 1 to %d",
                         INT32_MAX);
    size_t lang = strlen(p->language);
    if (lang < PERSONA_LANGUAGE_MIN || lang > PERSONA_LANGUAGE_MAX || !lang_is_bcp47(p->language))
        return error_set(err, ERR_INVALID, "language",
                         "language must be a BCP-47 tag of %d to %d characters such as \"en\" or "
                         "\"pt-BR\"",
                         PERSONA_LANGUAGE_MIN, PERSONA_LANGUAGE_MAX);
    if (p->is_official && !system)
        return error_set(err, ERR_INVALID, "is_official", "only SYSTEM personas can be official");
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *persona__value_json(const persona *p, const persona__field *f)
{
    switch (f->kind) {
    case PK_TEXT:
        return json_str(persona__text(p, f));
    case PK_OPT_TEXT:
        return persona__text(p, f)[0] ? json_str(persona__text(p, f)) : json_null();
    case PK_REAL:
        return json_real(*persona__real(p, f));
    case PK_INT:
        return json_integer(*persona__int(p, f));
    case PK_BOOL:
        return json_boolean(*persona__bool(p, f));
    }
    return json_null();
}

json_t *persona_store_fields_json(const persona *p, unsigned which)
{
    json_t *o = json_object();
    for (size_t i = 0; i < PERSONA__NFIELDS; i++)
        if (persona__fields[i].groups & which)
            json_object_set_new(o, persona__fields[i].name,
                                persona__value_json(p, &persona__fields[i]));
    return o;
}

static void persona__value_write(jw *w, const persona *p, const persona__field *f)
{
    switch (f->kind) {
    case PK_TEXT:
        jw_str(w, persona__text(p, f));
        return;
    case PK_OPT_TEXT:
        jw_str(w, persona__text(p, f)[0] ? persona__text(p, f) : NULL);
        return;
    case PK_REAL:
        jw_real(w, *persona__real(p, f));
        return;
    case PK_INT:
        jw_int(w, *persona__int(p, f));
        return;
    case PK_BOOL:
        jw_bool(w, *persona__bool(p, f));
        return;
    }
    jw_null(w);
}

void persona_store_write(jw *w, const persona *p, bool hide_instruction)
{
    jw_member_str(w, "id", p->id);
    jw_member_str(w, "type", p->type);
    jw_member_str(w, "owner_id", p->owner_id[0] ? p->owner_id : NULL);
    for (size_t i = 0; i < PERSONA__NFIELDS; i++) {
        const persona__field *f = &persona__fields[i];
        if (!(f->groups & PERSONA_FIELDS_CONTENT))
            continue;
        jw_key(w, f->name);
        if (hide_instruction && strcmp(f->name, "system_instruction") == 0)
            jw_null(w);
        else
            persona__value_write(w, p, f);
    }
    jw_member_int(w, "version", p->version);
    jw_member_time(w, "created_at", p->created_at);
    jw_member_time(w, "updated_at", p->updated_at);
}

static int persona__snap_text(const json_t *snap, const char *name, char *dst, size_t size,
                              bool nullable, error *err)
{
    const json_t *v = json_object_get(snap, name);
    if (nullable && (v == NULL || json_is_null(v))) {
        dst[0] = '\0';
        return 0;
    }
    return persona__copy_text(dst, size, name, v, err);
}

/* Times are optional: snapshots written by migrations (the starter library)
 * carry only the content and the version. */
static int persona__snap_time(const json_t *snap, const char *name, int64_t *out, error *err)
{
    const json_t *v = json_object_get(snap, name);
    if (v == NULL || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (s == NULL || !time_parse(s, out))
        return error_set(err, ERR_INTERNAL, name, "the snapshot's %s is not a time", name);
    return 0;
}

int persona_store_from_json(const json_t *snap, persona *out, error *err)
{
    persona_store_defaults(out);
    if (!json_is_object(snap))
        return error_set(err, ERR_INTERNAL, NULL, "a persona snapshot is not a JSON object");
    const json_t *version = json_object_get(snap, "version");
    if (persona__snap_text(snap, "id", out->id, sizeof(out->id), false, err) ||
        persona__snap_text(snap, "type", out->type, sizeof(out->type), false, err) ||
        persona__snap_text(snap, "owner_id", out->owner_id, sizeof(out->owner_id), true, err) ||
        persona_store_apply(out, snap, PERSONA_FIELDS_CONTENT, err) ||
        persona__snap_time(snap, "created_at", &out->created_at, err) ||
        persona__snap_time(snap, "updated_at", &out->updated_at, err))
        return -1;
    if (!json_is_integer(version))
        return error_set(err, ERR_INTERNAL, "version", "the snapshot has no version");
    out->version = json_integer_value(version);
    return 0;
}

static bool persona__field_equal(const persona *a, const persona *b, const persona__field *f)
{
    switch (f->kind) {
    case PK_TEXT:
    case PK_OPT_TEXT:
        return strcmp(persona__text(a, f), persona__text(b, f)) == 0;
    case PK_REAL:
        return *persona__real(a, f) == *persona__real(b, f);
    case PK_INT:
        return *persona__int(a, f) == *persona__int(b, f);
    case PK_BOOL:
        return *persona__bool(a, f) == *persona__bool(b, f);
    }
    return false;
}

int persona_store_diff(const persona *a, const persona *b, json_t *changes)
{
    int n = 0;
    for (size_t i = 0; i < PERSONA__NFIELDS; i++) {
        const persona__field *f = &persona__fields[i];
        if (persona__field_equal(a, b, f))
            continue;
        n++;
        if (changes != NULL)
            json_array_append_new(changes, json_pack("{s:s, s:o, s:o}", "field", f->name, "from",
                                                     persona__value_json(a, f), "to",
                                                     persona__value_json(b, f)));
    }
    return n;
}

/* ---- personas ------------------------------------------------------------- */

#define PERSONA__COLS                                                                              \
    "SELECT p.id, p.type, p.owner_id, p.visibility, p.required_plan, p.name, p.description, "      \
    "p.system_instruction, p.temperature, p.top_p, p.top_k, p.language, p.voice, "                 \
    "p.is_official, p.version, p.created_at, p.updated_at, pl.rank, p.archived_at "                \
    "FROM personas p JOIN plans pl ON pl.code = p.required_plan "

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
/* No cursor binds the greatest UUID, so the id condition needs no NULL case. */
static db_sql Q_LIST = DB_SQL(
    PERSONA__COLS "WHERE " PERSONA__VISIBLE " AND p.archived_at IS NULL"
                  " AND (CAST($3 AS TEXT) IS NULL OR p.type = CAST($3 AS TEXT))"
                  " AND (CAST($4 AS TEXT) IS NULL OR p.visibility = CAST($4 AS TEXT))"
                  " AND (CAST($5 AS TEXT) IS NULL OR lower(p.language) = lower(CAST($5 AS TEXT)))"
                  " AND ($6 = 0 OR p.owner_id = $2)"
                  " AND p.id < $1 ORDER BY p.id DESC LIMIT $7");
static db_sql Q_INSERT = DB_SQL(
    "INSERT INTO personas (id, type, owner_id, visibility, required_plan, name, description, "
    "system_instruction, temperature, top_p, top_k, language, voice, is_official, version, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "$15, $16, $17)");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE personas SET visibility = $4, required_plan = $5, name = $6, description = $7, "
           "system_instruction = $8, temperature = $9, top_p = $10, top_k = $11, language = $12, "
           "voice = $13, is_official = $14, version = $15, updated_at = $16 "
           "WHERE id = $1 AND version = $2 AND (type = 'SYSTEM' OR owner_id = $3)");
/* Anything of record that names the persona (each has an index on persona_id). */
static db_sql Q_REFERENCED =
    DB_SQL("SELECT EXISTS (SELECT 1 FROM projects WHERE persona_id = $1) "
           "OR EXISTS (SELECT 1 FROM persona_usage_logs WHERE persona_id = $1) "
           "OR EXISTS (SELECT 1 FROM channel_persona_assignments WHERE persona_id = $1)");
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
    (void)a;
    persona *p = out;
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, p->id);
    bad |= DB_COL_COPY(s, 1, p->type);
    bad |= DB_COL_COPY(s, 2, p->owner_id);
    bad |= DB_COL_COPY(s, 3, p->visibility);
    bad |= DB_COL_COPY(s, 4, p->required_plan);
    bad |= DB_COL_COPY(s, 5, p->name);
    bad |= DB_COL_COPY(s, 6, p->description);
    bad |= DB_COL_COPY(s, 7, p->system_instruction);
    p->temperature = db_col_double(s, 8);
    p->top_p = db_col_double(s, 9);
    p->top_k = db_col_int64(s, 10);
    bad |= DB_COL_COPY(s, 11, p->language);
    bad |= DB_COL_COPY(s, 12, p->voice);
    p->is_official = db_col_bool(s, 13);
    p->version = db_col_int64(s, 14);
    p->created_at = db_col_time(s, 15);
    p->updated_at = db_col_time(s, 16);
    p->required_rank = (int)db_col_int64(s, 17);
    p->archived_at = db_col_is_null(s, 18) ? 0 : db_col_time(s, 18);
    return bad ? db_col_too_long(err, "persona") : 0;
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

static int persona__get(db_conn *c, db_sql *q, const char *id, const char *user_id, persona *out,
                        error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no persona with id %s", id ? id : "(none)");
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    return db_one(c, q, DB_ARGS(DB_TEXT(key), DB_TEXT(user_id)), persona__row, NULL, out, err, NULL,
                  "no persona with id %s", id);
}

int persona_store_get_visible(db_conn *c, const char *id, const char *viewer_id, persona *out,
                              error *err)
{
    return persona__get(c, &Q_GET_VISIBLE, id, viewer_id, out, err);
}

int persona_store_get_writable(db_conn *c, const char *id, const char *user_id, persona *out,
                               error *err)
{
    return persona__get(c, &Q_GET_WRITABLE, id, user_id, out, err);
}

/* A listing's visitor and the one row it is shown, reused for each. */
typedef struct persona__visit {
    persona *row;
    persona_visit_fn fn;
    void *ctx;
} persona__visit;

static int persona__visit_row(db_stmt *s, arena *a, void *arg, error *err)
{
    persona__visit *v = arg;
    if (persona__row(s, a, v->row, err) != 0)
        return -1;
    return v->fn(v->row, v->ctx) != 0 ? 1 : 0;
}

int persona_store_list(db_conn *c, const char *viewer_id, const persona_filter *f,
                       const char *cursor, int limit, persona_visit_fn fn, void *ctx, error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(cursor ? cursor : "ffffffff-ffff-ffff-ffff-ffffffffffff", key);
    persona__visit v = {xmalloc(sizeof(*v.row)), fn, ctx};
    int rc =
        db_each(c, &Q_LIST,
                DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id), DB_TEXT(f->type), DB_TEXT(f->visibility),
                        DB_TEXT(f->language), DB_INT(f->mine ? 1 : 0), DB_INT(limit)),
                persona__visit_row, NULL, &v, err);
    free(v.row);
    return rc;
}

/* The content columns, in the order of persona__fields. */
#define PERSONA__CONTENT(p)                                                                        \
    DB_TEXT((p)->visibility), DB_TEXT((p)->required_plan), DB_TEXT((p)->name),                     \
        DB_TEXT((p)->description), DB_TEXT((p)->system_instruction), DB_DOUBLE((p)->temperature),  \
        DB_DOUBLE((p)->top_p), DB_INT((p)->top_k), DB_TEXT((p)->language),                         \
        DB_TEXT((p)->voice[0] ? (p)->voice : NULL), DB_BOOL((p)->is_official)

int persona_store_insert(db_conn *c, const persona *p, error *err)
{
    db_args args = DB_ARGS(DB_TEXT(p->id), DB_TEXT(p->type),
                           DB_TEXT(p->owner_id[0] ? p->owner_id : NULL), PERSONA__CONTENT(p),
                           DB_INT(p->version), DB_TIME(p->created_at), DB_TIME(p->updated_at));
    return db_write(c, &Q_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

int persona_store_update(db_conn *c, const persona *p, int64_t expected_version,
                         const char *user_id, error *err)
{
    db_args args = DB_ARGS(DB_TEXT(p->id), DB_INT(expected_version), DB_TEXT(user_id),
                           PERSONA__CONTENT(p), DB_INT(p->version), DB_TIME(p->updated_at));
    int64_t changed = db_write(c, &Q_UPDATE, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_PRECONDITION, NULL,
                         "persona %s changed while this request was being handled (it is no "
                         "longer at version %lld); read it again and retry",
                         p->id, (long long)expected_version);
    return changed < 0 ? -1 : 0;
}

static int persona__bool_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    *(bool *)out = db_col_bool(s, 0);
    return 0;
}

int persona_store_is_referenced(db_conn *c, const char *id, bool *referenced, error *err)
{
    *referenced = false;
    char key[UUID_STR_LEN + 1];
    persona__lower_id(id, key);
    return db_first(c, &Q_REFERENCED, DB_ARGS(DB_TEXT(key)), persona__bool_row, NULL, referenced,
                    err) < 0
               ? -1
               : 0;
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

#define PERSONA__HISTORY                                                                           \
    "SELECT h.version, h.changed_by, h.change_reason, h.created_at, h.snapshot "                   \
    "FROM persona_history h JOIN personas p ON p.id = h.persona_id "                               \
    "WHERE h.persona_id = $1 AND " PERSONA__VISIBLE

static db_sql Q_HISTORY_INSERT =
    DB_SQL("INSERT INTO persona_history (id, persona_id, version, snapshot, changed_by, "
           "change_reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)");
static db_sql Q_HISTORY_LIST =
    DB_SQL(PERSONA__HISTORY " AND h.version < $3 ORDER BY h.version DESC LIMIT $4");
static db_sql Q_HISTORY_GET = DB_SQL(PERSONA__HISTORY " AND h.version = $3");

/* A snapshot: the largest persona, every byte of its instruction escaped. */
#define PERSONA_SNAPSHOT_CAP (1u << 20)

/*
 * The fewest significant digits (15 to 17) that print every real field of p
 * so that it reads back as the same double: 0.7 is stored as "0.7", not
 * jansson's default "0.69999999999999996", and nothing is ever rounded.
 */
static int persona__real_precision(const persona *p)
{
    int prec = 15;
    for (size_t i = 0; i < PERSONA__NFIELDS; i++) {
        if (persona__fields[i].kind != PK_REAL)
            continue;
        double v = *persona__real(p, &persona__fields[i]);
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
    persona_store_write(&w, p, false);
    jw_obj_end(&w);
    if (jw_error(&w) != BUF_OK || snap.data == NULL) {
        buf_free(&snap);
        return error_set(err, ERR_INTERNAL, NULL, "cannot encode the snapshot of persona %s",
                         p->id);
    }
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    int64_t rc =
        db_write(c, &Q_HISTORY_INSERT,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(p->id), DB_INT(p->version), DB_TEXT(snap.data),
                         DB_TEXT(changed_by), DB_TEXT(reason), DB_TIME(p->updated_at)),
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
    (void)a;
    persona_revision *rev = out;
    int bad = 0;
    rev->version = db_col_int64(s, 0);
    bad |= DB_COL_COPY(s, 1, rev->changed_by);
    rev->has_reason = !db_col_is_null(s, 2);
    bad |= DB_COL_COPY(s, 2, rev->change_reason);
    rev->created_at = db_col_time(s, 3);
    return bad ? db_col_too_long(err, "persona revision") : 0;
}

typedef struct persona__revision_visit {
    persona_revision rev;
    persona_revision_visit_fn fn;
    void *ctx;
} persona__revision_visit;

static int persona__revision_visit_row(db_stmt *s, arena *a, void *arg, error *err)
{
    persona__revision_visit *v = arg;
    if (persona__revision_row(s, a, &v->rev, err) != 0)
        return -1;
    return v->fn(&v->rev, v->ctx) != 0 ? 1 : 0;
}

int persona_store_history_list(db_conn *c, const char *persona_id, const char *viewer_id,
                               int64_t before, int limit, persona_revision_visit_fn fn, void *ctx,
                               error *err)
{
    char key[UUID_STR_LEN + 1];
    persona__lower_id(persona_id, key);
    persona__revision_visit v = {.fn = fn, .ctx = ctx};
    /* version is a 32-bit integer on PostgreSQL: its largest value means "no cursor". */
    return db_each(c, &Q_HISTORY_LIST,
                   DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id),
                           DB_INT(before > 0 && before <= INT32_MAX ? before : INT32_MAX),
                           DB_INT(limit)),
                   persona__revision_visit_row, NULL, &v, err);
}

/* A revision and, when snap is wanted, its snapshot parsed (NULL when it
 * is not JSON: the caller says so). */
typedef struct persona__snapshot {
    persona_revision *rev;
    json_t **snap;
} persona__snapshot;

static int persona__snapshot_row(db_stmt *s, arena *a, void *arg, error *err)
{
    persona__snapshot *out = arg;
    if (persona__revision_row(s, a, out->rev, err) != 0)
        return -1;
    const char *text = db_col_text(s, 4);
    if (out->snap != NULL)
        *out->snap = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    return 0;
}

int persona_store_history_get(db_conn *c, const char *persona_id, const char *viewer_id,
                              int64_t version, persona_revision *rev, json_t **snap, error *err)
{
    if (version < 1 || version > INT32_MAX)
        return error_set(err, ERR_NOT_FOUND, "version", "persona %s has no version %lld",
                         persona_id, (long long)version);
    char key[UUID_STR_LEN + 1];
    persona__lower_id(persona_id, key);
    json_t *doc = NULL;
    persona__snapshot out = {rev, snap != NULL ? &doc : NULL};
    if (db_one(c, &Q_HISTORY_GET, DB_ARGS(DB_TEXT(key), DB_TEXT(viewer_id), DB_INT(version)),
               persona__snapshot_row, NULL, &out, err, "version", "persona %s has no version %lld",
               persona_id, (long long)version) != 0)
        return -1;
    if (snap != NULL) {
        if (doc == NULL)
            return error_set(err, ERR_INTERNAL, NULL,
                             "the snapshot of version %lld of persona %s is not valid JSON",
                             (long long)version, persona_id);
        *snap = doc;
    }
    return 0;
}
