#include "domain/user_store.h"

#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_PLAN_BY_CODE = DB_SQL("SELECT id FROM plans WHERE code = $1");
static db_sql Q_PLAN_LOWEST = DB_SQL("SELECT id FROM plans ORDER BY rank LIMIT 1");
static db_sql Q_PLAN_RANK = DB_SQL("SELECT rank FROM plans WHERE code = $1");
static db_sql Q_USER_INSERT =
    DB_SQL("INSERT INTO users (id, email, name, role, plan_id, password_hash, created_at, "
           "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)");

static db_sql Q_USER_LOGIN =
    DB_SQL("SELECT id, email, name, role, plan_id, password_hash, created_at FROM users "
           "WHERE lower(email) = lower($1)");

static db_sql Q_USER_REHASH = DB_SQL("UPDATE users SET password_hash = $3, updated_at = $4 "
                                     "WHERE id = $1 AND password_hash = $2");

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
