/*
 * plan_store: the plans table (codes, ranks, limits, default persona), and
 * which plan a user is on. Plan codes are immutable once created, since
 * personas.required_plan refers to them.
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

/** Finds a plan's id by its code; ERR_NOT_FOUND when there is none. */
int plan_store_id_by_code(db_conn *c, const char *code, char id[UUID_STR_LEN + 1], error *err);
/** Finds a plan's rank by its code; ERR_NOT_FOUND when there is none. */
int plan_store_rank_by_code(db_conn *c, const char *code, int *rank, error *err);
/** The plan with the lowest rank: what a new user gets by default. */
int plan_store_lowest(db_conn *c, char id[UUID_STR_LEN + 1], error *err);
/**
 * The default persona id of the plan with this id; id_out is "" when the
 * plan has none. ERR_NOT_FOUND with field "plan" when the plan is gone.
 */
int plan_store_default_persona(db_conn *c, const char *plan_id, char id_out[UUID_STR_LEN + 1],
                               error *err);
/**
 * The code and rank of the user's plan as it is now (a job runs long after
 * the request that queued it). ERR_NOT_FOUND when the user is gone.
 */
int plan_store_of_user(db_conn *c, const char *user_id, char code_out[33], int *rank_out,
                       error *err);

#endif
