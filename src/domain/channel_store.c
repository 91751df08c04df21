#include "domain/channel_store.h"

#include <stdio.h>
#include <string.h>

#define CHANNEL_COLS                                                                               \
    "id, user_id, account_id, youtube_channel_id, persona_id, name, thumbnail, custom_url, "       \
    "subscriber_count, view_count, video_count, stats_updated_at, auto_optimize, created_at, "     \
    "updated_at, uploads_playlist_id, "                                                            \
    "(SELECT a.status FROM accounts a WHERE a.id = channels.account_id) AS account_status"

/* PostgreSQL: the first key names the lock class so it cannot meet another
 * module's advisory locks; the second is the user. */
static db_sql Q_LOCK_QUOTA =
    DB_SQL2("SELECT $1", "SELECT pg_advisory_xact_lock(7301, hashtext($1))");
static db_sql Q_COUNT = DB_SQL("SELECT count(*) FROM channels WHERE user_id = $1");
static db_sql Q_INSERT =
    DB_SQL("INSERT INTO channels (id, user_id, account_id, youtube_channel_id, persona_id, name, "
           "thumbnail, custom_url, auto_optimize, created_at, updated_at, uploads_playlist_id, "
           "subscriber_count, view_count, video_count, stats_updated_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)");
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
           "auto_optimize = $6, updated_at = $7 WHERE id = $1 AND user_id = $2");
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
static db_sql Q_ASSIGN_INSERT =
    DB_SQL("INSERT INTO channel_persona_assignments (id, channel_id, user_id, persona_id, "
           "persona_version, previous_persona_id, assigned_by, source, reason, created_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
#define ASSIGN_LIST_SQL(uuid_cast)                                                                 \
    "SELECT id, channel_id, user_id, persona_id, persona_version, previous_persona_id, "           \
    "assigned_by, source, reason, created_at FROM channel_persona_assignments "                    \
    "WHERE channel_id = $1 AND user_id = $2 AND ($3" uuid_cast " IS NULL OR id < $3" uuid_cast     \
    ") ORDER BY id DESC LIMIT $4"
static db_sql Q_ASSIGN_LIST = DB_SQL2(ASSIGN_LIST_SQL(""), ASSIGN_LIST_SQL("::uuid"));

static const char *channel__str(arena *a, db_stmt *s, int i)
{
    const char *t = db_col_text(s, i);
    return t ? arena_strdup(a, t) : NULL;
}

static int64_t channel__count_or_unknown(db_stmt *s, int i)
{
    return db_col_is_null(s, i) ? -1 : db_col_int64(s, i);
}

/* A count the channel may not know yet (-1) is stored as NULL. */
static db_arg channel__opt_count(int64_t v)
{
    return v < 0 ? DB_NULL : DB_INT(v);
}

static int channel__row(db_stmt *s, arena *a, void *out, error *err)
{
    channel *ch = out;
    memset(ch, 0, sizeof(*ch));
    int bad = 0;
    bad |= DB_COL_COPY(s, 0, ch->id);
    bad |= DB_COL_COPY(s, 1, ch->user_id);
    ch->account_id = channel__str(a, s, 2);
    ch->youtube_channel_id = channel__str(a, s, 3);
    ch->persona_id = channel__str(a, s, 4);
    ch->name = channel__str(a, s, 5);
    ch->thumbnail = channel__str(a, s, 6);
    ch->custom_url = channel__str(a, s, 7);
    ch->subscriber_count = channel__count_or_unknown(s, 8);
    ch->view_count = channel__count_or_unknown(s, 9);
    ch->video_count = channel__count_or_unknown(s, 10);
    ch->stats_updated_at = db_col_time(s, 11);
    ch->auto_optimize = db_col_bool(s, 12);
    ch->created_at = db_col_time(s, 13);
    ch->updated_at = db_col_time(s, 14);
    ch->uploads_playlist_id = channel__str(a, s, 15);
    ch->account_status = channel__str(a, s, 16);
    return bad ? db_col_too_long(err, "channel") : 0;
}

static int channel__assignment_row(db_stmt *s, arena *a, void *out, error *err)
{
    channel_assignment *as = out;
    int bad = DB_COL_COPY(s, 0, as->id) | DB_COL_COPY(s, 1, as->channel_id) |
              DB_COL_COPY(s, 2, as->user_id);
    as->persona_id = channel__str(a, s, 3);
    as->persona_version = db_col_is_null(s, 4) ? 0 : (int)db_col_int64(s, 4);
    as->previous_persona_id = channel__str(a, s, 5);
    as->assigned_by = channel__str(a, s, 6);
    as->source = channel__str(a, s, 7);
    as->reason = channel__str(a, s, 8);
    as->created_at = db_col_time(s, 9);
    return bad ? db_col_too_long(err, "persona assignment") : 0;
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

int channel_store_insert(db_conn *c, const channel *ch, error *err)
{
    db_args args =
        DB_ARGS(DB_TEXT(ch->id), DB_TEXT(ch->user_id), DB_TEXT(ch->account_id),
                DB_TEXT(ch->youtube_channel_id), DB_TEXT(ch->persona_id), DB_TEXT(ch->name),
                DB_TEXT(ch->thumbnail), DB_TEXT(ch->custom_url), DB_BOOL(ch->auto_optimize),
                DB_TIME(ch->created_at), DB_TIME(ch->updated_at), DB_TEXT(ch->uploads_playlist_id),
                channel__opt_count(ch->subscriber_count), channel__opt_count(ch->view_count),
                channel__opt_count(ch->video_count),
                ch->stats_updated_at > 0 ? DB_TIME(ch->stats_updated_at) : DB_NULL);
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

int channel_store_update(db_conn *c, const channel *ch, error *err)
{
    int64_t changed = db_write(c, &Q_UPDATE,
                               DB_ARGS(DB_TEXT(ch->id), DB_TEXT(ch->user_id), DB_TEXT(ch->name),
                                       DB_TEXT(ch->thumbnail), DB_TEXT(ch->persona_id),
                                       DB_BOOL(ch->auto_optimize), DB_TIME(ch->updated_at)),
                               NULL, err);
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
    db_args args = DB_ARGS(DB_TEXT(as->id), DB_TEXT(as->channel_id), DB_TEXT(as->user_id),
                           DB_TEXT(as->persona_id),
                           channel__opt_count(as->persona_id ? as->persona_version : -1),
                           DB_TEXT(as->previous_persona_id), DB_TEXT(as->assigned_by),
                           DB_TEXT(as->source), DB_TEXT(as->reason), DB_TIME(as->created_at));
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
    db_args args =
        DB_ARGS(DB_TEXT(ch->user_id), DB_TEXT(ch->youtube_channel_id), DB_TEXT(ch->account_id),
                DB_TEXT(ch->name), DB_TEXT(ch->thumbnail), DB_TEXT(ch->custom_url),
                DB_TEXT(ch->uploads_playlist_id), channel__opt_count(ch->subscriber_count),
                channel__opt_count(ch->view_count), channel__opt_count(ch->video_count),
                DB_TIME(ch->updated_at));
    int64_t changed = db_write(c, &Q_UPDATE_IMPORT, args, NULL, err);
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
    int64_t n = db_write(c, &Q_UPDATE_STATS,
                         DB_ARGS(DB_TEXT(user_id), DB_TEXT(account_id), DB_TEXT(youtube_channel_id),
                                 channel__opt_count(subscribers), channel__opt_count(views),
                                 channel__opt_count(videos), DB_TIME(now)),
                         NULL, err);
    *changed = n > 0;
    return n < 0 ? -1 : 0;
}
