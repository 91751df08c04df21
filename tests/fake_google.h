/*
 * fake_google: Google's OAuth endpoints and the YouTube Data API's
 * channels.list on loopback, built on our own http server, speaking the
 * documented wire format including its failures. It records what it receives
 * (the PKCE challenge and verifier, the client secret, the redirect URIs)
 * and issues distinctive tokens, so tests can check both our requests and
 * that no token leaks anywhere.
 *
 * It also answers the YouTube Analytics API v2 reports.query by day
 * (GET /v2/reports), with a deterministic row per day (fake_google_analytics_day)
 * up to analytics_last_day, and its failures: 401 for a dead token, 403
 * quotaExceeded, 429 with Retry-After, 503, malformed bodies, and the
 * columns in another order. By day and video (dimensions=day,video) it
 * answers only with a filters=video==ID1,ID2,… of 1 to 500 well-formed ids
 * (else 400, as the real API refuses a video report it cannot bound), a row
 * per day and listed video the test declared (fake_google_add_video), each
 * a share of the channel's day; ids it does not know have no rows.
 *
 * And the YouTube Reporting API v1: jobs.list (paged) and jobs.create,
 * jobs.reports.list (createdAfter, paged) over the reports a test adds
 * (fake_google_add_reach_report), and each report's CSV at its downloadUrl,
 * which requires the bearer token. jobs.list may also hold another report
 * type's job (on a first page of two) and an expired reach job. Failures:
 * 403 quotaExceeded, 429 with Retry-After, 503 (lists and downloads), a
 * body that is not JSON, and downloadUrls on another origin.
 *
 * Identities: "alice" (two channels, one with a hidden subscriber count),
 * "bob" (one channel), "brand" (a brand account's single channel).
 * The consent page answers at once as fg->identity, or declines.
 *
 * Fields below the lock are shared with the server threads: change and read
 * them between fake_google_lock() and fake_google_unlock().
 */
#ifndef PS_TESTS_FAKE_GOOGLE_H
#define PS_TESTS_FAKE_GOOGLE_H

#include <pthread.h>
#include <stdbool.h>

#define FAKE_GOOGLE_MAX_TOKENS  64
#define FAKE_GOOGLE_MAX_CODES   32
#define FAKE_GOOGLE_MAX_REPORTS 16

/* One Reporting API report of the reach job: the day it covers, when it was
 * made (RFC 3339), and its CSV. */
typedef struct fake_reach_report {
    char id[32];
    char start[32], end[32], create[32];
    char csv[4096];
} fake_reach_report;

#define FAKE_GOOGLE_MAX_VIDEOS 8

/* A video the fake has numbers for: share_pct percent of the channel's
 * views each day, watched minutes_per_view minutes a view, with the given
 * average view percentage. */
typedef struct fake_video {
    char id[16];
    int share_pct;
    int minutes_per_view;
    double percentage;
} fake_video;

typedef struct fake_google_token {
    char value[128];
    char identity[16];
    bool refresh; /* a refresh token, else an access token */
    bool valid;
} fake_google_token;

typedef struct fake_google_code {
    char code[64];
    char identity[16];
    char challenge[64];
    char redirect_uri[512];
    char scope[512];
    bool used;
} fake_google_code;

typedef struct fake_google {
    pthread_mutex_t lock;
    struct http_server *srv;
    int port;
    char client_id[128];
    char client_secret[128];

    /* behaviour */
    char identity[16];       /* who consents next */
    bool deny;               /* the user declines: error=access_denied */
    bool drop_youtube_scope; /* the user unticks YouTube access */
    bool refresh_invalid;    /* every refresh answers invalid_grant */
    int channels_mode;       /* 0 normal, 1 403 quotaExceeded, 2 429 with Retry-After */
    int revoke_status;       /* 0: revoke; else answer this status (a 5xx) and keep the grant */
    long expires_in;         /* of issued access tokens */
    char alice_subscribers[32];
    int analytics_mode;          /* FAKE_ANALYTICS_*: how every report request is answered */
    int analytics_fail_at;       /* > 0: the n-th report request from now answers 503, once */
    bool analytics_reversed;     /* columns in another order than the request's */
    int analytics_revision;      /* added to every day's views: Google revised its numbers */
    char analytics_last_day[16]; /* no rows after this day ("": every day asked for) */
    int analytics_delay_ms;      /* each report answers this late (a slow Google) */
    int analytics_video_mode;    /* FAKE_VIDEO_*: how reports by video are answered */
    fake_video videos[FAKE_GOOGLE_MAX_VIDEOS];
    int nvideos;

    int reporting_mode;         /* FAKE_REPORTING_*: how job and report lists are answered */
    bool reporting_offsite;     /* downloadUrls name another origin (localhost, not 127.0.0.1) */
    bool reporting_other_job;   /* jobs.list's first page holds another report type's job */
    bool reporting_expired_job; /* jobs.list also holds an expired reach job */
    int reporting_page_size;    /* reports per page of jobs.reports.list; 0: 2 */
    int media_fail_at;          /* > 0: the n-th download from now answers 503, once */
    char reporting_job_id[64];  /* the reach job, "" until created */
    fake_reach_report reports[FAKE_GOOGLE_MAX_REPORTS];
    int nreports;

    /* records */
    int job_lists, job_creates, report_lists, media_calls;
    char last_created_after[48]; /* createdAfter of the last report list, "" when none */
    char reporting_bad[160];     /* why the last malformed Reporting request was refused */

    char auth_client_id[128], auth_redirect_uri[512], auth_response_type[32], auth_scope[512],
        auth_state[128], auth_challenge[128], auth_challenge_method[16], auth_access_type[16],
        auth_prompt[16];
    char tok_grant_type[32], tok_client_secret[128], tok_redirect_uri[512], tok_verifier[160],
        tok_content_type[128];
    int exchanges, refreshes, userinfos, revokes, channel_lists;
    int analytics_calls;           /* report requests, answered or not */
    char analytics_ranges[64][24]; /* "startDate..endDate" of the first 64 */
    char analytics_bad_query[256]; /* why the last malformed request was refused, or "" */
    int video_calls;               /* report requests by video, answered or not */
    int video_ids_max;             /* the most ids one of them named */
    char revoked[8][128];
    char last_bearer[160];

    fake_google_token tokens[FAKE_GOOGLE_MAX_TOKENS];
    int ntokens;
    fake_google_code codes[FAKE_GOOGLE_MAX_CODES];
    int ncodes;
} fake_google;

enum {
    FAKE_ANALYTICS_OK = 0,
    FAKE_ANALYTICS_QUOTA,        /* 403 quotaExceeded, no Retry-After */
    FAKE_ANALYTICS_RATE_LIMITED, /* 429 with Retry-After: 45 */
    FAKE_ANALYTICS_UNAVAILABLE,  /* 503 backendError */
    FAKE_ANALYTICS_NOT_JSON,     /* 200 with a body that is not JSON */
    FAKE_ANALYTICS_STRING_COUNT, /* a count sent as a string */
    FAKE_ANALYTICS_NO_COLUMN,    /* subscribersLost missing from the headers and the rows */
    FAKE_ANALYTICS_WRONG_DAY,    /* a row dated outside the range asked for */
    FAKE_ANALYTICS_NEGATIVE,     /* a negative view count */
    FAKE_ANALYTICS_ROWS_OBJECT,  /* rows is an object, not a list */
    FAKE_ANALYTICS_SHORT_ROW,    /* a row with one value too few */
    FAKE_ANALYTICS_MALFORMED_LAST = FAKE_ANALYTICS_SHORT_ROW,
};

/* Reports by video only; the channel's reports follow analytics_mode. */
enum {
    FAKE_VIDEO_OK = 0,
    FAKE_VIDEO_TWICE,        /* a video comes twice on one day */
    FAKE_VIDEO_UNASKED,      /* a row names a video that was not asked for */
    FAKE_VIDEO_NO_COLUMN,    /* the video column is missing */
    FAKE_VIDEO_RATE_LIMITED, /* 429 with Retry-After: 45 */
    FAKE_VIDEO_EXPIRED,      /* 401 once, as for a token that just expired; then OK */
};

enum {
    FAKE_REPORTING_OK = 0,
    FAKE_REPORTING_QUOTA,        /* report lists: 403 quotaExceeded, no Retry-After */
    FAKE_REPORTING_RATE_LIMITED, /* report lists: 429 with Retry-After: 45 */
    FAKE_REPORTING_UNAVAILABLE,  /* report lists: 503 backendError */
    FAKE_REPORTING_NOT_JSON,     /* report lists: 200 with a body that is not JSON */
};

/** Adds a report of the reach job covering day ("YYYY-MM-DD"), made at create (RFC 3339). */
void fake_google_add_reach_report(fake_google *fg, const char *id, const char *day,
                                  const char *create, const char *csv);

/* What the fake reports for one day (revision added to views). */
typedef struct fake_analytics_day {
    long long views, likes, comments, shares, minutes, duration, gained, lost;
    double percentage;
} fake_analytics_day;
void fake_google_analytics_day(const char *date, int revision, fake_analytics_day *out);
/** What the fake reports for video v on one day (its share of the channel's). */
void fake_google_video_day(const char *date, int revision, const fake_video *v,
                           fake_analytics_day *out);
/** Declares a video the fake has numbers for (under the lock or before use). */
void fake_google_add_video(fake_google *fg, const char *id, int share_pct, int minutes_per_view,
                           double percentage);

fake_google *fake_google_start(const char *client_id, const char *client_secret);
void fake_google_stop(fake_google *fg);
void fake_google_lock(fake_google *fg);
void fake_google_unlock(fake_google *fg);
/** True when value is an access token the fake issued and still honours. */
bool fake_google_access_valid(fake_google *fg, const char *value);
/** Marks every access token issued so far invalid (YouTube will answer 401). */
void fake_google_expire_access_tokens(fake_google *fg);

/* The text of the settings fake_google_env() writes. */
typedef struct fake_google_settings {
    char text[9][600];
} fake_google_settings;
/**
 * The settings that point a pstudio process (test_proc_start) at fg, each
 * "NAME=value", into env[0..8] and a NULL after them (env has room for 10),
 * their text in s: the OAuth client with redirect_uri, the token, revoke and
 * userinfo endpoints, YouTube's Data and Analytics APIs, and secret_key as
 * PSTUDIO_SECRET_KEY (Google's tokens are stored sealed with it). Returns
 * how many settings (9).
 */
size_t fake_google_env(const fake_google *fg, const char *redirect_uri, const char *secret_key,
                       fake_google_settings *s, const char **env);

#endif
