/*
 * persona_store_summary: the short read side of persona_store, the one read
 * of the personas table that deciding "may this caller use that persona?"
 * needs: no instruction text, the required plan's rank joined in.
 * Visibility is part of the query itself (SYSTEM, or CUSTOM owned by the
 * caller, or CUSTOM and PUBLIC), so a persona the caller may not see never
 * leaves the database. The decision itself lives in services/persona_access.
 * The row is read by persona_row, the one description of the columns.
 */
#ifndef PS_DOMAIN_PERSONA_STORE_SUMMARY_H
#define PS_DOMAIN_PERSONA_STORE_SUMMARY_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/persona_store.h"

#include <stdbool.h>

/**
 * Reads the id, name, version, required_plan and required_rank of the
 * persona with this id (its texts into a) if user_id may see it and it is
 * not archived (a deleted persona that records still name). *found is
 * false (and 0 is returned) when there is none, including a malformed id.
 */
int persona_store_summary_visible(db_conn *c, arena *a, const char *user_id, const char *persona_id,
                                  persona *out, bool *found, error *err);

/**
 * The ids of the personas user_id may use with a plan of rank plan_rank
 * (visible as above, not archived, required rank within the plan), by id,
 * at most max of them, into ids (max entries).
 */
int persona_store_summary_usable_ids(db_conn *c, const char *user_id, int plan_rank,
                                     char (*ids)[UUID_STR_LEN + 1], size_t max, size_t *n,
                                     error *err);

#endif
