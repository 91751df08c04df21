/* The optimizer's decision model (services/optimizer_model): posterior math,
 * the evidence minimum, the cooldown, usability, the exploration budget,
 * determinism and the objective's edge cases. Pure: no database. */
#include "testlib.h"

#include "services/optimizer_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static opt_stats stats_of(const double *y, size_t n)
{
    opt_stats s = {0};
    for (size_t i = 0; i < n; i++)
        opt_stats_add(&s, y[i]);
    return s;
}

/* n channel-days of persona i, all at value y, plus a little spread so the
 * variance is not zero: y - 0.1, y + 0.1 alternately. */
static opt_stats days_at(double y, int64_t n)
{
    opt_stats s = {0};
    for (int64_t i = 0; i < n; i++)
        opt_stats_add(&s, y + (i % 2 ? 0.1 : -0.1));
    return s;
}

static void candidate(opt_candidate *c, int i)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->persona_id, sizeof(c->persona_id), "00000000-0000-7000-8000-%012d", i);
    c->usable = true;
}

static opt_state state_on(size_t current, int64_t days, double mean)
{
    opt_state st = {.current = current,
                    .channel_days = days,
                    .channel_mean = mean,
                    .days_since_switch = INT64_MAX,
                    .auto_mode = true};
    return st;
}

static void test_posterior_matches_the_hand_computed_normal_inverse_gamma(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    const double a[] = {1, 2, 3}, b[] = {0, 2};
    c[0].channel = stats_of(a, 3);                              /* mean 2, squared deviations 2 */
    c[1].channel = stats_of(b, 2);                              /* mean 1, squared deviations 2 */
    c[0].owner = (opt_stats){.n = 20, .sum = 10, .sumsq = 8};   /* mean deviation 0.5 */
    c[0].global = (opt_stats){.n = 3, .sum = -0.3, .sumsq = 1}; /* mean deviation -0.1 */
    c[0].generations = 10;
    c[0].failures = 2;
    opt_state st = state_on(1, 5, 1.6);
    st.auto_mode = false;
    opt_rng rng;
    opt_rng_seed(&rng, 1);
    opt_posterior post[2];
    opt_decision d;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);

    /* Reference variance: (2 + 2) / (2 + 1) = 4/3, so beta0 = 4/3 (alpha0 = 2).
     * A's pooled effect: owner pseudo-days min(20, 14) = 14, global
     *   min(3, 7) = 3, base 1: kappa0 = 18, (14 * 0.5 + 3 * -0.1) / 18 = 0.372222.
     * The channel's level: its mean net of the pooled effects of its days,
     *   1.6 - (3 * 0.372222 + 2 * 0) / 5 = 1.376667.
     * A: m0 = 1.376667 + 0.372222 = 1.748889; kappa = 21,
     *   m = (18 * 1.748889 + 6) / 21 = 1.784762; alpha = 3.5,
     *   beta = 4/3 + 1 + 18 * 3 * (2 - 1.748889)^2 / 42 = 2.414406;
     *   half width t(7) * sqrt(beta / (alpha * kappa)) = 2.365 * 0.181243 = 0.428640;
     *   failure rate 0.2, penalty 0.5: log(0.9) = -0.105361 on every figure. */
    assert_float_equal(post[0].mean, 1.784762 - 0.105361, 1e-5);
    assert_float_equal(post[0].lo95, 1.784762 - 0.428640 - 0.105361, 1e-5);
    assert_float_equal(post[0].hi95, 1.784762 + 0.428640 - 0.105361, 1e-5);
    assert_int_equal(post[0].days, 3);
    /* B: kappa0 = 1 at the level; kappa = 3, m = (1.376667 + 2) / 3 = 1.125556;
     *   alpha = 3, beta = 4/3 + 1 + 1 * 2 * (1 - 1.376667)^2 / 6 = 2.380626;
     *   half width t(6) * sqrt(2.380626 / 9) = 2.447 * 0.514309 = 1.258515. */
    assert_float_equal(post[1].mean, 1.125556, 1e-5);
    assert_float_equal(post[1].lo95, 1.125556 - 1.258515, 1e-5);
    assert_float_equal(post[1].hi95, 1.125556 + 1.258515, 1e-5);
    assert_float_equal(post[0].p_best + post[1].p_best, 1.0, 1e-9);
    assert_true(post[0].p_best > post[1].p_best);
}

static void test_failure_penalty_on_subscribers_net_shrinks_gains_and_deepens_losses(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    s.objective = OPT_OBJ_SUBSCRIBERS_NET;
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    c[0].channel = days_at(10, 6);  /* mean 10 */
    c[1].channel = days_at(-10, 6); /* mean -10 */
    for (int i = 0; i < 2; i++) {
        c[i].generations = 4;
        c[i].failures = 2; /* rate 0.5, factor 1 - 0.5 * 0.5 = 0.75 */
    }
    opt_state st = state_on(0, 12, 0);
    st.auto_mode = false;
    opt_rng rng;
    opt_rng_seed(&rng, 2);
    opt_posterior post[2];
    opt_decision d;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    /* kappa0 = 1 at 0: m = 60 / 7 and -60 / 7 before the penalty. */
    assert_float_equal(post[0].mean, 60.0 / 7 * 0.75, 1e-9);
    assert_float_equal(post[1].mean, -60.0 / 7 / 0.75, 1e-9);
    assert_true(post[0].lo95 < post[0].mean && post[0].mean < post[0].hi95);
    assert_true(post[1].lo95 < post[1].mean && post[1].mean < post[1].hi95);
}

/* B looks far better, from a pool of thousands of days and its own days,
 * but has one day short of the minimum: no switch, in either mode, on any
 * seed; and no switch either when the current persona is the one short. */
static void test_no_switch_below_the_evidence_minimum_even_with_a_confident_pool(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    s.explore_budget = 0; /* isolates the exploit rule */
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    c[0].channel = days_at(0, 30);
    c[1].owner = (opt_stats){.n = 5000, .sum = 5000 * 2.0, .sumsq = 5000 * 4.01};
    c[1].global = (opt_stats){.n = 90000, .sum = 90000 * 2.0, .sumsq = 90000 * 4.01};
    for (int64_t have = 0; have < s.min_evidence_days; have++) {
        c[1].channel = days_at(3, have);
        for (uint64_t seed = 1; seed <= 40; seed++) {
            for (int mode = 0; mode < 2; mode++) {
                opt_state st = state_on(0, 30 + have, 0.1 * (double)have);
                st.auto_mode = mode == 1;
                opt_rng rng;
                opt_rng_seed(&rng, seed);
                opt_posterior post[2];
                opt_decision d;
                assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
                assert_int_equal(d.action, OPT_STAY);
                assert_true(d.best == 0);        /* B is not a "best": no evidence */
                assert_true(post[1].mean > 1.9); /* yet the pool is sure of it */
            }
        }
    }
    /* The other side: B has a month, the current persona A one day short. */
    c[1].channel = days_at(3, 30);
    c[0].channel = days_at(0, s.min_evidence_days - 1);
    opt_state st = state_on(0, 30 + s.min_evidence_days - 1, 2.5);
    opt_rng rng;
    opt_rng_seed(&rng, 3);
    opt_posterior post[2];
    opt_decision d;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_STAY);
    assert_true(d.best == 1);
}

static void test_switch_with_evidence_and_probability_and_a_suggestion_in_suggest_mode(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    opt_candidate c[3];
    for (int i = 0; i < 3; i++)
        candidate(&c[i], i);
    c[0].channel = days_at(0, s.min_evidence_days);
    c[1].channel = days_at(1, s.min_evidence_days);
    c[2].channel = days_at(-0.5, 10); /* evidenced, but worse than both */
    opt_state st = state_on(0, s.min_evidence_days * 2 + 10, -0.1);
    opt_rng rng;
    opt_rng_seed(&rng, 4);
    opt_posterior post[3];
    opt_decision d;
    assert_int_equal(opt_decide(&s, c, 3, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_SWITCH);
    assert_true(d.target == 1 && d.best == 1);
    assert_true(d.p_beats_current >= s.switch_probability);
    assert_float_equal(d.uplift, expm1(post[1].mean - post[0].mean), 1e-12);
    assert_non_null(d.why);
    st.auto_mode = false;
    assert_int_equal(opt_decide(&s, c, 3, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_SWITCH);
    assert_true(d.target == 1);
    /* The same figures, the gap within the noise: no move. */
    c[1].channel = days_at(0.01, s.min_evidence_days);
    assert_int_equal(opt_decide(&s, c, 3, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_STAY);
    assert_true(d.p_beats_current < s.switch_probability);
}

static void test_cooldown_holds_a_ready_switch_until_it_has_passed(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    c[0].channel = days_at(0, 10);
    c[1].channel = days_at(1, 10);
    for (int64_t since = 0; since <= s.cooldown_days; since++) {
        opt_state st = state_on(0, 20, 0.5);
        st.days_since_switch = since;
        opt_rng rng;
        opt_rng_seed(&rng, 5);
        opt_posterior post[2];
        opt_decision d;
        assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
        if (since < s.cooldown_days) {
            assert_int_equal(d.action, OPT_STAY);
            assert_true(d.target == SIZE_MAX);
            assert_true(d.best == 1 && d.p_beats_current >= s.switch_probability);
        } else {
            assert_int_equal(d.action, OPT_SWITCH);
        }
    }
}

static void test_an_unusable_persona_is_never_a_target(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    s.explore_budget = 1;
    opt_candidate c[4];
    for (int i = 0; i < 4; i++)
        candidate(&c[i], i);
    c[0].channel = days_at(0, 10);
    c[1].channel = days_at(5, 10);                                  /* by far the best */
    c[1].usable = false;                                            /* but locked */
    c[2].owner = (opt_stats){.n = 500, .sum = 1500, .sumsq = 4600}; /* pool says +3 */
    c[2].usable = false;
    c[3].channel = days_at(0.8, 10);
    for (uint64_t seed = 1; seed <= 200; seed++) {
        opt_state st = state_on(0, 30, 1.9);
        st.auto_mode = seed % 2 == 0;
        opt_rng rng;
        opt_rng_seed(&rng, seed);
        opt_posterior post[4];
        opt_decision d;
        assert_int_equal(opt_decide(&s, c, 4, &st, &rng, post, &d), 0);
        assert_true(d.best == 3);
        assert_true(d.target == SIZE_MAX || d.target == 3);
        assert_float_equal(post[1].p_best, 0, 0);
        assert_float_equal(post[2].p_best, 0, 0);
    }
    /* The current persona itself locked: any usable persona with evidence
     * replaces it, no threshold needed; with none, it stays. */
    c[0].usable = false;
    c[0].channel = days_at(2, 10);
    opt_state st = state_on(0, 30, 1.9);
    opt_rng rng;
    opt_rng_seed(&rng, 6);
    opt_posterior post[4];
    opt_decision d;
    assert_int_equal(opt_decide(&s, c, 4, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_SWITCH);
    assert_true(d.target == 3);
    c[3].usable = false;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        opt_rng_seed(&rng, seed);
        assert_int_equal(opt_decide(&s, c, 4, &st, &rng, post, &d), 0);
        assert_int_equal(d.action, OPT_STAY);
    }
}

/* A channel lived day by day through the model: the state as the job keeps
 * it, each move applied as the job applies it. */
typedef struct sim {
    opt_candidate c[6];
    double mu[6];
    opt_state st;
    int switches, explores, returns;
} sim;

static double normal(opt_rng *r)
{
    double u = ((double)(opt_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
    double v = ((double)(opt_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void sim_day(sim *m, const opt_settings *s, opt_rng *world, uint64_t seed, int day)
{
    opt_rng rng;
    opt_rng_seed(&rng, seed * 1000 + (uint64_t)day);
    opt_posterior post[6];
    opt_decision d;
    assert_int_equal(opt_decide(s, m->c, 6, &m->st, &rng, post, &d), 0);
    switch (d.action) {
    case OPT_STAY:
        break;
    case OPT_SWITCH:
        assert_true(m->c[d.target].channel.n >= s->min_evidence_days);
        m->st.current = d.target;
        m->st.in_trial = false;
        m->st.days_since_switch = 0;
        m->switches++;
        break;
    case OPT_EXPLORE:
        assert_false(m->st.in_trial);
        m->st.home = m->st.current;
        m->st.current = d.target;
        m->st.in_trial = true;
        m->explores++;
        break;
    case OPT_RETURN:
        assert_true(m->st.in_trial && d.target == m->st.home);
        m->st.current = d.target;
        m->st.in_trial = false;
        m->returns++;
        break;
    }
    double y = m->mu[m->st.current] + 0.4 * normal(world);
    opt_stats_add(&m->c[m->st.current].channel, y);
    m->st.channel_mean =
        (m->st.channel_mean * (double)m->st.channel_days + y) / (double)(m->st.channel_days + 1);
    m->st.channel_days++;
    if (m->st.in_trial)
        m->st.days_explored++;
    if (m->st.days_since_switch != INT64_MAX)
        m->st.days_since_switch++;
}

static void
test_exploration_never_exceeds_the_budget_and_never_happens_in_suggest_mode(void **state)
{
    const double budgets[] = {0, 0.1, 0.25, 0.5};
    for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
        opt_settings s;
        opt_settings_default(&s);
        s.explore_budget = budgets[b];
        for (uint64_t seed = 1; seed <= 12; seed++) {
            for (int mode = 0; mode < 2; mode++) {
                sim m;
                memset(&m, 0, sizeof(m));
                opt_rng world;
                opt_rng_seed(&world, seed + 100);
                for (int i = 0; i < 6; i++) {
                    candidate(&m.c[i], i);
                    m.mu[i] = 0.1 * (double)((seed + (uint64_t)i * 7) % 6);
                }
                m.st = state_on(0, 0, 0);
                m.st.days_since_switch = 0;
                m.st.auto_mode = mode == 1;
                for (int day = 0; day < 120; day++) {
                    sim_day(&m, &s, &world, seed, day);
                    double horizon = (double)m.st.channel_days;
                    if (horizon < (double)s.explore_window)
                        horizon = (double)s.explore_window;
                    assert_true((double)m.st.days_explored <= s.explore_budget * horizon + 1e-9);
                }
                if (!m.st.auto_mode || budgets[b] == 0) {
                    assert_int_equal(m.explores, 0);
                    assert_int_equal(m.returns, 0);
                    assert_int_equal(m.st.days_explored, 0);
                } else {
                    assert_true(m.explores > 0); /* six untested personas: it does explore */
                }
            }
        }
    }
}

static void test_the_same_seed_decides_the_same(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    s.explore_budget = 1;
    opt_candidate c[5];
    for (int i = 0; i < 5; i++) {
        candidate(&c[i], i);
        c[i].owner = (opt_stats){.n = 3, .sum = 0.1 * i, .sumsq = 1};
    }
    c[0].channel = days_at(0, 8);
    opt_state st = state_on(0, 8, 0);
    opt_posterior p1[5], p2[5];
    opt_decision d1, d2;
    int explored[5] = {0};
    for (uint64_t seed = 1; seed <= 100; seed++) {
        opt_rng r1, r2;
        opt_rng_seed(&r1, seed);
        opt_rng_seed(&r2, seed);
        assert_int_equal(opt_decide(&s, c, 5, &st, &r1, p1, &d1), 0);
        assert_int_equal(opt_decide(&s, c, 5, &st, &r2, p2, &d2), 0);
        assert_memory_equal(p1, p2, sizeof(p1));
        assert_int_equal(d1.action, d2.action);
        assert_true(d1.target == d2.target);
        assert_string_equal(d1.why, d2.why);
        if (d1.action == OPT_EXPLORE)
            explored[d1.target]++;
    }
    /* Thompson sampling spreads over the untested personas across seeds. */
    int distinct = 0;
    for (int i = 1; i < 5; i++)
        distinct += explored[i] > 0;
    assert_true(distinct >= 3);
}

static void test_a_trial_is_adopted_when_it_wins_and_ended_when_it_loses(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    c[0].channel = days_at(0, 10);
    opt_state st = state_on(1, 10 + s.min_evidence_days, 0.3);
    st.in_trial = true;
    st.home = 0;
    st.days_since_switch = 1; /* the cooldown does not hold an adoption back */
    st.days_explored = s.min_evidence_days;
    opt_rng rng;
    opt_posterior post[2];
    opt_decision d;

    c[1].channel = days_at(1, s.min_evidence_days);
    opt_rng_seed(&rng, 7);
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_SWITCH);
    assert_true(d.target == 1);

    c[1].channel = days_at(-1, 2); /* confidently worse after two days: back early */
    st.channel_days = 12;
    st.days_explored = 2;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_RETURN);
    assert_true(d.target == 0);

    c[1].channel = days_at(-0.02, s.min_evidence_days); /* even, at its end: back */
    st.channel_days = 10 + s.min_evidence_days;
    st.days_explored = s.min_evidence_days;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_RETURN);

    c[1].channel = days_at(0.5, 2); /* promising, not yet the minimum: on */
    st.channel_days = 12;
    st.days_explored = 2;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_STAY);
}

static void test_objective_values_at_their_edges(void **state)
{
    double v;
    opt_day d = {.views = 100,
                 .watch_minutes = 49,
                 .impressions = 999,
                 .avg_retention = 40,
                 .subscribers_net = -3};
    assert_true(opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &d, &v));
    assert_float_equal(v, log(50.0 / 1000.0), 1e-12);
    assert_true(opt_objective_value(OPT_OBJ_VIEWS_PER_DAY, &d, &v));
    assert_float_equal(v, log(101.0), 1e-12);
    assert_true(opt_objective_value(OPT_OBJ_AVG_VIEW_PERCENTAGE, &d, &v));
    assert_float_equal(v, log(41.0), 1e-12);
    assert_true(opt_objective_value(OPT_OBJ_SUBSCRIBERS_NET, &d, &v));
    assert_float_equal(v, -3, 0);

    opt_day none = {.views = 0, .watch_minutes = 0, .impressions = -1, .avg_retention = -1};
    assert_false(opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &none, &v));
    assert_false(opt_objective_value(OPT_OBJ_AVG_VIEW_PERCENTAGE, &none, &v));
    none.impressions = 0; /* zero impressions: no ratio either */
    assert_false(opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &none, &v));
    none.impressions = 9; /* seen but not watched: finite and low */
    assert_true(opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &none, &v));
    assert_float_equal(v, log(0.1), 1e-12);
    assert_true(opt_objective_value(OPT_OBJ_VIEWS_PER_DAY, &none, &v)); /* zero views */
    assert_float_equal(v, 0, 0);
    none.avg_retention = 0;
    assert_true(opt_objective_value(OPT_OBJ_AVG_VIEW_PERCENTAGE, &none, &v));
    assert_float_equal(v, 0, 0);

    opt_day bad = {.views = -1, .watch_minutes = -5, .impressions = 10, .subscribers_net = NAN};
    assert_false(opt_objective_value(OPT_OBJ_VIEWS_PER_DAY, &bad, &v));
    assert_false(opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &bad, &v));
    assert_false(opt_objective_value(OPT_OBJ_SUBSCRIBERS_NET, &bad, &v));
    bad.views = INFINITY;
    assert_false(opt_objective_value(OPT_OBJ_VIEWS_PER_DAY, &bad, &v));
    assert_false(opt_objective_value(OPT_OBJECTIVES, &d, &v));

    /* Without impressions or retention the job falls back to views per day,
     * which every day has, and names it. */
    assert_int_equal(opt_objective_fallback(OPT_OBJ_WATCH_PER_IMPRESSION), OPT_OBJ_VIEWS_PER_DAY);
    assert_int_equal(opt_objective_fallback(OPT_OBJ_AVG_VIEW_PERCENTAGE), OPT_OBJ_VIEWS_PER_DAY);
    assert_int_equal(opt_objective_fallback(OPT_OBJ_SUBSCRIBERS_NET), OPT_OBJ_SUBSCRIBERS_NET);
    assert_string_equal(opt_objective_name(OPT_OBJ_WATCH_PER_IMPRESSION),
                        "watch_minutes_per_impression");
    assert_null(opt_objective_name(OPT_OBJECTIVES));
    assert_string_equal(opt_action_name(OPT_RETURN), "return");
}

static void test_channel_contrasts_are_against_the_other_personas_means(void **state)
{
    /* Persona 0: days 1, 3 (mean 2); persona 1: none; persona 2: day 5;
     * persona 3: days 0, 0, 3 (mean 1). Means of the others: for 0,
     * (5 + 1) / 2 = 3; for 2, (2 + 1) / 2 = 1.5; for 3, (2 + 5) / 2 = 3.5. */
    const double a[] = {1, 3}, c[] = {5}, d[] = {0, 0, 3};
    opt_stats days[4] = {stats_of(a, 2), {0}, stats_of(c, 1), stats_of(d, 3)};
    opt_stats out[4];
    opt_channel_contrasts(days, 4, out);
    assert_int_equal(out[0].n, 2);
    assert_float_equal(out[0].sum, (1 - 3) + (3 - 3), 1e-12);
    assert_float_equal(out[0].sumsq, 4 + 0, 1e-12);
    assert_int_equal(out[1].n, 0);
    assert_float_equal(out[1].sum, 0, 0);
    assert_int_equal(out[2].n, 1);
    assert_float_equal(out[2].sum, 3.5, 1e-12);
    assert_float_equal(out[2].sumsq, 12.25, 1e-12);
    assert_int_equal(out[3].n, 3);
    assert_float_equal(out[3].sum, -3.5 - 3.5 - 0.5, 1e-12);
    assert_float_equal(out[3].sumsq, 12.25 + 12.25 + 0.25, 1e-12);
    /* One persona alone on a channel says nothing. */
    opt_stats alone[2] = {stats_of(a, 2), {0}};
    opt_channel_contrasts(alone, 2, out);
    assert_int_equal(out[0].n, 0);
    assert_float_equal(out[0].sumsq, 0, 0);
}

static void test_decide_refuses_inconsistent_inputs(void **state)
{
    opt_settings s;
    opt_settings_default(&s);
    opt_candidate c[2];
    candidate(&c[0], 0);
    candidate(&c[1], 1);
    opt_state st = state_on(0, 0, 0);
    opt_rng rng;
    opt_rng_seed(&rng, 8);
    opt_posterior post[2];
    opt_decision d = {.action = OPT_EXPLORE};
    assert_int_equal(opt_decide(&s, c, 0, &st, &rng, post, &d), -1);
    st.current = 2;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), -1);
    st.current = SIZE_MAX;
    st.in_trial = true; /* a trial without a persona on trial */
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), -1);
    st = state_on(0, 3, 0);
    st.days_explored = 4;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), -1);
    st.days_explored = 0;
    c[1].generations = 1;
    c[1].failures = 2;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), -1);
    c[1].failures = 0;
    c[1].channel.sum = NAN;
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), -1);
    c[1].channel.sum = 0;
    opt_settings bad = s;
    bad.switch_probability = 1.5;
    assert_int_equal(opt_decide(&bad, c, 2, &st, &rng, post, &d), -1);
    bad = s;
    bad.min_evidence_days = 0;
    assert_int_equal(opt_decide(&bad, c, 2, &st, &rng, post, &d), -1);
    bad = s;
    bad.failure_penalty = 1;
    assert_int_equal(opt_decide(&bad, c, 2, &st, &rng, post, &d), -1);
    bad = s;
    bad.draws = 0;
    assert_int_equal(opt_decide(&bad, c, 2, &st, &rng, post, &d), -1);
    assert_int_equal(d.action, OPT_EXPLORE); /* untouched */
    assert_int_equal(opt_decide(&s, c, 2, &st, &rng, post, &d), 0);
    assert_int_equal(d.action, OPT_STAY); /* a new channel: nothing known */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posterior_matches_the_hand_computed_normal_inverse_gamma),
        cmocka_unit_test(test_failure_penalty_on_subscribers_net_shrinks_gains_and_deepens_losses),
        cmocka_unit_test(test_no_switch_below_the_evidence_minimum_even_with_a_confident_pool),
        cmocka_unit_test(
            test_switch_with_evidence_and_probability_and_a_suggestion_in_suggest_mode),
        cmocka_unit_test(test_cooldown_holds_a_ready_switch_until_it_has_passed),
        cmocka_unit_test(test_an_unusable_persona_is_never_a_target),
        cmocka_unit_test(
            test_exploration_never_exceeds_the_budget_and_never_happens_in_suggest_mode),
        cmocka_unit_test(test_the_same_seed_decides_the_same),
        cmocka_unit_test(test_a_trial_is_adopted_when_it_wins_and_ended_when_it_loses),
        cmocka_unit_test(test_objective_values_at_their_edges),
        cmocka_unit_test(test_channel_contrasts_are_against_the_other_personas_means),
        cmocka_unit_test(test_decide_refuses_inconsistent_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
