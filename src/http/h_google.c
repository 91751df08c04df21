/*
 * /api/v1/google/…: connecting Google accounts (the OAuth redirect and its
 * callback), listing and disconnecting them, and discovering their YouTube
 * channels; /api/v1/channels/import, /api/v1/channels/{id}/refresh-stats and
 * /api/v1/channels/{id}/analytics/backfill bring those channels in and keep
 * their stats and analytics fresh. Every route is scoped
 * to the caller; another user's account or channel is a 404. Tokens never
 * appear in any answer.
 */
#include "base/jsonout.h"
#include "base/timeutil.h"
#include "domain/account_store.h"
#include "domain/channel_store.h"
#include "domain/limits.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/analytics_service.h"
#include "services/google_service.h"
#include "services/publish_service.h"

#include <stdio.h>
#include <string.h>

static const char *const NO_QUERY[] = {NULL};
static const char *const CONNECT_QUERY[] = {"format", NULL};
static const char *const PAGE_QUERY[] = {"limit", "cursor", NULL};

/* The body of an import: which of an account's YouTube channels to bring in. */
static const row_col IMPORT_COLS[] = {
    ROW_FIELD("account_id", ROW_UUID, ROW_CREATE | ROW_REQUIRED, 0, 0),
    ROW_LIST_FIELD("youtube_channel_ids", ROW_CREATE | ROW_REQUIRED, 1, CHANNEL_YOUTUBE_ID_MAX,
                   CHANNEL_IMPORT_MAX),
};
static const row_spec IMPORT = ROW_SPEC(char, "import", IMPORT_COLS);

/* The body of a backfill: the days to fetch (checked as dates by the service). */
static const row_col BACKFILL_COLS[] = {
    ROW_FIELD("from", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 10, 10),
    ROW_FIELD("to", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 10, 10),
};
static const row_spec BACKFILL = ROW_SPEC(char, "backfill", BACKFILL_COLS);

/* Each google_problem has its own status and problem type. */
static void h_google__fail(http_request *r, const google_err *ge)
{
    const char *slug, *title;
    int status;
    switch (ge->problem) {
    case GOOGLE_PROBLEM_NOT_CONFIGURED:
        status = 503, slug = "google-not-configured", title = "Google connect is not configured";
        break;
    case GOOGLE_PROBLEM_BROWSER:
        status = 403, slug = "browser-session-required",
        title = "Start Google connect from a signed-in browser";
        break;
    case GOOGLE_PROBLEM_BAD_STATE:
        status = 400, slug = "oauth-state-invalid", title = "Invalid authorization state";
        break;
    case GOOGLE_PROBLEM_DENIED:
        status = 400, slug = "google-access-denied",
        title = "Google did not authorize the connection";
        break;
    case GOOGLE_PROBLEM_RECONNECT:
        status = 409, slug = "google-reconnect-required",
        title = "The Google account must be connected again";
        break;
    case GOOGLE_PROBLEM_QUOTA: {
        char after[32];
        snprintf(after, sizeof(after), "%ld", ge->retry_after_s > 0 ? ge->retry_after_s : 60);
        http_set_header(r, "Retry-After", after);
        status = 503, slug = "youtube-quota-exceeded", title = "YouTube is not taking requests now";
        break;
    }
    case GOOGLE_PROBLEM_UPSTREAM:
        status = 502, slug = "google-unavailable", title = "Google did not answer usefully";
        break;
    case GOOGLE_PROBLEM_PUBLISHING_OFF:
        status = 409, slug = "publishing-disabled", title = "Publishing to YouTube is turned off";
        break;
    case GOOGLE_PROBLEM_SCOPE:
        status = 409, slug = "google-scope-missing",
        title = "The Google account did not grant what this needs";
        break;
    default:
        http_reply_error(r, &ge->e);
        return;
    }
    http_reply_problem(r, status, slug, title, ge->e.message);
}

static json_t *h_google__str(const char *s)
{
    return s ? json_str(s) : json_null();
}

static json_t *h_google__count(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

/* An account: its row, then the scopes as a list and whether it must be
 * connected again. */
static void h_google__account_write(jw *w, const account *acc)
{
    jw_obj_begin(w);
    row_json_members(w, &account_row, acc);
    jw_key(w, "scopes");
    jw_arr_begin(w);
    for (const char *p = acc->scopes; p && *p;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len > 0)
            jw_strn(w, p, len);
        p += len;
    }
    jw_arr_end(w);
    jw_member_bool(w, "needs_reconnect", strcmp(acc->status, ACCOUNT_NEEDS_RECONNECT) == 0);
    jw_obj_end(w);
}

static json_t *h_google__found_json(const google_found *f)
{
    const youtube_channel *yt = &f->yt;
    json_t *o = json_object();
    json_object_set_new(o, "youtube_channel_id", json_str(yt->id));
    json_object_set_new(o, "name", json_str(yt->title));
    json_object_set_new(o, "custom_url", h_google__str(yt->custom_url));
    json_object_set_new(o, "thumbnail", h_google__str(yt->thumbnail));
    json_object_set_new(o, "uploads_playlist_id", h_google__str(yt->uploads_playlist_id));
    json_object_set_new(o, "subscriber_count", h_google__count(yt->subscriber_count));
    json_object_set_new(o, "view_count", h_google__count(yt->view_count));
    json_object_set_new(o, "video_count", h_google__count(yt->video_count));
    json_object_set_new(o, "imported", json_boolean(f->channel_id != NULL));
    json_object_set_new(o, "channel_id", h_google__str(f->channel_id));
    return o;
}

/* Whether the client asked for JSON rather than a browser redirect. */
static bool h_google__wants_json(http_request *r)
{
    const char *accept = http_header(r, "Accept");
    return accept != NULL && strstr(accept, "application/json") != NULL;
}

static void h_google__connect(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, CONNECT_QUERY))
        return;
    const char *format = http_query(r, "format");
    if (format != NULL && strcmp(format, "json") != 0) {
        error e;
        error_set(&e, ERR_INVALID, "format",
                  "format must be json (or left out for a redirect to Google)");
        http_reply_error(r, &e);
        return;
    }
    const char *url;
    int64_t expires_at;
    google_err ge;
    if (google_service_connect(api_services(r), api_conn(r), http_arena(r), p, &url, &expires_at,
                               &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    http_set_header(r, "Cache-Control", "no-store"); /* the URL carries a one-time state */
    if (format != NULL) {
        http_reply_json(
            r, 200,
            json_pack("{s:s,s:o}", "authorization_url", url, "expires_at", api_time(expires_at)));
        return;
    }
    http_set_header(r, "Location", url);
    http_reply(r, 302, NULL, NULL, 0);
}

/* Google redirects the browser here; the query also carries parameters we
 * do not use (scope, authuser, prompt, hd, iss), so it is not allow-listed. */
static void h_google__callback(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)))
        return;
    google_callback cb = {
        .code = http_query(r, "code"),
        .state = http_query(r, "state"),
        .error = http_query(r, "error"),
    };
    account acc;
    google_err ge;
    http_set_header(r, "Cache-Control", "no-store");
    if (google_service_callback(api_services(r), api_conn(r), http_arena(r), p, &cb, &acc, &ge) !=
        0) {
        h_google__fail(r, &ge);
        return;
    }
    if (h_google__wants_json(r)) {
        http_json j;
        http_json_begin(&j);
        jw_obj_begin(&j.w);
        jw_key(&j.w, "account");
        h_google__account_write(&j.w, &acc);
        jw_obj_end(&j.w);
        http_reply_written(r, 200, &j);
        return;
    }
    /* 303 to a page of its own: reloading it does not replay the used state. */
    http_set_header(r, "Location", "/google/connected");
    http_reply(r, 303, NULL, NULL, 0);
}

/* Where the browser lands after a successful connect; it links back to the
 * dashboard's Google screen. Static, so it needs no session and shows
 * nothing of anyone's. */
static void h_google__connected(http_request *r)
{
    static const char page[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Google account connected - Persona Studio</title></head>\n"
        "<body><h1>Google account connected</h1>\n"
        "<p>Persona Studio can now read this account's YouTube channels. You can close this "
        "tab: <code>GET /api/v1/google/accounts</code> lists the account, and "
        "<code>GET /api/v1/google/accounts/{id}/channels</code> its channels to import.</p>\n"
        "<p><a href=\"/#/google?connected=1\">Back to the Persona Studio dashboard</a>, "
        "to import this account's channels.</p>\n"
        "</body></html>\n";
    http_set_header(r, "Content-Security-Policy",
                    "default-src 'none'; base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'");
    http_reply(r, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
}

static void h_google__accounts(http_request *r)
{
    const principal *p;
    api_page pg;
    if (!(p = api_auth(r)) || !api_query_allowed(r, PAGE_QUERY) || !api_page_read(r, &pg))
        return;
    account *rows;
    size_t n;
    error e;
    if (google_service_accounts(api_conn(r), http_arena(r), p, pg.cursor, pg.limit, &rows, &n,
                                &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n; i++)
        h_google__account_write(&j.w, &rows[i]);
    api_page_end(r, &j, n == (size_t)pg.limit ? rows[n - 1].id : NULL);
}

static void h_google__account(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "Google account")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    account acc;
    error e;
    if (google_service_account(api_conn(r), http_arena(r), p, id, &acc, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    h_google__account_write(&j.w, &acc);
    http_reply_written(r, 200, &j);
}

static void h_google__disconnect(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "Google account")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    google_err ge;
    if (google_service_disconnect(api_services(r), api_conn(r), http_arena(r), p, id, &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    http_reply(r, 204, NULL, NULL, 0);
}

static void h_google__discover(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "Google account")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    google_found *rows;
    size_t n;
    google_err ge;
    if (google_service_discover(api_services(r), api_conn(r), http_arena(r), p, id, &rows, &n,
                                &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, h_google__found_json(&rows[i]));
    http_reply_json(r, 200, json_pack("{s:s,s:o}", "account_id", id, "items", items));
}

static void h_google__import(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, &IMPORT, API_CREATE, p);
    if (in == NULL)
        return;
    json_t *list = json_object_get(in, "youtube_channel_ids");
    size_t n = json_array_size(list);
    if (n == 0) {
        error e;
        error_set(&e, ERR_INVALID, "youtube_channel_ids",
                  "youtube_channel_ids must name at least one channel");
        http_reply_error(r, &e);
        return;
    }
    const char **ids = arena_alloc(http_arena(r), n * sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = json_string_value(json_array_get(list, i));
    const char *account_id = json_string_value(json_object_get(in, "account_id"));
    google_import res;
    google_err ge;
    if (google_service_import(api_services(r), api_conn(r), http_arena(r), p, account_id, ids, n,
                              &res, &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    if (res.queued) {
        http_reply_json(
            r, 202,
            json_pack("{s:s,s:s,s:I,s:s}", "status", "queued", "job_id", res.job_id,
                      "retry_after_seconds", (json_int_t)res.retry_after_s, "detail",
                      "YouTube's quota is used up for now; the import will run by itself once it "
                      "is available again"));
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "items");
    jw_arr_begin(&j.w);
    for (size_t i = 0; i < res.n; i++)
        row_json_write(&j.w, &channel_row, &res.rows[i]);
    jw_arr_end(&j.w);
    jw_member_int(&j.w, "created", (int64_t)res.created);
    jw_member_int(&j.w, "updated", (int64_t)(res.n - res.created));
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_google__refresh_stats(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    char job_id[UUID_STR_LEN + 1];
    const char *status;
    google_err ge;
    if (google_service_request_stats(api_services(r), api_conn(r), http_arena(r), p, id, job_id,
                                     &status, &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    http_reply_json(r, 202, json_pack("{s:s,s:s}", "status", status, "job_id", job_id));
}

static void h_google__backfill(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, &BACKFILL, API_CREATE, p);
    if (in == NULL)
        return;
    analytics_backfill b;
    const char *status;
    google_err ge;
    if (analytics_service_request_backfill(api_services(r), api_conn(r), http_arena(r), p, id,
                                           json_string_value(json_object_get(in, "from")),
                                           json_string_value(json_object_get(in, "to")), &b,
                                           &status, &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "status", status);
    jw_member_str(&j.w, "job_id", b.id);
    jw_key(&j.w, "backfill");
    row_json_write(&j.w, &analytics_backfill_row, &b);
    jw_obj_end(&j.w);
    http_reply_written(r, 202, &j);
}

/* A publication: its row, and where the video is once it exists. */
static void h_google__publication_reply(http_request *r, int status, const publication *pb)
{
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    row_json_members(&j.w, &publication_row, pb);
    jw_member_str(&j.w, "url",
                  pb->youtube_video_id == NULL
                      ? NULL
                      : arena_sprintf(http_arena(r), "https://www.youtube.com/watch?v=%s",
                                      pb->youtube_video_id));
    jw_obj_end(&j.w);
    http_reply_written(r, status, &j);
}

static void h_google__publish(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    json_t *in = api_body(r, &publication_row, API_CREATE, p);
    if (in == NULL)
        return;
    publish_request rq = {
        .privacy_status = json_string_value(json_object_get(in, "privacy_status")),
        .made_for_kids = json_is_true(json_object_get(in, "made_for_kids")),
        .title = json_string_value(json_object_get(in, "title")),
        .description = json_string_value(json_object_get(in, "description")),
        .category_id = json_string_value(json_object_get(in, "category_id")),
    };
    json_t *v = json_object_get(in, "contains_synthetic_media");
    rq.synthetic_set = json_is_boolean(v);
    rq.contains_synthetic_media = json_is_true(v);
    const char *at = json_string_value(json_object_get(in, "publish_at"));
    if (at != NULL && !time_parse(at, &rq.publish_at)) {
        http_reply_problem(r, 422, "invalid-request", "Invalid publish_at",
                           "publish_at must be an RFC 3339 date-time");
        return;
    }
    json_t *tags = json_object_get(in, "tags");
    if (json_is_array(tags)) {
        rq.tags_set = true;
        rq.ntags = json_array_size(tags);
        const char **list = arena_alloc(http_arena(r), sizeof(*list) * (rq.ntags + 1));
        for (size_t i = 0; i < rq.ntags; i++)
            list[i] = json_string_value(json_array_get(tags, i));
        rq.tags = list;
    }
    publication pb;
    google_err ge;
    if (publish_service_request(api_services(r), api_conn(r), http_arena(r), p, id, &rq, &pb,
                                &ge) != 0) {
        h_google__fail(r, &ge);
        return;
    }
    h_google__publication_reply(r, 202, &pb);
}

static void h_google__publication(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "project")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    publication pb;
    error e;
    if (publish_service_get(api_conn(r), http_arena(r), p, id, &pb, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    h_google__publication_reply(r, 200, &pb);
}

const http_route google_routes[] = {
    {"GET", "/api/v1/google/connect", h_google__connect, "google.connect"},
    {"GET", "/api/v1/google/callback", h_google__callback, "google.callback"},
    {"GET", "/google/connected", h_google__connected, "google.connected"},
    {"GET", "/api/v1/google/accounts", h_google__accounts, "google.accounts.list"},
    {"GET", "/api/v1/google/accounts/{id}", h_google__account, "google.accounts.get"},
    {"DELETE", "/api/v1/google/accounts/{id}", h_google__disconnect, "google.accounts.delete"},
    {"GET", "/api/v1/google/accounts/{id}/channels", h_google__discover,
     "google.accounts.channels"},
    {"POST", "/api/v1/channels/import", h_google__import, "channels.import"},
    {"POST", "/api/v1/channels/{id}/refresh-stats", h_google__refresh_stats,
     "channels.refresh_stats"},
    {"POST", "/api/v1/channels/{id}/analytics/backfill", h_google__backfill,
     "channels.analytics_backfill"},
    {"POST", "/api/v1/projects/{id}/publish", h_google__publish, "projects.publish"},
    {"GET", "/api/v1/projects/{id}/publish", h_google__publication, "projects.publication"},
};
const size_t google_routes_count = sizeof(google_routes) / sizeof(google_routes[0]);
