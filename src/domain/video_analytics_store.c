#include "domain/video_analytics_store.h"

#include "domain/limits.h"

#include <string.h>

#define VIDEO_COUNT_MAX 1e15 /* as channel_analytics: whole and not negative, no more */
static const row_col video__cols[] = {
    ROW_COL(video_day_row, date, ROW_CHARS, 0, 0, 0),
    ROW_COL(video_day_row, youtube_video_id, ROW_TEXT, 0, 1, 64),
    ROW_COL(video_day_row, persona_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(video_day_row, persona_version, ROW_INT64, ROW_NULLABLE, 1, 1e9),
    ROW_COL(video_day_row, views, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, likes, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, comments, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, shares, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, watch_time_minutes, ROW_REAL, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, avg_view_duration_seconds, ROW_REAL, ROW_NULLABLE, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, avg_retention, ROW_REAL, ROW_NULLABLE, 0, ANALYTICS_RETENTION_MAX),
    ROW_COL(video_day_row, subscribers_gained, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, subscribers_lost, ROW_INT64, 0, 0, VIDEO_COUNT_MAX),
    ROW_COL(video_day_row, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(video_day_row, id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(video_day_row, project_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(video_day_row, channel_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(video_day_row, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(video_day_row, created_at, ROW_TIME, ROW_PRIVATE, 0, 0),
};
const row_spec video_day_row_spec = ROW_SPEC(video_day_row, "video analytics row", video__cols);

#define VIDEO_COLS                                                                                 \
    "date, youtube_video_id, persona_id, persona_version, views, likes, comments, shares, "        \
    "watch_time_minutes, avg_view_duration_seconds, avg_retention, subscribers_gained, "           \
    "subscribers_lost, updated_at, id, project_id, channel_id, user_id, created_at"

/* "Differs" for columns that may be NULL: SQLite's IS NOT, PostgreSQL's IS
 * DISTINCT FROM. The persona is compared too: a project whose persona was
 * deleted leaves its later days unattributed. */
#define VIDEO_DIFF(ne)                                                                             \
    "video_analytics.youtube_video_id " ne " excluded.youtube_video_id OR "                        \
    "video_analytics.persona_id " ne " excluded.persona_id OR "                                    \
    "video_analytics.persona_version " ne " excluded.persona_version OR "                          \
    "video_analytics.views " ne " excluded.views OR video_analytics.likes " ne                     \
    " excluded.likes OR video_analytics.comments " ne " excluded.comments OR "                     \
    "video_analytics.shares " ne " excluded.shares OR video_analytics.watch_time_minutes " ne      \
    " excluded.watch_time_minutes OR video_analytics.avg_view_duration_seconds " ne                \
    " excluded.avg_view_duration_seconds OR video_analytics.avg_retention " ne                     \
    " excluded.avg_retention OR video_analytics.subscribers_gained " ne                            \
    " excluded.subscribers_gained OR video_analytics.subscribers_lost " ne                         \
    " excluded.subscribers_lost"
#define VIDEO_UPSERT_SQL(ne)                                                                       \
    "INSERT INTO video_analytics (" VIDEO_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "    \
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (project_id, date) DO UPDATE "  \
    "SET youtube_video_id = excluded.youtube_video_id, persona_id = excluded.persona_id, "         \
    "persona_version = excluded.persona_version, views = excluded.views, "                         \
    "likes = excluded.likes, comments = excluded.comments, shares = excluded.shares, "             \
    "watch_time_minutes = excluded.watch_time_minutes, "                                           \
    "avg_view_duration_seconds = excluded.avg_view_duration_seconds, "                             \
    "avg_retention = excluded.avg_retention, subscribers_gained = excluded.subscribers_gained, "   \
    "subscribers_lost = excluded.subscribers_lost, updated_at = excluded.updated_at "              \
    "WHERE " VIDEO_DIFF(ne)
static db_sql Q_UPSERT = DB_SQL2(VIDEO_UPSERT_SQL("IS NOT"), VIDEO_UPSERT_SQL("IS DISTINCT FROM"));
static db_sql Q_LIST = DB_SQL("SELECT " VIDEO_COLS " FROM video_analytics WHERE project_id = $1 "
                              "AND user_id = $2 AND date >= $3 AND date <= $4 ORDER BY date");
static db_sql Q_PUBLISHED =
    DB_SQL("SELECT p.project_id, p.youtube_video_id, j.persona_id, j.persona_version "
           "FROM project_publications p JOIN projects j ON j.id = p.project_id "
           "WHERE p.channel_id = $1 AND p.user_id = $2 AND p.status = 'published' "
           "AND p.youtube_video_id IS NOT NULL ORDER BY p.project_id LIMIT $3");

static int video__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&video_day_row_spec, s, a, out, err);
}

int video_analytics_store_upsert(db_conn *c, const video_day_row *r, bool *changed, error *err)
{
    row_argv av;
    db_args args = row_args(&video_day_row_spec, r, VIDEO_COLS, NULL, &av);
    int64_t n = db_write(c, &Q_UPSERT, args, NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int video_analytics_store_list(db_conn *c, arena *a, const char *user_id, const char *project_id,
                               int64_t from, int64_t to, video_day_row **out, size_t *n, error *err)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    return db_list(c, &Q_LIST,
                   DB_ARGS(DB_TEXT(project_id), DB_TEXT(user_id), DB_TEXT(f), DB_TEXT(t)),
                   video__row, a, sizeof(**out), (size_t)(to - from + 1), out, n, err);
}

static int video__published_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)err;
    video_published *v = out;
    v->project_id = arena_strdup(a, db_col_text(s, 0));
    v->youtube_video_id = arena_strdup(a, db_col_text(s, 1));
    v->persona_id = db_col_is_null(s, 2) ? NULL : arena_strdup(a, db_col_text(s, 2));
    v->persona_version = db_col_is_null(s, 3) ? -1 : db_col_int64(s, 3);
    return 0;
}

int video_analytics_store_published(db_conn *c, arena *a, const char *user_id,
                                    const char *channel_id, size_t max, video_published **out,
                                    size_t *n, error *err)
{
    return db_list(c, &Q_PUBLISHED,
                   DB_ARGS(DB_TEXT(channel_id), DB_TEXT(user_id), DB_INT((int64_t)max)),
                   video__published_row, a, sizeof(**out), max, out, n, err);
}
