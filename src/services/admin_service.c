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

int admin_service_user_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err)
{
    db_error de;
    /* The last-admin check and the write must see the same state. */
    if (db_begin_write(c, &de) != 0)
        return db_to_error(err, &de, NULL);
    int rc = user_store_admin_update(c, id, in, err);
    if (rc == 0 && db_commit(c, &de) != 0)
        rc = db_to_error(err, &de, NULL);
    if (rc != 0) {
        db_rollback(c);
        return -1;
    }
    return user_store_admin_get(c, id, doc, err);
}
