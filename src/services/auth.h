/*
 * auth: who is calling. Sign-up and log-in issue a session: a 256-bit random
 * opaque token, shown to the client once and stored only as its SHA-256
 * hash, with an idle and an absolute expiry. API keys are the same kind of
 * token for scripts, named and revocable. A request authenticates with
 * `Authorization: Bearer <token>` (session or key) or with the session cookie;
 * a cookie request that changes state must echo the session's CSRF token in
 * X-CSRF-Token, since a browser attaches cookies to cross-site requests too.
 *
 * Log-in and sign-up are rate-limited per client address and per account in
 * fixed windows counted in the database, so the limit holds across every
 * server process that shares it.
 */
#ifndef PS_SERVICES_AUTH_H
#define PS_SERVICES_AUTH_H

#include "base/error.h"
#include "db/db.h"
#include "domain/apikey_store.h"
#include "domain/session_store.h"
#include "domain/user_store.h"
#include "services/services.h"

#define AUTH_COOKIE_NAME "pstudio_session"
#define AUTH_TOKEN_LEN   47 /* "pss_" + 43 base64url characters */

typedef struct auth_credentials {
    const char *authorization; /* the Authorization header, or NULL */
    const char *cookie;        /* the Cookie header, or NULL */
    const char *csrf_header;   /* X-CSRF-Token, or NULL */
    bool state_changing;       /* not GET/HEAD/OPTIONS */
} auth_credentials;

typedef struct auth_session {
    char token[AUTH_TOKEN_LEN + 1]; /* shown once */
    session_row row;
    principal who; /* whom it signs in, read in the transaction that opened it */
} auth_session;

/** Resolves the caller; ERR_UNAUTHORIZED (401) or ERR_FORBIDDEN (403, CSRF) otherwise. */
int auth_authenticate(services *s, db_conn *c, const auth_credentials *cred, principal *out,
                      error *err);

/**
 * Creates a user on the lowest plan and a first session (u's text in a, the
 * name the email's local part when none is given). ERR_CONFLICT on a
 * taken email, ERR_INVALID on a bad one or a weak password, ERR_RATE_LIMITED
 * with *retry_after (seconds) when this address signs up too often.
 */
int auth_signup(services *s, db_conn *c, const char *ip, const char *user_agent, const char *email,
                const char *name, const char *password, user *u, auth_session *out, arena *a,
                int *retry_after, error *err);
/** Checks the password and opens a session; ERR_UNAUTHORIZED or ERR_RATE_LIMITED. */
int auth_login(services *s, db_conn *c, const char *ip, const char *user_agent, const char *email,
               const char *password, user *u, auth_session *out, arena *a, int *retry_after,
               error *err);
/**
 * Ends the caller's session, or all of them. Only a session may do either
 * (http/api_auth_session); for an API-key caller it ends nothing.
 */
int auth_logout(db_conn *c, const principal *p, bool everywhere, error *err);
/* Sign-up, log-in (and refused log-ins), log-out and API key changes are
 * recorded in the audit trail (services/audit.h) in their transactions. */

typedef struct auth_new_key {
    char token[AUTH_TOKEN_LEN + 1]; /* shown once */
    apikey row;                     /* its text in the caller's arena */
} auth_new_key;

/** Issues an API key named name; ERR_INVALID for a name out of apikey_row's limits. */
int auth_apikey_create(db_conn *c, arena *a, const principal *p, const char *name,
                       auth_new_key *out, error *err);
/** Revokes the caller's key id; ERR_NOT_FOUND when it is not theirs or already revoked. */
int auth_apikey_revoke(db_conn *c, const principal *p, const char *id, error *err);

#endif
