/*
 * optimizer_model: the optimization loop's decision (issue 13), pure: no
 * database, no clock, no I/O, no global state. The daily optimizer job, the
 * suggestions endpoint and bench/bench_optimizer.c's simulator all call
 * opt_decide, so the simulator measures the code that runs in production.
 *
 * Unit of evidence: the channel-day (a DAY row of channel_analytics,
 * attributed to a persona as performance_store does). Each day gives one
 * value of the channel's objective, on the model's scale (opt_objective_value:
 * log for the positive objectives, identity for subscribers net).
 *
 * Pooling: a persona's days on the owner's other channels and on other
 * users' channels of the same language are summarised as contrasts within
 * their own channel (so a big channel does not make a persona look good),
 * and shift this channel's prior for that persona from the channel's own
 * level; the owner's pool counts more than the global one. The weights are
 * settings.
 *
 * Randomness (Thompson sampling) comes from the caller's opt_rng, seeded by
 * the caller (the job seeds it from the channel id and the day, so a re-run
 * decides the same).
 *
 * The pooled sums, exactly (bench_optimizer computes them this way, and so
 * must the job's SQL). Over the window, take every attributed channel-day
 * whose day has a value of the objective (opt_objective_value true). A
 * channel contributes only if at least two personas have such days on it
 * (one persona alone says nothing about persona effects). On such a channel
 * c, let ybar_cq be the mean of persona q's values and K_c the number of its
 * personas; persona p's reference is the mean of the OTHER personas' means,
 * o_cp = (sum over q of ybar_cq - ybar_cp) / (K_c - 1), and each of p's days
 * contributes d = y - o_cp to p's owner stats (n += 1, sum += d, sumsq +=
 * d*d) when c is another channel of the same owner, or to p's global stats
 * when c belongs to another user and has the same language. From per
 * (channel, persona) n, S1 = sum y, S2 = sum y^2: sum d = S1 - n o and
 * sum d^2 = S2 - 2 o S1 + n o^2, which opt_channel_contrasts computes from
 * a GROUP BY (channel, persona) of count, sum and sum of squares. The channel being decided never
 * contributes to its own pools. opt_state.channel_days and channel_mean count the channel's own
 * days with a value (all personas); days_explored likewise.
 *
 * Moves (docs/decisions.md 82-84): OPT_SWITCH is the exploit move, gated by
 * the evidence minimum on both sides, the probability threshold and (in
 * auto mode) the cooldown; OPT_EXPLORE starts a trial of an under-tested
 * persona, gated by the exploration budget; OPT_RETURN ends a trial that did
 * not win, back to the persona the trial left ("home"). Only OPT_SWITCH and
 * the owner's own assignments restart the cooldown; trial days are the
 * exploration days.
 */
#ifndef PS_SERVICES_OPTIMIZER_MODEL_H
#define PS_SERVICES_OPTIMIZER_MODEL_H

#include "base/uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum opt_objective {
    OPT_OBJ_WATCH_PER_IMPRESSION, /* watch minutes / impressions (default) */
    OPT_OBJ_VIEWS_PER_DAY,        /* views */
    OPT_OBJ_AVG_VIEW_PERCENTAGE,  /* avg_retention */
    OPT_OBJ_SUBSCRIBERS_NET,      /* subscribers gained - lost */
    OPT_OBJECTIVES
} opt_objective;

/* One channel-day's figures as the model reads them; a negative value is
 * "not known" where the column is nullable. */
typedef struct opt_day {
    double views, watch_minutes;
    double impressions;   /* < 0: unknown */
    double avg_retention; /* < 0: unknown */
    double subscribers_net;
} opt_day;

/* Sufficient statistics of a sample of values on the model's scale. */
typedef struct opt_stats {
    int64_t n;
    double sum, sumsq;
} opt_stats;

typedef struct opt_candidate {
    char persona_id[UUID_STR_LEN + 1];
    opt_stats channel; /* this channel's days under the persona (model scale) */
    opt_stats owner;   /* the owner's other channels: deviations from each channel's mean */
    opt_stats global;  /* other users' channels, same language: deviations likewise */
    int64_t generations, failures; /* persona_usage_logs in the window (failures: not success) */
    bool usable; /* the owner may use it now (visibility, plan, not archived/locked) */
} opt_candidate;

typedef struct opt_settings {
    opt_objective objective;
    int64_t min_evidence_days; /* channel-days, on the channel, of both the current and the
                                  proposed persona before a switch or a suggestion */
    double switch_probability; /* P(proposed beats current) needed to switch (auto) or suggest */
    int64_t cooldown_days;     /* days between two switches (auto) */
    double explore_budget;     /* share of the channel's days that may go to exploration */
    double owner_weight;       /* at most this many pseudo-days from the owner's pool */
    double global_weight;      /* at most this many pseudo-days from the global pool */
    double failure_penalty;    /* the objective is scaled by (1 - penalty * failure rate) */
    int draws;                 /* Monte Carlo draws for probabilities */
    int64_t explore_window;    /* the budget counts at least this many days, so a young
                                  channel may explore: explored <= budget * max(days, window) */
} opt_settings;

/* The defaults the product ships with. */
void opt_settings_default(opt_settings *out);

/* The channel's situation on the day of the decision. */
typedef struct opt_state {
    size_t current;            /* index of the active persona in the candidates; SIZE_MAX: none */
    int64_t channel_days;      /* channel-days observed on this channel (all personas) */
    double channel_mean;       /* their mean on the model's scale (0 when none) */
    int64_t days_since_switch; /* since the last assignment made by the owner or by an
                                  OPT_SWITCH (not by EXPLORE/RETURN); INT64_MAX: never */
    int64_t days_explored;     /* of channel_days, how many were exploration (days whose
                                  persona was set by an OPT_EXPLORE, trial days) */
    bool auto_mode;            /* false: suggest only (never OPT_EXPLORE/OPT_RETURN) */
    bool in_trial;             /* the latest assignment was an OPT_EXPLORE: current is on
                                  trial and home is the persona it left */
    size_t home;               /* in_trial: index of the persona before the trial, SIZE_MAX
                                  when it is not among the candidates; else ignored */
} opt_state;

typedef struct opt_posterior {
    double mean;       /* posterior mean of the objective, model scale, after penalty */
    double lo95, hi95; /* 95 % credible interval of the mean */
    int64_t days;      /* the channel's own days behind it */
    double p_best;     /* probability it is the best candidate */
} opt_posterior;

typedef enum opt_action {
    OPT_STAY,    /* keep the current persona */
    OPT_SWITCH,  /* exploit: switch to target, the best with enough evidence (suggest mode:
                    suggest it). During a trial target may be current: the trial won and
                    is adopted (a switch from home, on record, with no persona change) */
    OPT_EXPLORE, /* auto mode only: try target, an under-tested persona (a trial) */
    OPT_RETURN,  /* auto mode only: the trial ends without a win; back to target, home */
} opt_action;

typedef struct opt_decision {
    opt_action action;
    size_t best;            /* the usable candidate with the highest posterior mean among those
                               with the evidence minimum on the channel; SIZE_MAX: none */
    size_t target;          /* SWITCH/EXPLORE/RETURN: the persona to move to; else SIZE_MAX */
    double p_beats_current; /* P(best > current), current being home during a trial; 0 when
                               there is no current or best is current */
    double uplift;          /* relative uplift of best over current on the natural scale,
                               from the posterior means: exp(diff) - 1 on the log scale */
    const char *why;        /* a static English phrase: why this action, or why none */
} opt_decision;

typedef struct opt_rng {
    uint64_t s[4];
} opt_rng;

void opt_rng_seed(opt_rng *r, uint64_t seed);
uint64_t opt_rng_next(opt_rng *r);

/**
 * The day's value of the objective on the model's scale, or false when the
 * day does not have it (no impressions for OPT_OBJ_WATCH_PER_IMPRESSION, no
 * retention for the percentage).
 */
bool opt_objective_value(opt_objective o, const opt_day *d, double *out);

void opt_stats_add(opt_stats *s, double y);

/**
 * One other channel's share of the pools: days[i] holds persona i's days on
 * that channel (n, sum, sumsq of values on the model's scale), k personas;
 * out[i] receives persona i's contrasts, d = y - (mean of the other
 * personas' means), as the header's first comment defines them. A persona
 * without days, or a channel with fewer than two personas with days, gives
 * empty stats. The job adds out[i] to the owner or the global pool of
 * persona i; bench_optimizer does the same, so both pool alike.
 */
void opt_channel_contrasts(const opt_stats *days, size_t k, opt_stats *out);

/* Whether the objective is modelled on the log scale (all but subscribers net). */
bool opt_objective_is_log(opt_objective o);

/**
 * A figure of the model (a mean or an interval's end, on the scale of
 * opt_objective_value) in the objective's own units, by that transform's
 * inverse: exp for watch minutes per impression (as (minutes + 1) /
 * (impressions + 1)), exp - 1 for views per day and the average view
 * percentage, the figure itself for subscribers net. On a log scale the
 * mean maps to the typical (geometric) day, not the arithmetic mean; the
 * map is increasing, so an interval maps end to end.
 */
double opt_objective_units(opt_objective o, double model_value);

/* "log" or "linear": the scale of the model's figures for the objective. */
const char *opt_objective_scale(opt_objective o);

/* A stable name: "watch_minutes_per_impression", "views_per_day",
 * "average_view_percentage", "subscribers_net"; NULL when out of range. */
const char *opt_objective_name(opt_objective o);

/* The objective to use instead when a channel has no day with this one in
 * the window (no impressions, no retention reported): views per day, which
 * every DAY row has. The job names both in its evidence. */
opt_objective opt_objective_fallback(opt_objective o);

/* A stable lower-case name: "stay", "switch", "explore", "return". */
const char *opt_action_name(opt_action a);

/**
 * Decide for one channel. post (n entries) receives each candidate's
 * posterior. Candidates are the personas the owner may use, plus the
 * current one (which may be unusable now: it is then never a target).
 * Returns 0, or -1 when the inputs are inconsistent (n == 0, current or home
 * out of range, a trial without a current persona, bad settings, negative or
 * non-finite sums, failures > generations); out is then untouched.
 */
int opt_decide(const opt_settings *s, const opt_candidate *c, size_t n, const opt_state *st,
               opt_rng *rng, opt_posterior *post, opt_decision *out);

#endif
