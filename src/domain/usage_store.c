#include "domain/usage_store.h"

#include "base/timeutil.h"
#include "base/uuid.h"

#include <stdio.h>
#include <string.h>

static db_sql Q_INSERT =
    DB_SQL("INSERT INTO persona_usage_logs (id, persona_id, user_id, project_id, action, success, "
           "duration_ms, tokens_in, tokens_out, provider, model, error_code, created_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");

/* $1 persona, $2 user or NULL, $3 since, $4 until. PostgreSQL cannot type a
 * parameter from "$n IS NULL" alone; its texts cast. */
#define USAGE_WHERE(uuid_cast)                                                                     \
    " FROM persona_usage_logs WHERE persona_id = $1 AND ($2" uuid_cast " IS NULL OR user_id = "    \
    "$2" uuid_cast ") AND created_at >= $3 AND created_at < $4"
#define USAGE_SQL(head, tail) DB_SQL2(head USAGE_WHERE("") tail, head USAGE_WHERE("::uuid") tail)

static db_sql Q_BY_ACTION = USAGE_SQL(
    "SELECT action, count(*), sum(CASE WHEN success THEN 1 ELSE 0 END), "
    "CAST(coalesce(sum(tokens_in), 0) AS BIGINT), CAST(coalesce(sum(tokens_out), 0) AS BIGINT)",
    " GROUP BY action ORDER BY action");
/* Nearest-rank percentile: the duration at 0-based rank $6, in one action
 * ($5) or all of them ($5 NULL). */
static db_sql Q_RANK =
    DB_SQL2("SELECT duration_ms" USAGE_WHERE(
                "") " AND ($5 IS NULL OR action = $5) ORDER BY duration_ms LIMIT 1 "
                    "OFFSET $6",
            "SELECT duration_ms" USAGE_WHERE(
                "::uuid") " AND ($5::text IS NULL OR action = $5::text) ORDER BY duration_ms "
                          "LIMIT 1 OFFSET $6");
static db_sql Q_ERRORS =
    USAGE_SQL("SELECT coalesce(error_code, 'unknown'), count(*)",
              " AND NOT success GROUP BY coalesce(error_code, 'unknown') ORDER BY 2 DESC, 1 "
              "LIMIT 20");

/* One statement raises the month's counter and returns it: PostgreSQL
 * holds the row's lock until commit, so a concurrent request waits and then
 * reads the raised count; SQLite serializes writers anyway. */
static db_sql Q_COUNT_GENERATION =
    DB_SQL("INSERT INTO generation_counts (user_id, month_start, used) VALUES ($1, $2, $3) "
           "ON CONFLICT (user_id, month_start) DO UPDATE SET used = generation_counts.used + $3 "
           "RETURNING used");
static db_sql Q_GENERATIONS =
    DB_SQL("SELECT used FROM generation_counts WHERE user_id = $1 AND month_start = $2");

int usage_store_count_generation(db_conn *c, const char *user_id, int64_t month_start, int n,
                                 int64_t *used, error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_COUNT_GENERATION, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_time(s, 2, month_start);
    db_bind_int64(s, 3, n);
    int rc = db_step(s, &de);
    *used = rc == DB_ROW ? db_col_int64(s, 0) : 0;
    db_reset(s);
    return rc == DB_ROW ? 0 : db_to_error(err, &de, NULL);
}

int usage_store_generations(db_conn *c, const char *user_id, int64_t month_start, int64_t *used,
                            error *err)
{
    db_error de;
    db_stmt *s = db_prepare(c, &Q_GENERATIONS, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, user_id);
    db_bind_time(s, 2, month_start);
    int rc = db_step(s, &de);
    *used = rc == DB_ROW ? db_col_int64(s, 0) : 0;
    db_reset(s);
    return rc == DB_ERR ? db_to_error(err, &de, NULL) : 0;
}

int usage_store_insert(db_conn *c, const usage_row *r, error *err)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    db_error de;
    db_stmt *s = db_prepare(c, &Q_INSERT, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, r->persona_id);
    db_bind_text(s, 3, r->user_id);
    db_bind_text(s, 4, r->project_id);
    db_bind_text(s, 5, r->action);
    db_bind_bool(s, 6, r->success);
    db_bind_int64(s, 7, r->duration_ms > 0 ? r->duration_ms : 0);
    db_bind_int64(s, 8, r->tokens_in > 0 ? r->tokens_in : 0);
    db_bind_int64(s, 9, r->tokens_out > 0 ? r->tokens_out : 0);
    db_bind_text(s, 10, r->provider);
    db_bind_text(s, 11, r->model);
    db_bind_text(s, 12, r->error_code);
    db_bind_time(s, 13, r->created_at ? r->created_at : time_now_usec());
    return db_run(s, NULL, err, NULL);
}

static void usage__bind_where(db_stmt *s, const char *persona_id, const char *user_id,
                              int64_t since, int64_t until)
{
    db_bind_text(s, 1, persona_id);
    db_bind_text(s, 2, user_id);
    db_bind_time(s, 3, since);
    db_bind_time(s, 4, until);
}

/* The duration at 0-based rank of the attempts in action (NULL: all). */
static int usage__rank(db_conn *c, const char *persona_id, const char *user_id, int64_t since,
                       int64_t until, const char *action, int64_t rank, int64_t *out, error *err)
{
    *out = 0;
    db_error de;
    db_stmt *s = db_prepare(c, &Q_RANK, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    usage__bind_where(s, persona_id, user_id, since, until);
    db_bind_text(s, 5, action);
    db_bind_int64(s, 6, rank);
    int rc = db_step(s, &de);
    if (rc == DB_ROW)
        *out = db_col_int64(s, 0);
    db_reset(s);
    return rc == DB_ERR ? db_to_error(err, &de, NULL) : 0;
}

/* Nearest rank: the smallest value with at least p percent of values at or
 * below it, i.e. 0-based rank ceil(p * n / 100) - 1. */
static int64_t usage__nearest_rank(int64_t n, int p)
{
    int64_t r = (p * n + 99) / 100 - 1;
    return r < 0 ? 0 : r;
}

static int usage__percentiles(db_conn *c, const char *persona_id, const char *user_id,
                              int64_t since, int64_t until, usage_stats *st, error *err)
{
    if (st->attempts == 0)
        return 0;
    const char *action = st->action[0] ? st->action : NULL;
    if (usage__rank(c, persona_id, user_id, since, until, action,
                    usage__nearest_rank(st->attempts, 50), &st->p50_ms, err) != 0)
        return -1;
    return usage__rank(c, persona_id, user_id, since, until, action,
                       usage__nearest_rank(st->attempts, 95), &st->p95_ms, err);
}

int usage_store_summary(db_conn *c, const char *persona_id, const char *user_id, int64_t since,
                        int64_t until, usage_summary *out, error *err)
{
    memset(out, 0, sizeof(*out));
    db_error de;
    db_stmt *s = db_prepare(c, &Q_BY_ACTION, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    usage__bind_where(s, persona_id, user_id, since, until);
    int rc, bad = 0;
    while ((rc = db_step(s, &de)) == DB_ROW) {
        if (out->nactions == USAGE_MAX_ACTIONS)
            continue; /* actions are a closed set far smaller than this */
        usage_stats *st = &out->by_action[out->nactions++];
        bad |= DB_COL_COPY(s, 0, st->action);
        st->attempts = db_col_int64(s, 1);
        st->successes = db_col_int64(s, 2);
        st->tokens_in = db_col_int64(s, 3);
        st->tokens_out = db_col_int64(s, 4);
        out->total.attempts += st->attempts;
        out->total.successes += st->successes;
        out->total.tokens_in += st->tokens_in;
        out->total.tokens_out += st->tokens_out;
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    if (bad)
        return db_col_too_long(err, "usage action");
    for (size_t i = 0; i < out->nactions; i++)
        if (usage__percentiles(c, persona_id, user_id, since, until, &out->by_action[i], err) != 0)
            return -1;
    if (usage__percentiles(c, persona_id, user_id, since, until, &out->total, err) != 0)
        return -1;

    s = db_prepare(c, &Q_ERRORS, &de);
    if (s == NULL)
        return db_to_error(err, &de, NULL);
    usage__bind_where(s, persona_id, user_id, since, until);
    while ((rc = db_step(s, &de)) == DB_ROW && out->nerrors < USAGE_MAX_ERRORS) {
        usage_error_count *e = &out->errors[out->nerrors++];
        bad |= DB_COL_COPY(s, 0, e->error_code);
        e->count = db_col_int64(s, 1);
    }
    db_reset(s);
    if (rc == DB_ERR)
        return db_to_error(err, &de, NULL);
    return bad ? db_col_too_long(err, "usage error code") : 0;
}
