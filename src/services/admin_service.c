#include "services/admin_service.h"

#include "base/timeutil.h"
#include "jobs/queue.h"
#include "services/audit.h"

#include <string.h>

static int admin__check_default(db_conn *c, const plan *pl, error *err)
{
    return pl->default_persona_id ? plan_store_check_default_persona(c, pl->default_persona_id, err)
                                  : 0;
}

/* One change of one row: who, its id, the checked body, the arena, the row after. */
typedef struct admin__edit {
    const principal *by;
    const char *id;
    const json_t *in;
    arena *a;
    void *row;
} admin__edit;

/* An admin's act on a plan, with what changed (plans hold no secret and no
 * user's data: every writable column may be shown). */
static int admin__plan_event(db_conn *c, const principal *by, const char *action, const plan *pl,
                             json_t *changes, error *err)
{
    return audit_record(
        c,
        &(audit_entry){.action = action,
                       .by = by,
                       .as_admin = true,
                       .object_type = "plan",
                       .object_id = pl->id,
                       .detail = json_pack("{s:o,s:o}", "code", audit_text(pl->code), "changes",
                                           changes ? changes : json_array())},
        err);
}

/* The default persona's check and the insert see the same state. */
static int admin__plan_create_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    if (admin__check_default(c, ed->row, err) != 0 || plan_store_insert(c, ed->row, err) != 0)
        return -1;
    return admin__plan_event(c, ed->by, "admin.plan_created", ed->row, NULL, err);
}

int admin_service_plan_create(db_conn *c, arena *a, const principal *by, const json_t *in,
                              plan *out, error *err)
{
    memset(out, 0, sizeof(*out));
    out->max_channels = out->max_projects_per_month = out->max_generations_per_month = -1;
    if (row_from_json(&plan_row, out, in, PLAN_WRITABLE, a, err) != 0)
        return -1;
    admin__edit ed = {by, NULL, in, a, out};
    return db_tx(c, admin__plan_create_body, &ed, err) < 0 ? -1 : 0;
}

static int admin__plan_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    plan *pl = ed->row;
    if (plan_store_get(c, ed->a, ed->id, pl, err) != 0)
        return -1;
    plan before = *pl;
    if (row_from_json(&plan_row, pl, ed->in, PLAN_WRITABLE, ed->a, err) != 0)
        return -1;
    if (json_object_get(ed->in, "default_persona_id") != NULL &&
        admin__check_default(c, pl, err) != 0)
        return -1;
    pl->updated_at = time_now_usec();
    if (plan_store_update(c, pl, err) != 0)
        return -1;
    json_t *changes = json_array();
    row_diff(&plan_row, &before, pl, PLAN_WRITABLE, changes);
    return admin__plan_event(c, ed->by, "admin.plan_updated", pl, changes, err);
}

int admin_service_plan_update(db_conn *c, arena *a, const principal *by, const char *id,
                              const json_t *in, plan *out, error *err)
{
    admin__edit ed = {by, id, in, a, out};
    return db_tx(c, admin__plan_update_body, &ed, err) < 0 ? -1 : 0;
}

/* An admin's change of a user, on that user's trail: the role and plan
 * from and to, and that the name changed (not the name itself, which is
 * the user's to read on their account). A new plan is also its own event,
 * plan.changed, the one a user looks for. */
static int admin__user_events(db_conn *c, const principal *by, const user *before, const user *u,
                              error *err)
{
    json_t *changes = json_array();
    row_diff(&user_row, before, u, "role, plan", changes);
    if (row_diff(&user_row, before, u, "name", NULL) > 0)
        json_array_append_new(changes, json_pack("{s:s}", "field", "name"));
    if (audit_record(c,
                     &(audit_entry){.action = "admin.user_updated",
                                    .by = by,
                                    .as_admin = true,
                                    .subject = u->id,
                                    .object_type = "user",
                                    .object_id = u->id,
                                    .detail = json_pack("{s:o}", "changes", changes)},
                     err) != 0)
        return -1;
    if (strcmp(before->plan_id, u->plan_id) == 0)
        return 0;
    return audit_record(
        c,
        &(audit_entry){.action = "plan.changed",
                       .by = by,
                       .as_admin = true,
                       .subject = u->id,
                       .object_type = "user",
                       .object_id = u->id,
                       .detail = json_pack("{s:o,s:o}", "from", audit_text(before->plan), "to",
                                           audit_text(u->plan))},
        err);
}

/* The last-admin check and the write see the same state: one write
 * transaction. */
static int admin__user_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    user *u = ed->row;
    if (user_store_admin_get(c, ed->a, ed->id, u, err) != 0)
        return -1;
    user before = *u;
    bool was_admin = strcmp(u->role, "admin") == 0;
    if (row_from_json(&user_row, u, ed->in, USER_ADMIN_WRITABLE, ed->a, err) != 0)
        return -1;
    if (was_admin && strcmp(u->role, "admin") != 0) {
        int64_t others = 0;
        if (user_store_admin_count_others(c, u->id, &others, err) != 0)
            return -1;
        if (others == 0)
            return error_set(err, ERR_CONFLICT, "role",
                             "this is the last administrator; promote another user first");
    }
    if (json_object_get(ed->in, "plan") != NULL &&
        plan_store_id_by_code(c, u->plan, u->plan_id, err) != 0)
        return err->kind == ERR_NOT_FOUND
                   ? error_set(err, ERR_INVALID, "plan", "there is no plan '%s'", u->plan)
                   : -1;
    u->updated_at = time_now_usec();
    if (user_store_admin_update(c, u, err) != 0)
        return -1;
    return admin__user_events(c, ed->by, &before, u, err);
}

int admin_service_user_update(db_conn *c, arena *a, const principal *by, const char *id,
                              const json_t *in, user *out, error *err)
{
    admin__edit ed = {by, id, in, a, out};
    return db_tx(c, admin__user_update_body, &ed, err) < 0 ? -1 : 0;
}

/* The requeue and its event, one transaction; the job's owner (when it has
 * one) sees it on their trail. */
static int admin__job_requeue_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    job_record *row = ed->row;
    if (job_get(c, ed->a, ed->id, row, err) != 0 || job_requeue(c, ed->a, ed->id, err) != 0)
        return -1;
    return audit_record(
        c,
        &(audit_entry){.action = "admin.job_requeued",
                       .by = ed->by,
                       .as_admin = true,
                       .subject = row->user_id,
                       .object_type = "job",
                       .object_id = ed->id,
                       .detail = json_pack("{s:o,s:i}", "kind", audit_text(row->kind), "attempts",
                                           row->attempts)},
        err);
}

int admin_service_job_requeue(db_conn *c, arena *a, const principal *by, const char *id,
                              job_record *out, error *err)
{
    job_record before;
    admin__edit ed = {by, id, NULL, a, &before};
    if (db_tx(c, admin__job_requeue_body, &ed, err) < 0)
        return -1;
    return job_get(c, a, id, out, err);
}
