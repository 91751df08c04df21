#include "domain/user_store.h"

#include "base/jsonout.h"
#include "base/timeutil.h"
#include "domain/json_rows.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_USER_INSERT =
    DB_SQL("INSERT INTO users (id, email, name, role, plan_id, password_hash, created_at, "
           "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)");

static db_sql Q_USER_LOGIN =
    DB_SQL("SELECT id, email, name, role, plan_id, password_hash, created_at FROM users "
           "WHERE lower(email) = lower($1)");

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

static db_sql Q_USER_REHASH = DB_SQL("UPDATE users SET password_hash = $3, updated_at = $4 "
                                     "WHERE id = $1 AND password_hash = $2");

int user_store_insert(db_conn *c, user *u, const char *password_hash, error *err)
{
    uuid_v7(u->id);
    u->created_at = time_now_usec();
    db_error de;
    db_stmt *s = db_prepare(c, &Q_USER_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, u->id);
    db_bind_text(s, 2, u->email);
    db_bind_text(s, 3, u->name);
    db_bind_text(s, 4, u->role);
    db_bind_text(s, 5, u->plan_id);
    db_bind_text(s, 6, password_hash);
    db_bind_time(s, 7, u->created_at);
    int rc = db_exec(s, &de);
    db_reset(s);
    if (rc != 0)
        return db_to_error(err, &de, "email");
    return 0;
}

int user_store_find_login(db_conn *c, const char *email, user *u, char *hash, size_t hash_n,
                          error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_USER_LOGIN, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, email);
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        bad |= DB_COL_COPY(s, 0, u->id);
        bad |= DB_COL_COPY(s, 1, u->email);
        bad |= DB_COL_COPY(s, 2, u->name);
        bad |= DB_COL_COPY(s, 3, u->role);
        bad |= DB_COL_COPY(s, 4, u->plan_id);
        bad |= db_col_copy(s, 5, hash, hash_n);
        u->created_at = db_col_time(s, 6);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "user");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, "email", "no user with that email");
    return 0;
}

int user_store_replace_password_hash(db_conn *c, const char *user_id, const char *old_hash,
                                     const char *new_hash, bool *replaced, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_USER_REHASH, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, old_hash);
    db_bind_text(s, 3, new_hash);
    db_bind_time(s, 4, time_now_usec());
    int64_t n = 0;
    if (db_run(s, &n, err, NULL) != 0)
        return -1;
    *replaced = n == 1;
    return 0;
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

int user_store_admin_list(db_conn *c, const char *email_like, const char *cursor, int limit,
                          json_t **out, error *err)
{
    PREPARE(s, c, &Q_USER_LIST, err);
    db_bind_text(s, 1, email_like);
    db_bind_text(s, 2, cursor);
    db_bind_int64(s, 3, limit);
    return json_rows_collect(s, user__row, out, err);
}

int user_store_admin_get(db_conn *c, const char *id, json_t **out, error *err)
{
    PREPARE(s, c, &Q_USER_GET, err);
    db_bind_text(s, 1, id);
    return json_rows_one(s, user__row, "user", id, out, err);
}

int user_store_admin_update(db_conn *c, const char *id, json_t *in, error *err)
{
    json_t *role = json_object_get(in, "role"), *plan = json_object_get(in, "plan");
    json_t *name = json_object_get(in, "name");
    if (role != NULL && strcmp(json_string_value(role), "admin") != 0) {
        int64_t others = count(c, &Q_OTHER_ADMINS, id, err);
        if (others < 0)
            return -1;
        json_t *cur = NULL;
        if (user_store_admin_get(c, id, &cur, err) != 0)
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
