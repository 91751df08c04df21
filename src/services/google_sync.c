/*
 * google_service, part two: discovering a grant's YouTube channels,
 * importing them, and keeping their cached stats fresh through the job
 * queue. Quota and rate limits never surface as a raw upstream error: an
 * interactive listing answers QUOTA with a retry time, an import is queued
 * to run later, and a stats job retries at the time Google names.
 */
#include "services/google_service.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/job_store.h"
#include "domain/oauth_state_store.h"
#include "jobs/worker.h"
#include "services/analytics_service.h"
#include "services/channel_service.h"
#include "services/google_internal.h"
#include "services/token_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOOGLE_SYNC_DAY_SECONDS 86400
#define GOOGLE_SYNC_TRIES       8 /* quota waits are long; give them room */

static int google_sync__account(services *s, db_conn *c, arena *a, const char *user_id,
                                const char *account_id, account *acc, google_err *ge)
{
    /* Tenancy first: another user's account is a 404 whatever the settings. */
    error e;
    if (account_store_get(c, a, user_id, account_id, acc, &e) != 0)
        return google_service__plain(ge, &e);
    return google_service__require_configured(s, ge);
}

int google_service_discover(services *s, db_conn *c, arena *a, const principal *p,
                            const char *account_id, google_found **out, size_t *n, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    *n = 0;
    account acc;
    youtube_channel *rows;
    size_t nrows;
    if (google_sync__account(s, c, a, p->user_id, account_id, &acc, ge) != 0 ||
        google_service__list_channels(s, c, a, &acc, &rows, &nrows, ge) != 0)
        return -1;
    *out = arena_calloc(a, (nrows ? nrows : 1) * sizeof(**out));
    for (size_t i = 0; i < nrows; i++) {
        google_found *f = &(*out)[i];
        f->yt = rows[i];
        channel ch;
        error e;
        int rc = channel_store_find_youtube(c, a, p->user_id, rows[i].id, &ch, &e);
        if (rc != 0 && e.kind != ERR_NOT_FOUND)
            return google_service__plain(ge, &e);
        f->channel_id = rc == 0 ? arena_strdup(a, ch.id) : NULL;
    }
    *n = nrows;
    return 0;
}

/* ---- import -------------------------------------------------------------------- */

/* The import's payload when it has to wait for YouTube's quota. The plan
 * limit travels with it: the job checks the limit again when it runs. */
static json_t *google_sync__import_payload(const principal *p, const char *account_id,
                                           const char *const *ids, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(ids[i]));
    return json_pack("{s:s,s:o,s:i,s:s}", "account_id", account_id, "youtube_channel_ids", list,
                     "max_channels", p->max_channels, "plan_code", p->plan_code);
}

static int google_sync__queue_import(db_conn *c, const principal *p, const char *account_id,
                                     const char *const *ids, size_t n, google_import *out,
                                     long retry_after_s, google_err *ge)
{
    /* One queued import per account and id set per hour, however often the
     * user presses the button while the quota is out; once that import has
     * run (or died), pressing again queues a new one. */
    buf key;
    buf_init(&key, 8192);
    for (size_t i = 0; i < n; i++)
        buf_printf(&key, "%s,", ids[i]);
    char digest[65], unique[160];
    token_crypto_sha256_hex(buf_cstr(&key), digest);
    buf_free(&key);
    snprintf(unique, sizeof(unique), "%s:%s:%.16s:%lld", GOOGLE_JOB_IMPORT, account_id, digest,
             (long long)(time_now_usec() / 1000000 / 3600));
    json_t *payload = google_sync__import_payload(p, account_id, ids, n);
    job_options o = {
        .user_id = p->user_id,
        .run_at = time_now_usec() + (int64_t)retry_after_s * 1000000,
        .max_attempts = GOOGLE_SYNC_TRIES,
        .unique_key = unique,
        .unique_while_active = true,
    };
    error e;
    int rc = job_enqueue(c, GOOGLE_JOB_IMPORT, payload, &o, out->job_id, &e);
    json_decref(payload);
    if (rc != 0)
        return google_service__plain(ge, &e);
    out->queued = true;
    out->retry_after_s = retry_after_s;
    return 0;
}

/* Picks the chosen channels out of what the grant covers, in the order asked. */
static int google_sync__pick(arena *a, const youtube_channel *rows, size_t nrows,
                             const char *const *ids, size_t n, channel_import_item **items,
                             google_err *ge)
{
    *items = arena_calloc(a, (n ? n : 1) * sizeof(**items));
    for (size_t i = 0; i < n; i++) {
        const youtube_channel *yt = NULL;
        for (size_t j = 0; j < nrows && yt == NULL; j++)
            if (strcmp(rows[j].id, ids[i]) == 0)
                yt = &rows[j];
        if (yt == NULL) {
            google_service__fail(ge, GOOGLE_PROBLEM_NONE, ERR_INVALID,
                                 "the YouTube channel '%.64s' is not one of this Google account's "
                                 "channels; list them with GET "
                                 "/api/v1/google/accounts/{id}/channels",
                                 ids[i]);
            snprintf(ge->e.field, sizeof(ge->e.field), "youtube_channel_ids");
            return -1;
        }
        (*items)[i] = (channel_import_item){
            .youtube_channel_id = yt->id,
            .name = yt->title,
            .thumbnail = yt->thumbnail,
            .custom_url = yt->custom_url,
            .uploads_playlist_id = yt->uploads_playlist_id,
            .subscriber_count = yt->subscriber_count,
            .view_count = yt->view_count,
            .video_count = yt->video_count,
        };
    }
    return 0;
}

/* The import's writes: the channels' upserts and, when a job runs it, the
 * job's completion, in one transaction. */
typedef struct google_sync__import_tx {
    arena *a;
    const principal *p;
    const char *account_id;
    const channel_import_item *items;
    size_t n;
    const job *j; /* NULL: imported on request */
    google_import *out;
} google_sync__import_tx;

static int google_sync__import_body(db_conn *c, void *arg, error *err)
{
    google_sync__import_tx *tx = arg;
    if (channel_service_import_in_tx(c, tx->a, tx->p, tx->account_id, tx->items, tx->n,
                                     tx->out->rows, &tx->out->created, err) != 0)
        return -1;
    /* Each channel's last days of analytics, once per channel ever. */
    for (size_t i = 0; i < tx->n; i++)
        if (analytics_service_queue_import_backfill(c, &tx->out->rows[i], err) != 0)
            return -1;
    return tx->j != NULL ? job_complete(c, tx->j, err) : 0;
}

/* The import proper: fetch, pick, upsert in one transaction (with the job's
 * completion when a job runs it). */
static int google_sync__import(services *s, db_conn *c, arena *a, const principal *p,
                               const char *account_id, const char *const *ids, size_t n,
                               const job *j, google_import *out, google_err *ge)
{
    account acc;
    youtube_channel *rows;
    size_t nrows;
    channel_import_item *items;
    if (google_sync__account(s, c, a, p->user_id, account_id, &acc, ge) != 0 ||
        google_service__list_channels(s, c, a, &acc, &rows, &nrows, ge) != 0 ||
        google_sync__pick(a, rows, nrows, ids, n, &items, ge) != 0)
        return -1;
    out->rows = arena_calloc(a, (n ? n : 1) * sizeof(*out->rows));
    google_sync__import_tx tx = {a, p, acc.id, items, n, j, out};
    error e;
    if (db_tx(c, google_sync__import_body, &tx, &e) != 0)
        return google_service__plain(ge, &e);
    for (size_t i = 0; i < n; i++)
        out->rows[i].account_status = acc.status;
    out->n = n;
    return 0;
}

/* Drops repeated ids, keeping the first occurrence's place. */
static size_t google_sync__dedup(arena *a, const char *const *ids, size_t n, const char ***out)
{
    const char **u = arena_alloc(a, (n ? n : 1) * sizeof(*u));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(u[j], ids[i]) == 0;
        if (!seen)
            u[k++] = ids[i];
    }
    *out = u;
    return k;
}

int google_service_import(services *s, db_conn *c, arena *a, const principal *p,
                          const char *account_id, const char *const *youtube_ids, size_t n,
                          google_import *out, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    memset(out, 0, sizeof(*out));
    const char **ids;
    n = google_sync__dedup(a, youtube_ids, n, &ids);
    if (google_sync__import(s, c, a, p, account_id, ids, n, NULL, out, ge) == 0)
        return 0;
    if (ge->problem != GOOGLE_PROBLEM_QUOTA)
        return -1;
    log_info("YouTube quota reached while importing channels of account %s; queued for %ld s "
             "later",
             account_id, ge->retry_after_s);
    return google_sync__queue_import(c, p, account_id, ids, n, out, ge->retry_after_s, ge);
}

/* ---- stats ------------------------------------------------------------------- */

int google_service_request_stats(services *s, db_conn *c, arena *a, const principal *p,
                                 const char *channel_id, char job_id[UUID_STR_LEN + 1],
                                 const char **status, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    channel ch;
    error e;
    if (channel_store_get(c, a, p->user_id, channel_id, false, NULL, &ch, &e) != 0)
        return google_service__plain(ge, &e);
    if (google_service__require_configured(s, ge) != 0)
        return -1;
    if (ch.account_id == NULL)
        return google_service__fail(ge, GOOGLE_PROBLEM_NONE, ERR_CONFLICT,
                                    "this channel is not linked to a Google account, so its stats "
                                    "cannot be fetched; import it from a connected account");
    if (ch.account_status != NULL && strcmp(ch.account_status, ACCOUNT_NEEDS_RECONNECT) == 0)
        return google_service__fail(ge, GOOGLE_PROBLEM_RECONNECT, ERR_CONFLICT,
                                    "the Google account of this channel must be connected again "
                                    "before its stats can be refreshed");
    /* Presses while a refresh of the account is still queued or running
     * share it; once it has finished, a press queues a new one. */
    char unique[160];
    snprintf(unique, sizeof(unique), "%s:%s:on-demand", GOOGLE_JOB_REFRESH_STATS, ch.account_id);
    json_t *payload = json_pack("{s:s,s:s}", "account_id", ch.account_id, "channel_id", ch.id);
    job_options o = {.user_id = p->user_id,
                     .priority = 1,
                     .max_attempts = GOOGLE_SYNC_TRIES,
                     .unique_key = unique,
                     .unique_while_active = true};
    int rc = job_enqueue(c, GOOGLE_JOB_REFRESH_STATS, payload, &o, job_id, &e);
    json_decref(payload);
    job_record jr;
    if (rc == 0)
        rc = job_store_get(c, a, job_id, &jr, &e);
    if (rc != 0)
        return google_service__plain(ge, &e);
    *status = jr.status;
    return 0;
}

/* A refresh's writes: every channel's stats and, when a job runs it, the
 * job's completion, in one transaction. */
typedef struct google_sync__stats_tx {
    const char *user_id;
    const char *account_id;
    const youtube_channel *rows;
    size_t nrows;
    const job *j; /* NULL: refreshed on request */
    size_t *updated;
} google_sync__stats_tx;

static int google_sync__stats_body(db_conn *c, void *arg, error *err)
{
    google_sync__stats_tx *tx = arg;
    int64_t now = time_now_usec();
    for (size_t i = 0; i < tx->nrows; i++) {
        bool changed = false;
        if (channel_store_update_stats(c, tx->user_id, tx->account_id, tx->rows[i].id,
                                       tx->rows[i].subscriber_count, tx->rows[i].view_count,
                                       tx->rows[i].video_count, now, &changed, err) != 0)
            return -1;
        *tx->updated += changed;
    }
    return tx->j != NULL ? job_complete(c, tx->j, err) : 0;
}

int google_service_refresh_stats(services *s, db_conn *c, const char *user_id,
                                 const char *account_id, const job *j, size_t *updated,
                                 google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    *updated = 0;
    arena a;
    arena_init(&a, 16384);
    account acc;
    youtube_channel *rows;
    size_t nrows;
    int rc = google_sync__account(s, c, &a, user_id, account_id, &acc, ge);
    if (rc == 0)
        rc = google_service__list_channels(s, c, &a, &acc, &rows, &nrows, ge);
    if (rc == 0) {
        google_sync__stats_tx tx = {user_id, acc.id, rows, nrows, j, updated};
        error e;
        if (db_tx(c, google_sync__stats_body, &tx, &e) != 0)
            rc = google_service__plain(ge, &e);
    }
    arena_free(&a);
    return rc;
}

/* ---- jobs --------------------------------------------------------------------- */

/* What a failed Google job does next: wait for the quota, give up on an
 * account that must reconnect (there is nothing to retry), or back off. */
static void google_sync__job_failed(db_conn *c, const job *j, const google_err *ge, job_result *out)
{
    out->err = ge->e;
    switch (ge->problem) {
    case GOOGLE_PROBLEM_QUOTA:
        out->outcome = JOB_OUTCOME_RETRY_AT;
        out->retry_at = time_now_usec() + (int64_t)ge->retry_after_s * 1000000;
        return;
    case GOOGLE_PROBLEM_RECONNECT:
        log_info("job %s: %s", j->id, ge->e.message);
        job_complete_alone(c, j, out);
        return;
    case GOOGLE_PROBLEM_NOT_CONFIGURED:
        out->outcome = JOB_OUTCOME_RETRY;
        return;
    default:
        if (ge->e.kind == ERR_NOT_FOUND) { /* the account or channel is gone */
            job_complete_alone(c, j, out);
            return;
        }
        out->outcome = ge->e.kind == ERR_INVALID || ge->e.kind == ERR_PLAN_LIMIT
                           ? JOB_OUTCOME_FAIL
                           : JOB_OUTCOME_RETRY;
    }
}

static const char *google_sync__payload_str(const job *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j->payload, name));
    return v && uuid_is_valid(v) ? v : NULL;
}

static void google_sync__refresh_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    const char *account_id = google_sync__payload_str(j, "account_id");
    if (account_id == NULL || j->user_id[0] == '\0') {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload",
                  "a stats refresh job needs an account_id and a user");
        return;
    }
    size_t updated;
    google_err ge;
    if (google_service_refresh_stats(ctx, c, j->user_id, account_id, j, &updated, &ge) != 0) {
        google_sync__job_failed(c, j, &ge, out);
        return;
    }
    out->outcome = JOB_OUTCOME_DONE;
}

static void google_sync__import_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    const char *account_id = google_sync__payload_str(j, "account_id");
    json_t *list = json_object_get(j->payload, "youtube_channel_ids");
    json_t *max = json_object_get(j->payload, "max_channels");
    const char *plan = json_string_value(json_object_get(j->payload, "plan_code"));
    size_t n = json_array_size(list);
    if (account_id == NULL || j->user_id[0] == '\0' || n == 0 || !json_is_integer(max)) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload",
                  "an import job needs an account_id, youtube_channel_ids, max_channels and a "
                  "user");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    const char **ids = arena_calloc(&a, n * sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_array_get(list, i));
        ids[i] = v ? v : "";
    }
    principal p = {0};
    snprintf(p.user_id, sizeof(p.user_id), "%s", j->user_id);
    snprintf(p.plan_code, sizeof(p.plan_code), "%s", plan ? plan : "");
    p.max_channels = (int)json_integer_value(max);
    google_import res = {0};
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    if (google_sync__import(ctx, c, &a, &p, account_id, ids, n, j, &res, &ge) != 0)
        google_sync__job_failed(c, j, &ge, out);
    else
        out->outcome = JOB_OUTCOME_DONE;
    arena_free(&a);
}

/* The sweep's writes, with the job's completion, in one transaction. */
typedef struct google_sync__sweep_tx {
    const job *j;
    size_t queued;
} google_sync__sweep_tx;

/* The stats sweep's page: accounts that have channels. */
static int google_sync__sweep_page(db_conn *c, arena *a, const char *after, int limit,
                                   const char *ids[], const char *user_ids[], size_t *n, error *err)
{
    account *rows;
    if (account_store_list_with_channels(c, a, after, limit, &rows, n, err) != 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        ids[i] = rows[i].id;
        user_ids[i] = rows[i].user_id;
    }
    return 0;
}

static int google_sync__sweep_body(db_conn *c, void *arg, error *err)
{
    google_sync__sweep_tx *tx = arg;
    int64_t now = time_now_usec();
    long long day = (long long)(now / 1000000 / GOOGLE_SYNC_DAY_SECONDS);
    if (oauth_state_store_prune(c, now - GOOGLE_STATE_TTL_USEC, err) != 0 ||
        google_service__sweep(c, GOOGLE_JOB_REFRESH_STATS, "account_id", GOOGLE_SYNC_TRIES, day,
                              google_sync__sweep_page, &tx->queued, err) != 0)
        return -1;
    return job_complete(c, tx->j, err);
}

/* The daily sweep: one refresh job per account that has channels (unique
 * per account and day, so several processes sweeping at once add nothing
 * twice), and the forgotten OAuth states go. */
static void google_sync__sweep_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    (void)ctx;
    google_sync__sweep_tx tx = {j, 0};
    error e;
    if (db_tx(c, google_sync__sweep_body, &tx, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        out->err = e;
        return;
    }
    log_info("daily YouTube stats refresh: %zu account(s) queued", tx.queued);
    out->outcome = JOB_OUTCOME_DONE;
}

void google_service_register_jobs(services *s)
{
    job_register(GOOGLE_JOB_REFRESH_STATS, google_sync__refresh_job, s, 120);
    job_register(GOOGLE_JOB_IMPORT, google_sync__import_job, s, 120);
    job_register(GOOGLE_JOB_REFRESH_ALL, google_sync__sweep_job, s, 300);
    job_schedule(GOOGLE_JOB_REFRESH_ALL, GOOGLE_SYNC_DAY_SECONDS, "{}");
}
