/*
 * plan_store: the plans table (codes, ranks, limits, default persona) and the
 * admin side of users (role and plan changes). Plan codes are immutable once
 * created, since personas.required_plan refers to them.
 */
#ifndef PS_DOMAIN_PLAN_STORE_H
#define PS_DOMAIN_PLAN_STORE_H

#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/** Every plan as a JSON array, by rank. */
int plan_store_list(db_conn *c, json_t **out, error *err);
/** One plan as JSON; ERR_NOT_FOUND when absent. */
int plan_store_get(db_conn *c, const char *id, json_t **out, error *err);
/**
 * Inserts a plan from a validated JSON object {code, name, rank,
 * max_channels?, max_projects_per_month?, max_generations_per_month?,
 * default_persona_id?}; fills id.
 */
int plan_store_insert(db_conn *c, json_t *in, char id[UUID_STR_LEN + 1], error *err);
/** Applies the fields present in `in` (name, rank, limits, default_persona_id). */
int plan_store_update(db_conn *c, const char *id, json_t *in, error *err);
/** ERR_INVALID unless id names a SYSTEM persona (a plan's default must be one). */
int plan_store_check_default_persona(db_conn *c, const char *persona_id, error *err);

/** Users for admins, newest first, optional email substring filter; JSON array. */
int user_admin_list(db_conn *c, const char *email_like, const char *cursor, int limit, json_t **out,
                    error *err);
int user_admin_get(db_conn *c, const char *id, json_t **out, error *err);
/** Changes role and/or plan (by code) and/or name; refuses to demote the last admin. */
int user_admin_update(db_conn *c, const char *id, json_t *in, error *err);

#endif
