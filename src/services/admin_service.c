#include "services/admin_service.h"

#include "base/timeutil.h"

#include <string.h>

static int admin__check_default(db_conn *c, const plan *pl, error *err)
{
    return pl->default_persona_id ? plan_store_check_default_persona(c, pl->default_persona_id, err)
                                  : 0;
}

/* One change of one row: its id, the checked body, the arena, the row after. */
typedef struct admin__edit {
    const char *id;
    const json_t *in;
    arena *a;
    void *row;
} admin__edit;

/* The default persona's check and the insert see the same state. */
static int admin__plan_create_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    return admin__check_default(c, ed->row, err) != 0 ? -1 : plan_store_insert(c, ed->row, err);
}

int admin_service_plan_create(db_conn *c, arena *a, const json_t *in, plan *out, error *err)
{
    memset(out, 0, sizeof(*out));
    out->max_channels = out->max_projects_per_month = out->max_generations_per_month = -1;
    if (row_from_json(&plan_row, out, in, PLAN_WRITABLE, a, err) != 0)
        return -1;
    admin__edit ed = {NULL, in, a, out};
    return db_tx(c, admin__plan_create_body, &ed, err) < 0 ? -1 : 0;
}

static int admin__plan_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    plan *pl = ed->row;
    if (plan_store_get(c, ed->a, ed->id, pl, err) != 0)
        return -1;
    if (row_from_json(&plan_row, pl, ed->in, PLAN_WRITABLE, ed->a, err) != 0)
        return -1;
    if (json_object_get(ed->in, "default_persona_id") != NULL &&
        admin__check_default(c, pl, err) != 0)
        return -1;
    pl->updated_at = time_now_usec();
    return plan_store_update(c, pl, err);
}

int admin_service_plan_update(db_conn *c, arena *a, const char *id, const json_t *in, plan *out,
                              error *err)
{
    admin__edit ed = {id, in, a, out};
    return db_tx(c, admin__plan_update_body, &ed, err) < 0 ? -1 : 0;
}

/* The last-admin check and the write see the same state: one write
 * transaction. */
static int admin__user_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    user *u = ed->row;
    if (user_store_admin_get(c, ed->a, ed->id, u, err) != 0)
        return -1;
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
    return user_store_admin_update(c, u, err);
}

int admin_service_user_update(db_conn *c, arena *a, const char *id, const json_t *in, user *out,
                              error *err)
{
    admin__edit ed = {id, in, a, out};
    return db_tx(c, admin__user_update_body, &ed, err) < 0 ? -1 : 0;
}
