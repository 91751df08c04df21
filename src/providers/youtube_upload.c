#include "providers/youtube_upload.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YOUTUBE_UPLOAD_TIMEOUT_MS 300000L /* one chunk of several MiB on a slow link */

char *youtube_upload_resource(const youtube_upload_meta *m)
{
    json_t *tags = json_array();
    for (size_t i = 0; i < m->ntags; i++)
        json_array_append_new(tags, json_string(m->tags[i]));
    json_t *snippet =
        json_pack("{s:s,s:s,s:o,s:s}", "title", m->title, "description",
                  m->description ? m->description : "", "tags", tags, "categoryId", m->category_id);
    if (m->default_language != NULL) {
        json_object_set_new(snippet, "defaultLanguage", json_string(m->default_language));
        json_object_set_new(snippet, "defaultAudioLanguage", json_string(m->default_language));
    }
    json_t *status =
        json_pack("{s:s,s:b,s:b}", "privacyStatus", m->privacy_status, "selfDeclaredMadeForKids",
                  m->made_for_kids, "containsSyntheticMedia", m->contains_synthetic_media);
    if (m->publish_at != NULL)
        json_object_set_new(status, "publishAt", json_string(m->publish_at));
    json_t *doc = json_pack("{s:o,s:o}", "snippet", snippet, "status", status);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* "scheme://host[:port]" of url: its length, 0 when it has none. */
static size_t youtube_upload__origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

/* True when session_uri is on upload_url's origin (the token goes only there). */
static bool youtube_upload__same_origin(const char *upload_url, const char *session_uri)
{
    size_t n = youtube_upload__origin_len(upload_url);
    return n > 0 && youtube_upload__origin_len(session_uri) == n &&
           strncmp(upload_url, session_uri, n) == 0;
}

/* Every upload request: the body may be binary, and a chunk may take long. */
static int youtube_upload__send(const char *method, const char *url, const char *const *headers,
                                const void *body, size_t len, http_client_resp *resp,
                                google_status *st, error *err)
{
    return google_oauth_send_bytes(method, url, headers, body ? body : "", len,
                                   YOUTUBE_UPLOAD_TIMEOUT_MS, resp, st, err);
}

static char *youtube_upload__bearer(const char *access, size_t *n)
{
    *n = strlen(access) + 32;
    char *b = xmalloc(*n);
    snprintf(b, *n, "Authorization: Bearer %s", access);
    return b;
}

static void youtube_upload__bearer_free(char *b, size_t n)
{
    sodium_memzero(b, n);
    free(b);
}

int youtube_upload_start(const char *upload_url, const char *access, const youtube_upload_meta *m,
                         int64_t total, const char *content_type, arena *a,
                         const char **session_uri, google_status *st, error *err)
{
    *session_uri = NULL;
    char url[2048], len_h[64], type_h[160];
    snprintf(url, sizeof(url), "%s/youtube/v3/videos?uploadType=resumable&part=snippet%%2Cstatus",
             upload_url);
    snprintf(len_h, sizeof(len_h), "X-Upload-Content-Length: %" PRId64, total);
    snprintf(type_h, sizeof(type_h), "X-Upload-Content-Type: %s", content_type);
    size_t bn;
    char *bearer = youtube_upload__bearer(access, &bn);
    const char *const headers[] = {bearer,
                                   "Content-Type: application/json; charset=UTF-8",
                                   len_h,
                                   type_h,
                                   "Accept: application/json",
                                   NULL};
    char *body = youtube_upload_resource(m);
    http_client_resp resp;
    int rc = youtube_upload__send("POST", url, headers, body, strlen(body), &resp, st, err);
    free(body);
    youtube_upload__bearer_free(bearer, bn);
    if (rc != 0) {
        http_client_resp_free(&resp);
        return -1;
    }
    if (resp.status < 200 || resp.status > 299) {
        google_oauth_fail(&resp, "starting the YouTube upload", st, err);
        http_client_resp_free(&resp);
        return -1;
    }
    if (resp.location[0] == '\0' || !youtube_upload__same_origin(upload_url, resp.location)) {
        st->fault = GOOGLE_REJECTED;
        error_set(err, ERR_UNAVAILABLE, NULL,
                  "YouTube started the upload without a session URI on the upload origin");
        http_client_resp_free(&resp);
        return -1;
    }
    *session_uri = arena_strdup(a, resp.location);
    http_client_resp_free(&resp);
    return 0;
}

/* Range: bytes=0-N of a 308; N+1 bytes held. False when malformed or past total. */
static bool youtube_upload__range(const char *v, int64_t total, int64_t *held)
{
    if (*v == '\0') {
        *held = 0;
        return true;
    }
    if (strncmp(v, "bytes=0-", 8) != 0)
        return false;
    char *end = NULL;
    long long last = strtoll(v + 8, &end, 10);
    /* last >= total, not last + 1 > total: "bytes=0-9223372036854775807"
     * must be refused, not overflow (found by fuzz/youtube_upload.c). */
    if (end == v + 8 || *end != '\0' || last < 0 || last >= total)
        return false;
    *held = (int64_t)last + 1;
    return true;
}

int youtube_upload__answer(const http_client_resp *resp, int64_t total, youtube_upload_state *out,
                           google_status *st, error *err)
{
    memset(out, 0, sizeof(*out));
    if (resp->status == 308) {
        if (!youtube_upload__range(resp->range, total, &out->offset)) {
            st->fault = GOOGLE_REJECTED;
            return error_set(err, ERR_UNAVAILABLE, NULL,
                             "the YouTube upload session answered an unreadable Range");
        }
        return 0;
    }
    if (resp->status == 200 || resp->status == 201) {
        json_t *doc = json_loads(buf_cstr(&resp->body), 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "id"));
        size_t n = id ? strlen(id) : 0;
        bool ok = n > 0 && n <= YOUTUBE_VIDEO_ID_MAX &&
                  strspn(id, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-_") == n;
        if (ok)
            memcpy(out->video_id, id, n + 1);
        json_decref(doc);
        if (!ok) {
            st->fault = GOOGLE_REJECTED;
            return error_set(err, ERR_UNAVAILABLE, NULL,
                             "YouTube finished the upload without a readable video id");
        }
        out->done = true;
        out->offset = total;
        return 0;
    }
    if (resp->status == 404 || resp->status == 410) {
        out->gone = true;
        st->fault = GOOGLE_REJECTED;
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "the YouTube upload session has expired (HTTP %ld)", resp->status);
    }
    return google_oauth_fail(resp, "the YouTube upload", st, err);
}

static int youtube_upload__session_put(const char *upload_url, const char *session_uri,
                                       const char *access, const char *range_h, const char *type_h,
                                       const void *data, size_t len, int64_t total,
                                       youtube_upload_state *out, google_status *st, error *err)
{
    memset(out, 0, sizeof(*out));
    if (!youtube_upload__same_origin(upload_url, session_uri)) {
        st->fault = GOOGLE_REJECTED;
        return error_set(err, ERR_INTERNAL, NULL,
                         "the stored upload session is not on the YouTube upload origin");
    }
    size_t bn;
    char *bearer = youtube_upload__bearer(access, &bn);
    const char *const headers[] = {bearer, range_h, type_h, NULL};
    http_client_resp resp;
    int rc = youtube_upload__send("PUT", session_uri, headers, data, len, &resp, st, err);
    youtube_upload__bearer_free(bearer, bn);
    if (rc == 0)
        rc = youtube_upload__answer(&resp, total, out, st, err);
    http_client_resp_free(&resp);
    return rc;
}

int youtube_upload_put(const char *upload_url, const char *session_uri, const char *access,
                       const void *data, size_t len, int64_t offset, int64_t total,
                       const char *content_type, youtube_upload_state *out, google_status *st,
                       error *err)
{
    if (len == 0 || offset < 0 || offset + (int64_t)len > total)
        return error_set(err, ERR_INTERNAL, NULL, "an upload chunk must lie inside the file");
    char range_h[128], type_h[160];
    snprintf(range_h, sizeof(range_h), "Content-Range: bytes %" PRId64 "-%" PRId64 "/%" PRId64,
             offset, offset + (int64_t)len - 1, total);
    snprintf(type_h, sizeof(type_h), "Content-Type: %s", content_type);
    return youtube_upload__session_put(upload_url, session_uri, access, range_h, type_h, data, len,
                                       total, out, st, err);
}

int youtube_upload_query(const char *upload_url, const char *session_uri, const char *access,
                         int64_t total, youtube_upload_state *out, google_status *st, error *err)
{
    char range_h[96];
    snprintf(range_h, sizeof(range_h), "Content-Range: bytes */%" PRId64, total);
    return youtube_upload__session_put(upload_url, session_uri, access, range_h,
                                       "Content-Type: application/octet-stream", NULL, 0, total,
                                       out, st, err);
}

int youtube_thumbnail_set(const char *upload_url, const char *access, const char *video_id,
                          const void *data, size_t len, const char *content_type, google_status *st,
                          error *err)
{
    char url[2048], type_h[160];
    snprintf(url, sizeof(url), "%s/youtube/v3/thumbnails/set?videoId=%s&uploadType=media",
             upload_url, video_id); /* video ids are [A-Za-z0-9_-]: nothing to encode */
    snprintf(type_h, sizeof(type_h), "Content-Type: %s", content_type);
    size_t bn;
    char *bearer = youtube_upload__bearer(access, &bn);
    const char *const headers[] = {bearer, type_h, "Accept: application/json", NULL};
    http_client_resp resp;
    int rc = youtube_upload__send("POST", url, headers, data, len, &resp, st, err);
    youtube_upload__bearer_free(bearer, bn);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = google_oauth_fail(&resp, "setting the YouTube thumbnail", st, err);
    http_client_resp_free(&resp);
    return rc;
}
