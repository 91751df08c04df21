/*
 * Impressions and impression CTR from the YouTube Reporting API: the
 * analytics.reach job of one channel (decision 78). Part of the
 * analytics_service module (services/analytics_service.h).
 */
#include "services/analytics_service.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "jobs/worker.h"
#include "providers/youtube_reporting.h"
#include "services/analytics_internal.h"
#include "services/google_internal.h"

#include <stdlib.h>
#include <string.h>

#define REACH_PAGES_MAX   20  /* pages of reports in one run; the rest wait for the next */
#define REACH_REPORTS_MAX 500 /* reports folded in one run (60 days kept, and regenerations) */
#define REACH_RELIST_USEC (3600LL * 1000000) /* listed again before the cursor: skipped by id */
#define REACH_API         "YouTube Reporting"

/* ---- Google calls ---------------------------------------------------------------- */

/* Finds the channel's reporting job, or creates it the first time. */
typedef struct reach__job_call {
    services *s;
    arena *a;
    const char *job_id;
    bool created;
} reach__job_call;

static int reach__job_of(const char *access, void *arg, google_status *st, error *e)
{
    reach__job_call *k = arg;
    const char *base = k->s->google.youtube_reporting_url;
    if (youtube_reporting_find_job(base, access, YOUTUBE_REACH_REPORT_TYPE, k->a, &k->job_id, st,
                                   e) != 0)
        return -1;
    if (k->job_id != NULL)
        return 0;
    k->created = true;
    return youtube_reporting_create_job(base, access, YOUTUBE_REACH_REPORT_TYPE,
                                        YOUTUBE_REACH_JOB_NAME, k->a, &k->job_id, st, e);
}

/* The reports made after created_after (< 0: all), every page up to the caps. */
typedef struct reach__list_call {
    services *s;
    arena *a;
    const char *job_id;
    int64_t created_after;
    youtube_report *rows;
    size_t n;
} reach__list_call;

static int reach__list(const char *access, void *arg, google_status *st, error *e)
{
    reach__list_call *k = arg;
    k->rows = arena_calloc(k->a, REACH_REPORTS_MAX * sizeof(*k->rows));
    k->n = 0;
    const char *token = NULL;
    for (int page = 0; page < REACH_PAGES_MAX; page++) {
        youtube_report *got;
        size_t n;
        if (youtube_reporting_list_reports(k->s->google.youtube_reporting_url, access, k->job_id,
                                           k->created_after, token, k->a, &got, &n, &token, st,
                                           e) != 0)
            return -1;
        for (size_t i = 0; i < n && k->n < REACH_REPORTS_MAX; i++)
            k->rows[k->n++] = got[i];
        if (token == NULL || k->n == REACH_REPORTS_MAX)
            break;
    }
    return 0;
}

/* One report's CSV, read into its days. */
typedef struct reach__csv_call {
    services *s;
    arena *a;
    const youtube_report *r;
    const char *youtube_channel_id;
    youtube_reach_day *days;
    size_t n;
} reach__csv_call;

static int reach__csv(const char *access, void *arg, google_status *st, error *e)
{
    reach__csv_call *k = arg;
    buf body;
    if (youtube_reporting_download(k->s->google.youtube_reporting_url, access, k->r, &body, st,
                                   e) != 0)
        return -1;
    int rc =
        youtube_reporting_reach_days(body.data ? body.data : "", body.len, k->youtube_channel_id,
                                     k->r, k->a, &k->days, &k->n, st, e);
    buf_free(&body);
    return rc;
}

/* A Google call with the token handling every analytics job shares. */
static int reach__call(services *s, db_conn *c, arena *keep, account *acc, google_call_fn fn,
                       void *arg, google_err *ge)
{
    google_status gs;
    if (google_service__call(s, c, keep, acc, REACH_API, fn, arg, &gs, ge) == 0)
        return 0;
    google_service__quota_wait(&gs, REACH_API, ge);
    return -1;
}

/* ---- folding ---------------------------------------------------------------------- */

typedef struct reach__fold_tx {
    arena *a;
    const channel *ch;
    const youtube_report *r;
    const youtube_reach_day *days;
    size_t n;
    bool folded;
} reach__fold_tx;

/* One report: recorded (once ever), its days stored, merged into the DAY
 * rows that exist, and the weeks they touch rolled up, all or nothing. */
static int reach__fold_body(db_conn *c, void *arg, error *err)
{
    reach__fold_tx *tx = arg;
    /* One writer per channel at a time, as for the days (decision 74). */
    channel locked;
    if (channel_store_get(c, tx->a, tx->ch->user_id, tx->ch->id, true, NULL, &locked, err) != 0)
        return -1;
    int64_t now = time_now_usec();
    bool fresh;
    if (analytics_store_reach_report(c, tx->ch->user_id, tx->ch->id, tx->r->id, tx->r->first_day,
                                     tx->r->last_day, tx->r->create_time, now, &fresh, err) != 0)
        return -1;
    if (!fresh) /* another run folded it first */
        return 0;
    for (size_t i = 0; i < tx->n; i++) {
        analytics_reach_day d = {.day = tx->days[i].day,
                                 .impressions = tx->days[i].impressions,
                                 .avg_ctr = tx->days[i].avg_ctr,
                                 .report_id = tx->r->id,
                                 .report_created_at = tx->r->create_time};
        snprintf(d.channel_id, sizeof(d.channel_id), "%s", tx->ch->id);
        snprintf(d.user_id, sizeof(d.user_id), "%s", tx->ch->user_id);
        if (analytics_store_reach_put(c, &d, now, err) != 0)
            return -1;
    }
    if (analytics_store_merge_reach(c, tx->ch->user_id, tx->ch->id, tx->r->first_day,
                                    tx->r->last_day, now, err) != 0)
        return -1;
    for (int64_t mon = time_day_monday(tx->r->first_day); mon <= tx->r->last_day; mon += 7)
        if (analytics_store_rollup_week(c, tx->ch->user_id, tx->ch->id, mon, now, err) != 0)
            return -1;
    tx->folded = true;
    return 0;
}

static int reach__by_create_time(const void *x, const void *y)
{
    const youtube_report *a = x, *b = y;
    if (a->create_time != b->create_time)
        return a->create_time < b->create_time ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Lists the channel's new reports and folds each in its own transaction; a
 * failure leaves the ones folded before it. */
static int reach__collect(services *s, db_conn *c, arena *a, const channel *ch, account *acc,
                          size_t *folded, bool *created, google_err *ge)
{
    reach__job_call jc = {s, a, NULL, false};
    if (reach__call(s, c, a, acc, reach__job_of, &jc, ge) != 0)
        return -1;
    *created = jc.created;
    int64_t cursor = 0;
    bool found = false;
    error e;
    if (analytics_store_reach_cursor(c, ch->id, &cursor, &found, &e) != 0)
        return google_service__plain(ge, &e);
    /* From a little before the latest report folded: reports made at about
     * the same instant are listed again, and skipped by their id. */
    reach__list_call lc = {s, a, jc.job_id, found ? cursor - REACH_RELIST_USEC : -1, NULL, 0};
    if (reach__call(s, c, a, acc, reach__list, &lc, ge) != 0)
        return -1;
    qsort(lc.rows, lc.n, sizeof(*lc.rows), reach__by_create_time);
    for (size_t i = 0; i < lc.n; i++) {
        if (job_cancelled())
            return google_service__fail(ge, GOOGLE_PROBLEM_NONE, ERR_UNAVAILABLE,
                                        "the reach job was stopped between two reports");
        const youtube_report *r = &lc.rows[i];
        bool done;
        if (analytics_store_reach_folded(c, ch->id, r->id, &done, &e) != 0)
            return google_service__plain(ge, &e);
        if (done)
            continue;
        arena ra;
        arena_init(&ra, 16384);
        reach__csv_call cc = {s, &ra, r, ch->youtube_channel_id, NULL, 0};
        int rc = reach__call(s, c, a, acc, reach__csv, &cc, ge);
        reach__fold_tx tx = {&ra, ch, r, cc.days, cc.n, false};
        if (rc == 0 && db_tx(c, reach__fold_body, &tx, &e) != 0)
            rc = google_service__plain(ge, &e);
        *folded += tx.folded;
        arena_free(&ra);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void reach__job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    services *s = ctx;
    const char *channel_id = analytics_service__payload_id(j);
    if (channel_id == NULL) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload", "a reach job needs a channel_id and a user");
        return;
    }
    if (s->google.youtube_reporting_url == NULL) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_CONFIG, NULL,
                  "the YouTube Reporting URL is not set (PSTUDIO_YOUTUBE_REPORTING_URL)");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    channel ch;
    account acc;
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    size_t folded = 0;
    bool created = false;
    int rc = analytics_service__open(s, c, &a, j->user_id, channel_id, &ch, &acc, &ge);
    if (rc == 0)
        rc = reach__collect(s, c, &a, &ch, &acc, &folded, &created, &ge);
    if (rc == 1) { /* unlinked since it was queued: nothing to collect */
        job_complete_alone(c, j, out);
    } else if (rc != 0) {
        analytics_service__job_failed(c, j, &ge, out);
    } else {
        log_info("reach of channel %s collected: %zu report(s) folded%s", ch.id, folded,
                 created ? "; its YouTube reporting job was created" : "");
        job_complete_alone(c, j, out);
    }
    arena_free(&a);
}

void analytics_reach_register_jobs(services *s)
{
    job_register(ANALYTICS_JOB_REACH, reach__job, s, 300);
}
