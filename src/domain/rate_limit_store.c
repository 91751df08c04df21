#include "domain/rate_limit_store.h"

static db_sql Q_RL_HIT =
    DB_SQL("INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) "
           "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
           "RETURNING hits");
static db_sql Q_RL_PRUNE = DB_SQL("DELETE FROM rate_limits WHERE window_start < $1");

int rate_limit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err)
{
    int64_t n;
    if (db_int64(c, &Q_RL_HIT, DB_ARGS(DB_TEXT(bucket), DB_INT(window)), &n, err) != 0)
        return -1;
    *hits = (int)n;
    return 0;
}

int rate_limit_store_prune(db_conn *c, int64_t before, error *err)
{
    return db_write(c, &Q_RL_PRUNE, DB_ARGS(DB_INT(before)), NULL, err) < 0 ? -1 : 0;
}
