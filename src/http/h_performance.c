/*
 * Performance by persona (issue 12, decision 77): GET
 * /api/v1/personas/{id}/performance and GET /api/v1/analytics/leaderboard,
 * over the caller's channels (an admin's: everyone's).
 */
#include "base/jsonout.h"
#include "base/timeutil.h"
#include "http/api.h"
#include "http/routes.h"
#include "services/performance_service.h"

static const char *const PERF_QUERY[] = {"from", "to", NULL};
static const char *const BOARD_QUERY[] = {"from", "to", "metric", NULL};

static void h_perf__figure(jw *w, const perf_figure *f)
{
    jw_obj_begin(w);
    jw_member_int(w, "n", f->n);
    jw_key(w, "mean");
    if (f->n > 0)
        jw_real(w, f->mean);
    else
        jw_null(w);
    jw_key(w, "ci95");
    if (f->has_ci) {
        jw_arr_begin(w);
        jw_real(w, f->lo);
        jw_real(w, f->hi);
        jw_arr_end(w);
    } else {
        jw_null(w);
    }
    jw_obj_end(w);
}

static void h_perf__persona(jw *w, const perf_persona *ps)
{
    jw_member_str(w, "persona_id", ps->persona_id);
    jw_member_int(w, "channel_days", ps->channel_days);
    jw_key(w, "metrics");
    jw_obj_begin(w);
    for (int m = 0; m < PERF_METRICS; m++) {
        jw_key(w, perf_metric_names[m]);
        h_perf__figure(w, &ps->f[m]);
    }
    jw_obj_end(w);
}

/* "generation": count, successes, success_rate and the nearest-rank
 * p50/p95 of duration_ms; the rate and the percentiles are null without logs. */
static void h_perf__health(jw *w, const perf_health *h)
{
    jw_key(w, "generation");
    jw_obj_begin(w);
    jw_member_int(w, "count", h->count);
    jw_member_int(w, "successes", h->successes);
    jw_key(w, "success_rate");
    if (h->count > 0)
        jw_real(w, (double)h->successes / (double)h->count);
    else
        jw_null(w);
    jw_key(w, "p50_duration_ms");
    if (h->count > 0)
        jw_int(w, h->p50_ms);
    else
        jw_null(w);
    jw_key(w, "p95_duration_ms");
    if (h->count > 0)
        jw_int(w, h->p95_ms);
    else
        jw_null(w);
    jw_obj_end(w);
}

static void h_perf__range(jw *w, int64_t from, int64_t to)
{
    char f[TIME_DAY_STR_LEN + 1], t[TIME_DAY_STR_LEN + 1];
    time_day_format(from, f);
    time_day_format(to, t);
    jw_member_str(w, "from", f);
    jw_member_str(w, "to", t);
}

static void h_perf__persona_get(http_request *r)
{
    const principal *p;
    const char *id;
    if (!(p = api_auth(r)) || !(id = api_uuid_param(r, "id", "persona")) ||
        !api_query_allowed(r, PERF_QUERY))
        return;
    perf_report rep;
    error e;
    if (performance_service_persona(api_conn(r), http_arena(r), p, id, http_query(r, "from"),
                                    http_query(r, "to"), &rep, &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    h_perf__range(&j.w, rep.from, rep.to);
    h_perf__persona(&j.w, &rep.persona);
    h_perf__health(&j.w, &rep.health);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

static void h_perf__leaderboard(http_request *r)
{
    const principal *p;
    if (!(p = api_auth(r)) || !api_query_allowed(r, BOARD_QUERY))
        return;
    perf_board b;
    error e;
    if (performance_service_leaderboard(api_conn(r), http_arena(r), p, http_query(r, "from"),
                                        http_query(r, "to"), http_query(r, "metric"), &b,
                                        &e) != 0) {
        http_reply_error(r, &e);
        return;
    }
    http_json j;
    http_json_begin(&j);
    jw_obj_begin(&j.w);
    h_perf__range(&j.w, b.from, b.to);
    jw_member_str(&j.w, "metric", perf_metric_names[b.metric]);
    jw_key(&j.w, "items");
    jw_arr_begin(&j.w);
    for (size_t i = 0; i < b.n; i++) {
        jw_obj_begin(&j.w);
        const perf_board_item *it = &b.items[i];
        jw_member_int(&j.w, "rank", (int64_t)i + 1);
        h_perf__persona(&j.w, &it->persona);
        jw_key(&j.w, "name");
        if (it->name != NULL)
            jw_str(&j.w, it->name);
        else
            jw_null(&j.w);
        h_perf__health(&j.w, &it->health);
        jw_obj_end(&j.w);
    }
    jw_arr_end(&j.w);
    jw_obj_end(&j.w);
    http_reply_written(r, 200, &j);
}

const http_route performance_routes[] = {
    {"GET", "/api/v1/personas/{id}/performance", h_perf__persona_get, "personas.performance"},
    {"GET", "/api/v1/analytics/leaderboard", h_perf__leaderboard, "analytics.leaderboard"},
};
const size_t performance_routes_count = sizeof(performance_routes) / sizeof(performance_routes[0]);
