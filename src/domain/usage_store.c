#include "domain/usage_store.h"

#include "base/timeutil.h"

#include <string.h>

/* A log row is written once, by the generation worker, and never shown
 * whole: the report aggregates it. */
static const row_col usage__log_cols[] = {
    ROW_COL(usage_row, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(usage_row, persona_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(usage_row, user_id, ROW_UUID, 0, 0, 0),
    ROW_COL(usage_row, project_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(usage_row, action, ROW_TEXT, 0, 1, USAGE_ACTION_MAX),
    ROW_COL(usage_row, success, ROW_BOOL, 0, 0, 0),
    ROW_COL(usage_row, duration_ms, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_row, tokens_in, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_row, tokens_out, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_row, provider, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(usage_row, model, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(usage_row, error_code, ROW_TEXT, ROW_NULLABLE, 0, 0),
    ROW_COL(usage_row, created_at, ROW_TIME, 0, 0, 0),
};
static const row_spec usage__log_row = ROW_SPEC(usage_row, "usage log", usage__log_cols);

static const row_col usage__stats_cols[] = {
    ROW_COL(usage_stats, action, ROW_TEXT, ROW_PRIVATE, 0, 0),
    ROW_COL(usage_stats, attempts, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_stats, successes, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_stats, tokens_in, ROW_INT64, 0, 0, 0),
    ROW_COL(usage_stats, tokens_out, ROW_INT64, 0, 0, 0),
};
const row_spec usage_stats_row = ROW_SPEC(usage_stats, "usage", usage__stats_cols);

static const row_col usage__error_cols[] = {
    ROW_COL(usage_error_count, error_code, ROW_TEXT, 0, 0, 0),
    ROW_COL(usage_error_count, count, ROW_INT64, 0, 0, 0),
};
const row_spec usage_error_row = ROW_SPEC(usage_error_count, "usage error", usage__error_cols);

#define USAGE_INSERT                                                                               \
    "id, persona_id, user_id, project_id, action, success, duration_ms, tokens_in, tokens_out, "   \
    "provider, model, error_code, created_at"
static db_sql Q_INSERT = DB_SQL("INSERT INTO persona_usage_logs (" USAGE_INSERT ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");

/* $1 persona, $2 user or NULL, $3 since, $4 until. PostgreSQL cannot type a
 * parameter from "$n IS NULL" alone; its texts cast. */
#define USAGE_WHERE(uuid_cast)                                                                     \
    " FROM persona_usage_logs WHERE persona_id = $1 AND ($2" uuid_cast " IS NULL OR user_id = "    \
    "$2" uuid_cast ") AND created_at >= $3 AND created_at < $4"
#define USAGE_SQL(head, tail) DB_SQL2(head USAGE_WHERE("") tail, head USAGE_WHERE("::uuid") tail)

static db_sql Q_BY_ACTION = USAGE_SQL("SELECT action, count(*) AS attempts, "
                                      "sum(CASE WHEN success THEN 1 ELSE 0 END) AS successes, "
                                      "CAST(coalesce(sum(tokens_in), 0) AS BIGINT) AS tokens_in, "
                                      "CAST(coalesce(sum(tokens_out), 0) AS BIGINT) AS tokens_out",
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
    USAGE_SQL("SELECT coalesce(error_code, 'unknown') AS error_code, count(*) AS count",
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

/* A count the provider did not report (or a clock that went back) is 0,
 * as the schema's CHECKs want. */
static int64_t usage__count(int64_t v)
{
    return v > 0 ? v : 0;
}

int usage_store_insert(db_conn *c, const usage_row *r, error *err)
{
    usage_row at = *r;
    uuid_v7(at.id);
    at.duration_ms = usage__count(at.duration_ms);
    at.tokens_in = usage__count(at.tokens_in);
    at.tokens_out = usage__count(at.tokens_out);
    if (at.created_at == 0)
        at.created_at = time_now_usec();
    row_argv av;
    return db_write(c, &Q_INSERT, row_args(&usage__log_row, &at, USAGE_INSERT, NULL, &av), NULL,
                    err) < 0
               ? -1
               : 0;
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
    const char *action = st->action;
    if (usage__rank(c, persona_id, user_id, since, until, action,
                    usage__nearest_rank(st->attempts, 50), &st->p50_ms, err) != 0)
        return -1;
    return usage__rank(c, persona_id, user_id, since, until, action,
                       usage__nearest_rank(st->attempts, 95), &st->p95_ms, err);
}

static int usage__action_row(db_stmt *s, arena *a, void *arg, error *err)
{
    usage_summary *out = arg;
    if (out->nactions == USAGE_MAX_ACTIONS)
        return 0; /* actions are a closed set far smaller than this */
    usage_stats *st = &out->by_action[out->nactions++];
    if (row_read(&usage_stats_row, s, a, st, err) != 0)
        return -1;
    out->total.attempts += st->attempts;
    out->total.successes += st->successes;
    out->total.tokens_in += st->tokens_in;
    out->total.tokens_out += st->tokens_out;
    return 0;
}

static int usage__error_row(db_stmt *s, arena *a, void *arg, error *err)
{
    usage_summary *out = arg;
    if (out->nerrors == USAGE_MAX_ERRORS)
        return 0; /* the query's LIMIT is this */
    return row_read(&usage_error_row, s, a, &out->errors[out->nerrors++], err);
}

int usage_store_summary(db_conn *c, arena *a, const char *persona_id, const char *user_id,
                        int64_t since, int64_t until, usage_summary *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (db_each(c, &Q_BY_ACTION, DB_ARGS(USAGE_ARGS(persona_id, user_id, since, until)),
                usage__action_row, a, out, err) != 0)
        return -1;
    for (size_t i = 0; i < out->nactions; i++)
        if (usage__percentiles(c, persona_id, user_id, since, until, &out->by_action[i], err) != 0)
            return -1;
    if (usage__percentiles(c, persona_id, user_id, since, until, &out->total, err) != 0)
        return -1;
    return db_each(c, &Q_ERRORS, DB_ARGS(USAGE_ARGS(persona_id, user_id, since, until)),
                   usage__error_row, a, out, err);
}
