#include "services/audit.h"

#include "base/jsonout.h"
#include "base/text.h"

#include <string.h>

json_t *audit_text(const char *text)
{
    if (text == NULL)
        return json_null();
    size_t n = strlen(text), k = utf8_prefix(text, AUDIT_TEXT_MAX);
    return json_stringn(text, k < n ? k : n);
}

int64_t audit_retention_usec(int days)
{
    return (int64_t)days * 24 * 3600 * 1000000;
}

static const char *audit__kind(const audit_entry *e)
{
    if (e->by == NULL)
        return e->ip != NULL ? "anonymous" : "system";
    if (e->as_admin)
        return "admin";
    return e->by->via == PRINCIPAL_API_KEY ? "api_key" : "user";
}

int audit_record(db_conn *c, const audit_entry *e, error *err)
{
    const principal *by = e->by;
    audit_event ev = {
        .actor_kind = audit__kind(e),
        .actor_user_id = by ? by->user_id : NULL,
        .actor_api_key_id = by && by->via == PRINCIPAL_API_KEY ? by->credential_id : NULL,
        .subject_user_id = e->subject,
        .action = e->action,
        .object_type = e->object_type,
        .object_id = e->object_id,
        .client_ip = e->ip                    ? e->ip
                     : by && by->client_ip[0] ? by->client_ip
                                              : NULL,
    };
    char *text = NULL;
    if (e->detail != NULL) {
        text = json_dumps(e->detail, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(e->detail);
        if (text == NULL)
            return error_set(err, ERR_INTERNAL, NULL, "could not encode the detail of '%s'",
                             e->action);
        ev.detail = text;
    }
    int rc = audit_store_insert(c, &ev, err);
    free(text);
    return rc;
}

int audit_persona_switch(db_conn *c, const principal *by, const channel_assignment *as, error *err)
{
    json_t *d = json_pack("{s:o,s:o,s:s,s:o}", "from", audit_text(as->previous_persona_id), "to",
                          audit_text(as->persona_id), "source", as->source, "reason",
                          audit_text(as->reason));
    if (as->persona_id != NULL)
        json_object_set_new(d, "version", json_integer(as->persona_version));
    if (as->suggestion_id != NULL)
        json_object_set_new(d, "suggestion_id", json_string(as->suggestion_id));
    bool admin = by != NULL && strcmp(by->user_id, as->user_id) != 0;
    return audit_record(c,
                        &(audit_entry){.action = "channel.persona_switched",
                                       .by = by,
                                       .as_admin = admin,
                                       .subject = as->user_id,
                                       .object_type = "channel",
                                       .object_id = as->channel_id,
                                       .detail = d},
                        err);
}
