#include "services/optimizer_service.h"

#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/plan_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/audit.h"
#include "services/persona_access.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OPT__USEC_PER_DAY  INT64_C(86400000000)
#define OPT__DAY_SECONDS   86400
#define OPT__TRIES         5
#define OPT__DELAY_USEC    (INT64_C(3600) * 1000000) /* after the day's analytics collection */
#define OPT__SWEEP_PAGE    200
#define OPT__CHANNEL_DAYS0 (OPTIMIZER_WINDOW_DAYS + 1)

bool optimizer_service_material(int64_t dismissed_days, int64_t now_days)
{
    int64_t need = dismissed_days / 4;
    if (need < OPTIMIZER_MATERIAL_DAYS)
        need = OPTIMIZER_MATERIAL_DAYS;
    return now_days - dismissed_days >= need;
}

/* The channel's objective as the model's enum: the stored names are the
 * model's (opt_objective_name). */
static opt_objective opt__objective(const char *name)
{
    for (int i = 0; i < OPT_OBJECTIVES; i++)
        if (name != NULL && strcmp(name, opt_objective_name((opt_objective)i)) == 0)
            return (opt_objective)i;
    return OPT_OBJ_WATCH_PER_IMPRESSION;
}

static opt_day opt__figures(const optimizer_day *d)
{
    opt_day f = {.views = d->views,
                 .watch_minutes = d->watch_minutes,
                 .impressions = d->impressions,
                 .avg_retention = d->avg_retention,
                 .subscribers_net = d->subscribers_net};
    return f;
}

static size_t opt__find(const opt_candidate *c, size_t n, const char *persona_id)
{
    if (persona_id == NULL || persona_id[0] == '\0')
        return SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].persona_id, persona_id) == 0)
            return i;
    return SIZE_MAX;
}

/* The channel's own days, kept (at most the window's) to choose the
 * objective before folding them. */
typedef struct opt__days {
    optimizer_day *rows;
    size_t n, cap;
    arena *a;
} opt__days;

static int opt__keep_day(const optimizer_day *d, void *ctx, error *err)
{
    opt__days *k = ctx;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : OPT__CHANNEL_DAYS0;
        k->rows = arena_grow(k->a, k->rows, k->n, k->cap, sizeof(*k->rows));
    }
    (void)err;
    k->rows[k->n++] = *d;
    return 0;
}

/* The pool's fold (optimizer_model.h, "the pooled sums, exactly"): per
 * channel, every persona's sums on it; when the channel ends,
 * opt_channel_contrasts (the simulator's own) turns them into each
 * persona's contrasts, which go to the candidates' owner or global pool.
 * Since per-video attribution (decision 140) a channel-day holds a persona
 * per video besides the assigned one, so nothing bounds the personas of a
 * channel: the arrays grow in the arena as a channel brings more
 * (decision 159). */
#define OPT__POOL_PERSONAS0 16

typedef struct opt__pool_persona {
    char persona_id[UUID_STR_LEN + 1];
    opt_stats s;
} opt__pool_persona;

typedef struct opt__pool {
    arena *a;
    opt_objective o;
    const char *owner_id;
    opt_candidate *c;
    size_t n;
    char channel_id[UUID_STR_LEN + 1];
    bool owners;
    opt__pool_persona *per; /* the channel's personas so far, k of cap */
    opt_stats *days, *out;  /* the fold's input and output, cap each */
    size_t k, cap;
} opt__pool;

static void opt__pool_fold(opt__pool *p)
{
    for (size_t q = 0; q < p->k; q++)
        p->days[q] = p->per[q].s;
    opt_channel_contrasts(p->days, p->k, p->out);
    for (size_t q = 0; q < p->k; q++) {
        size_t i = opt__find(p->c, p->n, p->per[q].persona_id);
        if (i == SIZE_MAX || p->out[q].n == 0)
            continue;
        opt_stats *to = p->owners ? &p->c[i].owner : &p->c[i].global;
        to->n += p->out[q].n;
        to->sum += p->out[q].sum;
        to->sumsq += p->out[q].sumsq;
    }
    p->k = 0;
}

/* Room for one more persona on the channel: the arrays twice as large,
 * the personas so far copied (the old arrays stay in the arena). */
static void opt__pool_grow(opt__pool *p)
{
    if (p->k < p->cap)
        return;
    p->cap = p->cap ? 2 * p->cap : OPT__POOL_PERSONAS0;
    p->per = arena_grow(p->a, p->per, p->k, p->cap, sizeof(*p->per));
    p->days = arena_alloc(p->a, p->cap * sizeof(*p->days));
    p->out = arena_alloc(p->a, p->cap * sizeof(*p->out));
}

static int opt__pool_day(const optimizer_day *d, void *ctx, error *err)
{
    opt__pool *p = ctx;
    if (strcmp(p->channel_id, d->channel_id) != 0) {
        opt__pool_fold(p);
        memcpy(p->channel_id, d->channel_id, sizeof(p->channel_id));
        p->owners = strcmp(d->user_id, p->owner_id) == 0;
    }
    opt_day f = opt__figures(d);
    double y;
    if (d->persona_id[0] == '\0' || !opt_objective_value(p->o, &f, &y))
        return 0;
    size_t q = 0;
    while (q < p->k && strcmp(p->per[q].persona_id, d->persona_id) != 0)
        q++;
    if (q == p->k) {
        opt__pool_grow(p);
        memcpy(p->per[q].persona_id, d->persona_id, sizeof(p->per[q].persona_id));
        memset(&p->per[q].s, 0, sizeof(p->per[q].s));
        p->k++;
    }
    opt_stats_add(&p->per[q].s, y);
    return 0;
}

/* Whether an assignment was an optimizer's exploration (its evidence's action). */
static bool opt__explored(const channel_assignment *as)
{
    if (strcmp(as->source, "optimizer") != 0 || as->evidence == NULL)
        return false;
    json_t *doc = json_loads(as->evidence, 0, NULL);
    const char *action = json_string_value(json_object_get(doc, "action"));
    bool yes = action != NULL && strcmp(action, "explore") == 0;
    json_decref(doc);
    return yes;
}

/* The candidates, the channel's figures, the pools and the state, for
 * ch on `today`; then the decision. */
static int opt__gather(services *s, db_conn *c, arena *a, const channel *ch, int64_t today,
                       bool auto_mode, optimizer_view *v, error *err)
{
    memset(v, 0, sizeof(*v));
    v->ch = *ch;
    opt_settings_default(&v->set);
    v->set.min_evidence_days = s->optimizer_min_evidence_days;
    v->set.cooldown_days = s->optimizer_cooldown_days;
    v->set.objective = opt__objective(ch->objective);
    v->from = today - OPTIMIZER_WINDOW_DAYS;
    v->to = today - 1;

    char(*ids)[UUID_STR_LEN + 1] = arena_alloc(a, OPTIMIZER_MAX_CANDIDATES * sizeof(*ids));
    size_t k = 0;
    if (persona_access_list_usable_now(c, ch->user_id, ids, OPTIMIZER_MAX_CANDIDATES, &k, err) != 0)
        return -1;
    v->cands = arena_calloc(a, (k + 1) * sizeof(*v->cands));
    for (size_t i = 0; i < k; i++) {
        memcpy(v->cands[i].persona_id, ids[i], sizeof(ids[i]));
        v->cands[i].usable = true;
    }
    v->n = k;
    v->st.current = opt__find(v->cands, v->n, ch->persona_id);
    if (v->st.current == SIZE_MAX && ch->persona_id != NULL) {
        /* The current persona stays a candidate (never a target) while the
         * owner may no longer pick it. */
        snprintf(v->cands[v->n].persona_id, sizeof(v->cands[v->n].persona_id), "%s",
                 ch->persona_id);
        v->cands[v->n].usable = false;
        v->st.current = v->n++;
    }
    if (v->n == 0)
        return 0;

    /* The channel's days; an objective no day of the window has (no
     * impressions, no retention) falls back to the model's choice
     * (opt_objective_fallback, decision 86). */
    opt__days days = {NULL, 0, 0, a};
    if (optimizer_store_channel_days(c, ch->id, v->from, v->to, opt__keep_day, &days, err) != 0)
        return -1;
    size_t have = 0;
    for (size_t i = 0; i < days.n; i++) {
        opt_day f = opt__figures(&days.rows[i]);
        double y;
        have += opt_objective_value(v->set.objective, &f, &y);
    }
    if (days.n > 0 && have == 0)
        v->set.objective = opt_objective_fallback(v->set.objective);
    v->objective_used = opt_objective_name(v->set.objective);
    opt_stats all = {0, 0, 0};
    for (size_t i = 0; i < days.n; i++) {
        opt_day f = opt__figures(&days.rows[i]);
        double y;
        if (days.rows[i].persona_id[0] == '\0' || !opt_objective_value(v->set.objective, &f, &y))
            continue;
        opt_stats_add(&all, y);
        v->st.days_explored += days.rows[i].explored;
        size_t at = opt__find(v->cands, v->n, days.rows[i].persona_id);
        if (at != SIZE_MAX)
            opt_stats_add(&v->cands[at].channel, y);
    }
    v->st.channel_days = all.n;
    v->st.channel_mean = all.n ? all.sum / (double)all.n : 0.0;

    /* The pools: the owner's other channels, and other users' channels in
     * the language of this channel's persona. */
    char lang[PERSONA_LANGUAGE_MAX + 1] = "";
    if (optimizer_store_persona_language(c, ch->persona_id, lang, sizeof(lang), err) != 0)
        return -1;
    opt__pool *pool = arena_calloc(a, sizeof(*pool));
    pool->a = a;
    pool->o = v->set.objective;
    pool->owner_id = ch->user_id;
    pool->c = v->cands;
    pool->n = v->n;
    if (optimizer_store_pool_days(c, ch->user_id, ch->id, lang, v->from, v->to, opt__pool_day, pool,
                                  err) != 0)
        return -1;
    opt__pool_fold(pool);

    for (size_t i = 0; i < v->n; i++)
        if (optimizer_store_usage(c, v->cands[i].persona_id, v->from * OPT__USEC_PER_DAY,
                                  today * OPT__USEC_PER_DAY, &v->cands[i].generations,
                                  &v->cands[i].failures, err) != 0)
            return -1;

    /* The cooldown runs from the owner's last change or the optimizer's
     * last switch; a trial is on when the latest assignment explored. */
    int64_t switched_at = 0;
    bool found = false;
    if (optimizer_store_last_switch(c, ch->id, &switched_at, &found, err) != 0)
        return -1;
    v->st.days_since_switch = found ? today - time_day_of(switched_at) : INT64_MAX;
    v->st.auto_mode = auto_mode;
    v->st.home = SIZE_MAX;
    channel_assignment last;
    if (channel_store_assignment_latest(c, a, ch->id, &last, &found, err) != 0)
        return -1;
    if (auto_mode && found && v->st.current != SIZE_MAX && opt__explored(&last)) {
        v->st.in_trial = true;
        v->st.home = opt__find(v->cands, v->n, last.previous_persona_id);
    }

    /* Thompson draws seeded from the channel and the day: a re-run decides
     * the same (FNV-1a of the id, mixed with the day). */
    uint64_t h = UINT64_C(1469598103934665603);
    for (const char *q = ch->id; *q; q++)
        h = (h ^ (unsigned char)*q) * UINT64_C(1099511628211);
    opt_rng rng;
    opt_rng_seed(&rng, h ^ ((uint64_t)today * UINT64_C(0x9E3779B97F4A7C15)));
    v->post = arena_calloc(a, v->n * sizeof(*v->post));
    if (opt_decide(&v->set, v->cands, v->n, &v->st, &rng, v->post, &v->d) != 0)
        return error_set(err, ERR_INTERNAL, NULL, "the optimizer's model refused its inputs");
    return 0;
}

/* A number JSON can carry (the model's figures may be infinite). */
static json_t *opt__real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* The evidence of a decision as JSON text (arena): what the suggestion and
 * an optimizer's assignment keep, and what GET …/suggestions shows. */
static const char *opt__evidence(arena *a, const optimizer_view *v)
{
    char from[TIME_DAY_STR_LEN + 1], to[TIME_DAY_STR_LEN + 1];
    time_day_format(v->from, from);
    time_day_format(v->to, to);
    json_t *personas = json_array();
    for (size_t i = 0; i < v->n; i++) {
        const opt_candidate *cd = &v->cands[i];
        const opt_posterior *po = &v->post[i];
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:b}", "persona_id",
                              cd->persona_id, "channel_days", (json_int_t)cd->channel.n,
                              "owner_days", (json_int_t)cd->owner.n, "global_days",
                              (json_int_t)cd->global.n, "generations", (json_int_t)cd->generations,
                              "failures", (json_int_t)cd->failures, "usable", cd->usable, "current",
                              i == v->st.current);
        json_object_set_new(o, "mean", opt__real(po->mean));
        json_object_set_new(o, "lo95", opt__real(po->lo95));
        json_object_set_new(o, "hi95", opt__real(po->hi95));
        json_object_set_new(o, "p_best", opt__real(po->p_best));
        json_object_set_new(o, "typical",
                            opt__real(opt_objective_units(v->set.objective, po->mean)));
        json_object_set_new(o, "typical_lo95",
                            opt__real(opt_objective_units(v->set.objective, po->lo95)));
        json_object_set_new(o, "typical_hi95",
                            opt__real(opt_objective_units(v->set.objective, po->hi95)));
        json_array_append_new(personas, o);
    }
    const char *best = v->d.best != SIZE_MAX ? v->cands[v->d.best].persona_id : NULL;
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "objective", v->ch.objective,
        "objective_used", v->objective_used ? v->objective_used : v->ch.objective, "action",
        opt_action_name(v->d.action), "best_persona_id", best, "from", from, "to", to,
        "min_evidence_days", (json_int_t)v->set.min_evidence_days, "channel_days",
        (json_int_t)v->st.channel_days, "days_explored", (json_int_t)v->st.days_explored,
        "days_since_switch",
        (json_int_t)(v->st.days_since_switch == INT64_MAX ? -1 : v->st.days_since_switch),
        "personas", personas);
    json_object_set_new(doc, "objective_scale", json_string(opt_objective_scale(v->set.objective)));
    json_object_set_new(doc, "p_beats_current", opt__real(v->d.p_beats_current));
    json_object_set_new(doc, "uplift", opt__real(v->d.uplift));
    json_object_set_new(doc, "why", json_string(v->d.why ? v->d.why : ""));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    const char *out = arena_strdup(a, text);
    free(text);
    return out;
}

static bool opt__same(const char *x, const char *y)
{
    return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* Offers v's proposal as a suggestion: the open one with the same
 * fingerprint, else a new one, unless a dismissal of the same proposal
 * still holds. */
typedef struct opt__offer {
    arena *a;
    optimizer_view *v;
} opt__offer;

static int opt__offer_body(db_conn *c, void *arg, error *err)
{
    opt__offer *o = arg;
    optimizer_view *v = o->v;
    const opt_candidate *to = &v->cands[v->d.target];
    const char *current = v->st.current != SIZE_MAX ? v->cands[v->st.current].persona_id : NULL;
    int64_t pd = to->channel.n,
            cd = v->st.current != SIZE_MAX ? v->cands[v->st.current].channel.n : 0;
    opt_suggestion old;
    bool found = false;
    if (optimizer_store_suggestion_find(c, o->a, v->ch.id, to->persona_id, current, "dismissed",
                                        &old, &found, err) != 0)
        return -1;
    if (found && !optimizer_service_material(old.proposed_days + old.current_days, pd + cd)) {
        v->why = "you dismissed this proposal; it comes back once the evidence has changed "
                 "materially (decision 87)";
        return 0;
    }
    if (optimizer_store_suggestion_find(c, o->a, v->ch.id, to->persona_id, current, "open", &old,
                                        &found, err) != 0)
        return -1;
    if (found && old.proposed_days == pd && old.current_days == cd) {
        v->suggestion = arena_alloc(o->a, sizeof(*v->suggestion));
        *v->suggestion = old;
        return 0;
    }
    opt_suggestion *sg = arena_calloc(o->a, sizeof(*sg));
    uuid_v7(sg->id);
    snprintf(sg->channel_id, sizeof(sg->channel_id), "%s", v->ch.id);
    snprintf(sg->user_id, sizeof(sg->user_id), "%s", v->ch.user_id);
    sg->persona_id = to->persona_id;
    sg->current_persona_id = current;
    sg->objective = v->objective_used;
    sg->p_beats_current = isfinite(v->d.p_beats_current) ? v->d.p_beats_current : 0.0;
    sg->uplift = isfinite(v->d.uplift) ? v->d.uplift : 0.0;
    sg->proposed_days = pd;
    sg->current_days = cd;
    sg->evidence = opt__evidence(o->a, v);
    sg->state = "open";
    sg->created_at = time_now_usec();
    if (optimizer_store_suggestion_insert(c, sg, err) != 0)
        return -1;
    v->suggestion = sg;
    return 0;
}

int optimizer_service_suggestions(services *s, db_conn *c, arena *a, const principal *p,
                                  const char *channel_id, optimizer_view *out, error *err)
{
    channel ch;
    if (channel_store_get(c, a, p->user_id, channel_id, false, NULL, &ch, err) != 0)
        return -1;
    int64_t today = time_day_of(time_now_usec());
    if (opt__gather(s, c, a, &ch, today, false, out, err) != 0)
        return -1;
    if (strcmp(ch.optimization_mode, "off") == 0) {
        out->why = "optimization is off for this channel; set optimization_mode to suggest or "
                   "auto";
        return 0;
    }
    if (out->n == 0 || out->d.action != OPT_SWITCH || out->d.target == SIZE_MAX) {
        out->why = out->n == 0 ? "there is no persona you may use" : out->d.why;
        return 0;
    }
    out->why = out->d.why;
    opt__offer o = {a, out};
    return db_tx(c, opt__offer_body, &o, err);
}

/* A persona change of the caller's channel, with its log row. */
static int opt__assign(db_conn *c, const principal *by, channel *ch, const char *persona_id,
                       int version, const char *assigned_by, const char *source, const char *reason,
                       const char *evidence, const char *suggestion_id, int64_t now,
                       channel_assignment *as, error *err)
{
    const char *previous = ch->persona_id;
    ch->persona_id = persona_id;
    ch->updated_at = now;
    if (channel_store_update(c, ch, err) != 0)
        return -1;
    memset(as, 0, sizeof(*as));
    uuid_v7(as->id);
    snprintf(as->channel_id, sizeof(as->channel_id), "%s", ch->id);
    snprintf(as->user_id, sizeof(as->user_id), "%s", ch->user_id);
    as->persona_id = persona_id;
    as->persona_version = persona_id ? version : 0;
    as->previous_persona_id = previous;
    as->assigned_by = assigned_by;
    as->source = source;
    as->reason = reason;
    as->evidence = evidence;
    as->suggestion_id = suggestion_id;
    as->created_at = now;
    if (channel_store_assignment_insert(c, as, err) != 0)
        return -1;
    return audit_persona_switch(c, by, as, err);
}

typedef struct opt__act {
    arena *a;
    const principal *p;
    const char *channel_id, *id;
    opt_suggestion *sg;
    channel *ch;
    channel_assignment *as;
} opt__act;

static int opt__accept_body(db_conn *c, void *arg, error *err)
{
    opt__act *x = arg;
    if (channel_store_get(c, x->a, x->p->user_id, x->channel_id, true, NULL, x->ch, err) != 0 ||
        optimizer_store_suggestion_get(c, x->a, x->p->user_id, x->channel_id, x->id, x->sg, err) !=
            0)
        return -1;
    if (strcmp(x->sg->state, "open") != 0)
        return error_set(err, ERR_CONFLICT, "state", "this suggestion was already %s",
                         x->sg->state);
    if (!opt__same(x->ch->persona_id, x->sg->current_persona_id))
        return error_set(err, ERR_CONFLICT, "current_persona_id",
                         "the channel's persona changed since this suggestion was made; ask "
                         "GET …/suggestions for a current one");
    int version = 0;
    if (persona_access_check_choice(c, x->p, x->sg->persona_id, &version, err) != 0)
        return -1;
    int64_t now = time_now_usec();
    const char *reason = arena_sprintf(x->a, "accepted suggestion %s", x->sg->id);
    if (opt__assign(c, x->p, x->ch, x->sg->persona_id, version, x->p->user_id, "manual", reason,
                    x->sg->evidence, x->sg->id, now, x->as, err) != 0)
        return -1;
    if (optimizer_store_suggestion_decide(c, x->p->user_id, x->sg->id, "accepted", now, err) != 0)
        return -1;
    x->sg->state = "accepted";
    x->sg->decided_at = now;
    return 0;
}

static int opt__check_ids(const char *channel_id, const char *id, const char *what, error *err)
{
    if (channel_id == NULL || !uuid_is_valid(channel_id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no channel with id %s",
                         channel_id ? channel_id : "(none)");
    if (id == NULL || !uuid_is_valid(id))
        return error_set(err, ERR_NOT_FOUND, NULL, "no %s with id %s", what, id ? id : "(none)");
    return 0;
}

int optimizer_service_accept(db_conn *c, arena *a, const principal *p, const char *channel_id,
                             const char *suggestion_id, opt_suggestion *s_out, channel *ch_out,
                             channel_assignment *as_out, error *err)
{
    if (opt__check_ids(channel_id, suggestion_id, "suggestion", err) != 0)
        return -1;
    opt__act x = {a, p, channel_id, suggestion_id, s_out, ch_out, as_out};
    return db_tx(c, opt__accept_body, &x, err);
}

static int opt__dismiss_body(db_conn *c, void *arg, error *err)
{
    opt__act *x = arg;
    if (channel_store_get(c, x->a, x->p->user_id, x->channel_id, false, NULL, x->ch, err) != 0 ||
        optimizer_store_suggestion_get(c, x->a, x->p->user_id, x->channel_id, x->id, x->sg, err) !=
            0)
        return -1;
    int64_t now = time_now_usec();
    if (optimizer_store_suggestion_decide(c, x->p->user_id, x->sg->id, "dismissed", now, err) != 0)
        return -1;
    x->sg->state = "dismissed";
    x->sg->decided_at = now;
    return 0;
}

int optimizer_service_dismiss(db_conn *c, arena *a, const principal *p, const char *channel_id,
                              const char *suggestion_id, opt_suggestion *out, error *err)
{
    if (opt__check_ids(channel_id, suggestion_id, "suggestion", err) != 0)
        return -1;
    channel ch;
    opt__act x = {a, p, channel_id, suggestion_id, out, &ch, NULL};
    return db_tx(c, opt__dismiss_body, &x, err);
}

static int opt__revert_body(db_conn *c, void *arg, error *err)
{
    opt__act *x = arg;
    channel_assignment target, last;
    bool found = false;
    if (channel_store_get(c, x->a, x->p->user_id, x->channel_id, true, NULL, x->ch, err) != 0 ||
        channel_store_assignment_get(c, x->a, x->p->user_id, x->channel_id, x->id, &target, err) !=
            0 ||
        channel_store_assignment_latest(c, x->a, x->channel_id, &last, &found, err) != 0)
        return -1;
    if (!found || strcmp(last.id, target.id) != 0)
        return error_set(err, ERR_CONFLICT, "assignment_id",
                         "only the channel's latest assignment can be reverted; %s came after "
                         "this one",
                         found ? last.id : "another");
    const char *restore = target.previous_persona_id;
    int version = 0;
    if (restore != NULL) {
        error e;
        if (persona_access_check_choice(c, x->p, restore, &version, &e) != 0) {
            if (e.kind != ERR_INVALID && e.kind != ERR_PLAN_REQUIRED) {
                *err = e;
                return -1;
            }
            return error_set(err, ERR_CONFLICT, "previous_persona_id",
                             "the persona before this assignment (%s) is no longer one you may "
                             "use; choose a persona with PATCH /api/v1/channels/%s",
                             restore, x->ch->id);
        }
    }
    int64_t now = time_now_usec();
    bool pause = strcmp(x->ch->optimization_mode, "auto") == 0;
    if (pause)
        x->ch->optimizer_paused_at = now;
    const char *reason = arena_sprintf(x->a, "reverted assignment %s", target.id);
    if (opt__assign(c, x->p, x->ch, restore, version, x->p->user_id, "manual", reason, NULL, NULL,
                    now, x->as, err) != 0)
        return -1;
    if (pause) {
        x->ch->optimizer_status = "paused";
        x->ch->optimizer_why = "auto mode is paused since a revert; set optimization_mode to auto "
                               "to resume";
        x->ch->optimizer_checked_at = now;
        return channel_store_set_optimizer_status(c, x->ch->user_id, x->ch->id, "paused",
                                                  x->ch->optimizer_why, now, err);
    }
    return 0;
}

int optimizer_service_revert(db_conn *c, arena *a, const principal *p, const char *channel_id,
                             const char *assignment_id, channel *ch_out, channel_assignment *as_out,
                             error *err)
{
    if (opt__check_ids(channel_id, assignment_id, "assignment", err) != 0)
        return -1;
    opt__act x = {a, p, channel_id, assignment_id, NULL, ch_out, as_out};
    return db_tx(c, opt__revert_body, &x, err);
}

/* ---- the daily run ------------------------------------------------------ */

typedef struct opt__run_tx {
    services *s;
    arena *a;
    const char *user_id, *channel_id;
    int64_t today;
    optimizer_run *out;
    const job *j; /* NULL: not from a job */
} opt__run_tx;

static const char *opt__why(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *opt__why(arena *a, const char *fmt, ...)
{
    char text[CHANNEL_OPTIMIZER_WHY_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return arena_strndup(a, text, utf8_prefix(text, CHANNEL_OPTIMIZER_WHY_MAX));
}

/* The run's decision on the locked channel; fills out->status and why. */
static int opt__run_decide(opt__run_tx *t, db_conn *c, channel *ch, error *err)
{
    optimizer_run *out = t->out;
    arena *a = t->a;
    if (ch->optimizer_paused_at > 0) {
        out->status = "paused";
        out->why = "auto mode is paused since a revert; set optimization_mode to auto to resume";
        return 0;
    }
    if (ch->account_status != NULL && strcmp(ch->account_status, "needs_reconnect") == 0) {
        out->status = "waiting";
        out->why = "waiting: the channel's Google account needs reconnecting, so its analytics "
                   "are not current";
        return 0;
    }
    int64_t last = 0;
    bool found = false;
    if (optimizer_store_last_day(c, ch->id, &last, &found, err) != 0)
        return -1;
    if (!found || last < t->today - OPTIMIZER_STALE_DAYS) {
        char d[TIME_DAY_STR_LEN + 1] = "";
        if (found)
            time_day_format(last, d);
        out->status = "waiting";
        out->why = found ? opt__why(a,
                                    "waiting: the latest analytics day is %s, more than %d days "
                                    "old; nothing is switched on stale data",
                                    d, OPTIMIZER_STALE_DAYS)
                         : "waiting: the channel has no analytics yet";
        return 0;
    }
    optimizer_view v;
    if (opt__gather(t->s, c, a, ch, t->today, true, &v, err) != 0)
        return -1;
    if (v.n == 0) {
        out->status = "stayed";
        out->why = "there is no persona the owner may use";
        return 0;
    }
    out->why = opt__why(a, "%s", v.d.why ? v.d.why : "");
    /* A SWITCH whose target is current adopts a trial that won: on record,
     * with no persona change. */
    if (v.d.action == OPT_STAY || v.d.target == SIZE_MAX ||
        (v.d.target == v.st.current && v.d.action != OPT_SWITCH)) {
        out->status = "stayed";
        return 0;
    }
    /* At most one switch a day whatever the settings: a re-run finds it. */
    channel_assignment prev;
    if (channel_store_assignment_latest(c, a, ch->id, &prev, &found, err) != 0)
        return -1;
    if (found && strcmp(prev.source, "optimizer") == 0 &&
        time_day_of(prev.created_at) == t->today) {
        out->status = "stayed";
        out->why = "already switched today";
        return 0;
    }
    const char *target = v.cands[v.d.target].persona_id;
    principal owner = {0};
    snprintf(owner.user_id, sizeof(owner.user_id), "%s", ch->user_id);
    int version = 0;
    if (plan_store_of_user(c, ch->user_id, owner.plan_code, &owner.plan_rank, err) != 0 ||
        persona_access_usable(c, &owner, target, NULL, &version, err) != 0)
        return -1;
    channel_assignment as;
    const char *reason = arena_strndup(a, out->why, utf8_prefix(out->why, CHANNEL_REASON_MAX));
    if (opt__assign(c, NULL, ch, target, version, NULL, "optimizer", reason[0] ? reason : NULL,
                    opt__evidence(a, &v), NULL, time_now_usec(), &as, err) != 0)
        return -1;
    out->status = v.d.action == OPT_EXPLORE  ? "explored"
                  : v.d.action == OPT_RETURN ? "returned"
                                             : "switched";
    out->switched = true;
    memcpy(out->assignment_id, as.id, sizeof(as.id));
    return 0;
}

static int opt__run_body(db_conn *c, void *arg, error *err)
{
    opt__run_tx *t = arg;
    memset(t->out, 0, sizeof(*t->out));
    channel ch;
    error miss;
    int rc = channel_store_get(c, t->a, t->user_id, t->channel_id, true, NULL, &ch, &miss);
    if (rc != 0 && miss.kind != ERR_NOT_FOUND) {
        *err = miss;
        return -1;
    }
    if (rc == 0 && strcmp(ch.optimization_mode, "auto") == 0) {
        if (opt__run_decide(t, c, &ch, err) != 0)
            return -1;
        if (channel_store_set_optimizer_status(c, ch.user_id, ch.id, t->out->status, t->out->why,
                                               time_now_usec(), err) != 0)
            return -1;
    }
    return t->j != NULL ? job_complete(c, t->j, err) : 0;
}

int optimizer_service_run_channel(services *s, db_conn *c, arena *a, const char *user_id,
                                  const char *channel_id, int64_t today, optimizer_run *out,
                                  error *err)
{
    opt__run_tx t = {s, a, user_id, channel_id, today, out, NULL};
    return db_tx(c, opt__run_body, &t, err);
}

static void opt__run_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    services *s = ctx;
    const char *channel_id = json_string_value(json_object_get(j->payload, "channel_id"));
    if (channel_id == NULL || !uuid_is_valid(channel_id) || j->user_id[0] == '\0') {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, NULL, "the job names no channel");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    optimizer_run run;
    opt__run_tx t = {s, &a, j->user_id, channel_id, time_day_of(time_now_usec()), &run, j};
    error e;
    if (db_tx(c, opt__run_body, &t, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        out->err = e;
    } else {
        out->outcome = JOB_OUTCOME_DONE;
        if (run.status != NULL)
            log_info("optimizer on channel %s: %s (%s)", channel_id, run.status, run.why);
    }
    arena_free(&a);
}

/* The daily fan-out: one run per channel in auto mode, unique per channel
 * and day, due an hour after the sweep so the day's analytics collection
 * (queued at the same moment, ahead of it by priority) lands first. */
typedef struct opt__sweep_tx {
    const job *j;
    size_t queued;
} opt__sweep_tx;

static int opt__sweep_body(db_conn *c, void *arg, error *err)
{
    opt__sweep_tx *tx = arg;
    long long day = (long long)time_day_of(time_now_usec());
    int64_t run_at = time_now_usec() + OPT__DELAY_USEC;
    char after[UUID_STR_LEN + 1] = "";
    for (;;) {
        arena a;
        arena_init(&a, 16384);
        channel *rows;
        size_t n = 0;
        int rc = channel_store_list_auto(c, &a, after[0] ? after : NULL, OPT__SWEEP_PAGE, &rows, &n,
                                         err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char unique[160], id[UUID_STR_LEN + 1];
            snprintf(unique, sizeof(unique), "%s:%s:d%lld", OPTIMIZER_JOB_RUN, rows[i].id, day);
            json_t *payload = json_pack("{s:s}", "channel_id", rows[i].id);
            job_options o = {.user_id = rows[i].user_id,
                             .priority = -1,
                             .run_at = run_at,
                             .max_attempts = OPT__TRIES,
                             .unique_key = unique};
            rc = job_enqueue(c, OPTIMIZER_JOB_RUN, payload, &o, id, err);
            json_decref(payload);
            snprintf(after, sizeof(after), "%s", rows[i].id);
            tx->queued++;
        }
        arena_free(&a);
        if (rc != 0)
            return -1;
        if (n < OPT__SWEEP_PAGE)
            break;
    }
    return job_complete(c, tx->j, err);
}

static void opt__sweep_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    (void)ctx;
    opt__sweep_tx tx = {j, 0};
    error e;
    if (db_tx(c, opt__sweep_body, &tx, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        out->err = e;
        return;
    }
    log_info("daily optimizer: %zu channel(s) in auto mode queued", tx.queued);
    out->outcome = JOB_OUTCOME_DONE;
}

void optimizer_service_register_jobs(services *s)
{
    job_register(OPTIMIZER_JOB_RUN, opt__run_job, s, 120);
    job_register(OPTIMIZER_JOB_RUN_ALL, opt__sweep_job, s, 300);
    job_schedule(OPTIMIZER_JOB_RUN_ALL, OPT__DAY_SECONDS, "{}");
}
