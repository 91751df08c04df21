#include "services/admin_service.h"

#include "domain/plan_store.h"
#include "domain/user_store.h"

static int admin__check_default(db_conn *c, json_t *in, error *err)
{
    const char *def = json_string_value(json_object_get(in, "default_persona_id"));
    return def ? plan_store_check_default_persona(c, def, err) : 0;
}

/* One admin change as one write transaction: its checks, its write, and the
 * read of the row it answers with, so the answer never reports a failure
 * for a change that was committed (a read after the commit could fail). */
typedef struct admin__edit {
    const char *id; /* NULL: create a plan, its id into new_id */
    char *new_id;
    json_t *in;
    json_t **doc;
} admin__edit;

static int admin__plan_create_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    if (admin__check_default(c, ed->in, err) != 0 ||
        plan_store_insert(c, ed->in, ed->new_id, err) != 0)
        return -1;
    return plan_store_get(c, ed->new_id, ed->doc, err);
}

static int admin__plan_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    if (admin__check_default(c, ed->in, err) != 0 || plan_store_update(c, ed->id, ed->in, err) != 0)
        return -1;
    return plan_store_get(c, ed->id, ed->doc, err);
}

/* The last-admin check and the write must see the same state. */
static int admin__user_update_body(db_conn *c, void *arg, error *err)
{
    admin__edit *ed = arg;
    if (user_store_admin_update(c, ed->id, ed->in, err) != 0)
        return -1;
    return user_store_admin_get(c, ed->id, ed->doc, err);
}

/* Runs one change; *doc is NULL unless it committed. */
static int admin__run(db_conn *c, db_tx_fn fn, admin__edit *ed, error *err)
{
    *ed->doc = NULL;
    if (db_tx(c, fn, ed, err) == 0)
        return 0;
    json_decref(*ed->doc);
    *ed->doc = NULL;
    return -1;
}

int admin_service_plan_create(db_conn *c, json_t *in, char id[UUID_STR_LEN + 1], json_t **doc,
                              error *err)
{
    admin__edit ed = {NULL, id, in, doc};
    return admin__run(c, admin__plan_create_body, &ed, err);
}

int admin_service_plan_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err)
{
    admin__edit ed = {id, NULL, in, doc};
    return admin__run(c, admin__plan_update_body, &ed, err);
}

int admin_service_user_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err)
{
    admin__edit ed = {id, NULL, in, doc};
    return admin__run(c, admin__user_update_body, &ed, err);
}
