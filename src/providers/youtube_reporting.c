#include "providers/youtube_reporting.h"

#include "base/alloc.h"
#include "base/csv.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YR_CONNECT_MS    5000L
#define YR_TIMEOUT_MS    60000L /* a large CSV takes longer than a JSON answer */
#define YR_PAGES_MAX     50     /* pages of jobs.list */
#define YR_COUNT_MAX     1e15   /* past it an impression count is not one */
#define YR_HALF_DAY_USEC (12LL * 3600 * 1000000)

static int yr__malformed(google_status *st, error *err, const char *what, const char *why)
{
    st->fault = GOOGLE_REJECTED;
    return error_set(err, ERR_UNAVAILABLE, NULL,
                     "the YouTube Reporting %s came back malformed (%s); nothing of it was stored",
                     what, why);
}

/* Job and report ids go into URL paths: only what Google's ids are made of. */
static bool yr__id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > YOUTUBE_REPORTING_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Sends with the bearer token (wiped after) and classifies a non-2xx
 * answer; 0 with resp filled on a 2xx. */
static int yr__send(const char *method, const char *url, const char *access_token, const char *body,
                    const char *what, http_client_resp *resp, google_status *st, error *err)
{
    size_t blen = strlen(access_token) + 32;
    char *bearer = xmalloc(blen);
    snprintf(bearer, blen, "Authorization: Bearer %s", access_token);
    const char *const get_headers[] = {bearer, "Accept: application/json", NULL};
    const char *const post_headers[] = {bearer, "Accept: application/json",
                                        "Content-Type: application/json", NULL};
    int rc = google_oauth_send(method, url, body ? post_headers : get_headers, body, resp, st, err);
    sodium_memzero(bearer, blen);
    free(bearer);
    if (rc == 0 && (resp->status < 200 || resp->status > 299)) {
        char about[96];
        snprintf(about, sizeof(about), "the YouTube Reporting %s", what);
        rc = google_oauth_fail(resp, about, st, err);
        http_client_resp_free(resp);
    }
    return rc;
}

static json_t *yr__json(const http_client_resp *resp)
{
    json_t *doc = json_loads(buf_cstr(&resp->body), JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* An optional string member: absent is fine, anything but a string is not. */
static bool yr__opt_string(json_t *obj, const char *name, const char **out)
{
    json_t *v = json_object_get(obj, name);
    *out = json_string_value(v);
    return v == NULL || json_is_string(v);
}

int youtube_reporting_find_job(const char *base_url, const char *access_token,
                               const char *report_type, arena *a, const char **job_id,
                               google_status *st, error *err)
{
    *job_id = NULL;
    const char *token = NULL;
    int64_t now = time_now_usec();
    for (int page = 0; page < YR_PAGES_MAX; page++) {
        char url[2048], enc[512] = "";
        if (token != NULL && !http_client_urlencode(token, enc, sizeof(enc)))
            return yr__malformed(st, err, "job list", "a page token is too long");
        if (snprintf(url, sizeof(url), "%s/v1/jobs%s%s", base_url, token ? "?pageToken=" : "",
                     enc) >= (int)sizeof(url))
            return error_set(err, ERR_CONFIG, NULL, "the YouTube Reporting URL is too long");
        http_client_resp resp;
        if (yr__send("GET", url, access_token, NULL, "job list", &resp, st, err) != 0)
            return -1;
        json_t *doc = yr__json(&resp);
        http_client_resp_free(&resp);
        if (doc == NULL)
            return yr__malformed(st, err, "job list", "not a JSON object");
        json_t *jobs = json_object_get(doc, "jobs");
        const char *next = NULL;
        int rc = 0;
        if ((jobs != NULL && !json_is_array(jobs)) || !yr__opt_string(doc, "nextPageToken", &next))
            rc = yr__malformed(st, err, "job list", "jobs is not a list");
        size_t i;
        json_t *j;
        json_array_foreach(jobs, i, j)
        {
            if (rc != 0 || *job_id != NULL)
                break;
            const char *id = json_string_value(json_object_get(j, "id"));
            const char *type = json_string_value(json_object_get(j, "reportTypeId"));
            const char *expire = NULL;
            int64_t expires = 0;
            if (!yr__id_ok(id) || type == NULL || !yr__opt_string(j, "expireTime", &expire) ||
                (expire != NULL && !time_parse(expire, &expires))) {
                rc = yr__malformed(st, err, "job list", "a job has no usable id or report type");
                break;
            }
            /* A job past its expireTime makes no more reports. */
            if (strcmp(type, report_type) == 0 && (expire == NULL || expires > now))
                *job_id = arena_strdup(a, id);
        }
        token = next && next[0] && *job_id == NULL ? arena_strdup(a, next) : NULL;
        json_decref(doc);
        if (rc != 0)
            return -1;
        if (token == NULL)
            return 0;
    }
    return yr__malformed(st, err, "job list", "it has more pages than any channel needs");
}

int youtube_reporting_create_job(const char *base_url, const char *access_token,
                                 const char *report_type, const char *name, arena *a,
                                 const char **job_id, google_status *st, error *err)
{
    *job_id = NULL;
    char url[2048];
    if (snprintf(url, sizeof(url), "%s/v1/jobs", base_url) >= (int)sizeof(url))
        return error_set(err, ERR_CONFIG, NULL, "the YouTube Reporting URL is too long");
    json_t *req = json_pack("{s:s,s:s}", "reportTypeId", report_type, "name", name);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    http_client_resp resp;
    int rc = yr__send("POST", url, access_token, body, "job creation", &resp, st, err);
    free(body);
    if (rc != 0)
        return -1;
    json_t *doc = yr__json(&resp);
    http_client_resp_free(&resp);
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *type = json_string_value(json_object_get(doc, "reportTypeId"));
    if (!yr__id_ok(id) || type == NULL || strcmp(type, report_type) != 0)
        rc = yr__malformed(st, err, "job creation", "the job has no usable id or report type");
    else
        *job_id = arena_strdup(a, id);
    json_decref(doc);
    return rc;
}

/* One report resource, checked whole. */
static bool yr__report(json_t *j, arena *a, youtube_report *r)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *start = json_string_value(json_object_get(j, "startTime"));
    const char *end = json_string_value(json_object_get(j, "endTime"));
    const char *created = json_string_value(json_object_get(j, "createTime"));
    const char *url = json_string_value(json_object_get(j, "downloadUrl"));
    if (!yr__id_ok(id) || !time_parse(start, &r->start_time) || !time_parse(end, &r->end_time) ||
        !time_parse(created, &r->create_time) || url == NULL || strlen(url) > 2000 ||
        r->end_time <= r->start_time)
        return false;
    /* Google's days start at midnight Pacific time (07:00 or 08:00 UTC):
     * half a day after the start and before the end name the first and
     * the last day whichever zone the times are given in. */
    r->first_day = time_day_of(r->start_time + YR_HALF_DAY_USEC);
    r->last_day = time_day_of(r->end_time - YR_HALF_DAY_USEC);
    if (r->last_day < r->first_day || r->last_day - r->first_day >= YOUTUBE_REPORT_DAYS_MAX)
        return false;
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->download_url = arena_strdup(a, url);
    return true;
}

int youtube_reporting_list_reports(const char *base_url, const char *access_token,
                                   const char *job_id, int64_t created_after,
                                   const char *page_token, arena *a, youtube_report **out,
                                   size_t *n, const char **next_page, google_status *st, error *err)
{
    *out = NULL;
    *n = 0;
    *next_page = NULL;
    if (!yr__id_ok(job_id))
        return error_set(err, ERR_INVALID, NULL, "a YouTube Reporting job id is not usable");
    buf url;
    buf_init(&url, 4096);
    buf_printf(&url, "%s/v1/jobs/%s/reports", base_url, job_id);
    char enc[512];
    if (created_after >= 0) {
        char t[TIME_STR_LEN + 1];
        time_format(created_after, t);
        http_client_urlencode(t, enc, sizeof(enc));
        buf_printf(&url, "?createdAfter=%s", enc);
    }
    if (page_token != NULL) {
        if (!http_client_urlencode(page_token, enc, sizeof(enc))) {
            buf_free(&url);
            return yr__malformed(st, err, "report list", "a page token is too long");
        }
        buf_printf(&url, "%spageToken=%s", created_after >= 0 ? "&" : "?", enc);
    }
    http_client_resp resp;
    int rc = yr__send("GET", buf_cstr(&url), access_token, NULL, "report list", &resp, st, err);
    buf_free(&url);
    if (rc != 0)
        return -1;
    json_t *doc = yr__json(&resp);
    http_client_resp_free(&resp);
    if (doc == NULL)
        return yr__malformed(st, err, "report list", "not a JSON object");
    json_t *reports = json_object_get(doc, "reports");
    const char *next = NULL;
    if ((reports != NULL && !json_is_array(reports)) ||
        !yr__opt_string(doc, "nextPageToken", &next) || json_array_size(reports) > 10000)
        rc = yr__malformed(st, err, "report list", "reports is not a list");
    size_t count = rc == 0 ? json_array_size(reports) : 0;
    youtube_report *rows = arena_calloc(a, (count ? count : 1) * sizeof(*rows));
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (!yr__report(json_array_get(reports, i), a, &rows[i]))
            rc = yr__malformed(st, err, "report list",
                               "a report lacks an id, its times or its download URL");
    if (rc == 0) {
        *out = rows;
        *n = count;
        *next_page = next && next[0] ? arena_strdup(a, next) : NULL;
    }
    json_decref(doc);
    return rc;
}

/* The length of "scheme://authority" at the start of url, or 0. */
static size_t yr__origin_len(const char *url)
{
    const char *p = strncmp(url, "https://", 8) == 0  ? url + 8
                    : strncmp(url, "http://", 7) == 0 ? url + 7
                                                      : NULL;
    if (p == NULL)
        return 0;
    size_t n = strcspn(p, "/?#");
    return n == 0 ? 0 : (size_t)(p - url) + n;
}

bool youtube_reporting_same_origin(const char *base_url, const char *url)
{
    size_t n = yr__origin_len(base_url);
    if (n == 0 || url == NULL || yr__origin_len(url) != n || strncmp(url, base_url, n) != 0 ||
        url[n] != '/')
        return false;
    for (const char *p = url; *p; p++) /* no whitespace, control bytes or backslashes */
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
            return false;
    /* userinfo ("user@host") would make the authority mean another host. */
    return memchr(base_url, '@', n) == NULL;
}

int youtube_reporting_download(const char *base_url, const char *access_token,
                               const youtube_report *r, buf *out, google_status *st, error *err)
{
    buf_init(out, 0);
    st->fault = GOOGLE_OK;
    st->retry_after_s = -1;
    st->reason[0] = '\0';
    if (!youtube_reporting_same_origin(base_url, r->download_url)) {
        st->fault = GOOGLE_REJECTED;
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "the YouTube Reporting report %s names a download URL outside %s; it "
                         "was not fetched, so the account's token went nowhere else",
                         r->id, base_url);
    }
    size_t blen = strlen(access_token) + 32;
    char *bearer = xmalloc(blen);
    snprintf(bearer, blen, "Authorization: Bearer %s", access_token);
    const char *const headers[] = {bearer, "Accept: text/csv, */*", NULL};
    http_client_req rq = {.method = "GET",
                          .url = r->download_url,
                          .headers = headers,
                          .connect_timeout_ms = YR_CONNECT_MS,
                          .timeout_ms = YR_TIMEOUT_MS,
                          .max_response = YOUTUBE_REPORTING_CSV_MAX};
    http_client_resp resp;
    int rc = http_client_do(&rq, &resp, err);
    sodium_memzero(bearer, blen);
    free(bearer);
    if (rc != 0) {
        /* A report past the cap will not shrink by asking again. */
        st->fault = err->kind == ERR_TOO_LARGE ? GOOGLE_REJECTED : GOOGLE_UNAVAILABLE;
        return -1;
    }
    st->retry_after_s = resp.retry_after_s;
    if (resp.status < 200 || resp.status > 299) {
        rc = google_oauth_fail(&resp, "the YouTube Reporting report download", st, err);
        http_client_resp_free(&resp);
        return rc;
    }
    *out = resp.body; /* handed over: the caller frees it */
    return 0;
}

/* ---- the CSV ------------------------------------------------------------------- */

enum { YR_DATE, YR_CHANNEL, YR_IMPRESSIONS, YR_CTR, YR_NCOLS };
static const char *const yr__names[YR_NCOLS] = {
    "date",
    "channel_id",
    "video_thumbnail_impressions",
    "video_thumbnail_impressions_ctr",
};

/* Digits only, within the cap. */
static bool yr__count(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || strspn(s, "0123456789") != n)
        return false;
    *out = strtoll(s, NULL, 10);
    return (double)*out <= YR_COUNT_MAX;
}

/* A plain decimal ratio within 0..1 ("0.0512", "1", "0"); nothing we would
 * have to guess at (signs, exponents, percent signs). */
static bool yr__ratio(const char *s, double *out)
{
    size_t n = strlen(s), whole = strspn(s, "0123456789");
    if (n == 0 || n > 32 || whole == 0)
        return false;
    if (s[whole] == '.' && (whole + 1 + strspn(s + whole + 1, "0123456789") != n || whole + 1 == n))
        return false;
    if (s[whole] != '.' && whole != n)
        return false;
    *out = strtod(s, NULL);
    return isfinite(*out) && *out >= 0 && *out <= 1;
}

/* "YYYYMMDD", as the Reporting API writes dates, or "YYYY-MM-DD". */
static bool yr__date(const char *s, int64_t *day)
{
    char iso[TIME_DAY_STR_LEN + 1];
    if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
        snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2s", s, s + 4, s + 6);
        s = iso;
    }
    return time_day_parse(s, day);
}

int youtube_reporting_reach_days(const char *data, size_t len, const char *youtube_channel_id,
                                 const youtube_report *r, arena *a, youtube_reach_day **out,
                                 size_t *n, google_status *st, error *err)
{
    *out = NULL;
    *n = 0;
    csv_limits lim = {
        .max_records = YOUTUBE_REPORTING_CSV_ROWS, .max_fields = 64, .max_field_len = 256};
    csv_record *recs;
    size_t nrec;
    error ce;
    if (csv_parse(a, data, len, &lim, &recs, &nrec, &ce) != 0)
        return yr__malformed(st, err, "report", ce.message);
    if (nrec == 0)
        return yr__malformed(st, err, "report", "it has no header line");
    int at[YR_NCOLS] = {-1, -1, -1, -1};
    for (size_t i = 0; i < recs[0].n; i++)
        for (int k = 0; k < YR_NCOLS; k++) {
            if (strcmp(recs[0].fields[i], yr__names[k]) != 0)
                continue;
            if (at[k] >= 0)
                return yr__malformed(st, err, "report", "a column is named twice");
            at[k] = (int)i;
        }
    for (int k = 0; k < YR_NCOLS; k++)
        if (at[k] < 0) {
            char why[96];
            snprintf(why, sizeof(why), "the column %s is missing", yr__names[k]);
            return yr__malformed(st, err, "report", why);
        }
    size_t ndays = (size_t)(r->last_day - r->first_day + 1);
    youtube_reach_day *days = arena_calloc(a, ndays * sizeof(*days));
    double *clicks = arena_calloc(a, ndays * sizeof(*clicks));
    for (size_t d = 0; d < ndays; d++)
        days[d].day = r->first_day + (int64_t)d;
    for (size_t i = 1; i < nrec; i++) {
        const csv_record *rec = &recs[i];
        int64_t day, impressions;
        double ctr = 0;
        char why[128];
        snprintf(why, sizeof(why), "line %zu is not a day of the report with valid reach",
                 rec->line);
        if (rec->n != recs[0].n || !yr__date(rec->fields[at[YR_DATE]], &day) ||
            day < r->first_day || day > r->last_day ||
            !yr__count(rec->fields[at[YR_IMPRESSIONS]], &impressions))
            return yr__malformed(st, err, "report", why);
        /* YouTube leaves the rate empty where there was nothing to click. */
        const char *c = rec->fields[at[YR_CTR]];
        if (!(c[0] == '\0' && impressions == 0) && !yr__ratio(c, &ctr)) {
            snprintf(why, sizeof(why),
                     "line %zu: the click-through rate is not a ratio between 0 and 1", rec->line);
            return yr__malformed(st, err, "report", why);
        }
        if (strcmp(rec->fields[at[YR_CHANNEL]], youtube_channel_id) != 0)
            continue;
        size_t k = (size_t)(day - r->first_day);
        days[k].impressions += impressions;
        clicks[k] += (double)impressions * ctr;
        if ((double)days[k].impressions > YR_COUNT_MAX)
            return yr__malformed(st, err, "report", "a day's impressions pass any real count");
    }
    for (size_t d = 0; d < ndays; d++)
        days[d].avg_ctr =
            days[d].impressions > 0 ? 100.0 * clicks[d] / (double)days[d].impressions : -1;
    *out = days;
    *n = ndays;
    return 0;
}
