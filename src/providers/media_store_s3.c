/*
 * media_store over an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2,
 * GCS interoperability). Requests go through http_client with libcurl's
 * AWS Signature V4 (CURLOPT_AWS_SIGV4); libcurl 7.88 signs the headers it
 * is given but does not add x-amz-content-sha256, so every request carries
 * the SHA-256 of its body, computed here. Presigned URLs are computed here
 * too (libcurl only signs requests it sends), with libsodium's HMAC-SHA256.
 *
 * Reading: open() asks for the object's ETag and size (HEAD), then uses a
 * local copy of exactly that version, downloading it when there is none.
 * Copies are kept under spool_dir/cache up to cache_bytes (least recently
 * opened go first), so Range requests of a large video and a job reading
 * its inputs cost one download, not one per request; a copy of an older
 * version is never used because its name carries the ETag. An fd handed
 * out stays valid when its copy is evicted or the object deleted.
 *
 * XML answers (lists, multipart ids, errors) are read by s3_xml.c, capped
 * at 8 MiB like every http_client answer.
 */
#include "providers/media_store.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/uuid.h"
#include "providers/http_client.h"
#include "providers/s3_xml.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S3_MIN_PART   (5 * 1024 * 1024)
#define S3_MAX_PARTS  10000
#define S3_URL_MAX    8192
#define S3_KEY_MAX    512
#define S3_XML_MAX    (8u * 1024 * 1024)
#define S3_EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct s3_store {
    media_store base;
    char scheme[8];
    char hostport[256]; /* host[:port] as the Host header carries it */
    char bucket[64];
    char region[64];
    char key_id[128];
    char secret[256];
    char prefix[256]; /* "" or "<prefix>/" */
    char sigv4[128];  /* "aws:amz:<region>:s3" */
    bool path_style;
    bool presigned;
    int presign_expiry_s;
    int64_t part_size;
    int64_t cache_bytes;
    long timeout_ms;
    char tmp_dir[3000];
    char cache_dir[3000];
    pthread_mutex_t evict_lock;
} s3_store;

/* ---- small helpers --------------------------------------------------------------------- */

static void s3__hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void s3__sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, n);
    s3__hex(h, sizeof(h), out);
}

/* The first 8 bytes of the hash of s, in hex: names of local copies. */
static void s3__short_hash(const char *s, char out[17])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    s3__hex(h, 8, out);
}

static void s3__hmac(const unsigned char *key, size_t key_len, const char *msg, unsigned char *out)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
}

/* The object key; every character is unreserved or '/', so it needs no
 * percent-encoding in a URL or a canonical request. */
static void s3__key(const s3_store *s, const char *user_id, const char *project_id,
                    const char *name, char out[S3_KEY_MAX])
{
    snprintf(out, S3_KEY_MAX, "%s%s/%s/%s", s->prefix, user_id, project_id, name ? name : "");
}

/* The URL of key (or of the bucket when key is ""), with query appended. */
static void s3__url(const s3_store *s, const char *key, const char *query, char out[S3_URL_MAX])
{
    const char *q = query && query[0] ? "?" : "";
    if (s->path_style) /* the bucket itself is /<bucket>, without a trailing '/' */
        snprintf(out, S3_URL_MAX, "%s://%s/%s%s%s%s%s", s->scheme, s->hostport, s->bucket,
                 key[0] ? "/" : "", key, q, query ? query : "");
    else
        snprintf(out, S3_URL_MAX, "%s://%s.%s/%s%s%s", s->scheme, s->bucket, s->hostport, key, q,
                 query ? query : "");
}

/* ---- requests -------------------------------------------------------------------------- */

typedef struct s3__call {
    const char *method;
    char url[S3_URL_MAX];
    const char *body;
    size_t body_len;
    const char *extra_header; /* one more "Name: value", or NULL */
    bool (*sink)(const char *data, size_t n, void *ctx);
    void *sink_ctx;
    size_t max_response;
} s3__call;

/* Sends one signed request; 0 with *out filled (any status) or -1 with err. */
static int s3__send(s3_store *s, const s3__call *c, http_client_resp *out, error *err)
{
    char sha[65], sha_h[100];
    if (c->body != NULL && c->body_len > 0)
        s3__sha256_hex(c->body, c->body_len, sha);
    else
        snprintf(sha, sizeof(sha), "%s", S3_EMPTY_HASH);
    snprintf(sha_h, sizeof(sha_h), "x-amz-content-sha256: %s", sha);
    const char *headers[4] = {sha_h, NULL, NULL, NULL};
    int nh = 1;
    if (c->body != NULL)
        headers[nh++] = "Content-Type: application/octet-stream";
    if (c->extra_header != NULL)
        headers[nh++] = c->extra_header;
    http_client_req rq = {
        .method = c->method,
        .url = c->url,
        .headers = headers,
        .body = c->body,
        .body_len = c->body_len,
        .timeout_ms = s->timeout_ms,
        .max_response = c->max_response ? c->max_response : S3_XML_MAX,
        .aws_sigv4 = s->sigv4,
        .aws_key = s->key_id,
        .aws_secret = s->secret,
        .sink = c->sink,
        .sink_ctx = c->sink_ctx,
    };
    if (http_client_do(&rq, out, err) == 0)
        return 0;
    if (err != NULL && err->kind == ERR_TOO_LARGE)
        err->kind = ERR_UNAVAILABLE; /* the store's answer, not the caller's input */
    return -1;
}

/* Turns a status the caller did not expect into the error convention. */
static int s3__status_error(const s3_store *s, const char *what, const http_client_resp *r,
                            error *err)
{
    s3_xml_error eb = {.code = ""};
    if (r->body.data != NULL && r->body.len > 0)
        s3_xml_read_error(r->body.data, r->body.len, &eb);
    const char *code = eb.code[0] ? eb.code : "no error code";
    if (r->status == 403 && strcmp(eb.code, "InvalidAccessKeyId") == 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_S3_ACCESS_KEY_ID",
                         "media storage: %s: the S3 server does not know the access key id "
                         "(InvalidAccessKeyId): check PSTUDIO_S3_ACCESS_KEY_ID",
                         what);
    if (r->status == 403 && (strcmp(eb.code, "SignatureDoesNotMatch") == 0 || eb.code[0] == '\0'))
        return error_set(err, ERR_CONFIG, "PSTUDIO_S3_SECRET_ACCESS_KEY",
                         "media storage: %s: the S3 server refused the request's signature "
                         "(%s, 403): check PSTUDIO_S3_SECRET_ACCESS_KEY and PSTUDIO_S3_REGION",
                         what, eb.code[0] ? eb.code : "no body");
    if (r->status == 403)
        return error_set(err, ERR_CONFIG, "PSTUDIO_S3_ACCESS_KEY_ID",
                         "media storage: %s: the S3 server refused access (%s, 403): the key "
                         "lacks permission on bucket %s, or the clock is off",
                         what, code, s->bucket);
    if (r->status == 404 && strcmp(eb.code, "NoSuchBucket") == 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_S3_BUCKET",
                         "media storage: %s: there is no bucket %s at the S3 endpoint", what,
                         s->bucket);
    if (r->status == 400 && strcmp(eb.code, "AuthorizationHeaderMalformed") == 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_S3_REGION",
                         "media storage: %s: the S3 server expects another region than %s", what,
                         s->region);
    return error_set(err, ERR_UNAVAILABLE, NULL,
                     "media storage: %s: the S3 server answered %ld (%s)", what, r->status, code);
}

/* ---- uploads --------------------------------------------------------------------------- */

static int s3__put_object(s3_store *s, const char *key, const char *data, size_t len, error *err)
{
    s3__call c = {.method = "PUT", .body = data ? data : "", .body_len = len};
    s3__url(s, key, NULL, c.url);
    http_client_resp r;
    if (s3__send(s, &c, &r, err) != 0)
        return -1;
    int rc = r.status == 200 ? 0 : s3__status_error(s, "storing an object", &r, err);
    http_client_resp_free(&r);
    return rc;
}

static void s3__abort_upload(s3_store *s, const char *key, const char *upload_id)
{
    char enc[3 * sizeof(((s3_xml_upload *)0)->id)], q[sizeof(enc) + 16];
    if (!http_client_urlencode(upload_id, enc, sizeof(enc)))
        return;
    snprintf(q, sizeof(q), "uploadId=%s", enc);
    s3__call c = {.method = "DELETE"};
    s3__url(s, key, q, c.url);
    http_client_resp r;
    error ignored;
    if (s3__send(s, &c, &r, &ignored) == 0)
        http_client_resp_free(&r);
}

/* Reads n bytes at off of fd into out. */
static int s3__pread_all(int fd, char *out, size_t n, int64_t off, const char *name, error *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, out + done, n - done, (off_t)(off + (int64_t)done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return error_set(err, ERR_UNAVAILABLE, NULL,
                             "media storage: reading the spool file of %s failed: %s", name,
                             got == 0 ? "it is shorter than it was" : strerror(errno));
        done += (size_t)got;
    }
    return 0;
}

/* CreateMultipartUpload, UploadPart for each part_size piece of fd,
 * CompleteMultipartUpload; AbortMultipartUpload when any step fails. */
static int s3__multipart(s3_store *s, const char *key, int fd, int64_t size, const char *name,
                         error *err)
{
    int64_t nparts = (size + s->part_size - 1) / s->part_size;
    if (nparts > S3_MAX_PARTS)
        return error_set(err, ERR_TOO_LARGE, NULL,
                         "media storage: %s is %" PRId64 " bytes, more than %d parts of %" PRId64,
                         name, size, S3_MAX_PARTS, s->part_size);
    s3__call c = {.method = "POST", .body = "", .body_len = 0};
    s3__url(s, key, "uploads=", c.url);
    http_client_resp r;
    if (s3__send(s, &c, &r, err) != 0)
        return -1;
    s3_xml_upload u = {.error_seen = false};
    if (r.status != 200) {
        s3__status_error(s, "starting a multipart upload", &r, err);
        http_client_resp_free(&r);
        return -1;
    }
    bool ok = s3_xml_read_upload(r.body.data, r.body.len, &u);
    http_client_resp_free(&r);
    if (!ok || u.id[0] == '\0')
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "media storage: the S3 server's answer to a multipart upload carries no "
                         "readable UploadId");
    char enc_id[3 * sizeof(u.id)];
    if (!http_client_urlencode(u.id, enc_id, sizeof(enc_id)))
        return error_set(err, ERR_UNAVAILABLE, NULL, "media storage: the UploadId is too long");

    char *part = xmalloc((size_t)s->part_size);
    buf done;
    buf_init(&done, 2 * 1024 * 1024);
    buf_puts(&done, "<CompleteMultipartUpload>");
    int rc = 0;
    for (int64_t i = 0; rc == 0 && i < nparts; i++) {
        int64_t off = i * s->part_size;
        size_t n = (size_t)(size - off < s->part_size ? size - off : s->part_size);
        if (s3__pread_all(fd, part, n, off, name, err) != 0) {
            rc = -1;
            break;
        }
        char q[sizeof(enc_id) + 64];
        snprintf(q, sizeof(q), "partNumber=%" PRId64 "&uploadId=%s", i + 1, enc_id);
        s3__call pc = {.method = "PUT", .body = part, .body_len = n};
        s3__url(s, key, q, pc.url);
        if (s3__send(s, &pc, &r, err) != 0) {
            rc = -1;
            break;
        }
        if (r.status != 200 || r.etag[0] == '\0' || strpbrk(r.etag, "<>&") != NULL) {
            rc = r.status != 200 ? s3__status_error(s, "uploading a part", &r, err)
                                 : error_set(err, ERR_UNAVAILABLE, NULL,
                                             "media storage: a part's answer carries no usable "
                                             "ETag");
        } else {
            buf_printf(&done, "<Part><PartNumber>%" PRId64 "</PartNumber><ETag>%s</ETag></Part>",
                       i + 1, r.etag);
        }
        http_client_resp_free(&r);
    }
    free(part);
    if (rc == 0) {
        buf_puts(&done, "</CompleteMultipartUpload>");
        char q[sizeof(enc_id) + 16];
        snprintf(q, sizeof(q), "uploadId=%s", enc_id);
        s3__call cc = {.method = "POST", .body = done.data, .body_len = done.len};
        s3__url(s, key, q, cc.url);
        if (s3__send(s, &cc, &r, err) != 0) {
            rc = -1;
        } else {
            /* S3 may answer 200 and still fail the completion in the body. */
            s3_xml_upload result = {.error_seen = false};
            bool readable = s3_xml_read_upload(r.body.data, r.body.len, &result);
            if (r.status != 200 || result.error_seen)
                rc = s3__status_error(s, "completing a multipart upload", &r, err);
            else if (!readable)
                rc = error_set(err, ERR_UNAVAILABLE, NULL,
                               "media storage: the answer completing a multipart upload is not "
                               "readable XML");
            http_client_resp_free(&r);
        }
    }
    buf_free(&done);
    if (rc != 0)
        s3__abort_upload(s, key, u.id);
    return rc;
}

static int s3__put(media_store *ms, const char *user_id, const char *project_id, const char *name,
                   const void *data, size_t len, error *err)
{
    s3_store *s = (s3_store *)ms;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    char key[S3_KEY_MAX];
    s3__key(s, user_id, project_id, name, key);
    return s3__put_object(s, key, data, len, err);
}

static int s3__temp(media_store *ms, const char *user_id, const char *project_id, const char *name,
                    media_temp *out, error *err)
{
    s3_store *s = (s3_store *)ms;
    memset(out, 0, sizeof(*out));
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    char rnd[UUID_STR_LEN + 1];
    uuid_v7(rnd);
    /* The extension stays last: ffmpeg picks its output format by it. */
    snprintf(out->path, sizeof(out->path), "%s/.tmp-%s-%s", s->tmp_dir, rnd, name);
    int fd = open(out->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        int e = errno;
        out->path[0] = '\0';
        return error_set_io(err, e, "media storage: creating a spool file in %s failed",
                            s->tmp_dir);
    }
    close(fd);
    snprintf(out->dir, sizeof(out->dir), "%s/%s", user_id, project_id);
    snprintf(out->name, sizeof(out->name), "%s", name);
    return 0;
}

static int s3__commit(media_store *ms, media_temp *t, error *err)
{
    s3_store *s = (s3_store *)ms;
    char user_id[UUID_STR_LEN + 1], project_id[UUID_STR_LEN + 1];
    if (sscanf(t->dir, "%36[^/]/%36s", user_id, project_id) != 2 ||
        media_store_check(user_id, project_id, t->name, err) != 0) {
        media_store_unlink_temp(ms, t);
        return error_set(err, ERR_INVALID, "path", "not a temporary file of this store");
    }
    int fd = open(t->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        media_store_unlink_temp(ms, t);
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "media storage: opening the spool file of %s failed: %s", t->name,
                         strerror(e));
    }
    char key[S3_KEY_MAX];
    s3__key(s, user_id, project_id, t->name, key);
    int64_t size = (int64_t)st.st_size;
    int rc;
    if (size > s->part_size) {
        rc = s3__multipart(s, key, fd, size, t->name, err);
    } else {
        char *data = xmalloc(size > 0 ? (size_t)size : 1);
        rc = s3__pread_all(fd, data, (size_t)size, 0, t->name, err);
        if (rc == 0)
            rc = s3__put_object(s, key, data, (size_t)size, err);
        free(data);
    }
    close(fd);
    media_store_unlink_temp(ms, t);
    return rc;
}

/* ---- reading --------------------------------------------------------------------------- */

typedef struct s3__file_sink {
    int fd;
    int64_t written;
    int errnum; /* why a write failed (a full spool disk is ERR_NO_SPACE) */
} s3__file_sink;

static bool s3__to_file(const char *data, size_t n, void *ctx)
{
    s3__file_sink *f = ctx;
    while (n > 0) {
        ssize_t w = write(f->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            f->errnum = w < 0 ? errno : EIO;
            return false;
        }
        data += w;
        n -= (size_t)w;
        f->written += w;
    }
    return true;
}

typedef struct s3__copy {
    char path[3328];
    time_t atime;
    int64_t size;
} s3__copy;

static int s3__copy_older(const void *a, const void *b)
{
    const s3__copy *x = a, *y = b;
    return x->atime < y->atime ? -1 : x->atime > y->atime ? 1 : 0;
}

/* Deletes the least recently opened copies until they fit cache_bytes;
 * keep (a file name) stays. One eviction at a time. */
static void s3__evict(s3_store *s, const char *keep)
{
    pthread_mutex_lock(&s->evict_lock);
    DIR *d = opendir(s->cache_dir);
    if (d == NULL) {
        pthread_mutex_unlock(&s->evict_lock);
        return;
    }
    s3__copy *copies = NULL;
    size_t n = 0, cap = 0;
    int64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        s3__copy c;
        snprintf(c.path, sizeof(c.path), "%s/%s", s->cache_dir, de->d_name);
        struct stat st;
        if (lstat(c.path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        c.atime = st.st_mtim.tv_sec; /* touched on every open */
        c.size = (int64_t)st.st_size;
        total += c.size;
        if (strcmp(de->d_name, keep) == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            copies = xrealloc(copies, cap * sizeof(*copies));
        }
        copies[n++] = c;
    }
    closedir(d);
    if (n > 0)
        qsort(copies, n, sizeof(*copies), s3__copy_older);
    for (size_t i = 0; i < n && total > s->cache_bytes; i++)
        if (unlink(copies[i].path) == 0)
            total -= copies[i].size;
    free(copies);
    pthread_mutex_unlock(&s->evict_lock);
}

/* Deletes the local copies whose names start with stem (a project's or one file's). */
static void s3__forget(s3_store *s, const char *stem)
{
    DIR *d = opendir(s->cache_dir);
    if (d == NULL)
        return;
    size_t n = strlen(stem);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, stem, n) == 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

/* The stems of a project's and one file's copies: <project hash>- and <project hash>-<name hash>-.
 */
static void s3__stems(const char *user_id, const char *project_id, const char *name,
                      char project_stem[20], char file_stem[40])
{
    char up[2 * UUID_STR_LEN + 2], hp[17], hn[17];
    snprintf(up, sizeof(up), "%s/%s", user_id, project_id);
    s3__short_hash(up, hp);
    snprintf(project_stem, 20, "%s-", hp);
    if (name != NULL) {
        s3__short_hash(name, hn);
        snprintf(file_stem, 40, "%s-%s-", hp, hn);
    }
}

/* Downloads key (the version tagged etag, size bytes) into a new file of
 * the cache directory; its descriptor, or -1 with err. When keep_as is
 * NULL the file is unlinked at once (only the descriptor holds it). */
static int s3__download(s3_store *s, const char *key, const char *etag, int64_t size,
                        const char *keep_as, error *err)
{
    char rnd[UUID_STR_LEN + 1], tmp[3200];
    uuid_v7(rnd);
    snprintf(tmp, sizeof(tmp), "%s/.dl-%s", s->cache_dir, rnd);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return error_set_io(err, errno, "media storage: creating a local copy in %s failed",
                            s->cache_dir);
    char if_match[300];
    snprintf(if_match, sizeof(if_match), "If-Match: %s", etag);
    s3__file_sink sink = {.fd = fd};
    s3__call c = {.method = "GET",
                  .extra_header = etag[0] ? if_match : NULL,
                  .sink = s3__to_file,
                  .sink_ctx = &sink,
                  .max_response = (size_t)size + 1};
    s3__url(s, key, NULL, c.url);
    http_client_resp r;
    int rc = s3__send(s, &c, &r, err);
    if (sink.errnum != 0) {
        if (rc == 0)
            http_client_resp_free(&r);
        rc = error_set_io(err, sink.errnum, "media storage: writing a local copy in %s failed",
                          s->cache_dir);
    } else if (rc == 0) {
        if (r.status == 412)
            rc = error_set(err, ERR_CONFLICT, NULL, "media storage: the object changed while read");
        else if (r.status == 404)
            rc = error_set(err, ERR_NOT_FOUND, "path", "no such media");
        else if (r.status != 200)
            rc = s3__status_error(s, "reading an object", &r, err);
        else if (sink.written != size)
            rc = error_set(err, ERR_UNAVAILABLE, NULL,
                           "media storage: the object's body is %" PRId64 " bytes, not the %" PRId64
                           " its headers said",
                           sink.written, size);
        http_client_resp_free(&r);
    }
    if (rc == 0 && keep_as != NULL) {
        char final[3200];
        snprintf(final, sizeof(final), "%s/%s", s->cache_dir, keep_as);
        if (rename(tmp, final) != 0)
            rc = error_set(err, ERR_UNAVAILABLE, NULL,
                           "media storage: keeping a local copy failed: %s", strerror(errno));
    }
    if (rc != 0 || keep_as == NULL)
        unlink(tmp);
    /* The writes left the offset at the end; a reader that reads rather
     * than preads (the render's copy) must start where a fresh open does. */
    if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
        rc = error_set(err, ERR_UNAVAILABLE, NULL,
                       "media storage: rewinding a local copy failed: %s", strerror(errno));
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* HEAD of key (the media name): ERR_NOT_FOUND when there is no such object. */
static int s3__head(s3_store *s, const char *key, const char *name, http_client_resp *r, error *err)
{
    /* The cap applies to a HEAD's Content-Length too: any size may be asked about. */
    s3__call c = {.method = "HEAD", .max_response = (size_t)1 << 50};
    s3__url(s, key, NULL, c.url);
    if (s3__send(s, &c, r, err) != 0)
        return -1;
    if (r->status == 200 && r->content_length >= 0)
        return 0;
    int rc = r->status == 404 ? error_set(err, ERR_NOT_FOUND, "path", "no media named %s", name)
             : r->status == 200
                 ? error_set(err, ERR_UNAVAILABLE, NULL,
                             "media storage: the S3 server gave no Content-Length for an object")
                 : s3__status_error(s, "looking up an object", r, err);
    http_client_resp_free(r);
    return rc;
}

static int s3__open_once(s3_store *s, const char *user_id, const char *project_id, const char *name,
                         media_file *out, error *err)
{
    char key[S3_KEY_MAX];
    s3__key(s, user_id, project_id, name, key);
    http_client_resp h;
    if (s3__head(s, key, name, &h, err) != 0)
        return -1;
    int64_t size = h.content_length;
    char etag[256], last_modified[64];
    snprintf(etag, sizeof(etag), "%s", h.etag);
    snprintf(last_modified, sizeof(last_modified), "%s", h.last_modified);
    http_client_resp_free(&h);

    /* The copy's name: the file's stem, then the version's hash. */
    char pstem[20], fstem[40], version[400], hv[17], copy[80];
    s3__stems(user_id, project_id, name, pstem, fstem);
    snprintf(version, sizeof(version), "%s|%" PRId64 "|%s", etag, size, last_modified);
    s3__short_hash(version, hv);
    snprintf(copy, sizeof(copy), "%s%s", fstem, hv);

    int fd = -1;
    if (s->cache_bytes > 0) {
        char path[3200];
        snprintf(path, sizeof(path), "%s/%s", s->cache_dir, copy);
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || (int64_t)st.st_size != size)) {
            close(fd);
            fd = -1;
        }
        if (fd >= 0)
            futimens(fd, NULL); /* most recently opened: evicted last */
    }
    if (fd < 0) {
        fd = s3__download(s, key, etag, size, s->cache_bytes > 0 ? copy : NULL, err);
        if (fd < 0)
            return -1;
        if (s->cache_bytes > 0)
            s3__evict(s, copy);
    }
    out->fd = fd;
    out->size = size;
    time_t when = last_modified[0] ? curl_getdate(last_modified, NULL) : -1;
    out->mtime_ns = when > 0 ? (int64_t)when * 1000000000 : 0;
    unsigned char id[crypto_hash_sha256_BYTES];
    char ident[S3_KEY_MAX + 420];
    snprintf(ident, sizeof(ident), "%s\n%s", key, version);
    crypto_hash_sha256(id, (const unsigned char *)ident, strlen(ident));
    memcpy(&out->identity, id, sizeof(out->identity));
    return 0;
}

static int s3__open(media_store *ms, const char *user_id, const char *project_id, const char *name,
                    media_file *out, error *err)
{
    s3_store *s = (s3_store *)ms;
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    /* A write between the HEAD and the GET fails the GET's If-Match: once more. */
    int rc = s3__open_once(s, user_id, project_id, name, out, err);
    if (rc != 0 && err->kind == ERR_CONFLICT)
        rc = s3__open_once(s, user_id, project_id, name, out, err);
    if (rc != 0 && err->kind == ERR_CONFLICT)
        err->kind = ERR_UNAVAILABLE;
    return rc;
}

/* ---- deleting and listing -------------------------------------------------------------- */

static int s3__delete_key(s3_store *s, const char *key, error *err)
{
    s3__call c = {.method = "DELETE"};
    s3__url(s, key, NULL, c.url);
    http_client_resp r;
    if (s3__send(s, &c, &r, err) != 0)
        return -1;
    int rc = r.status == 204 || r.status == 200 || r.status == 404
                 ? 0
                 : s3__status_error(s, "deleting an object", &r, err);
    http_client_resp_free(&r);
    return rc;
}

static int s3__remove(media_store *ms, const char *user_id, const char *project_id,
                      const char *name, error *err)
{
    s3_store *s = (s3_store *)ms;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    char key[S3_KEY_MAX], pstem[20], fstem[40];
    s3__key(s, user_id, project_id, name, key);
    s3__stems(user_id, project_id, name, pstem, fstem);
    s3__forget(s, fstem);
    return s3__delete_key(s, key, err);
}

/* Lists prefix (with "/" as delimiter when delimited), one page after
 * token (NULL: the first), from after start_after (NULL: the start). The parameters are in
 * canonical (sorted) order, because libcurl 7.88 signs the query as it is written. */
static int s3__list(s3_store *s, const char *prefix, bool delimited, const char *token,
                    const char *start_after, s3_xml_page *out, error *err)
{
    memset(out, 0, sizeof(*out));
    out->delimited = delimited;
    char enc_prefix[3 * S3_KEY_MAX], enc_token[3 * sizeof(out->next)], enc_after[3 * S3_KEY_MAX];
    if (!http_client_urlencode(prefix, enc_prefix, sizeof(enc_prefix)) ||
        !http_client_urlencode(token ? token : "", enc_token, sizeof(enc_token)) ||
        !http_client_urlencode(start_after ? start_after : "", enc_after, sizeof(enc_after)))
        return error_set(err, ERR_UNAVAILABLE, NULL, "media storage: a listing token is too long");
    char q[sizeof(enc_prefix) + sizeof(enc_token) + sizeof(enc_after) + 128];
    snprintf(q, sizeof(q), "%s%s%s%slist-type=2&prefix=%s%s%s", token ? "continuation-token=" : "",
             token ? enc_token : "", token ? "&" : "", delimited ? "delimiter=%2F&" : "",
             enc_prefix, start_after ? "&start-after=" : "", start_after ? enc_after : "");
    s3__call c = {.method = "GET"};
    s3__url(s, "", q, c.url);
    http_client_resp r;
    if (s3__send(s, &c, &r, err) != 0)
        return -1;
    int rc = 0;
    if (r.status != 200)
        rc = s3__status_error(s, "listing objects", &r, err);
    else if (!s3_xml_read_list(r.body.data, r.body.len, out))
        rc = error_set(err, ERR_UNAVAILABLE, NULL,
                       "media storage: the S3 server's object list is not readable XML");
    else if (out->truncated && out->next[0] == '\0')
        rc = error_set(err, ERR_UNAVAILABLE, NULL,
                       "media storage: the S3 server's object list is cut without a "
                       "continuation token");
    http_client_resp_free(&r);
    if (rc != 0)
        s3_xml_page_free(out);
    return rc;
}

static int s3__remove_project(media_store *ms, const char *user_id, const char *project_id,
                              error *err)
{
    s3_store *s = (s3_store *)ms;
    if (media_store_check(user_id, project_id, NULL, err) != 0)
        return -1;
    char prefix[S3_KEY_MAX], pstem[20], fstem[40];
    s3__key(s, user_id, project_id, NULL, prefix);
    s3__stems(user_id, project_id, NULL, pstem, fstem);
    s3__forget(s, pstem);
    /* Deleting as it lists: each page is listed from the start again, so a
     * page never skips a key the deletions moved forward. */
    for (int pages = 0; pages < 100000; pages++) {
        s3_xml_page p;
        if (s3__list(s, prefix, false, NULL, NULL, &p, err) != 0)
            return -1;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < p.n; i++)
            if (strncmp(p.items[i], prefix, strlen(prefix)) == 0)
                rc = s3__delete_key(s, p.items[i], err);
        bool more = p.truncated && p.n > 0;
        s3_xml_page_free(&p);
        if (rc != 0 || !more)
            return rc;
    }
    return 0;
}

/* The project's file names (the media service's prune reads them): the
 * keys under its prefix, page by page with the continuation token. */
static int s3__list_names(media_store *ms, const char *user_id, const char *project_id,
                          void (*fn)(const char *name, void *ctx), void *ctx, error *err)
{
    s3_store *s = (s3_store *)ms;
    if (media_store_check(user_id, project_id, NULL, err) != 0)
        return -1;
    char prefix[S3_KEY_MAX];
    s3__key(s, user_id, project_id, NULL, prefix);
    size_t plen = strlen(prefix);
    char token[sizeof(((s3_xml_page *)0)->next)] = "";
    for (int pages = 0; pages < 100000; pages++) {
        s3_xml_page p;
        if (s3__list(s, prefix, false, token[0] ? token : NULL, NULL, &p, err) != 0)
            return -1;
        for (size_t i = 0; i < p.n; i++)
            if (strncmp(p.items[i], prefix, plen) == 0 && strchr(p.items[i] + plen, '/') == NULL &&
                p.items[i][plen] != '\0')
                fn(p.items[i] + plen, ctx);
        bool more = p.truncated;
        snprintf(token, sizeof(token), "%s", p.next);
        s3_xml_page_free(&p);
        if (!more)
            return 0;
    }
    return 0;
}

/* The segment of a common prefix after base: "<base><seg>/" → seg, when a uuid. */
static bool s3__segment(const char *common, const char *base, char seg[UUID_STR_LEN + 1])
{
    size_t n = strlen(base);
    if (strncmp(common, base, n) != 0 || strlen(common + n) != UUID_STR_LEN + 1 ||
        common[n + UUID_STR_LEN] != '/')
        return false;
    memcpy(seg, common + n, UUID_STR_LEN);
    seg[UUID_STR_LEN] = '\0';
    return uuid_is_valid(seg);
}

/* Calls each(common prefix) for every common prefix under base, across pages. */
static int s3__each_prefix(s3_store *s, const char *base,
                           int (*each)(s3_store *, const char *, void *), void *ctx, error *err)
{
    char token[1024] = "";
    do {
        s3_xml_page p;
        if (s3__list(s, base, true, token[0] ? token : NULL, NULL, &p, err) != 0)
            return -1;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < p.n; i++)
            rc = each(s, p.items[i], ctx);
        snprintf(token, sizeof(token), "%s", p.truncated ? p.next : "");
        s3_xml_page_free(&p);
        if (rc != 0)
            return rc;
    } while (token[0]);
    return 0;
}

typedef struct s3__walk {
    void (*fn)(const char *user_id, const char *project_id, void *ctx);
    void *ctx;
    char user_id[UUID_STR_LEN + 1];
    char user_base[S3_KEY_MAX];
    error *err;
} s3__walk;

static int s3__each_project(s3_store *s, const char *common, void *ctx)
{
    (void)s;
    s3__walk *w = ctx;
    char project_id[UUID_STR_LEN + 1];
    if (s3__segment(common, w->user_base, project_id))
        w->fn(w->user_id, project_id, w->ctx);
    return 0;
}

/* Users are found by a skip scan: a page of keys, each new user in it
 * listed, then the next page from after the last user's keys. A delimited
 * listing would be cheaper, but some S3 implementations (s3rver) leave out
 * common prefixes whose objects lie two levels further down. Projects, one
 * level down, are listed delimited. */
static int s3__list_projects(media_store *ms,
                             void (*fn)(const char *user_id, const char *project_id, void *ctx),
                             void *ctx, error *err)
{
    s3_store *s = (s3_store *)ms;
    s3__walk w = {.fn = fn, .ctx = ctx, .err = err};
    char after[S3_KEY_MAX] = "";
    size_t plen = strlen(s->prefix);
    for (;;) {
        s3_xml_page p;
        if (s3__list(s, s->prefix, false, NULL, after[0] ? after : NULL, &p, err) != 0)
            return -1;
        bool more = p.truncated && p.n > 0;
        int rc = 0;
        char last[UUID_STR_LEN + 1] = "";
        for (size_t i = 0; rc == 0 && i < p.n; i++) {
            const char *key = p.items[i];
            const char *slash = strncmp(key, s->prefix, plen) == 0 ? strchr(key + plen, '/') : NULL;
            /* <prefix><user>/…: the next user's keys sort after <prefix><user>0 ('0' follows '/').
             */
            if (slash != NULL && (size_t)(slash - key) + 2 <= sizeof(after))
                snprintf(after, sizeof(after), "%.*s0", (int)(slash - key), key);
            else
                snprintf(after, sizeof(after), "%s", key); /* not of this layout: step over it */
            if (slash == NULL || (size_t)(slash - key) != plen + UUID_STR_LEN)
                continue;
            memcpy(w.user_id, key + plen, UUID_STR_LEN);
            w.user_id[UUID_STR_LEN] = '\0';
            if (strcmp(w.user_id, last) == 0 || !uuid_is_valid(w.user_id))
                continue;
            snprintf(last, sizeof(last), "%s", w.user_id);
            snprintf(w.user_base, sizeof(w.user_base), "%s%s/", s->prefix, w.user_id);
            rc = s3__each_prefix(s, w.user_base, s3__each_project, &w, err);
        }
        s3_xml_page_free(&p);
        if (rc != 0 || !more)
            return rc;
    }
}

/* ---- presigned URLs ---------------------------------------------------------------------- */

bool media_s3_presign_url(const char *url, const char *region, const char *access_key_id,
                          const char *secret_key, int64_t now, int expiry_s, char *out, size_t n)
{
    /* scheme://host[:port]/path?query → host, path, query. */
    const char *hs = strstr(url, "://");
    if (hs == NULL)
        return false;
    hs += 3;
    const char *ps = strchr(hs, '/');
    if (ps == NULL)
        return false;
    const char *qs = strchr(ps, '?');
    size_t host_len = (size_t)(ps - hs);
    size_t path_len = qs ? (size_t)(qs - ps) : strlen(ps);
    const char *query = qs ? qs + 1 : "";

    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[16], stamp[20];
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    char scope[160], cred[512], enc_cred[1536];
    snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date, region);
    snprintf(cred, sizeof(cred), "%s/%s", access_key_id, scope);
    if (!http_client_urlencode(cred, enc_cred, sizeof(enc_cred)))
        return false;
    /* The X-Amz-* parameters sort after lower-case ones ('X' < 'a'), so
     * they go first when the URL's own query is lower-case (response-*). */
    buf q;
    buf_init(&q, 2 * S3_URL_MAX);
    buf_printf(&q,
               "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s&X-Amz-"
               "Expires=%d&X-Amz-SignedHeaders=host%s%s",
               enc_cred, stamp, expiry_s, query[0] ? "&" : "", query);
    buf canon;
    buf_init(&canon, 4 * S3_URL_MAX);
    buf_printf(&canon, "GET\n%.*s\n%s\nhost:%.*s\n\nhost\nUNSIGNED-PAYLOAD", (int)path_len, ps,
               q.data, (int)host_len, hs);
    char canon_hash[65];
    s3__sha256_hex(canon.data, canon.len, canon_hash);
    buf_free(&canon);
    char to_sign[400];
    snprintf(to_sign, sizeof(to_sign), "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope, canon_hash);

    unsigned char k[crypto_auth_hmacsha256_BYTES];
    char secret[300];
    snprintf(secret, sizeof(secret), "AWS4%s", secret_key);
    s3__hmac((const unsigned char *)secret, strlen(secret), date, k);
    sodium_memzero(secret, sizeof(secret));
    s3__hmac(k, sizeof(k), region, k);
    s3__hmac(k, sizeof(k), "s3", k);
    s3__hmac(k, sizeof(k), "aws4_request", k);
    unsigned char sig[crypto_auth_hmacsha256_BYTES];
    s3__hmac(k, sizeof(k), to_sign, sig);
    sodium_memzero(k, sizeof(k));
    char sig_hex[65];
    s3__hex(sig, sizeof(sig), sig_hex);
    int w = snprintf(out, n, "%.*s?%s&X-Amz-Signature=%s",
                     (int)(qs ? qs - url : (ptrdiff_t)strlen(url)), url, q.data, sig_hex);
    buf_free(&q);
    return w > 0 && (size_t)w < n;
}

static int s3__presign(media_store *ms, const char *user_id, const char *project_id,
                       const char *name, const char *content_type, char *url, size_t n, error *err)
{
    s3_store *s = (s3_store *)ms;
    if (!s->presigned)
        return 0;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    char key[S3_KEY_MAX];
    s3__key(s, user_id, project_id, name, key);
    http_client_resp h;
    if (s3__head(s, key, name, &h, err) != 0)
        return -1;
    http_client_resp_free(&h);
    char q[400] = "", enc[300], base[S3_URL_MAX];
    if (content_type != NULL && http_client_urlencode(content_type, enc, sizeof(enc)))
        snprintf(q, sizeof(q), "response-content-type=%s", enc);
    s3__url(s, key, q, base);
    if (!media_s3_presign_url(base, s->region, s->key_id, s->secret, (int64_t)time(NULL),
                              s->presign_expiry_s, url, n))
        return error_set(err, ERR_INTERNAL, NULL, "media storage: a presigned URL is too long");
    return 1;
}

static void s3__free(media_store *ms)
{
    s3_store *s = (s3_store *)ms;
    pthread_mutex_destroy(&s->evict_lock);
    sodium_memzero(s->secret, sizeof(s->secret));
    free(s);
}

static const media_store_vt s3__vt = {
    .put = s3__put,
    .temp = s3__temp,
    .commit = s3__commit,
    .discard = media_store_unlink_temp,
    .open = s3__open,
    .remove = s3__remove,
    .remove_project = s3__remove_project,
    .list = s3__list_names,
    .list_projects = s3__list_projects,
    .presign = s3__presign,
    .free = s3__free,
};

/* ---- settings -------------------------------------------------------------------------- */

static bool s3__chars(const char *v, const char *extra)
{
    for (const char *c = v; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(extra, *c) != NULL))
            return false;
    return true;
}

static bool s3__prefix_ok(const char *p)
{
    if (p[0] == '\0')
        return true;
    if (strlen(p) > 200 || p[0] == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//") ||
        !s3__chars(p, "._-/"))
        return false;
    /* No "." or ".." segment: a URL normaliser would change the key. */
    for (const char *seg = p; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
        if (strncmp(seg, ".", 1) == 0 && (seg[1] == '/' || seg[1] == '\0' ||
                                          (seg[1] == '.' && (seg[2] == '/' || seg[2] == '\0'))))
            return false;
    return true;
}

static bool s3__mkdir(const char *path)
{
    return mkdir(path, 0750) == 0 || errno == EEXIST;
}

/* Splits the endpoint into scheme and host[:port] (the port only when not the scheme's). */
static int s3__endpoint(s3_store *s, const char *endpoint, error *err)
{
    int rc = -1;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, endpoint, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        curl_url_get(u, CURLUPART_USER, &user, 0);
        bool default_port = port == NULL ||
                            (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                            (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
        if ((path == NULL || strcmp(path, "/") == 0) && query == NULL && user == NULL &&
            strlen(host) < 200) {
            snprintf(s->scheme, sizeof(s->scheme), "%s", scheme);
            if (default_port)
                snprintf(s->hostport, sizeof(s->hostport), "%s", host);
            else
                snprintf(s->hostport, sizeof(s->hostport), "%s:%s", host, port);
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    if (rc != 0)
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_ENDPOINT",
                  "PSTUDIO_S3_ENDPOINT must be an http:// or https:// URL of a host (and port), "
                  "with no path, query or user");
    return rc;
}

media_store *media_store_s3(const media_s3_settings *set, error *err)
{
    const char *missing = set->endpoint == NULL        ? "PSTUDIO_S3_ENDPOINT"
                          : set->bucket == NULL        ? "PSTUDIO_S3_BUCKET"
                          : set->access_key_id == NULL ? "PSTUDIO_S3_ACCESS_KEY_ID"
                          : set->secret_key == NULL    ? "PSTUDIO_S3_SECRET_ACCESS_KEY"
                                                       : NULL;
    if (missing != NULL) {
        error_set(err, ERR_CONFIG, missing, "PSTUDIO_MEDIA_STORE=s3 needs %s", missing);
        return NULL;
    }
    size_t bl = strlen(set->bucket);
    if (bl < 3 || bl > 63 || !s3__chars(set->bucket, ".-") ||
        strpbrk(set->bucket, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_BUCKET",
                  "PSTUDIO_S3_BUCKET must be 3-63 lower-case letters, digits, '.' and '-'");
        return NULL;
    }
    const char *region = set->region ? set->region : "us-east-1";
    if (region[0] == '\0' || strlen(region) > 60 || !s3__chars(region, "-_")) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_REGION",
                  "PSTUDIO_S3_REGION must be a region name such as us-east-1");
        return NULL;
    }
    if (strlen(set->access_key_id) > 120 || !s3__chars(set->access_key_id, "._-")) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_ACCESS_KEY_ID",
                  "PSTUDIO_S3_ACCESS_KEY_ID must be at most 120 letters and digits");
        return NULL;
    }
    if (strlen(set->secret_key) > 250 || strpbrk(set->secret_key, " \t\r\n:") != NULL) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_SECRET_ACCESS_KEY",
                  "PSTUDIO_S3_SECRET_ACCESS_KEY must be at most 250 characters, with no blanks "
                  "or ':'");
        return NULL;
    }
    const char *prefix = set->prefix ? set->prefix : "";
    if (!s3__prefix_ok(prefix)) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_PREFIX",
                  "PSTUDIO_S3_PREFIX must be segments of letters, digits, '.', '_' and '-' "
                  "joined by '/', with no '.' or '..' segment and no leading or trailing '/'");
        return NULL;
    }
    if (set->part_size < S3_MIN_PART || set->part_size > (int64_t)1 << 32) {
        error_set(err, ERR_CONFIG, "PSTUDIO_S3_PART_SIZE_MB",
                  "the multipart part size must be from 5 MiB to 4 GiB");
        return NULL;
    }
    if (set->spool_dir == NULL || strlen(set->spool_dir) > 2900) {
        error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR", "the S3 spool directory needs a path");
        return NULL;
    }
    s3_store *s = xcalloc(1, sizeof(*s));
    s->base.vt = &s3__vt;
    if (s3__endpoint(s, set->endpoint, err) != 0) {
        free(s);
        return NULL;
    }
    snprintf(s->bucket, sizeof(s->bucket), "%s", set->bucket);
    snprintf(s->region, sizeof(s->region), "%s", region);
    snprintf(s->key_id, sizeof(s->key_id), "%s", set->access_key_id);
    snprintf(s->secret, sizeof(s->secret), "%s", set->secret_key);
    snprintf(s->prefix, sizeof(s->prefix), "%s%s", prefix, prefix[0] ? "/" : "");
    snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
    s->path_style = set->path_style;
    s->presigned = set->presigned;
    s->presign_expiry_s = set->presign_expiry_s > 0 ? set->presign_expiry_s : 300;
    s->part_size = set->part_size;
    s->cache_bytes = set->cache_bytes > 0 ? set->cache_bytes : 0;
    s->timeout_ms = set->timeout_ms;
    pthread_mutex_init(&s->evict_lock, NULL);
    snprintf(s->tmp_dir, sizeof(s->tmp_dir), "%s/tmp", set->spool_dir);
    snprintf(s->cache_dir, sizeof(s->cache_dir), "%s/cache", set->spool_dir);
    if (!s3__mkdir(set->spool_dir) || !s3__mkdir(s->tmp_dir) || !s3__mkdir(s->cache_dir)) {
        error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR",
                  "cannot create the S3 spool directory %s: %s", set->spool_dir, strerror(errno));
        s3__free(&s->base);
        return NULL;
    }
    return &s->base;
}
