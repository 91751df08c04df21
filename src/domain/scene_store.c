#include "domain/scene_store.h"

#include "domain/limits.h"

#include <stdio.h>
#include <string.h>

const char *const scene_media_statuses[] = {"PENDING", "PROCESSING", "COMPLETED", "FAILED", NULL};

/* Either text may come later (generation fills both). Positions are given
 * on create and move only through reorder, which sees the whole list. */
static const row_col scene__cols[] = {
    ROW_COL(scene, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(scene, position, ROW_INT, ROW_CREATE, 0, PROJECT_SCENES_MAX),
    ROW_COL(scene, narration, ROW_TEXT, ROW_WRITE, 0, SCENE_NARRATION_MAX),
    ROW_COL(scene, visual_description, ROW_TEXT, ROW_WRITE, 0, SCENE_VISUAL_MAX),
    ROW_ENUM_COL(scene, image_status, 0, scene_media_statuses),
    ROW_ENUM_COL(scene, audio_status, 0, scene_media_statuses),
    ROW_COL(scene, duration_ms, ROW_INT64, ROW_NULLABLE, 0, 0),
    ROW_COL(scene, audio_generation, ROW_INT64, 0, 0, 0),
    ROW_COL(scene, audio_path, ROW_TEXT, ROW_NULLABLE, 0, SCENE_AUDIO_PATH_MAX),
    ROW_COL(scene, audio_error, ROW_TEXT, ROW_NULLABLE, 0, SCENE_AUDIO_ERROR_MAX),
    ROW_COL(scene, image_generation, ROW_INT64, 0, 0, 0),
    ROW_COL(scene, image_path, ROW_TEXT, ROW_NULLABLE, 0, SCENE_AUDIO_PATH_MAX),
    ROW_COL(scene, image_error, ROW_TEXT, ROW_NULLABLE, 0, SCENE_AUDIO_ERROR_MAX),
    ROW_COL(scene, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(scene, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(scene, project_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(scene, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
};
const row_spec scene_row = ROW_SPEC(scene, "scene", scene__cols);

#define SCENE_COLS                                                                                 \
    "id, position, narration, visual_description, image_status, audio_status, duration_ms, "       \
    "audio_generation, audio_path, audio_error, image_generation, image_path, image_error, "       \
    "created_at, updated_at, project_id, user_id"
#define SCENE_INSERT                                                                               \
    "id, project_id, user_id, position, narration, visual_description, image_status, "             \
    "audio_status, created_at, updated_at"

static db_sql Q_LIST = DB_SQL("SELECT " SCENE_COLS " FROM scenes WHERE project_id = $1 AND "
                              "user_id = $2 ORDER BY position, id");
static db_sql Q_COUNT =
    DB_SQL("SELECT count(*) FROM scenes WHERE project_id = $1 AND user_id = $2");
static db_sql Q_GET = DB_SQL("SELECT " SCENE_COLS " FROM scenes WHERE id = $1 AND "
                             "project_id = $2 AND user_id = $3");
static db_sql Q_INSERT = DB_SQL("INSERT INTO scenes (" SCENE_INSERT ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
static db_sql Q_SHIFT = DB_SQL("UPDATE scenes SET position = position + $4, updated_at = $5 "
                               "WHERE project_id = $1 AND user_id = $2 AND position >= $3");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE scenes SET narration = $4, visual_description = $5, "
           "updated_at = $6 WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_SET_POSITION = DB_SQL("UPDATE scenes SET position = $4, updated_at = $5 "
                                      "WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_AUDIO_REQUEST = DB_SQL(
    "UPDATE scenes SET audio_generation = audio_generation + 1, audio_status = 'PENDING', "
    "audio_error = NULL, updated_at = $4 WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_AUDIO_GENERATION = DB_SQL(
    "SELECT audio_generation FROM scenes WHERE id = $1 AND project_id = $2 AND user_id = $3");
/* A NULL path or duration keeps the one the scene has. */
static db_sql Q_AUDIO_SET =
    DB_SQL("UPDATE scenes SET audio_status = $5, audio_error = $6, "
           "audio_path = COALESCE($7, audio_path), duration_ms = COALESCE($8, duration_ms), "
           "updated_at = $9 WHERE id = $1 AND project_id = $2 AND user_id = $3 AND "
           "audio_generation = $4");
static db_sql Q_IMAGE_REQUEST = DB_SQL(
    "UPDATE scenes SET image_generation = image_generation + 1, image_status = 'PENDING', "
    "image_error = NULL, updated_at = $4 WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_IMAGE_GENERATION = DB_SQL(
    "SELECT image_generation FROM scenes WHERE id = $1 AND project_id = $2 AND user_id = $3");
/* A NULL path keeps the one the scene has. */
static db_sql Q_IMAGE_SET =
    DB_SQL("UPDATE scenes SET image_status = $5, image_error = $6, "
           "image_path = COALESCE($7, image_path), updated_at = $8 WHERE id = $1 AND "
           "project_id = $2 AND user_id = $3 AND image_generation = $4");
static db_sql Q_DELETE =
    DB_SQL("DELETE FROM scenes WHERE id = $1 AND project_id = $2 AND user_id = $3");

static int scene__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&scene_row, s, a, out, err);
}

/* Runs a write and turns "no row changed" into ERR_NOT_FOUND. */
static int scene__write_one(db_conn *c, db_sql *q, db_args args, const char *id, error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id);
    return changed < 0 ? -1 : 0;
}

int scene_store_list(db_conn *c, arena *a, const char *user_id, const char *project_id, scene **out,
                     size_t *n, error *err)
{
    return db_list(c, &Q_LIST, DB_ARGS(DB_TEXT(project_id), DB_TEXT(user_id)), scene__row, a,
                   sizeof(**out), 16, out, n, err);
}

int scene_store_count(db_conn *c, const char *user_id, const char *project_id, int64_t *n,
                      error *err)
{
    return db_int64(c, &Q_COUNT, DB_ARGS(DB_TEXT(project_id), DB_TEXT(user_id)), n, err);
}

int scene_store_get(db_conn *c, arena *a, const char *user_id, const char *project_id,
                    const char *id, scene *out, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    return db_one(c, &Q_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id)),
                  scene__row, a, out, err, NULL, "no scene with id %s", id);
}

int scene_store_insert(db_conn *c, const scene *sc, error *err)
{
    row_argv av;
    return db_write(c, &Q_INSERT, row_args(&scene_row, sc, SCENE_INSERT, NULL, &av), NULL, err) < 0
               ? -1
               : 0;
}

int scene_store_shift(db_conn *c, const char *user_id, const char *project_id, int from, int delta,
                      int64_t now, error *err)
{
    return db_write(c, &Q_SHIFT,
                    DB_ARGS(DB_TEXT(project_id), DB_TEXT(user_id), DB_INT(from), DB_INT(delta),
                            DB_TIME(now)),
                    NULL, err) < 0
               ? -1
               : 0;
}

int scene_store_update(db_conn *c, const scene *sc, error *err)
{
    row_argv av;
    return scene__write_one(c, &Q_UPDATE,
                            row_args(&scene_row, sc,
                                     "id, project_id, user_id, narration, visual_description, "
                                     "updated_at",
                                     NULL, &av),
                            sc->id, err);
}

int scene_store_set_position(db_conn *c, const char *user_id, const char *project_id,
                             const char *id, int position, int64_t now, error *err)
{
    return scene__write_one(
        c, &Q_SET_POSITION,
        DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id), DB_INT(position), DB_TIME(now)),
        id, err);
}

int scene_store_delete(db_conn *c, const char *user_id, const char *project_id, const char *id,
                       error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    return scene__write_one(c, &Q_DELETE,
                            DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id)), id, err);
}

int scene_store_audio_request(db_conn *c, const char *user_id, const char *project_id,
                              const char *id, int64_t now, int64_t *generation, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    db_args key = DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id), DB_TIME(now));
    if (scene__write_one(c, &Q_AUDIO_REQUEST, key, id, err) != 0)
        return -1;
    return db_int64(c, &Q_AUDIO_GENERATION,
                    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id)), generation, err);
}

int scene_store_audio_set(db_conn *c, const char *user_id, const char *project_id, const char *id,
                          int64_t generation, const scene_audio_state *st, int64_t now,
                          bool *matched, error *err)
{
    *matched = false;
    int64_t changed =
        db_write(c, &Q_AUDIO_SET,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id), DB_INT(generation),
                         DB_TEXT(st->status), st->error ? DB_TEXT(st->error) : DB_NULL,
                         st->path ? DB_TEXT(st->path) : DB_NULL,
                         st->duration_ms >= 0 ? DB_INT(st->duration_ms) : DB_NULL, DB_TIME(now)),
                 NULL, err);
    if (changed < 0)
        return -1;
    *matched = changed > 0;
    return 0;
}

int scene_store_image_request(db_conn *c, const char *user_id, const char *project_id,
                              const char *id, int64_t now, int64_t *generation, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    db_args key = DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id), DB_TIME(now));
    if (scene__write_one(c, &Q_IMAGE_REQUEST, key, id, err) != 0)
        return -1;
    return db_int64(c, &Q_IMAGE_GENERATION,
                    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id)), generation, err);
}

int scene_store_image_set(db_conn *c, const char *user_id, const char *project_id, const char *id,
                          int64_t generation, const scene_image_state *st, int64_t now,
                          bool *matched, error *err)
{
    *matched = false;
    int64_t changed =
        db_write(c, &Q_IMAGE_SET,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(project_id), DB_TEXT(user_id), DB_INT(generation),
                         DB_TEXT(st->status), st->error ? DB_TEXT(st->error) : DB_NULL,
                         st->path ? DB_TEXT(st->path) : DB_NULL, DB_TIME(now)),
                 NULL, err);
    if (changed < 0)
        return -1;
    *matched = changed > 0;
    return 0;
}
