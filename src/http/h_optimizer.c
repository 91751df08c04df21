/*
 * The optimizer's routes under /api/v1/channels/{id} (issue 13): the
 * suggestion on offer with its evidence, accepting or dismissing it, and
 * reverting the channel's latest assignment. Every route looks up the
 * caller's channel first, so another user's channel, suggestion or
 * assignment is a 404.
 */
#include "base/jsonout.h"
#include "base/timeutil.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/optimizer_service.h"

#include <math.h>
#include <string.h>

static const char *const NO_QUERY[] = {NULL};

/* A figure of the model, null when it is not a finite number. */
static void h_optimizer__real(jw *w, const char *key, double v)
{
    jw_key(w, key);
    if (isfinite(v))
        jw_real(w, v);
    else
        jw_null(w);
}

static void h_optimizer__suggestions(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !api_query_allowed(r, NO_QUERY))
        return;
    optimizer_view v;
    error e;
    if (optimizer_service_suggestions(api_services(r), api_conn(r), http_arena(r), p, id, &v, &e) !=
        0) {
        http_reply_error(r, &e);
        return;
    }
    char from[TIME_DAY_STR_LEN + 1], to[TIME_DAY_STR_LEN + 1];
    time_day_format(v.from, from);
    time_day_format(v.to, to);
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "channel_id", v.ch.id);
    jw_member_str(&j.w, "optimization_mode", v.ch.optimization_mode);
    jw_member_str(&j.w, "objective", v.ch.objective);
    jw_member_str(&j.w, "objective_used", v.objective_used ? v.objective_used : v.ch.objective);
    jw_member_str(&j.w, "objective_scale", opt_objective_scale(v.set.objective));
    jw_member_str(&j.w, "current_persona_id", v.ch.persona_id);
    jw_member_int(&j.w, "min_evidence_days", v.set.min_evidence_days);
    jw_member_str(&j.w, "from", from);
    jw_member_str(&j.w, "to", to);
    jw_member_str(&j.w, "why", v.why);
    jw_key(&j.w, "optimizer");
    jw_obj_begin(&j.w);
    jw_member_str(&j.w, "status", v.ch.optimizer_status);
    jw_member_str(&j.w, "why", v.ch.optimizer_why);
    jw_member_time(&j.w, "checked_at", v.ch.optimizer_checked_at);
    jw_member_time(&j.w, "paused_at", v.ch.optimizer_paused_at);
    jw_obj_end(&j.w);
    jw_key(&j.w, "suggestion");
    if (v.suggestion != NULL)
        row_json_write(&j.w, &opt_suggestion_row, v.suggestion);
    else
        jw_null(&j.w);
    jw_key(&j.w, "personas");
    jw_arr_begin(&j.w);
    for (size_t i = 0; i < v.n; i++) {
        jw_obj_begin(&j.w);
        jw_member_str(&j.w, "persona_id", v.cands[i].persona_id);
        jw_member_int(&j.w, "channel_days", v.cands[i].channel.n);
        jw_member_int(&j.w, "owner_days", v.cands[i].owner.n);
        jw_member_int(&j.w, "global_days", v.cands[i].global.n);
        jw_member_int(&j.w, "generations", v.cands[i].generations);
        jw_member_int(&j.w, "failures", v.cands[i].failures);
        jw_member_bool(&j.w, "usable", v.cands[i].usable);
        jw_member_bool(&j.w, "current", i == v.st.current);
        h_optimizer__real(&j.w, "mean", v.post[i].mean);
        h_optimizer__real(&j.w, "lo95", v.post[i].lo95);
        h_optimizer__real(&j.w, "hi95", v.post[i].hi95);
        h_optimizer__real(&j.w, "p_best", v.post[i].p_best);
        h_optimizer__real(&j.w, "typical", opt_objective_units(v.set.objective, v.post[i].mean));
        h_optimizer__real(&j.w, "typical_lo95",
                          opt_objective_units(v.set.objective, v.post[i].lo95));
        h_optimizer__real(&j.w, "typical_hi95",
                          opt_objective_units(v.set.objective, v.post[i].hi95));
        jw_obj_end(&j.w);
    }
    jw_arr_end(&j.w);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_optimizer__accept(http_request *r)
{
    const principal *p;
    const char *id, *sid;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !(sid = api_uuid_param(r, "sid", "suggestion")) || !api_query_allowed(r, NO_QUERY))
        return;
    opt_suggestion sg;
    channel ch;
    channel_assignment as;
    error e;
    if (optimizer_service_accept(api_conn(r), http_arena(r), p, id, sid, &sg, &ch, &as, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "suggestion");
    row_json_write(&j.w, &opt_suggestion_row, &sg);
    jw_key(&j.w, "channel");
    row_json_write(&j.w, &channel_row, &ch);
    jw_key(&j.w, "assignment");
    row_json_write(&j.w, &channel_assignment_row, &as);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_optimizer__dismiss(http_request *r)
{
    const principal *p;
    const char *id, *sid;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !(sid = api_uuid_param(r, "sid", "suggestion")) || !api_query_allowed(r, NO_QUERY))
        return;
    opt_suggestion sg;
    error e;
    if (optimizer_service_dismiss(api_conn(r), http_arena(r), p, id, sid, &sg, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    row_json_write(&j.w, &opt_suggestion_row, &sg);
    http_reply_written(r, 200, &j);
}

static void h_optimizer__revert(http_request *r)
{
    const principal *p;
    const char *id, *aid;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "channel")) ||
        !(aid = api_uuid_param(r, "aid", "assignment")) || !api_query_allowed(r, NO_QUERY))
        return;
    channel ch;
    channel_assignment as;
    error e;
    if (optimizer_service_revert(api_conn(r), http_arena(r), p, id, aid, &ch, &as, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    jw_key(&j.w, "channel");
    row_json_write(&j.w, &channel_row, &ch);
    jw_key(&j.w, "assignment");
    row_json_write(&j.w, &channel_assignment_row, &as);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

const http_route optimizer_routes[] = {
    {"GET", "/api/v1/channels/{id}/suggestions", h_optimizer__suggestions, "channels.suggestions"},
    {"POST", "/api/v1/channels/{id}/suggestions/{sid}/accept", h_optimizer__accept,
     "channels.suggestion_accept"},
    {"POST", "/api/v1/channels/{id}/suggestions/{sid}/dismiss", h_optimizer__dismiss,
     "channels.suggestion_dismiss"},
    {"POST", "/api/v1/channels/{id}/assignments/{aid}/revert", h_optimizer__revert,
     "channels.assignment_revert"},
};
const size_t optimizer_routes_count = sizeof(optimizer_routes) / sizeof(optimizer_routes[0]);
