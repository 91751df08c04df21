/*
 * /api/v1/channels: a user's YouTube channels, registered by hand until the
 * Google import exists, and the log of the personas assigned to each. Every
 * route is scoped to the caller; another user's channel is a 404.
 */
#include "http/h_channels.h"
#include "base/jsonout.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/channel_service.h"

#include <ctype.h>
#include <string.h>

#define CHANNEL_READONLY_FIELDS                                                                    \
    {"id", API_STRING, API_READONLY, 0, 0, NULL, 0},                                               \
        {"user_id", API_STRING, API_READONLY, 0, 0, NULL, 0},                                      \
        {"account_id", API_STRING, API_READONLY, 0, 0, NULL, 0},                                   \
        {"custom_url", API_STRING, API_READONLY, 0, 0, NULL, 0},                                   \
        {"uploads_playlist_id", API_STRING, API_READONLY, 0, 0, NULL, 0},                          \
        {"account_status", API_STRING, API_READONLY, 0, 0, NULL, 0},                               \
        {"subscriber_count", API_INT, API_READONLY, 0, 0, NULL, 0},                                \
        {"view_count", API_INT, API_READONLY, 0, 0, NULL, 0},                                      \
        {"video_count", API_INT, API_READONLY, 0, 0, NULL, 0},                                     \
        {"stats_updated_at", API_STRING, API_READONLY, 0, 0, NULL, 0},                             \
        {"created_at", API_STRING, API_READONLY, 0, 0, NULL, 0},                                   \
    {                                                                                              \
        "updated_at", API_STRING, API_READONLY, 0, 0, NULL, 0                                      \
    }

static const api_field CHANNEL_CREATE[] = {
    {"youtube_channel_id", API_STRING, API_REQUIRED, 1, 64, NULL, 0},
    {"name", API_STRING, API_REQUIRED, 1, 200, NULL, 0},
    {"thumbnail", API_STRING, API_NULLABLE, 1, 2048, NULL, 0},
    {"persona_id", API_UUID, API_NULLABLE, 0, 0, NULL, 0},
    {"auto_optimize", API_BOOL, 0, 0, 0, NULL, 0},
    {"assignment_reason", API_STRING, API_NULLABLE, 1, 1000, NULL, 0},
    CHANNEL_READONLY_FIELDS,
    {NULL, 0, 0, 0, 0, NULL, 0},
};

static const api_field CHANNEL_UPDATE[] = {
    {"youtube_channel_id", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"name", API_STRING, 0, 1, 200, NULL, 0},
    {"thumbnail", API_STRING, API_NULLABLE, 1, 2048, NULL, 0},
    {"persona_id", API_UUID, API_NULLABLE, 0, 0, NULL, 0},
    {"auto_optimize", API_BOOL, 0, 0, 0, NULL, 0},
    {"assignment_reason", API_STRING, API_NULLABLE, 1, 1000, NULL, 0},
    CHANNEL_READONLY_FIELDS,
    {NULL, 0, 0, 0, 0, NULL, 0},
};

static const char *const NO_QUERY[] = {NULL};
static const char *const LIST_QUERY[] = {"limit", "cursor", "persona_id", NULL};
static const char *const PAGE_QUERY[] = {"limit", "cursor", NULL};

/* Counts YouTube hides (or has not reported yet) are stored as -1. */
static void h_channels__count(jw *w, int64_t v)
{
    if (v < 0)
        jw_null(w);
    else
        jw_int(w, v);
}

void h_channels_write(jw *w, const channel *ch)
{
    jw_obj_begin(w);
    jw_key(w, "id");
    jw_str(w, ch->id);
    jw_key(w, "youtube_channel_id");
    jw_str(w, ch->youtube_channel_id);
    jw_key(w, "name");
    jw_str(w, ch->name);
    jw_key(w, "thumbnail");
    jw_str(w, ch->thumbnail);
    jw_key(w, "custom_url");
    jw_str(w, ch->custom_url);
    jw_key(w, "uploads_playlist_id");
    jw_str(w, ch->uploads_playlist_id);
    jw_key(w, "persona_id");
    jw_str(w, ch->persona_id);
    jw_key(w, "auto_optimize");
    jw_bool(w, ch->auto_optimize);
    jw_key(w, "subscriber_count");
    h_channels__count(w, ch->subscriber_count);
    jw_key(w, "view_count");
    h_channels__count(w, ch->view_count);
    jw_key(w, "video_count");
    h_channels__count(w, ch->video_count);
    jw_key(w, "stats_updated_at");
    jw_time(w, ch->stats_updated_at);
    jw_key(w, "account_id");
    jw_str(w, ch->account_id);
    jw_key(w, "account_status");
    jw_str(w, ch->account_status);
    jw_key(w, "created_at");
    jw_time(w, ch->created_at);
    jw_key(w, "updated_at");
    jw_time(w, ch->updated_at);
    jw_obj_end(w);
}

static void h_channels__reply(http_request *r, int status, const channel *ch)
{
    http_json j;
    http_json_begin(&j);
    h_channels_write(&j.w, ch);
    http_reply_written(r, status, &j);
}

static void h_channels__assignment_write(jw *w, const channel_assignment *as)
{
    jw_obj_begin(w);
    jw_key(w, "id");
    jw_str(w, as->id);
    jw_key(w, "channel_id");
    jw_str(w, as->channel_id);
    jw_key(w, "persona_id");
    jw_str(w, as->persona_id);
    jw_key(w, "persona_version");
    if (as->persona_id)
        jw_int(w, as->persona_version);
    else
        jw_null(w);
    jw_key(w, "previous_persona_id");
    jw_str(w, as->previous_persona_id);
    jw_key(w, "assigned_by");
    jw_str(w, as->assigned_by);
    jw_key(w, "source");
    jw_str(w, as->source);
    jw_key(w, "reason");
    jw_str(w, as->reason);
    jw_key(w, "created_at");
    jw_time(w, as->created_at);
    jw_obj_end(w);
}

/* Ids are stored in lowercase (SQLite compares text); clients may send either. */
static const char *h_channels__uuid(http_request *r, const char *v)
{
    if (v == NULL)
        return NULL;
    char *s = arena_strdup(http_arena(r), v);
    for (char *c = s; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return s;
}

/* A string member, or NULL for null/absent; *set says whether it was given. */
static const char *h_channels__opt(json_t *in, const char *name, bool *set)
{
    json_t *v = json_object_get(in, name);
    if (set != NULL)
        *set = v != NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void h_channels__input(http_request *r, json_t *in, channel_input *ci)
{
    memset(ci, 0, sizeof(*ci));
    ci->youtube_channel_id = h_channels__opt(in, "youtube_channel_id", NULL);
    ci->name = h_channels__opt(in, "name", NULL);
    ci->thumbnail = h_channels__opt(in, "thumbnail", &ci->set_thumbnail);
    ci->persona_id = h_channels__uuid(r, h_channels__opt(in, "persona_id", &ci->set_persona));
    json_t *ao = json_object_get(in, "auto_optimize");
    ci->set_auto_optimize = ao != NULL;
    ci->auto_optimize = json_is_true(ao);
    ci->assignment_reason = h_channels__opt(in, "assignment_reason", NULL);
}

static void h_channels__create(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, CHANNEL_CREATE, API_CREATE, p);
    if (in == NULL)
        return;
    channel_input ci;
    h_channels__input(r, in, &ci);
    channel ch;
    error e;
    if (channel_service_create(api_conn(r), http_arena(r), p, &ci, &ch, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Location", arena_sprintf(http_arena(r), "/api/v1/channels/%s", ch.id));
    h_channels__reply(r, 201, &ch);
}

static void h_channels__list(http_request *r)
{
    const principal *p;
    api_page pg;
    if (!(p = api_auth(r)) || !api_query_allowed(r, LIST_QUERY) || !api_page_read(r, &pg))
        return;
    const char *persona_id = http_query(r, "persona_id");
    if (persona_id != NULL) {
        if (!uuid_is_valid(persona_id)) {
            error e;
            error_set(&e, ERR_INVALID, "persona_id", "persona_id must be a persona id (a UUID)");
            http_reply_error(r, &e);
            return;
        }
        persona_id = h_channels__uuid(r, persona_id);
    }
    channel *rows;
    size_t n;
    error e;
    if (channel_service_list(api_conn(r), http_arena(r), p, persona_id, pg.cursor, pg.limit, &rows,
                             &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n; i++)
        h_channels_write(&j.w, &rows[i]);
    api_page_end(r, &j, n == (size_t)pg.limit ? rows[n - 1].id : NULL);
}

static void h_channels__get(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    channel ch;
    error e;
    if (channel_service_get(api_conn(r), http_arena(r), p, id, &ch, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_channels__reply(r, 200, &ch);
}

static void h_channels__update(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, CHANNEL_UPDATE, API_UPDATE, p);
    if (in == NULL)
        return;
    channel_input ci;
    h_channels__input(r, in, &ci);
    channel ch;
    error e;
    if (channel_service_update(api_conn(r), http_arena(r), p, id, &ci, &ch, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_channels__reply(r, 200, &ch);
}

static void h_channels__delete(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    error e;
    if (channel_service_delete(api_conn(r), p, id, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

static void h_channels__assignments(http_request *r)
{
    const principal *p;
    const char *id;
    api_page pg;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, PAGE_QUERY) || !api_page_read(r, &pg))
        return;
    channel_assignment *rows;
    size_t n;
    error e;
    if (channel_service_assignments(api_conn(r), http_arena(r), p, id, pg.cursor, pg.limit, &rows,
                                    &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n; i++)
        h_channels__assignment_write(&j.w, &rows[i]);
    api_page_end(r, &j, n == (size_t)pg.limit ? rows[n - 1].id : NULL);
}

const http_route channels_routes[] = {
    {"POST", "/api/v1/channels", h_channels__create, "channels.create"},
    {"GET", "/api/v1/channels", h_channels__list, "channels.list"},
    {"GET", "/api/v1/channels/{id}", h_channels__get, "channels.get"},
    {"PATCH", "/api/v1/channels/{id}", h_channels__update, "channels.update"},
    {"DELETE", "/api/v1/channels/{id}", h_channels__delete, "channels.delete"},
    {"GET", "/api/v1/channels/{id}/assignments", h_channels__assignments, "channels.assignments"},
};
const size_t channels_routes_count = sizeof(channels_routes) / sizeof(channels_routes[0]);
