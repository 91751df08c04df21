#include "domain/plan_store.h"

#include "base/jsonout.h"
#include "base/timeutil.h"
#include "domain/json_rows.h"

#include <stdio.h>
#include <string.h>

#define PLAN_COLS                                                                                  \
    "id, code, name, rank, max_channels, max_projects_per_month, default_persona_id, "             \
    "created_at, updated_at, max_generations_per_month"

static db_sql Q_PLAN_LIST = DB_SQL("SELECT " PLAN_COLS " FROM plans ORDER BY rank");
static db_sql Q_PLAN_GET = DB_SQL("SELECT " PLAN_COLS " FROM plans WHERE id = $1");
static db_sql Q_PLAN_INSERT =
    DB_SQL("INSERT INTO plans (id, code, name, rank, max_channels, max_projects_per_month, "
           "default_persona_id, created_at, updated_at, max_generations_per_month) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)");
/* Each column is replaced only when its "set" flag is true, so one statement
 * serves every combination of fields. */
static db_sql Q_PLAN_UPDATE =
    DB_SQL("UPDATE plans SET "
           "name = CASE WHEN $2 THEN $3 ELSE name END, "
           "rank = CASE WHEN $4 THEN $5 ELSE rank END, "
           "max_channels = CASE WHEN $6 THEN $7 ELSE max_channels END, "
           "max_projects_per_month = CASE WHEN $8 THEN $9 ELSE max_projects_per_month END, "
           "default_persona_id = CASE WHEN $10 THEN $11 ELSE default_persona_id END, "
           "max_generations_per_month = CASE WHEN $13 THEN $14 ELSE max_generations_per_month END, "
           "updated_at = $12 WHERE id = $1");
static db_sql Q_PERSONA_TYPE = DB_SQL("SELECT type FROM personas WHERE id = $1");
static db_sql Q_PLAN_BY_CODE = DB_SQL("SELECT id FROM plans WHERE code = $1");
static db_sql Q_PLAN_LOWEST = DB_SQL("SELECT id FROM plans ORDER BY rank LIMIT 1");
static db_sql Q_PLAN_RANK = DB_SQL("SELECT rank FROM plans WHERE code = $1");
static db_sql Q_PLAN_DEFAULT = DB_SQL("SELECT default_persona_id FROM plans WHERE id = $1");
static db_sql Q_USER_PLAN = DB_SQL(
    "SELECT pl.code, pl.rank FROM users u JOIN plans pl ON pl.id = u.plan_id WHERE u.id = $1");

static json_t *plan__row(db_stmt *s)
{
    const char *def = db_col_text(s, 6);
    return json_pack("{s:s,s:o?,s:o?,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", db_col_text(s, 0), "code",
                     json_str(db_col_text(s, 1)), "name", json_str(db_col_text(s, 2)), "rank",
                     (json_int_t)db_col_int64(s, 3), "max_channels",
                     db_col_is_null(s, 4) ? json_null() : json_integer(db_col_int64(s, 4)),
                     "max_projects_per_month",
                     db_col_is_null(s, 5) ? json_null() : json_integer(db_col_int64(s, 5)),
                     "max_generations_per_month",
                     db_col_is_null(s, 9) ? json_null() : json_integer(db_col_int64(s, 9)),
                     "default_persona_id", def ? json_string(def) : json_null(), "created_at",
                     json_string(db_col_text(s, 7)), "updated_at", json_string(db_col_text(s, 8)));
}

#define PREPARE(s, c, q, err)                                                                      \
    db_error de_;                                                                                  \
    db_stmt *s = db_prepare(c, q, &de_);                                                           \
    if (s == NULL)                                                                                 \
    return db_to_error(err, &de_, NULL)

int plan_store_list(db_conn *c, json_t **out, error *err)
{
    PREPARE(s, c, &Q_PLAN_LIST, err);
    return json_rows_collect(s, plan__row, out, err);
}

int plan_store_get(db_conn *c, const char *id, json_t **out, error *err)
{
    PREPARE(s, c, &Q_PLAN_GET, err);
    db_bind_text(s, 1, id);
    return json_rows_one(s, plan__row, "plan", id, out, err);
}

/* Binds an optional integer member: present → value, null or absent → NULL. */
static void bind_opt_int(db_stmt *s, int i, json_t *v)
{
    if (json_is_integer(v))
        db_bind_int64(s, i, json_integer_value(v));
    else
        db_bind_null(s, i);
}

int plan_store_check_default_persona(db_conn *c, const char *persona_id, error *err)
{
    PREPARE(s, c, &Q_PERSONA_TYPE, err);
    db_bind_text(s, 1, persona_id);
    db_error de;
    int rc = db_step(s, &de);
    bool system = rc == DB_ROW && strcmp(db_col_text(s, 0), "SYSTEM") == 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (!system)
        return error_set(err, ERR_INVALID, "default_persona_id",
                         "a plan's default persona must be an existing SYSTEM persona");
    return 0;
}

int plan_store_insert(db_conn *c, json_t *in, char id[UUID_STR_LEN + 1], error *err)
{
    PREPARE(s, c, &Q_PLAN_INSERT, err);
    uuid_v7(id);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, json_string_value(json_object_get(in, "code")));
    db_bind_text(s, 3, json_string_value(json_object_get(in, "name")));
    db_bind_int64(s, 4, json_integer_value(json_object_get(in, "rank")));
    bind_opt_int(s, 5, json_object_get(in, "max_channels"));
    bind_opt_int(s, 6, json_object_get(in, "max_projects_per_month"));
    db_bind_text(s, 7, json_string_value(json_object_get(in, "default_persona_id")));
    db_bind_time(s, 8, time_now_usec());
    bind_opt_int(s, 9, json_object_get(in, "max_generations_per_month"));
    db_error de;
    int rc = db_exec(s, &de);
    db_reset(s);
    if (rc != 0)
        return db_to_error(err, &de, de.fault == DB_FAULT_UNIQUE ? "code or rank" : NULL);
    return 0;
}

int plan_store_update(db_conn *c, const char *id, json_t *in, error *err)
{
    PREPARE(s, c, &Q_PLAN_UPDATE, err);
    json_t *name = json_object_get(in, "name"), *rank = json_object_get(in, "rank");
    json_t *mc = json_object_get(in, "max_channels");
    json_t *mp = json_object_get(in, "max_projects_per_month");
    json_t *def = json_object_get(in, "default_persona_id");
    json_t *mg = json_object_get(in, "max_generations_per_month");
    db_bind_text(s, 1, id);
    db_bind_bool(s, 2, name != NULL);
    db_bind_text(s, 3, json_string_value(name));
    db_bind_bool(s, 4, rank != NULL);
    db_bind_int64(s, 5, json_integer_value(rank));
    db_bind_bool(s, 6, mc != NULL);
    bind_opt_int(s, 7, mc);
    db_bind_bool(s, 8, mp != NULL);
    bind_opt_int(s, 9, mp);
    db_bind_bool(s, 10, def != NULL);
    db_bind_text(s, 11, json_string_value(def));
    db_bind_time(s, 12, time_now_usec());
    db_bind_bool(s, 13, mg != NULL);
    bind_opt_int(s, 14, mg);
    db_error de;
    int rc = db_exec(s, &de);
    int64_t changed = db_changes(s);
    db_reset(s);
    if (rc != 0)
        return db_to_error(err, &de, de.fault == DB_FAULT_UNIQUE ? "rank" : NULL);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no plan with id '%s'", id);
    return 0;
}

static int plan__one_id(db_conn *c, db_sql *q, const char *code, char id[UUID_STR_LEN + 1],
                        error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, q, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    if (code != NULL)
        db_bind_text(s, 1, code);
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW ? db_col_copy(s, 0, id, UUID_STR_LEN + 1) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "plan id");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "plan", "there is no plan '%s'",
                         code ? code : "at all");
    return 0;
}

int plan_store_id_by_code(db_conn *c, const char *code, char id[UUID_STR_LEN + 1], error *err)
{
    return plan__one_id(c, &Q_PLAN_BY_CODE, code, id, err);
}

int plan_store_rank_by_code(db_conn *c, const char *code, int *rank, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_PLAN_RANK, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, code);
    int rc = db_step(s, &de);
    if (rc == DB_ROW)
        *rank = (int)db_col_int64(s, 0);
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "plan", "there is no plan '%s'", code);
    return 0;
}

int plan_store_lowest(db_conn *c, char id[UUID_STR_LEN + 1], error *err)
{
    return plan__one_id(c, &Q_PLAN_LOWEST, NULL, id, err);
}

int plan_store_default_persona(db_conn *c, const char *plan_id, char id_out[UUID_STR_LEN + 1],
                               error *err)
{
    id_out[0] = '\0';
    db_error de;
    db_stmt *s = db_prepare(c, &Q_PLAN_DEFAULT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, plan_id);
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW ? db_col_copy(s, 0, id_out, UUID_STR_LEN + 1) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "default persona id");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "plan", "your plan no longer exists; ask an admin");
    return 0;
}

int plan_store_of_user(db_conn *c, const char *user_id, char code_out[33], int *rank_out,
                       error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_USER_PLAN, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    int rc = db_step(s, &de);
    if (rc == DB_ROW) {
        snprintf(code_out, 33, "%s", db_col_text(s, 0));
        *rank_out = (int)db_col_int64(s, 1);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "user", "no user with id %s", user_id);
    return 0;
}
