#include "domain/rate_limit_store.h"

#include "domain/limits.h"
#include "domain/row.h"

/* One bucket's hits in one window (window_start: the window's index). */
typedef struct rate_limit_row {
    const char *bucket;
    int64_t window_start;
    int64_t hits;
} rate_limit_row;

static const row_col rate_limit__cols[] = {
    ROW_COL(rate_limit_row, bucket, ROW_TEXT, 0, 0, RATE_LIMIT_BUCKET_MAX),
    ROW_COL(rate_limit_row, window_start, ROW_INT64, 0, 0, 0),
    ROW_COL(rate_limit_row, hits, ROW_INT64, 0, 0, 0),
};
static const row_spec rate_limit__row_spec =
    ROW_SPEC(rate_limit_row, "rate limit", rate_limit__cols);

static db_sql Q_RL_HIT =
    DB_SQL("INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) "
           "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
           "RETURNING hits");
static db_sql Q_RL_PRUNE = DB_SQL("DELETE FROM rate_limits WHERE window_start < $1");

int rate_limit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err)
{
    rate_limit_row r = {.bucket = bucket, .window_start = window};
    row_argv av;
    int64_t n;
    if (db_int64(c, &Q_RL_HIT,
                 row_args(&rate_limit__row_spec, &r, "bucket, window_start", NULL, &av), &n,
                 err) != 0)
        return -1;
    *hits = (int)n;
    return 0;
}

int rate_limit_store_prune(db_conn *c, int64_t before, error *err)
{
    return db_write(c, &Q_RL_PRUNE, DB_ARGS(DB_INT(before)), NULL, err) < 0 ? -1 : 0;
}
