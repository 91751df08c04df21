#include "domain/scene_store.h"

#include <stdio.h>
#include <string.h>

#define SCENE_COLS                                                                                 \
    "id, project_id, user_id, position, narration, visual_description, image_status, "             \
    "audio_status, duration_ms, created_at, updated_at"

static db_sql Q_LIST = DB_SQL("SELECT " SCENE_COLS " FROM scenes WHERE project_id = $1 AND "
                              "user_id = $2 ORDER BY position, id");
static db_sql Q_COUNT =
    DB_SQL("SELECT count(*) FROM scenes WHERE project_id = $1 AND user_id = $2");
static db_sql Q_GET = DB_SQL("SELECT " SCENE_COLS " FROM scenes WHERE id = $1 AND "
                             "project_id = $2 AND user_id = $3");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO scenes (id, project_id, user_id, position, narration, visual_description, "
           "image_status, audio_status, created_at, updated_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
static db_sql Q_SHIFT = DB_SQL("UPDATE scenes SET position = position + $4, updated_at = $5 "
                               "WHERE project_id = $1 AND user_id = $2 AND position >= $3");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE scenes SET narration = $4, visual_description = $5, "
           "updated_at = $6 WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_SET_POSITION = DB_SQL("UPDATE scenes SET position = $4, updated_at = $5 "
                                      "WHERE id = $1 AND project_id = $2 AND user_id = $3");
static db_sql Q_DELETE =
    DB_SQL("DELETE FROM scenes WHERE id = $1 AND project_id = $2 AND user_id = $3");

static const char *scene__str(arena *a, db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return arena_strdup(a, t ? t : "");
}

static int scene__row(db_stmt *s, arena *a, void *out, error *err)
{
    scene *sc = out;
    memset(sc, 0, sizeof(*sc));
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, sc->id);
    bad |= DB_COL_COPY(s, 1, sc->project_id);
    bad |= DB_COL_COPY(s, 2, sc->user_id);
    sc->position = (int)db_col_int64(s, 3);
    sc->narration = scene__str(a, s, 4);
    sc->visual_description = scene__str(a, s, 5);
    sc->image_status = scene__str(a, s, 6);
    sc->audio_status = scene__str(a, s, 7);
    sc->duration_ms = db_col_is_null(s, 8) ? -1 : db_col_int64(s, 8);
    sc->created_at = db_col_time(s, 9);
    sc->updated_at = db_col_time(s, 10);
    return bad ? db_col_too_long(err, "scene") : 0;
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
    db_args args = DB_ARGS(
        DB_TEXT(sc->id), DB_TEXT(sc->project_id), DB_TEXT(sc->user_id), DB_INT(sc->position),
        DB_TEXT(sc->narration), DB_TEXT(sc->visual_description), DB_TEXT(sc->image_status),
        DB_TEXT(sc->audio_status), DB_TIME(sc->created_at), DB_TIME(sc->updated_at));
    return db_write(c, &Q_INSERT, args, NULL, err) < 0 ? -1 : 0;
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
    return scene__write_one(c, &Q_UPDATE,
                            DB_ARGS(DB_TEXT(sc->id), DB_TEXT(sc->project_id), DB_TEXT(sc->user_id),
                                    DB_TEXT(sc->narration), DB_TEXT(sc->visual_description),
                                    DB_TIME(sc->updated_at)),
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
