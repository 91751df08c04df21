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
    return db_int64(c, &Q_COUNT_GENERATION,
                    DB_ARGS(DB_TEXT(user_id), DB_TIME(month_start), DB_INT(n)), used, err);
}

int usage_store_generations(db_conn *c, const char *user_id, int64_t month_start, int64_t *used,
                            error *err)
{
    return db_int64(c, &Q_GENERATIONS, DB_ARGS(DB_TEXT(user_id), DB_TIME(month_start)), used, err);
}

int usage_store_insert(db_conn *c, const usage_row *r, error *err)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    db_args args = DB_ARGS(
        DB_TEXT(id), DB_TEXT(r->persona_id), DB_TEXT(r->user_id), DB_TEXT(r->project_id),
        DB_TEXT(r->action), DB_BOOL(r->success), DB_INT(r->duration_ms > 0 ? r->duration_ms : 0),
        DB_INT(r->tokens_in > 0 ? r->tokens_in : 0), DB_INT(r->tokens_out > 0 ? r->tokens_out : 0),
        DB_TEXT(r->provider), DB_TEXT(r->model), DB_TEXT(r->error_code),
        DB_TIME(r->created_at ? r->created_at : time_now_usec()));
    return db_write(c, &Q_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

/* $1 … $4 of every query here (USAGE_WHERE). */
#define USAGE_ARGS(persona_id, user_id, since, until)                                              \
    DB_TEXT(persona_id), DB_TEXT(user_id), DB_TIME(since), DB_TIME(until)

/* The duration at 0-based rank of the attempts in action (NULL: all). */
static int usage__rank(db_conn *c, const char *persona_id, const char *user_id, int64_t since,
                       int64_t until, const char *action, int64_t rank, int64_t *out, error *err)
{
    return db_int64(
        c, &Q_RANK,
        DB_ARGS(USAGE_ARGS(persona_id, user_id, since, until), DB_TEXT(action), DB_INT(rank)), out,
        err);
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

static int usage__action_row(db_stmt *s, arena *a, void *arg, error *err)
{
    (void)a;
    usage_summary *out = arg;
    if (out->nactions == USAGE_MAX_ACTIONS)
        return 0; /* actions are a closed set far smaller than this */
    usage_stats *st = &out->by_action[out->nactions++];
    int bad = DB_COL_COPY(s, 0, st->action);
    st->attempts = db_col_int64(s, 1);
    st->successes = db_col_int64(s, 2);
    st->tokens_in = db_col_int64(s, 3);
    st->tokens_out = db_col_int64(s, 4);
    out->total.attempts += st->attempts;
    out->total.successes += st->successes;
    out->total.tokens_in += st->tokens_in;
    out->total.tokens_out += st->tokens_out;
    return bad ? db_col_too_long(err, "usage action") : 0;
}

static int usage__error_row(db_stmt *s, arena *a, void *arg, error *err)
{
    (void)a;
    usage_summary *out = arg;
    if (out->nerrors == USAGE_MAX_ERRORS)
        return 0; /* the query's LIMIT is this */
    usage_error_count *e = &out->errors[out->nerrors++];
    int bad = DB_COL_COPY(s, 0, e->error_code);
    e->count = db_col_int64(s, 1);
    return bad ? db_col_too_long(err, "usage error code") : 0;
}

int usage_store_summary(db_conn *c, const char *persona_id, const char *user_id, int64_t since,
                        int64_t until, usage_summary *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (db_each(c, &Q_BY_ACTION, DB_ARGS(USAGE_ARGS(persona_id, user_id, since, until)),
                usage__action_row, NULL, out, err) != 0)
        return -1;
    for (size_t i = 0; i < out->nactions; i++)
        if (usage__percentiles(c, persona_id, user_id, since, until, &out->by_action[i], err) != 0)
            return -1;
    if (usage__percentiles(c, persona_id, user_id, since, until, &out->total, err) != 0)
        return -1;
    return db_each(c, &Q_ERRORS, DB_ARGS(USAGE_ARGS(persona_id, user_id, since, until)),
                   usage__error_row, NULL, out, err);
}
