#include "domain/rate_limit_store.h"

static db_sql Q_RL_HIT =
    DB_SQL("INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) "
           "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
           "RETURNING hits");
static db_sql Q_RL_PRUNE = DB_SQL("DELETE FROM rate_limits WHERE window_start < $1");

#define PREPARE(s, c, q, err)                                                                      \
    db_error de_;                                                                                  \
    db_stmt *s = db_prepare(c, q, &de_);                                                           \
    if (s == NULL)                                                                                 \
    return db_to_error(err, &de_, NULL)

int rate_limit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err)
{
    PREPARE(s, c, &Q_RL_HIT, err);
    db_bind_text(s, 1, bucket);
    db_bind_int64(s, 2, window);
    db_error de;
    int rc = db_step(s, &de);
    if (rc == DB_ROW)
        *hits = (int)db_col_int64(s, 0);
    db_reset(s);
    if (rc != DB_ROW)
        return db_to_error(err, &de, NULL);
    return 0;
}

int rate_limit_store_prune(db_conn *c, int64_t before, error *err)
{
    PREPARE(s, c, &Q_RL_PRUNE, err);
    db_bind_int64(s, 1, before);
    return db_run(s, NULL, err, NULL);
}
