/*
 * persona_access: the one rule for "may this caller use that persona?",
 * shared by every use case that puts a persona to work (assigning it to a
 * channel, writing a project with it). A persona is usable when the caller
 * can see it (SYSTEM, or CUSTOM and theirs, or CUSTOM and PUBLIC) and their
 * plan's rank reaches the rank of the persona's required_plan. A persona the
 * caller cannot see is reported exactly like one that does not exist.
 */
#ifndef PS_SERVICES_PERSONA_ACCESS_H
#define PS_SERVICES_PERSONA_ACCESS_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "services/services.h"

/* Bytes for name_out: any persona name, whole. */
#define PERSONA_ACCESS_NAME_LEN UTF8_BUF(PERSONA_NAME_MAX)

/**
 * Succeeds when p may use persona_id, filling name_out (nullable,
 * PERSONA_ACCESS_NAME_LEN bytes) and version_out (nullable). Not visible
 * (or no such persona): ERR_NOT_FOUND, field "persona_id". Visible but
 * above the caller's plan: ERR_PLAN_REQUIRED, field "persona_id", naming
 * the plan needed.
 */
int persona_access_usable(db_conn *c, const principal *p, const char *persona_id, char *name_out,
                          int *version_out, error *err);
/**
 * persona_access_usable for user_id with the plan the user has now, for
 * work that runs after the request that asked for it (a queued
 * generation): a plan may have dropped in between.
 */
int persona_access_usable_now(db_conn *c, const char *user_id, const char *persona_id, error *err);
/**
 * persona_access_usable for a persona_id that came in a request body: there
 * a 404 would read as "no such URL", so a persona the caller cannot see is
 * ERR_INVALID, field "persona_id", instead. A locked one is still
 * ERR_PLAN_REQUIRED.
 */
int persona_access_check_choice(db_conn *c, const principal *p, const char *persona_id,
                                int *version_out, error *err);
/**
 * The default persona of the caller's plan, which must itself be usable.
 * A plan without one: ERR_INVALID, field "persona_id".
 */
int persona_access_plan_default(db_conn *c, const principal *p, char id_out[UUID_STR_LEN + 1],
                                int *version_out, error *err);

/**
 * The ids of every persona user_id may use now (with the plan they have
 * now), by the same rule, at most max, into ids.
 */
int persona_access_list_usable_now(db_conn *c, const char *user_id, char (*ids)[UUID_STR_LEN + 1],
                                   size_t max, size_t *n, error *err);

#endif
