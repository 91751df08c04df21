/*
 * Identity endpoints: sign-up, log-in, log-out, the caller's profile, and
 * API keys. Tokens appear in a response body exactly once, when issued.
 * Credentials are managed from a signed-in session only: an API key may
 * read /me and revoke itself, nothing else here (api_auth_session).
 */
#include "base/jsonout.h"
#include "base/timeutil.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/auth.h"
#include "services/password.h"
#include "services/script_service.h"

#include <stdio.h>
#include <string.h>

/* The bodies of sign-up and log-in: inputs of an endpoint, not a row (the
 * password is never stored as given; log-in takes any email it may look up). */
static const row_col SIGNUP_COLS[] = {
    ROW_FIELD("email", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, USER_EMAIL_MIN, USER_EMAIL_MAX),
    ROW_FIELD("password", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1, PASSWORD_MAX_LEN),
    ROW_FIELD("name", ROW_TEXT, ROW_CREATE, 1, USER_NAME_MAX),
};
static const row_spec SIGNUP = ROW_SPEC(char, "sign-up", SIGNUP_COLS);

static const row_col LOGIN_COLS[] = {
    ROW_FIELD("email", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1, USER_EMAIL_MAX),
    ROW_FIELD("password", ROW_TEXT, ROW_CREATE | ROW_REQUIRED, 1, PASSWORD_MAX_LEN),
};
static const row_spec LOGIN = ROW_SPEC(char, "log-in", LOGIN_COLS);

/* Stored text goes in through json_str with "o?": a value that is not UTF-8
 * (none is written now, but older rows may hold one) becomes null instead
 * of failing the whole document, as jw writes it (decisions 37 and 45). */
static json_t *me_json(const principal *p)
{
    return json_pack(
        "{s:s,s:o?,s:s,s:{s:s,s:o?,s:i,s:o,s:o,s:o}}", "id", p->user_id, "email",
        json_str(p->email), "role", p->is_admin ? "admin" : "user", "plan", "id", p->plan_id,
        "code", json_str(p->plan_code), "rank", p->plan_rank, "max_channels",
        p->max_channels < 0 ? json_null() : json_integer(p->max_channels), "max_projects_per_month",
        p->max_projects_per_month < 0 ? json_null() : json_integer(p->max_projects_per_month),
        "max_generations_per_month",
        p->max_generations_per_month < 0 ? json_null()
                                         : json_integer(p->max_generations_per_month));
}

static void reply_rate_limited(http_request *r, const error *e, int retry_after)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", retry_after > 0 ? retry_after : 1);
    http_set_header(r, "Retry-After", v);
    http_reply_error(r, e);
}

/* Answers a new session: the token in the body (for API clients) and in an
 * HttpOnly cookie (for the browser), plus the CSRF token the browser must
 * echo on state-changing requests. */
static void reply_session(http_request *r, int status, const auth_session *s)
{
    services *svc = api_services(r);
    long max_age = (long)((s->row.expires_at - time_now_usec()) / 1000000);
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
             AUTH_COOKIE_NAME, s->token, max_age, svc->cookie_secure ? "; Secure" : "");
    http_set_header(r, "Set-Cookie", cookie);
    snprintf(cookie, sizeof(cookie), "pstudio_csrf=%s; Path=/; Max-Age=%ld; SameSite=Lax%s",
             s->row.csrf_token, max_age, svc->cookie_secure ? "; Secure" : "");
    http_set_header(r, "Set-Cookie", cookie);
    http_reply_json(r, status,
                    json_pack("{s:s,s:s,s:o,s:o}", "token", s->token, "csrf_token",
                              s->row.csrf_token, "expires_at", api_time(s->row.expires_at), "user",
                              me_json(&s->who)));
}

static void auth_signup_handler(http_request *r)
{
    json_t *in = api_body(r, &SIGNUP, API_CREATE, NULL);
    if (in == NULL)
        return;
    user u;
    auth_session s;
    error e;
    int retry = 0;
    const char *name = json_string_value(json_object_get(in, "name"));
    if (auth_signup(api_services(r), api_conn(r), http_client_ip(r), http_header(r, "User-Agent"),
                    json_string_value(json_object_get(in, "email")), name,
                    json_string_value(json_object_get(in, "password")), &u, &s, http_arena(r),
                    &retry, &e) != 0) {
        if (e.kind == ERR_RATE_LIMITED)
            reply_rate_limited(r, &e, retry);
        else
            http_reply_error(r, &e);
        return;
    }
    reply_session(r, 201, &s);
}

static void auth_login_handler(http_request *r)
{
    json_t *in = api_body(r, &LOGIN, API_CREATE, NULL);
    if (in == NULL)
        return;
    user u;
    auth_session s;
    error e;
    int retry = 0;
    if (auth_login(api_services(r), api_conn(r), http_client_ip(r), http_header(r, "User-Agent"),
                   json_string_value(json_object_get(in, "email")),
                   json_string_value(json_object_get(in, "password")), &u, &s, http_arena(r),
                   &retry, &e) != 0) {
        if (e.kind == ERR_RATE_LIMITED)
            reply_rate_limited(r, &e, retry);
        else
            http_reply_error(r, &e);
        return;
    }
    reply_session(r, 200, &s);
}

static void logout(http_request *r, bool everywhere)
{
    const principal *p = api_auth_session(r);
    if (p == NULL)
        return;
    error e;
    if (auth_logout(api_conn(r), p, everywhere, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Set-Cookie",
                    AUTH_COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    http_reply(r, 204, NULL, "", 0);
}

static void auth_logout_handler(http_request *r)
{
    logout(r, false);
}

static void auth_logout_all_handler(http_request *r)
{
    logout(r, true);
}

static void me_handler(http_request *r)
{
    const principal *p = api_auth(r);
    if (p == NULL)
        return;
    /* What the plan's monthly generation limit is measured against. */
    int64_t generations = 0;
    error e;
    if (script_service_generations_used(api_conn(r), p, &generations, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    json_t *me = me_json(p);
    json_object_set_new(me, "usage",
                        json_pack("{s:I}", "generations_this_month", (json_int_t)generations));
    http_reply_json(r, 200, me);
}

static void keys_list(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", NULL};
    const principal *p = api_auth_session(r);
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !api_page_read(r, &pg))
        return;
    apikey *rows;
    size_t n;
    error e;
    /* One row past the page says whether there is a next one. */
    if (apikey_store_list(api_conn(r), http_arena(r), p->user_id, pg.cursor, pg.limit + 1, &rows,
                          &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n && i < (size_t)pg.limit; i++)
        row_json_write(&j.w, &apikey_row, &rows[i]);
    api_page_end(r, &j, n > (size_t)pg.limit ? rows[pg.limit - 1].id : NULL);
}

static void keys_create(http_request *r)
{
    const principal *p = api_auth_session(r);
    json_t *in = p ? api_body(r, &apikey_row, API_CREATE, p) : NULL;
    if (in == NULL)
        return;
    auth_new_key k;
    error e;
    if (auth_apikey_create(api_conn(r), http_arena(r), p,
                           json_string_value(json_object_get(in, "name")), &k, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Location", arena_sprintf(http_arena(r), "/api/v1/api-keys/%s", k.row.id));
    /* The key itself, after the row: shown this once. */
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    row_json_members(&j.w, &apikey_row, &k.row);
    jw_member_str(&j.w, "key", k.token);
    jw_obj_end(&j.w);
    http_reply_written(r, 201, &j);
}

static void keys_revoke(http_request *r)
{
    const principal *p = api_auth(r);
    const char *id = p ? api_uuid_param(r, "id", "API key") : NULL;
    if (id == NULL)
        return;
    /* A key may retire itself (a script done with it, or whoever found it
     * leaked); revoking any other key takes a session. */
    if (p->via != PRINCIPAL_SESSION && strcmp(id, p->credential_id) != 0) {
        api_reply_session_required(r, "Revoking another API key");
        return;
    }
    error e;
    if (auth_apikey_revoke(api_conn(r), p, id, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply(r, 204, NULL, "", 0);
}

const http_route auth_routes[] = {
    {"POST", "/api/v1/auth/signup", auth_signup_handler, "auth.signup"},
    {"POST", "/api/v1/auth/login", auth_login_handler, "auth.login"},
    {"POST", "/api/v1/auth/logout", auth_logout_handler, "auth.logout"},
    {"POST", "/api/v1/auth/logout-all", auth_logout_all_handler, "auth.logout_all"},
    {"GET", "/api/v1/me", me_handler, "me.get"},
    {"GET", "/api/v1/api-keys", keys_list, "api_keys.list"},
    {"POST", "/api/v1/api-keys", keys_create, "api_keys.create"},
    {"DELETE", "/api/v1/api-keys/{id}", keys_revoke, "api_keys.revoke"},
};
const size_t auth_routes_count = sizeof(auth_routes) / sizeof(auth_routes[0]);
