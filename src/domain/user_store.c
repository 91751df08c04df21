#include "domain/user_store.h"

#include "base/timeutil.h"

const char *const user_roles[] = {"admin", "user", NULL};

/* The columns in the order the API writes them; the plan is answered by
 * its code and written by its id. */
static const row_col user__cols[] = {
    ROW_COL(user, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(user, email, ROW_TEXT, 0, USER_EMAIL_MIN, USER_EMAIL_MAX),
    ROW_COL(user, name, ROW_TEXT, ROW_UPDATE, 1, USER_NAME_MAX),
    ROW_ENUM_COL(user, role, ROW_UPDATE | ROW_ADMIN, user_roles),
    ROW_COL(user, plan, ROW_TEXT, ROW_UPDATE | ROW_ADMIN, 1, PLAN_CODE_MAX),
    ROW_COL(user, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(user, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(user, plan_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(user, password_hash, ROW_TEXT, ROW_PRIVATE, 0, 0),
};
const row_spec user_row = ROW_SPEC(user, "user", user__cols);

#define USER_INSERT "id, email, name, role, plan_id, password_hash, created_at, updated_at"
#define USER_COLS                                                                                  \
    "u.id, u.email, u.name, u.role, p.code AS plan, u.created_at, u.updated_at, u.plan_id"

static db_sql Q_USER_INSERT = DB_SQL("INSERT INTO users (" USER_INSERT ") "
                                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
static db_sql Q_USER_LOGIN =
    DB_SQL("SELECT " USER_INSERT " FROM users WHERE lower(email) = lower($1)");
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
    DB_SQL("UPDATE users SET name = $2, role = $3, plan_id = $4, updated_at = $5 WHERE id = $1");
static db_sql Q_OTHER_ADMINS =
    DB_SQL("SELECT COUNT(*) FROM users WHERE role = 'admin' AND id <> $1");
static db_sql Q_USER_REHASH = DB_SQL("UPDATE users SET password_hash = $3, updated_at = $4 "
                                     "WHERE id = $1 AND password_hash = $2");

static int user__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&user_row, s, a, out, err);
}

int user_store_insert(db_conn *c, user *u, const char *password_hash, error *err)
{
    uuid_v7(u->id);
    u->created_at = u->updated_at = time_now_usec();
    user row = *u;
    row.password_hash = password_hash;
    row_argv av;
    return db_write(c, &Q_USER_INSERT, row_args(&user_row, &row, USER_INSERT, NULL, &av), "email",
                    err) < 0
               ? -1
               : 0;
}

int user_store_find_login(db_conn *c, arena *a, const char *email, user *u, error *err)
{
    return db_one(c, &Q_USER_LOGIN, DB_ARGS(DB_TEXT(email)), user__row, a, u, err, "email",
                  "no user with that email");
}

int user_store_replace_password_hash(db_conn *c, const char *user_id, const char *old_hash,
                                     const char *new_hash, bool *replaced, error *err)
{
    int64_t n = db_write(
        c, &Q_USER_REHASH,
        DB_ARGS(DB_TEXT(user_id), DB_TEXT(old_hash), DB_TEXT(new_hash), DB_TIME(time_now_usec())),
        NULL, err);
    if (n < 0)
        return -1;
    *replaced = n == 1;
    return 0;
}

int user_store_admin_list(db_conn *c, arena *a, const char *email_like, const char *cursor,
                          int limit, user **out, size_t *n, error *err)
{
    return db_list(c, &Q_USER_LIST, DB_ARGS(DB_TEXT(email_like), DB_TEXT(cursor), DB_INT(limit)),
                   user__row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
}

int user_store_admin_get(db_conn *c, arena *a, const char *id, user *out, error *err)
{
    return db_one(c, &Q_USER_GET, DB_ARGS(DB_TEXT(id)), user__row, a, out, err, NULL,
                  "no user with id '%s'", id);
}

int user_store_admin_count_others(db_conn *c, const char *id, int64_t *n, error *err)
{
    return db_int64(c, &Q_OTHER_ADMINS, DB_ARGS(DB_TEXT(id)), n, err);
}

int user_store_admin_update(db_conn *c, const user *u, error *err)
{
    row_argv av;
    int64_t changed = db_write(
        c, &Q_USER_UPDATE, row_args(&user_row, u, "id, name, role, plan_id, updated_at", NULL, &av),
        NULL, err);
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no user with id '%s'", u->id);
    return 0;
}
