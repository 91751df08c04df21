/*
 * Plans (readable by every signed-in user, managed by admins) and the admin
 * view of users: role and plan changes.
 */
#include "domain/limits.h"
#include "domain/plan_store.h"
#include "domain/user_store.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/admin_service.h"

#include <stdio.h>
#include <string.h>

static const api_field PLAN_FIELDS[] = {
    {"id", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"code", API_STRING, API_REQUIRED, 1, PLAN_CODE_MAX, NULL, 0},
    {"name", API_STRING, API_REQUIRED, 1, PLAN_NAME_MAX, NULL, 0},
    {"rank", API_INT, API_REQUIRED, 0, 1000000, NULL, 0},
    {"max_channels", API_INT, API_NULLABLE, 0, 1000000, NULL, 0},
    {"max_projects_per_month", API_INT, API_NULLABLE, 0, 100000000, NULL, 0},
    {"max_generations_per_month", API_INT, API_NULLABLE, 0, 100000000, NULL, 0},
    {"default_persona_id", API_UUID, API_NULLABLE, 0, 0, NULL, 0},
    {"created_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"updated_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {NULL, 0, 0, 0, 0, NULL, 0},
};

/* On update the code is fixed: personas.required_plan refers to it. */
static const api_field PLAN_UPDATE_FIELDS[] = {
    {"id", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"code", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"name", API_STRING, 0, 1, PLAN_NAME_MAX, NULL, 0},
    {"rank", API_INT, 0, 0, 1000000, NULL, 0},
    {"max_channels", API_INT, API_NULLABLE, 0, 1000000, NULL, 0},
    {"max_projects_per_month", API_INT, API_NULLABLE, 0, 100000000, NULL, 0},
    {"max_generations_per_month", API_INT, API_NULLABLE, 0, 100000000, NULL, 0},
    {"default_persona_id", API_UUID, API_NULLABLE, 0, 0, NULL, 0},
    {"created_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"updated_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {NULL, 0, 0, 0, 0, NULL, 0},
};

static const char *const ROLES[] = {"admin", "user", NULL};
static const api_field USER_FIELDS[] = {
    {"id", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"email", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"name", API_STRING, 0, 1, USER_NAME_MAX, NULL, 0},
    {"role", API_ENUM, 0, 0, 0, ROLES, 0},
    {"plan", API_STRING, 0, 1, PLAN_CODE_MAX, NULL, 0},
    {"created_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {"updated_at", API_STRING, API_READONLY, 0, 0, NULL, 0},
    {NULL, 0, 0, 0, 0, NULL, 0},
};

/* Replies with the JSON a store produced, or its error. */
static void reply(http_request *r, int status, int rc, json_t *doc, const error *e)
{
    if (rc != 0)
        http_reply_error(r, e);
    else
        http_reply_json(r, status, doc);
}

static void plans_list(http_request *r)
{
    static const char *const q[] = {NULL};
    if (api_auth(r) == NULL || !api_query_allowed(r, q))
        return;
    json_t *items = NULL;
    error e;
    int rc = plan_store_list(api_conn(r), &items, &e);
    if (rc != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void plans_create(http_request *r)
{
    const principal *p = api_auth_admin(r);
    json_t *in = p ? api_body(r, PLAN_FIELDS, API_CREATE, p) : NULL;
    if (in == NULL)
        return;
    char id[UUID_STR_LEN + 1];
    error e;
    json_t *doc = NULL;
    int rc = admin_service_plan_create(api_conn(r), in, id, &doc, &e);
    if (rc == 0)
        http_set_header(r, "Location", arena_sprintf(http_arena(r), "/api/v1/admin/plans/%s", id));
    reply(r, 201, rc, doc, &e);
}

static void plans_update(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "plan") : NULL;
    json_t *in = id ? api_body(r, PLAN_UPDATE_FIELDS, API_UPDATE, p) : NULL;
    if (in == NULL)
        return;
    error e;
    json_t *doc = NULL;
    int rc = admin_service_plan_update(api_conn(r), id, in, &doc, &e);
    reply(r, 200, rc, doc, &e);
}

static void users_list(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", "email", NULL};
    const principal *p = api_auth_admin(r);
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !api_page_read(r, &pg))
        return;
    json_t *items = NULL;
    error e;
    if (user_store_admin_list(api_conn(r), http_query(r, "email"), pg.cursor, pg.limit + 1, &items,
                              &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    char next[UUID_STR_LEN + 1] = "";
    if (json_array_size(items) > (size_t)pg.limit) {
        json_array_remove(items, (size_t)pg.limit);
        snprintf(next, sizeof(next), "%s",
                 json_string_value(json_object_get(json_array_get(items, pg.limit - 1), "id")));
    }
    api_reply_page(r, items, next[0] ? next : NULL);
}

static void users_get(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "user") : NULL;
    if (id == NULL)
        return;
    json_t *doc = NULL;
    error e;
    int rc = user_store_admin_get(api_conn(r), id, &doc, &e);
    reply(r, 200, rc, doc, &e);
}

static void users_update(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "user") : NULL;
    json_t *in = id ? api_body(r, USER_FIELDS, API_UPDATE, p) : NULL;
    if (in == NULL)
        return;
    error e;
    json_t *doc = NULL;
    int rc = admin_service_user_update(api_conn(r), id, in, &doc, &e);
    reply(r, 200, rc, doc, &e);
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
