#include "domain/token_key_store.h"

static db_sql Q_KEY_CURRENT =
    DB_SQL("SELECT version, key_check FROM token_keys ORDER BY version DESC LIMIT 1");
static db_sql Q_KEY_CHECK = DB_SQL("SELECT key_check FROM token_keys WHERE version = $1");
static db_sql Q_KEY_INSERT = DB_SQL("INSERT INTO token_keys (version, key_check, created_at) "
                                    "VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING");

int token_key_store_current(db_conn *c, int *version, char check[65], error *err)
{
    *version = 0;
    check[0] = '\0';
    db_error de;
    db_stmt *s = db_prepare(c, &Q_KEY_CURRENT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    int rc = db_step(s, &de);
    int bad = 0;
    if (rc == DB_ROW) {
        *version = (int)db_col_int64(s, 0);
        bad = db_col_copy(s, 1, check, 65);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "token key check") : 0;
}

int token_key_store_check(db_conn *c, int version, char check[65], error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_KEY_CHECK, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_int64(s, 1, version);
    int rc = db_step(s, &de);
    int bad = rc == DB_ROW ? db_col_copy(s, 0, check, 65) : 0;
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "token key check");
    if (rc == DB_DONE)
        return error_set(err, ERR_NOT_FOUND, NULL, "there is no token key version %d", version);
    return 0;
}

int token_key_store_insert(db_conn *c, int version, const char *check, int64_t now, bool *created,
                           error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_KEY_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_int64(s, 1, version);
    db_bind_text(s, 2, check);
    db_bind_time(s, 3, now);
    int rc = db_exec(s, &de);
    *created = rc == 0 && db_changes(s) == 1;
    db_reset(s);
    return rc != 0 ? db_to_error(err, &de, NULL) : 0;
}
