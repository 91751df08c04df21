#include "domain/plan_store.h"

#include "base/timeutil.h"

#include <string.h>

/* The columns in the order the API writes them. Only admins reach the
 * endpoints that write plans; the code is fixed once created. */
static const row_col plan__cols[] = {
    ROW_COL(plan, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(plan, code, ROW_TEXT, ROW_CREATE | ROW_REQUIRED | ROW_ADMIN, 1, PLAN_CODE_MAX),
    ROW_COL(plan, name, ROW_TEXT, ROW_WRITE | ROW_REQUIRED | ROW_ADMIN, 1, PLAN_NAME_MAX),
    ROW_COL(plan, rank, ROW_INT, ROW_WRITE | ROW_REQUIRED | ROW_ADMIN, 0, PLAN_RANK_MAX),
    ROW_COL(plan, max_channels, ROW_INT, ROW_WRITE | ROW_NULLABLE | ROW_ADMIN, 0,
            PLAN_CHANNELS_MAX),
    ROW_COL(plan, max_projects_per_month, ROW_INT, ROW_WRITE | ROW_NULLABLE | ROW_ADMIN, 0,
            PLAN_MONTHLY_MAX),
    ROW_COL(plan, max_generations_per_month, ROW_INT, ROW_WRITE | ROW_NULLABLE | ROW_ADMIN, 0,
            PLAN_MONTHLY_MAX),
    ROW_COL(plan, default_persona_id, ROW_UUID, ROW_WRITE | ROW_NULLABLE | ROW_ADMIN, 0, 0),
    ROW_COL(plan, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(plan, updated_at, ROW_TIME, 0, 0, 0),
};
const row_spec plan_row = ROW_SPEC(plan, "plan", plan__cols);

#define PLAN_COLS                                                                                  \
    "id, code, name, rank, max_channels, max_projects_per_month, max_generations_per_month, "      \
    "default_persona_id, created_at, updated_at"
#define PLAN_UPDATE                                                                                \
    "id, name, rank, max_channels, max_projects_per_month, max_generations_per_month, "            \
    "default_persona_id, updated_at"

static db_sql Q_PLAN_LIST = DB_SQL("SELECT " PLAN_COLS " FROM plans ORDER BY rank");
static db_sql Q_PLAN_GET = DB_SQL("SELECT " PLAN_COLS " FROM plans WHERE id = $1");
static db_sql Q_PLAN_INSERT =
    DB_SQL("INSERT INTO plans (" PLAN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
static db_sql Q_PLAN_UPDATE = DB_SQL("UPDATE plans SET name = $2, rank = $3, max_channels = $4, "
                                     "max_projects_per_month = $5, max_generations_per_month = $6, "
                                     "default_persona_id = $7, updated_at = $8 WHERE id = $1");
static db_sql Q_PERSONA_SYSTEM =
    DB_SQL("SELECT COUNT(*) FROM personas WHERE id = $1 AND type = 'SYSTEM'");
static db_sql Q_PLAN_BY_CODE = DB_SQL("SELECT id FROM plans WHERE code = $1");
static db_sql Q_PLAN_LOWEST = DB_SQL("SELECT id FROM plans ORDER BY rank LIMIT 1");
static db_sql Q_PLAN_RANK = DB_SQL("SELECT rank FROM plans WHERE code = $1");
static db_sql Q_PLAN_DEFAULT = DB_SQL("SELECT default_persona_id FROM plans WHERE id = $1");
static db_sql Q_USER_PLAN = DB_SQL(
    "SELECT pl.code, pl.rank FROM users u JOIN plans pl ON pl.id = u.plan_id WHERE u.id = $1");

static int plan__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&plan_row, s, a, out, err);
}

int plan_store_list(db_conn *c, arena *a, plan **out, size_t *n, error *err)
{
    return db_list(c, &Q_PLAN_LIST, DB_NOARGS, plan__row, a, sizeof(**out), 8, out, n, err);
}

int plan_store_get(db_conn *c, arena *a, const char *id, plan *out, error *err)
{
    return db_one(c, &Q_PLAN_GET, DB_ARGS(DB_TEXT(id)), plan__row, a, out, err, NULL,
                  "no plan with id '%s'", id);
}

int plan_store_check_default_persona(db_conn *c, const char *persona_id, error *err)
{
    int64_t n = 0;
    if (db_int64(c, &Q_PERSONA_SYSTEM, DB_ARGS(DB_TEXT(persona_id)), &n, err) != 0)
        return -1;
    if (n == 0)
        return error_set(err, ERR_INVALID, "default_persona_id",
                         "a plan's default persona must be an existing SYSTEM persona");
    return 0;
}

/* A write whose unique violation is named by unique_field (and only that
 * fault: a check or foreign key one names no field). */
static int64_t plan__write(db_conn *c, db_sql *q, db_args args, const char *unique_field,
                           error *err)
{
    int64_t changed = db_write(c, q, args, NULL, err);
    if (changed < 0 && db_last_fault(c) == DB_FAULT_UNIQUE)
        error_set(err, ERR_CONFLICT, unique_field, "%s is already taken", unique_field);
    return changed;
}

int plan_store_insert(db_conn *c, plan *pl, error *err)
{
    uuid_v7(pl->id);
    pl->created_at = pl->updated_at = time_now_usec();
    row_argv av;
    return plan__write(c, &Q_PLAN_INSERT, row_args(&plan_row, pl, PLAN_COLS, NULL, &av),
                       "code or rank", err) < 0
               ? -1
               : 0;
}

int plan_store_update(db_conn *c, const plan *pl, error *err)
{
    row_argv av;
    int64_t changed = plan__write(c, &Q_PLAN_UPDATE,
                                  row_args(&plan_row, pl, PLAN_UPDATE, NULL, &av), "rank", err);
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no plan with id '%s'", pl->id);
    return 0;
}

/* Reads a plan's id (a ROW_CHARS column: no arena needed) into out. */
static int plan__id_row(db_stmt *s, arena *a, void *out, error *err)
{
    plan pl;
    if (row_read(&plan_row, s, a, &pl, err) != 0)
        return -1;
    memcpy(out, pl.id, sizeof(pl.id));
    return 0;
}

int plan_store_id_by_code(db_conn *c, const char *code, char id[UUID_STR_LEN + 1], error *err)
{
    return db_one(c, &Q_PLAN_BY_CODE, DB_ARGS(DB_TEXT(code)), plan__id_row, NULL, id, err, "plan",
                  "there is no plan '%s'", code);
}

int plan_store_rank_by_code(db_conn *c, const char *code, int *rank, error *err)
{
    int64_t r = 0;
    if (db_one(c, &Q_PLAN_RANK, DB_ARGS(DB_TEXT(code)), db_row_int64, NULL, &r, err, "plan",
               "there is no plan '%s'", code) != 0)
        return -1;
    *rank = (int)r;
    return 0;
}

int plan_store_lowest(db_conn *c, char id[UUID_STR_LEN + 1], error *err)
{
    return db_one(c, &Q_PLAN_LOWEST, DB_NOARGS, plan__id_row, NULL, id, err, "plan",
                  "there is no plan at all");
}

/* The few columns read for callers that keep them in their own buffers
 * (a principal's plan code, a persona id), so no arena is needed. */
typedef struct plan__brief {
    char code[UTF8_BUF(PLAN_CODE_MAX)];
    int rank;
    char default_persona_id[UUID_STR_LEN + 1];
} plan__brief;

static const row_col plan__brief_cols[] = {
    ROW_COL(plan__brief, code, ROW_CHARS, 0, 0, 0),
    ROW_COL(plan__brief, rank, ROW_INT, 0, 0, 0),
    ROW_COL(plan__brief, default_persona_id, ROW_CHARS, ROW_NULLABLE, 0, 0),
};
static const row_spec plan__brief_row = ROW_SPEC(plan__brief, "plan", plan__brief_cols);

static int plan__brief_read(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&plan__brief_row, s, a, out, err);
}

int plan_store_default_persona(db_conn *c, const char *plan_id, char id_out[UUID_STR_LEN + 1],
                               error *err)
{
    plan__brief b;
    id_out[0] = '\0';
    if (db_one(c, &Q_PLAN_DEFAULT, DB_ARGS(DB_TEXT(plan_id)), plan__brief_read, NULL, &b, err,
               "plan", "your plan no longer exists; ask an admin") != 0)
        return -1;
    memcpy(id_out, b.default_persona_id, sizeof(b.default_persona_id));
    return 0;
}

int plan_store_of_user(db_conn *c, const char *user_id, char code_out[UTF8_BUF(PLAN_CODE_MAX)],
                       int *rank_out, error *err)
{
    plan__brief b;
    if (db_one(c, &Q_USER_PLAN, DB_ARGS(DB_TEXT(user_id)), plan__brief_read, NULL, &b, err, "user",
               "no user with id %s", user_id) != 0)
        return -1;
    memcpy(code_out, b.code, sizeof(b.code));
    *rank_out = b.rank;
    return 0;
}
