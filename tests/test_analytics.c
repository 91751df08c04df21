/*
 * Daily YouTube analytics (seed flow 4, issue 12): collection from the
 * YouTube Analytics API v2 against a fake Google on loopback
 * (fake_google.c) that speaks its wire format and its failures. What the
 * fake served lands in channel_analytics to the unit, ISO weeks are rolled
 * up from their days in the same transaction, re-runs change nothing,
 * revisions overwrite, backfills resume after a failed chunk with no gap
 * and no double count, quota and rate limits wait for their window, and
 * every route is the owner's alone. The checker (testcheck.c) also proves
 * after every test that each WEEK row equals the rollup of its days.
 */
#include "testlib.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/analytics_store.h"
#include "domain/optimizer_store.h"
#include "domain/performance_store.h"
#include "fake_google.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/analytics_service.h"
#include "services/google_service.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_ID     "pstudio-test.apps.googleusercontent.com"
#define CLIENT_SECRET "GOCSPX-test-client-secret-0123456789"
#define ALICE_1       "UCalice0000000000000001"

typedef struct world {
    test_api api;
    fake_google *fg;
    char key[64];
    char urls[7][256];
    char ana[128], ben[128];
    char ana_cookie[200];
    char account[37], channel[37]; /* ana's Google account and imported channel */
} world;

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    w->fg = fake_google_start(CLIENT_ID, CLIENT_SECRET);
    int fp = w->fg->port;
    snprintf(w->urls[0], sizeof(w->urls[0]), "http://127.0.0.1:%d/o/oauth2/v2/auth", fp);
    snprintf(w->urls[1], sizeof(w->urls[1]), "http://127.0.0.1:%d/token", fp);
    snprintf(w->urls[2], sizeof(w->urls[2]), "http://127.0.0.1:%d/v1/userinfo", fp);
    snprintf(w->urls[3], sizeof(w->urls[3]), "http://127.0.0.1:%d/revoke", fp);
    snprintf(w->urls[4], sizeof(w->urls[4]), "http://127.0.0.1:%d/youtube/v3", fp);
    snprintf(w->urls[5], sizeof(w->urls[5]), "http://127.0.0.1:%d/api/v1/google/callback",
             w->api.port);
    snprintf(w->urls[6], sizeof(w->urls[6]), "http://127.0.0.1:%d", fp);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(w->key, sizeof(w->key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    google_settings *g = &w->api.svc.google;
    g->client_id = CLIENT_ID;
    g->client_secret = CLIENT_SECRET;
    g->auth_url = w->urls[0];
    g->token_url = w->urls[1];
    g->userinfo_url = w->urls[2];
    g->revoke_url = w->urls[3];
    g->youtube_api_url = w->urls[4];
    g->redirect_uri = w->urls[5];
    g->youtube_analytics_url = w->urls[6];
    w->api.svc.secret_key_b64 = w->key;
    test_signup(&w->api, "ana@example.com", w->ana);
    test_signup(&w->api, "ben@example.com", w->ben);
    snprintf(w->ana_cookie, sizeof(w->ana_cookie), "Cookie: pstudio_session=%s", w->ana);
    google_service_register_jobs(&w->api.svc);
    analytics_service_register_jobs(&w->api.svc);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    job_unregister_all();
    job_unschedule_all();
    test_api_stop(&w->api);
    fake_google_stop(w->fg);
    test_free(w);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static int64_t count(world *w, const char *sql)
{
    return testdb_scalar(&w->api.t, sql);
}

static int64_t countf(world *w, const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 2, 0)));
static int64_t countf(world *w, const char *fmt, const char *a, const char *b)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char q[512];
    snprintf(q, sizeof(q), fmt, a, b);
#pragma GCC diagnostic pop
    return count(w, q);
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Connects ana's Google account as the fake's "alice" and imports her first
 * channel (which queues its import backfill). */
static void connect_and_import(world *w)
{
    const char *h[] = {w->ana_cookie, NULL};
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", NULL, NULL, h);
    test_expect(&r, 302, NULL);
    char url[4096];
    assert_true(test_resp_header(&r, "Location", url, sizeof(url)));
    test_resp_free(&r);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    assert_non_null(loc);
    const char *path = strstr(loc, "/api/");
    assert_non_null(path);
    char callback[4096];
    snprintf(callback, sizeof(callback), "%s", path);
    curl_easy_cleanup(c);
    const char *h2[] = {w->ana_cookie, "Accept: application/json", NULL};
    r = test_req(&w->api, "GET", callback, NULL, NULL, h2);
    test_expect(&r, 200, NULL);
    snprintf(w->account, sizeof(w->account), "%s",
             json_string_value(json_object_get(json_object_get(r.json, "account"), "id")));
    test_resp_free(&r);
    char body[256];
    snprintf(body, sizeof(body), "{\"account_id\":\"%s\",\"youtube_channel_ids\":[\"%s\"]}",
             w->account, ALICE_1);
    r = test_req(&w->api, "POST", "/api/v1/channels/import", w->ana, body, NULL);
    test_expect(&r, 200, NULL);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    snprintf(w->channel, sizeof(w->channel), "%s", json_string_value(json_object_get(it, "id")));
    test_resp_free(&r);
}

static void work_one(world *w)
{
    error e;
    int rc = job_work_one(w->api.t.db, "test:1", &e);
    if (rc != 1)
        fail_msg("expected a job to run (%d): %s", rc, rc < 0 ? e.message : "none runnable");
}

static int64_t jobs_of(world *w, const char *kind, const char *status)
{
    return countf(w, "SELECT count(*) FROM jobs WHERE kind = '%s' AND status = '%s'", kind, status);
}

/* Makes every queued job due now, as if its wait were over. */
static void make_due(world *w)
{
    db_error de;
    if (testdb_execf(&w->api.t, &de, "UPDATE jobs SET run_at = $1 WHERE status = 'queued'", "t",
                     time_now_usec() - 1000000) != 0)
        fail_msg("%s", de.message);
}

static void day_text(int64_t day, char out[TIME_DAY_STR_LEN + 1])
{
    time_day_format(day, out);
}

static int64_t yesterday(void)
{
    return time_day_of(time_now_usec()) - 1;
}

/* Queues a daily collect of ana's channel, as the sweep does. */
static void queue_collect(world *w)
{
    json_t *payload = json_pack("{s:s}", "channel_id", w->channel);
    char uid[37];
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL("SELECT user_id FROM channels WHERE id = $1");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    db_bind_text(s, 1, w->channel);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(uid, sizeof(uid), "%s", db_col_text(s, 0));
    db_reset(s);
    job_options o = {.user_id = uid, .max_attempts = 8};
    char id[37];
    error e;
    assert_int_equal(job_enqueue(c, ANALYTICS_JOB_COLLECT, payload, &o, id, &e), 0);
    db_release(c);
    json_decref(payload);
}

/* One stored row of ana's channel, read through the API's JSON. */
static json_t *api_rows(world *w, const char *query, test_resp *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics%s", w->channel, query);
    *r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(r, 200, NULL);
    return json_object_get(r->json, "items");
}

static void expect_day_as_served(json_t *row, int revision)
{
    const char *date = json_string_value(json_object_get(row, "date"));
    fake_analytics_day v;
    fake_google_analytics_day(date, revision, &v);
    assert_string_equal(json_string_value(json_object_get(row, "period")), "DAY");
    assert_int_equal(json_integer_value(json_object_get(row, "views")), v.views);
    assert_int_equal(json_integer_value(json_object_get(row, "likes")), v.likes);
    assert_int_equal(json_integer_value(json_object_get(row, "comments")), v.comments);
    assert_int_equal(json_integer_value(json_object_get(row, "shares")), v.shares);
    assert_true(json_number_value(json_object_get(row, "watch_time_minutes")) == (double)v.minutes);
    assert_true(json_number_value(json_object_get(row, "avg_view_duration_seconds")) ==
                (double)v.duration);
    assert_true(json_number_value(json_object_get(row, "avg_retention")) == v.percentage);
    assert_int_equal(json_integer_value(json_object_get(row, "subscribers_gained")), v.gained);
    assert_int_equal(json_integer_value(json_object_get(row, "subscribers_lost")), v.lost);
    assert_true(json_is_null(json_object_get(row, "avg_ctr")));
    assert_true(json_is_null(json_object_get(row, "impressions")));
}

/* The week starting monday as the fake's days make it, over the days
 * from..to that were stored. */
static void expect_week_as_served(json_t *row, int64_t first, int64_t last, int revision)
{
    int64_t monday;
    assert_true(time_day_parse(json_string_value(json_object_get(row, "date")), &monday));
    assert_int_equal(time_day_monday(monday), monday);
    long long views = 0, likes = 0, minutes = 0, gained = 0;
    double ret = 0, dur = 0;
    for (int64_t d = monday; d < monday + 7; d++) {
        if (d < first || d > last)
            continue;
        char date[TIME_DAY_STR_LEN + 1];
        day_text(d, date);
        fake_analytics_day v;
        fake_google_analytics_day(date, revision, &v);
        views += v.views;
        likes += v.likes;
        minutes += v.minutes;
        gained += v.gained;
        ret += v.percentage * (double)v.views;
        dur += (double)v.duration * (double)v.views;
    }
    assert_string_equal(json_string_value(json_object_get(row, "period")), "WEEK");
    assert_int_equal(json_integer_value(json_object_get(row, "views")), views);
    assert_int_equal(json_integer_value(json_object_get(row, "likes")), likes);
    assert_int_equal(json_integer_value(json_object_get(row, "subscribers_gained")), gained);
    assert_true(json_number_value(json_object_get(row, "watch_time_minutes")) == (double)minutes);
    assert_true(fabs(json_number_value(json_object_get(row, "avg_retention")) - ret / views) <
                1e-9);
    assert_true(fabs(json_number_value(json_object_get(row, "avg_view_duration_seconds")) -
                     dur / views) < 1e-9);
    assert_true(json_is_null(json_object_get(row, "avg_ctr")));
}

/* ---- collection ------------------------------------------------------------------ */

static void
test_the_import_backfill_stores_what_youtube_served_to_the_unit_with_iso_weeks_rolled_up(
    void **state)
{
    world *w = *state;
    connect_and_import(w);
    /* Importing queued the last 90 days once; importing again adds nothing. */
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "queued"), 1);
    char body[256];
    snprintf(body, sizeof(body), "{\"account_id\":\"%s\",\"youtube_channel_ids\":[\"%s\"]}",
             w->account, ALICE_1);
    test_resp r = test_req(&w->api, "POST", "/api/v1/channels/import", w->ana, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill'"), 1);

    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    /* In chunks of 30 days, oldest first. */
    int64_t last = yesterday(), first = last - 89;
    char want[24], f[11], t[11];
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->analytics_calls, 3);
    for (int k = 0; k < 3; k++) {
        day_text(first + 30 * k, f);
        day_text(first + 30 * k + 29, t);
        snprintf(want, sizeof(want), "%s..%s", f, t);
        assert_string_equal(w->fg->analytics_ranges[k], want);
    }
    assert_string_equal(w->fg->analytics_bad_query, "");
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);
    assert_int_equal(count(w, "SELECT count(*) FROM analytics_backfills WHERE next_date IS NULL"),
                     1);

    day_text(first, f);
    day_text(last, t);
    char q[64];
    snprintf(q, sizeof(q), "?from=%s&to=%s", f, t);
    json_t *items = api_rows(w, q, &r);
    assert_int_equal(json_array_size(items), 90);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        char d[11];
        day_text(first + (int64_t)i, d);
        assert_string_equal(json_string_value(json_object_get(row, "date")), d);
        expect_day_as_served(row, 0);
    }
    test_resp_free(&r);

    /* Every ISO week the 90 days touch, the partial first and last included. */
    char mon[11];
    day_text(time_day_monday(first), mon);
    snprintf(q, sizeof(q), "?period=WEEK&from=%s&to=%s", mon, t);
    items = api_rows(w, q, &r);
    int64_t weeks = (time_day_monday(last) - time_day_monday(first)) / 7 + 1;
    assert_int_equal((int64_t)json_array_size(items), weeks);
    json_array_foreach(items, i, row)
    {
        expect_week_as_served(row, first, last, 0);
    }
    test_resp_free(&r);
}

static void test_a_rerun_changes_nothing_and_a_revised_day_overwrites_its_row_and_week(void **state)
{
    world *w = *state;
    connect_and_import(w);
    work_one(w);
    int64_t before = count(w, "SELECT count(*) FROM channel_analytics");

    /* The daily run fetches from the last stored day less 2; the same
     * numbers change nothing, not even updated_at. */
    int64_t t0 = time_now_usec();
    queue_collect(w);
    work_one(w);
    int64_t last = yesterday();
    char f[11], t[11], want[24];
    day_text(last - 2, f);
    day_text(last, t);
    snprintf(want, sizeof(want), "%s..%s", f, t);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->analytics_calls, 4);
    assert_string_equal(w->fg->analytics_ranges[3], want);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), before);
    char tt[TIME_STR_LEN + 1], q[256];
    time_format(t0, tt);
    snprintf(q, sizeof(q), "SELECT count(*) FROM channel_analytics WHERE updated_at >= '%s'", tt);
    assert_int_equal(count(w, q), 0);

    /* Google revises its last days: those rows and their weeks take the new
     * numbers; older days stay as they were. */
    fake_google_lock(w->fg);
    w->fg->analytics_revision = 7;
    fake_google_unlock(w->fg);
    queue_collect(w);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), before);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM channel_analytics WHERE period = 'DAY' AND updated_at >= '%s'",
             tt);
    assert_int_equal(count(w, q), 3);
    test_resp r;
    char rng[64], first_t[11];
    day_text(last - 89, first_t);
    snprintf(rng, sizeof(rng), "?from=%s&to=%s", first_t, t);
    json_t *items = api_rows(w, rng, &r);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        expect_day_as_served(row, i >= 87 ? 7 : 0);
    }
    test_resp_free(&r);
    /* The last week holds revised and unrevised days alike. */
    char mon[11];
    day_text(time_day_monday(last), mon);
    snprintf(rng, sizeof(rng), "?period=WEEK&from=%s&to=%s", mon, t);
    items = api_rows(w, rng, &r);
    assert_int_equal(json_array_size(items), 1);
    row = json_array_get(items, 0);
    long long views = 0;
    for (int64_t d = time_day_monday(last); d <= last; d++) {
        char date[11];
        day_text(d, date);
        fake_analytics_day v;
        fake_google_analytics_day(date, d >= last - 2 ? 7 : 0, &v);
        views += d >= last - 89 ? v.views : 0;
    }
    assert_int_equal(json_integer_value(json_object_get(row, "views")), views);
    test_resp_free(&r);
}

/* The store alone: a week is the rollup of its days, across an ISO week
 * boundary (a Sunday and the Monday after it), with weighted means and an
 * impression-weighted CTR that is NULL without impressions. */
typedef struct store_tx {
    analytics_row *rows;
    size_t n;
    int64_t mondays[2];
} store_tx;

static int store_body(db_conn *c, void *arg, error *err)
{
    store_tx *tx = arg;
    for (size_t i = 0; i < tx->n; i++) {
        bool changed;
        if (analytics_store_upsert_day(c, &tx->rows[i], &changed, err) != 0)
            return -1;
    }
    for (int k = 0; k < 2; k++)
        if (analytics_store_rollup_week(c, tx->rows[0].user_id, tx->rows[0].channel_id,
                                        tx->mondays[k], time_now_usec(), err) != 0)
            return -1;
    return 0;
}

static analytics_row day_row(const char *user, const char *channel_id, const char *date,
                             int64_t views, double retention, double duration)
{
    analytics_row r = {0};
    uuid_v7(r.id);
    snprintf(r.user_id, sizeof(r.user_id), "%s", user);
    snprintf(r.channel_id, sizeof(r.channel_id), "%s", channel_id);
    snprintf(r.date, sizeof(r.date), "%s", date);
    r.period = ANALYTICS_DAY;
    r.views = views;
    r.likes = views / 2;
    r.watch_time_minutes = (double)views * 1.5;
    r.avg_retention = retention;
    r.avg_view_duration_seconds = duration;
    r.avg_ctr = -1;
    r.impressions = -1;
    r.subscribers_gained = 1;
    r.created_at = r.updated_at = time_now_usec();
    return r;
}

static void
test_weeks_are_iso_weeks_with_view_weighted_means_and_impression_weighted_ctr(void **state)
{
    world *w = *state;
    char user[37], ch[37];
    fixture_user(&w->api.t, "carl@example.com", user);
    fixture_channel(&w->api.t, user, "UCcarl", NULL, ch);
    /* Sunday 2026-11-29 ends one ISO week; Monday 2026-11-30 starts the next. */
    analytics_row rows[4] = {
        day_row(user, ch, "2026-11-28", 100, 40.0, 60),
        day_row(user, ch, "2026-11-29", 300, 20.0, 30),
        day_row(user, ch, "2026-11-30", 50, -1, -1), /* YouTube sent no ratio */
        day_row(user, ch, "2026-12-01", 150, 60.0, 90),
    };
    int64_t mon1, mon2;
    assert_true(time_day_parse("2026-11-23", &mon1));
    assert_true(time_day_parse("2026-11-30", &mon2));
    store_tx tx = {rows, 4, {mon1, mon2}};
    db_conn *c = db_acquire(w->api.t.db);
    error e;
    assert_int_equal(db_tx(c, store_body, &tx, &e), 0);
    /* Impressions and CTR, as the Reporting API will fold them in later. */
    testdb_exec(&w->api.t, "UPDATE channel_analytics SET impressions = 1000, avg_ctr = 5.0 "
                           "WHERE date = '2026-11-28' AND period = 'DAY'");
    testdb_exec(&w->api.t, "UPDATE channel_analytics SET impressions = 3000, avg_ctr = 1.0 "
                           "WHERE date = '2026-11-29' AND period = 'DAY'");
    assert_int_equal(db_tx(c, store_body, &tx, &e), 0);
    arena a;
    arena_init(&a, 4096);
    analytics_row *out;
    size_t n;
    assert_int_equal(
        analytics_store_list(c, &a, user, ch, ANALYTICS_WEEK, mon1, mon2, &out, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].date, "2026-11-23");
    assert_int_equal(out[0].views, 400);
    assert_int_equal(out[0].likes, 200);
    assert_int_equal(out[0].subscribers_gained, 2);
    assert_true(out[0].watch_time_minutes == 600.0);
    assert_true(fabs(out[0].avg_retention - (100 * 40.0 + 300 * 20.0) / 400) < 1e-9);
    assert_true(fabs(out[0].avg_view_duration_seconds - (100 * 60.0 + 300 * 30.0) / 400) < 1e-9);
    assert_int_equal(out[0].impressions, 4000);
    assert_true(fabs(out[0].avg_ctr - (1000 * 5.0 + 3000 * 1.0) / 4000) < 1e-9);
    /* The second week: only the day with a ratio weighs in it; no
     * impressions, no CTR. */
    assert_string_equal(out[1].date, "2026-11-30");
    assert_int_equal(out[1].views, 200);
    assert_true(fabs(out[1].avg_retention - 60.0) < 1e-9);
    assert_true(fabs(out[1].avg_view_duration_seconds - 90.0) < 1e-9);
    assert_int_equal(out[1].impressions, -1);
    assert_true(out[1].avg_ctr < 0);
    /* A Daily upsert from the Analytics API keeps the folded impressions. */
    assert_int_equal(db_tx(c, store_body, &tx, &e), 0);
    assert_int_equal(count(w, "SELECT impressions FROM channel_analytics WHERE date = "
                              "'2026-11-28' AND period = 'DAY'"),
                     1000);
    arena_free(&a);
    db_release(c);
}

static void
test_a_backfill_whose_chunk_fails_resumes_at_the_first_missing_chunk_without_gap_or_double_count(
    void **state)
{
    world *w = *state;
    connect_and_import(w);
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    int64_t to = yesterday() - 200, from = to - 74; /* 75 days: chunks of 30, 30, 15 */
    char f[11], t[11], body[128], path[160];
    day_text(from, f);
    day_text(to, t);
    snprintf(body, sizeof(body), "{\"from\":\"%s\",\"to\":\"%s\"}", f, t);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/backfill", w->channel);
    test_resp r = test_req(&w->api, "POST", path, w->ana, body, NULL);
    test_expect(&r, 202, NULL);
    char job_id[37];
    snprintf(job_id, sizeof(job_id), "%s", json_string_value(json_object_get(r.json, "job_id")));
    json_t *b = json_object_get(r.json, "backfill");
    assert_string_equal(json_string_value(json_object_get(b, "id")), job_id);
    assert_string_equal(json_string_value(json_object_get(b, "from_date")), f);
    assert_string_equal(json_string_value(json_object_get(b, "to_date")), t);
    assert_string_equal(json_string_value(json_object_get(b, "next_date")), f);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "queued");
    test_resp_free(&r);

    /* The second chunk's call fails: the first stays stored, the cursor at
     * the second, and the job waits to retry. */
    fake_google_lock(w->fg);
    w->fg->analytics_fail_at = 2;
    fake_google_unlock(w->fg);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 30);
    char second[11];
    day_text(from + 30, second);
    assert_int_equal(countf(w,
                            "SELECT count(*) FROM analytics_backfills WHERE id = '%s' AND "
                            "next_date = '%s'",
                            job_id, second),
                     1);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "queued"), 1);

    /* It resumes there: the first chunk is not fetched again, and every day
     * is stored once. */
    make_due(w);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->analytics_calls, 4);
    char c1[11], c2[24];
    day_text(from + 59, c1);
    snprintf(c2, sizeof(c2), "%s..%s", second, c1);
    assert_string_equal(w->fg->analytics_ranges[2], c2);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 75);
    assert_int_equal(
        count(w, "SELECT count(DISTINCT date) FROM channel_analytics WHERE period = 'DAY'"), 75);
    char q[64];
    snprintf(q, sizeof(q), "?from=%s&to=%s", f, t);
    json_t *items = api_rows(w, q, &r);
    assert_int_equal(json_array_size(items), 75);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        char d[11];
        day_text(from + (int64_t)i, d);
        assert_string_equal(json_string_value(json_object_get(row, "date")), d);
        expect_day_as_served(row, 0);
    }
    test_resp_free(&r);
    assert_int_equal(countf(w,
                            "SELECT count(*) FROM analytics_backfills WHERE id = '%s' AND "
                            "channel_id = '%s' AND next_date IS NULL",
                            job_id, w->channel),
                     1);

    /* Asking again for the same range while it is done queues a new run. */
    r = test_req(&w->api, "POST", path, w->ana, body, NULL);
    test_expect(&r, 202, NULL);
    assert_string_not_equal(json_string_value(json_object_get(r.json, "job_id")), job_id);
    test_resp_free(&r);
}

/* After any failure: the stored days are whole chunks from the start of
 * the range, none at or after the cursor, each once. */
static void expect_whole_chunks_before_the_cursor(world *w)
{
    int64_t days = count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'");
    assert_true(days % 30 == 0 || days == 90);
    assert_int_equal(
        count(w, "SELECT count(DISTINCT date) FROM channel_analytics WHERE period = 'DAY'"), days);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics ca JOIN analytics_backfills "
                              "b ON b.channel_id = ca.channel_id WHERE ca.period = 'DAY' AND "
                              "b.next_date IS NOT NULL AND ca.date >= b.next_date"),
                     0);
    assert_int_equal(count(w, "SELECT count(*) FROM analytics_backfills WHERE next_date IS NULL"),
                     days == 90 ? 1 : 0);
}

/* A worker that dies anywhere in a backfill (each statement and each
 * commit failing in turn, the job then taken over as from a dead worker)
 * leaves whole chunks and a cursor that agrees with them; the run that
 * follows completes it with every day stored once. */
static void
test_a_backfill_failing_at_any_statement_or_commit_resumes_with_no_gap_or_duplicate(void **state)
{
    world *w = *state;
    connect_and_import(w);
    db *d = w->api.t.db;
    db_faultsim_target targets[] = {DB_FAULTSIM_STEP, DB_FAULTSIM_COMMIT};
    for (int t = 0; t < 2; t++) {
        testdb_exec(&w->api.t, "DELETE FROM channel_analytics");
        testdb_exec(&w->api.t, "UPDATE analytics_backfills SET next_date = from_date");
        testdb_exec(&w->api.t, "UPDATE jobs SET status = 'queued'");
        bool done = false;
        int n = 1;
        for (; !done && n < 400; n++) {
            testdb_exec(&w->api.t, "UPDATE jobs SET run_at = '2000-01-01T00:00:00.000000Z', "
                                   "lease_expires_at = '2000-01-01T00:00:00.000000Z', "
                                   "attempts = 0 WHERE status IN ('queued', 'running')");
            db_faultsim_config(d, DB_FAULTSIM_STEP, targets[t] == DB_FAULTSIM_STEP ? n : 0, 0);
            db_faultsim_config(d, DB_FAULTSIM_COMMIT, targets[t] == DB_FAULTSIM_COMMIT ? n : 0, 0);
            error e;
            job_work_one(d, "test:faults", &e);
            db_faultsim_off(d);
            expect_whole_chunks_before_the_cursor(w);
            done = jobs_of(w, ANALYTICS_JOB_BACKFILL, "done") == 1;
        }
        assert_true(done);
        assert_true(n > 2);
        assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"),
                         90);
    }
}

/* The checker's own invariant: a WEEK row that is not the rollup of its
 * days, or a week with days and no row, is named. */
static void test_the_checker_names_a_week_that_is_not_the_rollup_of_its_days(void **state)
{
    world *w = *state;
    connect_and_import(w);
    work_one(w);
    char why[2048];
    assert_int_equal(testdb_check_quiet(&w->api.t, why, sizeof(why)), 0);
    static const char *const breaks[][2] = {
        {"UPDATE channel_analytics SET views = views + 1 WHERE period = 'WEEK'",
         "UPDATE channel_analytics SET views = views - 1 WHERE period = 'WEEK'"},
        {"UPDATE channel_analytics SET avg_retention = avg_retention + 0.001 WHERE period = "
         "'WEEK'",
         "UPDATE channel_analytics SET avg_retention = avg_retention - 0.001 WHERE period = "
         "'WEEK'"},
        {"UPDATE channel_analytics SET period = 'DAY', date = '1999-01-04' WHERE period = 'WEEK' "
         "AND date = (SELECT max(date) FROM channel_analytics WHERE period = 'WEEK')",
         "DELETE FROM channel_analytics WHERE date = '1999-01-04'"},
    };
    for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
        testdb_exec(&w->api.t, breaks[i][0]);
        assert_int_equal(testdb_check_quiet(&w->api.t, why, sizeof(why)), 1);
        assert_non_null(strstr(why, "WEEK analytics row"));
        testdb_exec(&w->api.t, breaks[i][1]);
        if (i < 2)
            assert_int_equal(testdb_check_quiet(&w->api.t, why, sizeof(why)), 0);
    }
    /* The lost week is rolled up again by the next run over its days. */
    testdb_exec(&w->api.t, "DELETE FROM channel_analytics WHERE period = 'DAY' AND date >= (SELECT "
                           "max(date) FROM channel_analytics WHERE period = 'WEEK')");
    queue_collect(w);
    work_one(w);
    assert_int_equal(testdb_check_quiet(&w->api.t, why, sizeof(why)), 0);
}

/* Runs one job on a thread of its own. */
static void *work_one_thread(void *arg)
{
    world *w = arg;
    error e;
    if (job_work_one(w->api.t.db, "test:b", &e) != 1)
        print_message("the second writer ran no job: %s\n", e.message);
    return NULL;
}

/* Two writers of one week at once: one holds a transaction that wrote a day
 * and rolled its week up while a job writes other days of that week. The
 * job's chunk locks the channel first, which waits for the writer (its day
 * holds a key-share lock on the channel through the foreign key), so its
 * rollup then counts that day too. Without the lock, on PostgreSQL, the
 * job's week would miss it. */
static void test_two_writers_of_one_week_at_once_leave_it_the_rollup_of_all_its_days(void **state)
{
    world *w = *state;
    connect_and_import(w);
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    /* A day of a week the job also writes, but that the job does not fetch
     * itself (else it would wait on that day's row instead). */
    int64_t y = yesterday(), d1 = y;
    if (time_day_monday(y) != y) {
        fake_google_lock(w->fg);
        day_text(y - 1, w->fg->analytics_last_day);
        fake_google_unlock(w->fg);
    } else {
        d1 = y - 90;
    }
    char uid[37];
    db_conn *c = db_acquire(w->api.t.db);
    {
        db_sql q = DB_SQL("SELECT user_id FROM channels WHERE id = $1");
        db_error de;
        db_stmt *s = db_prepare(c, &q, &de);
        db_bind_text(s, 1, w->channel);
        assert_int_equal(db_step(s, &de), DB_ROW);
        snprintf(uid, sizeof(uid), "%s", db_col_text(s, 0));
        db_reset(s);
    }
    queue_collect(w);
    db_error de;
    error e;
    assert_int_equal(db_begin_write(c, &de), 0);
    char date[11];
    day_text(d1, date);
    analytics_row r = day_row(uid, w->channel, date, 1000, 50.0, 100);
    bool changed;
    assert_int_equal(analytics_store_upsert_day(c, &r, &changed, &e), 0);
    assert_int_equal(
        analytics_store_rollup_week(c, uid, w->channel, time_day_monday(d1), time_now_usec(), &e),
        0);
    pthread_t b;
    assert_int_equal(pthread_create(&b, NULL, work_one_thread, w), 0);
    test_nap_ms(500); /* long enough for the job to reach the week, were it not waiting */
    assert_int_equal(db_commit(c, &de), 0);
    pthread_join(b, NULL);
    db_release(c);
    if (jobs_of(w, ANALYTICS_JOB_COLLECT, "done") == 0) {
        make_due(w);
        work_one(w);
    }
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_COLLECT, "done"), 1);
    char why[2048];
    if (testdb_check_quiet(&w->api.t, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    assert_int_equal(countf(w,
                            "SELECT views FROM channel_analytics WHERE date = '%s' AND period = "
                            "'DAY' AND channel_id = '%s'",
                            date, w->channel),
                     1000);
}

/* ---- a real worker process, killed ---------------------------------------------------- */

/* Starts p, a `pstudio worker` on the test's database talking to the fake
 * Google, its output appended to log. */
static void spawn_worker(test_proc *p, world *w, const char *dir, const char *log)
{
    fake_google_settings google;
    const char *env[10];
    fake_google_env(w->fg, w->urls[5], w->key, &google, env);
    test_proc_opts o = {.db_url = w->api.t.url, .data_dir = dir, .log = log, .env = env};
    test_proc_start(p, "worker", &o);
}

/* Waits up to seconds for the query's count to reach want. */
static bool wait_count(world *w, const char *sql, int64_t want, int seconds)
{
    int64_t until = time_mono_usec() + (int64_t)seconds * 1000000;
    while (time_mono_usec() < until) {
        if (count(w, sql) == want)
            return true;
        test_nap_ms(20);
    }
    return false;
}

static void
test_a_worker_killed_mid_backfill_leaves_whole_chunks_and_the_next_one_finishes_it(void **state)
{
    world *w = *state;
    connect_and_import(w);
    fake_google_lock(w->fg);
    w->fg->analytics_delay_ms = 1500; /* time to kill the worker while it fetches a chunk */
    fake_google_unlock(w->fg);
    char dir[256], log[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/worker.log", dir);

    /* Killed with -9 once the first chunk is stored, while it fetches the
     * second. */
    test_proc first, second;
    spawn_worker(&first, w, dir, log);
    bool moved = wait_count(w,
                            "SELECT count(*) FROM analytics_backfills WHERE next_date IS NOT NULL "
                            "AND next_date > from_date",
                            1, 60);
    test_proc_stop(&first, SIGKILL, 30);
    if (!moved)
        test_proc_print_log(&first);
    assert_true(moved);
    expect_whole_chunks_before_the_cursor(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 30);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill' AND "
                              "status = 'running'"),
                     1);

    /* Its lease runs out (we do not wait the 5 minutes); another worker
     * takes the job over at the cursor and finishes it. */
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "UPDATE jobs SET lease_expires_at = $1 WHERE kind = 'analytics.backfill'", "t",
                     time_now_usec() - 1000000) != 0)
        fail_msg("%s", de.message);
    fake_google_lock(w->fg);
    w->fg->analytics_delay_ms = 0;
    fake_google_unlock(w->fg);
    spawn_worker(&second, w, dir, log);
    bool done = wait_count(w,
                           "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill' AND "
                           "status = 'done'",
                           1, 60);
    test_proc_stop(&second, SIGTERM, 30);
    if (!done)
        test_proc_print_log(&second);
    assert_true(done);
    expect_whole_chunks_before_the_cursor(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);
    assert_int_equal(count(w, "SELECT attempts FROM jobs WHERE kind = 'analytics.backfill'"), 2);
    /* The first chunk was fetched by the first worker only. */
    char first_range[24], f[11], t[11];
    day_text(yesterday() - 89, f);
    day_text(yesterday() - 60, t);
    snprintf(first_range, sizeof(first_range), "%s..%s", f, t);
    int fetched_first = 0;
    fake_google_lock(w->fg);
    for (int i = 0; i < w->fg->analytics_calls && i < 64; i++)
        fetched_first += strcmp(w->fg->analytics_ranges[i], first_range) == 0;
    fake_google_unlock(w->fg);
    assert_int_equal(fetched_first, 1);
}

/* ---- faults ---------------------------------------------------------------------- */

/* The run_at of the queued job of kind (there is one). */
static int64_t run_at_of(world *w, const char *kind)
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL("SELECT run_at FROM jobs WHERE kind = $1 AND status = 'queued'");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    db_bind_text(s, 1, kind);
    assert_int_equal(db_step(s, &de), DB_ROW);
    int64_t t = db_col_time(s, 0);
    db_reset(s);
    db_release(c);
    return t;
}

static int64_t run_at_of_collect(world *w)
{
    return run_at_of(w, ANALYTICS_JOB_COLLECT);
}

static void test_quota_and_rate_limits_wait_for_their_window_and_lose_no_stored_row(void **state)
{
    world *w = *state;
    connect_and_import(w);
    work_one(w);
    int64_t stored = count(w, "SELECT count(*) FROM channel_analytics");

    /* 403 quotaExceeded: until Google's reset at midnight Pacific time. */
    fake_google_lock(w->fg);
    w->fg->analytics_mode = FAKE_ANALYTICS_QUOTA;
    fake_google_unlock(w->fg);
    queue_collect(w);
    int64_t before = time_now_usec();
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_COLLECT, "queued"), 1);
    int64_t reset = time_next_pacific_midnight(before);
    int64_t at = run_at_of_collect(w);
    assert_true(at >= reset && at <= time_next_pacific_midnight(time_now_usec()) + 600000000LL);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), stored);

    /* 429: after its Retry-After. */
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    fake_google_lock(w->fg);
    w->fg->analytics_mode = FAKE_ANALYTICS_RATE_LIMITED;
    fake_google_unlock(w->fg);
    queue_collect(w);
    before = time_now_usec();
    work_one(w);
    at = run_at_of_collect(w);
    assert_true(at >= before + 45000000LL && at <= time_now_usec() + 46000000LL);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), stored);

    /* 503: an ordinary retry with backoff; then the window opens and the run
     * completes. */
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    fake_google_lock(w->fg);
    w->fg->analytics_mode = FAKE_ANALYTICS_UNAVAILABLE;
    fake_google_unlock(w->fg);
    queue_collect(w);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.collect' AND "
                              "status = 'queued' AND attempts = 1"),
                     1);
    fake_google_lock(w->fg);
    w->fg->analytics_mode = FAKE_ANALYTICS_OK;
    fake_google_unlock(w->fg);
    make_due(w);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_COLLECT, "done"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), stored);
}

static void
test_an_expired_token_is_refreshed_once_and_invalid_grant_asks_for_reconnect(void **state)
{
    world *w = *state;
    connect_and_import(w);
    fake_google_expire_access_tokens(w->fg);
    fake_google_lock(w->fg);
    int refreshes = w->fg->refreshes;
    fake_google_unlock(w->fg);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, refreshes + 1);
    fake_google_unlock(w->fg);
    int64_t stored = count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'");
    assert_int_equal(stored, 90);

    /* The grant is revoked at Google: the account needs reconnecting, the
     * job ends (nothing to retry), and the stored days stay. */
    fake_google_expire_access_tokens(w->fg);
    fake_google_lock(w->fg);
    w->fg->refresh_invalid = true;
    fake_google_unlock(w->fg);
    queue_collect(w);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_COLLECT, "done"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE status = 'needs_reconnect'"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);
    /* And a backfill asked for now says so. */
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/backfill", w->channel);
    test_resp r = test_req(&w->api, "POST", path, w->ana,
                           "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}", NULL);
    test_expect(&r, 409, "google-reconnect-required");
    test_resp_free(&r);
}

static void test_columns_are_read_by_name_and_a_malformed_report_stores_nothing(void **state)
{
    world *w = *state;
    connect_and_import(w);
    for (int mode = FAKE_ANALYTICS_NOT_JSON; mode <= FAKE_ANALYTICS_MALFORMED_LAST; mode++) {
        fake_google_lock(w->fg);
        w->fg->analytics_mode = mode;
        fake_google_unlock(w->fg);
        make_due(w);
        work_one(w);
        if (count(w, "SELECT count(*) FROM channel_analytics") != 0)
            fail_msg("malformed answer %d stored rows", mode);
        assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill' "
                                  "AND status = 'queued' AND last_error LIKE '%malformed%'"),
                         1);
    }
    /* Columns in another order than asked for: read by their names. */
    fake_google_lock(w->fg);
    w->fg->analytics_mode = FAKE_ANALYTICS_OK;
    w->fg->analytics_reversed = true;
    snprintf(w->fg->analytics_last_day, sizeof(w->fg->analytics_last_day), "%s", "");
    fake_google_unlock(w->fg);
    testdb_exec(&w->api.t, "UPDATE jobs SET attempts = 0");
    make_due(w);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    test_resp r;
    json_t *items = api_rows(w, "", &r);
    assert_int_equal(json_array_size(items), 28);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        expect_day_as_served(row, 0);
    }
    test_resp_free(&r);
}

static void test_days_youtube_has_not_finished_are_absent_and_fetched_again_later(void **state)
{
    world *w = *state;
    connect_and_import(w);
    int64_t last = yesterday();
    fake_google_lock(w->fg);
    day_text(last - 2, w->fg->analytics_last_day);
    fake_google_unlock(w->fg);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 88);
    /* The next day's run asks from the last stored day less 2 and fills in. */
    fake_google_lock(w->fg);
    w->fg->analytics_last_day[0] = '\0';
    fake_google_unlock(w->fg);
    queue_collect(w);
    work_one(w);
    char f[11], t[11], want[24];
    day_text(last - 4, f);
    day_text(last, t);
    snprintf(want, sizeof(want), "%s..%s", f, t);
    fake_google_lock(w->fg);
    assert_string_equal(w->fg->analytics_ranges[w->fg->analytics_calls - 1], want);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);
}

static void test_the_daily_sweep_queues_one_collect_per_linked_channel_per_day(void **state)
{
    world *w = *state;
    test_set_plan(&w->api, "ana@example.com", "pro");
    connect_and_import(w);
    /* A channel registered by hand has no account to ask. */
    test_resp r = test_req(&w->api, "POST", "/api/v1/channels", w->ana,
                           "{\"youtube_channel_id\":\"UCmanual\",\"name\":\"By hand\"}", NULL);
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    for (int run = 0; run < 2; run++) {
        db_conn *c = db_acquire(w->api.t.db);
        char id[37];
        error e;
        assert_int_equal(job_enqueue(c, ANALYTICS_JOB_COLLECT_ALL, NULL, NULL, id, &e), 0);
        db_release(c);
        work_one(w);
    }
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.collect'"), 1);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_COLLECT, "done"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);
}

/* ---- the API ---------------------------------------------------------------------- */

static void test_backfill_requests_are_validated_and_shared_while_they_run(void **state)
{
    world *w = *state;
    connect_and_import(w);
    char path[160], body[128], today[11], old[11];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/backfill", w->channel);
    day_text(yesterday() + 1, today);
    day_text(yesterday() - ANALYTICS_RANGE_MAX, old);
    static const char *const bad[] = {
        "{}",
        "{\"from\":\"2026-01-01\"}",
        "{\"from\":\"2026-02-30\",\"to\":\"2026-03-01\"}",
        "{\"from\":\"01/02/2026\",\"to\":\"2026-03-01\"}",
        "{\"from\":\"2026-03-02\",\"to\":\"2026-03-01\"}",
        "{\"from\":20260101,\"to\":\"2026-03-01\"}",
        "{\"from\":\"2026-01-01\",\"to\":\"2026-03-01\",\"extra\":1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_resp r = test_req(&w->api, "POST", path, w->ana, bad[i], NULL);
        if (r.status != 422)
            fail_msg("%s: expected 422, got %ld: %s", bad[i], r.status, r.body);
        test_resp_free(&r);
    }
    snprintf(body, sizeof(body), "{\"from\":\"2026-01-01\",\"to\":\"%s\"}", today);
    test_resp r = test_req(&w->api, "POST", path, w->ana, body, NULL);
    test_expect(&r, 422, NULL);
    test_resp_free(&r);
    snprintf(body, sizeof(body), "{\"from\":\"%s\",\"to\":\"%s\"}", old, today);
    day_text(yesterday(), today);
    snprintf(body, sizeof(body), "{\"from\":\"%s\",\"to\":\"%s\"}", old, today);
    r = test_req(&w->api, "POST", path, w->ana, body, NULL);
    test_expect(&r, 422, NULL);
    test_resp_free(&r);

    /* Asked twice while it waits: the same job. */
    r = test_req(&w->api, "POST", path, w->ana, "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}",
                 NULL);
    test_expect(&r, 202, NULL);
    char job_id[37];
    snprintf(job_id, sizeof(job_id), "%s", json_string_value(json_object_get(r.json, "job_id")));
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->ana, "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}",
                 NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "job_id")), job_id);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM analytics_backfills"),
                     2); /* and the import's */

    /* A channel registered by hand cannot be backfilled from Google. */
    test_set_plan(&w->api, "ana@example.com", "pro");
    r = test_req(&w->api, "POST", "/api/v1/channels", w->ana,
                 "{\"youtube_channel_id\":\"UCmanual\",\"name\":\"By hand\"}", NULL);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/backfill",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->ana, "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}",
                 NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
}

static void
test_reads_default_to_the_last_28_days_validate_their_query_and_are_404_for_others(void **state)
{
    world *w = *state;
    connect_and_import(w);
    work_one(w);
    test_resp r;
    json_t *items = api_rows(w, "", &r);
    char f[11], t[11];
    day_text(yesterday() - 27, f);
    day_text(yesterday(), t);
    assert_string_equal(json_string_value(json_object_get(r.json, "period")), "DAY");
    assert_string_equal(json_string_value(json_object_get(r.json, "from")), f);
    assert_string_equal(json_string_value(json_object_get(r.json, "to")), t);
    assert_string_equal(json_string_value(json_object_get(r.json, "channel_id")), w->channel);
    assert_int_equal(json_array_size(items), 28);
    test_resp_free(&r);
    items = api_rows(w, "?period=WEEK", &r);
    assert_int_equal(json_array_size(items), 12);
    test_resp_free(&r);

    static const char *const bad[] = {
        "?period=MONTH",
        "?period=day",
        "?from=yesterday",
        "?to=2026-13-01",
        "?from=2026-02-01&to=2026-01-01",
        "?from=2020-01-01&to=2026-01-01",
        "?limit=5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics%s", w->channel, bad[i]);
        r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
        if (r.status != 422)
            fail_msg("%s: expected 422, got %ld: %s", bad[i], r.status, r.body);
        test_resp_free(&r);
    }

    /* Another user: 404 for the read and the backfill, whatever the query. */
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics", w->channel);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics?period=MONTH", w->channel);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/backfill", w->channel);
    r = test_req(&w->api, "POST", path, w->ben, "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}",
                 NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(&w->api, "POST", path, w->ben, "{\"from\":\"2026-03-01\",\"to\":\"2026-01-31\"}",
                 NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM analytics_backfills"), 1);
}

/* ---- the YouTube Studio CSV import -------------------------------------------- */

/* ana's channel registered by hand (no Google at all). */
static void make_hand_channel(world *w)
{
    test_resp r = test_req(
        &w->api, "POST", "/api/v1/channels", w->ana,
        "{\"youtube_channel_id\":\"UCstudio0000000000000001\",\"name\":\"Offline\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(w->channel, sizeof(w->channel), "%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
}

/* POSTs csv (a C string) to ana's channel's import as type. */
static test_resp import_csv(world *w, const char *token, const char *csv, const char *type)
{
    char path[256], ct[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics/import", w->channel);
    snprintf(ct, sizeof(ct), "Content-Type: %s", type);
    const char *const headers[] = {ct, NULL};
    return test_req(&w->api, "POST", path, token, csv, headers);
}

static json_t *day_of(json_t *items, const char *date)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *row = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(row, "date")), date) == 0)
            return row;
    }
    fail_msg("no row dated %s", date);
    return NULL;
}

static int64_t int_of(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static double real_of(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* What Studio's English "Table data.csv" by date looks like: a BOM, CRLF,
 * a Total row first, columns in Studio's order and one we do not know. */
static const char STUDIO_EN[] =
    "\xEF\xBB\xBF"
    "Date,Estimated revenue (USD),Views,Watch time (hours),Subscribers,Likes,Comments added,"
    "Shares,Average view duration,Average percentage viewed (%),Impressions,"
    "Impressions click-through rate (%)\r\n"
    "Total,\"1,234.50\",600,30.5,7,45,6,3,0:03:03,41.5,12000,5.0\r\n"
    "2025-12-07,\"12,5\",100,5.0,3,10,1,1,0:03:00,40.0,2000,5.0\r\n"
    "2025-12-08,\"no, comma\",200,10.25,-2,15,2,1,0:03:05,42.5,4000,4.5\r\n"
    "2025-12-09,,300,15.25,6,20,3,1,1:02:03,120.5,6000,5.5\r\n";

static void
test_a_studio_export_in_english_is_stored_by_header_names_and_again_changes_nothing(void **state)
{
    world *w = *state;
    make_hand_channel(w);
    test_resp r = import_csv(w, w->ana, STUDIO_EN, "text/csv");
    test_expect(&r, 200, NULL);
    assert_int_equal(int_of(r.json, "imported"), 3);
    assert_int_equal(int_of(r.json, "unchanged"), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "rejected")), 0);
    assert_int_equal(int_of(r.json, "total_row_line"), 2);
    json_t *ign = json_object_get(r.json, "ignored_columns");
    assert_int_equal(json_array_size(ign), 1);
    assert_string_equal(json_string_value(json_array_get(ign, 0)), "Estimated revenue (USD)");
    test_resp_free(&r);

    json_t *items = api_rows(w, "?from=2025-12-07&to=2025-12-09", &r);
    assert_int_equal(json_array_size(items), 3);
    json_t *d = day_of(items, "2025-12-08");
    assert_int_equal(int_of(d, "views"), 200);
    assert_true(real_of(d, "watch_time_minutes") == 615.0);
    assert_int_equal(int_of(d, "subscribers_gained"), 0); /* net -2 */
    assert_int_equal(int_of(d, "subscribers_lost"), 2);
    assert_int_equal(int_of(d, "likes"), 15);
    assert_int_equal(int_of(d, "comments"), 2);
    assert_int_equal(int_of(d, "shares"), 1);
    assert_true(real_of(d, "avg_view_duration_seconds") == 185.0);
    assert_true(real_of(d, "avg_retention") == 42.5);
    assert_int_equal(int_of(d, "impressions"), 4000);
    assert_true(real_of(d, "avg_ctr") == 4.5);
    d = day_of(items, "2025-12-09");
    assert_true(real_of(d, "avg_view_duration_seconds") == 3723.0);
    assert_true(real_of(d, "avg_retention") == 120.5); /* a looping Short */
    assert_int_equal(int_of(d, "subscribers_gained"), 6);
    test_resp_free(&r);
    /* 2025-12-07 is a Sunday: two ISO weeks, each the rollup of its days. */
    items = api_rows(w, "?period=WEEK&from=2025-12-01&to=2025-12-14", &r);
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(int_of(day_of(items, "2025-12-01"), "views"), 100);
    json_t *wk = day_of(items, "2025-12-08");
    assert_int_equal(int_of(wk, "views"), 500);
    assert_int_equal(int_of(wk, "impressions"), 10000);
    assert_true(fabs(real_of(wk, "avg_ctr") - (4000 * 4.5 + 6000 * 5.5) / 10000) < 1e-9);
    test_resp_free(&r);

    /* The same file again: nothing is written, updated_at included. */
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), 5);
    assert_int_equal(
        count(w, "SELECT count(*) FROM channel_analytics WHERE updated_at = created_at"), 5);
    r = import_csv(w, w->ana, STUDIO_EN, "text/csv; charset=utf-8");
    test_expect(&r, 200, NULL);
    assert_int_equal(int_of(r.json, "imported"), 0);
    assert_int_equal(int_of(r.json, "unchanged"), 3);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), 5);
    assert_int_equal(
        count(w, "SELECT count(*) FROM channel_analytics WHERE updated_at = created_at"), 5);
}

/* Portuguese headers (one quoted, with doubled quotes), LF endings, gained
 * and lost columns, no reach columns; bad rows among good ones. */
static const char STUDIO_PT[] =
    "Data,\"Marcações \"\"Gostei\"\"\",Visualizações,Tempo de exibição (horas),"
    "Inscritos obtidos,Inscritos perdidos,Comentários adicionados,Compartilhamentos,"
    "Duração média da visualização,Porcentagem média visualizada (%),Nota\n"
    "Total,30,600,30,9,2,6,3,0:03:00,40,\n"                /* line 2 */
    "2025-11-03,10,100,5,3,1,1,1,2:30,40,ok\n"             /* 3: good */
    "2025-11-04,10,abc,5,3,1,1,1,2:30,40,ok\n"             /* 4: views */
    "2025-11-31,10,100,5,3,1,1,1,2:30,40,ok\n"             /* 5: no such date */
    "2025-11-05,10,100,5,3,1,1,1,2:30,40,\"two\nlines\"\n" /* 6-7: good */
    "2025-11-06,10,-5,5,3,1,1,1,2:30,40,ok\n"              /* 8: negative */
    "2025-11-07,10,100,5,3,1,1,1,2:75,40,ok\n"             /* 9: duration */
    "2025-11-03,99,999,5,3,1,1,1,2:30,40,ok\n"             /* 10: date of line 3 */
    "2025-11-08,10,100,5,3,1\n"                            /* 11: short */
    "2025-11-09,10,100,5,3,1,1,1,2:30,20000,ok\n"          /* 12: past the bound */
    "\n"
    "2025-11-10,12,200,7.5,4,0,2,0,3:00,50,\"a, b\"\n"; /* 14: good */

static void test_a_portuguese_export_keeps_good_rows_and_reports_bad_ones_by_line(void **state)
{
    world *w = *state;
    make_hand_channel(w);
    test_resp r = import_csv(w, w->ana, STUDIO_PT, "text/csv");
    test_expect(&r, 200, NULL);
    assert_int_equal(int_of(r.json, "imported"), 3);
    assert_int_equal(int_of(r.json, "total_row_line"), 2);
    json_t *ign = json_object_get(r.json, "ignored_columns");
    assert_int_equal(json_array_size(ign), 1);
    assert_string_equal(json_string_value(json_array_get(ign, 0)), "Nota");
    json_t *rej = json_object_get(r.json, "rejected");
    static const struct {
        int line;
        const char *words;
    } want[] = {{4, "views"},   {5, "date"},    {8, "views"},         {9, "duration"},
                {10, "line 3"}, {11, "fields"}, {12, "avg_retention"}};
    if (json_array_size(rej) != sizeof(want) / sizeof(want[0]))
        fail_msg("rejected: %s", r.body);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        json_t *x = json_array_get(rej, i);
        const char *why = json_string_value(json_object_get(x, "reason"));
        if (int_of(x, "line") != want[i].line || strstr(why, want[i].words) == NULL)
            fail_msg("rejected[%zu] is line %lld \"%s\"; want line %d mentioning %s", i,
                     (long long)int_of(x, "line"), why, want[i].line, want[i].words);
    }
    test_resp_free(&r);
    json_t *items = api_rows(w, "?from=2025-11-01&to=2025-11-30", &r);
    assert_int_equal(json_array_size(items), 3);
    json_t *d = day_of(items, "2025-11-03");
    assert_int_equal(int_of(d, "views"), 100); /* not line 10's 999 */
    assert_int_equal(int_of(d, "likes"), 10);
    assert_int_equal(int_of(d, "subscribers_gained"), 3);
    assert_int_equal(int_of(d, "subscribers_lost"), 1);
    assert_true(real_of(d, "avg_view_duration_seconds") == 150.0);
    assert_true(json_is_null(json_object_get(d, "impressions")));
    d = day_of(items, "2025-11-10");
    assert_true(real_of(d, "watch_time_minutes") == 450.0);
    assert_int_equal(int_of(d, "views"), 200);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'WEEK'"), 2);
}

static void test_an_import_that_cannot_be_used_is_refused_and_writes_nothing(void **state)
{
    world *w = *state;
    make_hand_channel(w);
    /* No date column: 422 naming it. */
    test_resp r = import_csv(w, w->ana, "Views,Likes\n1,2\n", "text/csv");
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(json_string_value(json_object_get(r.json, "field")), "Date");
    test_resp_free(&r);
    /* Every row bad: 422 with the report. */
    r = import_csv(w, w->ana, "Date,Views\n2025-10-01,x\n2025-10-02,-1\n", "text/csv");
    test_expect(&r, 422, "invalid-request");
    json_t *rej = json_object_get(r.json, "rejected");
    assert_int_equal(json_array_size(rej), 2);
    assert_int_equal(int_of(json_array_get(rej, 0), "line"), 2);
    assert_int_equal(int_of(json_array_get(rej, 1), "line"), 3);
    test_resp_free(&r);
    /* Malformed quoting. */
    r = import_csv(w, w->ana, "Date,Views\n2025-10-01,\"12\n", "text/csv");
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    /* Not CSV. */
    const char *ok = "Date,Views\n2025-10-01,1\n";
    r = import_csv(w, w->ana, ok, "application/json");
    test_expect(&r, 415, "unsupported-media-type");
    test_resp_free(&r);
    /* Past the cap. */
    size_t big = ANALYTICS_IMPORT_MAX_BYTES + 1;
    char *huge = malloc(big + 1);
    memcpy(huge, ok, strlen(ok));
    memset(huge + strlen(ok), '\n', big - strlen(ok));
    huge[big] = '\0';
    r = import_csv(w, w->ana, huge, "text/csv");
    test_expect(&r, 413, "payload-too-large");
    test_resp_free(&r);
    free(huge);
    /* Another user's channel: 404, even with a good file. */
    r = import_csv(w, w->ben, ok, "text/csv");
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), 0);
}

/* A file with impressions but no CTR leaves both as stored, and says so;
 * a header named twice is refused. */
static void
test_impressions_without_their_ctr_are_ignored_and_a_repeated_header_refused(void **state)
{
    world *w = *state;
    make_hand_channel(w);
    test_resp r = import_csv(w, w->ana, STUDIO_EN, "text/csv");
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = import_csv(w, w->ana, "Date,Views,Impressions\n2025-12-08,250,1\n", "text/csv");
    test_expect(&r, 200, NULL);
    assert_int_equal(int_of(r.json, "imported"), 1);
    json_t *ign = json_object_get(r.json, "ignored_columns");
    assert_int_equal(json_array_size(ign), 1);
    assert_string_equal(json_string_value(json_array_get(ign, 0)), "Impressions");
    test_resp_free(&r);
    json_t *items = api_rows(w, "?from=2025-12-08&to=2025-12-08", &r);
    json_t *d = day_of(items, "2025-12-08");
    assert_int_equal(int_of(d, "views"), 250);
    assert_int_equal(int_of(d, "impressions"), 4000);
    assert_true(real_of(d, "avg_ctr") == 4.5);
    test_resp_free(&r);
    items = api_rows(w, "?period=WEEK&from=2025-12-08&to=2025-12-08", &r);
    assert_int_equal(int_of(day_of(items, "2025-12-08"), "views"), 550);
    test_resp_free(&r);

    r = import_csv(w, w->ana, "Date,Views, views \n2025-12-08,1,2\n", "text/csv");
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(json_string_value(json_object_get(r.json, "field")), "Views");
    test_resp_free(&r);
}

/* ---- per video (decisions 139-141) -------------------------------------------- */

#define VIDEO_A "vidAAAAAAA1"
#define VIDEO_B "vidBBBBBBB2"

/* Two system personas, in id order. */
static void two_personas(world *w, char p1[37], char p2[37])
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL("SELECT id FROM personas WHERE type = 'SYSTEM' ORDER BY id LIMIT 2");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_non_null(s);
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(p1, 37, "%s", db_col_text(s, 0));
    assert_int_equal(db_step(s, &de), DB_ROW);
    snprintf(p2, 37, "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
}

/* A project of ana's channel written by persona at version, and its
 * publication: published as video_id, or (video_id NULL) still uploading. */
static void published_project(world *w, const char *persona, int64_t version, const char *video_id,
                              char id[37])
{
    uuid_v7(id);
    int64_t now = time_now_usec();
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO projects (id, user_id, channel_id, persona_id, persona_version, "
                     "topic, status, created_at, updated_at) VALUES ($1, (SELECT user_id FROM "
                     "channels WHERE id = $2), $2, $3, $4, 'a topic', 'ready', $5, $5)",
                     "sssit", id, w->channel, persona, version, now) != 0)
        fail_msg("project: %s", de.message);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO project_publications (project_id, user_id, channel_id, status, "
                     "privacy_status, made_for_kids, contains_synthetic_media, title, "
                     "category_id, youtube_video_id, bytes_total, bytes_sent, created_at, "
                     "updated_at, published_at) VALUES ($1, (SELECT user_id FROM channels WHERE "
                     "id = $2), $2, $3, 'public', $4, $5, 'A title', '22', $6, 10, 10, $7, $7, $8)",
                     "sssbbstt", id, w->channel, video_id ? "published" : "uploading", 0, 1,
                     video_id, now, video_id ? now : 0) != 0)
        fail_msg("publication: %s", de.message);
}

/* The API's rows of a project's video. */
static json_t *video_rows(world *w, const char *session, const char *project, const char *query,
                          long status, test_resp *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/analytics%s", project, query);
    *r = test_req(&w->api, "GET", path, session, NULL, NULL);
    test_expect(r, status, NULL);
    return json_object_get(r->json, "items");
}

static void expect_video_day_as_served(json_t *row, const fake_video *v, int revision,
                                       const char *persona, int64_t version)
{
    const char *date = json_string_value(json_object_get(row, "date"));
    fake_analytics_day x;
    fake_google_video_day(date, revision, v, &x);
    assert_string_equal(json_string_value(json_object_get(row, "youtube_video_id")), v->id);
    assert_string_equal(json_string_value(json_object_get(row, "persona_id")), persona);
    assert_int_equal(json_integer_value(json_object_get(row, "persona_version")), version);
    assert_int_equal(json_integer_value(json_object_get(row, "views")), x.views);
    assert_int_equal(json_integer_value(json_object_get(row, "likes")), x.likes);
    assert_int_equal(json_integer_value(json_object_get(row, "comments")), x.comments);
    assert_true(json_number_value(json_object_get(row, "watch_time_minutes")) == (double)x.minutes);
    assert_true(json_number_value(json_object_get(row, "avg_retention")) == x.percentage);
    assert_int_equal(json_integer_value(json_object_get(row, "subscribers_gained")), x.gained);
    assert_null(json_object_get(row, "period"));
    assert_null(json_object_get(row, "impressions"));
}

/* Ana's channel with two published videos by two personas (A by p1 at
 * version 1, B by p2 at version 1) and a project still uploading. */
typedef struct video_world {
    char p1[37], p2[37];
    char a[37], b[37], uploading[37];
} video_world;

static void two_published_videos(world *w, video_world *v)
{
    connect_and_import(w);
    two_personas(w, v->p1, v->p2);
    published_project(w, v->p1, 1, VIDEO_A, v->a);
    published_project(w, v->p2, 1, VIDEO_B, v->b);
    published_project(w, v->p1, 1, NULL, v->uploading);
    fake_google_lock(w->fg);
    fake_google_add_video(w->fg, VIDEO_A, 30, 4, 55.0);
    fake_google_add_video(w->fg, VIDEO_B, 20, 1, 25.0);
    fake_google_unlock(w->fg);
}

static void
test_published_videos_are_stored_per_video_and_day_with_the_persona_that_wrote_each(void **state)
{
    world *w = *state;
    video_world v;
    two_published_videos(w, &v);
    work_one(w); /* the import backfill: 90 days in 3 chunks */
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    fake_google_lock(w->fg);
    /* One report by day and video per chunk, both videos in one filter,
     * nothing asked for the project still uploading. */
    assert_int_equal(w->fg->video_calls, 3);
    assert_int_equal(w->fg->video_ids_max, 2);
    assert_string_equal(w->fg->analytics_bad_query, "");
    fake_video fa = w->fg->videos[0], fb = w->fg->videos[1];
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 180);
    assert_int_equal(countf(w, "SELECT count(*) FROM video_analytics WHERE project_id = '%s'%s",
                            v.uploading, ""),
                     0);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 90);

    int64_t last = yesterday(), first = last - 89;
    char q[64], f[11], t[11];
    day_text(first, f);
    day_text(last, t);
    snprintf(q, sizeof(q), "?from=%s&to=%s", f, t);
    test_resp r;
    json_t *items = video_rows(w, w->ana, v.a, q, 200, &r);
    assert_int_equal(json_array_size(items), 90);
    assert_string_equal(json_string_value(json_object_get(r.json, "youtube_video_id")), VIDEO_A);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        char d[11];
        day_text(first + (int64_t)i, d);
        assert_string_equal(json_string_value(json_object_get(row, "date")), d);
        expect_video_day_as_served(row, &fa, 0, v.p1, 1);
    }
    test_resp_free(&r);
    items = video_rows(w, w->ana, v.b, q, 200, &r);
    assert_int_equal(json_array_size(items), 90);
    json_array_foreach(items, i, row)
    {
        expect_video_day_as_served(row, &fb, 0, v.p2, 1);
    }
    test_resp_free(&r);

    /* A re-run stores the same values: nothing is written, updated_at
     * included. A revision by Google overwrites the days fetched again. */
    queue_collect(w);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 180);
    assert_int_equal(
        count(w, "SELECT count(*) FROM video_analytics WHERE updated_at <> created_at"), 0);
    fake_google_lock(w->fg);
    w->fg->analytics_revision = 100;
    fake_google_unlock(w->fg);
    queue_collect(w);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 180);
    /* The last stored day less 2 up to yesterday: 3 days of each video. */
    assert_int_equal(
        count(w, "SELECT count(*) FROM video_analytics WHERE updated_at <> created_at"), 6);
    items = video_rows(w, w->ana, v.a, "", 200, &r);
    assert_int_equal(json_array_size(items), 28);
    json_array_foreach(items, i, row)
    {
        expect_video_day_as_served(row, &fa, i >= 25 ? 100 : 0, v.p1, 1);
    }
    test_resp_free(&r);

    /* The project still uploading reads no rows; another user's project is a
     * 404, whatever the query; the range is checked like the channel's. */
    items = video_rows(w, w->ana, v.uploading, "", 200, &r);
    assert_int_equal(json_array_size(items), 0);
    assert_true(json_is_null(json_object_get(r.json, "youtube_video_id")));
    test_resp_free(&r);
    video_rows(w, w->ben, v.a, "", 404, &r);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    video_rows(w, w->ben, v.a, "?period=WEEK", 404, &r);
    test_resp_free(&r);
    video_rows(w, w->ana, v.a, "?period=WEEK", 422, &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "field")), "period");
    test_resp_free(&r);
    video_rows(w, w->ana, v.a, "?from=2026-13-01", 422, &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "field")), "from");
    test_resp_free(&r);
    video_rows(w, w->ana, v.a, "?color=red", 422, &r);
    test_resp_free(&r);

    /* The rows go with their project. */
    char sql[160];
    snprintf(sql, sizeof(sql), "DELETE FROM projects WHERE id = '%s'", v.a);
    testdb_exec(&w->api.t, sql);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 90);
}

static void
test_a_report_by_video_that_fails_or_is_malformed_stores_nothing_of_its_chunk(void **state)
{
    world *w = *state;
    video_world v;
    two_published_videos(w, &v);
    static const int malformed[] = {FAKE_VIDEO_TWICE, FAKE_VIDEO_UNASKED, FAKE_VIDEO_NO_COLUMN};
    for (size_t k = 0; k < sizeof(malformed) / sizeof(malformed[0]); k++) {
        fake_google_lock(w->fg);
        w->fg->analytics_video_mode = malformed[k];
        fake_google_unlock(w->fg);
        make_due(w);
        work_one(w);
        if (count(w, "SELECT count(*) FROM channel_analytics") != 0 ||
            count(w, "SELECT count(*) FROM video_analytics") != 0)
            fail_msg("malformed report by video %d stored rows", malformed[k]);
        assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill' "
                                  "AND status = 'queued' AND last_error LIKE '%malformed%'"),
                         1);
    }
    /* 429 on the report by video: the job waits for Retry-After, nothing stored. */
    fake_google_lock(w->fg);
    w->fg->analytics_video_mode = FAKE_VIDEO_RATE_LIMITED;
    fake_google_unlock(w->fg);
    testdb_exec(&w->api.t, "UPDATE jobs SET attempts = 0");
    make_due(w);
    int64_t before = time_now_usec();
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics"), 0);
    int64_t at = run_at_of(w, ANALYTICS_JOB_BACKFILL);
    assert_true(at >= before + 45000000LL && at <= time_now_usec() + 46000000LL);
    /* A 503 on the second chunk's report by video (the 4th request): the
     * first chunk is kept whole, the second has nothing stored. */
    fake_google_lock(w->fg);
    w->fg->analytics_video_mode = FAKE_VIDEO_OK;
    w->fg->analytics_fail_at = 4;
    fake_google_unlock(w->fg);
    make_due(w);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY'"), 30);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 60);
    /* A token that expired on the report by video is refreshed once, and the
     * backfill resumes and ends. */
    fake_google_lock(w->fg);
    w->fg->analytics_video_mode = FAKE_VIDEO_EXPIRED;
    int refreshes = w->fg->refreshes;
    fake_google_unlock(w->fg);
    make_due(w);
    work_one(w);
    assert_int_equal(jobs_of(w, ANALYTICS_JOB_BACKFILL, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, refreshes + 1);
    /* The columns came reversed in none of these; now they do, and are read
     * by name. */
    w->fg->analytics_reversed = true;
    w->fg->analytics_revision = 7;
    fake_video fa = w->fg->videos[0];
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 180);
    queue_collect(w);
    work_one(w);
    test_resp r;
    json_t *items = video_rows(w, w->ana, v.a, "", 200, &r);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row)
    {
        expect_video_day_as_served(row, &fa, i >= 25 ? 7 : 0, v.p1, 1);
    }
    test_resp_free(&r);
}

/* The leaderboard's item of persona, or NULL when it is not listed. */
static json_t *board_item(json_t *board, const char *persona)
{
    json_t *items = json_object_get(board, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(it, "persona_id")), persona) == 0)
            return it;
    }
    return NULL;
}

static void expect_mean(json_t *item, const char *metric, int64_t n, double mean)
{
    json_t *f = json_object_get(json_object_get(item, "metrics"), metric);
    assert_non_null(f);
    assert_int_equal(json_integer_value(json_object_get(f, "n")), n);
    double got = json_number_value(json_object_get(f, "mean"));
    if (fabs(got - mean) > 1e-9 * (fabs(mean) + 1))
        fail_msg("%s: mean %.12g, expected %.12g", metric, got, mean);
}

typedef struct units_of_day {
    int64_t day;
    int n;
    optimizer_day u[4];
} units_of_day;

static int keep_units_of_day(const optimizer_day *d, void *ctx, error *err)
{
    (void)err;
    units_of_day *k = ctx;
    if (d->day == k->day && k->n < 4)
        k->u[k->n++] = *d;
    return 0;
}

static void
test_performance_gives_each_video_to_its_persona_and_the_rest_of_the_day_to_the_channels(
    void **state)
{
    world *w = *state;
    video_world v;
    two_published_videos(w, &v);
    /* The channel runs a third persona, assigned long before the range. */
    char p3[37];
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL("SELECT id FROM personas WHERE type = 'SYSTEM' ORDER BY id LIMIT 1 OFFSET 2");
    db_error de;
    db_stmt *st = db_prepare(c, &q, &de);
    assert_int_equal(db_step(st, &de), DB_ROW);
    snprintf(p3, sizeof(p3), "%s", db_col_text(st, 0));
    db_reset(st);
    db_release(c);
    char aid[37];
    uuid_v7(aid);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO channel_persona_assignments (id, channel_id, user_id, "
                     "persona_id, source, created_at) VALUES ($1, $2, (SELECT user_id FROM "
                     "channels WHERE id = $2), $3, 'manual', $4)",
                     "ssst", aid, w->channel, p3, time_now_usec() - 200 * 86400000000LL) != 0)
        fail_msg("assignment: %s", de.message);
    if (testdb_execf(&w->api.t, &de, "UPDATE channels SET persona_id = $2 WHERE id = $1", "ss",
                     w->channel, p3) != 0)
        fail_msg("channel: %s", de.message);
    work_one(w);
    assert_int_equal(count(w, "SELECT count(*) FROM video_analytics"), 180);

    /* What each persona should have, day by day, from the fake's numbers. */
    fake_google_lock(w->fg);
    fake_video fa = w->fg->videos[0], fb = w->fg->videos[1];
    fake_google_unlock(w->fg);
    int64_t last = yesterday(), first = last - 89;
    double sum_a = 0, sum_b = 0, sum_rest = 0, sum_all = 0, wpv_rest = 0, ret_rest = 0;
    for (int64_t d = first; d <= last; d++) {
        char date[11];
        day_text(d, date);
        fake_analytics_day ch, xa, xb;
        fake_google_analytics_day(date, 0, &ch);
        fake_google_video_day(date, 0, &fa, &xa);
        fake_google_video_day(date, 0, &fb, &xb);
        double rest = (double)(ch.views - xa.views - xb.views);
        sum_a += (double)xa.views;
        sum_b += (double)xb.views;
        sum_rest += rest;
        sum_all += (double)ch.views;
        wpv_rest += ((double)ch.minutes - (double)xa.minutes - (double)xb.minutes) / rest;
        ret_rest += ch.percentage;
    }
    char query[128], f[11], t[11];
    day_text(first, f);
    day_text(last, t);
    snprintf(query, sizeof(query), "/api/v1/analytics/leaderboard?from=%s&to=%s&metric=%s", f, t,
             "watch_minutes_per_view");
    test_resp r = test_req(&w->api, "GET", query, w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    /* Video A's persona watches 4 minutes a view, the rest of the channel
     * 1.2, video B's 1: ranked in that order. */
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "persona_id")),
                        v.p1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "persona_id")),
                        p3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 2), "persona_id")),
                        v.p2);
    expect_mean(board_item(r.json, v.p1), "views_per_day", 90, sum_a / 90);
    expect_mean(board_item(r.json, v.p2), "views_per_day", 90, sum_b / 90);
    expect_mean(board_item(r.json, p3), "views_per_day", 90, sum_rest / 90);
    expect_mean(board_item(r.json, v.p1), "watch_minutes_per_view", 90, 4.0);
    expect_mean(board_item(r.json, v.p2), "watch_minutes_per_view", 90, 1.0);
    expect_mean(board_item(r.json, p3), "watch_minutes_per_view", 90, wpv_rest / 90);
    expect_mean(board_item(r.json, v.p1), "average_view_percentage", 90, 55.0);
    expect_mean(board_item(r.json, v.p2), "average_view_percentage", 90, 25.0);
    expect_mean(board_item(r.json, p3), "average_view_percentage", 90, ret_rest / 90);
    test_resp_free(&r);

    /* Every user's figures come through the roll-ups: once they are
     * recomputed they equal the raw attribution. */
    c = db_acquire(w->api.t.db);
    arena a;
    arena_init(&a, 4096);
    error e;
    int done = 0;
    assert_int_equal(perf_store_rollup(c, 1000, &done, &e), 0);
    assert_true(done > 0);
    perf_group *raw, *rolled;
    size_t nraw, nrolled;
    assert_int_equal(perf_store_by_persona_raw(c, &a, NULL, NULL, first, last, &raw, &nraw, &e), 0);
    assert_int_equal(perf_store_by_persona(c, &a, NULL, NULL, first, last, &rolled, &nrolled, &e),
                     0);
    assert_int_equal(nraw, 3);
    assert_int_equal(nrolled, 3);
    for (size_t i = 0; i < nraw; i++)
        for (size_t k = 0; k < nrolled; k++)
            if (strcmp(raw[i].persona_id, rolled[k].persona_id) == 0) {
                assert_int_equal(raw[i].channel_days, rolled[k].channel_days);
                for (int m = 0; m < PERF_METRICS; m++) {
                    assert_int_equal(raw[i].m[m].n, rolled[k].m[m].n);
                    assert_true(fabs(raw[i].m[m].sum - rolled[k].m[m].sum) <=
                                1e-9 * (fabs(raw[i].m[m].sum) + 1));
                }
            }

    /* The optimizer reads the same units: a day is three of them, the
     * day's views shared exactly. */
    units_of_day k = {.day = last};
    assert_int_equal(
        optimizer_store_channel_days(c, w->channel, first, last, keep_units_of_day, &k, &e), 0);
    assert_int_equal(k.n, 3);
    char ld[11];
    day_text(last, ld);
    fake_analytics_day ch, xa;
    fake_google_analytics_day(ld, 0, &ch);
    fake_google_video_day(ld, 0, &fa, &xa);
    double total = 0;
    for (int i = 0; i < k.n; i++) {
        total += k.u[i].views;
        if (strcmp(k.u[i].persona_id, v.p1) == 0)
            assert_true(k.u[i].views == (double)xa.views);
        assert_true(k.u[i].impressions < 0); /* no reach folded yet */
    }
    assert_true(total == (double)ch.views);
    arena_free(&a);
    db_release(c);

    /* Without the videos' rows the whole channel-day is the assigned
     * persona's again: the leaderboard has it alone, at 2 minutes a view. */
    testdb_exec(&w->api.t, "DELETE FROM video_analytics");
    r = test_req(&w->api, "GET", query, w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    expect_mean(board_item(r.json, p3), "views_per_day", 90, sum_all / 90);
    expect_mean(board_item(r.json, p3), "watch_minutes_per_view", 90, 2.0);
    assert_null(board_item(r.json, v.p1));
    test_resp_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    FILE *quiet = tmpfile(); /* the retries these tests cause are logged as warnings */
    log_init(LOG_WARN, quiet);
    const struct CMUnitTest tests[] = {
        T(test_the_import_backfill_stores_what_youtube_served_to_the_unit_with_iso_weeks_rolled_up),
        T(test_a_rerun_changes_nothing_and_a_revised_day_overwrites_its_row_and_week),
        T(test_weeks_are_iso_weeks_with_view_weighted_means_and_impression_weighted_ctr),
        T(test_a_backfill_whose_chunk_fails_resumes_at_the_first_missing_chunk_without_gap_or_double_count),
        T(test_a_backfill_failing_at_any_statement_or_commit_resumes_with_no_gap_or_duplicate),
        T(test_a_worker_killed_mid_backfill_leaves_whole_chunks_and_the_next_one_finishes_it),
        T(test_two_writers_of_one_week_at_once_leave_it_the_rollup_of_all_its_days),
        T(test_the_checker_names_a_week_that_is_not_the_rollup_of_its_days),
        T(test_quota_and_rate_limits_wait_for_their_window_and_lose_no_stored_row),
        T(test_an_expired_token_is_refreshed_once_and_invalid_grant_asks_for_reconnect),
        T(test_columns_are_read_by_name_and_a_malformed_report_stores_nothing),
        T(test_days_youtube_has_not_finished_are_absent_and_fetched_again_later),
        T(test_the_daily_sweep_queues_one_collect_per_linked_channel_per_day),
        T(test_backfill_requests_are_validated_and_shared_while_they_run),
        T(test_reads_default_to_the_last_28_days_validate_their_query_and_are_404_for_others),
        T(test_a_studio_export_in_english_is_stored_by_header_names_and_again_changes_nothing),
        T(test_a_portuguese_export_keeps_good_rows_and_reports_bad_ones_by_line),
        T(test_an_import_that_cannot_be_used_is_refused_and_writes_nothing),
        T(test_impressions_without_their_ctr_are_ignored_and_a_repeated_header_refused),
        T(test_published_videos_are_stored_per_video_and_day_with_the_persona_that_wrote_each),
        T(test_a_report_by_video_that_fails_or_is_malformed_stores_nothing_of_its_chunk),
        T(test_performance_gives_each_video_to_its_persona_and_the_rest_of_the_day_to_the_channels),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fclose(quiet);
    return rc;
}
