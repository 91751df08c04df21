/*
 * The audit trail, read-only: a user's own events (GET /api/v1/audit) and,
 * for administrators, everyone's (GET /api/v1/admin/audit, optionally one
 * user's). Both are cursor pages newest first, narrowed by an action prefix
 * ("auth." or "auth.login") and a time range [since, until). Events are
 * written by the use cases themselves (services/audit.h), never here.
 */
#include "base/uuid.h"
#include "domain/audit_store.h"
#include "http/api.h"
#include "http/routes.h"

#include <ctype.h>
#include <string.h>

/* An action prefix: the vocabulary's characters only, within its length. */
static bool audit__prefix_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > AUDIT_ACTION_MAX)
        return false;
    for (const char *p = v; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '.' || *p == '_'))
            return false;
    return true;
}

/* Reads the filter shared by both views; false after a 422. */
static bool audit__filter(http_request *r, audit_filter *f, api_page *pg)
{
    if (!api_page_read(r, pg) || !api_time_param(r, "since", &f->since) ||
        !api_time_param(r, "until", &f->until))
        return false;
    f->cursor = pg->cursor;
    error e;
    const char *action = http_query(r, "action");
    if (action != NULL && !audit__prefix_ok(action)) {
        error_set(&e, ERR_INVALID, "action",
                  "action must be an action or its prefix, such as auth. or apikey.created: "
                  "lowercase letters, digits, '.' and '_', at most %d characters",
                  AUDIT_ACTION_MAX);
        http_reply_error(r, &e);
        return false;
    }
    f->action_prefix = action;
    if (f->since > 0 && f->until > 0 && f->until <= f->since) {
        error_set(&e, ERR_INVALID, "until", "until must be later than since");
        http_reply_error(r, &e);
        return false;
    }
    return true;
}

static void audit__reply(http_request *r, const audit_filter *f, const api_page *pg)
{
    audit_event *rows;
    size_t n;
    error e;
    /* One row past the page says whether there is a next one. */
    if (audit_store_list(api_conn(r), http_arena(r), f, pg->limit + 1, &rows, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n && i < (size_t)pg->limit; i++)
        row_json_write(&j.w, &audit_event_row, &rows[i]);
    api_page_end(r, &j, n > (size_t)pg->limit ? rows[pg->limit - 1].id : NULL);
}

static void h_audit__mine(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", "action", "since", "until", NULL};
    const principal *p = api_auth(r);
    audit_filter f = {0};
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !audit__filter(r, &f, &pg))
        return;
    f.subject_user_id = p->user_id;
    audit__reply(r, &f, &pg);
}

static void h_audit__admin(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", "action", "since", "until", "user_id", NULL};
    const principal *p = api_auth_admin(r);
    audit_filter f = {0};
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !audit__filter(r, &f, &pg))
        return;
    const char *user = http_query(r, "user_id");
    if (user != NULL) {
        if (!uuid_is_valid(user)) {
            error e;
            error_set(&e, ERR_INVALID, "user_id", "user_id must be a user's id (a UUID)");
            http_reply_error(r, &e);
            return;
        }
        char *lower = arena_strdup(http_arena(r), user);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        f.subject_user_id = lower;
    }
    audit__reply(r, &f, &pg);
}

const http_route audit_routes[] = {
    {"GET", "/api/v1/audit", h_audit__mine, "audit.list"},
    {"GET", "/api/v1/admin/audit", h_audit__admin, "admin.audit.list"},
};
const size_t audit_routes_count = sizeof(audit_routes) / sizeof(audit_routes[0]);
