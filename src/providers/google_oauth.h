/*
 * google_oauth: Google's OAuth 2.0 endpoints for a web server application,
 * spoken over http_client: the authorization URL (authorization code flow
 * with PKCE S256, offline access, forced consent), the token endpoint (code
 * exchange and refresh), OpenID Connect userinfo (who the account is) and
 * revocation. Every URL is the caller's (google_oauth_client), so tests
 * point them at a fake on loopback.
 *
 * Failures are classified into a google_status that callers act on
 * (invalid_grant: the account must reconnect; quota and rate limits: retry
 * later; 401: refresh the access token) and an error whose message never
 * quotes a response body or a token: only Google's error code, which is a
 * plain identifier.
 *
 * Tokens come back in heap strings that google_tokens_free() wipes.
 */
#ifndef PS_PROVIDERS_GOOGLE_OAUTH_H
#define PS_PROVIDERS_GOOGLE_OAUTH_H

#include "base/buf.h"
#include "base/error.h"
#include "providers/http_client.h"

#include <stdbool.h>
#include <stdint.h>

/* The OAuth client and Google's endpoints. Strings are borrowed. */
typedef struct google_oauth_client {
    const char *client_id;
    const char *client_secret; /* secret: sent only in token request bodies */
    const char *auth_url;
    const char *token_url;
    const char *userinfo_url;
    const char *revoke_url;
} google_oauth_client;

typedef enum google_fault {
    GOOGLE_OK = 0,
    GOOGLE_INVALID_GRANT, /* the code or refresh token is no longer valid (invalid_grant) */
    GOOGLE_UNAUTHORIZED,  /* 401: the access token was refused (expired or revoked) */
    GOOGLE_QUOTA,         /* 403 quotaExceeded or dailyLimitExceeded: the project's quota */
    GOOGLE_RATE_LIMITED,  /* 429, or 403 rateLimitExceeded / userRateLimitExceeded */
    GOOGLE_FORBIDDEN,     /* any other 403 (a scope missing, the API disabled) */
    GOOGLE_UNAVAILABLE,   /* no answer, or a 5xx */
    GOOGLE_REJECTED,      /* another 4xx, or an answer not in the documented shape */
} google_fault;

typedef struct google_status {
    google_fault fault;
    long retry_after_s; /* from Retry-After; -1 when Google gave none */
    char reason[64];    /* Google's own code ("invalid_grant", "quotaExceeded"), or "" */
} google_status;

typedef struct google_tokens {
    char *access_token;
    char *refresh_token; /* NULL when Google sent none (a refresh usually sends none) */
    char *scope;         /* space-separated granted scopes; NULL when not sent */
    int64_t expires_in;  /* seconds */
} google_tokens;

typedef struct google_identity {
    char sub[256];   /* the stable account id */
    char email[256]; /* "" when not shared */
    bool email_verified;
} google_identity;

#define GOOGLE_SCOPE_YOUTUBE_READONLY "https://www.googleapis.com/auth/youtube.readonly"
#define GOOGLE_SCOPE_ANALYTICS        "https://www.googleapis.com/auth/yt-analytics.readonly"
#define GOOGLE_SCOPE_UPLOAD           "https://www.googleapis.com/auth/youtube.upload"

/** The space-separated scopes to ask for: read-only YouTube and Analytics, openid email, and upload
 * only when publishing. */
const char *google_oauth_scopes(bool publishing);

/**
 * Appends the authorization URL for one flow to out: client_id, redirect_uri,
 * response_type=code, scope, state, code_challenge (S256), access_type=offline,
 * prompt=consent.
 */
int google_oauth_authorize_url(const google_oauth_client *g, const char *redirect_uri,
                               const char *state, const char *code_challenge, bool publishing,
                               buf *out, error *err);

/** Exchanges an authorization code (with the PKCE verifier) for tokens. */
int google_oauth_exchange(const google_oauth_client *g, const char *code, const char *code_verifier,
                          const char *redirect_uri, google_tokens *out, google_status *st,
                          error *err);
/** Gets a new access token with a refresh token; GOOGLE_INVALID_GRANT when it is dead. */
int google_oauth_refresh(const google_oauth_client *g, const char *refresh_token,
                         google_tokens *out, google_status *st, error *err);
/** Who the access token belongs to, from the OpenID Connect userinfo endpoint. */
int google_oauth_userinfo(const google_oauth_client *g, const char *access_token,
                          google_identity *out, google_status *st, error *err);
/** Revokes a token (a refresh token revokes the whole grant); an already dead token is fine. */
int google_oauth_revoke(const google_oauth_client *g, const char *token, google_status *st,
                        error *err);
void google_tokens_free(google_tokens *t);

/**
 * Classifies a non-2xx answer of any Google API (OAuth's {"error": "code"} or
 * the APIs' {"error": {"code", "errors": [{"reason"}]}}) into st and fills err
 * with a message about `what` ("the YouTube channel list") that quotes only
 * Google's reason code. Returns -1.
 */
int google_oauth_fail(const http_client_resp *r, const char *what, google_status *st, error *err);
/**
 * Reads a 2xx answer's body (NUL-terminated): the token endpoint's
 * {access_token, expires_in, refresh_token?, scope?} into out (free with
 * google_tokens_free), or userinfo's {sub, email?, email_verified?}. -1 with
 * st->fault GOOGLE_REJECTED and err set when a required member is missing
 * or of the wrong type; out is then zeroed. Apart from the calls so that
 * fuzz/ can drive the parsing without a server.
 */
int google_oauth_read_tokens(const char *body, const char *what, google_tokens *out,
                             google_status *st, error *err);
int google_oauth_read_identity(const char *body, google_identity *out, google_status *st,
                               error *err);
/** Sends a request with the bounded timeouts and size cap every Google call uses. */
int google_oauth_send(const char *method, const char *url, const char *const *headers,
                      const char *body, http_client_resp *resp, google_status *st, error *err);
/**
 * google_oauth_send with a body of len bytes (binary: media uploads) and a
 * whole-call timeout of timeout_ms (0: the usual one).
 */
int google_oauth_send_bytes(const char *method, const char *url, const char *const *headers,
                            const void *body, size_t len, long timeout_ms, http_client_resp *resp,
                            google_status *st, error *err);

#endif
