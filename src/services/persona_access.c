#include "services/persona_access.h"

#include "domain/persona_store_summary.h"
#include "domain/plan_store.h"

#include <stdio.h>
#include <string.h>

int persona_access_usable(db_conn *c, const principal *p, const char *persona_id, char *name_out,
                          int *version_out, error *err)
{
    arena a;
    arena_init(&a, 512);
    persona row;
    bool found = false;
    int rc = persona_store_summary_visible(c, &a, p->user_id, persona_id, &row, &found, err);
    if (rc == 0 && !found)
        rc = error_set(err, ERR_NOT_FOUND, "persona_id", "no persona with id %s",
                       persona_id ? persona_id : "(none)");
    else if (rc == 0 && row.required_rank > p->plan_rank)
        rc = error_set(err, ERR_PLAN_REQUIRED, "persona_id",
                       "persona '%s' needs the '%s' plan and your plan is '%s'; upgrade to "
                       "use it",
                       row.name, row.required_plan, p->plan_code);
    if (rc == 0 && name_out != NULL)
        text_copy(name_out, PERSONA_ACCESS_NAME_LEN, row.name); /* at most PERSONA_NAME_MAX */
    if (rc == 0 && version_out != NULL)
        *version_out = (int)row.version;
    arena_free(&a);
    return rc;
}

int persona_access_usable_now(db_conn *c, const char *user_id, const char *persona_id, error *err)
{
    principal p = {0};
    snprintf(p.user_id, sizeof(p.user_id), "%s", user_id);
    if (plan_store_of_user(c, user_id, p.plan_code, &p.plan_rank, err) != 0)
        return -1;
    return persona_access_usable(c, &p, persona_id, NULL, NULL, err);
}

int persona_access_check_choice(db_conn *c, const principal *p, const char *persona_id,
                                int *version_out, error *err)
{
    error e;
    if (persona_access_usable(c, p, persona_id, NULL, version_out, &e) == 0)
        return 0;
    if (e.kind == ERR_NOT_FOUND)
        return error_set(err, ERR_INVALID, "persona_id", "no persona with id %s that you can use",
                         persona_id ? persona_id : "(none)");
    if (err != NULL)
        *err = e;
    return -1;
}

int persona_access_plan_default(db_conn *c, const principal *p, char id_out[UUID_STR_LEN + 1],
                                int *version_out, error *err)
{
    if (plan_store_default_persona(c, p->plan_id, id_out, err) != 0)
        return -1;
    if (id_out[0] == '\0')
        return error_set(err, ERR_INVALID, "persona_id",
                         "your plan has no default persona; pass persona_id");
    error e;
    if (persona_access_usable(c, p, id_out, NULL, version_out, &e) != 0) {
        if (e.kind != ERR_NOT_FOUND && e.kind != ERR_PLAN_REQUIRED) {
            if (err != NULL)
                *err = e;
            return -1;
        }
        /* An admin pointed the plan at a persona its users cannot use: that
         * is a setup fault, but the caller can still get on by choosing. */
        return error_set(err, ERR_INVALID, "persona_id",
                         "your plan's default persona is not available to you; pass persona_id");
    }
    return 0;
}

int persona_access_list_usable_now(db_conn *c, const char *user_id, char (*ids)[UUID_STR_LEN + 1],
                                   size_t max, size_t *n, error *err)
{
    char code[UTF8_BUF(PLAN_CODE_MAX)];
    int rank = 0;
    *n = 0;
    if (plan_store_of_user(c, user_id, code, &rank, err) != 0)
        return -1;
    return persona_store_summary_usable_ids(c, user_id, rank, ids, max, n, err);
}
