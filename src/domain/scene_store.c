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

/* -1 when a text does not fit its buffer (db_col_copy). */
static int scene__read(arena *a, db_stmt *s, scene *sc)
{
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
    return bad;
}

/* Runs a write and turns "no row changed" into ERR_NOT_FOUND. */
static int scene__exec_one(db_stmt *s, const char *id, error *err)
{
    int64_t changed;
    if (db_run(s, &changed, err, NULL) != 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id);
    return 0;
}

int scene_store_list(db_conn *c, arena *a, const char *user_id, const char *project_id, scene **out,
                     size_t *n, error *err)
{
    size_t cap = 16;
    *out = arena_alloc(a, sizeof(**out) * cap);
    *n = 0;
    db_error de;
    db_stmt *s = db_prepare(c, &Q_LIST, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, project_id);
    db_bind_text(s, 2, user_id);
    int rc, bad = 0;
    while ((rc = db_step(s, &de)) == DB_ROW) {
        if (*n == cap) {
            scene *grown = arena_alloc(a, sizeof(*grown) * cap * 2);
            memcpy(grown, *out, sizeof(*grown) * cap);
            *out = grown;
            cap *= 2;
        }
        bad |= scene__read(a, s, &(*out)[(*n)++]);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "scene") : 0;
}

int scene_store_count(db_conn *c, const char *user_id, const char *project_id, int64_t *n,
                      error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_COUNT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, project_id);
    db_bind_text(s, 2, user_id);
    int rc = db_step(s, &de);
    *n = rc == DB_ROW ? db_col_int64(s, 0) : 0;
    db_reset(s);
    return rc == DB_ERR ? db_to_error(err, &de, NULL) : 0;
}

int scene_store_get(db_conn *c, arena *a, const char *user_id, const char *project_id,
                    const char *id, scene *out, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    db_error de;
    db_stmt *s = db_prepare(c, &Q_GET, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, project_id);
    db_bind_text(s, 3, user_id);
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW ? scene__read(a, s, out) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "scene");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id);
    return 0;
}

int scene_store_insert(db_conn *c, const scene *sc, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, sc->id);
    db_bind_text(s, 2, sc->project_id);
    db_bind_text(s, 3, sc->user_id);
    db_bind_int64(s, 4, sc->position);
    db_bind_text(s, 5, sc->narration);
    db_bind_text(s, 6, sc->visual_description);
    db_bind_text(s, 7, sc->image_status);
    db_bind_text(s, 8, sc->audio_status);
    db_bind_time(s, 9, sc->created_at);
    db_bind_time(s, 10, sc->updated_at);
    return db_run(s, NULL, err, NULL);
}

int scene_store_shift(db_conn *c, const char *user_id, const char *project_id, int from, int delta,
                      int64_t now, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_SHIFT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, project_id);
    db_bind_text(s, 2, user_id);
    db_bind_int64(s, 3, from);
    db_bind_int64(s, 4, delta);
    db_bind_time(s, 5, now);
    return db_run(s, NULL, err, NULL);
}

int scene_store_update(db_conn *c, const scene *sc, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_UPDATE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, sc->id);
    db_bind_text(s, 2, sc->project_id);
    db_bind_text(s, 3, sc->user_id);
    db_bind_text(s, 4, sc->narration);
    db_bind_text(s, 5, sc->visual_description);
    db_bind_time(s, 6, sc->updated_at);
    return scene__exec_one(s, sc->id, err);
}

int scene_store_set_position(db_conn *c, const char *user_id, const char *project_id,
                             const char *id, int position, int64_t now, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_SET_POSITION, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, project_id);
    db_bind_text(s, 3, user_id);
    db_bind_int64(s, 4, position);
    db_bind_time(s, 5, now);
    return scene__exec_one(s, id, err);
}

int scene_store_delete(db_conn *c, const char *user_id, const char *project_id, const char *id,
                       error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no scene with id %s", id ? id : "(none)");
    db_error de;
    db_stmt *s = db_prepare(c, &Q_DELETE, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, project_id);
    db_bind_text(s, 3, user_id);
    return scene__exec_one(s, id, err);
}
