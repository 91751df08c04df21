/*
 * The optimization loop around the model (issue 13): suggestions and their
 * evidence, accept and dismiss, revert and its pause, and the daily run's
 * rules (evidence minimum, cooldown, one row per switch, idempotence, no
 * switch on stale data), on a real server and database. The model itself
 * (services/optimizer_model.c) has its own tests and simulator; here the
 * data make its answer plain: one persona is far better, with many days.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/analytics_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/optimizer_service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USEC_PER_DAY INT64_C(86400000000)

typedef struct world {
    test_api api;
    char tok[128], other[128];
    char uid[UUID_STR_LEN + 1];
    char good[UUID_STR_LEN + 1], poor[UUID_STR_LEN + 1]; /* the owner's personas */
    char channel[UUID_STR_LEN + 1];
    int64_t today;
    bool no_reach; /* days() writes no impressions or CTR */
} world;

static void scalar_text(world *w, char *out, size_t n, const char *sql, const char *arg)
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL(sql);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s", de.message);
    if (arg)
        db_bind_text(s, 1, arg);
    if (db_step(s, &de) != DB_ROW)
        fail_msg("no row: %s", sql);
    const char *v = db_col_text(s, 0);
    snprintf(out, n, "%s", v ? v : "");
    db_reset(s);
    db_release(c);
}

static int64_t count1(world *w, const char *sql, const char *arg)
{
    char v[64];
    scalar_text(w, v, sizeof(v), sql, arg);
    return strtoll(v, NULL, 10);
}

static void make_persona(world *w, const char *tok, const char *name, const char *extra, char *out)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"system_instruction\":\"Speak as %s.\"%s%s}",
             name, name, extra ? "," : "", extra ? extra : "");
    test_resp r = test_req(&w->api, "POST", "/api/v1/personas", tok, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(out, UUID_STR_LEN + 1, "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

/* Logs persona_id on the channel at the start of `day` (days since the
 * epoch) and makes it the channel's persona: call in time order. */
static void assign_on(world *w, const char *channel_id, const char *persona_id, int64_t day)
{
    db_error de;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO channel_persona_assignments (id, channel_id, user_id, "
                     "persona_id, persona_version, source, created_at) VALUES ($1, $2, (SELECT "
                     "user_id FROM channels WHERE id = $2), $3, 1, 'manual', $4)",
                     "ssst", id, channel_id, persona_id, day * USEC_PER_DAY) != 0 ||
        testdb_execf(&w->api.t, &de, "UPDATE channels SET persona_id = $2 WHERE id = $1", "ss",
                     channel_id, persona_id) != 0)
        fail_msg("assign: %s", de.message);
}

static void assign_at(world *w, const char *persona_id, int64_t day)
{
    assign_on(w, w->channel, persona_id, day);
}

/* DAY rows from..to (days) for the channel, with impressions, through the
 * store (the WEEK rollups with them). */
static void days_on(world *w, const char *channel_id, int64_t from, int64_t to, int64_t views,
                    double watch_minutes)
{
    char user[UUID_STR_LEN + 1];
    scalar_text(w, user, sizeof(user), "SELECT user_id FROM channels WHERE id = $1", channel_id);
    db_conn *c = db_acquire(w->api.t.db);
    for (int64_t d = from; d <= to; d++) {
        analytics_row r = {0};
        uuid_v7(r.id);
        snprintf(r.channel_id, sizeof(r.channel_id), "%s", channel_id);
        snprintf(r.user_id, sizeof(r.user_id), "%s", user);
        time_day_format(d, r.date);
        r.period = ANALYTICS_DAY;
        /* A little spread, so the variance is not zero. */
        r.views = views + (d % 3) * (views / 20);
        r.watch_time_minutes = watch_minutes * (1.0 + 0.03 * (double)(d % 5));
        r.avg_view_duration_seconds = -1;
        r.avg_retention = -1;
        r.avg_ctr = w->no_reach ? -1 : 5.0;
        r.impressions = w->no_reach ? -1 : 10000;
        r.created_at = r.updated_at = time_now_usec();
        bool changed;
        error e;
        if (analytics_store_upsert_day_reach(c, &r, &changed, &e) != 0)
            fail_msg("day: %s", e.message);
    }
    for (int64_t m = time_day_monday(from); m <= to; m += 7) {
        error e;
        if (analytics_store_rollup_week(c, user, channel_id, m, time_now_usec(), &e) != 0)
            fail_msg("week: %s", e.message);
    }
    db_release(c);
}

static void days(world *w, int64_t from, int64_t to, int64_t views, double watch_minutes)
{
    days_on(w, w->channel, from, to, views, watch_minutes);
}

static void new_channel(world *w, const char *tok, const char *yt, char *out)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"youtube_channel_id\":\"%s\",\"name\":\"%s\"}", yt, yt);
    test_resp r = test_req(&w->api, "POST", "/api/v1/channels", tok, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(out, UUID_STR_LEN + 1, "%s", json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    test_signup(&w->api, "ana@example.com", w->tok);
    test_signup(&w->api, "ben@example.com", w->other);
    scalar_text(w, w->uid, sizeof(w->uid), "SELECT id FROM users WHERE email = $1",
                "ana@example.com");
    /* The starter personas stay out of Ana's choice (above her plan), so
     * the data alone decide. */
    testdb_exec(&w->api.t, "UPDATE personas SET required_plan = 'pro' WHERE type = 'SYSTEM'");
    make_persona(w, w->tok, "Good", NULL, w->good);
    make_persona(w, w->tok, "Poor", NULL, w->poor);
    test_resp r = test_req(&w->api, "POST", "/api/v1/channels", w->tok,
                           "{\"youtube_channel_id\":\"UCopt\",\"name\":\"Opt\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(w->channel, sizeof(w->channel), "%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    w->today = time_day_of(time_now_usec());
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

/* Good ran the channel for 30 days, far better; then Poor since `poor_from`
 * days ago, up to yesterday. */
static void history(world *w, int64_t poor_from)
{
    int64_t t = w->today;
    assign_at(w, w->good, t - poor_from - 30);
    days(w, t - poor_from - 30, t - poor_from - 1, 1000, 4000.0);
    assign_at(w, w->poor, t - poor_from);
    days(w, t - poor_from, t - 1, 1000, 1000.0);
}

static void set_mode(world *w, const char *mode)
{
    char path[128], body[64];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", w->channel);
    snprintf(body, sizeof(body), "{\"optimization_mode\":\"%s\"}", mode);
    test_resp r = test_req(&w->api, "PATCH", path, w->tok, body, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "optimization_mode")), mode);
    assert_true(json_is_boolean(json_object_get(r.json, "auto_optimize")));
    assert_int_equal(json_is_true(json_object_get(r.json, "auto_optimize")),
                     strcmp(mode, "auto") == 0);
    test_resp_free(&r);
}

static optimizer_run run(world *w)
{
    db_conn *c = db_acquire(w->api.t.db);
    arena a;
    arena_init(&a, 4096);
    optimizer_run out;
    error e;
    if (optimizer_service_run_channel(&w->api.svc, c, &a, w->uid, w->channel, w->today, &out, &e) !=
        0)
        fail_msg("run: %s", e.message);
    static char why[400], status[32];
    snprintf(why, sizeof(why), "%s", out.why ? out.why : "");
    snprintf(status, sizeof(status), "%s", out.status ? out.status : "");
    out.why = why;
    out.status = status;
    arena_free(&a);
    db_release(c);
    return out;
}

static int64_t optimizer_rows(world *w)
{
    return count1(w,
                  "SELECT count(*) FROM channel_persona_assignments WHERE channel_id = $1 AND "
                  "source = 'optimizer'",
                  w->channel);
}

static test_resp get_suggestions(world *w)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/suggestions", w->channel);
    return test_req(&w->api, "GET", path, w->tok, NULL, NULL);
}

static void test_a_switch_writes_exactly_one_assignment_row_with_its_evidence(void **state)
{
    world *w = *state;
    history(w, 30);
    set_mode(w, "auto");
    optimizer_run o = run(w);
    assert_true(o.switched);
    assert_true(strcmp(o.status, "switched") == 0 || strcmp(o.status, "explored") == 0);
    assert_int_equal(optimizer_rows(w), 1);
    char persona[64], ev[8192];
    scalar_text(w, persona, sizeof(persona), "SELECT persona_id FROM channels WHERE id = $1",
                w->channel);
    assert_string_equal(persona, w->good);
    scalar_text(w, ev, sizeof(ev),
                "SELECT evidence FROM channel_persona_assignments WHERE source = 'optimizer' AND "
                "channel_id = $1",
                w->channel);
    json_t *doc = json_loads(ev, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "action")), "switch");
    assert_string_equal(json_string_value(json_object_get(doc, "best_persona_id")), w->good);
    json_t *ps = json_object_get(doc, "personas");
    assert_int_equal(json_array_size(ps), 2);
    size_t i;
    json_t *p;
    json_array_foreach(ps, i, p)
    {
        bool good = strcmp(json_string_value(json_object_get(p, "persona_id")), w->good) == 0;
        assert_int_equal(json_integer_value(json_object_get(p, "channel_days")), 30);
        assert_int_equal(json_is_true(json_object_get(p, "current")), !good);
    }
    json_decref(doc);
    /* The timeline shows it with its evidence. */
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/assignments", w->channel);
    test_resp r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "source")), "optimizer");
    assert_true(json_is_object(json_object_get(first, "evidence")));
    test_resp_free(&r);
    /* The owner's audit trail has the switch as the system's (issue 17). */
    r = test_req(&w->api, "GET", "/api/v1/audit?action=channel.persona_switched", w->tok, NULL,
                 NULL);
    test_expect(&r, 200, NULL);
    json_t *event = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(event);
    assert_string_equal(json_string_value(json_object_get(event, "actor_kind")), "system");
    assert_true(json_is_null(json_object_get(event, "actor_user_id")));
    assert_true(json_is_null(json_object_get(event, "client_ip")));
    assert_string_equal(json_string_value(json_object_get(event, "object_id")), w->channel);
    json_t *d = json_object_get(event, "detail");
    assert_string_equal(json_string_value(json_object_get(d, "source")), "optimizer");
    assert_string_equal(json_string_value(json_object_get(d, "to")), w->good);
    test_resp_free(&r);
}

static void test_the_daily_run_is_idempotent(void **state)
{
    world *w = *state;
    history(w, 30);
    set_mode(w, "auto");
    optimizer_run o1 = run(w);
    assert_true(o1.switched);
    optimizer_run o2 = run(w);
    assert_false(o2.switched);
    assert_string_equal(o2.status, "stayed");
    assert_int_equal(optimizer_rows(w), 1);
    /* The daily sweep queues one run per channel in auto mode, once a day. */
    db_conn *c = db_acquire(w->api.t.db);
    optimizer_service_register_jobs(&w->api.svc);
    error e;
    char id[UUID_STR_LEN + 1];
    job_options opt = {.unique_key = "optimizer-test-sweep"};
    json_t *payload = json_object();
    assert_int_equal(job_enqueue(c, OPTIMIZER_JOB_RUN_ALL, payload, &opt, id, &e), 0);
    json_decref(payload);
    db_release(c);
    assert_int_equal(job_work_one(w->api.t.db, "test", &e), 1);
    assert_int_equal(count1(w, "SELECT count(*) FROM jobs WHERE kind = $1", OPTIMIZER_JOB_RUN), 1);
    /* The queued run, made due now, is a third run of the day: it completes
     * and switches nothing more. */
    db_error de;
    if (testdb_execf(&w->api.t, &de, "UPDATE jobs SET run_at = $2 WHERE kind = $1", "st",
                     OPTIMIZER_JOB_RUN, time_now_usec() - 1000000) != 0)
        fail_msg("%s", de.message);
    assert_int_equal(job_work_one(w->api.t.db, "test", &e), 1);
    assert_int_equal(count1(w, "SELECT count(*) FROM jobs WHERE kind = $1 AND status = 'done'",
                            OPTIMIZER_JOB_RUN),
                     1);
    assert_int_equal(optimizer_rows(w), 1);
    job_unregister_all();
}

static void test_no_switch_below_the_evidence_minimum(void **state)
{
    world *w = *state;
    history(w, 5); /* Poor: 5 channel-days */
    set_mode(w, "auto");
    w->api.svc.optimizer_min_evidence_days = 14;
    w->api.svc.optimizer_cooldown_days = 1;
    optimizer_run o = run(w);
    assert_false(o.switched);
    assert_int_equal(optimizer_rows(w), 0);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "suggestion")));
    test_resp_free(&r);
    /* The same data past a lower minimum: now it switches. */
    w->api.svc.optimizer_min_evidence_days = 5;
    o = run(w);
    assert_true(o.switched);
    assert_int_equal(optimizer_rows(w), 1);
}

static void test_cooldown_is_respected(void **state)
{
    world *w = *state;
    history(w, 5);
    set_mode(w, "auto");
    w->api.svc.optimizer_min_evidence_days = 5;
    w->api.svc.optimizer_cooldown_days = 7; /* the last switch was 5 days ago */
    optimizer_run o = run(w);
    assert_false(o.switched);
    assert_int_equal(optimizer_rows(w), 0);
    w->api.svc.optimizer_cooldown_days = 5;
    o = run(w);
    assert_true(o.switched);
    assert_int_equal(optimizer_rows(w), 1);
}

static void test_stale_data_waits_with_a_reason(void **state)
{
    world *w = *state;
    int64_t t = w->today;
    assign_at(w, w->good, t - 60);
    days(w, t - 60, t - 31, 1000, 4000.0);
    assign_at(w, w->poor, t - 30);
    days(w, t - 30, t - 5, 1000, 1000.0); /* the last day is 5 days old */
    set_mode(w, "auto");
    optimizer_run o = run(w);
    assert_false(o.switched);
    assert_string_equal(o.status, "waiting");
    assert_non_null(strstr(o.why, "stale"));
    assert_int_equal(optimizer_rows(w), 0);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    json_t *opt = json_object_get(r.json, "optimizer");
    assert_string_equal(json_string_value(json_object_get(opt, "status")), "waiting");
    assert_non_null(strstr(json_string_value(json_object_get(opt, "why")), "stale"));
    test_resp_free(&r);

    /* Fresh days, but the Google account needs reconnecting: waits too. */
    days(w, t - 4, t - 1, 1000, 1000.0);
    char acc[UUID_STR_LEN + 1];
    uuid_v7(acc);
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO accounts (id, user_id, provider, provider_account_id, email, "
                     "status, created_at, updated_at) VALUES ($1, $2, 'google', 'g-ana', "
                     "'ana@example.com', 'needs_reconnect', $3, $3)",
                     "sst", acc, w->uid, time_now_usec()) != 0 ||
        testdb_execf(&w->api.t, &de, "UPDATE channels SET account_id = $2 WHERE id = $1", "ss",
                     w->channel, acc) != 0)
        fail_msg("account: %s", de.message);
    o = run(w);
    assert_false(o.switched);
    assert_string_equal(o.status, "waiting");
    assert_non_null(strstr(o.why, "reconnect"));
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", w->channel);
    r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "optimizer_status")), "waiting");
    test_resp_free(&r);
    assert_int_equal(optimizer_rows(w), 0);
}

static void test_revert_restores_and_pauses_until_reenabled(void **state)
{
    world *w = *state;
    history(w, 30);
    set_mode(w, "auto");
    optimizer_run o = run(w);
    assert_true(o.switched);
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/assignments/%s/revert", w->channel,
             o.assignment_id);
    test_resp r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *ch = json_object_get(r.json, "channel");
    assert_string_equal(json_string_value(json_object_get(ch, "persona_id")), w->poor);
    assert_true(json_is_string(json_object_get(ch, "optimizer_paused_at")));
    json_t *as = json_object_get(r.json, "assignment");
    assert_string_equal(json_string_value(json_object_get(as, "source")), "manual");
    assert_string_equal(json_string_value(json_object_get(as, "persona_id")), w->poor);
    assert_string_equal(json_string_value(json_object_get(as, "previous_persona_id")), w->good);
    test_resp_free(&r);
    /* Reverting it again: it is no longer the latest. */
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 409, NULL);
    test_resp_free(&r);
    /* Paused: the daily run leaves the channel alone. */
    o = run(w);
    assert_false(o.switched);
    assert_string_equal(o.status, "paused");
    assert_int_equal(optimizer_rows(w), 1);
    /* Set again, the pause ends (the cooldown still holds today). */
    set_mode(w, "auto");
    char paused[64];
    scalar_text(w, paused, sizeof(paused),
                "SELECT count(*) FROM channels WHERE id = $1 AND optimizer_paused_at IS NULL",
                w->channel);
    assert_string_equal(paused, "1");
    o = run(w);
    assert_string_not_equal(o.status, "paused");
}

static void test_suggestion_accept_is_a_manual_switch_citing_it(void **state)
{
    world *w = *state;
    history(w, 30);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    json_t *s = json_object_get(r.json, "suggestion");
    if (!json_is_object(s))
        fail_msg("no suggestion: %s", r.body);
    assert_string_equal(json_string_value(json_object_get(s, "persona_id")), w->good);
    assert_string_equal(json_string_value(json_object_get(s, "current_persona_id")), w->poor);
    assert_true(json_real_value(json_object_get(s, "p_beats_current")) > 0.5);
    assert_true(json_real_value(json_object_get(s, "uplift")) > 0.0);
    assert_int_equal(json_integer_value(json_object_get(s, "proposed_days")), 30);
    assert_int_equal(json_array_size(json_object_get(r.json, "personas")), 2);
    char sid[UUID_STR_LEN + 1];
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(s, "id")));
    test_resp_free(&r);
    /* Asking again offers the same suggestion, not a new one. */
    r = get_suggestions(w);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "suggestion"), "id")), sid);
    test_resp_free(&r);
    char path[200];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/suggestions/%s/accept", w->channel, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *as = json_object_get(r.json, "assignment");
    assert_string_equal(json_string_value(json_object_get(as, "source")), "manual");
    assert_string_equal(json_string_value(json_object_get(as, "suggestion_id")), sid);
    assert_true(json_is_object(json_object_get(as, "evidence")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "channel"), "persona_id")),
        w->good);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "suggestion"), "state")),
        "accepted");
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 409, NULL);
    test_resp_free(&r);
    /* One event, the owner's manual switch citing the suggestion (issue 17). */
    r = test_req(&w->api, "GET", "/api/v1/audit?action=channel.persona_switched", w->tok, NULL,
                 NULL);
    test_expect(&r, 200, NULL);
    json_t *ev = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "actor_kind")), "user");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ev, "detail"), "suggestion_id")), sid);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "detail"), "source")),
                        "manual");
    test_resp_free(&r);
}

static void test_a_dismissed_suggestion_stays_dismissed_until_the_evidence_changes(void **state)
{
    world *w = *state;
    int64_t t = w->today;
    assign_at(w, w->good, t - 70);
    days(w, t - 70, t - 41, 1000, 4000.0);
    assign_at(w, w->poor, t - 40);
    days(w, t - 40, t - 21, 1000, 1000.0); /* 20 days so far; more come below */
    test_resp r = get_suggestions(w);
    json_t *s = json_object_get(r.json, "suggestion");
    if (!json_is_object(s))
        fail_msg("no suggestion: %s", r.body);
    char sid[UUID_STR_LEN + 1], path[200];
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(s, "id")));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/suggestions/%s/dismiss", w->channel, sid);
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "dismissed");
    test_resp_free(&r);
    r = get_suggestions(w);
    assert_true(json_is_null(json_object_get(r.json, "suggestion")));
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "why")), "dismissed"));
    test_resp_free(&r);
    /* Three more days (50 -> 53 channel-days): not material. */
    days(w, t - 20, t - 18, 1000, 1000.0);
    r = get_suggestions(w);
    assert_true(json_is_null(json_object_get(r.json, "suggestion")));
    test_resp_free(&r);
    /* Twelve more (65): material, so the proposal is back as a new suggestion. */
    days(w, t - 17, t - 6, 1000, 1000.0);
    r = get_suggestions(w);
    s = json_object_get(r.json, "suggestion");
    if (!json_is_object(s))
        fail_msg("no suggestion after new evidence: %s", r.body);
    assert_string_not_equal(json_string_value(json_object_get(s, "id")), sid);
    assert_string_equal(json_string_value(json_object_get(s, "persona_id")), w->good);
    test_resp_free(&r);
    /* Dismissing twice is a conflict. */
    r = test_req(&w->api, "POST", path, w->tok, NULL, NULL);
    test_expect(&r, 409, NULL);
    test_resp_free(&r);
}

/* The channel's history holds personas its owner may not use now (another
 * user's private one, one above the plan, an archived one), each with the
 * best figures: none is offered, listed or switched to. */
static void test_suggestions_offer_only_personas_the_owner_may_use(void **state)
{
    world *w = *state;
    int64_t t = w->today;
    char private_other[UUID_STR_LEN + 1], pro[UUID_STR_LEN + 1], archived[UUID_STR_LEN + 1];
    make_persona(w, w->other, "Ben's own", "\"visibility\":\"PRIVATE\"", private_other);
    make_persona(w, w->other, "Pro only", "\"visibility\":\"PUBLIC\"", pro);
    db_error de;
    if (testdb_execf(&w->api.t, &de, "UPDATE personas SET required_plan = 'pro' WHERE id = $1", "s",
                     pro) != 0)
        fail_msg("%s", de.message);
    make_persona(w, w->tok, "Archived", NULL, archived);
    /* Each unusable persona has the best figures on the channel. */
    assign_at(w, private_other, t - 90);
    days(w, t - 90, t - 71, 1000, 9000.0);
    assign_at(w, pro, t - 70);
    days(w, t - 70, t - 51, 1000, 9000.0);
    assign_at(w, archived, t - 50);
    days(w, t - 50, t - 31, 1000, 9000.0);
    testdb_execf(&w->api.t, &de, "UPDATE personas SET archived_at = created_at WHERE id = $1", "s",
                 archived);
    assign_at(w, w->good, t - 30);
    days(w, t - 30, t - 16, 1000, 4000.0);
    assign_at(w, w->poor, t - 15);
    days(w, t - 15, t - 1, 1000, 1000.0);
    w->api.svc.optimizer_min_evidence_days = 10;
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    const char *unusable[] = {private_other, pro, archived, NULL};
    for (int i = 0; unusable[i]; i++)
        if (strstr(r.body, unusable[i]))
            fail_msg("an unusable persona is offered or listed: %s", r.body);
    json_t *s = json_object_get(r.json, "suggestion");
    if (!json_is_object(s))
        fail_msg("no suggestion: %s", r.body);
    assert_string_equal(json_string_value(json_object_get(s, "persona_id")), w->good);
    test_resp_free(&r);
    /* Nor does auto mode switch to one. */
    set_mode(w, "auto");
    w->api.svc.optimizer_cooldown_days = 1;
    optimizer_run o = run(w);
    char persona[64];
    scalar_text(w, persona, sizeof(persona), "SELECT persona_id FROM channels WHERE id = $1",
                w->channel);
    for (int i = 0; unusable[i]; i++)
        assert_string_not_equal(persona, unusable[i]);
    (void)o;
}

static void test_patch_sets_mode_and_objective_and_checks_them(void **state)
{
    world *w = *state;
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", w->channel);
    test_resp r = test_req(&w->api, "GET", path, w->tok, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "optimization_mode")), "suggest");
    assert_string_equal(json_string_value(json_object_get(r.json, "objective")),
                        "watch_minutes_per_impression");
    test_resp_free(&r);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"objective\":\"views_per_day\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "objective")), "views_per_day");
    test_resp_free(&r);
    /* The legacy alias. */
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"auto_optimize\":true}", NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "optimization_mode")), "auto");
    test_resp_free(&r);
    r = test_req(&w->api, "PATCH", path, w->tok, "{\"auto_optimize\":false}", NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "optimization_mode")), "suggest");
    test_resp_free(&r);
    const char *bad[] = {"{\"optimization_mode\":\"sometimes\"}", "{\"objective\":\"likes\"}",
                         "{\"optimization_mode\":\"off\",\"auto_optimize\":true}",
                         "{\"optimization_mode\":3}", NULL};
    for (int i = 0; bad[i]; i++) {
        r = test_req(&w->api, "PATCH", path, w->tok, bad[i], NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
    }
    set_mode(w, "off");
    r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "suggestion")));
    test_resp_free(&r);
}

static void test_another_users_suggestion_and_assignment_are_404(void **state)
{
    world *w = *state;
    history(w, 30);
    test_resp r = get_suggestions(w);
    char sid[UUID_STR_LEN + 1], aid[UUID_STR_LEN + 1], path[200];
    snprintf(sid, sizeof(sid), "%s",
             json_string_value(json_object_get(json_object_get(r.json, "suggestion"), "id")));
    test_resp_free(&r);
    scalar_text(w, aid, sizeof(aid),
                "SELECT id FROM channel_persona_assignments WHERE channel_id = $1 ORDER BY "
                "created_at DESC LIMIT 1",
                w->channel);
    /* Ben's own channel, with A's suggestion and assignment ids in the path. */
    r = test_req(&w->api, "POST", "/api/v1/channels", w->other,
                 "{\"youtube_channel_id\":\"UCben\",\"name\":\"Ben\"}", NULL);
    char ben_channel[UUID_STR_LEN + 1];
    snprintf(ben_channel, sizeof(ben_channel), "%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    const char *tail[] = {"suggestions/%s/accept", "suggestions/%s/dismiss",
                          "assignments/%s/revert", NULL};
    const char *what[] = {"suggestions", "suggestions", "assignments"};
    const char *verb[] = {"accept", "dismiss", "revert"};
    for (int i = 0; tail[i]; i++) {
        const char *id = i < 2 ? sid : aid;
        snprintf(path, sizeof(path), "/api/v1/channels/%s/%s/%s/%s", ben_channel, what[i], id,
                 verb[i]);
        r = test_req(&w->api, "POST", path, w->other, NULL, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
        snprintf(path, sizeof(path), "/api/v1/channels/%s/%s/%s/%s", w->channel, what[i], id,
                 verb[i]);
        r = test_req(&w->api, "POST", path, w->other, NULL, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
    snprintf(path, sizeof(path), "/api/v1/channels/%s/suggestions", w->channel);
    r = test_req(&w->api, "GET", path, w->other, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count1(w,
                            "SELECT count(*) FROM optimizer_suggestions WHERE state = 'open' "
                            "AND id = $1",
                            sid),
                     1);
}

/* The evidence's pools: the owner's other channels and other users'
 * channels in the same language count a candidate's days where the channel
 * had two personas or more; one persona alone, or another language, adds
 * nothing. */
static void test_pools_count_the_days_the_model_contract_names(void **state)
{
    world *w = *state;
    int64_t t = w->today;
    test_set_plan(&w->api, "ana@example.com", "creator");
    test_set_plan(&w->api, "ben@example.com", "creator");
    history(w, 30);
    char a2[UUID_STR_LEN + 1], a3[UUID_STR_LEN + 1], b1[UUID_STR_LEN + 1], b2[UUID_STR_LEN + 1];
    char bens[UUID_STR_LEN + 1], pt[UUID_STR_LEN + 1];
    new_channel(w, w->tok, "UCa2", a2);
    new_channel(w, w->tok, "UCa3", a3);
    new_channel(w, w->other, "UCb1", b1);
    new_channel(w, w->other, "UCb2", b2);
    make_persona(w, w->other, "Ben's", NULL, bens);
    make_persona(w, w->other, "Ben's pt", "\"language\":\"pt-BR\"", pt);
    /* Ana's second channel: Good 10 days, Poor 10 days. */
    assign_on(w, a2, w->good, t - 20);
    days_on(w, a2, t - 20, t - 11, 500, 1500.0);
    assign_on(w, a2, w->poor, t - 10);
    days_on(w, a2, t - 10, t - 1, 500, 600.0);
    /* Ana's third: Good alone. */
    assign_on(w, a3, w->good, t - 12);
    days_on(w, a3, t - 12, t - 1, 500, 1500.0);
    /* Ben's, in English: Good 8 days, then his own persona. */
    assign_on(w, b1, w->good, t - 16);
    days_on(w, b1, t - 16, t - 9, 500, 1500.0);
    assign_on(w, b1, bens, t - 8);
    days_on(w, b1, t - 8, t - 1, 500, 900.0);
    /* Ben's, in Portuguese: Good and Poor, not counted. */
    assign_on(w, b2, w->good, t - 10);
    days_on(w, b2, t - 10, t - 6, 500, 1500.0);
    assign_on(w, b2, w->poor, t - 5);
    days_on(w, b2, t - 5, t - 4, 500, 900.0);
    assign_on(w, b2, pt, t - 3);
    days_on(w, b2, t - 3, t - 1, 500, 900.0);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    json_t *ps = json_object_get(r.json, "personas");
    size_t i;
    json_t *p;
    int seen = 0;
    json_array_foreach(ps, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "persona_id"));
        int64_t owner = json_integer_value(json_object_get(p, "owner_days"));
        int64_t global = json_integer_value(json_object_get(p, "global_days"));
        if (strcmp(id, w->good) == 0) {
            assert_int_equal(owner, 10);
            assert_int_equal(global, 8);
            seen++;
        } else if (strcmp(id, w->poor) == 0) {
            assert_int_equal(owner, 10);
            assert_int_equal(global, 0);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    test_resp_free(&r);
}

/* Per-video attribution gives a channel-day a persona per video besides the
 * assigned one, so a channel in the pool can hold more personas over the
 * window than the window has days (decision 159). Ana's second channel:
 * Good assigned for 60 days, and 120 published videos by 120 other
 * personas, one each, two a day. The suggestions still answer, and Good's
 * owner days are the 60 of the channel's rest. */
static void test_a_pool_channel_with_more_personas_than_days(void **state)
{
    world *w = *state;
    int64_t t = w->today;
    test_set_plan(&w->api, "ana@example.com", "creator");
    history(w, 30);
    char a2[UUID_STR_LEN + 1];
    new_channel(w, w->tok, "UCa2", a2);
    assign_on(w, a2, w->good, t - 60);
    days_on(w, a2, t - 60, t - 1, 500, 1500.0);
    enum { VIDEO_PERSONAS = 120 };
    for (int k = 0; k < VIDEO_PERSONAS; k++) {
        char persona[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1], id[UUID_STR_LEN + 1];
        char video[16], date[16];
        fixture_persona(&w->api.t, w->uid, persona);
        fixture_project(&w->api.t, w->uid, a2, persona, project);
        uuid_v7(id);
        snprintf(video, sizeof(video), "vid%03d", k);
        time_day_format(t - 1 - k % 60, date);
        db_error de;
        if (testdb_execf(&w->api.t, &de,
                         "INSERT INTO video_analytics (id, project_id, channel_id, user_id, "
                         "youtube_video_id, persona_id, persona_version, date, views, likes, "
                         "comments, shares, watch_time_minutes, subscribers_gained, "
                         "subscribers_lost, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
                         "$6, NULL, $7, 10, 0, 0, 0, 30, 0, 0, $8, $8)",
                         "ssssssst", id, project, a2, w->uid, video, persona, date,
                         time_now_usec()) != 0)
            fail_msg("video day: %s", de.message);
    }
    assert_true(count1(w,
                       "SELECT count(DISTINCT persona_id) FROM video_analytics WHERE channel_id = $1",
                       a2) == VIDEO_PERSONAS);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    json_t *ps = json_object_get(r.json, "personas");
    size_t i;
    json_t *p;
    bool seen = false;
    json_array_foreach(ps, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "persona_id")), w->good) != 0)
            continue;
        assert_int_equal(json_integer_value(json_object_get(p, "owner_days")), 60);
        seen = true;
    }
    assert_true(seen);
    test_resp_free(&r);
}

/* Without impressions the default objective cannot be computed: the figures
 * fall back to views per day, and the answer says so. */
static void test_missing_impressions_name_the_objective_used_instead(void **state)
{
    world *w = *state;
    w->no_reach = true;
    int64_t t = w->today;
    assign_at(w, w->good, t - 60);
    days(w, t - 60, t - 31, 3000, 1000.0); /* more views, same watch time */
    assign_at(w, w->poor, t - 30);
    days(w, t - 30, t - 1, 1000, 1000.0);
    test_resp r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "objective")),
                        "watch_minutes_per_impression");
    assert_string_equal(json_string_value(json_object_get(r.json, "objective_used")),
                        "views_per_day");
    json_t *s = json_object_get(r.json, "suggestion");
    if (!json_is_object(s))
        fail_msg("no suggestion: %s", r.body);
    assert_string_equal(json_string_value(json_object_get(s, "persona_id")), w->good);
    assert_string_equal(json_string_value(json_object_get(s, "objective")), "views_per_day");
    test_resp_free(&r);
}

/* Checks a candidate's figures in the objective's units against the model's:
 * typical = map(mean), and the interval's ends the same way. */
static void expect_units(json_t *p, const char *scale)
{
    double mean = json_real_value(json_object_get(p, "mean"));
    double lo = json_real_value(json_object_get(p, "lo95"));
    double hi = json_real_value(json_object_get(p, "hi95"));
    double typ = json_real_value(json_object_get(p, "typical"));
    double tlo = json_real_value(json_object_get(p, "typical_lo95"));
    double thi = json_real_value(json_object_get(p, "typical_hi95"));
    assert_true(json_is_real(json_object_get(p, "typical")));
    bool log_scale = strcmp(scale, "log") == 0;
    assert_true(fabs(typ - (log_scale ? expm1(mean) : mean)) <= 1e-9 * fmax(1.0, fabs(typ)));
    assert_true(fabs(tlo - (log_scale ? expm1(lo) : lo)) <= 1e-9 * fmax(1.0, fabs(tlo)));
    assert_true(fabs(thi - (log_scale ? expm1(hi) : hi)) <= 1e-9 * fmax(1.0, fabs(thi)));
    assert_true(tlo < typ && typ < thi);
}

/* Views per day are modelled as log(1 + views): the answer says so and
 * gives each candidate's figures back in views per day as well (about 1,000
 * a day here); subscribers net is linear, its figures the same in both. The
 * evidence kept with a suggestion carries the same figures. */
static void test_suggestions_give_figures_in_the_objectives_units(void **state)
{
    world *w = *state;
    history(w, 30);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", w->channel);
    test_resp r =
        test_req(&w->api, "PATCH", path, w->tok, "{\"objective\":\"views_per_day\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "objective_used")),
                        "views_per_day");
    assert_string_equal(json_string_value(json_object_get(r.json, "objective_scale")), "log");
    json_t *ps = json_object_get(r.json, "personas");
    size_t i;
    json_t *p;
    int seen = 0;
    json_array_foreach(ps, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "persona_id"));
        if (strcmp(id, w->good) != 0 && strcmp(id, w->poor) != 0)
            continue;
        expect_units(p, "log");
        /* days() writes 1,000, 1,050 or 1,100 views a day. */
        double typ = json_real_value(json_object_get(p, "typical"));
        assert_true(typ > 900.0 && typ < 1200.0);
        seen++;
    }
    assert_int_equal(seen, 2);
    json_t *sg = json_object_get(r.json, "suggestion");
    if (json_is_object(sg)) {
        json_t *ev = json_object_get(sg, "evidence");
        assert_string_equal(json_string_value(json_object_get(ev, "objective_scale")), "log");
        json_array_foreach(json_object_get(ev, "personas"), i, p)
        {
            if (json_integer_value(json_object_get(p, "channel_days")) > 0)
                expect_units(p, "log");
        }
    }
    test_resp_free(&r);

    r = test_req(&w->api, "PATCH", path, w->tok, "{\"objective\":\"subscribers_net\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = get_suggestions(w);
    test_expect(&r, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "objective_used")),
                        "subscribers_net");
    assert_string_equal(json_string_value(json_object_get(r.json, "objective_scale")), "linear");
    seen = 0;
    json_array_foreach(json_object_get(r.json, "personas"), i, p)
    {
        if (json_integer_value(json_object_get(p, "channel_days")) == 0)
            continue;
        expect_units(p, "linear");
        seen++;
    }
    assert_int_equal(seen, 2);
    test_resp_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_switch_writes_exactly_one_assignment_row_with_its_evidence),
        T(test_the_daily_run_is_idempotent),
        T(test_no_switch_below_the_evidence_minimum),
        T(test_cooldown_is_respected),
        T(test_stale_data_waits_with_a_reason),
        T(test_revert_restores_and_pauses_until_reenabled),
        T(test_suggestion_accept_is_a_manual_switch_citing_it),
        T(test_a_dismissed_suggestion_stays_dismissed_until_the_evidence_changes),
        T(test_suggestions_offer_only_personas_the_owner_may_use),
        T(test_patch_sets_mode_and_objective_and_checks_them),
        T(test_another_users_suggestion_and_assignment_are_404),
        T(test_pools_count_the_days_the_model_contract_names),
        T(test_a_pool_channel_with_more_personas_than_days),
        T(test_missing_impressions_name_the_objective_used_instead),
        T(test_suggestions_give_figures_in_the_objectives_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
