/*
 * /api/v1/channels: a user's YouTube channels, registered by hand until the
 * Google import exists, the log of the personas assigned to each, and their
 * analytics by day or ISO week, and the import of a YouTube Studio export
 * (services/analytics_import.c). Every route is scoped to the caller; another
 * user's channel is a 404.
 */
#include "base/jsonout.h"
#include "domain/channel_store.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/analytics_service.h"
#include "services/channel_service.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const NO_QUERY[] = {NULL};
static const char *const LIST_QUERY[] = {"limit", "cursor", "persona_id", NULL};
static const char *const PAGE_QUERY[] = {"limit", "cursor", NULL};
static const char *const ANALYTICS_QUERY[] = {"from", "to", "period", NULL};

static void h_channels__reply(http_request *r, int status, const channel *ch)
{
    http_json j;
    http_json_begin(&j);
    row_json_write(&j.w, &channel_row, ch);
    http_reply_written(r, status, &j);
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

static void h_channels__input(json_t *in, channel_input *ci)
{
    memset(ci, 0, sizeof(*ci));
    ci->youtube_channel_id = h_channels__opt(in, "youtube_channel_id", NULL);
    ci->name = h_channels__opt(in, "name", NULL);
    ci->thumbnail = h_channels__opt(in, "thumbnail", &ci->set_thumbnail);
    ci->persona_id =
        h_channels__opt(in, "persona_id", &ci->set_persona); /* api_body lowercased it */
    json_t *ao = json_object_get(in, "auto_optimize");
    ci->set_auto_optimize = ao != NULL;
    ci->auto_optimize = json_is_true(ao);
    ci->assignment_reason = h_channels__opt(in, "assignment_reason", NULL);
    ci->optimization_mode = h_channels__opt(in, "optimization_mode", NULL);
    ci->objective = h_channels__opt(in, "objective", NULL);
}

static void h_channels__create(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, &channel_row, API_CREATE, p);
    if (in == NULL)
        return;
    channel_input ci;
    h_channels__input(in, &ci);
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
        row_json_write(&j.w, &channel_row, &rows[i]);
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
    json_t *in = api_body(r, &channel_row, API_UPDATE, p);
    if (in == NULL)
        return;
    channel_input ci;
    h_channels__input(in, &ci);
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
        row_json_write(&j.w, &channel_assignment_row, &rows[i]);
    api_page_end(r, &j, n == (size_t)pg.limit ? rows[n - 1].id : NULL);
}

static void h_channels__analytics(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, ANALYTICS_QUERY))
        return;
    analytics_read rd;
    error e;
    if (analytics_service_read(api_conn(r), http_arena(r), p, id, http_query(r, "period"),
                               http_query(r, "from"), http_query(r, "to"), &rd, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "channel_id", id);
    api_days_begin(&j, rd.period, rd.from, rd.to);
    for (size_t i = 0; i < rd.n; i++)
        row_json_write(&j.w, &analytics_row_spec, &rd.rows[i]);
    api_days_end(r, &j);
}

static void h_channels__import_report(jw *w, const analytics_import_report *rep)
{
    jw_key(w, "rejected");
    jw_arr_begin(w);
    for (size_t i = 0; i < rep->n_rejected; i++) {
        jw_obj_begin(w);
        jw_member_int(w, "line", (int64_t)rep->rejected[i].line);
        jw_member_str(w, "reason", rep->rejected[i].reason);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "ignored_columns");
    jw_arr_begin(w);
    for (size_t i = 0; i < rep->n_ignored; i++)
        jw_str(w, rep->ignored_columns[i]);
    jw_arr_end(w);
    jw_key(w, "total_row_line");
    if (rep->total_line > 0)
        jw_int(w, (int64_t)rep->total_line);
    else
        jw_null(w);
}

/* POST a YouTube Studio export (text/csv). The channel is looked up before
 * the body is judged, so another user's channel is a 404 whatever is sent. */
static void h_channels__import(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    channel ch;
    error e;
    if (channel_store_get(api_conn(r), http_arena(r), p->user_id, id, false, NULL, &ch, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    const char *ct = http_header(r, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "text/csv", 8) != 0 || (ct[8] != '\0' && ct[8] != ';')) {
        http_reply_problem(r, 415, "unsupported-media-type", "Unsupported media type",
                           "send the YouTube Studio export as text/csv");
        return;
    }
    size_t len = 0;
    const char *body = http_body(r, &len);
    analytics_import_report rep;
    if (analytics_service_import_csv(api_conn(r), http_arena(r), p, id, body, len, &rep, &e) != 0) {
        if (e.kind != ERR_INVALID) {
            http_reply_error(r, &e);
            return;
        }
        /* The problem carries the report: which rows, which columns. */
        json_t *doc = http_problem_json(422, "invalid-request", "Invalid request", e.message,
                                        http_path(r), http_request_id(r));
        if (e.field[0])
            json_object_set_new(doc, "field", json_string(e.field));
        json_t *rej = json_array();
        for (size_t i = 0; i < rep.n_rejected; i++)
            json_array_append_new(rej,
                                  json_pack("{s:I,s:s}", "line", (json_int_t)rep.rejected[i].line,
                                            "reason", rep.rejected[i].reason));
        json_object_set_new(doc, "rejected", rej);
        http_reply_problem_doc(r, 422, doc);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "channel_id", id);
    jw_member_int(&j.w, "imported", (int64_t)rep.imported);
    jw_member_int(&j.w, "unchanged", (int64_t)rep.unchanged);
    h_channels__import_report(&j.w, &rep);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

const http_route channels_routes[] = {
    {"POST", "/api/v1/channels", h_channels__create, "channels.create"},
    {"GET", "/api/v1/channels", h_channels__list, "channels.list"},
    {"GET", "/api/v1/channels/{id}", h_channels__get, "channels.get"},
    {"PATCH", "/api/v1/channels/{id}", h_channels__update, "channels.update"},
    {"DELETE", "/api/v1/channels/{id}", h_channels__delete, "channels.delete"},
    {"GET", "/api/v1/channels/{id}/assignments", h_channels__assignments, "channels.assignments"},
    {"GET", "/api/v1/channels/{id}/analytics", h_channels__analytics, "channels.analytics"},
    {"POST", "/api/v1/channels/{id}/analytics/import", h_channels__import,
     "channels.analytics_import"},
};
const size_t channels_routes_count = sizeof(channels_routes) / sizeof(channels_routes[0]);
