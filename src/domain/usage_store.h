/*
 * usage_store: the persona_usage_logs table. One row per generation
 * attempt (a whole script, or one scene), successful or not: who asked,
 * with which persona, for which project, how long it took, the tokens it
 * cost, and a stable error_code when it failed. The optimizer's
 * "generation health" and the persona owner's usage summary read it. Rows
 * outlive their project and persona (both are SET NULL on delete). It also
 * keeps the generation_counts table: how many generations each user asked
 * for per calendar month, which the plan's monthly limit is checked against.
 */
#ifndef PS_DOMAIN_USAGE_STORE_H
#define PS_DOMAIN_USAGE_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USAGE_ACTION_SCRIPT "generate_script"
#define USAGE_ACTION_SCENE  "regenerate_scene"

/* One row of persona_usage_logs (usage_store_insert makes its id). */
typedef struct usage_row {
    char id[UUID_STR_LEN + 1];
    const char *persona_id; /* NULL: none (deleted) */
    const char *user_id;
    const char *project_id; /* NULL: none */
    const char *action;     /* USAGE_ACTION_* */
    bool success;
    int64_t duration_ms;
    int64_t tokens_in;
    int64_t tokens_out;
    const char *provider;
    const char *model;
    const char *error_code; /* NULL on success */
    int64_t created_at;     /* usec; 0: now */
} usage_row;

/* Aggregates over a set of attempts. Percentiles are nearest-rank over
 * every attempt's duration, failed ones included (a timeout is slow). */
typedef struct usage_stats {
    const char *action; /* NULL for all actions together */
    int64_t attempts;
    int64_t successes;
    int64_t tokens_in;
    int64_t tokens_out;
    int64_t p50_ms;
    int64_t p95_ms;
} usage_stats;

typedef struct usage_error_count {
    const char *error_code; /* "unknown" for a failure that named none */
    int64_t count;
} usage_error_count;

/* The counts of a usage_stats as the usage report writes them (action,
 * which only a per-action set has, and the percentiles are the report's
 * to write), and a usage_error_count. */
extern const row_spec usage_stats_row;
extern const row_spec usage_error_row;

#define USAGE_MAX_ACTIONS 8
#define USAGE_MAX_ERRORS  20

typedef struct usage_summary {
    usage_stats total;
    usage_stats by_action[USAGE_MAX_ACTIONS];
    size_t nactions;
    usage_error_count errors[USAGE_MAX_ERRORS]; /* most frequent first */
    size_t nerrors;
} usage_summary;

/**
 * Adds n to the user's count of generations asked for in the month that
 * starts at month_start (usec) and returns the new count in *used. Call it
 * in the transaction that queues the work: the row stays locked until it
 * ends, so two requests cannot both read the same count.
 */
int usage_store_count_generation(db_conn *c, const char *user_id, int64_t month_start, int n,
                                 int64_t *used, error *err);
/** The user's count of generations in the month that starts at month_start. */
int usage_store_generations(db_conn *c, const char *user_id, int64_t month_start, int64_t *used,
                            error *err);

/** Inserts one attempt (an id is made here). */
int usage_store_insert(db_conn *c, const usage_row *r, error *err);
/**
 * Summarises the persona's attempts with since <= created_at < until, its
 * texts in a. user_id narrows it to one user's attempts (NULL: everyone's).
 */
int usage_store_summary(db_conn *c, arena *a, const char *persona_id, const char *user_id,
                        int64_t since, int64_t until, usage_summary *out, error *err);

#endif
