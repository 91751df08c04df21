/*
 * Impressions and impression CTR from the YouTube Reporting API (issue 12,
 * decision 78), against the fake Google on loopback (fake_google.c) that
 * speaks jobs.list, jobs.create, jobs.reports.list and the report download
 * with their failures. A report's CSV, several videos a day and several
 * breakdown rows a video, is summed per day to the unit with an
 * impression-weighted CTR; a report is folded once, a regenerated one
 * replaces its days and an older one never does; reach that comes before
 * its day's row is kept and merged later; the reporting job is created
 * once; faults wait, retry or ask for a reconnect and lose nothing folded;
 * the token never goes to another origin. The checker (testcheck.c) proves
 * after every test that each DAY row carries its day's reach and each WEEK
 * row is the rollup of its days.
 */
#include "testlib.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "fake_google.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/youtube_reporting.h"
#include "services/analytics_service.h"
#include "services/google_service.h"

#include <curl/curl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_ID     "pstudio-test.apps.googleusercontent.com"
#define CLIENT_SECRET "GOCSPX-test-client-secret-0123456789"
#define ALICE_1       "UCalice0000000000000001"
#define CSV_HEADER                                                                                 \
    "date,channel_id,video_id,live_or_on_demand,subscribed_status,video_thumbnail_impressions,"    \
    "video_thumbnail_impressions_ctr\n"

typedef struct world {
    test_api api;
    fake_google *fg;
    char key[64];
    char urls[8][256];
    char ana[128];
    char ana_cookie[200];
    char account[37], channel[37];
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
    g->youtube_reporting_url = w->urls[6];
    w->api.svc.secret_key_b64 = w->key;
    test_signup(&w->api, "ana@example.com", w->ana);
    snprintf(w->ana_cookie, sizeof(w->ana_cookie), "Cookie: pstudio_session=%s", w->ana);
    google_service_register_jobs(&w->api.svc);
    analytics_service_register_jobs(&w->api.svc);
    analytics_reach_register_jobs(&w->api.svc);
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

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Connects ana's Google account as the fake's "alice", imports her first
 * channel and runs its import backfill (the last 90 days), so the DAY rows
 * exist up to the fake's analytics_last_day. */
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
    error e;
    assert_int_equal(job_work_one(w->api.t.db, "test:1", &e), 1); /* the import backfill */
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.backfill' AND "
                              "status = 'done'"),
                     1);
}

static void work_one(world *w)
{
    error e;
    int rc = job_work_one(w->api.t.db, "test:1", &e);
    if (rc != 1)
        fail_msg("expected a job to run (%d): %s", rc, rc < 0 ? e.message : "none runnable");
}

/* Queues one job of kind for ana's channel, as the daily sweep does. */
static void queue_job(world *w, const char *kind)
{
    testdb_exec(&w->api.t, "DELETE FROM jobs WHERE status <> 'running'");
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
    assert_int_equal(job_enqueue(c, kind, payload, &o, id, &e), 0);
    db_release(c);
    json_decref(payload);
}

static void run_reach(world *w)
{
    queue_job(w, ANALYTICS_JOB_REACH);
    work_one(w);
}

static int64_t reach_jobs(world *w, const char *status)
{
    char q[160];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM jobs WHERE kind = 'analytics.reach' AND status "
             "= '%s'",
             status);
    return count(w, q);
}

static void day_text(int64_t day, char out[TIME_DAY_STR_LEN + 1])
{
    time_day_format(day, out);
}

/* "YYYYMMDD", as the Reporting API writes dates. */
static void day_compact(int64_t day, char out[9])
{
    char d[TIME_DAY_STR_LEN + 1];
    time_day_format(day, d);
    snprintf(out, 9, "%.4s%.2s%.2s", d, d + 5, d + 8);
}

static int64_t yesterday(void)
{
    return time_day_of(time_now_usec()) - 1;
}

/* A report's CSV for day: rows of (video, breakdown, impressions, ctr) for
 * ana's channel, and one row of another channel, which never counts. */
typedef struct reach_row {
    const char *video, *live, *subscribed;
    long long impressions;
    const char *ctr;
} reach_row;

static void reach_csv(int64_t day, const reach_row *rows, size_t n, char *out, size_t cap)
{
    char d[9];
    day_compact(day, d);
    size_t len = (size_t)snprintf(out, cap, "%s", CSV_HEADER);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s,%s,%s,%s,%s,%lld,%s\n", d, ALICE_1,
                                rows[i].video, rows[i].live, rows[i].subscribed,
                                rows[i].impressions, rows[i].ctr);
    snprintf(out + len, cap - len,
             "%s,UCsomeoneelse000000000001,vX,on_demand,subscribed,99999,0.9\n", d);
}

/* A report of day, made two days later at 03:00 plus minutes_after minutes. */
static void add_report(world *w, const char *id, int64_t day, int minutes_after, const char *csv)
{
    char d[TIME_DAY_STR_LEN + 1], made_day[TIME_DAY_STR_LEN + 1], made[40];
    day_text(day, d);
    day_text(day + 2, made_day);
    snprintf(made, sizeof(made), "%sT%02d:%02d:00.250000Z", made_day, 3 + minutes_after / 60,
             minutes_after % 60);
    fake_google_add_reach_report(w->fg, id, d, made, csv);
}

/* The stored DAY or WEEK row of ana's channel dated day, through the API. */
static json_t *api_row(world *w, const char *period, int64_t day, test_resp *r)
{
    char d[TIME_DAY_STR_LEN + 1], path[256];
    day_text(day, d);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/analytics?period=%s&from=%s&to=%s",
             w->channel, period, d, d);
    *r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(r, 200, NULL);
    json_t *items = json_object_get(r->json, "items");
    return json_array_size(items) == 1 ? json_array_get(items, 0) : NULL;
}

static void expect_reach(world *w, int64_t day, long long impressions, double ctr_percent)
{
    test_resp r;
    json_t *row = api_row(w, "DAY", day, &r);
    assert_non_null(row);
    assert_int_equal(json_integer_value(json_object_get(row, "impressions")), impressions);
    if (ctr_percent < 0)
        assert_true(json_is_null(json_object_get(row, "avg_ctr")));
    else
        assert_true(fabs(json_number_value(json_object_get(row, "avg_ctr")) - ctr_percent) <
                    1e-9 * (1 + ctr_percent));
    test_resp_free(&r);
}

/* Three videos, two of them with breakdown rows, one with no impressions
 * (its CTR left empty, as YouTube does): 1000 at 5 %, 3000 at 2 %, 500 at
 * 10 %, 0: 4500 impressions, 160 clicks, 3.5555… %. */
static const reach_row day1_rows[] = {
    {"vid00000001", "on_demand", "subscribed", 1000, "0.05"},
    {"vid00000001", "on_demand", "not_subscribed", 3000, "0.02"},
    {"vid00000002", "live", "subscribed", 500, "0.1"},
    {"vid00000003", "on_demand", "not_subscribed", 0, ""},
};
#define DAY1_IMPRESSIONS 4500
#define DAY1_CTR         (100.0 * 160.0 / 4500.0)

/* ---- tests ------------------------------------------------------------------------ */

static void
test_a_report_is_summed_per_day_over_videos_and_breakdown_rows_with_an_impression_weighted_ctr(
    void **state)
{
    world *w = *state;
    connect_and_import(w);
    int64_t d1 = yesterday() - 20, d2 = d1 + 1, d3 = d1 + 2;
    char csv[4096];
    reach_csv(d1, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-d1", d1, 0, csv);
    const reach_row day2_rows[] = {{"vid00000001", "on_demand", "subscribed", 7, "0.142857"},
                                   {"vid00000004", "on_demand", "subscribed", 1993, "0.0301"}};
    reach_csv(d2, day2_rows, 2, csv, sizeof(csv));
    add_report(w, "rep-d2", d2, 0, csv);
    reach_csv(d3, NULL, 0, csv, sizeof(csv)); /* a day with no impressions of ana's */
    add_report(w, "rep-d3", d3, 0, csv);
    fake_google_lock(w->fg);
    w->fg->reporting_other_job = true;   /* our job is on the list's second page */
    w->fg->reporting_expired_job = true; /* beside one that expired: not used */
    /* Connect asked for the scope the Reporting API needs. */
    assert_non_null(
        strstr(w->fg->auth_scope, "https://www.googleapis.com/auth/yt-analytics.readonly"));
    fake_google_unlock(w->fg);

    run_reach(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->job_creates, 1);  /* none was there yet */
    assert_int_equal(w->fg->report_lists, 2); /* three reports, two a page */
    assert_int_equal(w->fg->media_calls, 3);
    assert_string_equal(w->fg->last_created_after, ""); /* nothing folded before: all */
    assert_string_equal(w->fg->reporting_bad, "");
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_reports"), 3);

    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);
    expect_reach(w, d2, 2000, 100.0 * (7 * 0.142857 + 1993 * 0.0301) / 2000);
    expect_reach(w, d3, 0, -1);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_analytics WHERE period = 'DAY' AND "
                              "impressions IS NOT NULL"),
                     3);

    /* The weeks: impressions summed, CTR weighted by them, over the days
     * that have reach. */
    long long imp = 0;
    double clicks = 0;
    int64_t mon = time_day_monday(d1);
    int64_t per[3] = {DAY1_IMPRESSIONS, 2000, 0};
    double ctr[3] = {DAY1_CTR, 100.0 * (7 * 0.142857 + 1993 * 0.0301) / 2000, 0};
    for (int k = 0; k < 3; k++)
        if (time_day_monday(d1 + k) == mon) {
            imp += per[k];
            clicks += (double)per[k] * ctr[k];
        }
    test_resp r;
    json_t *week = api_row(w, "WEEK", mon, &r);
    assert_non_null(week);
    assert_int_equal(json_integer_value(json_object_get(week, "impressions")), imp);
    assert_true(fabs(json_number_value(json_object_get(week, "avg_ctr")) - clicks / (double)imp) <
                1e-9);
    test_resp_free(&r);
}

static void
test_a_report_is_never_folded_twice_and_a_regenerated_report_replaces_its_day(void **state)
{
    world *w = *state;
    connect_and_import(w);
    int64_t d1 = yesterday() - 10;
    char csv[4096];
    reach_csv(d1, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-a", d1, 0, csv);
    run_reach(w);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);

    /* Again: the job is found, not created; the report is listed again
     * (from an hour before the last one folded) and skipped by its id. */
    int64_t t0 = time_now_usec();
    run_reach(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->job_creates, 1);
    assert_int_equal(w->fg->job_lists, 2);
    assert_int_equal(w->fg->media_calls, 1);
    assert_string_not_equal(w->fg->last_created_after, "");
    fake_google_unlock(w->fg);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);
    char tt[TIME_STR_LEN + 1], q[200];
    time_format(t0, tt);
    snprintf(q, sizeof(q), "SELECT count(*) FROM channel_analytics WHERE updated_at >= '%s'", tt);
    assert_int_equal(count(w, q), 0);

    /* YouTube regenerates the day's report (a later createTime): the day
     * takes its numbers, not their sum, and so does its week. */
    const reach_row fixed[] = {{"vid00000001", "on_demand", "subscribed", 800, "0.25"}};
    reach_csv(d1, fixed, 1, csv, sizeof(csv));
    add_report(w, "rep-a-regenerated", d1, 120, csv);
    run_reach(w);
    expect_reach(w, d1, 800, 25.0);
    test_resp r;
    json_t *week = api_row(w, "WEEK", time_day_monday(d1), &r);
    assert_int_equal(json_integer_value(json_object_get(week, "impressions")), 800);
    test_resp_free(&r);

    /* A report made before that one but listed after it (inside the hour
     * listed again) is recorded, yet does not undo the newer numbers. */
    const reach_row stale[] = {{"vid00000001", "on_demand", "subscribed", 5, "0.2"}};
    reach_csv(d1, stale, 1, csv, sizeof(csv));
    add_report(w, "rep-a-older", d1, 100, csv);
    run_reach(w);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_reports"), 3);
    expect_reach(w, d1, 800, 25.0);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_days"), 1);
}

static void
test_reach_that_comes_before_its_day_row_is_kept_and_merged_when_the_day_comes(void **state)
{
    world *w = *state;
    int64_t last = yesterday(), early = last - 3;
    char d[TIME_DAY_STR_LEN + 1];
    day_text(early, d);
    fake_google_lock(w->fg);
    snprintf(w->fg->analytics_last_day, sizeof(w->fg->analytics_last_day), "%s", d);
    fake_google_unlock(w->fg);
    connect_and_import(w); /* DAY rows up to three days ago */

    char csv[4096];
    reach_csv(last - 1, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-late-day", last - 1, 0, csv);
    run_reach(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    char q[200], dd[TIME_DAY_STR_LEN + 1];
    day_text(last - 1, dd);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM channel_analytics WHERE period = 'DAY' AND date = '%s'", dd);
    assert_int_equal(count(w, q), 0); /* no row invented */
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_days"), 1);

    /* YouTube finishes the days: the daily run writes them, with the reach
     * kept for them, and the week has it too. */
    fake_google_lock(w->fg);
    w->fg->analytics_last_day[0] = '\0';
    fake_google_unlock(w->fg);
    queue_job(w, ANALYTICS_JOB_COLLECT);
    work_one(w);
    assert_int_equal(count(w, q), 1);
    expect_reach(w, last - 1, DAY1_IMPRESSIONS, DAY1_CTR);
    test_resp r;
    json_t *week = api_row(w, "WEEK", time_day_monday(last - 1), &r);
    assert_int_equal(json_integer_value(json_object_get(week, "impressions")), DAY1_IMPRESSIONS);
    test_resp_free(&r);
}

static int64_t reach_run_at(world *w)
{
    db_conn *c = db_acquire(w->api.t.db);
    db_sql q = DB_SQL("SELECT run_at FROM jobs WHERE kind = 'analytics.reach'");
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    assert_int_equal(db_step(s, &de), DB_ROW);
    int64_t t = db_col_time(s, 0);
    db_reset(s);
    db_release(c);
    return t;
}

static void expect_retry_with_error(world *w, const char *part)
{
    assert_int_equal(reach_jobs(w, "queued"), 1);
    char q[256];
    snprintf(
        q, sizeof(q),
        "SELECT count(*) FROM jobs WHERE kind = 'analytics.reach' AND last_error LIKE '%%%s%%'",
        part);
    if (count(w, q) != 1)
        fail_msg("the reach job's last error does not say \"%s\"", part);
}

static void set_mode(world *w, int mode)
{
    fake_google_lock(w->fg);
    w->fg->reporting_mode = mode;
    fake_google_unlock(w->fg);
}

static void
test_quota_rate_limits_outages_and_malformed_answers_wait_or_retry_and_lose_nothing_folded(
    void **state)
{
    world *w = *state;
    connect_and_import(w);
    int64_t d1 = yesterday() - 12;
    char csv[4096];
    reach_csv(d1, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-ok", d1, 0, csv);
    run_reach(w);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);

    /* 403 quotaExceeded: until Google's reset at midnight Pacific time. */
    set_mode(w, FAKE_REPORTING_QUOTA);
    int64_t before = time_now_usec();
    run_reach(w);
    assert_int_equal(reach_jobs(w, "queued"), 1);
    int64_t at = reach_run_at(w);
    assert_true(at >= time_next_pacific_midnight(before) &&
                at <= time_next_pacific_midnight(time_now_usec()) + 600000000LL);

    /* 429: after its Retry-After. */
    set_mode(w, FAKE_REPORTING_RATE_LIMITED);
    before = time_now_usec();
    run_reach(w);
    at = reach_run_at(w);
    assert_true(at >= before + 45000000LL && at <= time_now_usec() + 46000000LL);

    /* 503 and a body that is not JSON: retried with backoff, with an error
     * that says what happened. */
    set_mode(w, FAKE_REPORTING_UNAVAILABLE);
    run_reach(w);
    expect_retry_with_error(w, "503");
    set_mode(w, FAKE_REPORTING_NOT_JSON);
    run_reach(w);
    expect_retry_with_error(w, "malformed (not a JSON object)");
    set_mode(w, FAKE_REPORTING_OK);

    /* A CSV without the CTR column, and one with a CTR in percent where a
     * ratio is documented: refused whole, nothing of them stored. */
    int64_t d2 = d1 + 1;
    char bad[512], dc[9];
    day_compact(d2, dc);
    snprintf(bad, sizeof(bad),
             "date,channel_id,video_id,video_thumbnail_impressions\n%s,%s,v1,100\n", dc, ALICE_1);
    add_report(w, "rep-no-ctr", d2, 0, bad);
    run_reach(w);
    expect_retry_with_error(w, "the column video_thumbnail_impressions_ctr is missing");
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    fake_google_lock(w->fg);
    w->fg->nreports = 1;
    fake_google_unlock(w->fg);
    snprintf(bad, sizeof(bad),
             "date,channel_id,video_id,video_thumbnail_impressions,video_thumbnail_impressions_ctr"
             "\n%s,%s,v1,100,4.5\n",
             dc, ALICE_1);
    add_report(w, "rep-percent", d2, 0, bad);
    run_reach(w);
    expect_retry_with_error(w, "line 2: the click-through rate is not a ratio between 0 and 1");
    /* A field past the CSV reader's cap (256 bytes): refused, not cut. */
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    fake_google_lock(w->fg);
    w->fg->nreports = 1;
    fake_google_unlock(w->fg);
    char video[300];
    memset(video, 'v', sizeof(video) - 1);
    video[sizeof(video) - 1] = '\0';
    char longcsv[1024];
    snprintf(longcsv, sizeof(longcsv), "%s%s,%s,%s,on_demand,subscribed,10,0.1\n", CSV_HEADER, dc,
             ALICE_1, video);
    add_report(w, "rep-long-field", d2, 0, longcsv);
    run_reach(w);
    expect_retry_with_error(w, "line 2: a field is longer than 256 bytes");
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_reports"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_days"), 1);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);

    /* A download that fails: retried; then it goes through. */
    fake_google_lock(w->fg);
    w->fg->nreports = 1;
    w->fg->media_fail_at = 1;
    fake_google_unlock(w->fg);
    reach_csv(d2, day1_rows, 2, csv, sizeof(csv));
    add_report(w, "rep-d2", d2, 0, csv);
    run_reach(w);
    expect_retry_with_error(w, "503");
    testdb_exec(&w->api.t, "UPDATE jobs SET run_at = '2000-01-01T00:00:00.000000Z'");
    work_one(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    expect_reach(w, d2, 4000, 100.0 * 110.0 / 4000.0);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);
}

static void
test_an_expired_token_is_refreshed_once_and_invalid_grant_asks_for_reconnect_keeping_reach(
    void **state)
{
    world *w = *state;
    connect_and_import(w);
    int64_t d1 = yesterday() - 15;
    char csv[4096];
    reach_csv(d1, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-1", d1, 0, csv);
    fake_google_expire_access_tokens(w->fg);
    fake_google_lock(w->fg);
    int refreshes = w->fg->refreshes;
    fake_google_unlock(w->fg);
    run_reach(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, refreshes + 1);
    fake_google_unlock(w->fg);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);

    /* The grant is revoked: the account needs reconnecting, the job ends,
     * the folded reach stays. */
    fake_google_expire_access_tokens(w->fg);
    fake_google_lock(w->fg);
    w->fg->refresh_invalid = true;
    fake_google_unlock(w->fg);
    run_reach(w);
    assert_int_equal(reach_jobs(w, "done"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE status = 'needs_reconnect'"), 1);
    expect_reach(w, d1, DAY1_IMPRESSIONS, DAY1_CTR);
}

static void test_a_download_url_on_another_origin_is_refused_and_gets_no_token(void **state)
{
    world *w = *state;
    connect_and_import(w);
    char csv[4096];
    reach_csv(yesterday() - 5, day1_rows, 4, csv, sizeof(csv));
    add_report(w, "rep-offsite", yesterday() - 5, 0, csv);
    fake_google_lock(w->fg);
    w->fg->reporting_offsite = true; /* localhost: the same server, another origin */
    fake_google_unlock(w->fg);
    run_reach(w);
    expect_retry_with_error(w, "names a download URL outside");
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->media_calls, 0);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM channel_reach_reports"), 0);

    /* The rule itself: scheme, host and port exactly, then a path. */
    const char *base = "https://youtubereporting.googleapis.com";
    assert_true(youtube_reporting_same_origin(
        base, "https://youtubereporting.googleapis.com/v1/media/CHANNEL/x/jobs/1/reports/2"));
    const char *refused[] = {
        "http://youtubereporting.googleapis.com/v1/media/x",
        "https://youtubereporting.googleapis.com.evil.example/v1/media/x",
        "https://youtubereporting.googleapis.com@evil.example/v1/media/x",
        "https://youtubereporting.googleapis.com:8443/v1/media/x",
        "https://youtubereporting.googleapis.com",
        "https://youtubereporting.googleapis.com/v1/media/x y",
        "https://evil.example/https://youtubereporting.googleapis.com/v1",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (youtube_reporting_same_origin(base, refused[i]))
            fail_msg("%s was taken for the reporting origin", refused[i]);
}

/* The daily sweep queues the reach job beside the days' job, once a day. */
static void test_the_daily_sweep_queues_a_reach_job_per_linked_channel_per_day(void **state)
{
    world *w = *state;
    connect_and_import(w);
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    for (int run = 0; run < 2; run++) {
        db_conn *c = db_acquire(w->api.t.db);
        char id[37];
        error e;
        assert_int_equal(job_enqueue(c, ANALYTICS_JOB_COLLECT_ALL, NULL, NULL, id, &e), 0);
        db_release(c);
        work_one(w);
    }
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.reach'"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM jobs WHERE kind = 'analytics.collect'"), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    FILE *quiet = tmpfile(); /* the retries these tests cause are logged as warnings */
    log_init(LOG_WARN, quiet);
    const struct CMUnitTest tests[] = {
        T(test_a_report_is_summed_per_day_over_videos_and_breakdown_rows_with_an_impression_weighted_ctr),
        T(test_a_report_is_never_folded_twice_and_a_regenerated_report_replaces_its_day),
        T(test_reach_that_comes_before_its_day_row_is_kept_and_merged_when_the_day_comes),
        T(test_quota_rate_limits_outages_and_malformed_answers_wait_or_retry_and_lose_nothing_folded),
        T(test_an_expired_token_is_refreshed_once_and_invalid_grant_asks_for_reconnect_keeping_reach),
        T(test_a_download_url_on_another_origin_is_refused_and_gets_no_token),
        T(test_the_daily_sweep_queues_a_reach_job_per_linked_channel_per_day),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fclose(quiet);
    return rc;
}
