/*
 * publication_store: the project_publications table, one row per project
 * that was asked to go to YouTube. It keeps what the user asked for (the
 * privacy, schedule and disclosures, the metadata as it is sent) and where
 * the resumable upload stands: the session URI YouTube handed out, the
 * bytes it confirmed, the video id once it exists. Every query is scoped by
 * the owner's user_id; strings are copied into the caller's arena.
 * Errors: ERR_NOT_FOUND for no row, else the db layer's kinds.
 */
#ifndef PS_DOMAIN_PUBLICATION_STORE_H
#define PS_DOMAIN_PUBLICATION_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUBLICATION_TITLE_MAX       100  /* YouTube's snippet.title */
#define PUBLICATION_DESCRIPTION_MAX 5000 /* YouTube's snippet.description */
#define PUBLICATION_TAG_MAX         100
#define PUBLICATION_TAGS_MAX        30

typedef struct publication {
    char project_id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *channel_id;     /* NULL once the channel is deleted */
    const char *status;         /* queued | uploading | waiting | published | failed */
    const char *privacy_status; /* private | unlisted | public */
    int64_t publish_at;         /* 0: publish on upload */
    bool made_for_kids;
    bool contains_synthetic_media;
    const char *title;
    const char *description;
    const char **tags;
    size_t ntags;
    const char *category_id;
    const char *default_language; /* NULL: not sent */
    const char *session_uri;      /* NULL until a session is started; never in JSON */
    int64_t bytes_total;
    int64_t bytes_sent;
    const char *youtube_video_id; /* NULL until the upload finished */
    const char *thumbnail_status; /* none | set | failed */
    const char *error;            /* why it waits or failed; NULL otherwise */
    const char *job_id;
    int64_t created_at;
    int64_t updated_at;
    int64_t published_at; /* 0 until published */
} publication;

extern const char *const publication_privacies[]; /* NULL-terminated */
extern const row_spec publication_row;

/** The user's project's publication; ERR_NOT_FOUND when it was never asked for. */
int publication_store_get(db_conn *c, arena *a, const char *user_id, const char *project_id,
                          publication *out, error *err);
/** Inserts pb, or replaces the project's earlier (failed) publication with it. */
int publication_store_put(db_conn *c, arena *a, const publication *pb, error *err);
/**
 * Writes the upload's state: status, session_uri, bytes_total, bytes_sent,
 * youtube_video_id, thumbnail_status, error, updated_at and published_at.
 */
int publication_store_save(db_conn *c, const publication *pb, error *err);

#endif
