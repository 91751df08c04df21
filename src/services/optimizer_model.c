#include "services/optimizer_model.h"

#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every prior holds this many pseudo-days at the channel's mean: a persona
 * nobody has tried starts as "like this channel's average", widely. */
#define OPT_BASE_DAYS 1.0
/* The variance prior, Inverse-Gamma(alpha0, beta0) with alpha0 = 2: worth
 * 2 * alpha0 = 4 pseudo-observations, with E[sigma^2] = beta0 = the
 * reference variance (opt__ref_var). */
#define OPT_ALPHA0 2.0
/* The reference variance when neither the channel nor the pools have two
 * days to estimate one (the log scale: a factor of e either way). */
#define OPT_DEFAULT_VAR 1.0
#define OPT_DRAWS_MIN   100
#define OPT_DRAWS_MAX   100000
#define OPT_PENALTY_MAX 0.95

void opt_settings_default(opt_settings *out)
{
    memset(out, 0, sizeof(*out));
    out->objective = OPT_OBJ_WATCH_PER_IMPRESSION;
    out->min_evidence_days = 5;
    out->switch_probability = 0.9;
    out->cooldown_days = 7;
    out->explore_budget = 0.4;
    out->owner_weight = 14;
    out->global_weight = 7;
    out->failure_penalty = 0.5;
    out->draws = 1000;
    out->explore_window = 28;
}

/* ---- randomness: xoshiro256**, seeded through splitmix64 ----------------- */

static uint64_t opt__splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void opt_rng_seed(opt_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = opt__splitmix(&seed);
}

static uint64_t opt__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t opt_rng_next(opt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = opt__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = opt__rotl(s[3], 45);
    return result;
}

/* Uniform on (0, 1): never 0, so its log is finite. */
static double opt__uniform(opt_rng *r)
{
    return ((double)(opt_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Normal and Gamma draws from the caller's generator; Box-Muller gives two
 * normals per pair of uniforms and the second is kept for the next call. */
typedef struct opt__sampler {
    opt_rng *rng;
    double spare;
    bool has_spare;
} opt__sampler;

static double opt__normal(opt__sampler *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double radius = sqrt(-2.0 * log(opt__uniform(r->rng))),
           angle = 2.0 * M_PI * opt__uniform(r->rng);
    r->spare = radius * sin(angle);
    r->has_spare = true;
    return radius * cos(angle);
}

/* Gamma(shape, 1) by Marsaglia and Tsang, with their squeeze; shape < 1
 * through shape + 1. */
static double opt__gamma(opt__sampler *r, double shape)
{
    if (shape < 1.0)
        return opt__gamma(r, shape + 1.0) * pow(opt__uniform(r->rng), 1.0 / shape);
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = opt__normal(r);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = opt__uniform(r->rng);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

/* ---- the objective --------------------------------------------------------- */

bool opt_objective_is_log(opt_objective o)
{
    return o != OPT_OBJ_SUBSCRIBERS_NET;
}

double opt_objective_units(opt_objective o, double model_value)
{
    switch (o) {
    case OPT_OBJ_WATCH_PER_IMPRESSION:
        return exp(model_value);
    case OPT_OBJ_VIEWS_PER_DAY:
    case OPT_OBJ_AVG_VIEW_PERCENTAGE:
        return expm1(model_value);
    default:
        return model_value;
    }
}

const char *opt_objective_scale(opt_objective o)
{
    return opt_objective_is_log(o) ? "log" : "linear";
}

const char *opt_objective_name(opt_objective o)
{
    static const char *const names[OPT_OBJECTIVES] = {"watch_minutes_per_impression",
                                                      "views_per_day", "average_view_percentage",
                                                      "subscribers_net"};
    return (int)o >= 0 && o < OPT_OBJECTIVES ? names[o] : NULL;
}

opt_objective opt_objective_fallback(opt_objective o)
{
    return o == OPT_OBJ_WATCH_PER_IMPRESSION || o == OPT_OBJ_AVG_VIEW_PERCENTAGE
               ? OPT_OBJ_VIEWS_PER_DAY
               : o;
}

const char *opt_action_name(opt_action a)
{
    switch (a) {
    case OPT_STAY:
        return "stay";
    case OPT_SWITCH:
        return "switch";
    case OPT_EXPLORE:
        return "explore";
    case OPT_RETURN:
        return "return";
    }
    return "unknown";
}

/* The positive objectives are heavy-tailed (one viral day is worth a month),
 * so they are modelled as logs; the +1 keeps a day of zero finite and weighs
 * little against real traffic. Watch per impression smooths both sides by
 * one, so a day of three impressions cannot claim a huge ratio. */
bool opt_objective_value(opt_objective o, const opt_day *d, double *out)
{
    double v;
    switch (o) {
    case OPT_OBJ_WATCH_PER_IMPRESSION:
        if (!(d->impressions > 0) || !isfinite(d->impressions) || !(d->watch_minutes >= 0) ||
            !isfinite(d->watch_minutes))
            return false;
        v = log((d->watch_minutes + 1.0) / (d->impressions + 1.0));
        break;
    case OPT_OBJ_VIEWS_PER_DAY:
        if (!(d->views >= 0) || !isfinite(d->views))
            return false;
        v = log1p(d->views);
        break;
    case OPT_OBJ_AVG_VIEW_PERCENTAGE:
        if (!(d->avg_retention >= 0) || !isfinite(d->avg_retention))
            return false;
        v = log1p(d->avg_retention);
        break;
    case OPT_OBJ_SUBSCRIBERS_NET:
        if (!isfinite(d->subscribers_net))
            return false;
        v = d->subscribers_net;
        break;
    default:
        return false;
    }
    *out = v;
    return true;
}

void opt_stats_add(opt_stats *s, double y)
{
    s->n++;
    s->sum += y;
    s->sumsq += y * y;
}

void opt_channel_contrasts(const opt_stats *days, size_t k, opt_stats *out)
{
    double means = 0;
    size_t ran = 0;
    for (size_t i = 0; i < k; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        if (days[i].n > 0) {
            means += days[i].sum / (double)days[i].n;
            ran++;
        }
    }
    if (ran < 2)
        return;
    for (size_t i = 0; i < k; i++) {
        const opt_stats *d = &days[i];
        if (d->n == 0)
            continue;
        double n = (double)d->n, o = (means - d->sum / n) / (double)(ran - 1);
        double sumsq = d->sumsq - 2.0 * o * d->sum + n * o * o;
        out[i] = (opt_stats){.n = d->n, .sum = d->sum - n * o, .sumsq = sumsq > 0 ? sumsq : 0};
    }
}

/* ---- the posterior --------------------------------------------------------- */

/* Normal-Inverse-Gamma: sigma^2 ~ IG(alpha, beta), mu | sigma^2 ~
 * N(m, sigma^2 / kappa). factor is the failure penalty's (1 - p * rate). */
typedef struct opt__nig {
    double m, kappa, alpha, beta;
    double factor;
} opt__nig;

static double opt__mean_of(const opt_stats *s)
{
    return s->n > 0 ? s->sum / (double)s->n : 0.0;
}

/* The sum of squared deviations from the mean; rounding may leave it a hair
 * below zero. */
static double opt__ss_of(const opt_stats *s)
{
    if (s->n < 2)
        return 0.0;
    double ss = s->sumsq - s->sum * s->sum / (double)s->n;
    return ss > 0 ? ss : 0.0;
}

/* The scale of a day's noise the variance prior is centred on: the pooled
 * within-persona variance of this channel's days when it has two degrees of
 * freedom, else the variance of the pooled deviations, else a default. */
static double opt__ref_var(const opt_candidate *c, size_t n)
{
    double ss = 0, df = 0, pss = 0, pn = 0, psum = 0, psumsq = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].channel.n > 0) {
            ss += opt__ss_of(&c[i].channel);
            df += (double)(c[i].channel.n - 1);
        }
        pn += (double)(c[i].owner.n + c[i].global.n);
        psum += c[i].owner.sum + c[i].global.sum;
        psumsq += c[i].owner.sumsq + c[i].global.sumsq;
    }
    if (df >= 2 && ss > 0)
        return ss / df;
    if (pn >= 2) {
        pss = psumsq - psum * psum / pn;
        if (pss > 0)
            return pss / (pn - 1);
    }
    return OPT_DEFAULT_VAR;
}

/* The pooled effect of a persona: the owner's and the global pool each
 * count as their days, capped at their weight, at their mean deviation; the
 * base pseudo-day sits at deviation 0. *k0 receives the prior's pseudo-days. */
static double opt__pooled_effect(const opt_settings *s, const opt_candidate *c, double *k0)
{
    double ko = fmin((double)c->owner.n, s->owner_weight);
    double kg = fmin((double)c->global.n, s->global_weight);
    *k0 = OPT_BASE_DAYS + ko + kg;
    return (ko * opt__mean_of(&c->owner) + kg * opt__mean_of(&c->global)) / *k0;
}

/* The channel's own level, net of the pooled effects of the personas its
 * days were under: a channel that ran a strong persona has a high mean, and
 * the prior of a persona it never ran must not inherit that strength. Days
 * of personas not among the candidates count with effect 0. */
static double opt__channel_level(const opt_settings *s, const opt_candidate *c, size_t n,
                                 const opt_state *st)
{
    if (st->channel_days <= 0)
        return st->channel_mean;
    double lift = 0, k0;
    for (size_t i = 0; i < n; i++)
        if (c[i].channel.n > 0)
            lift += (double)c[i].channel.n * opt__pooled_effect(s, &c[i], &k0);
    return st->channel_mean - lift / (double)st->channel_days;
}

/* The prior, centred on the channel's level plus the persona's pooled
 * effect, then the channel's own days under the persona. */
static void opt__posterior(const opt_settings *s, const opt_candidate *c, double level,
                           double ref_var, opt__nig *out)
{
    double k0;
    double m0 = level + opt__pooled_effect(s, c, &k0);
    double b0 = (OPT_ALPHA0 - 1.0) * ref_var;

    double n = (double)c->channel.n, ybar = opt__mean_of(&c->channel);
    out->kappa = k0 + n;
    out->m = (k0 * m0 + n * ybar) / out->kappa;
    out->alpha = OPT_ALPHA0 + n / 2.0;
    out->beta = b0 + opt__ss_of(&c->channel) / 2.0 +
                k0 * n * (ybar - m0) * (ybar - m0) / (2.0 * out->kappa);
    double rate = c->generations > 0 ? (double)c->failures / (double)c->generations : 0.0;
    out->factor = 1.0 - s->failure_penalty * rate;
}

/* The penalty applied to a value of the mean: on the log scale a factor is a
 * shift; on subscribers net a gain shrinks and a loss grows, so a failing
 * persona always looks worse. Increasing in mu, so intervals map end to end. */
static double opt__penalise(const opt_settings *s, const opt__nig *p, double mu)
{
    if (opt_objective_is_log(s->objective))
        return mu + log(p->factor);
    return mu >= 0 ? mu * p->factor : mu / p->factor;
}

/* The 0.975 quantile of Student's t with nu degrees of freedom: tabulated to
 * 30, then the Cornish-Fisher expansion (error below 1e-4 from 30 on). */
static double opt__t975(double nu)
{
    static const double t[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (nu < 31 && nu == floor(nu) && nu >= 1)
        return t[(int)nu];
    double z = 1.959963985, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
    return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu * nu) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu * nu * nu);
}

static double opt__draw(opt__sampler *r, const opt__nig *p)
{
    double var = p->beta / opt__gamma(r, p->alpha);
    return p->m + sqrt(var / p->kappa) * opt__normal(r);
}

/* ---- the decision ---------------------------------------------------------- */

static bool opt__finite_stats(const opt_stats *s)
{
    return s->n >= 0 && isfinite(s->sum) && isfinite(s->sumsq) && s->sumsq >= 0;
}

static bool opt__valid(const opt_settings *s, const opt_candidate *c, size_t n, const opt_state *st)
{
    if (n == 0 || (int)s->objective < 0 || s->objective >= OPT_OBJECTIVES)
        return false;
    if (s->min_evidence_days < 1 || !(s->switch_probability > 0.5 && s->switch_probability < 1))
        return false;
    if (s->cooldown_days < 0 || !(s->explore_budget >= 0 && s->explore_budget <= 1))
        return false;
    if (!(s->owner_weight >= 0 && isfinite(s->owner_weight)) ||
        !(s->global_weight >= 0 && isfinite(s->global_weight)))
        return false;
    if (!(s->failure_penalty >= 0 && s->failure_penalty <= OPT_PENALTY_MAX))
        return false;
    if (s->draws < OPT_DRAWS_MIN || s->draws > OPT_DRAWS_MAX || s->explore_window < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!opt__finite_stats(&c[i].channel) || !opt__finite_stats(&c[i].owner) ||
            !opt__finite_stats(&c[i].global))
            return false;
        if (c[i].generations < 0 || c[i].failures < 0 || c[i].failures > c[i].generations)
            return false;
    }
    if (st->current != SIZE_MAX && st->current >= n)
        return false;
    if (st->in_trial && (st->current == SIZE_MAX || (st->home != SIZE_MAX && st->home >= n)))
        return false;
    if (st->channel_days < 0 || st->days_explored < 0 || st->days_explored > st->channel_days ||
        st->days_since_switch < 0 || !isfinite(st->channel_mean))
        return false;
    return true;
}

/* Whether days more of exploration stay within the budget. */
static bool opt__budget_allows(const opt_settings *s, const opt_state *st, int64_t days)
{
    double horizon = (double)(st->channel_days + days);
    if (horizon < (double)s->explore_window)
        horizon = (double)s->explore_window;
    return (double)(st->days_explored + days) <= s->explore_budget * horizon + 1e-9;
}

typedef struct opt__ctx {
    const opt_settings *s;
    const opt_candidate *c;
    size_t n;
    const opt_state *st;
    size_t ref; /* what a move is weighed against: current, or home during a trial */
    opt__sampler rng;
    opt__nig *nig;
    opt_posterior *post;
} opt__ctx;

static bool opt__evidenced(const opt__ctx *x, size_t i)
{
    return i != SIZE_MAX && x->c[i].channel.n >= x->s->min_evidence_days;
}

/* Candidates the decision weighs: the usable ones, the current one and the
 * reference. */
static bool opt__eligible(const opt__ctx *x, size_t i)
{
    return x->c[i].usable || i == x->st->current || i == x->ref;
}

/* Posterior means, intervals, P(best) for every eligible candidate and
 * P(i beats ref) into beats[i] (ref SIZE_MAX: none), by Monte Carlo. */
static void opt__probabilities(opt__ctx *x, size_t ref, double *beats, double *draw)
{
    size_t n = x->n;
    for (size_t i = 0; i < n; i++) {
        x->post[i].p_best = 0;
        beats[i] = 0;
    }
    for (int d = 0; d < x->s->draws; d++) {
        size_t win = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (!opt__eligible(x, i))
                continue;
            draw[i] = opt__penalise(x->s, &x->nig[i], opt__draw(&x->rng, &x->nig[i]));
            if (win == SIZE_MAX || draw[i] > draw[win])
                win = i;
        }
        if (win == SIZE_MAX)
            break;
        x->post[win].p_best += 1;
        if (ref != SIZE_MAX)
            for (size_t i = 0; i < n; i++)
                if (opt__eligible(x, i) && i != ref && draw[i] > draw[ref])
                    beats[i] += 1;
    }
    for (size_t i = 0; i < n; i++) {
        x->post[i].p_best /= x->s->draws;
        beats[i] /= x->s->draws;
    }
}

/* One Thompson draw over the eligible candidates: the winner. */
static size_t opt__thompson(opt__ctx *x)
{
    size_t win = SIZE_MAX;
    double best = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (!opt__eligible(x, i))
            continue;
        double v = opt__penalise(x->s, &x->nig[i], opt__draw(&x->rng, &x->nig[i]));
        if (win == SIZE_MAX || v > best) {
            win = i;
            best = v;
        }
    }
    return win;
}

static void opt__move(opt_decision *out, opt_action a, size_t target, const char *why)
{
    out->action = a;
    out->target = target;
    out->why = why;
}

/* A trial is running (auto mode): continue it, or end it by going home. The
 * adoption of a winning trial is the exploit rule's (opt__decide). */
static void opt__trial(opt__ctx *x, const double *beats, opt_decision *out)
{
    size_t cur = x->st->current, home = x->st->home;
    bool can_return = home != SIZE_MAX && x->c[home].usable;
    if (!x->c[cur].usable) {
        if (can_return)
            opt__move(out, OPT_RETURN, home, "the persona on trial may no longer be used");
        else
            opt__move(out, OPT_STAY, SIZE_MAX,
                      "the persona on trial may no longer be used and neither may the one "
                      "before it; no other persona has enough evidence");
        return;
    }
    if (!can_return) {
        opt__move(out, OPT_STAY, SIZE_MAX,
                  "on trial; the persona before the trial may no longer be used");
        return;
    }
    double p = beats[cur];
    if (p <= 1.0 - x->s->switch_probability) {
        opt__move(out, OPT_RETURN, home,
                  "the trial is confidently worse than the persona before it");
        return;
    }
    if (!opt__evidenced(x, cur)) {
        opt__move(out, OPT_STAY, SIZE_MAX, "on trial: not yet the evidence minimum");
        return;
    }
    if (p > 0.5 && opt__budget_allows(x->s, x->st, 1)) {
        opt__move(out, OPT_STAY, SIZE_MAX,
                  "on trial: ahead of the persona before it but not yet confidently; extended");
        return;
    }
    opt__move(out, OPT_RETURN, home, "the trial ended without a confident win");
}

/* Not in a trial (auto mode), no exploit move: explore if a Thompson draw
 * favours an under-tested persona and the budget holds its trial. */
static void opt__explore(opt__ctx *x, opt_decision *out)
{
    size_t cur = x->st->current;
    if (cur != SIZE_MAX && x->c[cur].usable && !opt__evidenced(x, cur)) {
        opt__move(out, OPT_STAY, SIZE_MAX,
                  "the current persona does not have the evidence minimum yet");
        return;
    }
    size_t w = opt__thompson(x);
    if (w == SIZE_MAX || w == cur || !x->c[w].usable || opt__evidenced(x, w)) {
        opt__move(out, OPT_STAY, SIZE_MAX, "no persona is likely enough to beat the current one");
        return;
    }
    int64_t need = x->s->min_evidence_days - x->c[w].channel.n;
    if (!opt__budget_allows(x->s, x->st, need)) {
        opt__move(out, OPT_STAY, SIZE_MAX, "exploration budget spent");
        return;
    }
    opt__move(out, OPT_EXPLORE, w, "trying an under-tested persona (Thompson sampling)");
}

/* The day's move, from the posteriors and the probabilities against the
 * reference. */
static void opt__decide(opt__ctx *x, size_t best, const double *beats, opt_decision *out)
{
    const opt_settings *s = x->s;
    const opt_candidate *c = x->c;
    const opt_state *st = x->st;
    const opt_posterior *post = x->post;
    bool trial = st->auto_mode && st->in_trial;
    size_t cur = st->current, ref = x->ref;

    memset(out, 0, sizeof(*out));
    out->best = best;
    out->target = SIZE_MAX;
    if (best != SIZE_MAX && ref != SIZE_MAX && best != ref) {
        out->p_beats_current = beats[best];
        double diff = post[best].mean - post[ref].mean;
        if (opt_objective_is_log(s->objective))
            out->uplift = expm1(diff);
        else
            out->uplift = post[ref].mean != 0 ? diff / fabs(post[ref].mean) : 0;
    }

    /* The exploit rule: the best with evidence against the reference with
     * evidence, past the threshold. A reference that may no longer be used,
     * or none, is left for any best with evidence. */
    if (best != SIZE_MAX && best != ref) {
        bool ref_gone = ref == SIZE_MAX || !c[ref].usable;
        bool wins = ref_gone || (opt__evidenced(x, ref) && beats[best] >= s->switch_probability);
        if (wins) {
            const char *why = ref_gone ? "the current persona may not be used; the best with "
                                         "enough evidence"
                                       : "the best persona beats the current one with enough "
                                         "evidence and probability";
            /* Adopting the persona on trial changes nothing on the channel,
             * so the cooldown does not hold it back. */
            if (!st->auto_mode || (trial && best == cur) ||
                st->days_since_switch >= s->cooldown_days) {
                opt__move(out, OPT_SWITCH, best, why);
                return;
            }
            if (!trial) {
                opt__move(out, OPT_STAY, SIZE_MAX,
                          "a better persona is ready; waiting for the "
                          "cooldown since the last switch");
                return;
            }
        }
    }
    if (!st->auto_mode) {
        opt__move(out, OPT_STAY, SIZE_MAX,
                  best == SIZE_MAX ? "no persona has the evidence minimum on this channel yet"
                  : best == cur    ? "the current persona is the best with enough evidence"
                                   : "no persona beats the current one with enough evidence "
                                     "and probability");
        return;
    }
    if (trial)
        opt__trial(x, beats, out);
    else
        opt__explore(x, out);
}

int opt_decide(const opt_settings *s, const opt_candidate *c, size_t n, const opt_state *st,
               opt_rng *rng, opt_posterior *post, opt_decision *out)
{
    if (!s || !c || !st || !rng || !post || !out || !opt__valid(s, c, n, st))
        return -1;
    opt__nig *nig = xcalloc(n, sizeof(*nig));
    double *beats = xcalloc(n, sizeof(*beats)), *draw = xcalloc(n, sizeof(*draw));
    opt__ctx x = {.s = s, .c = c, .n = n, .st = st, .rng = {.rng = rng}, .nig = nig, .post = post};

    double ref_var = opt__ref_var(c, n);
    double level = opt__channel_level(s, c, n, st);
    for (size_t i = 0; i < n; i++) {
        opt__posterior(s, &c[i], level, ref_var, &nig[i]);
        double half =
            opt__t975(2.0 * nig[i].alpha) * sqrt(nig[i].beta / (nig[i].alpha * nig[i].kappa));
        post[i].mean = opt__penalise(s, &nig[i], nig[i].m);
        post[i].lo95 = opt__penalise(s, &nig[i], nig[i].m - half);
        post[i].hi95 = opt__penalise(s, &nig[i], nig[i].m + half);
        post[i].days = c[i].channel.n;
    }

    bool trial = st->auto_mode && st->in_trial;
    size_t cur = st->current, ref = trial ? st->home : cur;
    x.ref = ref;

    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (c[i].usable && opt__evidenced(&x, i) &&
            (best == SIZE_MAX || post[i].mean > post[best].mean))
            best = i;
    opt__probabilities(&x, ref, beats, draw);
    opt__decide(&x, best, beats, out);
    free(nig);
    free(beats);
    free(draw);
    return 0;
}
