#include "domain/project_store.h"

#include "base/jsonout.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const project_statuses[] = {"draft",     "queued", "generating", "scripted",
                                        "producing", "ready",  "failed",     NULL};

#define PROJECT_COLS                                                                               \
    "id, user_id, channel_id, persona_id, persona_version, topic, status, title, description, "    \
    "tags, error, created_at, updated_at, generation, language, target_scenes, target_seconds, "   \
    "instructions"

/* See channel_store.c: the first key is this module's lock class. */
static db_sql Q_LOCK_QUOTA =
    DB_SQL2("SELECT $1", "SELECT pg_advisory_xact_lock(7302, hashtext($1))");
static db_sql Q_COUNT_SINCE =
    DB_SQL("SELECT count(*) FROM projects WHERE user_id = $1 AND created_at >= $2");
static db_sql Q_INSERT = DB_SQL(
    "INSERT INTO projects (id, user_id, channel_id, persona_id, persona_version, topic, status, "
    "title, description, tags, created_at, updated_at, language, target_scenes, target_seconds, "
    "instructions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)");
static db_sql Q_GET =
    DB_SQL("SELECT " PROJECT_COLS " FROM projects WHERE id = $1 AND user_id = $2");
static db_sql Q_LOCK =
    DB_SQL2("SELECT status FROM projects WHERE id = $1 AND user_id = $2",
            "SELECT status FROM projects WHERE id = $1 AND user_id = $2 FOR UPDATE");
/* PostgreSQL cannot type a parameter from "$n IS NULL" alone; its text casts. */
#define PROJECT_LIST_SQL(text_cast, uuid_cast)                                                     \
    "SELECT " PROJECT_COLS " FROM projects WHERE user_id = $1 "                                    \
    "AND ($2" text_cast " IS NULL OR status = $2" text_cast ") "                                   \
    "AND ($3" uuid_cast " IS NULL OR channel_id = $3" uuid_cast ") "                               \
    "AND ($4" uuid_cast " IS NULL OR persona_id = $4" uuid_cast ") "                               \
    "AND ($5" uuid_cast " IS NULL OR id < $5" uuid_cast ") ORDER BY id DESC LIMIT $6"
static db_sql Q_LIST = DB_SQL2(PROJECT_LIST_SQL("", ""), PROJECT_LIST_SQL("::text", "::uuid"));
/* The unfiltered list, the common case, gets a statement of its own: with no
 * optional filters its one plan walks projects_user_id_id_idx backwards and
 * stops after the page, where the filtered form's generic plan would read and
 * sort all of the user's projects. No cursor binds the greatest UUID. */
static db_sql Q_LIST_ALL =
    DB_SQL("SELECT " PROJECT_COLS " FROM projects WHERE user_id = $1 AND id < $2 "
           "ORDER BY id DESC LIMIT $3");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE projects SET topic = $3, title = $4, description = $5, tags = $6, "
           "channel_id = $7, updated_at = $8 WHERE id = $1 AND user_id = $2");
static db_sql Q_TOUCH =
    DB_SQL("UPDATE projects SET updated_at = $3 WHERE id = $1 AND user_id = $2");
static db_sql Q_DELETE = DB_SQL("DELETE FROM projects WHERE id = $1 AND user_id = $2");
static db_sql Q_QUEUE_GENERATION =
    DB_SQL("UPDATE projects SET status = 'queued', error = NULL, generation = generation + 1, "
           "updated_at = $3 WHERE id = $1 AND user_id = $2 RETURNING generation");
static db_sql Q_SET_CONTROLS =
    DB_SQL("UPDATE projects SET language = $3, target_scenes = $4, target_seconds = $5, "
           "instructions = $6 WHERE id = $1 AND user_id = $2");
static db_sql Q_SET_PROGRESS =
    DB_SQL("UPDATE projects SET status = $4, error = $5, updated_at = $6 "
           "WHERE id = $1 AND user_id = $2 AND generation = $3");
static db_sql Q_SAVE_SCRIPT =
    DB_SQL("UPDATE projects SET title = $4, description = $5, tags = $6, persona_version = $7, "
           "status = $8, error = NULL, updated_at = $9 "
           "WHERE id = $1 AND user_id = $2 AND generation = $3");
static db_sql Q_CHANGES =
    DB_SQL("SELECT id, status, error, updated_at FROM projects WHERE user_id = $1 AND "
           "updated_at >= $2 ORDER BY updated_at, id LIMIT $3");

static const char *project__str(arena *a, db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t ? arena_strdup(a, t) : NULL;
}

/* Tags are always a JSON array of strings (the schema checks the array, the
 * API the strings); anything else read back is dropped rather than trusted. */
static void project__read_tags(arena *a, const char *text, project *pr)
{
    pr->tags = NULL;
    pr->ntags = 0;
    /* Nearly always plain strings: read without building a tree (20 projects
     * a page made jansson 13 % of the list's CPU). */
    if (json_plain_strings(a, text, &pr->tags, &pr->ntags))
        return;
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(arr) && json_array_size(arr) > 0) {
        pr->tags = arena_alloc(a, sizeof(*pr->tags) * json_array_size(arr));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (json_is_string(v))
                pr->tags[pr->ntags++] = arena_strdup(a, json_string_value(v));
        }
    }
    json_decref(arr);
}

/* The tags as JSON text; the caller frees it. */
static char *project__tags_json(const project *pr)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < pr->ntags; i++)
        json_array_append_new(arr, json_string(pr->tags[i]));
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

static int project__row(db_stmt *s, arena *a, void *out, error *err)
{
    project *pr = out;
    memset(pr, 0, sizeof(*pr));
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, pr->id);
    bad |= DB_COL_COPY(s, 1, pr->user_id);
    pr->channel_id = project__str(a, s, 2);
    pr->persona_id = project__str(a, s, 3);
    pr->persona_version = db_col_is_null(s, 4) ? 0 : (int)db_col_int64(s, 4);
    pr->topic = project__str(a, s, 5);
    pr->status = project__str(a, s, 6);
    pr->title = project__str(a, s, 7);
    pr->description = project__str(a, s, 8);
    project__read_tags(a, db_col_text(s, 9), pr);
    pr->error = project__str(a, s, 10);
    pr->created_at = db_col_time(s, 11);
    pr->updated_at = db_col_time(s, 12);
    pr->generation = db_col_int64(s, 13);
    pr->language = project__str(a, s, 14);
    pr->target_scenes = db_col_is_null(s, 15) ? 0 : (int)db_col_int64(s, 15);
    pr->target_seconds = db_col_is_null(s, 16) ? 0 : (int)db_col_int64(s, 16);
    pr->instructions = project__str(a, s, 17);
    return bad ? db_col_too_long(err, "project") : 0;
}

/* An optional count: unset (0 or less) is NULL. */
static db_arg project__opt_int(int v)
{
    return v > 0 ? DB_INT(v) : DB_NULL;
}

/* The version that wrote the project goes with its persona. */
static db_arg project__version(const project *pr)
{
    return pr->persona_id != NULL ? DB_INT(pr->persona_version) : DB_NULL;
}

static db_arg project__instructions(const project *pr)
{
    return DB_TEXT(pr->instructions != NULL && pr->instructions[0] != '\0' ? pr->instructions
                                                                           : NULL);
}

/* A write that must change one row: none is ERR_NOT_FOUND. */
static int project__write_one(db_conn *c, db_sql *q, db_args args, const char *id, error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s", id);
    return changed < 0 ? -1 : 0;
}

int project_store_lock_quota(db_conn *c, const char *user_id, error *err)
{
    return db_first(c, &Q_LOCK_QUOTA, DB_ARGS(DB_TEXT(user_id)), NULL, NULL, NULL, err) < 0 ? -1
                                                                                            : 0;
}

int project_store_count_since(db_conn *c, const char *user_id, int64_t since, int64_t *n,
                              error *err)
{
    return db_int64(c, &Q_COUNT_SINCE, DB_ARGS(DB_TEXT(user_id), DB_TIME(since)), n, err);
}

int project_store_insert(db_conn *c, const project *pr, error *err)
{
    char *tags = project__tags_json(pr);
    db_args args = DB_ARGS(DB_TEXT(pr->id), DB_TEXT(pr->user_id), DB_TEXT(pr->channel_id),
                           DB_TEXT(pr->persona_id), project__version(pr), DB_TEXT(pr->topic),
                           DB_TEXT(pr->status), DB_TEXT(pr->title), DB_TEXT(pr->description),
                           DB_TEXT(tags), DB_TIME(pr->created_at), DB_TIME(pr->updated_at),
                           DB_TEXT(pr->language), project__opt_int(pr->target_scenes),
                           project__opt_int(pr->target_seconds), project__instructions(pr));
    int64_t rc = db_write(c, &Q_INSERT, args, NULL, err);
    free(tags);
    return rc < 0 ? -1 : 0;
}

int project_store_get(db_conn *c, arena *a, const char *user_id, const char *id, project *out,
                      error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s", id ? id : "(none)");
    return db_one(c, &Q_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), project__row, a, out, err,
                  NULL, "no project with id %s", id);
}

/* Copies the status into a char[16]; a status never outgrows it (the schema
 * checks it against project_statuses). */
static int project__status_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    snprintf(out, 16, "%s", db_col_text(s, 0));
    return 0;
}

/* Locks the row (see project_store_lock) and copies its status into
 * status[16]. */
static int project__lock(db_conn *c, const char *user_id, const char *id, char status[16],
                         error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no project with id %s", id ? id : "(none)");
    return db_one(c, &Q_LOCK, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), project__status_row, NULL,
                  status, err, NULL, "no project with id %s", id);
}

int project_store_lock(db_conn *c, const char *user_id, const char *id, error *err)
{
    char status[16];
    return project__lock(c, user_id, id, status, err);
}

int project_store_lock_editable(db_conn *c, const char *user_id, const char *id, error *err)
{
    char status[16];
    if (project__lock(c, user_id, id, status, err) != 0)
        return -1;
    /* The refusal a second generation gets: 409, field "status". */
    if (strcmp(status, "queued") == 0 || strcmp(status, "generating") == 0)
        return error_set(err, ERR_CONFLICT, "status",
                         "a script generation of this project is %s and would overwrite this "
                         "change when it finishes; wait until it ends (follow GET "
                         "/api/v1/events or the project's status), then edit",
                         strcmp(status, "queued") == 0 ? "queued" : "running");
    return 0;
}

int project_store_list(db_conn *c, arena *a, const char *user_id, const project_filter *f,
                       const char *cursor, int limit, project **out, size_t *n, error *err)
{
    size_t cap = (size_t)(limit > 0 ? limit : 1);
    if (f != NULL && (f->status || f->channel_id || f->persona_id))
        return db_list(c, &Q_LIST,
                       DB_ARGS(DB_TEXT(user_id), DB_TEXT(f->status), DB_TEXT(f->channel_id),
                               DB_TEXT(f->persona_id), DB_TEXT(cursor), DB_INT(limit)),
                       project__row, a, sizeof(**out), cap, out, n, err);
    return db_list(c, &Q_LIST_ALL,
                   DB_ARGS(DB_TEXT(user_id),
                           DB_TEXT(cursor ? cursor : "ffffffff-ffff-ffff-ffff-ffffffffffff"),
                           DB_INT(limit)),
                   project__row, a, sizeof(**out), cap, out, n, err);
}

int project_store_update(db_conn *c, const project *pr, error *err)
{
    char *tags = project__tags_json(pr);
    int rc = project__write_one(c, &Q_UPDATE,
                                DB_ARGS(DB_TEXT(pr->id), DB_TEXT(pr->user_id), DB_TEXT(pr->topic),
                                        DB_TEXT(pr->title), DB_TEXT(pr->description), DB_TEXT(tags),
                                        DB_TEXT(pr->channel_id), DB_TIME(pr->updated_at)),
                                pr->id, err);
    free(tags);
    return rc;
}

int project_store_touch(db_conn *c, const char *user_id, const char *id, int64_t now, error *err)
{
    return project__write_one(c, &Q_TOUCH, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TIME(now)), id,
                              err);
}

int project_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    return project__write_one(c, &Q_DELETE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), id, err);
}

int project_store_queue_generation(db_conn *c, const char *user_id, const char *id, int64_t now,
                                   int64_t *generation, error *err)
{
    return db_one(c, &Q_QUEUE_GENERATION, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TIME(now)),
                  db_row_int64, NULL, generation, err, NULL, "no project with id %s", id);
}

int project_store_set_controls(db_conn *c, const project *pr, error *err)
{
    return project__write_one(c, &Q_SET_CONTROLS,
                              DB_ARGS(DB_TEXT(pr->id), DB_TEXT(pr->user_id), DB_TEXT(pr->language),
                                      project__opt_int(pr->target_scenes),
                                      project__opt_int(pr->target_seconds),
                                      project__instructions(pr)),
                              pr->id, err);
}

int project_store_set_progress(db_conn *c, const char *user_id, const char *id, int64_t generation,
                               const char *status, const char *error_text, int64_t now,
                               bool *matched, error *err)
{
    int64_t changed = db_write(c, &Q_SET_PROGRESS,
                               DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_INT(generation),
                                       DB_TEXT(status), DB_TEXT(error_text), DB_TIME(now)),
                               NULL, err);
    *matched = changed > 0;
    return changed < 0 ? -1 : 0;
}

int project_store_save_script(db_conn *c, const project *pr, int64_t generation, bool *matched,
                              error *err)
{
    char *tags = project__tags_json(pr);
    int64_t changed =
        db_write(c, &Q_SAVE_SCRIPT,
                 DB_ARGS(DB_TEXT(pr->id), DB_TEXT(pr->user_id), DB_INT(generation),
                         DB_TEXT(pr->title), DB_TEXT(pr->description), DB_TEXT(tags),
                         project__version(pr), DB_TEXT(pr->status), DB_TIME(pr->updated_at)),
                 NULL, err);
    free(tags);
    *matched = changed > 0;
    return changed < 0 ? -1 : 0;
}

static int project__change_row(db_stmt *s, arena *a, void *out, error *err)
{
    project_change *ch = out;
    int bad = DB_COL_COPY(s, 0, ch->id);
    ch->status = project__str(a, s, 1);
    ch->error = project__str(a, s, 2);
    ch->updated_at = db_col_time(s, 3);
    return bad ? db_col_too_long(err, "project") : 0;
}

int project_store_changes(db_conn *c, arena *a, const char *user_id, int64_t since, int limit,
                          project_change **out, size_t *n, error *err)
{
    return db_list(c, &Q_CHANGES, DB_ARGS(DB_TEXT(user_id), DB_TIME(since), DB_INT(limit)),
                   project__change_row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n,
                   err);
}
