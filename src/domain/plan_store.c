#include "domain/plan_store.h"

#include "base/jsonout.h"
#include "base/timeutil.h"

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

#define USER_COLS "u.id, u.email, u.name, u.role, p.code, u.created_at, u.updated_at"
static db_sql Q_USER_LIST = DB_SQL2(
    "SELECT " USER_COLS " FROM users u JOIN plans p ON p.id = u.plan_id "
    "WHERE ($1 IS NULL OR instr(lower(u.email), lower($1)) > 0) AND ($2 IS NULL OR u.id < $2) "
    "ORDER BY u.id DESC LIMIT $3",
    "SELECT " USER_COLS " FROM users u JOIN plans p ON p.id = u.plan_id "
    "WHERE ($1::text IS NULL OR strpos(lower(u.email), lower($1::text)) > 0) "
    "AND ($2::uuid IS NULL OR u.id < $2::uuid) ORDER BY u.id DESC LIMIT $3");
static db_sql Q_USER_GET =
    DB_SQL("SELECT " USER_COLS " FROM users u JOIN plans p ON p.id = u.plan_id WHERE u.id = $1");
static db_sql Q_USER_UPDATE =
    DB_SQL("UPDATE users SET "
           "role = CASE WHEN $2 THEN $3 ELSE role END, "
           "plan_id = CASE WHEN $4 THEN (SELECT id FROM plans WHERE code = $5) ELSE plan_id END, "
           "name = CASE WHEN $6 THEN $7 ELSE name END, "
           "updated_at = $8 WHERE id = $1");
static db_sql Q_OTHER_ADMINS =
    DB_SQL("SELECT COUNT(*) FROM users WHERE role = 'admin' AND id <> $1");
static db_sql Q_PLAN_CODE_EXISTS = DB_SQL("SELECT COUNT(*) FROM plans WHERE code = $1");

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

/* Stored text goes in through json_str with "o?": a value that is not
 * UTF-8 (older rows may hold one) is written as null, and the row is still
 * listed, as jw writes it (decisions 37 and 45). */
static json_t *user__row(db_stmt *s)
{
    return json_pack("{s:s,s:o?,s:o?,s:s,s:o?,s:s,s:s}", "id", db_col_text(s, 0), "email",
                     json_str(db_col_text(s, 1)), "name", json_str(db_col_text(s, 2)), "role",
                     db_col_text(s, 3), "plan", json_str(db_col_text(s, 4)), "created_at",
                     db_col_text(s, 5), "updated_at", db_col_text(s, 6));
}

/* Runs a bound query and collects rows through fn into a JSON array. */
static int collect(db_stmt *s, json_t *(*fn)(db_stmt *), json_t **out, error *err)
{
    db_error de;
    json_t *arr = json_array();
    int rc;
    while ((rc = db_step(s, &de)) == DB_ROW)
        json_array_append_new(arr, fn(s));
    db_reset(s);
    if (rc == DB_ERR) {
        json_decref(arr);
        return db_to_error(err, &de, NULL);
    }
    *out = arr;
    return 0;
}

static int one(db_stmt *s, json_t *(*fn)(db_stmt *), const char *what, const char *id, json_t **out,
               error *err)
{
    json_t *arr = NULL;
    if (collect(s, fn, &arr, err) != 0)
        return -1;
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return error_set(err, ERR_NOT_FOUND, NULL, "no %s with id '%s'", what, id);
    }
    *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return 0;
}

static int64_t count(db_conn *c, db_sql *q, const char *arg, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, q, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, arg);
    int64_t n = -1;
    if (db_step(s, &de) == DB_ROW)
        n = db_col_int64(s, 0);
    db_reset(s);
    if (n < 0)
        return db_to_error(err, &de, NULL);
    return n;
}

#define PREPARE(s, c, q, err)                                                                      \
    db_error de_;                                                                                  \
    db_stmt *s = db_prepare(c, q, &de_);                                                           \
    if (s == NULL)                                                                                 \
    return db_to_error(err, &de_, NULL)

int plan_store_list(db_conn *c, json_t **out, error *err)
{
    PREPARE(s, c, &Q_PLAN_LIST, err);
    return collect(s, plan__row, out, err);
}

int plan_store_get(db_conn *c, const char *id, json_t **out, error *err)
{
    PREPARE(s, c, &Q_PLAN_GET, err);
    db_bind_text(s, 1, id);
    return one(s, plan__row, "plan", id, out, err);
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

int user_admin_list(db_conn *c, const char *email_like, const char *cursor, int limit, json_t **out,
                    error *err)
{
    PREPARE(s, c, &Q_USER_LIST, err);
    db_bind_text(s, 1, email_like);
    db_bind_text(s, 2, cursor);
    db_bind_int64(s, 3, limit);
    return collect(s, user__row, out, err);
}

int user_admin_get(db_conn *c, const char *id, json_t **out, error *err)
{
    PREPARE(s, c, &Q_USER_GET, err);
    db_bind_text(s, 1, id);
    return one(s, user__row, "user", id, out, err);
}

int user_admin_update(db_conn *c, const char *id, json_t *in, error *err)
{
    json_t *role = json_object_get(in, "role"), *plan = json_object_get(in, "plan");
    json_t *name = json_object_get(in, "name");
    if (role != NULL && strcmp(json_string_value(role), "admin") != 0) {
        int64_t others = count(c, &Q_OTHER_ADMINS, id, err);
        if (others < 0)
            return -1;
        json_t *cur = NULL;
        if (user_admin_get(c, id, &cur, err) != 0)
            return -1;
        bool was_admin = strcmp(json_string_value(json_object_get(cur, "role")), "admin") == 0;
        json_decref(cur);
        if (was_admin && others == 0)
            return error_set(err, ERR_CONFLICT, "role",
                             "this is the last administrator; promote another user first");
    }
    if (plan != NULL) {
        int64_t n = count(c, &Q_PLAN_CODE_EXISTS, json_string_value(plan), err);
        if (n < 0)
            return -1;
        if (n == 0)
            return error_set(err, ERR_INVALID, "plan", "there is no plan '%s'",
                             json_string_value(plan));
    }
    PREPARE(s, c, &Q_USER_UPDATE, err);
    db_bind_text(s, 1, id);
    db_bind_bool(s, 2, role != NULL);
    db_bind_text(s, 3, json_string_value(role));
    db_bind_bool(s, 4, plan != NULL);
    db_bind_text(s, 5, json_string_value(plan));
    db_bind_bool(s, 6, name != NULL);
    db_bind_text(s, 7, json_string_value(name));
    db_bind_time(s, 8, time_now_usec());
    int64_t changed;
    if (db_run(s, &changed, err, NULL) != 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no user with id '%s'", id);
    return 0;
}
