/*
 * media_store: where a project's media files (narration audio, subtitles,
 * timings, later images and the video) live, behind a small vtable so a
 * store other than the local directory (an object store) can take its
 * place. The local store keeps <root>/<user_id>/<project_id>/<name>.
 *
 * Names are one path segment of [A-Za-z0-9._-], 1-MEDIA_NAME_MAX bytes,
 * not starting with '.': media_name_valid() is the one check, and every
 * function refuses a name that fails it (ERR_INVALID, field "path"). Names
 * starting with '.' are the store's own temporaries, so a half-written
 * file is never visible under a valid name.
 *
 * Writes are atomic: a temporary file in the same directory, fsync, rename
 * over the name, fsync of the directory. A reader sees the old file or the
 * new one, never part of one, even after a crash or a kill -9 mid-write.
 *
 * Opening never follows a symbolic link (each component is opened with
 * O_NOFOLLOW under the root's descriptor), so a link planted in the tree
 * cannot lead a reader outside it. Errors: ERR_NOT_FOUND (no such file),
 * ERR_INVALID (a bad name or id), ERR_UNAVAILABLE (an I/O failure, with
 * the errno text in the message).
 *
 * The S3 store (media_store_s3.c) keeps the same names as objects
 * <prefix>/<user_id>/<project_id>/<name> in a bucket of any S3-compatible
 * service; its extra errors are in media_store_s3()'s comment.
 *
 * The store owns nothing of the caller's; media_store_free() releases it.
 * Every function is safe to call from several threads at once.
 */
#ifndef PS_PROVIDERS_MEDIA_STORE_H
#define PS_PROVIDERS_MEDIA_STORE_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_NAME_MAX 128

typedef struct media_store media_store;

/* An opened media file: read it with pread(fd) for size bytes, or read(fd)
 * from its start, where every store leaves the offset. */
typedef struct media_file {
    int fd;            /* the caller closes it (or hands it to the HTTP reply) */
    int64_t size;      /* bytes */
    int64_t mtime_ns;  /* last change, nanoseconds since the epoch */
    uint64_t identity; /* inode and device mixed: a new write has a new one */
} media_file;

/* A temporary file being written, to be committed under a name. */
typedef struct media_temp {
    char path[3456]; /* where to write (for a child program such as ffmpeg) */
    char dir[3200];
    char name[MEDIA_NAME_MAX + 1];
} media_temp;

typedef struct media_store_vt {
    int (*put)(media_store *ms, const char *user_id, const char *project_id, const char *name,
               const void *data, size_t len, error *err);
    int (*temp)(media_store *ms, const char *user_id, const char *project_id, const char *name,
                media_temp *out, error *err);
    int (*commit)(media_store *ms, media_temp *t, error *err);
    void (*discard)(media_store *ms, media_temp *t);
    int (*open)(media_store *ms, const char *user_id, const char *project_id, const char *name,
                media_file *out, error *err);
    int (*remove)(media_store *ms, const char *user_id, const char *project_id, const char *name,
                  error *err);
    int (*remove_project)(media_store *ms, const char *user_id, const char *project_id, error *err);
    int (*list)(media_store *ms, const char *user_id, const char *project_id,
                void (*fn)(const char *name, void *ctx), void *ctx, error *err);
    int (*list_projects)(media_store *ms,
                         void (*fn)(const char *user_id, const char *project_id, void *ctx),
                         void *ctx, error *err);
    /* NULL: the store serves through open() only. */
    int (*presign)(media_store *ms, const char *user_id, const char *project_id, const char *name,
                   const char *content_type, char *url, size_t n, error *err);
    void (*free)(media_store *ms);
} media_store_vt;

struct media_store {
    const media_store_vt *vt;
};

/** True when name is a valid media name (see above). */
bool media_name_valid(const char *name);
/** For stores: the check of ids and name (name may be NULL) every function makes. */
int media_store_check(const char *user_id, const char *project_id, const char *name, error *err);
/** For stores whose temporaries are local files: deletes t's file (their discard). */
void media_store_unlink_temp(media_store *ms, media_temp *t);

/**
 * The local store under root (created, mode 0750, when missing). NULL and
 * ERR_CONFIG (field "PSTUDIO_DATA_DIR") when it cannot be created.
 */
media_store *media_store_local(const char *root, error *err);

/* Where an S3-compatible bucket is and how to speak to it (config.c's
 * PSTUDIO_S3_* settings). The strings are the caller's and must outlive the store. */
typedef struct media_s3_settings {
    const char *endpoint; /* http(s)://host[:port], no path */
    const char *bucket;   /* 3-63 of [a-z0-9.-] */
    const char *region;   /* the signing region, e.g. us-east-1 */
    const char *access_key_id;
    const char *secret_key;
    bool path_style;       /* <endpoint>/<bucket>/<key> instead of <bucket>.<host>/<key> */
    const char *prefix;    /* "" or segments of [A-Za-z0-9._-] joined by '/' */
    bool presigned;        /* the owner is redirected to a presigned GET URL */
    int presign_expiry_s;  /* 1-604800 */
    int64_t part_size;     /* multipart upload past this size, in parts of it (>= 5 MiB) */
    int64_t cache_bytes;   /* local copies kept for reading (0: one per open, unlinked) */
    const char *spool_dir; /* local directory for temporaries and copies (created) */
    long timeout_ms;       /* one request at most */
} media_s3_settings;

/**
 * The S3 store. Every request is signed with AWS Signature V4 by libcurl.
 * put and commit upload (a single PUT up to part_size, a multipart upload
 * past it, aborted on failure); temp is a spool file under spool_dir; open
 * copies the object (checked by its ETag) into spool_dir and returns that
 * copy, kept up to cache_bytes for the next open; remove_project lists and
 * deletes. Errors, besides the local store's: a refused signature or key
 * (403) or a missing bucket is ERR_CONFIG naming the PSTUDIO_S3_* setting;
 * 5xx, 429, timeouts, unreadable XML and local spool failures are
 * ERR_UNAVAILABLE. NULL and ERR_CONFIG when a setting is unusable.
 */
media_store *media_store_s3(const media_s3_settings *s, error *err);

/**
 * A presigned GET URL for name, valid for the store's presign_expiry_s,
 * into url: 1 when the store serves by redirect (url filled), 0 when the
 * caller should stream through open() (the local store, or S3 in stream
 * mode), -1 with err (ERR_NOT_FOUND when there is no such object).
 * content_type (may be NULL) is what S3 is asked to answer with.
 */
int media_store_presign(media_store *ms, const char *user_id, const char *project_id,
                        const char *name, const char *content_type, char *url, size_t n,
                        error *err);

/**
 * The SigV4 query-string signature (AWS4-HMAC-SHA256, UNSIGNED-PAYLOAD,
 * SignedHeaders=host) of a GET of url at unix time now: url with the
 * X-Amz-* parameters appended, into out; false when out is too small or
 * url is not absolute. url's own query (if any) must already be in
 * canonical order and encoding. Exposed for the tests.
 */
bool media_s3_presign_url(const char *url, const char *region, const char *access_key_id,
                          const char *secret_key, int64_t now, int expiry_s, char *out, size_t n);

/** Writes data as name, atomically (replacing any file of that name). */
int media_store_put(media_store *ms, const char *user_id, const char *project_id, const char *name,
                    const void *data, size_t len, error *err);
/**
 * A temporary file that will become name once committed; a child program
 * writes it by its path. Until then it is invisible (its name starts with '.').
 */
int media_store_temp(media_store *ms, const char *user_id, const char *project_id, const char *name,
                     media_temp *out, error *err);
/** fsyncs the temporary file and renames it over its name; on failure it is discarded. */
int media_store_commit(media_store *ms, media_temp *t, error *err);
/** Deletes a temporary file that will not be committed. */
void media_store_discard(media_store *ms, media_temp *t);
/** Opens name for reading; ERR_NOT_FOUND when there is no such regular file. */
int media_store_open(media_store *ms, const char *user_id, const char *project_id, const char *name,
                     media_file *out, error *err);
/** Deletes name; no such file is not an error. */
int media_store_remove(media_store *ms, const char *user_id, const char *project_id,
                       const char *name, error *err);
/** Deletes everything of the project (temporaries included); none is not an error. */
int media_store_remove_project(media_store *ms, const char *user_id, const char *project_id,
                               error *err);
/**
 * Calls fn with the name of every file of the project, temporaries
 * (names starting with '.') included; a project with no files is none.
 */
int media_store_list(media_store *ms, const char *user_id, const char *project_id,
                     void (*fn)(const char *name, void *ctx), void *ctx, error *err);
/** Calls fn for every project directory the store holds (the sweep's input). */
int media_store_list_projects(media_store *ms,
                              void (*fn)(const char *user_id, const char *project_id, void *ctx),
                              void *ctx, error *err);
void media_store_free(media_store *ms);

#endif
