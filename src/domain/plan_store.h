/*
 * plan_store: the plans table (codes, ranks, limits, default persona), and
 * which plan a user is on. Plan codes are immutable once created, since
 * personas.required_plan refers to them. Rows cross this API as plan
 * structs whose text lives in the caller's arena.
 */
#ifndef PS_DOMAIN_PLAN_STORE_H
#define PS_DOMAIN_PLAN_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <stddef.h>
#include <stdint.h>

typedef struct plan {
    char id[UUID_STR_LEN + 1];
    const char *code;
    const char *name;
    int rank;
    int max_channels;               /* -1: unlimited (NULL) */
    int max_projects_per_month;     /* -1: unlimited */
    int max_generations_per_month;  /* -1: unlimited */
    const char *default_persona_id; /* NULL: none */
    int64_t created_at;
    int64_t updated_at;
} plan;

/* The plans table: its columns, their limits, which an admin may write. */
extern const row_spec plan_row;
/* The columns of plan_row a body may carry (row_from_json; the code on create only). */
#define PLAN_WRITABLE                                                                              \
    "code, name, rank, max_channels, max_projects_per_month, max_generations_per_month, "          \
    "default_persona_id"

/** Every plan, by rank, as an array in a. */
int plan_store_list(db_conn *c, arena *a, plan **out, size_t *n, error *err);
/** One plan; ERR_NOT_FOUND when absent. */
int plan_store_get(db_conn *c, arena *a, const char *id, plan *out, error *err);
/**
 * Inserts pl; its id and timestamps are filled in here. ERR_CONFLICT with
 * field "code or rank" when either is taken.
 */
int plan_store_insert(db_conn *c, plan *pl, error *err);
/**
 * Writes pl's name, rank, limits, default persona and updated_at (the code
 * stays). ERR_NOT_FOUND when absent, ERR_CONFLICT with field "rank".
 */
int plan_store_update(db_conn *c, const plan *pl, error *err);
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
int plan_store_of_user(db_conn *c, const char *user_id, char code_out[UTF8_BUF(PLAN_CODE_MAX)],
                       int *rank_out, error *err);

#endif
