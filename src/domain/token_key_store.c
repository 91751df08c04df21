#include "domain/token_key_store.h"

static db_sql Q_KEY_CURRENT =
    DB_SQL("SELECT version, key_check FROM token_keys ORDER BY version DESC LIMIT 1");
static db_sql Q_KEY_CHECK = DB_SQL("SELECT key_check FROM token_keys WHERE version = $1");
static db_sql Q_KEY_INSERT = DB_SQL("INSERT INTO token_keys (version, key_check, created_at) "
                                    "VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING");

typedef struct token_key__current {
    int *version;
    char *check;
} token_key__current;

static int token_key__check_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    return db_col_copy(s, 0, out, 65) != 0 ? db_col_too_long(err, "token key check") : 0;
}

static int token_key__current_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    token_key__current *cur = out;
    *cur->version = (int)db_col_int64(s, 0);
    return db_col_copy(s, 1, cur->check, 65) != 0 ? db_col_too_long(err, "token key check") : 0;
}

int token_key_store_current(db_conn *c, int *version, char check[65], error *err)
{
    *version = 0;
    check[0] = '\0';
    token_key__current cur = {version, check};
    return db_first(c, &Q_KEY_CURRENT, DB_NOARGS, token_key__current_row, NULL, &cur, err) < 0 ? -1
                                                                                               : 0;
}

int token_key_store_check(db_conn *c, int version, char check[65], error *err)
{
    return db_one(c, &Q_KEY_CHECK, DB_ARGS(DB_INT(version)), token_key__check_row, NULL, check, err,
                  NULL, "there is no token key version %d", version);
}

int token_key_store_insert(db_conn *c, int version, const char *check, int64_t now, bool *created,
                           error *err)
{
    int64_t n = db_write(c, &Q_KEY_INSERT, DB_ARGS(DB_INT(version), DB_TEXT(check), DB_TIME(now)),
                         NULL, err);
    *created = n == 1;
    return n < 0 ? -1 : 0;
}
