/*
 * The job queue, for admins: list jobs by status and kind (dead ones keep
 * their last error), and requeue a dead job once its cause is fixed.
 */
#include "http/api.h"
#include "http/routes.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <string.h>

static void jobs_list(http_request *r)
{
    static const char *const q[] = {"limit", "cursor", "status", "kind", NULL};
    const principal *p = api_auth_admin(r);
    api_page pg;
    if (p == NULL || !api_query_allowed(r, q) || !api_page_read(r, &pg))
        return;
    const char *status = http_query(r, "status");
    const char *kind = http_query(r, "kind");
    error e;
    if (status != NULL && strcmp(status, "queued") != 0 && strcmp(status, "running") != 0 &&
        strcmp(status, "done") != 0 && strcmp(status, "dead") != 0) {
        error_set(&e, ERR_INVALID, "status", "status must be queued, running, done or dead");
        http_reply_error(r, &e);
        return;
    }
    if (kind != NULL && (kind[0] == '\0' || strlen(kind) > 64)) {
        error_set(&e, ERR_INVALID, "kind", "kind must be a job kind of 1 to 64 characters");
        http_reply_error(r, &e);
        return;
    }
    json_t *items = NULL;
    if (job_list(api_conn(r), status, kind, pg.cursor, pg.limit + 1, &items, &e) != 0) {
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

static void jobs_requeue(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "job") : NULL;
    if (id == NULL)
        return;
    db_conn *c = api_conn(r);
    error e;
    json_t *doc = NULL;
    if (job_requeue(c, id, &e) != 0 || job_get(c, id, &doc, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_reply_json(r, 200, doc);
}

const http_route jobs_routes[] = {
    {"GET", "/api/v1/admin/jobs", jobs_list, "admin.jobs.list"},
    {"POST", "/api/v1/admin/jobs/{id}/requeue", jobs_requeue, "admin.jobs.requeue"},
};
const size_t jobs_routes_count = sizeof(jobs_routes) / sizeof(jobs_routes[0]);
