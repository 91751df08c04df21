#include "domain/project_store.h"

#include "domain/limits.h"

#include <stdio.h>
#include <string.h>

const char *const project_statuses[] = {"draft",     "queued", "generating", "scripted",
                                        "producing", "ready",  "failed",     NULL};

/* The columns in the order the API writes them; user_id and generation
 * are the store's own. A new project is a topic, a target and a persona,
 * and the controls of its first generation; description and tags are
 * edited once it exists (generation fills them); the generation controls
 * change with POST …/generate, which uses them. */
static const row_col project__cols[] = {
    ROW_COL(project, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(project, topic, ROW_TEXT, ROW_WRITE | ROW_REQUIRED, 1, PROJECT_TOPIC_MAX),
    ROW_ENUM_COL(project, status, 0, project_statuses),
    ROW_COL(project, channel_id, ROW_UUID, ROW_WRITE | ROW_NULLABLE, 0, 0),
    ROW_COL(project, persona_id, ROW_UUID, ROW_CREATE | ROW_NULLABLE, 0, 0),
    ROW_COL(project, persona_version, ROW_INT, ROW_ZERO_NUL, 0, 0),
    ROW_COL(project, title, ROW_TEXT, ROW_WRITE | ROW_NULLABLE, 1, PROJECT_TITLE_MAX),
    ROW_COL(project, description, ROW_TEXT, ROW_UPDATE | ROW_NULLABLE, 0, PROJECT_DESCRIPTION_MAX),
    ROW_TAGS_COL(project, tags, ntags, ROW_UPDATE, 1, PROJECT_TAG_MAX, PROJECT_TAGS_MAX),
    ROW_COL(project, language, ROW_TEXT, ROW_CREATE, PERSONA_LANGUAGE_MIN, PERSONA_LANGUAGE_MAX),
    ROW_COL(project, target_scenes, ROW_INT, ROW_CREATE | ROW_ZERO_NUL, SCRIPT_SCENES_MIN,
            SCRIPT_SCENES_MAX),
    ROW_COL(project, target_seconds, ROW_INT, ROW_CREATE | ROW_ZERO_NUL, SCRIPT_SECONDS_MIN,
            SCRIPT_SECONDS_MAX),
    ROW_COL(project, instructions, ROW_TEXT, ROW_CREATE | ROW_EMPTY_NUL, 0,
            SCRIPT_INSTRUCTIONS_MAX),
    ROW_COL(project, error, ROW_TEXT, 0, 0, 0),
    ROW_COL(project, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(project, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(project, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(project, generation, ROW_INT64, ROW_PRIVATE, 0, 0),
    ROW_COL(project, media_ready, ROW_BOOL, 0, 0, 0),
    ROW_COL(project, render_status, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(project, render_progress, ROW_INT, 0, 0, 1000),
    ROW_COL(project, render_error, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(project, render_aspect, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(project, render_subtitles, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(project, render_music, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(project, render_duration_ms, ROW_INT64, ROW_NULLABLE, 0, 0),
    ROW_COL(project, rendered_at, ROW_TIME, 0, 0, 0),
    ROW_COL(project, render_generation, ROW_INT64, ROW_PRIVATE, 0, 0),
    /* A create may leave the project a draft; the scenes are answered with it. */
    ROW_FIELD("generate", ROW_BOOL, ROW_CREATE, 0, 0),
    ROW_FIELD("scenes", ROW_OBJECT, 0, 0, 0),
};
const row_spec project_row = ROW_SPEC(project, "project", project__cols);

#define PROJECT_COLS                                                                               \
    "id, topic, status, channel_id, persona_id, persona_version, title, description, tags, "       \
    "language, target_scenes, target_seconds, instructions, error, created_at, updated_at, "       \
    "user_id, generation, render_status, render_progress, render_error, render_aspect, "           \
    "render_subtitles, render_music, render_duration_ms, rendered_at, "                            \
    "render_generation, " PROJECT_MEDIA_READY
/* Computed rather than stored (decision 100): every scene's audio and image
 * COMPLETED, and at least one scene. */
#define PROJECT_MEDIA_READY                                                                        \
    "(EXISTS (SELECT 1 FROM scenes s WHERE s.project_id = projects.id) AND NOT EXISTS "            \
    "(SELECT 1 FROM scenes s WHERE s.project_id = projects.id AND (s.audio_status <> "             \
    "'COMPLETED' OR s.image_status <> 'COMPLETED'))) AS media_ready"
#define PROJECT_INSERT                                                                             \
    "id, user_id, channel_id, persona_id, persona_version, topic, status, title, description, "    \
    "tags, created_at, updated_at, language, target_scenes, target_seconds, instructions"

/* See channel_store.c: the first key is this module's lock class. */
static db_sql Q_LOCK_QUOTA =
    DB_SQL2("SELECT $1", "SELECT pg_advisory_xact_lock(7302, hashtext($1))");
static db_sql Q_COUNT_SINCE =
    DB_SQL("SELECT count(*) FROM projects WHERE user_id = $1 AND created_at >= $2");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO projects (" PROJECT_INSERT ") "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)");
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
    DB_SQL("SELECT id, status, error, render_status, render_progress, updated_at FROM projects "
           "WHERE user_id = $1 AND updated_at >= $2 ORDER BY updated_at, id LIMIT $3");
static db_sql Q_RENDER_REQUEST =
    DB_SQL("UPDATE projects SET render_status = 'rendering', render_progress = 0, "
           "render_error = NULL, render_generation = render_generation + 1, render_aspect = $3, "
           "render_subtitles = $4, render_music = $5, updated_at = $6 "
           "WHERE id = $1 AND user_id = $2 RETURNING render_generation");
static db_sql Q_RENDER_SET =
    DB_SQL("UPDATE projects SET render_status = $4, render_progress = $5, render_error = $6, "
           "render_duration_ms = CASE WHEN $7 < 0 THEN render_duration_ms ELSE $7 END, "
           "rendered_at = COALESCE($8, rendered_at), updated_at = $9 "
           "WHERE id = $1 AND user_id = $2 AND render_generation = $3 "
           "AND render_status = 'rendering'");

static int project__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&project_row, s, a, out, err);
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

int project_store_insert(db_conn *c, arena *a, const project *pr, error *err)
{
    row_argv av;
    db_args args = row_args(&project_row, pr, PROJECT_INSERT, a, &av);
    return db_write(c, &Q_INSERT, args, NULL, err) < 0 ? -1 : 0;
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

int project_store_update(db_conn *c, arena *a, const project *pr, error *err)
{
    row_argv av;
    return project__write_one(c, &Q_UPDATE,
                              row_args(&project_row, pr,
                                       "id, user_id, topic, title, description, tags, channel_id, "
                                       "updated_at",
                                       a, &av),
                              pr->id, err);
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
    row_argv av;
    return project__write_one(c, &Q_SET_CONTROLS,
                              row_args(&project_row, pr,
                                       "id, user_id, language, target_scenes, target_seconds, "
                                       "instructions",
                                       NULL, &av),
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

int project_store_save_script(db_conn *c, arena *a, const project *pr, int64_t generation,
                              bool *matched, error *err)
{
    project at = *pr;
    at.generation = generation;
    row_argv av;
    int64_t changed = db_write(c, &Q_SAVE_SCRIPT,
                               row_args(&project_row, &at,
                                        "id, user_id, generation, title, description, tags, "
                                        "persona_version, status, updated_at",
                                        a, &av),
                               NULL, err);
    *matched = changed > 0;
    return changed < 0 ? -1 : 0;
}

int project_store_render_request(db_conn *c, const char *user_id, const char *id,
                                 const char *aspect, const char *subtitles, const char *music,
                                 int64_t now, int64_t *generation, error *err)
{
    return db_one(c, &Q_RENDER_REQUEST,
                  DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TEXT(aspect), DB_TEXT(subtitles),
                          DB_TEXT(music), DB_TIME(now)),
                  db_row_int64, NULL, generation, err, NULL, "no project with id %s", id);
}

int project_store_render_set(db_conn *c, const char *user_id, const char *id, int64_t generation,
                             const project_render_state *st, int64_t now, bool *matched, error *err)
{
    int64_t changed =
        db_write(c, &Q_RENDER_SET,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_INT(generation), DB_TEXT(st->status),
                         DB_INT(st->progress), DB_TEXT(st->error), DB_INT(st->duration_ms),
                         st->rendered_at > 0 ? DB_TIME(st->rendered_at) : DB_NULL, DB_TIME(now)),
                 NULL, err);
    *matched = changed > 0;
    return changed < 0 ? -1 : 0;
}

static const row_col project__change_cols[] = {
    ROW_COL(project_change, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(project_change, status, ROW_TEXT, 0, 0, 0),
    ROW_COL(project_change, error, ROW_TEXT, 0, 0, 0),
    ROW_COL(project_change, render_status, ROW_TEXT, 0, 0, 0),
    ROW_COL(project_change, render_progress, ROW_INT, 0, 0, 0),
    ROW_COL(project_change, updated_at, ROW_TIME, 0, 0, 0),
};
static const row_spec project__change_row_spec =
    ROW_SPEC(project_change, "project", project__change_cols);

static int project__change_row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&project__change_row_spec, s, a, out, err);
}

int project_store_changes(db_conn *c, arena *a, const char *user_id, int64_t since, int limit,
                          project_change **out, size_t *n, error *err)
{
    return db_list(c, &Q_CHANGES, DB_ARGS(DB_TEXT(user_id), DB_TIME(since), DB_INT(limit)),
                   project__change_row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n,
                   err);
}
