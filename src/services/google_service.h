/*
 * google_service: seed flow 1, "connect Google, discover and import
 * channels", and what keeps it working afterwards.
 *
 *  - Connect: an authorization-code flow with PKCE (S256). The state is
 *    random, single-use, bound to the user and to the session that started
 *    it, and expires in GOOGLE_STATE_TTL_USEC. Google sends the browser
 *    back, so only a request that carries the session's cookie may start
 *    it: the callback must come from that same browser session. The callback
 *    checks all of that before anything else and stores nothing on any
 *    failure; then it exchanges the code, asks Google who the account is and
 *    stores it in `accounts` with its tokens sealed (services/token_crypto).
 *  - Tokens: an access token is refreshed GOOGLE_REFRESH_AHEAD_USEC before it
 *    expires, and again once when YouTube answers 401. A refresh answered with
 *    invalid_grant marks the account needs_reconnect.
 *  - Discover and import: channels.list?mine=true lists the grant's channels;
 *    importing upserts them (unique per user and YouTube id) under the plan's
 *    channel limit. A quota or rate limit during an import queues the import
 *    to run later instead of failing it.
 *  - Stats: a daily job (and an on-demand one per channel) refreshes each
 *    channel's cached counts; quota and rate limits retry later through the
 *    queue.
 *  - Key rotation re-seals every account's tokens under a new key version
 *    while the service keeps running.
 *
 * Failures that need an answer of their own (not a plain error kind) carry a
 * google_problem; http/h_google.c maps each to a status and problem type.
 */
#ifndef PS_SERVICES_GOOGLE_SERVICE_H
#define PS_SERVICES_GOOGLE_SERVICE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/account_store.h"
#include "domain/channel_store.h"
#include "jobs/queue.h"
#include "providers/youtube.h"
#include "services/services.h"

#include <stdbool.h>
#include <stddef.h>

#define GOOGLE_STATE_TTL_USEC     ((int64_t)10 * 60 * 1000000)
#define GOOGLE_REFRESH_AHEAD_USEC ((int64_t)5 * 60 * 1000000)

/* Job kinds. */
#define GOOGLE_JOB_REFRESH_STATS "youtube.refresh_stats"     /* {"account_id"} */
#define GOOGLE_JOB_REFRESH_ALL   "youtube.refresh_stats_all" /* daily; fans out per account */
#define GOOGLE_JOB_IMPORT        "youtube.import_channels"   /* an import that hit a quota */

typedef enum google_problem {
    GOOGLE_PROBLEM_NONE = 0,       /* answer by e.kind */
    GOOGLE_PROBLEM_NOT_CONFIGURED, /* no OAuth client id/secret: 503 naming the settings */
    GOOGLE_PROBLEM_BROWSER,        /* connect not started by a browser signed in as the caller */
    GOOGLE_PROBLEM_BAD_STATE,      /* state missing, unknown, used, expired or not this session's */
    GOOGLE_PROBLEM_DENIED,         /* the user declined, or Google refused the code */
    GOOGLE_PROBLEM_RECONNECT,      /* the account must be connected again */
    GOOGLE_PROBLEM_QUOTA,          /* YouTube quota or rate limit: retry_after_s */
    GOOGLE_PROBLEM_UPSTREAM,       /* Google did not answer, or not usefully */
    GOOGLE_PROBLEM_PUBLISHING_OFF, /* PSTUDIO_YOUTUBE_PUBLISHING is not true: 409 naming it */
    GOOGLE_PROBLEM_SCOPE,          /* the account's grant lacks a scope the work needs: 409 */
} google_problem;

typedef struct google_err {
    error e; /* always filled on failure; the message is for a person */
    google_problem problem;
    long retry_after_s; /* with GOOGLE_PROBLEM_QUOTA */
} google_err;

/** True when the OAuth client id and secret are set. */
bool google_service_configured(const services *s);

/**
 * Starts a connect flow for the caller: stores the state and returns the
 * authorization URL to send the browser to (arena), and when it expires.
 * GOOGLE_PROBLEM_BROWSER unless the request carried the caller's session
 * cookie (p->session_cookie): an API key, or a Bearer session token without
 * its cookie, could never finish the flow in a browser.
 */
int google_service_connect(services *s, db_conn *c, arena *a, const principal *p, const char **url,
                           int64_t *expires_at, google_err *ge);

/* What Google sent to the redirect URI. */
typedef struct google_callback {
    const char *code;
    const char *state;
    const char *error; /* "access_denied" when the user declined */
} google_callback;

/** Finishes a connect flow: checks the state, exchanges the code, stores the account. */
int google_service_callback(services *s, db_conn *c, arena *a, const principal *p,
                            const google_callback *cb, account *out, google_err *ge);

/** A page of the caller's Google accounts, newest first. */
int google_service_accounts(db_conn *c, arena *a, const principal *p, const char *cursor, int limit,
                            account **out, size_t *n, error *err);
/** The caller's account; ERR_NOT_FOUND for a missing or another user's one. */
int google_service_account(db_conn *c, arena *a, const principal *p, const char *id, account *out,
                           error *err);
/**
 * Revokes the account's grant at Google and deletes it; its channels stay,
 * unlinked. When Google cannot be reached nothing is deleted (UPSTREAM).
 */
int google_service_disconnect(services *s, db_conn *c, arena *a, const principal *p, const char *id,
                              google_err *ge);

/* A channel the grant covers, and whether the caller already imported it. */
typedef struct google_found {
    youtube_channel yt;
    const char *channel_id; /* the caller's channel with this YouTube id, or NULL */
} google_found;

/** Lists the YouTube channels of the caller's account. */
int google_service_discover(services *s, db_conn *c, arena *a, const principal *p,
                            const char *account_id, google_found **out, size_t *n, google_err *ge);

typedef struct google_import {
    channel *rows; /* in the order asked; empty when queued */
    size_t n;
    size_t created;                /* how many of rows are new */
    bool queued;                   /* YouTube's quota was hit: the import runs later */
    char job_id[UUID_STR_LEN + 1]; /* with queued */
    long retry_after_s;            /* with queued */
} google_import;

/**
 * Imports the chosen channels of the caller's account (ids deduplicated).
 * ERR_INVALID (field youtube_channel_ids) for an id the grant does not cover,
 * ERR_PLAN_LIMIT past the plan's channel limit; a quota or rate limit queues
 * the import (out->queued) instead of failing.
 */
int google_service_import(services *s, db_conn *c, arena *a, const principal *p,
                          const char *account_id, const char *const *youtube_ids, size_t n,
                          google_import *out, google_err *ge);

/**
 * Queues a stats refresh for the caller's channel (its account's channels, in
 * fact). While one is queued or running for the account, a request shares it;
 * job_id and *status (arena) name that job and its status now.
 */
int google_service_request_stats(services *s, db_conn *c, arena *a, const principal *p,
                                 const char *channel_id, char job_id[UUID_STR_LEN + 1],
                                 const char **status, google_err *ge);
/**
 * Refreshes the cached stats of every channel of one account. With j, the
 * writes commit together with job_complete(j). *updated counts channel rows.
 */
int google_service_refresh_stats(services *s, db_conn *c, const char *user_id,
                                 const char *account_id, const job *j, size_t *updated,
                                 google_err *ge);

typedef struct google_rotation {
    int old_version;
    int new_version;
    size_t resealed; /* accounts moved to new_version */
    size_t failed;   /* accounts whose tokens did not decrypt (left as they were) */
    char failed_ids[5][UUID_STR_LEN + 1]; /* the first few of them */
} google_rotation;

/**
 * Adds a token key version and re-seals every account's tokens under it,
 * row by row, while servers keep running: every version stays readable, and
 * a token refreshed meanwhile is sealed under the new version already.
 */
int google_service_rotate_key(services *s, db_conn *c, google_rotation *out, error *err);

/** Registers the job handlers and the daily stats refresh (app_register_jobs). */
void google_service_register_jobs(services *s);

#endif
