/*
 * persona_lookup: the one read of the personas table that deciding "may this
 * caller use that persona?" needs. Visibility is part of the query itself
 * (SYSTEM, or CUSTOM owned by the caller, or CUSTOM and PUBLIC), so a persona
 * the caller may not see never leaves the database. Plan ranks come along so
 * the caller can compare them; the decision itself lives in
 * services/persona_access.
 */
#ifndef PS_DOMAIN_PERSONA_LOOKUP_H
#define PS_DOMAIN_PERSONA_LOOKUP_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"

#include <stdbool.h>

typedef struct persona_lookup_row {
    char id[UUID_STR_LEN + 1];
    char name[UTF8_BUF(PERSONA_NAME_MAX)];
    int version;
    char required_plan[UTF8_BUF(PLAN_CODE_MAX)]; /* plans.code */
    int required_rank;                           /* that plan's rank */
} persona_lookup_row;

/**
 * Reads the persona with this id if user_id may see it and it is not
 * archived (a deleted persona that records still name). *found is false
 * (and 0 is returned) when there is none, including a malformed id.
 */
int persona_lookup_visible(db_conn *c, const char *user_id, const char *persona_id,
                           persona_lookup_row *out, bool *found, error *err);
/**
 * The default persona id of the plan with this id; id_out is "" when the
 * plan has none. ERR_NOT_FOUND with field "plan" when the plan is gone.
 */
int persona_lookup_plan_default(db_conn *c, const char *plan_id, char id_out[UUID_STR_LEN + 1],
                                error *err);
/**
 * The code and rank of the user's plan as it is now (a job runs long after
 * the request that queued it). ERR_NOT_FOUND when the user is gone.
 */
int persona_lookup_user_plan(db_conn *c, const char *user_id, char code_out[33], int *rank_out,
                             error *err);

#endif
