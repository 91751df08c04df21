/*
 * google_internal: private to services/google_service.c and
 * services/google_sync.c, the two halves of the google_service module (the
 * connect flow and tokens; discovery, import and stats), and of
 * services/analytics_service.c, which fetches with the same tokens. Nothing
 * else includes it.
 */
#ifndef PS_SERVICES_GOOGLE_INTERNAL_H
#define PS_SERVICES_GOOGLE_INTERNAL_H

#include "providers/google_oauth.h"
#include "services/google_service.h"

/** Fills ge with a problem and a message; returns -1. */
int google_service__fail(google_err *ge, google_problem problem, error_kind kind, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
/** Wraps a lower layer's error (no problem of its own); returns -1. */
int google_service__plain(google_err *ge, const error *e);
/** NOT_CONFIGURED naming the settings when the OAuth client is not set; else 0. */
int google_service__require_configured(const services *s, google_err *ge);
google_oauth_client google_service__client(const services *s);
/** Maps a classified Google failure (quota, invalid_grant, …) onto ge; returns -1. */
int google_service__from_status(google_err *ge, const google_status *st, const error *e);
/**
 * A usable access token for acc (token_secret_free it): the stored one, or a
 * refreshed one when it expires within GOOGLE_REFRESH_AHEAD_USEC or force is
 * set. A refresh rewrites acc (and its row); invalid_grant marks the account
 * needs_reconnect and answers RECONNECT.
 */
int google_service__access_token(services *s, db_conn *c, arena *a, account *acc, bool force,
                                 char **access, google_err *ge);
/* One call to a Google API with an access token; fills *st (and *e on failure). */
typedef int (*google_call_fn)(const char *access, void *arg, google_status *st, error *e);
/**
 * Runs call with acc's access token (refreshed into a when it expires
 * soon). A 401 refreshes the token once and calls again; any other failure
 * is mapped by google_service__from_status, and a second 401 names api as
 * refusing a fresh token. *last (zeroed first) gets the last call's status.
 */
int google_service__call(services *s, db_conn *c, arena *a, account *acc, const char *api,
                         google_call_fn call, void *arg, google_status *last, google_err *ge);
#define GOOGLE_QUOTA_SLACK_S 300 /* seconds after Google's quota reset before trying again */
/**
 * After a failed Google call: a quota error without Retry-After waits for
 * Google's reset at midnight Pacific time (plus GOOGLE_QUOTA_SLACK_S), said
 * in ge (its retry_after_s and message).
 */
void google_service__quota_wait(const google_status *gs, const char *api, google_err *ge);
/** channels.list?mine=true for acc, refreshing the token once on a 401. */
int google_service__list_channels(services *s, db_conn *c, arena *a, account *acc,
                                  youtube_channel **rows, size_t *n, google_err *ge);

/* One page of what a daily sweep fans out over: up to limit rows after
 * `after` (NULL: from the start), in id order, their ids and owners in ids
 * and user_ids (pointing into a). */
#define GOOGLE_SWEEP_PAGE 200
typedef int (*google_sweep_page_fn)(db_conn *c, arena *a, const char *after, int limit,
                                    const char *ids[], const char *user_ids[], size_t *n,
                                    error *err);
/**
 * A daily sweep's fan-out, on c inside the caller's transaction: one `kind`
 * job per row page() lists, its payload {payload_key: id}, unique per row and
 * UTC day (kind:id:dDAY), so several processes sweeping at once add nothing
 * twice. *queued counts the rows seen.
 */
int google_service__sweep(db_conn *c, const char *kind, const char *payload_key, int max_attempts,
                          long long day, google_sweep_page_fn page, size_t *queued, error *err);

#endif
