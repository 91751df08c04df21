#include "domain/publication_store.h"

#include <string.h>

const char *const publication_privacies[] = {"private", "unlisted", "public", NULL};
static const char *const publication__statuses[] = {"queued",    "uploading", "waiting",
                                                    "published", "failed",    NULL};
static const char *const publication__thumbs[] = {"none", "set", "failed", NULL};

/* A publish request's body is checked against the columns a client may
 * give (ROW_CREATE); the rest is the server's. */
static const row_col publication__cols[] = {
    ROW_COL(publication, project_id, ROW_CHARS, 0, 0, 0),
    ROW_COL(publication, channel_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_ENUM_COL(publication, status, 0, publication__statuses),
    ROW_ENUM_COL(publication, privacy_status, ROW_CREATE | ROW_REQUIRED, publication_privacies),
    ROW_COL(publication, publish_at, ROW_TIME, ROW_CREATE | ROW_NULLABLE | ROW_ZERO_NUL, 0, 0),
    ROW_COL(publication, made_for_kids, ROW_BOOL, ROW_CREATE | ROW_REQUIRED, 0, 0),
    ROW_COL(publication, contains_synthetic_media, ROW_BOOL, ROW_CREATE, 0, 0),
    ROW_COL(publication, title, ROW_TEXT, ROW_CREATE, 1, PUBLICATION_TITLE_MAX),
    ROW_COL(publication, description, ROW_TEXT, ROW_CREATE, 0, PUBLICATION_DESCRIPTION_MAX),
    ROW_TAGS_COL(publication, tags, ntags, ROW_CREATE, 1, PUBLICATION_TAG_MAX,
                 PUBLICATION_TAGS_MAX),
    ROW_COL(publication, category_id, ROW_TEXT, ROW_CREATE, 1, 8),
    ROW_COL(publication, default_language, ROW_TEXT, ROW_NULLABLE, 1, 35),
    ROW_COL(publication, bytes_total, ROW_INT64, 0, 0, 1e15),
    ROW_COL(publication, bytes_sent, ROW_INT64, 0, 0, 1e15),
    ROW_COL(publication, youtube_video_id, ROW_TEXT, ROW_NULLABLE, 1, 64),
    ROW_ENUM_COL(publication, thumbnail_status, 0, publication__thumbs),
    ROW_COL(publication, error, ROW_TEXT, ROW_NULLABLE, 0, 1000),
    ROW_COL(publication, job_id, ROW_UUID, ROW_NULLABLE, 0, 0),
    ROW_COL(publication, created_at, ROW_TIME, 0, 0, 0),
    ROW_COL(publication, updated_at, ROW_TIME, 0, 0, 0),
    ROW_COL(publication, published_at, ROW_TIME, ROW_ZERO_NUL, 0, 0),
    ROW_COL(publication, user_id, ROW_CHARS, ROW_PRIVATE, 0, 0),
    ROW_COL(publication, session_uri, ROW_TEXT, ROW_PRIVATE | ROW_NULLABLE, 0, 2000),
};
const row_spec publication_row = ROW_SPEC(publication, "publication", publication__cols);

#define PUB_COLS                                                                                   \
    "project_id, user_id, channel_id, status, privacy_status, publish_at, made_for_kids, "         \
    "contains_synthetic_media, title, description, tags, category_id, default_language, "          \
    "session_uri, bytes_total, bytes_sent, youtube_video_id, thumbnail_status, error, job_id, "    \
    "created_at, updated_at, published_at"
#define PUB_STATE                                                                                  \
    "status, session_uri, bytes_total, bytes_sent, youtube_video_id, thumbnail_status, error, "    \
    "updated_at, published_at, project_id, user_id"

static db_sql Q_PUB_GET = DB_SQL("SELECT " PUB_COLS " FROM project_publications "
                                 "WHERE user_id = $1 AND project_id = $2");
static db_sql Q_PUB_PUT = DB_SQL(
    "INSERT INTO project_publications (" PUB_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) "
    "ON CONFLICT (project_id) DO UPDATE SET channel_id = excluded.channel_id, "
    "status = excluded.status, privacy_status = excluded.privacy_status, "
    "publish_at = excluded.publish_at, made_for_kids = excluded.made_for_kids, "
    "contains_synthetic_media = excluded.contains_synthetic_media, title = excluded.title, "
    "description = excluded.description, tags = excluded.tags, "
    "category_id = excluded.category_id, default_language = excluded.default_language, "
    "session_uri = excluded.session_uri, bytes_total = excluded.bytes_total, "
    "bytes_sent = excluded.bytes_sent, youtube_video_id = excluded.youtube_video_id, "
    "thumbnail_status = excluded.thumbnail_status, error = excluded.error, "
    "job_id = excluded.job_id, updated_at = excluded.updated_at, "
    "published_at = excluded.published_at WHERE project_publications.user_id = excluded.user_id");
static db_sql Q_PUB_SAVE = DB_SQL(
    "UPDATE project_publications SET status = $1, session_uri = $2, bytes_total = $3, "
    "bytes_sent = $4, youtube_video_id = $5, thumbnail_status = $6, error = $7, updated_at = $8, "
    "published_at = $9 WHERE project_id = $10 AND user_id = $11");
static int publication__row(db_stmt *s, arena *a, void *out, error *err)
{
    return row_read(&publication_row, s, a, out, err);
}

int publication_store_get(db_conn *c, arena *a, const char *user_id, const char *project_id,
                          publication *out, error *err)
{
    return db_one(c, &Q_PUB_GET, DB_ARGS(DB_TEXT(user_id), DB_TEXT(project_id)), publication__row,
                  a, out, err, "project", "this project was never published");
}

int publication_store_put(db_conn *c, arena *a, const publication *pb, error *err)
{
    row_argv av;
    db_args args = row_args(&publication_row, pb, PUB_COLS, a, &av);
    int64_t n = db_write(c, &Q_PUB_PUT, args, NULL, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return error_set(err, ERR_NOT_FOUND, "project", "no such project");
    return 0;
}

int publication_store_save(db_conn *c, const publication *pb, error *err)
{
    row_argv av;
    db_args args = row_args(&publication_row, pb, PUB_STATE, NULL, &av);
    int64_t n = db_write(c, &Q_PUB_SAVE, args, NULL, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return error_set(err, ERR_NOT_FOUND, "project", "the project is gone");
    return 0;
}
