/*
 * bench_optimizer: the optimizer's simulator (issue 13, docs/benchmarks.md
 * "The optimizer simulator"). Synthetic channels with a known true best
 * persona live through simulated days; each day the real opt_decide
 * (services/optimizer_model.c) decides for every channel in auto mode, from
 * the channel's own days and the pools computed as the job's SQL computes
 * them (optimizer_model.h). Two baselines live the same days on the same
 * channels with the same noise: epsilon-greedy (epsilon = 0.1) and "highest
 * average so far". Not a test: nothing is asserted except the evidence rule,
 * whose violations are counted and make the exit status 1. The same seed
 * prints the same figures.
 *
 *   bench_optimizer [--channels N] [--days D] [--seed S] [--shared SD] [--deviation SD]
 *
 * Without --shared/--deviation it runs two worlds in one go: the default
 * (shared persona effects dominate) and one whose shared component is weaker.
 *
 * The generative model, per channel c (of user u, language l) and day t,
 * on the log scale of watch minutes per impression:
 *   a persona k's true effect      theta_ck = base_c + shared_k + dev_ck
 *     base_c  ~ N(log 0.15, 0.5)    the channel's level
 *     shared_k ~ N(0, SHARED)       the persona's effect everywhere
 *     dev_ck  ~ N(0, DEVIATION)     how this channel's audience differs
 *   a day's value  y = theta_ck + dow(t) + trend_c * t + viral + noise
 *     dow(t): the same weekly shape on every channel, +-0.06
 *     trend_c ~ N(0, 0.004) per day (a slow drift of the whole channel)
 *     viral: 2 % of days, + N(0.3, 0.15) on retention and x5..x40 impressions
 *     noise: Student t with 3 degrees of freedom, scale 0.12 + 2 / sqrt(impressions)
 *   impressions ~ lognormal around the channel's size (200 .. 200 000 a day),
 *     unknown (NULL) on 4 % of days: the objective is then missing that day.
 * Users own 1 to 12 channels, in one or two of 3 languages. Each user has 5
 * to 10 personas (a random subset of 12) used on all their channels; a
 * channel starts on a random one of them, set by its owner on its day 0.
 * Channels join on a calendar day spread over four weeks and each lives 28
 * days, so later channels find pools that earlier ones filled (their days
 * stay in the pools after). The pools are rebuilt every calendar day from
 * the optimizer's own history, as optimizer_model.h defines them. The true best is argmax theta_ck
 * over the channel's personas; the oracle runs it every day; regret is the sum over days of
 * theta_best - theta_chosen (expected log watch per impression, so 0.01 is ~1 %).
 */
#include "services/optimizer_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALL_PERSONAS          12
#define MAX_PERSONAS          10
#define LANGUAGES             3
#define CHANNELS_PER_USER_MAX 12
#define JOIN_DAYS             28 /* channels join over four weeks */

typedef struct world {
    int channels, users, days;
    double shared_sd, dev_sd;
    int *user_of, *lang_of;
    int *np;                       /* personas per channel */
    int (*persona)[MAX_PERSONAS];  /* global persona index of each slot */
    double (*theta)[MAX_PERSONAS]; /* true effect per slot */
    double *trend;
    double *size; /* log impressions level */
    int *best;    /* slot of the true best */
    int *start;   /* slot set by the owner on day 0 */
    int *join;    /* the calendar day the channel starts on */
    double shared[ALL_PERSONAS];
    /* per channel and day, the noise draws, shared by every policy so they
     * face the same days: noise, viral bonus, log impressions, missing */
    double *noise, *viral, *logimp;
    unsigned char *missing;
} world;

static double uniform01(opt_rng *r)
{
    return ((double)(opt_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(opt_rng *r)
{
    return sqrt(-2 * log(uniform01(r))) * cos(2 * M_PI * uniform01(r));
}

/* Student t with 3 degrees of freedom: heavy tails. */
static double student3(opt_rng *r)
{
    double chi = 0;
    for (int i = 0; i < 3; i++) {
        double z = gauss(r);
        chi += z * z;
    }
    return gauss(r) / sqrt(chi / 3);
}

static int below(opt_rng *r, int n)
{
    return (int)(opt_rng_next(r) % (uint64_t)n);
}

static const double dow_shape[7] = {0.02, 0.0, -0.02, -0.03, 0.0, 0.06, 0.04};

static void world_make(world *w, int channels, int days, double shared_sd, double dev_sd,
                       uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    w->channels = channels;
    w->days = days;
    w->shared_sd = shared_sd;
    w->dev_sd = dev_sd;
    opt_rng r;
    opt_rng_seed(&r, seed);
    for (int k = 0; k < ALL_PERSONAS; k++)
        w->shared[k] = shared_sd * gauss(&r);
    w->user_of = calloc((size_t)channels, sizeof(int));
    w->lang_of = calloc((size_t)channels, sizeof(int));
    w->np = calloc((size_t)channels, sizeof(int));
    w->persona = calloc((size_t)channels, sizeof(*w->persona));
    w->theta = calloc((size_t)channels, sizeof(*w->theta));
    w->trend = calloc((size_t)channels, sizeof(double));
    w->size = calloc((size_t)channels, sizeof(double));
    w->best = calloc((size_t)channels, sizeof(int));
    w->start = calloc((size_t)channels, sizeof(int));
    w->join = calloc((size_t)channels, sizeof(int));
    size_t cells = (size_t)channels * (size_t)days;
    w->noise = calloc(cells, sizeof(double));
    w->viral = calloc(cells, sizeof(double));
    w->logimp = calloc(cells, sizeof(double));
    w->missing = calloc(cells, 1);

    /* Users own 1 to 12 channels each, in one or two languages. */
    int c = 0, u = 0;
    while (c < channels) {
        int own = 1 + below(&r, CHANNELS_PER_USER_MAX);
        int np = 5 + below(&r, MAX_PERSONAS - 5 + 1);
        int set[ALL_PERSONAS];
        for (int k = 0; k < ALL_PERSONAS; k++)
            set[k] = k;
        for (int k = 0; k < np; k++) { /* a partial Fisher-Yates: the user's personas */
            int j = k + below(&r, ALL_PERSONAS - k);
            int t = set[k];
            set[k] = set[j];
            set[j] = t;
        }
        int lang = below(&r, LANGUAGES), lang2 = below(&r, LANGUAGES);
        for (int i = 0; i < own && c < channels; i++, c++) {
            w->user_of[c] = u;
            w->lang_of[c] = i % 3 == 2 ? lang2 : lang;
            w->np[c] = np;
            double base = log(0.15) + 0.5 * gauss(&r);
            for (int k = 0; k < np; k++) {
                w->persona[c][k] = set[k];
                w->theta[c][k] = base + w->shared[set[k]] + dev_sd * gauss(&r);
                if (w->theta[c][k] > w->theta[c][w->best[c]])
                    w->best[c] = k;
            }
            w->trend[c] = 0.004 * gauss(&r);
            w->size[c] = log(200) + uniform01(&r) * log(1000);
            w->start[c] = below(&r, np);
            w->join[c] = below(&r, JOIN_DAYS);
            for (int t = 0; t < days; t++) {
                size_t at = (size_t)c * (size_t)days + (size_t)t;
                bool viral = uniform01(&r) < 0.02;
                w->viral[at] = viral ? 0.3 + 0.15 * gauss(&r) : 0;
                w->logimp[at] =
                    w->size[c] + 0.3 * gauss(&r) + (viral ? log(5) + uniform01(&r) * log(8) : 0);
                w->noise[at] = student3(&r);
                w->missing[at] = uniform01(&r) < 0.04;
            }
        }
        u++;
    }
    w->users = u;
}

static void world_free(world *w)
{
    free(w->user_of);
    free(w->lang_of);
    free(w->np);
    free(w->persona);
    free(w->theta);
    free(w->trend);
    free(w->size);
    free(w->best);
    free(w->start);
    free(w->join);
    free(w->noise);
    free(w->viral);
    free(w->logimp);
    free(w->missing);
}

/* A day as the analytics rows would hold it, then the objective's value
 * read from it by the model's own function. */
static bool world_observe(const world *w, int c, int slot, int t, double *y)
{
    size_t at = (size_t)c * (size_t)w->days + (size_t)t;
    int cal = w->join[c] + t;
    double imp = round(exp(w->logimp[at]));
    double scale = 0.12 + 2.0 / sqrt(imp);
    double wpi = exp(w->theta[c][slot] + dow_shape[cal % 7] + w->trend[c] * t + w->viral[at] +
                     scale * w->noise[at]);
    opt_day d = {.views = round(imp * 0.05),
                 .watch_minutes = imp * wpi,
                 .impressions = w->missing[at] ? -1 : imp,
                 .avg_retention = -1,
                 .subscribers_net = 0};
    return opt_objective_value(OPT_OBJ_WATCH_PER_IMPRESSION, &d, y);
}

/* ---- a policy's view of the channels ---------------------------------------- */

typedef struct raw {
    int64_t n;
    double s1, s2;
} raw;

typedef struct policy {
    const char *name;
    int *cur; /* slot per channel */
    raw (*days)[MAX_PERSONAS];
    int64_t *nobs; /* days with a value per channel */
    double *sum;   /* their sum */
    double regret;
    long changes, switches, explores, returns, violations;
    long explores_best, returns_wrong, switches_worse; /* how good the moves were */
    /* optimizer only */
    opt_state *st;
} policy;

static void policy_init(policy *p, const world *w, const char *name)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    size_t n = (size_t)w->channels;
    p->cur = calloc(n, sizeof(int));
    p->days = calloc(n, sizeof(*p->days));
    p->nobs = calloc(n, sizeof(int64_t));
    p->sum = calloc(n, sizeof(double));
    p->st = calloc(n, sizeof(opt_state));
    for (int c = 0; c < w->channels; c++) {
        p->cur[c] = w->start[c];
        p->st[c] =
            (opt_state){.current = (size_t)w->start[c], .days_since_switch = 0, .auto_mode = true};
    }
}

static void policy_free(policy *p)
{
    free(p->cur);
    free(p->days);
    free(p->nobs);
    free(p->sum);
    free(p->st);
}

/* The day under the policy's persona: regret against the oracle, and the
 * value (when the day has one) into the channel's sums. */
static void policy_live(policy *p, const world *w, int c, int t)
{
    int slot = p->cur[c];
    p->regret += w->theta[c][w->best[c]] - w->theta[c][slot];
    double y;
    if (world_observe(w, c, slot, t, &y)) {
        raw *d = &p->days[c][slot];
        d->n++;
        d->s1 += y;
        d->s2 += y * y;
        p->nobs[c]++;
        p->sum[c] += y;
    }
}

static double mean_of(const raw *d)
{
    return d->s1 / (double)d->n;
}

/* ---- the pools, as the job's SQL computes them ----------------------------- */

typedef struct pools {
    opt_stats *chan;  /* [channel][global persona]: deviations from the channel's mean */
    opt_stats *user;  /* [user][persona] */
    opt_stats *ulang; /* [user][language][persona] */
    opt_stats *lang;  /* [language][persona] */
} pools;

static void stats_plus(opt_stats *a, const opt_stats *b, double sign)
{
    a->n += (int64_t)sign * b->n;
    a->sum += sign * b->sum;
    a->sumsq += sign * b->sumsq;
}

static void pools_build(pools *pl, const world *w, const policy *p)
{
    size_t nc = (size_t)w->channels, nu = (size_t)w->users;
    memset(pl->chan, 0, nc * ALL_PERSONAS * sizeof(opt_stats));
    memset(pl->user, 0, nu * ALL_PERSONAS * sizeof(opt_stats));
    memset(pl->ulang, 0, nu * LANGUAGES * ALL_PERSONAS * sizeof(opt_stats));
    memset(pl->lang, 0, LANGUAGES * ALL_PERSONAS * sizeof(opt_stats));
    for (int c = 0; c < w->channels; c++) {
        /* the model's own helper, as the job uses it */
        opt_stats days[MAX_PERSONAS], dev[MAX_PERSONAS];
        for (int k = 0; k < w->np[c]; k++)
            days[k] = (opt_stats){
                .n = p->days[c][k].n, .sum = p->days[c][k].s1, .sumsq = p->days[c][k].s2};
        opt_channel_contrasts(days, (size_t)w->np[c], dev);
        int u = w->user_of[c], l = w->lang_of[c];
        for (int k = 0; k < w->np[c]; k++) {
            if (dev[k].n == 0)
                continue;
            int g = w->persona[c][k];
            pl->chan[(size_t)c * ALL_PERSONAS + (size_t)g] = dev[k];
            stats_plus(&pl->user[(size_t)u * ALL_PERSONAS + (size_t)g], &dev[k], 1);
            stats_plus(&pl->ulang[((size_t)u * LANGUAGES + (size_t)l) * ALL_PERSONAS + (size_t)g],
                       &dev[k], 1);
            stats_plus(&pl->lang[(size_t)l * ALL_PERSONAS + (size_t)g], &dev[k], 1);
        }
    }
}

/* ---- the three policies ------------------------------------------------------ */

static void run_optimizer(policy *p, const world *w, const opt_settings *s, pools *pl, int cal,
                          uint64_t seed)
{
    pools_build(pl, w, p);
    for (int c = 0; c < w->channels; c++) {
        int t = cal - w->join[c];
        if (t < 0 || t >= w->days)
            continue;
        opt_state *st = &p->st[c];
        int u = w->user_of[c], l = w->lang_of[c];
        opt_candidate cand[MAX_PERSONAS];
        for (int k = 0; k < w->np[c]; k++) {
            int g = w->persona[c][k];
            memset(&cand[k], 0, sizeof(cand[k]));
            snprintf(cand[k].persona_id, sizeof(cand[k].persona_id), "persona-%d", g);
            const raw *d = &p->days[c][k];
            cand[k].channel = (opt_stats){.n = d->n, .sum = d->s1, .sumsq = d->s2};
            const opt_stats *mine = &pl->chan[(size_t)c * ALL_PERSONAS + (size_t)g];
            cand[k].owner = pl->user[(size_t)u * ALL_PERSONAS + (size_t)g];
            stats_plus(&cand[k].owner, mine, -1);
            cand[k].global = pl->lang[(size_t)l * ALL_PERSONAS + (size_t)g];
            stats_plus(&cand[k].global,
                       &pl->ulang[((size_t)u * LANGUAGES + (size_t)l) * ALL_PERSONAS + (size_t)g],
                       -1);
            cand[k].usable = true;
        }
        st->channel_days = p->nobs[c];
        st->channel_mean = p->nobs[c] ? p->sum[c] / (double)p->nobs[c] : 0;
        opt_rng rng;
        opt_rng_seed(&rng, seed ^ ((uint64_t)c * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)t);
        opt_posterior post[MAX_PERSONAS];
        opt_decision d;
        if (opt_decide(s, cand, (size_t)w->np[c], st, &rng, post, &d) != 0) {
            fprintf(stderr, "opt_decide refused channel %d on day %d\n", c, t);
            exit(2);
        }
        size_t before = st->current;
        switch (d.action) {
        case OPT_STAY:
            break;
        case OPT_SWITCH: {
            /* The rule checked here, outside the model: both sides have the
             * minimum of own days, unless the reference may not be used. */
            size_t ref = st->in_trial ? st->home : st->current;
            if (cand[d.target].channel.n < s->min_evidence_days ||
                (ref != SIZE_MAX && cand[ref].channel.n < s->min_evidence_days))
                p->violations++;
            p->switches++;
            p->switches_worse +=
                w->theta[c][d.target] < w->theta[c][ref != SIZE_MAX ? ref : st->current];
            st->current = d.target;
            st->in_trial = false;
            st->days_since_switch = 0;
            break;
        }
        case OPT_EXPLORE:
            p->explores++;
            p->explores_best += (int)d.target == w->best[c];
            st->home = st->current;
            st->current = d.target;
            st->in_trial = true;
            break;
        case OPT_RETURN:
            p->returns++;
            p->returns_wrong += w->theta[c][st->current] > w->theta[c][d.target];
            st->current = d.target;
            st->in_trial = false;
            break;
        }
        if (st->current != before)
            p->changes++;
        p->cur[c] = (int)st->current;
        int64_t had = p->nobs[c];
        policy_live(p, w, c, t);
        /* days_explored counts the days the model counts: days with a value */
        if (st->in_trial && p->nobs[c] > had)
            st->days_explored++;
        if (st->days_since_switch != INT64_MAX)
            st->days_since_switch++;
    }
}

/* The slot with the highest mean of the channel's own days (tried ones). */
static int greedy_slot(const policy *p, const world *w, int c)
{
    int best = p->cur[c];
    double bm = p->days[c][best].n ? mean_of(&p->days[c][best]) : -INFINITY;
    for (int k = 0; k < w->np[c]; k++)
        if (p->days[c][k].n && mean_of(&p->days[c][k]) > bm) {
            bm = mean_of(&p->days[c][k]);
            best = k;
        }
    return best;
}

static void run_egreedy(policy *p, const world *w, opt_rng *r, int cal)
{
    for (int c = 0; c < w->channels; c++) {
        int t = cal - w->join[c];
        if (t < 0 || t >= w->days)
            continue;
        int before = p->cur[c];
        if (t > 0)
            p->cur[c] = uniform01(r) < 0.1 ? below(r, w->np[c]) : greedy_slot(p, w, c);
        if (p->cur[c] != before)
            p->changes++;
        policy_live(p, w, c, t);
    }
}

/* Highest average so far: every persona once (an untried persona has no
 * average to lose to), then the highest average of the channel's days. */
static void run_greedy(policy *p, const world *w, int cal)
{
    for (int c = 0; c < w->channels; c++) {
        int t = cal - w->join[c];
        if (t < 0 || t >= w->days)
            continue;
        int before = p->cur[c];
        if (t > 0) {
            int untried = -1;
            for (int k = 0; k < w->np[c] && untried < 0; k++)
                if (p->days[c][k].n == 0)
                    untried = k;
            p->cur[c] = untried >= 0 ? untried : greedy_slot(p, w, c);
        }
        if (p->cur[c] != before)
            p->changes++;
        policy_live(p, w, c, t);
    }
}

static void report(const policy *p, const world *w, double egreedy_regret)
{
    int right = 0, near = 0;
    for (int c = 0; c < w->channels; c++) {
        /* the persona it would run on day D + 1: the optimizer's home after
         * a trial still open, the others' greedy choice */
        int fin = p->cur[c];
        if (p->st[c].in_trial && p->st[c].home != SIZE_MAX && strcmp(p->name, "optimizer") == 0)
            fin = (int)p->st[c].home;
        right += fin == w->best[c];
        near += w->theta[c][w->best[c]] - w->theta[c][fin] <= 0.02;
    }
    double n = w->channels;
    printf("%-20s %8.1f %% %8.1f %% %10.3f %7.2f %9.2f", p->name, 100.0 * right / n,
           100.0 * near / n, p->regret / n, egreedy_regret > 0 ? p->regret / egreedy_regret : 0,
           p->changes / n);
    if (strcmp(p->name, "optimizer") == 0)
        printf("\n  per channel: %.2f switches (%.1f %% to a worse persona), %.2f trials (%.1f %% "
               "of the true best), %.2f returns (%.1f %% from a better persona); switches "
               "below the evidence minimum: %ld",
               p->switches / n, p->switches ? 100.0 * p->switches_worse / p->switches : 0,
               p->explores / n, p->explores ? 100.0 * p->explores_best / p->explores : 0,
               p->returns / n, p->returns ? 100.0 * p->returns_wrong / p->returns : 0,
               p->violations);
    printf("\n");
}

static long simulate(int channels, int days, double shared_sd, double dev_sd, uint64_t seed,
                     const opt_settings *s)
{
    world w;
    world_make(&w, channels, days, shared_sd, dev_sd, seed);
    int ties = 0, shared_right = 0;
    for (int c = 0; c < w.channels; c++) {
        int top = 0;
        for (int k = 1; k < w.np[c]; k++)
            if (w.shared[w.persona[c][k]] > w.shared[w.persona[c][top]])
                top = k;
        shared_right += top == w.best[c];
        double second = -INFINITY;
        for (int k = 0; k < w.np[c]; k++)
            if (k != w.best[c] && w.theta[c][k] > second)
                second = w.theta[c][k];
        ties += w.theta[c][w.best[c]] - second < 0.02;
    }
    printf("\nworld: %d channels, %d users, %d days, seed %llu; persona effect sd: shared %.3f, "
           "channel deviation %.3f;\n  the true best is within 2 %% of the runner-up on %.1f %% "
           "of channels, and is the persona with the best shared effect on %.1f %%\n",
           w.channels, w.users, days, (unsigned long long)seed, shared_sd, dev_sd,
           100.0 * ties / w.channels, 100.0 * shared_right / w.channels);

    policy opt, eg, gr;
    policy_init(&opt, &w, "optimizer");
    policy_init(&eg, &w, "epsilon-greedy 0.1");
    policy_init(&gr, &w, "highest average");
    pools pl = {
        .chan = calloc((size_t)w.channels * ALL_PERSONAS, sizeof(opt_stats)),
        .user = calloc((size_t)w.users * ALL_PERSONAS, sizeof(opt_stats)),
        .ulang = calloc((size_t)w.users * LANGUAGES * ALL_PERSONAS, sizeof(opt_stats)),
        .lang = calloc(LANGUAGES * ALL_PERSONAS, sizeof(opt_stats)),
    };
    opt_rng er;
    opt_rng_seed(&er, seed + 7);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int cal = 0; cal < JOIN_DAYS + days; cal++) {
        run_optimizer(&opt, &w, s, &pl, cal, seed);
        run_egreedy(&eg, &w, &er, cal);
        run_greedy(&gr, &w, cal);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%-20s %10s %10s %10s %7s %9s\n", "policy", "true best", "within 2%", "regret/ch",
           "vs eps", "changes/ch");
    report(&opt, &w, eg.regret);
    report(&eg, &w, eg.regret);
    report(&gr, &w, eg.regret);
    printf("(%.1f s for the three policies)\n",
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    long v = opt.violations;
    policy_free(&opt);
    policy_free(&eg);
    policy_free(&gr);
    free(pl.chan);
    free(pl.user);
    free(pl.ulang);
    free(pl.lang);
    world_free(&w);
    return v;
}

int main(int argc, char **argv)
{
    int channels = 1000, days = 28;
    uint64_t seed = 13;
    double shared = -1, dev = -1;
    opt_settings s;
    opt_settings_default(&s);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--channels") == 0)
            channels = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--days") == 0)
            days = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--shared") == 0)
            shared = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--deviation") == 0)
            dev = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--budget") == 0)
            s.explore_budget = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--min-evidence") == 0)
            s.min_evidence_days = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--probability") == 0)
            s.switch_probability = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--owner-weight") == 0)
            s.owner_weight = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--global-weight") == 0)
            s.global_weight = atof(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: %s [--channels N] [--days D] [--seed S] [--shared SD] "
                    "[--deviation SD] [--budget B] [--min-evidence D] [--probability P] "
                    "[--owner-weight W] [--global-weight W]\n",
                    argv[0]);
            return 2;
        }
    }
    if (channels < 1 || channels > 1000000 || days < 1 || days > 3650) {
        fprintf(stderr, "channels must be 1..1000000 and days 1..3650\n");
        return 2;
    }
    printf("optimizer settings: min evidence %lld days, P(switch) %.2f, cooldown %lld days, "
           "explore budget %.2f over >= %lld days, pool weights owner %.0f global %.0f, "
           "%d draws\n",
           (long long)s.min_evidence_days, s.switch_probability, (long long)s.cooldown_days,
           s.explore_budget, (long long)s.explore_window, s.owner_weight, s.global_weight, s.draws);
    long v = 0;
    if (shared >= 0 || dev >= 0) {
        v += simulate(channels, days, shared >= 0 ? shared : 0.2, dev >= 0 ? dev : 0.05, seed, &s);
    } else {
        v += simulate(channels, days, 0.2, 0.05, seed, &s);
        v += simulate(channels, days, 0.1, 0.1, seed, &s);
    }
    return v == 0 ? 0 : 1;
}
