/*
 * The job queue, for admins: list jobs by status and kind (dead ones keep
 * their last error), and requeue a dead job once its cause is fixed. A job
 * is written by its row spec (job_record_row).
 */
#include "http/api.h"
#include "http/routes.h"
#include "jobs/queue.h"
#include "services/admin_service.h"

#include <string.h>

/* Whether s is one of the NULL-terminated values. */
static bool jobs__one_of(const char *s, const char *const *values)
{
    for (; *values != NULL; values++)
        if (strcmp(*values, s) == 0)
            return true;
    return false;
}

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
    if (status != NULL && !jobs__one_of(status, job_statuses)) {
        error_set(&e, ERR_INVALID, "status", "status must be queued, running, done or dead");
        http_reply_error(r, &e);
        return;
    }
    if (kind != NULL && (kind[0] == '\0' || strlen(kind) > JOB_KIND_MAX)) {
        error_set(&e, ERR_INVALID, "kind", "kind must be a job kind of 1 to %d characters",
                  JOB_KIND_MAX);
        http_reply_error(r, &e);
        return;
    }
    job_record *rows;
    size_t n;
    if (job_list(api_conn(r), http_arena(r), status, kind, pg.cursor, pg.limit + 1, &rows, &n,
                 &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    bool more = n > (size_t)pg.limit;
    if (more)
        n = (size_t)pg.limit;
    http_json j;
    api_page_begin(&j);
    for (size_t i = 0; i < n; i++)
        row_json_write(&j.w, &job_record_row, &rows[i]);
    api_page_end(r, &j, more ? rows[n - 1].id : NULL);
}

static void jobs_requeue(http_request *r)
{
    const principal *p = api_auth_admin(r);
    const char *id = p ? api_uuid_param(r, "id", "job") : NULL;
    if (id == NULL)
        return;
    error e;
    job_record row;
    if (admin_service_job_requeue(api_conn(r), http_arena(r), p, id, &row, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    row_json_write(&j.w, &job_record_row, &row);
    http_reply_written(r, 200, &j);
}

const http_route jobs_routes[] = {
    {"GET", "/api/v1/admin/jobs", jobs_list, "admin.jobs.list"},
    {"POST", "/api/v1/admin/jobs/{id}/requeue", jobs_requeue, "admin.jobs.requeue"},
};
const size_t jobs_routes_count = sizeof(jobs_routes) / sizeof(jobs_routes[0]);
