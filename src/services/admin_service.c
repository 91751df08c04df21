#include "services/admin_service.h"

#include "domain/plan_store.h"
#include "domain/user_store.h"

static int admin__check_default(db_conn *c, json_t *in, error *err)
{
    const char *def = json_string_value(json_object_get(in, "default_persona_id"));
    return def ? plan_store_check_default_persona(c, def, err) : 0;
}

int admin_service_plan_create(db_conn *c, json_t *in, char id[UUID_STR_LEN + 1], json_t **doc,
                              error *err)
{
    if (admin__check_default(c, in, err) != 0 || plan_store_insert(c, in, id, err) != 0)
        return -1;
    return plan_store_get(c, id, doc, err);
}

int admin_service_plan_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err)
{
    if (admin__check_default(c, in, err) != 0 || plan_store_update(c, id, in, err) != 0)
        return -1;
    return plan_store_get(c, id, doc, err);
}

/* The last-admin check and the write must see the same state: one write
 * transaction. */
typedef struct admin__user_edit {
    const char *id;
    json_t *in;
} admin__user_edit;

static int admin__user_update_body(db_conn *c, void *arg, error *err)
{
    admin__user_edit *ed = arg;
    return user_store_admin_update(c, ed->id, ed->in, err);
}

int admin_service_user_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err)
{
    admin__user_edit ed = {id, in};
    if (db_tx(c, admin__user_update_body, &ed, err) != 0)
        return -1;
    return user_store_admin_get(c, id, doc, err);
}
