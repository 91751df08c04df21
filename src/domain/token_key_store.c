#include "domain/token_key_store.h"

#include "domain/row.h"

#include <stdio.h>

/* One version of the key, as stored. */
typedef struct token_key {
    int version;
    char key_check[65]; /* hex */
    int64_t created_at;
} token_key;

static const row_col token_key__cols[] = {
    ROW_COL(token_key, version, ROW_INT, 0, 0, 0),
    ROW_COL(token_key, key_check, ROW_CHARS, 0, 0, 0),
    ROW_COL(token_key, created_at, ROW_TIME, 0, 0, 0),
};
static const row_spec token_key__row_spec = ROW_SPEC(token_key, "token key", token_key__cols);

#define KEY_COLS "version, key_check, created_at"

static db_sql Q_KEY_CURRENT =
    DB_SQL("SELECT " KEY_COLS " FROM token_keys ORDER BY version DESC LIMIT 1");
static db_sql Q_KEY_CHECK = DB_SQL("SELECT " KEY_COLS " FROM token_keys WHERE version = $1");
static db_sql Q_KEY_INSERT = DB_SQL("INSERT INTO token_keys (" KEY_COLS ") "
                                    "VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING");

static int token_key__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&token_key__row_spec, s, a, out, err);
}

int token_key_store_current(db_conn *c, int *version, char check[65], error *err)
{
    *version = 0;
    check[0] = '\0';
    token_key k = {0};
    if (db_first(c, &Q_KEY_CURRENT, DB_NOARGS, token_key__row, NULL, &k, err) < 0)
        return -1;
    *version = k.version;
    snprintf(check, 65, "%s", k.key_check);
    return 0;
}

int token_key_store_check(db_conn *c, int version, char check[65], error *err)
{
    token_key k;
    if (db_one(c, &Q_KEY_CHECK, DB_ARGS(DB_INT(version)), token_key__row, NULL, &k, err, NULL,
               "there is no token key version %d", version) != 0)
        return -1;
    snprintf(check, 65, "%s", k.key_check);
    return 0;
}

int token_key_store_insert(db_conn *c, int version, const char *check, int64_t now, bool *created,
                           error *err)
{
    token_key k = {.version = version, .created_at = now};
    snprintf(k.key_check, sizeof(k.key_check), "%s", check);
    row_argv av;
    int64_t n = db_write(c, &Q_KEY_INSERT, row_args(&token_key__row_spec, &k, KEY_COLS, NULL, &av),
                         NULL, err);
    *created = n == 1;
    return n < 0 ? -1 : 0;
}
