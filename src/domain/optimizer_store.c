#include "domain/optimizer_store.h"

#include "base/timeutil.h"
#include "domain/attribution_sql.h"

#include <stdio.h>
#include <string.h>

static const char *const opt__states[] = {"open", "accepted", "dismissed", NULL};

static const row_col opt__suggestion_cols[] = {
    ROW_COL(opt_suggestion, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(opt_suggestion, channel_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(opt_suggestion, persona_id, ROW_UUID, 0, 0, 0),
    ROW_COL(opt_suggestion, current_persona_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(opt_suggestion, objective, ROW_TEXT, 0, 0, 0),
    ROW_COL(opt_suggestion, p_beats_current, ROW_REAL, 0, 0, 1),
    ROW_COL(opt_suggestion, uplift, ROW_REAL, 0, -1e9, 1e9),
    ROW_COL(opt_suggestion, proposed_days, ROW_INT64, 0, 0, 0),
    ROW_COL(opt_suggestion, current_days, ROW_INT64, 0, 0, 0),
    ROW_COL(opt_suggestion, evidence, ROW_JSON, 0, 0, 0),
    ROW_ENUM_COL(opt_suggestion, state, 0, opt__states),
    ROW_COL(opt_suggestion, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(opt_suggestion, decided_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    ROW_COL(opt_suggestion, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
};
const row_spec opt_suggestion_row = ROW_SPEC(opt_suggestion, "suggestion", opt__suggestion_cols);

#define SUGG_COLS                                                                                  \
    "id, channel_id, persona_id, current_persona_id, objective, p_beats_current, uplift, "         \
    "proposed_days, current_days, evidence, state, created_at, decided_at, user_id"

static db_sql Q_SUGG_INSERT =
    DB_SQL("INSERT INTO optimizer_suggestions (" SUGG_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
           "$8, $9, $10, $11, $12, $13, $14)");
static db_sql Q_SUGG_GET = DB_SQL("SELECT " SUGG_COLS " FROM optimizer_suggestions WHERE id = $1 "
                                  "AND channel_id = $2 AND user_id = $3");
/* PostgreSQL cannot type a parameter from "$n IS NULL" alone; its text casts. */
#define SUGG_FIND_SQL(uuid_cast)                                                                   \
    "SELECT " SUGG_COLS " FROM optimizer_suggestions WHERE channel_id = $1 AND persona_id = $2 "   \
    "AND (current_persona_id = $3" uuid_cast " OR ($3" uuid_cast " IS NULL AND "                   \
    "current_persona_id IS NULL)) AND state = $4 ORDER BY created_at DESC, id DESC LIMIT 1"
static db_sql Q_SUGG_FIND = DB_SQL2(SUGG_FIND_SQL(""), SUGG_FIND_SQL("::uuid"));
static db_sql Q_SUGG_DECIDE =
    DB_SQL("UPDATE optimizer_suggestions SET state = $3, decided_at = $4 WHERE id = $1 AND "
           "user_id = $2 AND state = 'open'");
static db_sql Q_SUGG_STATE =
    DB_SQL("SELECT state FROM optimizer_suggestions WHERE id = $1 AND user_id = $2");

/* The attributed units of the DAY rows (attribution_sql.h, decision 140),
 * exactly as performance_store reads them: a channel-day split between its
 * videos' personas and the persona assigned that day (E: the day's end as
 * the engine compares it with created_at; ties on the instant go to the
 * greater id). X: whether that assignment was an exploration. Unattributed
 * units come too, with a NULL persona. */
#define OPT__DAY_SQL(E, X, WHERE, ORDER)                                                           \
    "SELECT d.channel_id, d.user_id, d.persona_id, d.explored, d.date, d.views, "                  \
    "d.watch_time_minutes, d.impressions, d.avg_retention, d.net "                                 \
    "FROM " ATTR_UNITS_SQL(E, X, WHERE) " d ORDER BY " ORDER
#define OPT__E_SQLITE "date(d.date, '+1 day')"
#define OPT__E_PG     "((d.date + 1)::timestamp AT TIME ZONE 'UTC')"
#define OPT__X_SQLITE "json_extract(a.evidence, '$.action') = 'explore'"
#define OPT__X_PG     "a.evidence ->> 'action' = 'explore'"
#define OPT__Q(WHERE, ORDER)                                                                       \
    DB_SQL2(OPT__DAY_SQL(OPT__E_SQLITE, OPT__X_SQLITE, WHERE, ORDER),                              \
            OPT__DAY_SQL(OPT__E_PG, OPT__X_PG, WHERE, ORDER))
static db_sql Q_CHANNEL_DAYS = OPT__Q(" AND d.channel_id = $3", "d.date, d.persona_id");
/* The pool: the owner's other channels, and other users' channels whose
 * persona speaks the language (a channel has no language of its own). */
static db_sql Q_POOL_DAYS =
    OPT__Q(" AND d.channel_id <> $3 AND d.channel_id IN (SELECT c.id FROM channels c WHERE "
           "c.user_id = $4 OR (SELECT p.language FROM personas p WHERE p.id = c.persona_id) = $5)",
           "d.channel_id, d.date, d.persona_id");
#define OPT__SWITCH_SQL(X)                                                                         \
    "SELECT created_at FROM channel_persona_assignments a WHERE a.channel_id = $1 AND NOT "        \
    "(a.source = 'optimizer' AND COALESCE(" X ", '') IN ('explore', 'return')) "                   \
    "ORDER BY a.created_at DESC, a.id DESC LIMIT 1"
static db_sql Q_LAST_SWITCH = DB_SQL2(OPT__SWITCH_SQL("json_extract(a.evidence, '$.action')"),
                                      OPT__SWITCH_SQL("a.evidence ->> 'action'"));
static db_sql Q_LAST_DAY = DB_SQL("SELECT max(date) FROM channel_analytics WHERE channel_id = $1 "
                                  "AND period = 'DAY'");
static db_sql Q_USAGE = DB_SQL("SELECT count(*), count(CASE WHEN success THEN NULL ELSE 1 END) "
                               "FROM persona_usage_logs WHERE persona_id = $1 "
                               "AND created_at >= $2 AND created_at < $3");
static db_sql Q_LANGUAGE = DB_SQL("SELECT language FROM personas WHERE id = $1");

static int opt__suggestion_row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&opt_suggestion_row, s, a, out, err);
}

int optimizer_store_suggestion_insert(db_conn *c, const opt_suggestion *s, error *err)
{
    row_argv av;
    db_args args = row_args(&opt_suggestion_row, s, SUGG_COLS, NULL, &av);
    return db_write(c, &Q_SUGG_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

int optimizer_store_suggestion_get(db_conn *c, arena *a, const char *user_id,
                                   const char *channel_id, const char *id, opt_suggestion *out,
                                   error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no suggestion with id %s", id ? id : "(none)");
    return db_one(c, &Q_SUGG_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(channel_id), DB_TEXT(user_id)),
                  opt__suggestion_row, a, out, err, NULL, "no suggestion with id %s", id);
}

int optimizer_store_suggestion_find(db_conn *c, arena *a, const char *channel_id,
                                    const char *persona_id, const char *current_persona_id,
                                    const char *state, opt_suggestion *out, bool *found, error *err)
{
    int rc = db_first(c, &Q_SUGG_FIND,
                      DB_ARGS(DB_TEXT(channel_id), DB_TEXT(persona_id), DB_TEXT(current_persona_id),
                              DB_TEXT(state)),
                      opt__suggestion_row, a, out, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}

static int opt__text_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    db_col_copy(s, 0, out, 16);
    return 0;
}

int optimizer_store_suggestion_decide(db_conn *c, const char *user_id, const char *id,
                                      const char *state, int64_t at, error *err)
{
    int64_t n =
        db_write(c, &Q_SUGG_DECIDE,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TEXT(state), DB_TIME(at)), NULL, err);
    if (n != 0)
        return n < 0 ? -1 : 0;
    char now[16] = "";
    if (db_first(c, &Q_SUGG_STATE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), opt__text_row, NULL, now,
                 err) < 0)
        return -1;
    if (now[0] == '\0')
        return error_set(err, ERR_NOT_FOUND, NULL, "no suggestion with id %s", id);
    return error_set(err, ERR_CONFLICT, "state",
                     "this suggestion was already %s; ask GET …/suggestions for the current one",
                     now);
}

/* Streams rows to the caller's function. */
typedef struct opt__stream {
    optimizer_day_fn fn;
    void *ctx;
} opt__stream;

static double opt__num(db_stmt *s, int i)
{
    return db_col_is_null(s, i) ? -1.0 : db_col_double(s, i);
}

static int opt__day_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    opt__stream *st = out;
    optimizer_day d;
    memset(&d, 0, sizeof(d));
    if (db_col_copy(s, 0, d.channel_id, sizeof(d.channel_id)) != 0 ||
        db_col_copy(s, 1, d.user_id, sizeof(d.user_id)) != 0 ||
        (!db_col_is_null(s, 2) && db_col_copy(s, 2, d.persona_id, sizeof(d.persona_id)) != 0))
        return error_set(err, ERR_INTERNAL, NULL, "an id read back is not a UUID");
    d.explored = db_col_int64(s, 3) != 0;
    const char *date = db_col_text(s, 4);
    if (date == NULL || !time_day_parse(date, &d.day))
        return error_set(err, ERR_INTERNAL, NULL, "a DAY row has no readable date");
    d.views = db_col_double(s, 5);
    d.watch_minutes = db_col_double(s, 6);
    d.impressions = opt__num(s, 7);
    d.avg_retention = opt__num(s, 8);
    d.subscribers_net = db_col_double(s, 9);
    return st->fn(&d, st->ctx, err);
}

int optimizer_store_channel_days(db_conn *c, const char *channel_id, int64_t from, int64_t to,
                                 optimizer_day_fn fn, void *ctx, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    opt__stream st = {fn, ctx};
    return db_each(c, &Q_CHANNEL_DAYS, DB_ARGS(DB_TEXT(f), DB_TEXT(t), DB_TEXT(channel_id)),
                   opt__day_row, NULL, &st, err);
}

int optimizer_store_pool_days(db_conn *c, const char *owner_id, const char *channel_id,
                              const char *language, int64_t from, int64_t to, optimizer_day_fn fn,
                              void *ctx, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    opt__stream st = {fn, ctx};
    return db_each(
        c, &Q_POOL_DAYS,
        DB_ARGS(DB_TEXT(f), DB_TEXT(t), DB_TEXT(channel_id), DB_TEXT(owner_id), DB_TEXT(language)),
        opt__day_row, NULL, &st, err);
}

static int opt__time_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    *(int64_t *)out = db_col_time(s, 0);
    return 0;
}

int optimizer_store_last_switch(db_conn *c, const char *channel_id, int64_t *at, bool *found,
                                error *err)
{
    *at = 0;
    int rc =
        db_first(c, &Q_LAST_SWITCH, DB_ARGS(DB_TEXT(channel_id)), opt__time_row, NULL, at, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}

static int opt__last_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    int64_t *day = out;
    const char *date = db_col_text(s, 0);
    if (date == NULL || !time_day_parse(date, day))
        *day = INT64_MIN;
    return 0;
}

int optimizer_store_last_day(db_conn *c, const char *channel_id, int64_t *day, bool *found,
                             error *err)
{
    *day = INT64_MIN;
    if (db_first(c, &Q_LAST_DAY, DB_ARGS(DB_TEXT(channel_id)), opt__last_row, NULL, day, err) < 0)
        return -1;
    *found = *day != INT64_MIN;
    return 0;
}

typedef struct opt__usage {
    int64_t generations, failures;
} opt__usage;

static int opt__usage_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    opt__usage *u = out;
    u->generations = db_col_int64(s, 0);
    u->failures = db_col_int64(s, 1);
    return 0;
}

int optimizer_store_usage(db_conn *c, const char *persona_id, int64_t from, int64_t to,
                          int64_t *generations, int64_t *failures, error *err)
{
    opt__usage u = {0, 0};
    if (db_first(c, &Q_USAGE, DB_ARGS(DB_TEXT(persona_id), DB_TIME(from), DB_TIME(to)),
                 opt__usage_row, NULL, &u, err) < 0)
        return -1;
    *generations = u.generations;
    *failures = u.failures;
    return 0;
}

typedef struct opt__lang {
    char *out;
    size_t n;
} opt__lang;

static int opt__lang_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    opt__lang *l = out;
    const char *v = db_col_text(s, 0);
    snprintf(l->out, l->n, "%s", v ? v : "");
    return 0;
}

int optimizer_store_persona_language(db_conn *c, const char *persona_id, char *out, size_t n,
                                     error *err)
{
    out[0] = '\0';
    if (persona_id == NULL || !uuid_is_valid(persona_id))
        return 0;
    opt__lang l = {out, n};
    return db_first(c, &Q_LANGUAGE, DB_ARGS(DB_TEXT(persona_id)), opt__lang_row, NULL, &l, err) < 0
               ? -1
               : 0;
}
