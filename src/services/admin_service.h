/*
 * admin_service: what admins change in plans and users, with the checks
 * each change needs: a plan's default persona must be a SYSTEM one, and the
 * last administrator is not demoted. A change reads the row, applies the
 * body and writes it back in one write transaction, so two changes at once
 * cannot lose one another or both pass a check. Bodies have been checked
 * against plan_row / user_row (api_body); callers have made sure the
 * caller is an admin. The rows answered are the rows as written, their
 * text in a. Every change is recorded in the audit trail (services/audit.h)
 * in its transaction, by `by`, an administrator.
 */
#ifndef PS_SERVICES_ADMIN_SERVICE_H
#define PS_SERVICES_ADMIN_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/job_store.h"
#include "domain/plan_store.h"
#include "domain/principal.h"
#include "domain/user_store.h"

#include <jansson.h>

/**
 * Creates a plan from a checked body; *out is the new plan. ERR_INVALID
 * for a default persona that is not a SYSTEM one, ERR_CONFLICT for a taken
 * code or rank.
 */
int admin_service_plan_create(db_conn *c, arena *a, const principal *by, const json_t *in,
                              plan *out, error *err);
/** Changes the fields the body names; *out is the plan after. ERR_NOT_FOUND when absent. */
int admin_service_plan_update(db_conn *c, arena *a, const principal *by, const char *id,
                              const json_t *in, plan *out, error *err);
/**
 * Changes a user's role, plan (by code) and/or name; *out is the user
 * after. ERR_CONFLICT when it would demote the last admin, ERR_INVALID for
 * an unknown plan code.
 */
int admin_service_user_update(db_conn *c, arena *a, const principal *by, const char *id,
                              const json_t *in, user *out, error *err);
/**
 * Requeues a dead job (job_requeue); *out is the job after. ERR_NOT_FOUND
 * when absent, ERR_CONFLICT when it is not dead.
 */
int admin_service_job_requeue(db_conn *c, arena *a, const principal *by, const char *id,
                              job_record *out, error *err);

#endif
