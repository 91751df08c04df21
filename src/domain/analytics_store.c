#include "domain/analytics_store.h"

#include "domain/limits.h"

#include <stdio.h>
#include <string.h>

static const char *const analytics__periods[] = {ANALYTICS_DAY, ANALYTICS_WEEK, NULL};

/* Counts have no limit of ours beyond being whole and not negative; the
 * ratios carry the schema's bounds. */
#define ANALYTICS_COUNT_MAX 1e15
static const row_col analytics__cols[] = {
    ROW_COL(analytics_row, date, ROW_CHARS, 0, 0, 0),
    ROW_ENUM_COL(analytics_row, period, 0, analytics__periods),
    ROW_COL(analytics_row, views, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, likes, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, comments, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, shares, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, watch_time_minutes, ROW_REAL, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, avg_view_duration_seconds, ROW_REAL, ROW_NULLABLE, 0,
            ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, avg_retention, ROW_REAL, ROW_NULLABLE, 0, ANALYTICS_RETENTION_MAX),
    ROW_COL(analytics_row, avg_ctr, ROW_REAL, ROW_NULLABLE, 0, ANALYTICS_CTR_MAX),
    ROW_COL(analytics_row, impressions, ROW_INT64, ROW_NULLABLE, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, subscribers_gained, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, subscribers_lost, ROW_INT64, 0, 0, ANALYTICS_COUNT_MAX),
    ROW_COL(analytics_row, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(analytics_row, id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(analytics_row, channel_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(analytics_row, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(analytics_row, created_at, ROW_TIME, ROW_PRIVATE, 0, 0),
};
const row_spec analytics_row_spec = ROW_SPEC(analytics_row, "analytics row", analytics__cols);

static const row_col analytics__backfill_cols[] = {
    ROW_COL(analytics_backfill, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(analytics_backfill, channel_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(analytics_backfill, from_date, ROW_CHARS, 0, 0, 0),
    ROW_COL(analytics_backfill, to_date, ROW_CHARS, 0, 0, 0),
    ROW_COL(analytics_backfill, next_date, ROW_CHARS, ROW_NULLABLE, 0, 0),
    ROW_COL(analytics_backfill, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(analytics_backfill, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(analytics_backfill, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
};
const row_spec analytics_backfill_row =
    ROW_SPEC(analytics_backfill, "analytics backfill", analytics__backfill_cols);

#define ANALYTICS_COLS                                                                             \
    "date, period, views, likes, comments, shares, watch_time_minutes, "                           \
    "avg_view_duration_seconds, avg_retention, avg_ctr, impressions, subscribers_gained, "         \
    "subscribers_lost, updated_at, id, channel_id, user_id, created_at"
#define ANALYTICS_DAY_INSERT                                                                       \
    "id, channel_id, user_id, date, period, views, likes, comments, shares, watch_time_minutes, "  \
    "avg_view_duration_seconds, avg_retention, subscribers_gained, subscribers_lost, created_at, " \
    "updated_at"
#define BACKFILL_COLS                                                                              \
    "id, channel_id, from_date, to_date, next_date, created_at, updated_at, user_id"

/* "Differs" for columns that may be NULL: SQLite's IS NOT, PostgreSQL's IS
 * DISTINCT FROM. The day's Analytics API columns, then the rest a week has. */
#define ANALYTICS_DIFF_DAY(ne)                                                                     \
    "channel_analytics.views " ne " excluded.views OR channel_analytics.likes " ne                 \
    " excluded.likes OR channel_analytics.comments " ne                                            \
    " excluded.comments OR channel_analytics.shares " ne                                           \
    " excluded.shares OR channel_analytics.watch_time_minutes " ne                                 \
    " excluded.watch_time_minutes OR channel_analytics.avg_view_duration_seconds " ne              \
    " excluded.avg_view_duration_seconds OR channel_analytics.avg_retention " ne                   \
    " excluded.avg_retention OR channel_analytics.subscribers_gained " ne                          \
    " excluded.subscribers_gained OR channel_analytics.subscribers_lost " ne                       \
    " excluded.subscribers_lost"
#define ANALYTICS_SET_DAY                                                                          \
    "views = excluded.views, likes = excluded.likes, comments = excluded.comments, "               \
    "shares = excluded.shares, watch_time_minutes = excluded.watch_time_minutes, "                 \
    "avg_view_duration_seconds = excluded.avg_view_duration_seconds, "                             \
    "avg_retention = excluded.avg_retention, subscribers_gained = excluded.subscribers_gained, "   \
    "subscribers_lost = excluded.subscribers_lost, updated_at = excluded.updated_at"

#define UPSERT_DAY_SQL(ne)                                                                         \
    "INSERT INTO channel_analytics (" ANALYTICS_DAY_INSERT ") VALUES ($1, $2, $3, $4, $5, $6, "    \
    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (channel_id, date, period) DO "    \
    "UPDATE SET " ANALYTICS_SET_DAY " WHERE " ANALYTICS_DIFF_DAY(ne)
static db_sql Q_UPSERT_DAY = DB_SQL2(UPSERT_DAY_SQL("IS NOT"), UPSERT_DAY_SQL("IS DISTINCT FROM"));

/* The same with impressions and avg_ctr, for a source that has all of them
 * (a YouTube Studio export). */
#define ANALYTICS_DAY_INSERT_REACH ANALYTICS_DAY_INSERT ", impressions, avg_ctr"
#define UPSERT_DAY_REACH_SQL(ne)                                                                   \
    "INSERT INTO channel_analytics (" ANALYTICS_DAY_INSERT_REACH ") VALUES ($1, $2, $3, $4, $5, "  \
    "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (channel_id, date, " \
    "period) DO UPDATE SET " ANALYTICS_SET_DAY ", impressions = excluded.impressions, "            \
    "avg_ctr = excluded.avg_ctr WHERE " ANALYTICS_DIFF_DAY(                                        \
        ne) " OR channel_analytics.impressions " ne                                                \
            " excluded.impressions OR channel_analytics.avg_ctr " ne " excluded.avg_ctr"
static db_sql Q_UPSERT_DAY_REACH =
    DB_SQL2(UPSERT_DAY_REACH_SQL("IS NOT"), UPSERT_DAY_REACH_SQL("IS DISTINCT FROM"));

/* A week from its days ($4 its Monday, $5 its Sunday). The weighted means
 * weigh only the days that have the value; a week whose weights sum to 0
 * has none (NULL). A week with no day is not written (HAVING). */
#define ROLLUP_SQL(U, D, T, F, ne)                                                                 \
    "INSERT INTO channel_analytics (id, channel_id, user_id, date, period, views, likes, "         \
    "comments, shares, watch_time_minutes, avg_view_duration_seconds, avg_retention, avg_ctr, "    \
    "impressions, subscribers_gained, subscribers_lost, created_at, updated_at) "                  \
    "SELECT $1" U ", $2" U ", $3" U ", $4" D ", 'WEEK', sum(views), sum(likes), sum(comments), "   \
    "sum(shares), sum(watch_time_minutes), "                                                       \
    "sum(CASE WHEN avg_view_duration_seconds IS NOT NULL THEN avg_view_duration_seconds * views "  \
    "END) / NULLIF(sum(CASE WHEN avg_view_duration_seconds IS NOT NULL THEN views END)" F ", 0), " \
    "sum(CASE WHEN avg_retention IS NOT NULL THEN avg_retention * views END) / "                   \
    "NULLIF(sum(CASE WHEN avg_retention IS NOT NULL THEN views END)" F ", 0), "                    \
    "sum(CASE WHEN avg_ctr IS NOT NULL THEN avg_ctr * impressions END) / "                         \
    "NULLIF(sum(CASE WHEN avg_ctr IS NOT NULL THEN impressions END)" F ", 0), "                    \
    "sum(impressions), sum(subscribers_gained), sum(subscribers_lost), $6" T ", $6" T " "          \
    "FROM channel_analytics WHERE channel_id = $2" U " AND period = 'DAY' AND date >= $4" D        \
    " AND date <= $5" D " HAVING count(*) > 0 "                                                    \
    "ON CONFLICT (channel_id, date, period) DO UPDATE SET " ANALYTICS_SET_DAY                      \
    ", avg_ctr = excluded.avg_ctr, impressions = excluded.impressions WHERE " ANALYTICS_DIFF_DAY(  \
        ne) " OR channel_analytics.avg_ctr " ne                                                    \
            " excluded.avg_ctr OR channel_analytics.impressions " ne " excluded.impressions"
static db_sql Q_ROLLUP = DB_SQL2(
    ROLLUP_SQL("", "", "", "", "IS NOT"),
    ROLLUP_SQL("::uuid", "::date", "::timestamptz", "::double precision", "IS DISTINCT FROM"));

static db_sql Q_LIST = DB_SQL("SELECT " ANALYTICS_COLS " FROM channel_analytics "
                              "WHERE channel_id = $1 AND user_id = $2 AND period = $3 "
                              "AND date >= $4 AND date <= $5 ORDER BY date");
static db_sql Q_LAST_DAY =
    DB_SQL2("SELECT max(date) FROM channel_analytics WHERE channel_id = $1 AND period = 'DAY'",
            "SELECT max(date)::text FROM channel_analytics WHERE channel_id = $1 AND "
            "period = 'DAY'");

static db_sql Q_BACKFILL_INSERT = DB_SQL("INSERT INTO analytics_backfills (" BACKFILL_COLS ") "
                                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                                         "ON CONFLICT (id) DO NOTHING");
static db_sql Q_BACKFILL_GET =
    DB_SQL("SELECT " BACKFILL_COLS " FROM analytics_backfills WHERE id = $1 AND user_id = $2");
static db_sql Q_BACKFILL_ADVANCE = DB_SQL("UPDATE analytics_backfills SET next_date = $3, "
                                          "updated_at = $4 WHERE id = $1 AND user_id = $2");

/* ---- reach (the Reporting API) ---- */

static db_sql Q_REACH_REPORT =
    DB_SQL("INSERT INTO channel_reach_reports (id, channel_id, user_id, report_id, first_date, "
           "last_date, report_created_at, folded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
           "ON CONFLICT (channel_id, report_id) DO NOTHING");
static db_sql Q_REACH_CURSOR =
    DB_SQL("SELECT max(report_created_at) FROM channel_reach_reports WHERE channel_id = $1");
static db_sql Q_REACH_FOLDED =
    DB_SQL("SELECT 1 FROM channel_reach_reports WHERE channel_id = $1 AND report_id = $2");
/* A day's reach; an older report than the one stored never replaces it. */
static db_sql Q_REACH_PUT =
    DB_SQL("INSERT INTO channel_reach_days (id, channel_id, user_id, date, impressions, avg_ctr, "
           "report_id, report_created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
           "ON CONFLICT (channel_id, date) DO UPDATE SET impressions = excluded.impressions, "
           "avg_ctr = excluded.avg_ctr, report_id = excluded.report_id, "
           "report_created_at = excluded.report_created_at, updated_at = excluded.updated_at "
           "WHERE excluded.report_created_at >= channel_reach_days.report_created_at");
#define MERGE_REACH_SQL(U, D, T, ne)                                                               \
    "UPDATE channel_analytics SET impressions = r.impressions, avg_ctr = r.avg_ctr, "              \
    "updated_at = $5" T " FROM channel_reach_days r WHERE r.channel_id = "                         \
    "channel_analytics.channel_id AND r.date = channel_analytics.date AND "                        \
    "channel_analytics.channel_id = $1" U " AND channel_analytics.user_id = $2" U " AND "          \
    "channel_analytics.period = 'DAY' AND channel_analytics.date >= $3" D " AND "                  \
    "channel_analytics.date <= $4" D " AND (channel_analytics.impressions " ne                     \
    " r.impressions OR channel_analytics.avg_ctr " ne " r.avg_ctr)"
static db_sql Q_MERGE_REACH =
    DB_SQL2(MERGE_REACH_SQL("", "", "", "IS NOT"),
            MERGE_REACH_SQL("::uuid", "::date", "::timestamptz", "IS DISTINCT FROM"));

static int analytics__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&analytics_row_spec, s, a, out, err);
}

static int analytics__backfill_row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&analytics_backfill_row, s, a, out, err);
}

int analytics_store_upsert_day(db_conn *c, const analytics_row *r, bool *changed, error *err)
{
    row_argv av;
    db_args args = row_args(&analytics_row_spec, r, ANALYTICS_DAY_INSERT, NULL, &av);
    int64_t n = db_write(c, &Q_UPSERT_DAY, args, NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int analytics_store_upsert_day_reach(db_conn *c, const analytics_row *r, bool *changed, error *err)
{
    row_argv av;
    db_args args = row_args(&analytics_row_spec, r, ANALYTICS_DAY_INSERT_REACH, NULL, &av);
    int64_t n = db_write(c, &Q_UPSERT_DAY_REACH, args, NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int analytics_store_rollup_week(db_conn *c, const char *user_id, const char *channel_id,
                                int64_t monday, int64_t now, error *err)
{
    char id[UUID_STR_LEN + 1], mon[TIME_DAY_STR_LEN + 1], sun[TIME_DAY_STR_LEN + 1];
    uuid_v7(id);
    time_day_format(monday, mon);
    time_day_format(monday + 6, sun);
    return db_write(c, &Q_ROLLUP,
                    DB_ARGS(DB_TEXT(id), DB_TEXT(channel_id), DB_TEXT(user_id), DB_TEXT(mon),
                            DB_TEXT(sun), DB_TIME(now)),
                    NULL, err) < 0
               ? -1
               : 0;
}

int analytics_store_list(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                         const char *period, int64_t from, int64_t to, analytics_row **out,
                         size_t *n, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    size_t cap = (size_t)(to - from + 1);
    if (strcmp(period, ANALYTICS_WEEK) == 0)
        cap = cap / 7 + 1;
    return db_list(
        c, &Q_LIST,
        DB_ARGS(DB_TEXT(channel_id), DB_TEXT(user_id), DB_TEXT(period), DB_TEXT(f), DB_TEXT(t)),
        analytics__row, a, sizeof(**out), cap, out, n, err);
}

typedef struct analytics__last {
    int64_t day;
    bool found;
} analytics__last;

static int analytics__last_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    analytics__last *l = out;
    const char *t = db_col_text(s, 0);
    if (t == NULL)
        return 0;
    if (!time_day_parse(t, &l->day))
        return error_set(err, ERR_INTERNAL, NULL, "a stored analytics date is not a date: %.32s",
                         t);
    l->found = true;
    return 0;
}

int analytics_store_last_day(db_conn *c, const char *channel_id, int64_t *day, bool *found,
                             error *err)
{
    analytics__last l = {0, false};
    int rc =
        db_first(c, &Q_LAST_DAY, DB_ARGS(DB_TEXT(channel_id)), analytics__last_row, NULL, &l, err);
    *day = l.day;
    *found = l.found;
    return rc < 0 ? -1 : 0;
}

int analytics_store_backfill_insert(db_conn *c, const analytics_backfill *b, error *err)
{
    row_argv av;
    db_args args = row_args(&analytics_backfill_row, b, BACKFILL_COLS, NULL, &av);
    return db_write(c, &Q_BACKFILL_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

int analytics_store_backfill_get(db_conn *c, const char *user_id, const char *id,
                                 analytics_backfill *out, error *err)
{
    return db_one(c, &Q_BACKFILL_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)),
                  analytics__backfill_row, NULL, out, err, NULL, "no analytics backfill with id %s",
                  id);
}

int analytics_store_backfill_advance(db_conn *c, const char *user_id, const char *id, int64_t next,
                                     int64_t now, error *err)
{
    char d[TIME_DAY_STR_LEN + 1];
    if (next >= 0)
        time_day_format(next, d);
    int64_t n = db_write(
        c, &Q_BACKFILL_ADVANCE,
        DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), next >= 0 ? DB_TEXT(d) : DB_NULL, DB_TIME(now)),
        NULL, err);
    if (n == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no analytics backfill with id %s", id);
    return n < 0 ? -1 : 0;
}

int analytics_store_reach_report(db_conn *c, const char *user_id, const char *channel_id,
                                 const char *report_id, int64_t first_day, int64_t last_day,
                                 int64_t created_at, int64_t now, bool *fresh, error *err)
{
    char id[UUID_STR_LEN + 1], f[TIME_DAY_STR_LEN + 1], l[TIME_DAY_STR_LEN + 1];
    uuid_v7(id);
    time_day_format(first_day, f);
    time_day_format(last_day, l);
    int64_t n =
        db_write(c, &Q_REACH_REPORT,
                 DB_ARGS(DB_TEXT(id), DB_TEXT(channel_id), DB_TEXT(user_id), DB_TEXT(report_id),
                         DB_TEXT(f), DB_TEXT(l), DB_TIME(created_at), DB_TIME(now)),
                 NULL, err);
    *fresh = n > 0;
    return n < 0 ? -1 : 0;
}

typedef struct analytics__cursor {
    int64_t at;
    bool found;
} analytics__cursor;

static int analytics__cursor_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    (void)err;
    analytics__cursor *k = out;
    k->found = !db_col_is_null(s, 0);
    k->at = k->found ? db_col_time(s, 0) : 0;
    return 0;
}

int analytics_store_reach_cursor(db_conn *c, const char *channel_id, int64_t *created_at,
                                 bool *found, error *err)
{
    analytics__cursor k = {0, false};
    int rc = db_first(c, &Q_REACH_CURSOR, DB_ARGS(DB_TEXT(channel_id)), analytics__cursor_row, NULL,
                      &k, err);
    *created_at = k.at;
    *found = k.found;
    return rc < 0 ? -1 : 0;
}

int analytics_store_reach_folded(db_conn *c, const char *channel_id, const char *report_id,
                                 bool *folded, error *err)
{
    int rc = db_first(c, &Q_REACH_FOLDED, DB_ARGS(DB_TEXT(channel_id), DB_TEXT(report_id)), NULL,
                      NULL, NULL, err);
    *folded = rc == 1;
    return rc < 0 ? -1 : 0;
}

int analytics_store_reach_put(db_conn *c, const analytics_reach_day *r, int64_t now, error *err)
{
    char id[UUID_STR_LEN + 1], d[TIME_DAY_STR_LEN + 1];
    uuid_v7(id);
    time_day_format(r->day, d);
    return db_write(c, &Q_REACH_PUT,
                    DB_ARGS(DB_TEXT(id), DB_TEXT(r->channel_id), DB_TEXT(r->user_id), DB_TEXT(d),
                            DB_INT(r->impressions),
                            r->avg_ctr < 0 ? DB_NULL : DB_DOUBLE(r->avg_ctr), DB_TEXT(r->report_id),
                            DB_TIME(r->report_created_at), DB_TIME(now)),
                    NULL, err) < 0
               ? -1
               : 0;
}

int analytics_store_merge_reach(db_conn *c, const char *user_id, const char *channel_id,
                                int64_t from, int64_t to, int64_t now, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    return db_write(
               c, &Q_MERGE_REACH,
               DB_ARGS(DB_TEXT(channel_id), DB_TEXT(user_id), DB_TEXT(f), DB_TEXT(t), DB_TIME(now)),
               NULL, err) < 0
               ? -1
               : 0;
}
