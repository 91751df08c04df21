#include "domain/channel_store.h"

#include "domain/limits.h"

#include <stdio.h>
#include <string.h>

const char *const channel_optimization_modes[] = {"off", "suggest", "auto", NULL};
const char *const channel_objectives[] = {"watch_minutes_per_impression", "views_per_day",
                                          "average_view_percentage", "subscribers_net", NULL};
static const char *const channel__optimizer_statuses[] = {
    "waiting", "stayed", "switched", "explored", "returned", "paused", NULL};

/* The columns in the order the API writes them; user_id is the store's own.
 * A client registers a channel by its YouTube id and names it; the id stays,
 * the rest may change. account_status is the linked account's, read with the
 * row. assignment_reason goes with a persona change into the log. */
static const row_col channel__cols[] = {
    ROW_COL(channel, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(channel, youtube_channel_id, ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1,
            CHANNEL_YOUTUBE_ID_MAX),
    ROW_COL(channel, name, ROW_TEXT, ROW_WRITE | ROW_REQUIRED, 1, CHANNEL_NAME_MAX),
    ROW_COL(channel, thumbnail, ROW_TEXT, ROW_WRITE | ROW_NULLABLE, 1, CHANNEL_THUMBNAIL_MAX),
    ROW_COL(channel, custom_url, ROW_TEXT, 0, 0, 0),
    ROW_COL(channel, uploads_playlist_id, ROW_TEXT, 0, 0, 0),
    ROW_COL(channel, persona_id, ROW_UUID, ROW_WRITE | ROW_NULLABLE, 0, 0),
    ROW_COL(channel, auto_optimize, ROW_BOOL, ROW_WRITE, 0, 0),
    ROW_ENUM_COL(channel, optimization_mode, ROW_WRITE, channel_optimization_modes),
    ROW_ENUM_COL(channel, objective, ROW_WRITE, channel_objectives),
    ROW_COL(channel, optimizer_paused_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    ROW_ENUM_COL(channel, optimizer_status, ROW_NULLABLE, channel__optimizer_statuses),
    ROW_COL(channel, optimizer_why, ROW_TEXT, ROW_NULLABLE, 0, CHANNEL_OPTIMIZER_WHY_MAX),
    ROW_COL(channel, optimizer_checked_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    /* Counts YouTube hides (or has not reported yet) are -1, stored NULL. */
    ROW_COL(channel, subscriber_count, ROW_INT64, ROW_NULLABLE, 0, 0),
    ROW_COL(channel, view_count, ROW_INT64, ROW_NULLABLE, 0, 0),
    ROW_COL(channel, video_count, ROW_INT64, ROW_NULLABLE, 0, 0),
    ROW_COL(channel, stats_updated_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    ROW_COL(channel, account_id, ROW_UUID, 0, 0, 0),
    ROW_COL(channel, account_status, ROW_TEXT, 0, 0, 0),
    ROW_COL(channel, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(channel, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(channel, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_FIELD("assignment_reason", ROW_TEXT, ROW_WRITE | ROW_NULLABLE, 1, CHANNEL_REASON_MAX),
};
const row_spec channel_row = ROW_SPEC(channel, "channel", channel__cols);

static const char *const channel__sources[] = {"manual", "optimizer", NULL};

static const row_col channel__assignment_cols[] = {
    ROW_COL(channel_assignment, id, ROW_CHARS, 0, 0, 0),
    ROW_COL(channel_assignment, channel_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(channel_assignment, persona_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(channel_assignment, persona_version, ROW_INT, ROW_ZERO_NUL, 0, 0),
    ROW_COL(channel_assignment, previous_persona_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(channel_assignment, assigned_by, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_ENUM_COL(channel_assignment, source, 0, channel__sources),
    ROW_COL(channel_assignment, reason, ROW_TEXT, ROW_NULLABLE, 1, CHANNEL_REASON_MAX),
    ROW_COL(channel_assignment, evidence, ROW_JSON, ROW_NULLABLE, 0, 0),
    ROW_COL(channel_assignment, suggestion_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(channel_assignment, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(channel_assignment, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
};
const row_spec channel_assignment_row =
    ROW_SPEC(channel_assignment, "persona assignment", channel__assignment_cols);

#define CHANNEL_COLS                                                                               \
    "id, youtube_channel_id, name, thumbnail, custom_url, uploads_playlist_id, persona_id, "       \
    "auto_optimize, optimization_mode, objective, optimizer_paused_at, optimizer_status, "         \
    "optimizer_why, optimizer_checked_at, "                                                        \
    "subscriber_count, view_count, video_count, stats_updated_at, account_id, "                    \
    "(SELECT a.status FROM accounts a WHERE a.id = channels.account_id) AS account_status, "       \
    "created_at, updated_at, user_id"
#define CHANNEL_INSERT                                                                             \
    "id, user_id, account_id, youtube_channel_id, persona_id, name, thumbnail, custom_url, "       \
    "auto_optimize, created_at, updated_at, uploads_playlist_id, subscriber_count, view_count, "   \
    "video_count, stats_updated_at, optimization_mode, objective"
#define CHANNEL_UPDATE                                                                             \
    "id, user_id, name, thumbnail, persona_id, auto_optimize, updated_at, optimization_mode, "     \
    "objective, optimizer_paused_at"
#define CHANNEL_IMPORT                                                                             \
    "user_id, youtube_channel_id, account_id, name, thumbnail, custom_url, uploads_playlist_id, "  \
    "subscriber_count, view_count, video_count, updated_at"
#define CHANNEL_STATS                                                                              \
    "user_id, account_id, youtube_channel_id, subscriber_count, view_count, video_count, "         \
    "stats_updated_at"
#define ASSIGN_COLS                                                                                \
    "id, channel_id, persona_id, persona_version, previous_persona_id, assigned_by, source, "      \
    "reason, created_at, user_id, evidence, suggestion_id"

/* PostgreSQL: the first key names the lock class so it cannot meet another
 * module's advisory locks; the second is the user. */
static db_sql Q_LOCK_QUOTA =
    DB_SQL2("SELECT $1", "SELECT pg_advisory_xact_lock(7301, hashtext($1))");
static db_sql Q_USING_PERSONA =
    DB_SQL2("SELECT id, user_id FROM channels WHERE persona_id = $1 ORDER BY id",
            "SELECT id, user_id FROM channels WHERE persona_id = $1 ORDER BY id FOR UPDATE");
static db_sql Q_COUNT = DB_SQL("SELECT count(*) FROM channels WHERE user_id = $1");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO channels (" CHANNEL_INSERT ") "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
           "$18)");
static db_sql Q_GET =
    DB_SQL("SELECT " CHANNEL_COLS " FROM channels WHERE id = $1 AND user_id = $2");
static db_sql Q_GET_FOR_UPDATE =
    DB_SQL2("SELECT " CHANNEL_COLS " FROM channels WHERE id = $1 AND user_id = $2",
            "SELECT " CHANNEL_COLS " FROM channels WHERE id = $1 AND user_id = $2 FOR UPDATE");
/* PostgreSQL cannot type a parameter from "$n IS NULL" alone; its text casts. */
static db_sql Q_LIST = DB_SQL2("SELECT " CHANNEL_COLS " FROM channels WHERE user_id = $1 "
                               "AND ($2 IS NULL OR persona_id = $2) AND ($3 IS NULL OR id < $3) "
                               "ORDER BY id DESC LIMIT $4",
                               "SELECT " CHANNEL_COLS " FROM channels WHERE user_id = $1 "
                               "AND ($2::uuid IS NULL OR persona_id = $2::uuid) "
                               "AND ($3::uuid IS NULL OR id < $3::uuid) "
                               "ORDER BY id DESC LIMIT $4");
static db_sql Q_UPDATE =
    DB_SQL("UPDATE channels SET name = $3, thumbnail = $4, persona_id = $5, "
           "auto_optimize = $6, updated_at = $7, optimization_mode = $8, objective = $9, "
           "optimizer_paused_at = $10 WHERE id = $1 AND user_id = $2");
static db_sql Q_DELETE = DB_SQL("DELETE FROM channels WHERE id = $1 AND user_id = $2");
static db_sql Q_FIND_YOUTUBE = DB_SQL("SELECT " CHANNEL_COLS " FROM channels WHERE user_id = $1 "
                                      "AND youtube_channel_id = $2");
static db_sql Q_UPDATE_IMPORT = DB_SQL(
    "UPDATE channels SET account_id = $3, name = $4, thumbnail = $5, custom_url = $6, "
    "uploads_playlist_id = $7, subscriber_count = $8, view_count = $9, video_count = $10, "
    "stats_updated_at = $11, updated_at = $11 WHERE user_id = $1 AND youtube_channel_id = $2");
static db_sql Q_UPDATE_STATS =
    DB_SQL("UPDATE channels SET subscriber_count = $4, view_count = $5, video_count = $6, "
           "stats_updated_at = $7, updated_at = $7 WHERE user_id = $1 AND account_id = $2 AND "
           "youtube_channel_id = $3");
#define LINKED_SQL(uuid_cast)                                                                      \
    "SELECT " CHANNEL_COLS " FROM channels WHERE account_id IN (SELECT id FROM accounts WHERE "    \
    "status = 'active') AND ($1" uuid_cast " IS NULL OR id > $1" uuid_cast                         \
    ") ORDER BY id LIMIT $2"
static db_sql Q_LIST_LINKED = DB_SQL2(LINKED_SQL(""), LINKED_SQL("::uuid"));
static db_sql Q_ASSIGN_INSERT = DB_SQL("INSERT INTO channel_persona_assignments (" ASSIGN_COLS ") "
                                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                                       "$12)");
#define ASSIGN_LIST_SQL(uuid_cast)                                                                 \
    "SELECT " ASSIGN_COLS " FROM channel_persona_assignments "                                     \
    "WHERE channel_id = $1 AND user_id = $2 AND ($3" uuid_cast " IS NULL OR id < $3" uuid_cast     \
    ") ORDER BY id DESC LIMIT $4"
static db_sql Q_ASSIGN_LIST = DB_SQL2(ASSIGN_LIST_SQL(""), ASSIGN_LIST_SQL("::uuid"));
static db_sql Q_ASSIGN_GET = DB_SQL("SELECT " ASSIGN_COLS " FROM channel_persona_assignments "
                                    "WHERE id = $1 AND channel_id = $2 AND user_id = $3");
static db_sql Q_ASSIGN_LATEST =
    DB_SQL("SELECT " ASSIGN_COLS " FROM channel_persona_assignments WHERE channel_id = $1 "
           "ORDER BY created_at DESC, id DESC LIMIT 1");
#define AUTO_SQL(uuid_cast)                                                                        \
    "SELECT " CHANNEL_COLS " FROM channels WHERE optimization_mode = 'auto' AND ($1" uuid_cast     \
    " IS NULL OR id > $1" uuid_cast ") ORDER BY id LIMIT $2"
static db_sql Q_LIST_AUTO = DB_SQL2(AUTO_SQL(""), AUTO_SQL("::uuid"));
static db_sql Q_SET_STATUS =
    DB_SQL("UPDATE channels SET optimizer_status = $3, optimizer_why = $4, "
           "optimizer_checked_at = $5 WHERE id = $1 AND user_id = $2");

static int channel__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&channel_row, s, a, out, err);
}

static int channel__assignment_row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&channel_assignment_row, s, a, out, err);
}

int channel_store_lock_quota(db_conn *c, const char *user_id, error *err)
{
    return db_first(c, &Q_LOCK_QUOTA, DB_ARGS(DB_TEXT(user_id)), NULL, NULL, NULL, err) < 0 ? -1
                                                                                            : 0;
}

int channel_store_count(db_conn *c, const char *user_id, int64_t *n, error *err)
{
    return db_int64(c, &Q_COUNT, DB_ARGS(DB_TEXT(user_id)), n, err);
}

/* The row as stored: the defaults of the optimizer's columns filled in and
 * the legacy auto_optimize derived from optimization_mode (decision 85). */
static channel channel__stored(const channel *ch)
{
    channel s = *ch;
    if (s.optimization_mode == NULL)
        s.optimization_mode = "suggest";
    if (s.objective == NULL)
        s.objective = channel_objectives[0];
    s.auto_optimize = strcmp(s.optimization_mode, "auto") == 0;
    return s;
}

int channel_store_insert(db_conn *c, const channel *in, error *err)
{
    channel s = channel__stored(in);
    const channel *ch = &s;
    row_argv av;
    db_args args = row_args(&channel_row, ch, CHANNEL_INSERT, NULL, &av);
    if (db_write(c, &Q_INSERT, args, NULL, err) >= 0)
        return 0;
    if (db_last_fault(c) == DB_FAULT_UNIQUE)
        return error_set(err, ERR_CONFLICT, "youtube_channel_id",
                         "you already registered the YouTube channel '%s'", ch->youtube_channel_id);
    return -1;
}

int channel_store_get(db_conn *c, arena *a, const char *user_id, const char *id, bool for_update,
                      const char *not_found_field, channel *out, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, not_found_field, "no channel with id %s",
                         id ? id : "(none)");
    return db_one(c, for_update ? &Q_GET_FOR_UPDATE : &Q_GET,
                  DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), channel__row, a, out, err,
                  not_found_field, "no channel with id %s", id);
}

int channel_store_list(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                       const char *cursor, int limit, channel **out, size_t *n, error *err)
{
    return db_list(c, &Q_LIST,
                   DB_ARGS(DB_TEXT(user_id), DB_TEXT(persona_id), DB_TEXT(cursor), DB_INT(limit)),
                   channel__row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
}

int channel_store_update(db_conn *c, const channel *in, error *err)
{
    channel s = channel__stored(in);
    const channel *ch = &s;
    row_argv av;
    int64_t changed =
        db_write(c, &Q_UPDATE, row_args(&channel_row, ch, CHANNEL_UPDATE, NULL, &av), NULL, err);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no channel with id %s", ch->id);
    return changed < 0 ? -1 : 0;
}

int channel_store_delete(db_conn *c, const char *user_id, const char *id, error *err)
{
    int64_t changed = db_write(c, &Q_DELETE, DB_ARGS(DB_TEXT(id), DB_TEXT(user_id)), NULL, err);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, NULL, "no channel with id %s", id);
    return changed < 0 ? -1 : 0;
}

int channel_store_assignment_insert(db_conn *c, const channel_assignment *as, error *err)
{
    row_argv av;
    db_args args = row_args(&channel_assignment_row, as, ASSIGN_COLS, NULL, &av);
    return db_write(c, &Q_ASSIGN_INSERT, args, NULL, err) < 0 ? -1 : 0;
}

int channel_store_assignment_list(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                                  const char *cursor, int limit, channel_assignment **out,
                                  size_t *n, error *err)
{
    return db_list(c, &Q_ASSIGN_LIST,
                   DB_ARGS(DB_TEXT(channel_id), DB_TEXT(user_id), DB_TEXT(cursor), DB_INT(limit)),
                   channel__assignment_row, a, sizeof(**out), (size_t)(limit > 0 ? limit : 1), out,
                   n, err);
}

int channel_store_find_youtube(db_conn *c, arena *a, const char *user_id,
                               const char *youtube_channel_id, channel *out, error *err)
{
    return db_one(c, &Q_FIND_YOUTUBE, DB_ARGS(DB_TEXT(user_id), DB_TEXT(youtube_channel_id)),
                  channel__row, a, out, err, "youtube_channel_id",
                  "you have no channel for the YouTube channel '%s'", youtube_channel_id);
}

int channel_store_update_import(db_conn *c, const channel *ch, error *err)
{
    row_argv av;
    int64_t changed = db_write(c, &Q_UPDATE_IMPORT,
                               row_args(&channel_row, ch, CHANNEL_IMPORT, NULL, &av), NULL, err);
    if (changed == 0)
        return error_set(err, ERR_NOT_FOUND, "youtube_channel_id",
                         "you have no channel for the YouTube channel '%s'",
                         ch->youtube_channel_id);
    return changed < 0 ? -1 : 0;
}

int channel_store_update_stats(db_conn *c, const char *user_id, const char *account_id,
                               const char *youtube_channel_id, int64_t subscribers, int64_t views,
                               int64_t videos, int64_t now, bool *changed, error *err)
{
    channel ch = {.account_id = account_id,
                  .youtube_channel_id = youtube_channel_id,
                  .subscriber_count = subscribers,
                  .view_count = views,
                  .video_count = videos,
                  .stats_updated_at = now};
    snprintf(ch.user_id, sizeof(ch.user_id), "%s", user_id);
    row_argv av;
    int64_t n = db_write(c, &Q_UPDATE_STATS, row_args(&channel_row, &ch, CHANNEL_STATS, NULL, &av),
                         NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}

int channel_store_list_linked(db_conn *c, arena *a, const char *after, int limit, channel **out,
                              size_t *n, error *err)
{
    return db_list(c, &Q_LIST_LINKED, DB_ARGS(DB_TEXT(after), DB_INT(limit)), channel__row, a,
                   sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
}

static int channel__ref_row(db_stmt *s, arena *a, void *out, error *err)
{
    (void)a;
    channel_ref *r = out;
    const char *id = db_col_text(s, 0), *user_id = db_col_text(s, 1);
    if (id == NULL || user_id == NULL || strlen(id) != UUID_STR_LEN ||
        strlen(user_id) != UUID_STR_LEN)
        return error_set(err, ERR_INTERNAL, NULL, "a channel id read back is not a UUID");
    memcpy(r->id, id, UUID_STR_LEN + 1);
    memcpy(r->user_id, user_id, UUID_STR_LEN + 1);
    return 0;
}

int channel_store_using_persona(db_conn *c, arena *a, const char *persona_id, channel_ref **out,
                                size_t *n, error *err)
{
    return db_list(c, &Q_USING_PERSONA, DB_ARGS(DB_TEXT(persona_id)), channel__ref_row, a,
                   sizeof(**out), 16, out, n, err);
}

int channel_store_list_auto(db_conn *c, arena *a, const char *after, int limit, channel **out,
                            size_t *n, error *err)
{
    return db_list(c, &Q_LIST_AUTO, DB_ARGS(DB_TEXT(after), DB_INT(limit)), channel__row, a,
                   sizeof(**out), (size_t)(limit > 0 ? limit : 1), out, n, err);
}

int channel_store_set_optimizer_status(db_conn *c, const char *user_id, const char *id,
                                       const char *status, const char *why, int64_t at, error *err)
{
    return db_write(
               c, &Q_SET_STATUS,
               DB_ARGS(DB_TEXT(id), DB_TEXT(user_id), DB_TEXT(status), DB_TEXT(why), DB_TIME(at)),
               NULL, err) < 0
               ? -1
               : 0;
}

int channel_store_assignment_get(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                                 const char *id, channel_assignment *out, error *err)
{
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no assignment with id %s", id ? id : "(none)");
    return db_one(c, &Q_ASSIGN_GET, DB_ARGS(DB_TEXT(id), DB_TEXT(channel_id), DB_TEXT(user_id)),
                  channel__assignment_row, a, out, err, NULL, "no assignment with id %s", id);
}

int channel_store_assignment_latest(db_conn *c, arena *a, const char *channel_id,
                                    channel_assignment *out, bool *found, error *err)
{
    int rc = db_first(c, &Q_ASSIGN_LATEST, DB_ARGS(DB_TEXT(channel_id)), channel__assignment_row, a,
                      out, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}
