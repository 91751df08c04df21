/*
 * Plans (readable by every signed-in user, managed by admins) and the admin
 * view of users: role and plan changes.
 */
#include "base/jsonout.h"
#include "domain/plan_store.h"
#include "domain/user_store.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/admin_service.h"

static void plan_reply(http_request *r, int status, const plan *pl)
{
    http_json j;
    http_json_begin(&j);
    row_json_write(&j.w, &plan_row, pl);
    http_reply_written(r, status, &j);
}

static void user_reply(http_request *r, const user *u)
{
    http_json j;
    http_json_begin(&j);
    row_json_write(&j.w, &user_row, u);
    http_reply_written(r, 200, &j);
}

static void plans_list(http_request *r)
{
    static const char *const q[] = {NULL};
    if (api_auth(r) == NULL || !api_query_allowed(r, q))
        return;
    plan *rows;
    size_t n;
    error e;
    if (plan_store_list(api_conn(r), http_arena(r), &rows, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "items");
    jw_arr_begin(&j.w);
    for (size_t i = 0; i < n; i++)
        row_json_write(&j.w, &plan_row, &rows[i]);
    jw_arr_end(&j.w);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void plans_create(http_request *r)
{
    const principal *p = api_auth_admin(r);
    json_t *in = p ? api_body(r, &plan_row, API_CREATE, p) : NULL;
    if (in == NULL)
        return;
    plan pl;
    error e;
    if (admin_service_plan_create(api_conn(r), http_arena(r), p, in, &pl, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_set_header(r, "Location", arena_sprintf(http_arena(r), "/api/v1/admin/plans/%s", pl.id));
    plan_reply(r, 201, &pl);
}

static void plans_update(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "plan") : NULL;
    json_t *in = id ? api_body(r, &plan_row, API_UPDATE, p) : NULL;
    if (in == NULL)
        return;
    plan pl;
    error e;
    if (admin_service_plan_update(api_conn(r), http_arena(r), p, id, in, &pl, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    plan_reply(r, 200, &pl);
}

static void users_list(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", "email", NULL};
    const principal *p = api_auth_admin(r);
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !api_page_read(r, &pg))
        return;
    user *rows;
    size_t n;
    error e;
    /* One row past the page says whether there is a next one. */
    if (user_store_admin_list(api_conn(r), http_arena(r), http_query(r, "email"), pg.cursor,
                              pg.limit + 1, &rows, &n, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n && i < (size_t)pg.limit; i++)
        row_json_write(&j.w, &user_row, &rows[i]);
    api_page_end(r, &j, n > (size_t)pg.limit ? rows[pg.limit - 1].id : NULL);
}

static void users_get(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "user") : NULL;
    if (id == NULL)
        return;
    user u;
    error e;
    if (user_store_admin_get(api_conn(r), http_arena(r), id, &u, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    user_reply(r, &u);
}

static void users_update(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "user") : NULL;
    json_t *in = id ? api_body(r, &user_row, API_UPDATE, p) : NULL;
    if (in == NULL)
        return;
    user u;
    error e;
    if (admin_service_user_update(api_conn(r), http_arena(r), p, id, in, &u, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    user_reply(r, &u);
}

const http_route admin_routes[] = {
    {"GET", "/api/v1/plans", plans_list, "plans.list"},
    {"POST", "/api/v1/admin/plans", plans_create, "admin.plans.create"},
    {"PATCH", "/api/v1/admin/plans/{id}", plans_update, "admin.plans.update"},
    {"GET", "/api/v1/admin/users", users_list, "admin.users.list"},
    {"GET", "/api/v1/admin/users/{id}", users_get, "admin.users.get"},
    {"PATCH", "/api/v1/admin/users/{id}", users_update, "admin.users.update"},
};
const size_t admin_routes_count = sizeof(admin_routes) / sizeof(admin_routes[0]);
