#include "services/analytics_service.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "domain/account_store.h"
#include "domain/job_store.h"
#include "domain/limits.h"
#include "domain/project_store.h"
#include "domain/publication_store.h"
#include "domain/video_analytics_store.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "providers/youtube_analytics.h"
#include "services/analytics_internal.h"
#include "services/google_internal.h"
#include "services/token_crypto.h"

#include <stdio.h>
#include <string.h>

#define ANALYTICS_DAY_SECONDS 86400
/* Published videos of one channel asked for by video (decision 139): at 50
 * a request, 100 requests a chunk at most. */
#define ANALYTICS_VIDEOS_MAX 5000

/* Checks the caller's values of every day against the store's limits (a
 * percentage past its bound, say) before anything is written: one bad
 * value refuses the whole answer. */
static int analytics__row_of(const char *user_id, const char *channel_id,
                             const youtube_analytics_day *d, int64_t now, analytics_row *r,
                             error *err)
{
    memset(r, 0, sizeof(*r));
    uuid_v7(r->id);
    snprintf(r->channel_id, sizeof(r->channel_id), "%s", channel_id);
    snprintf(r->user_id, sizeof(r->user_id), "%s", user_id);
    time_day_format(d->day, r->date);
    r->period = ANALYTICS_DAY;
    r->views = d->views;
    r->likes = d->likes;
    r->comments = d->comments;
    r->shares = d->shares;
    r->watch_time_minutes = d->minutes_watched;
    r->avg_view_duration_seconds = d->avg_view_duration_s;
    r->avg_retention = d->avg_view_percentage;
    r->avg_ctr = -1;
    r->impressions = -1;
    r->subscribers_gained = d->subscribers_gained;
    r->subscribers_lost = d->subscribers_lost;
    r->created_at = r->updated_at = now;
    return row_check(&analytics_row_spec, r,
                     "views, likes, comments, shares, watch_time_minutes, "
                     "avg_view_duration_seconds, avg_retention, subscribers_gained, "
                     "subscribers_lost",
                     err);
}

/* The same for a video's day, with the persona its project was written with. */
static int analytics__video_row_of(const channel *ch, const video_published *v,
                                   const youtube_analytics_day *d, int64_t now, video_day_row *r,
                                   error *err)
{
    memset(r, 0, sizeof(*r));
    uuid_v7(r->id);
    snprintf(r->project_id, sizeof(r->project_id), "%s", v->project_id);
    snprintf(r->channel_id, sizeof(r->channel_id), "%s", ch->id);
    snprintf(r->user_id, sizeof(r->user_id), "%s", ch->user_id);
    r->youtube_video_id = v->youtube_video_id;
    r->persona_id = v->persona_id;
    r->persona_version = v->persona_version;
    time_day_format(d->day, r->date);
    r->views = d->views;
    r->likes = d->likes;
    r->comments = d->comments;
    r->shares = d->shares;
    r->watch_time_minutes = d->minutes_watched;
    r->avg_view_duration_seconds = d->avg_view_duration_s;
    r->avg_retention = d->avg_view_percentage;
    r->subscribers_gained = d->subscribers_gained;
    r->subscribers_lost = d->subscribers_lost;
    r->created_at = r->updated_at = now;
    return row_check(&video_day_row_spec, r,
                     "views, likes, comments, shares, watch_time_minutes, "
                     "avg_view_duration_seconds, avg_retention, subscribers_gained, "
                     "subscribers_lost",
                     err);
}

/* ---- fetching ------------------------------------------------------------------ */

typedef struct analytics__days_call {
    services *s;
    arena *a;
    int64_t from, to;
    youtube_analytics_day **rows;
    size_t *n;
} analytics__days_call;

static int analytics__days(const char *access, void *arg, google_status *st, error *e)
{
    analytics__days_call *k = arg;
    return youtube_analytics_days(k->s->google.youtube_analytics_url, access, k->from, k->to, k->a,
                                  k->rows, k->n, st, e);
}

typedef struct analytics__video_call {
    services *s;
    arena *a;
    int64_t from, to;
    const char *const *ids;
    size_t n_ids;
    youtube_analytics_video_day **rows;
    size_t *n;
} analytics__video_call;

static int analytics__video_days(const char *access, void *arg, google_status *st, error *e)
{
    analytics__video_call *k = arg;
    return youtube_analytics_video_days(k->s->google.youtube_analytics_url, access, k->from, k->to,
                                        k->ids, k->n_ids, k->a, k->rows, k->n, st, e);
}

/* The chunk from..to from YouTube (rows in a), refreshing the token once on
 * a 401; a refresh rewrites acc in keep, which outlives the chunk. A quota
 * error without Retry-After waits for Google's reset at midnight Pacific
 * time. */
static int analytics__fetch(services *s, db_conn *c, arena *keep, arena *a, account *acc,
                            int64_t from, int64_t to, youtube_analytics_day **rows, size_t *n,
                            google_err *ge)
{
    analytics__days_call k = {s, a, from, to, rows, n};
    google_status gs;
    if (google_service__call(s, c, keep, acc, "YouTube Analytics", analytics__days, &k, &gs, ge) ==
        0)
        return 0;
    google_service__quota_wait(&gs, "YouTube Analytics", ge);
    return -1;
}

/* The chunk's days of the channel's published videos, in batches of
 * YOUTUBE_ANALYTICS_VIDEOS_MAX ids, checked and made rows (in a); faults as
 * analytics__fetch's. */
static int analytics__fetch_videos(services *s, db_conn *c, arena *keep, arena *a, account *acc,
                                   const channel *ch, const video_published *vids, size_t nvids,
                                   int64_t from, int64_t to, video_day_row **out, size_t *n,
                                   google_err *ge)
{
    *n = 0;
    size_t cap = 0;
    *out = NULL;
    int64_t now = time_now_usec();
    for (size_t first = 0; first < nvids; first += YOUTUBE_ANALYTICS_VIDEOS_MAX) {
        size_t m = nvids - first < YOUTUBE_ANALYTICS_VIDEOS_MAX ? nvids - first
                                                                : YOUTUBE_ANALYTICS_VIDEOS_MAX;
        const char **ids = arena_calloc(a, m * sizeof(*ids));
        for (size_t i = 0; i < m; i++)
            ids[i] = vids[first + i].youtube_video_id;
        youtube_analytics_video_day *days;
        size_t nd;
        analytics__video_call k = {s, a, from, to, ids, m, &days, &nd};
        google_status gs;
        if (google_service__call(s, c, keep, acc, "YouTube Analytics", analytics__video_days, &k,
                                 &gs, ge) != 0) {
            google_service__quota_wait(&gs, "YouTube Analytics", ge);
            return -1;
        }
        if (*n + nd > cap) {
            size_t ncap = (*n + nd) * 2;
            video_day_row *grown = arena_calloc(a, ncap * sizeof(*grown));
            if (*n > 0)
                memcpy(grown, *out, *n * sizeof(*grown));
            *out = grown;
            cap = ncap;
        }
        for (size_t i = 0; i < nd; i++) {
            error e;
            if (analytics__video_row_of(ch, &vids[first + days[i].video], &days[i].m, now,
                                        &(*out)[*n], &e) != 0)
                return google_service__fail(ge, GOOGLE_PROBLEM_UPSTREAM, ERR_UNAVAILABLE,
                                            "the YouTube Analytics report by video came back "
                                            "malformed (%s); nothing was stored",
                                            e.message);
            (*n)++;
        }
    }
    return 0;
}

/* One chunk's writes: its days, the weeks they touch and, for a backfill,
 * the cursor (and on the last chunk the job's completion). */
typedef struct analytics__chunk_tx {
    arena *a;
    const analytics_row *rows;
    size_t n;
    const video_day_row *videos; /* the chunk's days of the channel's videos */
    size_t n_videos;
    const char *user_id;
    const char *channel_id;
    int64_t from, to;        /* the chunk */
    const char *backfill_id; /* NULL: a daily run */
    int64_t next;            /* the cursor after this chunk; -1: done */
    const job *j;            /* completed with the last chunk of a backfill */
    size_t changed;
} analytics__chunk_tx;

static int analytics__chunk_body(db_conn *c, void *arg, error *err)
{
    analytics__chunk_tx *tx = arg;
    /* One writer per channel at a time: on PostgreSQL two transactions
     * writing days of the same week would each roll the week up without the
     * other's days. The channel's row lock makes the second wait, and its
     * statements then see the first one's days. */
    channel ch;
    if (channel_store_get(c, tx->a, tx->user_id, tx->channel_id, true, NULL, &ch, err) != 0)
        return -1;
    int64_t now = time_now_usec();
    for (size_t i = 0; i < tx->n; i++) {
        bool changed;
        if (analytics_store_upsert_day(c, &tx->rows[i], &changed, err) != 0)
            return -1;
        tx->changed += changed;
    }
    for (size_t i = 0; i < tx->n_videos; i++) {
        bool changed;
        if (video_analytics_store_upsert(c, &tx->videos[i], &changed, err) != 0)
            return -1;
    }
    /* Reach the Reporting API gave before these days had rows (decision 78). */
    if (analytics_store_merge_reach(c, tx->user_id, tx->channel_id, tx->from, tx->to, now, err) !=
        0)
        return -1;
    /* Every week the chunk overlaps, so a week split across two chunks is
     * right after each of them. */
    for (int64_t mon = time_day_monday(tx->from); mon <= tx->to; mon += 7)
        if (analytics_store_rollup_week(c, tx->user_id, tx->channel_id, mon, now, err) != 0)
            return -1;
    if (tx->backfill_id == NULL)
        return 0;
    if (analytics_store_backfill_advance(c, tx->user_id, tx->backfill_id, tx->next, now, err) != 0)
        return -1;
    return tx->next < 0 && tx->j != NULL ? job_complete(c, tx->j, err) : 0;
}

/* Collects from..to for the channel in chunks, each committed on its own;
 * keep is the arena acc lives in. */
static int analytics__collect(services *s, db_conn *c, arena *keep, const channel *ch, account *acc,
                              int64_t from, int64_t to, const char *backfill_id, const job *j,
                              size_t *changed, google_err *ge)
{
    /* The channel's published videos, asked for by video beside the
     * channel's days (decision 139); a stored id that is not a YouTube id
     * is left out, never sent. */
    video_published *vids;
    size_t nvids = 0, nok = 0;
    error ve;
    if (video_analytics_store_published(c, keep, ch->user_id, ch->id, ANALYTICS_VIDEOS_MAX, &vids,
                                        &nvids, &ve) != 0)
        return google_service__plain(ge, &ve);
    for (size_t i = 0; i < nvids; i++) {
        if (youtube_analytics_video_id_ok(vids[i].youtube_video_id))
            vids[nok++] = vids[i];
        else
            log_warn("project %s: its stored YouTube video id is not one; its analytics are not "
                     "asked for",
                     vids[i].project_id);
    }
    nvids = nok;
    for (int64_t start = from; start <= to; start += ANALYTICS_CHUNK_DAYS) {
        if (job_cancelled())
            return google_service__fail(ge, GOOGLE_PROBLEM_NONE, ERR_UNAVAILABLE,
                                        "the analytics job was stopped between two chunks");
        int64_t end = start + ANALYTICS_CHUNK_DAYS - 1 < to ? start + ANALYTICS_CHUNK_DAYS - 1 : to;
        arena a;
        arena_init(&a, 16384);
        youtube_analytics_day *days;
        size_t n;
        int rc = analytics__fetch(s, c, keep, &a, acc, start, end, &days, &n, ge);
        video_day_row *videos = NULL;
        size_t n_videos = 0;
        if (rc == 0 && nvids > 0)
            rc = analytics__fetch_videos(s, c, keep, &a, acc, ch, vids, nvids, start, end, &videos,
                                         &n_videos, ge);
        analytics_row *rows = arena_calloc(&a, (n ? n : 1) * sizeof(*rows));
        int64_t now = time_now_usec();
        error e;
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (analytics__row_of(ch->user_id, ch->id, &days[i], now, &rows[i], &e) != 0)
                rc = google_service__fail(ge, GOOGLE_PROBLEM_UPSTREAM, ERR_UNAVAILABLE,
                                          "the YouTube Analytics report came back malformed (%s); "
                                          "nothing was stored",
                                          e.message);
        analytics__chunk_tx tx = {.a = &a,
                                  .rows = rows,
                                  .n = n,
                                  .videos = videos,
                                  .n_videos = n_videos,
                                  .user_id = ch->user_id,
                                  .channel_id = ch->id,
                                  .from = start,
                                  .to = end,
                                  .backfill_id = backfill_id,
                                  .next = end < to ? end + 1 : -1,
                                  .j = j};
        if (rc == 0 && db_tx(c, analytics__chunk_body, &tx, &e) != 0)
            rc = google_service__plain(ge, &e);
        *changed += tx.changed;
        arena_free(&a);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int analytics_service__open(services *s, db_conn *c, arena *a, const char *user_id,
                            const char *channel_id, channel *ch, account *acc, google_err *ge)
{
    error e;
    if (channel_store_get(c, a, user_id, channel_id, false, NULL, ch, &e) != 0)
        return google_service__plain(ge, &e);
    if (ch->account_id == NULL)
        return 1;
    if (account_store_get(c, a, user_id, ch->account_id, acc, &e) != 0)
        return google_service__plain(ge, &e);
    return google_service__require_configured(s, ge);
}

/* ---- reading --------------------------------------------------------------------- */

static int analytics__day_param(const char *v, const char *name, int64_t *day, error *err)
{
    if (!time_day_parse(v, day))
        return error_set(err, ERR_INVALID, name, "%s must be a date written YYYY-MM-DD", name);
    return 0;
}

int analytics_service_range(bool week, const char *from, const char *to, int64_t *f, int64_t *t,
                            error *err)
{
    *t = time_day_of(time_now_usec()) - 1;
    if (to != NULL && analytics__day_param(to, "to", t, err) != 0)
        return -1;
    *f = week ? time_day_monday(*t) - 7 * 11 : *t - (ANALYTICS_DEFAULT_DAYS - 1);
    if (from != NULL && analytics__day_param(from, "from", f, err) != 0)
        return -1;
    if (*f > *t)
        return error_set(err, ERR_INVALID, "from", "from must not be after to");
    if (*t - *f + 1 > ANALYTICS_RANGE_MAX)
        return error_set(err, ERR_INVALID, "from",
                         "a read spans at most %d days (three years); ask for less",
                         ANALYTICS_RANGE_MAX);
    return 0;
}

int analytics_service_read(db_conn *c, arena *a, const principal *p, const char *channel_id,
                           const char *period, const char *from, const char *to,
                           analytics_read *out, error *err)
{
    memset(out, 0, sizeof(*out));
    channel ch;
    if (channel_store_get(c, a, p->user_id, channel_id, false, NULL, &ch, err) != 0)
        return -1;
    if (period == NULL)
        period = ANALYTICS_DAY;
    if (strcmp(period, ANALYTICS_DAY) != 0 && strcmp(period, ANALYTICS_WEEK) != 0)
        return error_set(err, ERR_INVALID, "period", "period must be DAY or WEEK");
    bool week = strcmp(period, ANALYTICS_WEEK) == 0;
    int64_t f, t;
    if (analytics_service_range(week, from, to, &f, &t, err) != 0)
        return -1;
    out->period = week ? ANALYTICS_WEEK : ANALYTICS_DAY;
    out->from = f;
    out->to = t;
    return analytics_store_list(c, a, p->user_id, ch.id, out->period, f, t, &out->rows, &out->n,
                                err);
}

int analytics_service_read_video(db_conn *c, arena *a, const principal *p, const char *project_id,
                                 const char *period, const char *from, const char *to,
                                 analytics_video_read *out, error *err)
{
    memset(out, 0, sizeof(*out));
    project pr;
    if (project_store_get(c, a, p->user_id, project_id, &pr, err) != 0)
        return -1;
    if (period != NULL && strcmp(period, ANALYTICS_DAY) != 0)
        return error_set(err, ERR_INVALID, "period",
                         "a video's analytics are kept by day only: period must be DAY");
    if (analytics_service_range(false, from, to, &out->from, &out->to, err) != 0)
        return -1;
    publication pb;
    error pe;
    if (publication_store_get(c, a, p->user_id, project_id, &pb, &pe) == 0)
        out->youtube_video_id = pb.youtube_video_id;
    else if (pe.kind != ERR_NOT_FOUND) {
        *err = pe;
        return -1;
    }
    return video_analytics_store_list(c, a, p->user_id, project_id, out->from, out->to, &out->rows,
                                      &out->n, err);
}

/* ---- backfills ------------------------------------------------------------------- */

/* Queues a backfill job and records its range, in the caller's transaction;
 * a unique key already taken returns the job that holds it (and keeps its
 * backfill row as it is). */
static int analytics__queue_backfill(db_conn *c, const channel *ch, int64_t from, int64_t to,
                                     const char *unique, bool while_active, int priority,
                                     char id[UUID_STR_LEN + 1], error *err)
{
    analytics_backfill b = {0};
    snprintf(b.channel_id, sizeof(b.channel_id), "%s", ch->id);
    snprintf(b.user_id, sizeof(b.user_id), "%s", ch->user_id);
    time_day_format(from, b.from_date);
    time_day_format(to, b.to_date);
    time_day_format(from, b.next_date);
    b.created_at = b.updated_at = time_now_usec();
    json_t *payload = json_pack("{s:s}", "channel_id", ch->id);
    job_options o = {.user_id = ch->user_id,
                     .priority = priority,
                     .max_attempts = ANALYTICS_TRIES,
                     .unique_key = unique,
                     .unique_while_active = while_active};
    int rc = job_enqueue(c, ANALYTICS_JOB_BACKFILL, payload, &o, id, err);
    json_decref(payload);
    if (rc != 0)
        return -1;
    snprintf(b.id, sizeof(b.id), "%s", id);
    return analytics_store_backfill_insert(c, &b, err);
}

int analytics_service_queue_import_backfill(db_conn *c, const channel *ch, error *err)
{
    char unique[160], id[UUID_STR_LEN + 1];
    snprintf(unique, sizeof(unique), "%s:import:%s", ANALYTICS_JOB_BACKFILL, ch->id);
    int64_t yesterday = time_day_of(time_now_usec()) - 1;
    return analytics__queue_backfill(c, ch, yesterday - (ANALYTICS_IMPORT_DAYS - 1), yesterday,
                                     unique, false, 0, id, err);
}

typedef struct analytics__request_tx {
    const channel *ch;
    int64_t from, to;
    const char *unique;
    char id[UUID_STR_LEN + 1];
} analytics__request_tx;

static int analytics__request_body(db_conn *c, void *arg, error *err)
{
    analytics__request_tx *tx = arg;
    return analytics__queue_backfill(c, tx->ch, tx->from, tx->to, tx->unique, true, 1, tx->id, err);
}

int analytics_service_request_backfill(services *s, db_conn *c, arena *a, const principal *p,
                                       const char *channel_id, const char *from, const char *to,
                                       analytics_backfill *out, const char **status, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    channel ch;
    error e;
    /* Tenancy first: another user's channel is a 404 whatever the body. */
    if (channel_store_get(c, a, p->user_id, channel_id, false, NULL, &ch, &e) != 0)
        return google_service__plain(ge, &e);
    int64_t f, t, today = time_day_of(time_now_usec());
    if (analytics__day_param(from, "from", &f, &e) != 0 ||
        analytics__day_param(to, "to", &t, &e) != 0)
        return google_service__plain(ge, &e);
    if (t >= today)
        error_set(&e, ERR_INVALID, "to",
                  "to must be a past day: YouTube reports whole days, the latest being "
                  "yesterday (UTC)");
    else if (f > t)
        error_set(&e, ERR_INVALID, "from", "from must not be after to");
    else if (t - f + 1 > ANALYTICS_RANGE_MAX)
        error_set(&e, ERR_INVALID, "from",
                  "a backfill spans at most %d days (three years); split it", ANALYTICS_RANGE_MAX);
    if (t >= today || f > t || t - f + 1 > ANALYTICS_RANGE_MAX)
        return google_service__plain(ge, &e);
    if (google_service__require_configured(s, ge) != 0)
        return -1;
    if (ch.account_id == NULL)
        return google_service__fail(ge, GOOGLE_PROBLEM_NONE, ERR_CONFLICT,
                                    "this channel is not linked to a Google account, so its "
                                    "analytics cannot be fetched; import it from a connected "
                                    "account");
    if (ch.account_status != NULL && strcmp(ch.account_status, ACCOUNT_NEEDS_RECONNECT) == 0)
        return google_service__fail(ge, GOOGLE_PROBLEM_RECONNECT, ERR_CONFLICT,
                                    "the Google account of this channel must be connected again "
                                    "before its analytics can be fetched");
    char unique[200], fd[TIME_DAY_STR_LEN + 1], td[TIME_DAY_STR_LEN + 1];
    time_day_format(f, fd);
    time_day_format(t, td);
    snprintf(unique, sizeof(unique), "%s:%s:%s:%s", ANALYTICS_JOB_BACKFILL, ch.id, fd, td);
    analytics__request_tx tx = {.ch = &ch, .from = f, .to = t, .unique = unique};
    job_record jr;
    if (db_tx(c, analytics__request_body, &tx, &e) != 0 ||
        analytics_store_backfill_get(c, p->user_id, tx.id, out, &e) != 0 ||
        job_store_get(c, a, tx.id, &jr, &e) != 0)
        return google_service__plain(ge, &e);
    *status = jr.status;
    return 0;
}

/* ---- jobs ------------------------------------------------------------------------ */

void analytics_service__job_failed(db_conn *c, const job *j, const google_err *ge, job_result *out)
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
    default:
        if (ge->e.kind == ERR_NOT_FOUND) { /* the channel, its account or the backfill is gone */
            log_info("job %s: %s", j->id, ge->e.message);
            job_complete_alone(c, j, out);
            return;
        }
        out->outcome = JOB_OUTCOME_RETRY;
    }
}

const char *analytics_service__payload_id(const job *j)
{
    const char *v = json_string_value(json_object_get(j->payload, "channel_id"));
    return v && uuid_is_valid(v) && j->user_id[0] ? v : NULL;
}

static void analytics__collect_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    services *s = ctx;
    const char *channel_id = analytics_service__payload_id(j);
    if (channel_id == NULL) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload",
                  "an analytics job needs a channel_id and a user");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    channel ch;
    account acc;
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    int64_t yesterday = time_day_of(time_now_usec()) - 1, last = 0;
    bool found = false;
    size_t changed = 0;
    int rc = analytics_service__open(s, c, &a, j->user_id, channel_id, &ch, &acc, &ge);
    if (rc == 1) { /* unlinked since it was queued: nothing to collect */
        job_complete_alone(c, j, out);
        arena_free(&a);
        return;
    }
    error e;
    if (rc == 0 && analytics_store_last_day(c, ch.id, &last, &found, &e) != 0)
        rc = google_service__plain(&ge, &e);
    if (rc == 0) {
        /* From the last stored day less the ones YouTube may still revise
         * (however long ago that was, within the read limit), or the import
         * reach for a channel with nothing stored. */
        int64_t from =
            found ? last - ANALYTICS_REVISED_DAYS : yesterday - (ANALYTICS_IMPORT_DAYS - 1);
        if (from < yesterday - (ANALYTICS_RANGE_MAX - 1))
            from = yesterday - (ANALYTICS_RANGE_MAX - 1);
        rc = analytics__collect(s, c, &a, &ch, &acc, from, yesterday, NULL, NULL, &changed, &ge);
    }
    if (rc != 0) {
        analytics_service__job_failed(c, j, &ge, out);
    } else {
        log_info("analytics of channel %s collected: %zu day(s) new or revised", ch.id, changed);
        job_complete_alone(c, j, out);
    }
    arena_free(&a);
}

static void analytics__backfill_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    services *s = ctx;
    const char *channel_id = analytics_service__payload_id(j);
    if (channel_id == NULL) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload",
                  "an analytics job needs a channel_id and a user");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    analytics_backfill b;
    channel ch;
    account acc;
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    error e;
    int64_t next = 0, to = 0;
    size_t changed = 0;
    int rc = analytics_store_backfill_get(c, j->user_id, j->id, &b, &e);
    if (rc != 0)
        google_service__plain(&ge, &e);
    bool done = rc == 0 && b.next_date[0] == '\0';
    if (rc == 0 && !done &&
        (!time_day_parse(b.next_date, &next) || !time_day_parse(b.to_date, &to)))
        rc = google_service__fail(&ge, GOOGLE_PROBLEM_NONE, ERR_INTERNAL,
                                  "the backfill %s holds no readable range", b.id);
    if (rc == 0 && !done) {
        rc = analytics_service__open(s, c, &a, j->user_id, channel_id, &ch, &acc, &ge);
        done = rc == 1; /* unlinked since it was queued: nothing to fetch */
        rc = rc == 1 ? 0 : rc;
    }
    if (rc == 0 && !done)
        rc = analytics__collect(s, c, &a, &ch, &acc, next, to, b.id, j, &changed, &ge);
    if (rc != 0)
        analytics_service__job_failed(c, j, &ge, out);
    else if (done)
        job_complete_alone(c, j, out);
    else
        out->outcome = JOB_OUTCOME_DONE; /* the last chunk completed the job */
    if (rc == 0 && !done)
        log_info("analytics backfill %s of channel %s done: %zu day(s) new or revised", b.id, ch.id,
                 changed);
    arena_free(&a);
}

/* The sweep's writes, with the job's completion, in one transaction. */
typedef struct analytics__sweep_tx {
    const job *j;
    size_t queued;
} analytics__sweep_tx;

/* The analytics sweep's page: channels linked to an active Google account. */
static int analytics__sweep_page(db_conn *c, arena *a, const char *after, int limit,
                                 const char *ids[], const char *user_ids[], size_t *n, error *err)
{
    channel *rows;
    if (channel_store_list_linked(c, a, after, limit, &rows, n, err) != 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        ids[i] = rows[i].id;
        user_ids[i] = rows[i].user_id;
    }
    return 0;
}

static int analytics__sweep_body(db_conn *c, void *arg, error *err)
{
    analytics__sweep_tx *tx = arg;
    long long day = (long long)time_day_of(time_now_usec());
    if (google_service__sweep(c, ANALYTICS_JOB_COLLECT, "channel_id", ANALYTICS_TRIES, day,
                              analytics__sweep_page, &tx->queued, err) != 0)
        return -1;
    /* The Reporting API's reach on the same sweep, as its own job per
     * channel: its faults and retries stay apart from the days' (decision
     * 78). */
    size_t reach = 0;
    if (google_service__sweep(c, ANALYTICS_JOB_REACH, "channel_id", ANALYTICS_TRIES, day,
                              analytics__sweep_page, &reach, err) != 0)
        return -1;
    return job_complete(c, tx->j, err);
}

/* The daily sweep: one collect job per linked channel, unique per channel
 * and day, so several processes sweeping at once add nothing twice. */
static void analytics__sweep_job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    (void)ctx;
    analytics__sweep_tx tx = {j, 0};
    error e;
    if (db_tx(c, analytics__sweep_body, &tx, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY;
        out->err = e;
        return;
    }
    log_info("daily YouTube analytics: %zu channel(s) queued", tx.queued);
    out->outcome = JOB_OUTCOME_DONE;
}

void analytics_service_register_jobs(services *s)
{
    job_register(ANALYTICS_JOB_COLLECT, analytics__collect_job, s, 300);
    job_register(ANALYTICS_JOB_BACKFILL, analytics__backfill_job, s, 300);
    job_register(ANALYTICS_JOB_COLLECT_ALL, analytics__sweep_job, s, 300);
    job_schedule(ANALYTICS_JOB_COLLECT_ALL, ANALYTICS_DAY_SECONDS, "{}");
}
