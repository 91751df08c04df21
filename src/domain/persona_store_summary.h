/*
 * persona_store_summary: the short read side of persona_store, the one read
 * of the personas table that deciding "may this caller use that persona?"
 * needs: no instruction text, the required plan's rank joined in.
 * Visibility is part of the query itself (SYSTEM, or CUSTOM owned by the
 * caller, or CUSTOM and PUBLIC), so a persona the caller may not see never
 * leaves the database. The decision itself lives in services/persona_access.
 */
#ifndef PS_DOMAIN_PERSONA_STORE_SUMMARY_H
#define PS_DOMAIN_PERSONA_STORE_SUMMARY_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"

#include <stdbool.h>

typedef struct persona_summary {
    char id[UUID_STR_LEN + 1];
    char name[UTF8_BUF(PERSONA_NAME_MAX)];
    int version;
    char required_plan[UTF8_BUF(PLAN_CODE_MAX)]; /* plans.code */
    int required_rank;                           /* that plan's rank */
} persona_summary;

/**
 * Reads the persona with this id if user_id may see it and it is not
 * archived (a deleted persona that records still name). *found is false
 * (and 0 is returned) when there is none, including a malformed id.
 */
int persona_store_summary_visible(db_conn *c, const char *user_id, const char *persona_id,
                                  persona_summary *out, bool *found, error *err);

#endif
