/*
 * admin_service: what admins change in plans and users, with the checks
 * each change needs: a plan's default persona must be a SYSTEM one, and the
 * last administrator is not demoted. Each change is one transaction: its
 * checks, its write and the read of its answer (so two demotions at once
 * cannot both pass, and no answer reports a failure for a change that was
 * committed). The answers are the rows as JSON, as plan_store and
 * user_store write them. Callers have made sure the caller is an admin.
 */
#ifndef PS_SERVICES_ADMIN_SERVICE_H
#define PS_SERVICES_ADMIN_SERVICE_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"

#include <jansson.h>

/**
 * Creates a plan from a validated object (see plan_store_insert); fills id
 * and *doc, the new plan. ERR_INVALID for a default persona that is not a
 * SYSTEM one, ERR_CONFLICT for a taken code or rank.
 */
int admin_service_plan_create(db_conn *c, json_t *in, char id[UUID_STR_LEN + 1], json_t **doc,
                              error *err);
/** Changes the fields present in `in`; *doc is the plan after. ERR_NOT_FOUND when absent. */
int admin_service_plan_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err);
/**
 * Changes a user's role, plan (by code) and/or name in one transaction;
 * *doc is the user after. ERR_CONFLICT when it would demote the last admin.
 */
int admin_service_user_update(db_conn *c, const char *id, json_t *in, json_t **doc, error *err);

#endif
