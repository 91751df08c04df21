#include "http/api.h"

#include "base/alloc.h"
#include "base/jsonout.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "services/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the API layer keeps for one request. */
typedef struct api_locals {
    db_conn *conn;
    const principal *who;
    bool auth_done;
} api_locals;

static void api__release_conn(void *arg)
{
    api_locals *l = arg;
    if (l->conn != NULL)
        db_release(l->conn);
    l->conn = NULL;
}

static api_locals *api__locals(http_request *r)
{
    void **slot = http_locals(r);
    if (*slot == NULL) {
        api_locals *l = arena_calloc(http_arena(r), sizeof(*l));
        *slot = l;
        http_defer(r, api__release_conn, l);
    }
    return *slot;
}

services *api_services(http_request *r)
{
    return http_app(r);
}

db_conn *api_conn(http_request *r)
{
    api_locals *l = api__locals(r);
    if (l->conn == NULL)
        l->conn = db_acquire(api_services(r)->db);
    return l->conn;
}

void api_reply_db_error(http_request *r, const db_error *de, const char *field)
{
    error e;
    db_to_error(&e, de, field);
    http_reply_error(r, &e);
}

/* ---- auth ------------------------------------------------------------------ */

static bool api__is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

const principal *api_auth(http_request *r)
{
    api_locals *l = api__locals(r);
    if (l->auth_done)
        return l->who;
    l->auth_done = true;
    auth_credentials cred = {
        .authorization = http_header(r, "Authorization"),
        .cookie = http_header(r, "Cookie"),
        .csrf_header = http_header(r, "X-CSRF-Token"),
        .state_changing = !api__is_safe_method(http_method(r)),
    };
    principal *p = arena_calloc(http_arena(r), sizeof(*p));
    error e;
    if (auth_authenticate(api_services(r), api_conn(r), &cred, p, &e) != 0) {
        if (e.kind == ERR_UNAUTHORIZED)
            http_set_header(r, "WWW-Authenticate", "Bearer realm=\"pstudio\"");
        http_reply_error(r, &e);
        return NULL;
    }
    http_client_ip_into(r, p->client_ip, sizeof(p->client_ip));
    l->who = p;
    return p;
}

const principal *api_auth_admin(http_request *r)
{
    const principal *p = api_auth(r);
    if (p == NULL)
        return NULL;
    if (!p->is_admin) {
        error e;
        error_set(&e, ERR_FORBIDDEN, NULL, "this endpoint is for administrators");
        http_reply_error(r, &e);
        return NULL;
    }
    return p;
}

void api_reply_session_required(http_request *r, const char *action)
{
    char detail[300];
    snprintf(detail, sizeof(detail),
             "%s needs a signed-in session; API keys cannot manage credentials. Sign in with "
             "POST /api/v1/auth/login and use that session's token or cookie",
             action);
    http_reply_problem(r, 403, "session-required", "A signed-in session is required", detail);
}

const principal *api_auth_session(http_request *r)
{
    const principal *p = api_auth(r);
    if (p == NULL)
        return NULL;
    if (p->via != PRINCIPAL_SESSION) {
        char action[80];
        snprintf(action, sizeof(action), "%s %s", http_method(r), http_path(r));
        api_reply_session_required(r, action);
        return NULL;
    }
    return p;
}

/* ---- input ----------------------------------------------------------------- */

static void api__fault(json_t *faults, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void api__fault(json_t *faults, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(faults, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

static void api__decref(void *arg)
{
    json_decref(arg);
}

static void api__reply_faults(http_request *r, json_t *faults)
{
    json_t *first = json_array_get(faults, 0);
    char detail[400];
    snprintf(detail, sizeof(detail), "%s: %s", json_string_value(json_object_get(first, "field")),
             json_string_value(json_object_get(first, "message")));
    json_t *doc = http_problem_json(422, "invalid-request", "Invalid request", detail, http_path(r),
                                    http_request_id(r));
    json_object_set(doc, "field", json_object_get(first, "field"));
    json_object_set(doc, "errors", faults);
    http_reply_problem_doc(r, 422, doc);
}

/* The body as one JSON object (owned by the request), or NULL after a 400 or 415. */
static json_t *api__body_object(http_request *r)
{
    size_t len = 0;
    const char *body = http_body(r, &len);
    const char *ct = http_header(r, "Content-Type");
    if (len == 0) {
        http_reply_problem(r, 400, "malformed-json", "Malformed JSON",
                           "this request needs a JSON object body");
        return NULL;
    }
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_problem(r, 415, "unsupported-media-type", "Unsupported media type",
                           "send the body as application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (in == NULL) {
        char detail[300];
        snprintf(detail, sizeof(detail), "the body is not valid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        http_reply_problem(r, 400, "malformed-json", "Malformed JSON", detail);
        return NULL;
    }
    http_defer(r, api__decref, in);
    if (!json_is_object(in)) {
        http_reply_problem(r, 400, "malformed-json", "Malformed JSON",
                           "the body must be a JSON object");
        return NULL;
    }

    return in;
}

json_t *api_body(http_request *r, const row_spec *spec, api_mode mode, const principal *p)
{
    json_t *in = api__body_object(r);
    if (in == NULL)
        return NULL;
    json_t *faults = json_array();
    row_check_body(spec, in, mode == API_CREATE ? ROW_MODE_CREATE : ROW_MODE_UPDATE,
                   p != NULL && p->is_admin, faults);
    if (json_array_size(faults) > 0) {
        api__reply_faults(r, faults);
        json_decref(faults);
        return NULL;
    }
    json_decref(faults);
    /* Ids are stored in lowercase; SQLite compares them as text. */
    for (size_t i = 0; i < spec->ncols; i++) {
        json_t *id = json_object_get(in, spec->cols[i].name);
        if (spec->cols[i].type == ROW_UUID && json_is_string(id)) {
            char low[UUID_STR_LEN + 1];
            snprintf(low, sizeof(low), "%s", json_string_value(id));
            for (char *c = low; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            json_object_set_new(in, spec->cols[i].name, json_str(low));
        }
    }
    return in;
}

bool api_query_allowed(http_request *r, const char *const *names)
{
    const char *q;
    for (size_t i = 0; (q = http_query_name(r, i)) != NULL; i++) {
        bool ok = false;
        for (const char *const *n = names; n && *n; n++)
            if (strcmp(*n, q) == 0)
                ok = true;
        if (!ok) {
            json_t *faults = json_array();
            api__fault(faults, q, "is not a query parameter of this endpoint");
            api__reply_faults(r, faults);
            json_decref(faults);
            return false;
        }
    }
    return true;
}

const char *api_uuid_param(http_request *r, const char *name, const char *what)
{
    const char *v = http_param(r, name);
    if (v == NULL || !uuid_is_valid(v)) {
        api_reply_not_found(r, what, v ? v : "");
        return NULL;
    }
    char *lower = arena_strdup(http_arena(r), v);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return lower;
}

/* ---- output ---------------------------------------------------------------- */

bool api_page_read(http_request *r, api_page *pg)
{
    pg->limit = 20;
    pg->cursor = NULL;
    const char *limit = http_query(r, "limit");
    json_t *faults = json_array();
    if (limit != NULL) {
        char *end = NULL;
        long v = strtol(limit, &end, 10);
        if (end == limit || *end != '\0' || v < 1 || v > 100)
            api__fault(faults, "limit", "must be a whole number from 1 to 100");
        else
            pg->limit = (int)v;
    }
    const char *cursor = http_query(r, "cursor");
    if (cursor != NULL) {
        if (!uuid_is_valid(cursor))
            api__fault(faults, "cursor", "must be the next_cursor of a previous page");
        else
            pg->cursor = cursor;
    }
    if (json_array_size(faults) > 0) {
        api__reply_faults(r, faults);
        json_decref(faults);
        return false;
    }
    json_decref(faults);
    return true;
}

bool api_time_param(http_request *r, const char *name, int64_t *out)
{
    const char *v = http_query(r, name);
    if (v == NULL)
        return true;
    if (!time_parse(v, out)) {
        error e;
        error_set(&e, ERR_INVALID, name,
                  "%s must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z", name);
        http_reply_error(r, &e);
        return false;
    }
    return true;
}

void api_page_begin(http_json *j)
{
    http_json_begin(j);
    jw_obj_begin(&j->w);
    jw_key(&j->w, "items");
    jw_arr_begin(&j->w);
}

void api_page_end(http_request *r, http_json *j, const char *next_cursor)
{
    jw_arr_end(&j->w);
    jw_key(&j->w, "next_cursor");
    jw_str(&j->w, next_cursor);
    jw_obj_end(&j->w);
    http_reply_written(r, 200, j);
}

void api_days_begin(http_json *j, const char *period, int64_t from, int64_t to)
{
    char day[TIME_DAY_STR_LEN + 1];
    jw_member_str(&j->w, "period", period);
    time_day_format(from, day);
    jw_member_str(&j->w, "from", day);
    time_day_format(to, day);
    jw_member_str(&j->w, "to", day);
    jw_key(&j->w, "items");
    jw_arr_begin(&j->w);
}

void api_days_end(http_request *r, http_json *j)
{
    jw_arr_end(&j->w);
    jw_obj_end(&j->w);
    http_reply_written(r, 200, j);
}

void api_reply_page(http_request *r, json_t *items, const char *next_cursor)
{
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < json_array_size(items); i++)
        jw_value(&j.w, json_array_get(items, i));
    json_decref(items);
    api_page_end(r, &j, next_cursor);
}

void api_reply_not_found(http_request *r, const char *what, const char *id)
{
    char detail[200];
    snprintf(detail, sizeof(detail), "no %s with id '%.64s'", what, id);
    http_reply_problem(r, 404, "not-found", "Not found", detail);
}

void api_set_etag(http_request *r, int64_t version)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "\"%lld\"", (long long)version);
    http_set_header(r, "ETag", tag);
}

int64_t api_if_match(http_request *r, bool *bad)
{
    *bad = false;
    const char *h = http_header(r, "If-Match");
    if (h == NULL || strcmp(h, "*") == 0)
        return -1;
    /* Only our own strong tags can match: "<version>". */
    char *end = NULL;
    long long v = -1;
    if (h[0] == '"')
        v = strtoll(h + 1, &end, 10);
    if (h[0] != '"' || end == h + 1 || end == NULL || strcmp(end, "\"") != 0 || v < 1) {
        *bad = true;
        http_reply_problem(r, 412, "precondition-failed", "Precondition failed",
                           "If-Match must be the ETag of the current version, such as \"3\"");
        return -1;
    }
    return v;
}

json_t *api_time(int64_t usec)
{
    if (usec == 0)
        return json_null();
    char s[TIME_STR_LEN + 1];
    time_format(usec, s);
    return json_str(s);
}
