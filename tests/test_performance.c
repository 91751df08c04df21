/*
 * Performance by persona (issue 12, decision 77): attribution of channel
 * days through channel_persona_assignments, the figures and their 95 %
 * intervals against hand-computed values, tenancy, the leaderboard and
 * generation health, through the API on a real server.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/analytics_store.h"
#include "domain/performance_store.h"
#include "services/performance_service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct world {
    test_api api;
    char ana[128], ben[128], root[128];
    char ana_id[UUID_STR_LEN + 1], ben_id[UUID_STR_LEN + 1];
    char p[UUID_STR_LEN + 1], q[UUID_STR_LEN + 1], s[UUID_STR_LEN + 1];
    char c1[UUID_STR_LEN + 1], c2[UUID_STR_LEN + 1], c3[UUID_STR_LEN + 1], cb[UUID_STR_LEN + 1];
} world;

static void text_of(world *w, const char *sql, char *out)
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL(sql);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s", de.message);
    if (db_step(s, &de) != DB_ROW)
        fail_msg("no row: %s", sql);
    snprintf(out, UUID_STR_LEN + 1, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
}

static int64_t at(const char *rfc3339)
{
    int64_t t;
    if (!time_parse(rfc3339, &t))
        fail_msg("bad time %s", rfc3339);
    return t;
}

/* Logs persona_id (NULL: none) on the channel at the instant given, and
 * makes it the channel's persona: call in time order. */
static void assign(world *w, const char *channel_id, const char *persona_id, const char *when)
{
    db_error de;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO channel_persona_assignments (id, channel_id, user_id, "
                     "persona_id, source, created_at) VALUES ($1, $2, (SELECT user_id FROM "
                     "channels WHERE id = $2), $3, 'manual', $4)",
                     "ssst", id, channel_id, persona_id, at(when)) != 0 ||
        testdb_execf(&w->api.t, &de, "UPDATE channels SET persona_id = $2 WHERE id = $1", "ss",
                     channel_id, persona_id) != 0)
        fail_msg("assign: %s", de.message);
}

/* A DAY row (retention < 0: none; ctr < 0: none) and its week's rollup, as
 * the collector writes them. */
static void day(world *w, const char *channel_id, const char *date, int64_t views, double wtm,
                double retention, double ctr, int64_t gained, int64_t lost)
{
    analytics_row r = {0};
    uuid_v7(r.id);
    snprintf(r.channel_id, sizeof(r.channel_id), "%s", channel_id);
    db_conn *c = db_acquire(w->api.t.db);
    error e;
    db_sql q = DB_SQL("SELECT user_id FROM channels WHERE id = $1");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    db_bind_text(s, 1, channel_id);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(r.user_id, sizeof(r.user_id), "%s", db_col_text(s, 0));
    db_reset(s);
    snprintf(r.date, sizeof(r.date), "%s", date);
    r.period = ANALYTICS_DAY;
    r.views = views;
    r.watch_time_minutes = wtm;
    r.avg_view_duration_seconds = -1;
    r.avg_retention = retention;
    r.avg_ctr = -1;
    r.impressions = -1;
    r.subscribers_gained = gained;
    r.subscribers_lost = lost;
    r.created_at = r.updated_at = time_now_usec();
    bool changed;
    if (analytics_store_upsert_day(c, &r, &changed, &e) != 0)
        fail_msg("upsert: %s", e.message);
    db_release(c);
    if (ctr >= 0 &&
        testdb_execf(&w->api.t, &de,
                     "UPDATE channel_analytics SET avg_ctr = $3, impressions = 1000 WHERE "
                     "channel_id = $1 AND date = $2 AND period = 'DAY'",
                     "ssd", channel_id, date, ctr) != 0)
        fail_msg("ctr: %s", de.message);
    int64_t d;
    assert_true(time_day_parse(date, &d));
    c = db_acquire(w->api.t.db);
    if (analytics_store_rollup_week(c, r.user_id, channel_id, time_day_monday(d), time_now_usec(),
                                    &e) != 0)
        fail_msg("rollup: %s", e.message);
    db_release(c);
}

static void usage(world *w, const char *user_id, const char *persona_id, int success,
                  int64_t duration, const char *when)
{
    db_error de;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO persona_usage_logs (id, persona_id, user_id, action, success, "
                     "duration_ms, created_at) VALUES ($1, $2, $3, 'script', $4, $5, $6)",
                     "sssbit", id, persona_id, user_id, success, duration, at(when)) != 0)
        fail_msg("usage: %s", de.message);
}

/*
 * Ana: personas P and Q (hers, private) and the SYSTEM persona S.
 *  - c1: P from 03-01 12:00, Q from 03-05 15:00 (mid-day switch);
 *    days 03-03..03-07 with 10, 20, 30, 40, 50 views: P gets 03-03 and
 *    03-04, Q gets 03-05 (active at its end), 03-06 and 03-07.
 *  - c2: first assignment P at 03-04 10:00; days 03-02 and 03-03 (1000
 *    views each) are unattributed; 03-04 (60) and 03-05 (70) are P's.
 *  - c3: S from 03-01; 03-04 with 100 views.
 * Ben: cb on S from 03-01; 03-04 with 1000 views.
 */
static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    test_signup(&w->api, "ana@example.com", w->ana);
    test_signup(&w->api, "ben@example.com", w->ben);
    test_signup(&w->api, "root@example.com", w->root);
    test_make_admin(&w->api, "root@example.com");
    text_of(w, "SELECT id FROM users WHERE email = 'ana@example.com'", w->ana_id);
    text_of(w, "SELECT id FROM users WHERE email = 'ben@example.com'", w->ben_id);
    text_of(w, "SELECT id FROM personas WHERE type = 'SYSTEM' ORDER BY id LIMIT 1", w->s);
    fixture_persona(&w->api.t, w->ana_id, w->p);
    fixture_persona(&w->api.t, w->ana_id, w->q);
    fixture_channel(&w->api.t, w->ana_id, "UC-c1", NULL, w->c1);
    fixture_channel(&w->api.t, w->ana_id, "UC-c2", NULL, w->c2);
    fixture_channel(&w->api.t, w->ana_id, "UC-c3", NULL, w->c3);
    fixture_channel(&w->api.t, w->ben_id, "UC-cb", NULL, w->cb);
    assign(w, w->c1, w->p, "2026-03-01T12:00:00Z");
    assign(w, w->c3, w->s, "2026-03-01T12:00:00Z");
    assign(w, w->cb, w->s, "2026-03-01T12:00:00Z");
    assign(w, w->c2, w->p, "2026-03-04T10:00:00Z");
    assign(w, w->c1, w->q, "2026-03-05T15:00:00Z");
    /* P's days: views 10, 20, 60, 70; watch minutes per view 0.5, 1, 1.5, 2;
     * retention 40, 50 (two days have none); CTR 5 on one day; net
     * subscribers 2, -2, 5, 0. */
    day(w, w->c1, "2026-03-03", 10, 5, 40, 5, 3, 1);
    day(w, w->c1, "2026-03-04", 20, 20, 50, -1, 0, 2);
    day(w, w->c2, "2026-03-04", 60, 90, -1, -1, 5, 0);
    day(w, w->c2, "2026-03-05", 70, 140, -1, -1, 1, 1);
    /* Q's days: views 30, 40, 50; CTR 8 on one day. */
    day(w, w->c1, "2026-03-05", 30, 30, 45, 8, 0, 0);
    day(w, w->c1, "2026-03-06", 40, 40, 45, -1, 0, 0);
    day(w, w->c1, "2026-03-07", 50, 50, 45, -1, 0, 0);
    /* Unattributed: before c2's first assignment. */
    day(w, w->c2, "2026-03-02", 1000, 1000, -1, -1, 0, 0);
    day(w, w->c2, "2026-03-03", 1000, 1000, -1, -1, 0, 0);
    day(w, w->c3, "2026-03-04", 100, 100, -1, -1, 0, 0);
    day(w, w->cb, "2026-03-04", 1000, 1000, -1, -1, 0, 0);
    /* Generation: P by Ana in range 100..500 ms, one failure; one outside. */
    usage(w, w->ana_id, w->p, 1, 300, "2026-03-02T08:00:00Z");
    usage(w, w->ana_id, w->p, 1, 100, "2026-03-03T08:00:00Z");
    usage(w, w->ana_id, w->p, 0, 500, "2026-03-04T08:00:00Z");
    usage(w, w->ana_id, w->p, 1, 200, "2026-03-05T08:00:00Z");
    usage(w, w->ana_id, w->p, 1, 400, "2026-03-07T23:59:59Z");
    usage(w, w->ana_id, w->p, 1, 9999, "2026-03-08T00:00:00Z");
    usage(w, w->ana_id, w->s, 1, 50, "2026-03-04T08:00:00Z");
    usage(w, w->ben_id, w->s, 0, 70, "2026-03-04T09:00:00Z");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    test_api_stop(&w->api);
    test_free(w);
    return 0;
}

#define RANGE "from=2026-03-01&to=2026-03-07"

static json_t *get(world *w, const char *token, const char *path, test_resp *r)
{
    *r = test_req(&w->api, "GET", path, token, NULL, NULL);
    test_expect(r, 200, NULL);
    assert_non_null(r->json);
    return r->json;
}

static json_t *perf(world *w, const char *token, const char *persona, test_resp *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance?" RANGE, persona);
    return get(w, token, path, r);
}

#define NEAR(x, y) assert_true(fabs((x) - (y)) < 1e-3)

/* Asserts one metric: n, mean (NaN: null) and the interval's half-width
 * (NaN: no interval). */
static void metric(json_t *j, const char *name, int64_t n, double mean, double half)
{
    json_t *m = json_object_get(json_object_get(j, "metrics"), name);
    if (m == NULL)
        fail_msg("no metric %s", name);
    assert_int_equal(json_integer_value(json_object_get(m, "n")), n);
    json_t *mu = json_object_get(m, "mean"), *ci = json_object_get(m, "ci95");
    if (isnan(mean)) {
        assert_true(json_is_null(mu));
    } else {
        NEAR(json_number_value(mu), mean);
    }
    if (isnan(half)) {
        assert_true(json_is_null(ci));
    } else {
        assert_int_equal(json_array_size(ci), 2);
        NEAR(json_number_value(json_array_get(ci, 0)), mean - half);
        NEAR(json_number_value(json_array_get(ci, 1)), mean + half);
    }
}

static int64_t days_of(json_t *j)
{
    return json_integer_value(json_object_get(j, "channel_days"));
}

static void test_a_channel_switched_mid_range_splits_its_days_exactly_at_the_switch(void **state)
{
    world *w = *state;
    test_resp r;
    /* Q takes c1 from the switch day on (the persona active at its end). */
    json_t *j = perf(w, w->ana, w->q, &r);
    assert_int_equal(days_of(j), 3);
    metric(j, "views_per_day", 3, 40, 4.303 * 10 / sqrt(3));
    test_resp_free(&r);
    /* Only one day of the range: the switch day belongs to Q, the day before to P. */
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance?from=2026-03-05&to=2026-03-05",
             w->q);
    j = get(w, w->ana, path, &r);
    assert_int_equal(days_of(j), 1);
    metric(j, "views_per_day", 1, 30, NAN);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance?from=2026-03-04&to=2026-03-04",
             w->q);
    j = get(w, w->ana, path, &r);
    assert_int_equal(days_of(j), 0);
    metric(j, "views_per_day", 0, NAN, NAN);
    test_resp_free(&r);
    /* An assignment made at midnight exactly owns the day it starts, not the
     * day before: c4's 03-09 is unattributed, 03-10 is Q's. */
    char c4[UUID_STR_LEN + 1];
    fixture_channel(&w->api.t, w->ana_id, "UC-c4", NULL, c4);
    assign(w, c4, w->q, "2026-03-10T00:00:00Z");
    day(w, c4, "2026-03-09", 7, 7, -1, -1, 0, 0);
    day(w, c4, "2026-03-10", 9, 9, -1, -1, 0, 0);
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance?from=2026-03-09&to=2026-03-10",
             w->q);
    j = get(w, w->ana, path, &r);
    assert_int_equal(days_of(j), 1);
    metric(j, "views_per_day", 1, 9, NAN);
    test_resp_free(&r);
}

static void
test_figures_are_the_hand_computed_means_and_intervals_without_unattributed_days(void **state)
{
    world *w = *state;
    test_resp r;
    json_t *j = perf(w, w->ana, w->p, &r);
    assert_string_equal(json_string_value(json_object_get(j, "from")), "2026-03-01");
    assert_string_equal(json_string_value(json_object_get(j, "to")), "2026-03-07");
    /* c2's two days before its first assignment count nowhere. */
    assert_int_equal(days_of(j), 4);
    /* views 10, 20, 60, 70: mean 40, s^2 = 2600 / 3, t(3) = 3.182 */
    metric(j, "views_per_day", 4, 40, 3.182 * sqrt(2600.0 / 3 / 4));
    /* 0.5, 1, 1.5, 2: mean 1.25, s^2 = 1.25 / 3 */
    metric(j, "watch_minutes_per_view", 4, 1.25, 3.182 * sqrt(1.25 / 3 / 4));
    /* 40, 50: mean 45, s^2 = 50, t(1) = 12.706 */
    metric(j, "average_view_percentage", 2, 45, 12.706 * sqrt(50.0 / 2));
    metric(j, "ctr", 1, 5, NAN);
    /* 2, -2, 5, 0: mean 1.25, s^2 = (0.5625 + 10.5625 + 14.0625 + 1.5625) / 3 */
    metric(j, "subscribers_net", 4, 1.25, 3.182 * sqrt(26.75 / 3 / 4));
    test_resp_free(&r);
}

static void test_generation_health_counts_the_range_with_nearest_rank_percentiles(void **state)
{
    world *w = *state;
    test_resp r;
    json_t *g = json_object_get(perf(w, w->ana, w->p, &r), "generation");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 5);
    assert_int_equal(json_integer_value(json_object_get(g, "successes")), 4);
    NEAR(json_number_value(json_object_get(g, "success_rate")), 0.8);
    assert_int_equal(json_integer_value(json_object_get(g, "p50_duration_ms")), 300);
    assert_int_equal(json_integer_value(json_object_get(g, "p95_duration_ms")), 500);
    test_resp_free(&r);
    /* S: Ana sees her own log only; the admin both. */
    g = json_object_get(perf(w, w->ana, w->s, &r), "generation");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(g, "p95_duration_ms")), 50);
    test_resp_free(&r);
    g = json_object_get(perf(w, w->root, w->s, &r), "generation");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(g, "successes")), 1);
    assert_int_equal(json_integer_value(json_object_get(g, "p50_duration_ms")), 50);
    assert_int_equal(json_integer_value(json_object_get(g, "p95_duration_ms")), 70);
    test_resp_free(&r);
    /* No logs: nulls, not zeros. */
    g = json_object_get(perf(w, w->ana, w->q, &r), "generation");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 0);
    assert_true(json_is_null(json_object_get(g, "success_rate")));
    assert_true(json_is_null(json_object_get(g, "p50_duration_ms")));
    test_resp_free(&r);
}

static void test_other_users_channels_never_count_and_admins_see_all(void **state)
{
    world *w = *state;
    test_resp r;
    json_t *j = perf(w, w->ana, w->s, &r);
    assert_int_equal(days_of(j), 1);
    metric(j, "views_per_day", 1, 100, NAN);
    test_resp_free(&r);
    j = perf(w, w->ben, w->s, &r);
    assert_int_equal(days_of(j), 1);
    metric(j, "views_per_day", 1, 1000, NAN);
    test_resp_free(&r);
    j = perf(w, w->root, w->s, &r);
    assert_int_equal(days_of(j), 2);
    metric(j, "views_per_day", 2, 550, 12.706 * 450);
    test_resp_free(&r);
    /* Ana's private persona is not Ben's to read. */
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance", w->p);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    /* Ben's leaderboard has S alone, with his day. */
    j = get(w, w->ben, "/api/v1/analytics/leaderboard?" RANGE, &r);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "persona_id")),
                        w->s);
    assert_null(strstr(r.body, w->p));
    test_resp_free(&r);
}

static const char *rank_id(json_t *j, size_t i)
{
    json_t *it = json_array_get(json_object_get(j, "items"), i);
    assert_int_equal(json_integer_value(json_object_get(it, "rank")), (int64_t)i + 1);
    return json_string_value(json_object_get(it, "persona_id"));
}

static void test_the_leaderboard_ranks_by_the_chosen_metric(void **state)
{
    world *w = *state;
    test_resp r;
    /* views: S 100; P and Q 40, P on more channel-days. */
    json_t *j = get(w, w->ana, "/api/v1/analytics/leaderboard?" RANGE, &r);
    assert_string_equal(json_string_value(json_object_get(j, "metric")), "views_per_day");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
    assert_string_equal(rank_id(j, 0), w->s);
    assert_string_equal(rank_id(j, 1), w->p);
    assert_string_equal(rank_id(j, 2), w->q);
    metric(json_array_get(json_object_get(j, "items"), 1), "views_per_day", 4, 40,
           3.182 * sqrt(2600.0 / 3 / 4));
    test_resp_free(&r);
    /* CTR: Q 8, P 5, S none (last). */
    j = get(w, w->ana, "/api/v1/analytics/leaderboard?" RANGE "&metric=ctr", &r);
    assert_string_equal(rank_id(j, 0), w->q);
    assert_string_equal(rank_id(j, 1), w->p);
    assert_string_equal(rank_id(j, 2), w->s);
    test_resp_free(&r);
    /* The admin's counts Ben's day: S at 550. */
    j = get(w, w->root, "/api/v1/analytics/leaderboard?" RANGE, &r);
    assert_string_equal(rank_id(j, 0), w->s);
    assert_int_equal(days_of(json_array_get(json_object_get(j, "items"), 0)), 2);
    test_resp_free(&r);
}

static json_t *item_of(json_t *j, const char *persona_id)
{
    json_t *items = json_object_get(j, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(it, "persona_id")), persona_id) == 0)
            return it;
    }
    fail_msg("persona %s is not on the leaderboard", persona_id);
    return NULL;
}

static void health(json_t *item, int64_t count, int64_t successes, int64_t p50, int64_t p95)
{
    json_t *g = json_object_get(item, "generation");
    assert_non_null(g);
    assert_int_equal(json_integer_value(json_object_get(g, "count")), count);
    assert_int_equal(json_integer_value(json_object_get(g, "successes")), successes);
    NEAR(json_number_value(json_object_get(g, "success_rate")), (double)successes / (double)count);
    assert_int_equal(json_integer_value(json_object_get(g, "p50_duration_ms")), p50);
    assert_int_equal(json_integer_value(json_object_get(g, "p95_duration_ms")), p95);
}

static const char *name_of(world *w, const char *persona_id, char *out)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT name FROM personas WHERE id = '%s'", persona_id);
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL(sql);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL || db_step(s, &de) != DB_ROW)
        fail_msg("no persona %s", persona_id);
    snprintf(out, 128, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
    return out;
}

static void test_the_leaderboard_names_visible_personas_with_their_generation_health(void **state)
{
    world *w = *state;
    test_resp r;
    char pname[128], sname[128];
    name_of(w, w->p, pname);
    name_of(w, w->s, sname);
    json_t *j = get(w, w->ana, "/api/v1/analytics/leaderboard?" RANGE, &r);
    /* Ana's own logs: P's five in range (one failed; 9999 ms is after it). */
    json_t *it = item_of(j, w->p);
    assert_string_equal(json_string_value(json_object_get(it, "name")), pname);
    health(it, 5, 4, 300, 500);
    it = item_of(j, w->s);
    assert_string_equal(json_string_value(json_object_get(it, "name")), sname);
    health(it, 1, 1, 50, 50);
    /* Q has channel-days but no logs: nulls, not zeros. */
    json_t *g = json_object_get(item_of(j, w->q), "generation");
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 0);
    assert_true(json_is_null(json_object_get(g, "success_rate")));
    assert_true(json_is_null(json_object_get(g, "p95_duration_ms")));
    test_resp_free(&r);
    /* Ben sees his own log of S only, never Ana's. */
    j = get(w, w->ben, "/api/v1/analytics/leaderboard?" RANGE, &r);
    health(item_of(j, w->s), 1, 0, 70, 70);
    test_resp_free(&r);
    /* The admin: everyone's logs. */
    j = get(w, w->root, "/api/v1/analytics/leaderboard?" RANGE, &r);
    health(item_of(j, w->s), 2, 1, 50, 70);
    health(item_of(j, w->p), 5, 4, 300, 500);
    test_resp_free(&r);
}

/* Ana's private P on a channel of Ben's (it was public when he chose it):
 * his figures and logs count for P on his board, but P's name is not his
 * to read, exactly as GET /personas/{id} answers 404. */
static void test_a_persona_the_caller_cannot_see_is_listed_by_id_with_no_name(void **state)
{
    world *w = *state;
    char cb2[UUID_STR_LEN + 1], pname[128];
    name_of(w, w->p, pname);
    fixture_channel(&w->api.t, w->ben_id, "UC-cb2", NULL, cb2);
    assign(w, cb2, w->p, "2026-03-01T00:00:00Z");
    day(w, cb2, "2026-03-06", 5000, 5000, -1, -1, 0, 0);
    usage(w, w->ben_id, w->p, 1, 1234, "2026-03-06T10:00:00Z");
    test_resp r;
    json_t *j = get(w, w->ben, "/api/v1/analytics/leaderboard?" RANGE, &r);
    json_t *it = item_of(j, w->p);
    assert_true(json_is_null(json_object_get(it, "name")));
    assert_null(strstr(r.body, pname));
    assert_int_equal(days_of(it), 1);
    metric(it, "views_per_day", 1, 5000, NAN);
    health(it, 1, 1, 1234, 1234);
    test_resp_free(&r);
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/personas/%s", w->p);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    /* Ana's board is untouched by Ben's channel and log, and names P. */
    j = get(w, w->ana, "/api/v1/analytics/leaderboard?" RANGE, &r);
    it = item_of(j, w->p);
    assert_string_equal(json_string_value(json_object_get(it, "name")), pname);
    assert_int_equal(days_of(it), 4);
    health(it, 5, 4, 300, 500);
    test_resp_free(&r);
    /* The admin counts both channels; a private persona of another user is
     * no more visible to an admin than to anyone (GET /personas/{id}). */
    j = get(w, w->root, "/api/v1/analytics/leaderboard?" RANGE, &r);
    it = item_of(j, w->p);
    assert_int_equal(days_of(it), 5);
    health(it, 6, 5, 300, 1234);
    assert_true(json_is_null(json_object_get(it, "name")));
    test_resp_free(&r);
    r = test_req(&w->api, "GET", path, w->root, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    /* Archived (deleted while in use): its owner still reads it, so her
     * board still names it; Ben's still does not. */
    r = test_req(&w->api, "DELETE", path, w->ana, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    j = get(w, w->ana, "/api/v1/analytics/leaderboard?" RANGE, &r);
    assert_string_equal(json_string_value(json_object_get(item_of(j, w->p), "name")), pname);
    test_resp_free(&r);
    j = get(w, w->ben, "/api/v1/analytics/leaderboard?" RANGE, &r);
    assert_true(json_is_null(json_object_get(item_of(j, w->p), "name")));
    test_resp_free(&r);
}

static void test_bad_metric_and_ranges_are_422(void **state)
{
    world *w = *state;
    const char *bad[] = {
        "/api/v1/analytics/leaderboard?metric=likes",
        "/api/v1/analytics/leaderboard?from=2026-02-30",
        "/api/v1/analytics/leaderboard?from=2026-03-08&to=2026-03-07",
        "/api/v1/analytics/leaderboard?from=2020-01-01&to=2026-03-07",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        test_resp r = test_req(&w->api, "GET", bad[i], w->ana, NULL, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
    }
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/personas/%s/performance?to=tomorrow", w->p);
    test_resp r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    /* Defaults: the 28 days ending yesterday. */
    r = test_req(&w->api, "GET", "/api/v1/analytics/leaderboard", w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    char want[TIME_DAY_STR_LEN + 1];
    time_day_format(time_day_of(time_now_usec()) - 1, want);
    assert_string_equal(json_string_value(json_object_get(r.json, "to")), want);
    time_day_format(time_day_of(time_now_usec()) - 28, want);
    assert_string_equal(json_string_value(json_object_get(r.json, "from")), want);
    test_resp_free(&r);
}

/* ---- the roll-ups (decision 81) ------------------------------------------------ */

static int64_t count_of(world *w, const char *sql)
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL(sql);
    int64_t n;
    error e;
    if (db_int64(c, &q, DB_NOARGS, &n, &e) != 0)
        fail_msg("%s: %s", sql, e.message);
    db_release(c);
    return n;
}

/* Runs the job's work until no date is dirty; how many dates it did. */
static int64_t rollup(world *w)
{
    db_conn *c = db_acquire(w->api.t.db);
    int64_t dates;
    error e;
    if (performance_service_rollup(c, &dates, &e) != 0)
        fail_msg("rollup: %s", e.message);
    db_release(c);
    assert_int_equal(count_of(w, "SELECT count(*) FROM perf_dirty_days"), 0);
    return dates;
}

static int by_id(const void *x, const void *y)
{
    return strcmp(((const perf_group *)x)->persona_id, ((const perf_group *)y)->persona_id);
}

static void same_sum(double got, double want)
{
    if (fabs(got - want) > 1e-9 * (fabs(want) > 1 ? fabs(want) : 1))
        fail_msg("rolled-up sum %.17g, raw %.17g", got, want);
}

/* Every user's figures, through the roll-ups, equal the raw computation:
 * counts exactly, sums to rounding (they are added in another order), the
 * generation health exactly; per persona and for the whole board, over
 * from..to. Returns how many personas had figures. */
static size_t same_as_raw(world *w, const char *from, const char *to)
{
    int64_t f, t;
    assert_true(time_day_parse(from, &f));
    assert_true(time_day_parse(to, &t));
    db_conn *c = db_acquire(w->api.t.db);
    arena a;
    arena_init(&a, 1 << 14);
    perf_group *got, *want;
    size_t n_got, n_want;
    error e;
    if (perf_store_by_persona(c, &a, NULL, NULL, f, t, &got, &n_got, &e) != 0 ||
        perf_store_by_persona_raw(c, &a, NULL, NULL, f, t, &want, &n_want, &e) != 0)
        fail_msg("read: %s", e.message);
    assert_int_equal(n_got, n_want);
    qsort(got, n_got, sizeof(*got), by_id);
    qsort(want, n_want, sizeof(*want), by_id);
    for (size_t i = 0; i < n_want; i++) {
        assert_string_equal(got[i].persona_id, want[i].persona_id);
        assert_int_equal(got[i].channel_days, want[i].channel_days);
        for (int m = 0; m < PERF_METRICS; m++) {
            assert_int_equal(got[i].m[m].n, want[i].m[m].n);
            same_sum(got[i].m[m].sum, want[i].m[m].sum);
            same_sum(got[i].m[m].sumsq, want[i].m[m].sumsq);
        }
        perf_group *one;
        size_t n_one;
        if (perf_store_by_persona(c, &a, NULL, want[i].persona_id, f, t, &one, &n_one, &e) != 0)
            fail_msg("read: %s", e.message);
        assert_int_equal(n_one, 1);
        assert_int_equal(one->channel_days, want[i].channel_days);
        same_sum(one->m[PERF_VIEWS_PER_DAY].sum, want[i].m[PERF_VIEWS_PER_DAY].sum);
    }
    const char *personas[] = {w->p, w->q, w->s};
    for (int i = 0; i < 3; i++) {
        perf_health hg, hw;
        if (perf_store_health(c, NULL, personas[i], f, t, &hg, &e) != 0 ||
            perf_store_health_raw(c, NULL, personas[i], f, t, &hw, &e) != 0)
            fail_msg("health: %s", e.message);
        assert_int_equal(hg.count, hw.count);
        assert_int_equal(hg.successes, hw.successes);
        assert_int_equal(hg.p50_ms, hw.p50_ms);
        assert_int_equal(hg.p95_ms, hw.p95_ms);
    }
    arena_free(&a);
    db_release(c);
    return n_want;
}

/* Checks the figures while the dates are dirty (raw rows read for them),
 * then after the job (roll-ups read), over the fixture's range and one day. */
static void check_both_ways(world *w)
{
    assert_true(same_as_raw(w, "2026-03-01", "2026-03-10") > 0);
    same_as_raw(w, "2026-03-05", "2026-03-05");
    rollup(w);
    assert_true(same_as_raw(w, "2026-03-01", "2026-03-10") > 0);
    same_as_raw(w, "2026-03-05", "2026-03-05");
}

static void test_rolled_up_figures_equal_the_raw_computation_after_every_kind_of_write(void **state)
{
    world *w = *state;
    /* The fixture's writes marked their dates: nothing is rolled up yet. */
    assert_true(count_of(w, "SELECT count(*) FROM perf_dirty_days") > 0);
    assert_int_equal(count_of(w, "SELECT count(*) FROM perf_persona_days"), 0);
    check_both_ways(w);
    /* The job wrote roll-ups: the reads below use them. */
    assert_true(count_of(w, "SELECT count(*) FROM perf_persona_days") > 0);
    assert_true(count_of(w, "SELECT count(*) FROM perf_health_days") > 0);
    assert_int_equal(rollup(w), 0);

    /* A daily upsert of a new day, and one of a day already rolled up. */
    day(w, w->c3, "2026-03-06", 120, 150, 33, 4, 2, 0);
    day(w, w->c2, "2026-03-05", 70, 140, -1, -1, 1, 1); /* the same values: no change */
    check_both_ways(w);
    /* A revision from Google overwrites a rolled-up day. */
    day(w, w->c1, "2026-03-04", 25, 30, 55, 6, 1, 0);
    assert_true(count_of(w, "SELECT count(*) FROM perf_dirty_days WHERE date = '2026-03-04'") == 1);
    check_both_ways(w);
    /* A switch: c3 goes from S to Q mid-day on 03-06. */
    assign(w, w->c3, w->q, "2026-03-06T09:30:00Z");
    check_both_ways(w);
    /* A late, back-dated assignment (the API writes none; an operator or a
     * repair could): c2 was on S from 03-02, which makes its two
     * unattributed days S's, days rolled up long ago. Its UUIDv7 carries
     * its time, so it sorts before the later assignments as ids do. */
    db_error de;
    char id[UUID_STR_LEN + 1], ms[16];
    uuid_v7(id);
    snprintf(ms, sizeof(ms), "%012llx", (unsigned long long)(at("2026-03-02T00:00:00Z") / 1000));
    memcpy(id, ms, 8);
    memcpy(id + 9, ms + 8, 4);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO channel_persona_assignments (id, channel_id, user_id, "
                     "persona_id, source, created_at) VALUES ($1, $2, $3, $4, 'manual', $5)",
                     "sssst", id, w->c2, w->ana_id, w->s, at("2026-03-02T00:00:00Z")) != 0)
        fail_msg("late assignment: %s", de.message);
    check_both_ways(w);
    /* The Studio CSV import over rolled-up days: a revision and a new day. */
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/import", w->c3);
    const char *const headers[] = {"Content-Type: text/csv", NULL};
    test_resp r = test_req(&w->api, "POST", path, w->ana,
                           "Date,Views,Watch time (hours),Average percentage viewed (%),"
                           "Impressions,Impressions click-through rate (%)\n"
                           "2026-03-04,400,10.5,41.5,9000,3.5\n"
                           "2026-03-07,90,2.25,50.0,1000,9.0\n",
                           headers);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "imported")), 2);
    test_resp_free(&r);
    check_both_ways(w);
    /* Usage logs on a rolled-up day, many durations in one bucket and
     * beyond: the percentiles stay exact. */
    for (int i = 0; i < 40; i++)
        usage(w, i % 3 ? w->ana_id : w->ben_id, w->s, i % 7 != 0, 1000 + 3 * i + (i % 5) * 200,
              "2026-03-05T12:00:00Z");
    check_both_ways(w);
    /* A user's deletion takes his channels, days and logs with it. */
    if (testdb_execf(&w->api.t, &de, "DELETE FROM users WHERE id = $1", "s", w->ben_id) != 0)
        fail_msg("delete: %s", de.message);
    check_both_ways(w);
    /* A persona's deletion: its assignments name no persona, its days count nowhere. */
    if (testdb_execf(&w->api.t, &de, "DELETE FROM personas WHERE id = $1", "s", w->q) != 0)
        fail_msg("delete: %s", de.message);
    check_both_ways(w);
}

static void test_duration_buckets_are_ordered_and_narrower_than_a_64th(void **state)
{
    (void)state;
    int prev = -1;
    for (int64_t ms = 0; ms < 2000000; ms += ms < 5000 ? 1 : 997) {
        int key = perf_hist_key(ms);
        assert_true(key >= prev && key < PERF_HIST_KEYS);
        prev = key;
        int64_t lo, hi;
        perf_hist_bounds(key, &lo, &hi);
        assert_true(lo <= ms && ms <= hi);
        assert_true((hi - lo) * 64 <= lo);
        if (ms < 128)
            assert_true(lo == ms && hi == ms);
    }
    int64_t lo, hi;
    perf_hist_bounds(perf_hist_key(INT32_MAX), &lo, &hi);
    assert_true(lo <= INT32_MAX && INT32_MAX <= hi);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_channel_switched_mid_range_splits_its_days_exactly_at_the_switch),
        T(test_figures_are_the_hand_computed_means_and_intervals_without_unattributed_days),
        T(test_generation_health_counts_the_range_with_nearest_rank_percentiles),
        T(test_other_users_channels_never_count_and_admins_see_all),
        T(test_the_leaderboard_ranks_by_the_chosen_metric),
        T(test_the_leaderboard_names_visible_personas_with_their_generation_health),
        T(test_a_persona_the_caller_cannot_see_is_listed_by_id_with_no_name),
        T(test_bad_metric_and_ranges_are_422),
        T(test_rolled_up_figures_equal_the_raw_computation_after_every_kind_of_write),
        cmocka_unit_test(test_duration_buckets_are_ordered_and_narrower_than_a_64th),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
