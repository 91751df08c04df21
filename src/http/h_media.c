/*
 * A project's media: asking for its narration and images (every scene, or
 * one scene's again) and reading its files. Files are served to the project's owner only
 * (another user's project is a 404 like any other), with single byte
 * ranges (206, or 416 past the end), a strong ETag from the file's identity
 * (If-None-Match: 304) and the Content-Type of its extension. The name is
 * one path segment checked by the media service: '..', '/', a leading '.'
 * and NUL are refused (400), whether sent plainly or percent-encoded, and
 * the store never follows a symbolic link. A store that serves by redirect
 * (S3 in presigned mode) answers 302 to a short-lived presigned URL instead.
 */
#include "http/api.h"
#include "http/h_projects.h"
#include "http/routes.h"
#include "services/media_service.h"
#include "services/render_service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const NO_QUERY[] = {NULL};

#define MEDIA_REDIRECT_MAX 8192

/* ---- asking for narration ------------------------------------------------------------ */

static void h_media__generate(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    scene *rows;
    size_t n;
    error e;
    if (media_service_generate(api_conn(r), http_arena(r), p, id, &rows, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "items");
    jw_arr_begin(&j.w);
    for (size_t i = 0; i < n; i++)
        h_projects_scene_write(&j.w, &rows[i]);
    jw_arr_end(&j.w);
    jw_obj_end(&j.w);
    http_reply_written(r, 202, &j);
}

static void h_media__scene_audio(http_request *r)
{
    const principal *p;
    const char *id, *scene_id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !(scene_id = api_uuid_param(r, "scene_id", "scene")) || !api_query_allowed(r, NO_QUERY))
        return;
    scene sc;
    error e;
    if (media_service_scene_audio(api_conn(r), http_arena(r), p, id, scene_id, &sc, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    h_projects_scene_write(&j.w, &sc);
    http_reply_written(r, 202, &j);
}

static void h_media__scene_image(http_request *r)
{
    const principal *p;
    const char *id, *scene_id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !(scene_id = api_uuid_param(r, "scene_id", "scene")) || !api_query_allowed(r, NO_QUERY))
        return;
    scene sc;
    error e;
    if (media_service_scene_image(api_conn(r), http_arena(r), p, id, scene_id, &sc, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    h_projects_scene_write(&j.w, &sc);
    http_reply_written(r, 202, &j);
}

/* ---- reading a file ------------------------------------------------------------------- */

/* Whether an If-None-Match list names etag (or is "*"); weak tags compare
 * by their opaque part (RFC 9110 § 13.1.2). */
static bool h_media__none_match(const char *list, const char *etag)
{
    if (list == NULL)
        return false;
    size_t n = strlen(etag);
    const char *c = list;
    while (*c) {
        while (*c == ' ' || *c == '\t' || *c == ',')
            c++;
        if (*c == '*')
            return true;
        if (strncmp(c, "W/", 2) == 0)
            c += 2;
        if (strncmp(c, etag, n) == 0 && (c[n] == '\0' || c[n] == ',' || c[n] == ' '))
            return true;
        while (*c && *c != ',')
            c++;
    }
    return false;
}

typedef enum h_media_range { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE } h_media_range;

/* Reads a digits-only number; false on anything else or overflow. */
static bool h_media__number(const char **s, uint64_t *out)
{
    const char *c = *s;
    uint64_t v = 0;
    if (*c < '0' || *c > '9')
        return false;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *s = c;
    *out = v;
    return true;
}

/* One "bytes=" range against size. A header that is not one well-formed
 * byte range (several ranges, another unit, garbage) is ignored, as RFC
 * 9110 § 14.2 allows: the whole file is sent. */
static h_media_range h_media__range(const char *h, uint64_t size, uint64_t *from, uint64_t *len)
{
    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return RANGE_NONE;
    const char *c = h + 6;
    uint64_t a = 0, b = 0;
    if (*c == '-') { /* the last b bytes */
        c++;
        if (!h_media__number(&c, &b) || *c != '\0')
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *from = b >= size ? 0 : size - b;
        *len = size - *from;
        return RANGE_OK;
    }
    if (!h_media__number(&c, &a) || *c++ != '-')
        return RANGE_NONE;
    bool open_end = *c == '\0';
    if (!open_end && (!h_media__number(&c, &b) || *c != '\0' || b < a))
        return RANGE_NONE;
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    if (open_end || b >= size)
        b = size - 1;
    *from = a;
    *len = b - a + 1;
    return RANGE_OK;
}

static void h_media__get(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    const char *name = http_param(r, "name");
    media_file f;
    error e;
    arena *a = http_arena(r);
    char *url = arena_alloc(a, MEDIA_REDIRECT_MAX);
    int got = media_service_fetch(api_services(r), api_conn(r), a, p, id, name, &f, url,
                                  MEDIA_REDIRECT_MAX, &e);
    if (got < 0) {
        if (e.kind == ERR_INVALID)
            http_reply_problem(r, 400, "invalid-media-path", "Invalid media path", e.message);
        else
            http_reply_error(r, &e);
        return;
    }
    if (got == 1) {
        /* Presigned (decision 127): the URL is the credential, so no cache keeps it. */
        http_set_header(r, "Location", url);
        http_set_header(r, "Cache-Control", "no-store");
        http_reply(r, 302, NULL, NULL, 0);
        return;
    }
    uint64_t size = (uint64_t)f.size;
    const char *etag = arena_sprintf(a, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", size,
                                     (uint64_t)f.mtime_ns, f.identity);
    http_set_header(r, "ETag", etag);
    http_set_header(r, "Accept-Ranges", "bytes");
    /* Private to the owner; a cache must ask again (cheaply, by ETag). */
    http_set_header(r, "Cache-Control", "private, no-cache");
    if (h_media__none_match(http_header(r, "If-None-Match"), etag)) {
        close(f.fd);
        http_reply(r, 304, NULL, NULL, 0);
        return;
    }
    const char *type = media_service_content_type(name);
    const char *range = http_header(r, "Range");
    const char *if_range = http_header(r, "If-Range");
    if (if_range != NULL && strcmp(if_range, etag) != 0)
        range = NULL; /* the client's copy is of another version: send it whole */
    uint64_t from = 0, len = size;
    switch (h_media__range(range, size, &from, &len)) {
    case RANGE_UNSATISFIABLE:
        close(f.fd);
        http_set_header(r, "Content-Range", arena_sprintf(a, "bytes */%" PRIu64, size));
        http_reply_problem(r, 416, "range-not-satisfiable", "Range not satisfiable",
                           arena_sprintf(a,
                                         "The file is %" PRIu64
                                         " bytes long; ask for a range that starts inside it.",
                                         size));
        return;
    case RANGE_OK:
        http_set_header(
            r, "Content-Range",
            arena_sprintf(a, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, from + len - 1, size));
        http_reply_fd(r, 206, type, f.fd, from, len);
        return;
    case RANGE_NONE:
        break;
    }
    http_reply_fd(r, 200, type, f.fd, 0, size);
}

/* ---- the video ------------------------------------------------------------------------- */

/* The body of POST …/render, every member optional. */
static const row_col RENDER_COLS[] = {
    ROW_ENUM_FIELD("aspect", ROW_CREATE, render_aspects),
    ROW_ENUM_FIELD("subtitles", ROW_CREATE, render_subtitles),
    ROW_ENUM_FIELD("music", ROW_CREATE, render_musics),
};
static const row_spec RENDER = ROW_SPEC(char, "render", RENDER_COLS);

static void h_media__render(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    size_t len = 0;
    http_body(r, &len);
    json_t *in = NULL;
    if (len > 0 && (in = api_body(r, &RENDER, API_CREATE, p)) == NULL)
        return;
    render_options o = {
        .aspect = json_string_value(json_object_get(in, "aspect")),
        .subtitles = json_string_value(json_object_get(in, "subtitles")),
        .music = json_string_value(json_object_get(in, "music")),
    };
    project pr;
    bool started;
    error e;
    if (render_service_request(api_conn(r), http_arena(r), p, id, &o, &pr, &started, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Location", arena_sprintf(http_arena(r), "/api/v1/projects/%s", id));
    http_json j;
    http_json_begin(&j);
    h_projects_project_write(&j.w, &pr);
    http_reply_written(r, 202, &j);
}

const http_route media_routes[] = {
    {"POST", "/api/v1/projects/{id}/media", h_media__generate, "media.generate"},
    {"POST", "/api/v1/projects/{id}/render", h_media__render, "projects.render"},
    {"GET", "/api/v1/projects/{id}/media/{name}", h_media__get, "media.get"},
    {"POST", "/api/v1/projects/{id}/scenes/{scene_id}/audio", h_media__scene_audio, "scenes.audio"},
    {"POST", "/api/v1/projects/{id}/scenes/{scene_id}/image", h_media__scene_image, "scenes.image"},
};
const size_t media_routes_count = sizeof(media_routes) / sizeof(media_routes[0]);
