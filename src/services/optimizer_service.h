/*
 * optimizer_service: the optimization loop's use cases (issue 13, seed flow
 * 5) around the decision in services/optimizer_model.h.
 *
 *  - Evidence: for a channel, the candidates (the personas its owner may
 *    use now, plus the current one), each with its channel-days on the
 *    channel over the last OPTIMIZER_WINDOW_DAYS, its days on the owner's
 *    other channels and on other users' channels of the same language as
 *    contrasts with the other personas on each such channel
 *    (optimizer_model.h), and its generations and failures
 *    (persona_usage_logs). Gathered in one pass over each stream.
 *  - Suggestions: GET computes the decision in suggest mode; past the
 *    evidence minimum it keeps the proposal as an open suggestion (one row
 *    per proposal and fingerprint). Accepting it is a manual switch that
 *    names the suggestion; a dismissal holds until the evidence changes
 *    materially (optimizer_service_material).
 *  - Revert: restores the persona before the channel's latest assignment
 *    and pauses auto mode until the user sets optimization_mode again.
 *  - Daily job: after the analytics collection, for each channel in auto
 *    mode, decide and write at most one assignment (source optimizer, its
 *    evidence attached) with the status and the job's completion in one
 *    transaction; never on stale data.
 */
#ifndef PS_SERVICES_OPTIMIZER_SERVICE_H
#define PS_SERVICES_OPTIMIZER_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/channel_store.h"
#include "domain/optimizer_store.h"
#include "services/optimizer_model.h"
#include "services/services.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIMIZER_JOB_RUN     "optimizer.run"     /* {"channel_id"}: one channel's day */
#define OPTIMIZER_JOB_RUN_ALL "optimizer.run_all" /* daily; fans out per channel in auto mode */

#define OPTIMIZER_WINDOW_DAYS    90 /* the evidence's reach, in days before today */
#define OPTIMIZER_STALE_DAYS     3  /* auto mode waits when the last DAY row is older */
#define OPTIMIZER_MAX_CANDIDATES 64 /* usable personas considered, by id */
#define OPTIMIZER_MATERIAL_DAYS  7  /* see optimizer_service_material */

/* A channel's evidence and the decision on it (arena). */
typedef struct optimizer_view {
    channel ch;
    opt_settings set;
    const char *objective_used; /* the objective the figures are in (see fallback) */
    int64_t from, to;           /* the window, days */
    opt_candidate *cands;
    opt_posterior *post;
    size_t n;
    opt_state st;
    opt_decision d;
    /* The suggestion on offer: NULL when none; why says why not. */
    opt_suggestion *suggestion;
    const char *why;
} optimizer_view;

/**
 * True when the evidence behind a dismissed suggestion (its fingerprint:
 * the two personas' channel-days) has grown materially: their sum by at
 * least max(OPTIMIZER_MATERIAL_DAYS, a quarter of what it was).
 */
bool optimizer_service_material(int64_t dismissed_days, int64_t now_days);

/**
 * The caller's channel's suggestion and evidence, today. ERR_NOT_FOUND for
 * another user's channel. May insert the open suggestion it offers.
 */
int optimizer_service_suggestions(services *s, db_conn *c, arena *a, const principal *p,
                                  const char *channel_id, optimizer_view *out, error *err);
/**
 * Applies the caller's open suggestion: the channel's persona becomes the
 * proposed one, logged as a manual switch naming the suggestion (as_out).
 * ERR_NOT_FOUND: not the caller's channel or suggestion; ERR_CONFLICT: not
 * open, or the channel's persona changed since it was made; the persona's
 * access errors when it is no longer usable.
 */
int optimizer_service_accept(db_conn *c, arena *a, const principal *p, const char *channel_id,
                             const char *suggestion_id, opt_suggestion *s_out, channel *ch_out,
                             channel_assignment *as_out, error *err);
/** Dismisses the caller's open suggestion (ERR_CONFLICT when it is not open). */
int optimizer_service_dismiss(db_conn *c, arena *a, const principal *p, const char *channel_id,
                              const char *suggestion_id, opt_suggestion *out, error *err);
/**
 * Reverts the channel's latest assignment (ERR_CONFLICT for an older one):
 * the persona before it comes back, logged as a manual switch, and a
 * channel in auto mode is paused until optimization_mode is set again.
 */
int optimizer_service_revert(db_conn *c, arena *a, const principal *p, const char *channel_id,
                             const char *assignment_id, channel *ch_out, channel_assignment *as_out,
                             error *err);

/* What a daily run did to one channel. */
typedef struct optimizer_run {
    const char *status; /* NULL: nothing to do (not in auto mode, or gone) */
    const char *why;
    bool switched; /* an assignment row was written */
    char assignment_id[UUID_STR_LEN + 1];
} optimizer_run;

/**
 * The daily run for one channel on `today` (days), in its own transaction
 * (the job calls the same body with its completion). Idempotent: a second
 * run on the same day decides the same and switches nothing more.
 */
int optimizer_service_run_channel(services *s, db_conn *c, arena *a, const char *user_id,
                                  const char *channel_id, int64_t today, optimizer_run *out,
                                  error *err);

void optimizer_service_register_jobs(services *s);

#endif
