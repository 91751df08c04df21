/*
 * google_service, part one: the connect flow, the accounts, their tokens
 * (open, refresh, re-seal), key rotation, and the fan-out the daily sweeps
 * share (the stats one in google_sync.c, the analytics one in
 * analytics_service.c). Discovery, import and the stats jobs are in
 * google_sync.c; google_internal.h is what they share.
 */
#include "services/google_service.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "domain/limits.h"
#include "domain/oauth_state_store.h"
#include "jobs/queue.h"
#include "services/audit.h"
#include "services/google_internal.h"
#include "services/token_crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int google_service__fail(google_err *ge, google_problem problem, error_kind kind, const char *fmt,
                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof(ge->e.message)];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ge->problem = problem;
    ge->retry_after_s = -1;
    return error_set(&ge->e, kind, NULL, "%s", msg);
}

/* Turns an error of a lower layer into a google_err without a problem. */
int google_service__plain(google_err *ge, const error *e)
{
    ge->problem = GOOGLE_PROBLEM_NONE;
    ge->retry_after_s = -1;
    ge->e = *e;
    return -1;
}

bool google_service_configured(const services *s)
{
    return s->google.client_id != NULL && s->google.client_id[0] != '\0' &&
           s->google.client_secret != NULL && s->google.client_secret[0] != '\0';
}

int google_service__require_configured(const services *s, google_err *ge)
{
    if (google_service_configured(s))
        return 0;
    return google_service__fail(
        ge, GOOGLE_PROBLEM_NOT_CONFIGURED, ERR_UNAVAILABLE,
        "Google connect is not configured: set PSTUDIO_GOOGLE_CLIENT_ID and "
        "PSTUDIO_GOOGLE_CLIENT_SECRET (or PSTUDIO_GOOGLE_CLIENT_SECRET_FILE), and "
        "register %s as an authorized redirect URI of that OAuth client",
        s->google.redirect_uri ? s->google.redirect_uri : "PSTUDIO_GOOGLE_REDIRECT_URI");
}

google_oauth_client google_service__client(const services *s)
{
    return (google_oauth_client){
        .client_id = s->google.client_id,
        .client_secret = s->google.client_secret,
        .auth_url = s->google.auth_url,
        .token_url = s->google.token_url,
        .userinfo_url = s->google.userinfo_url,
        .revoke_url = s->google.revoke_url,
    };
}

int google_service__from_status(google_err *ge, const google_status *st, const error *e)
{
    ge->e = *e;
    ge->retry_after_s = -1;
    switch (st->fault) {
    case GOOGLE_QUOTA:
        ge->problem = GOOGLE_PROBLEM_QUOTA;
        ge->retry_after_s = st->retry_after_s > 0 ? st->retry_after_s : 3600;
        error_set(&ge->e, ERR_UNAVAILABLE, NULL,
                  "the YouTube API quota of this Persona Studio installation is used up for now; "
                  "try again in about %ld minutes",
                  (ge->retry_after_s + 59) / 60);
        return -1;
    case GOOGLE_RATE_LIMITED:
        ge->problem = GOOGLE_PROBLEM_QUOTA;
        ge->retry_after_s = st->retry_after_s > 0 ? st->retry_after_s : 60;
        error_set(&ge->e, ERR_UNAVAILABLE, NULL,
                  "Google is limiting how fast this installation may call YouTube; try again in "
                  "%ld seconds",
                  ge->retry_after_s);
        return -1;
    case GOOGLE_INVALID_GRANT:
        ge->problem = GOOGLE_PROBLEM_RECONNECT;
        error_set(&ge->e, ERR_CONFLICT, "status",
                  "Google no longer accepts this account's authorization (it was revoked, or "
                  "expired unused); connect the account again");
        return -1;
    case GOOGLE_FORBIDDEN:
        if (strcmp(st->reason, "insufficientPermissions") == 0 ||
            strcmp(st->reason, "forbidden") == 0) {
            ge->problem = GOOGLE_PROBLEM_RECONNECT;
            error_set(&ge->e, ERR_CONFLICT, "scopes",
                      "this Google account did not allow Persona Studio to read its YouTube "
                      "channels; connect it again and leave YouTube access allowed");
            return -1;
        }
        ge->problem = GOOGLE_PROBLEM_UPSTREAM;
        return -1;
    default:
        ge->problem = GOOGLE_PROBLEM_UPSTREAM;
        /* Two refusals an operator fixes in the settings, not by retrying. */
        if (strcmp(st->reason, "invalid_client") == 0 ||
            strcmp(st->reason, "unauthorized_client") == 0)
            error_set(&ge->e, ERR_UNAVAILABLE, NULL,
                      "Google refused this installation's OAuth client (%s): check "
                      "PSTUDIO_GOOGLE_CLIENT_ID and PSTUDIO_GOOGLE_CLIENT_SECRET",
                      st->reason);
        else if (strcmp(st->reason, "redirect_uri_mismatch") == 0)
            error_set(&ge->e, ERR_UNAVAILABLE, NULL,
                      "Google refused the redirect URI: PSTUDIO_GOOGLE_REDIRECT_URI must be "
                      "registered for the OAuth client exactly as it is set");
        return -1;
    }
}

/* ---- connect ------------------------------------------------------------------- */

int google_service_connect(services *s, db_conn *c, arena *a, const principal *p, const char **url,
                           int64_t *expires_at, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    if (google_service__require_configured(s, ge) != 0)
        return -1;
    /* The callback is checked against the session that started the flow,
     * and it arrives from a browser with nothing but that browser's cookie.
     * A flow started with a key or a bearer token alone would fail there,
     * after the consent; and completing it from the state alone would let
     * anyone who sends a victim their authorization URL connect the
     * victim's Google account to their own user (decision 53). */
    if (p->via != PRINCIPAL_SESSION || !p->session_cookie)
        return google_service__fail(
            ge, GOOGLE_PROBLEM_BROWSER, ERR_FORBIDDEN,
            "Google sends the browser back to this service, and the flow must finish in the "
            "session that started it: start it from a browser signed in to Persona Studio "
            "(its session cookie), not with %s alone",
            p->via == PRINCIPAL_SESSION ? "a Bearer session token" : "an API key");
    token_keyring k;
    int version;
    error e;
    if (token_keyring_load(s, &k, &e) != 0 ||
        token_crypto_current_version(c, &k, &version, &e) != 0) {
        token_keyring_wipe(&k);
        return google_service__plain(ge, &e);
    }
    char state[44], verifier[44], challenge[44];
    token_crypto_random_b64url(state);
    token_crypto_random_b64url(verifier); /* 43 characters: RFC 7636's minimum length */
    token_crypto_sha256_b64url(verifier, challenge);

    int64_t now = time_now_usec();
    oauth_state st = {0};
    uuid_v7(st.id);
    snprintf(st.user_id, sizeof(st.user_id), "%s", p->user_id);
    snprintf(st.credential_id, sizeof(st.credential_id), "%s", p->credential_id);
    token_crypto_sha256_hex(state, st.state_hash);
    st.key_version = version;
    st.redirect_uri = s->google.redirect_uri;
    st.created_at = now;
    st.expires_at = now + GOOGLE_STATE_TTL_USEC;
    token_sealed sealed;
    int rc = token_crypto_seal(&k, version, TOKEN_PURPOSE_VERIFIER, st.id, st.user_id, verifier,
                               &sealed, &e);
    token_keyring_wipe(&k);
    if (rc != 0)
        return google_service__plain(ge, &e);
    st.verifier_enc = sealed.data;
    st.verifier_enc_len = sealed.len;
    /* Old states are worthless; forgetting them here keeps the table small
     * even where no worker runs the daily sweep. */
    rc = oauth_state_store_prune(c, now - GOOGLE_STATE_TTL_USEC, &e);
    if (rc == 0)
        rc = oauth_state_store_insert(c, &st, &e);
    token_sealed_free(&sealed);
    if (rc != 0)
        return google_service__plain(ge, &e);

    google_oauth_client client = google_service__client(s);
    buf u;
    buf_init(&u, 16384);
    rc = google_oauth_authorize_url(&client, st.redirect_uri, state, challenge,
                                    s->google.publishing, &u, &e);
    if (rc == 0)
        *url = arena_strdup(a, buf_cstr(&u));
    buf_free(&u);
    *expires_at = st.expires_at;
    return rc != 0 ? google_service__plain(ge, &e) : 0;
}

static int google__bad_state(google_err *ge, const char *why)
{
    return google_service__fail(ge, GOOGLE_PROBLEM_BAD_STATE, ERR_INVALID,
                                "%s; nothing was connected. Start again from \"Connect Google\"",
                                why);
}

/* Checks the state against the caller's session and uses it up. */
static int google__take_state(db_conn *c, arena *a, const principal *p, const char *state,
                              oauth_state *st, google_err *ge)
{
    if (state == NULL || state[0] == '\0')
        return google__bad_state(ge, "the callback carries no state");
    if (strlen(state) > OAUTH_STATE_MAX)
        return google__bad_state(ge, "the callback's state is not one this service issued");
    char hash[65];
    token_crypto_sha256_hex(state, hash);
    error e;
    if (oauth_state_store_find(c, a, hash, st, &e) != 0)
        return e.kind == ERR_NOT_FOUND
                   ? google__bad_state(ge, "the callback's state is not one this service issued "
                                           "(or it expired and was cleaned up)")
                   : google_service__plain(ge, &e);
    if (strcmp(st->user_id, p->user_id) != 0 || strcmp(st->credential_id, p->credential_id) != 0)
        return google__bad_state(ge, "this authorization was started in another session; finish "
                                     "it in the browser session that started it");
    if (st->used_at != 0)
        return google__bad_state(ge, "this authorization was already completed once");
    int64_t now = time_now_usec();
    if (st->expires_at <= now)
        return google__bad_state(ge, "this authorization took too long and expired");
    bool won;
    if (oauth_state_store_consume(c, st->id, p->user_id, now, &won, &e) != 0)
        return google_service__plain(ge, &e);
    if (!won)
        return google__bad_state(ge, "this authorization was already completed once");
    return 0;
}

/* True when the space-separated list holds scope. */
static bool google__has_scope(const char *list, const char *scope)
{
    size_t n = strlen(scope);
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, scope, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* A best-effort revocation of a grant we will not keep. */
static void google__revoke_quietly(const services *s, const char *token)
{
    google_oauth_client client = google_service__client(s);
    google_status st;
    error e;
    if (google_oauth_revoke(&client, token, &st, &e) != 0)
        log_warn("could not revoke a Google grant that was not kept: %s", e.message);
}

/* Seals tokens under the current version and writes the account (insert or
 * update) in one write transaction (db_tx). */
typedef struct google__account_tx {
    services *s;
    arena *a;
    const principal *p;
    const google_identity *who;
    const google_tokens *t;
    token_keyring *k;
    token_sealed access, refresh; /* freed by the caller, committed or not */
    account acc;
} google__account_tx;

static int google__store_account_body(db_conn *c, void *arg, error *err)
{
    google__account_tx *tx = arg;
    arena *a = tx->a;
    const google_tokens *t = tx->t;
    int64_t now = time_now_usec();
    account old, acc = {0};
    int rc = account_store_find(c, a, tx->p->user_id, "google", tx->who->sub, &old, err);
    bool exists = rc == 0;
    if (rc != 0 && err->kind == ERR_NOT_FOUND)
        rc = 0;
    /* Google sends a refresh token with every forced consent; should one be
     * missing, keep the one we have (when it still opens). */
    char *old_refresh = NULL;
    error why;
    if (rc == 0 && exists && t->refresh_token == NULL && old.refresh_enc != NULL &&
        token_crypto_open(c, tx->k, old.key_version, TOKEN_PURPOSE_REFRESH, old.id, old.user_id,
                          old.refresh_enc, old.refresh_enc_len, &old_refresh, &why) != 0)
        log_warn("reconnecting Google account %s without its old refresh token: %s", old.id,
                 why.message);
    int version = 0;
    if (rc == 0)
        rc = token_crypto_current_version(c, tx->k, &version, err);
    if (rc == 0) {
        if (exists) {
            acc = old;
        } else {
            uuid_v7(acc.id);
            snprintf(acc.user_id, sizeof(acc.user_id), "%s", tx->p->user_id);
            acc.provider = "google";
            acc.provider_account_id = arena_strdup(a, tx->who->sub);
            acc.created_at = now;
        }
        acc.email = tx->who->email[0] ? arena_strdup(a, tx->who->email) : NULL;
        acc.scopes =
            arena_strdup(a, t->scope ? t->scope : google_oauth_scopes(tx->s->google.publishing));
        acc.key_version = version;
        acc.expires_at = now + t->expires_in * 1000000;
        acc.status = ACCOUNT_ACTIVE;
        acc.updated_at = now;
        const char *refresh_plain = t->refresh_token ? t->refresh_token : old_refresh;
        rc = token_crypto_seal(tx->k, version, TOKEN_PURPOSE_ACCESS, acc.id, acc.user_id,
                               t->access_token, &tx->access, err);
        if (rc == 0 && refresh_plain != NULL)
            rc = token_crypto_seal(tx->k, version, TOKEN_PURPOSE_REFRESH, acc.id, acc.user_id,
                                   refresh_plain, &tx->refresh, err);
    }
    token_secret_free(old_refresh);
    if (rc != 0)
        return -1;
    acc.access_enc = tx->access.data;
    acc.access_enc_len = tx->access.len;
    acc.refresh_enc = tx->refresh.data;
    acc.refresh_enc_len = tx->refresh.len;
    if ((exists ? account_store_update(c, &acc, err) : account_store_insert(c, &acc, err)) != 0)
        return -1;
    /* Which Google account and what it allows; never a token. */
    if (audit_record(c,
                     &(audit_entry){.action = "google.connected",
                                    .by = tx->p,
                                    .subject = acc.user_id,
                                    .object_type = "google_account",
                                    .object_id = acc.id,
                                    .detail = json_pack(
                                        "{s:o,s:o,s:b}", "email", audit_text(acc.email), "scopes",
                                        audit_text(acc.scopes), "reconnected", exists)},
                     err) != 0)
        return -1;
    acc.access_enc = acc.refresh_enc = NULL; /* freed by the caller; never handed out */
    acc.access_enc_len = acc.refresh_enc_len = 0;
    tx->acc = acc;
    return 0;
}

static int google__store_account(services *s, db_conn *c, arena *a, const principal *p,
                                 const google_identity *who, const google_tokens *t, account *out,
                                 google_err *ge)
{
    error e;
    token_keyring k;
    if (token_keyring_load(s, &k, &e) != 0)
        return google_service__plain(ge, &e);
    google__account_tx tx = {.s = s, .a = a, .p = p, .who = who, .t = t, .k = &k};
    int rc = db_tx(c, google__store_account_body, &tx, &e);
    token_keyring_wipe(&k);
    token_sealed_free(&tx.access);
    token_sealed_free(&tx.refresh);
    if (rc != 0)
        return google_service__plain(ge, &e);
    *out = tx.acc;
    return 0;
}

int google_service_callback(services *s, db_conn *c, arena *a, const principal *p,
                            const google_callback *cb, account *out, google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    if (google_service__require_configured(s, ge) != 0)
        return -1;
    oauth_state st;
    if (google__take_state(c, a, p, cb->state, &st, ge) != 0)
        return -1;
    if (cb->error != NULL) {
        if (strcmp(cb->error, "access_denied") == 0)
            return google_service__fail(
                ge, GOOGLE_PROBLEM_DENIED, ERR_INVALID,
                "you declined access at Google, so no account was connected; "
                "connect again and allow access to use your YouTube channels");
        return google_service__fail(ge, GOOGLE_PROBLEM_DENIED, ERR_INVALID,
                                    "Google did not authorize the connection (%.64s); nothing was "
                                    "connected",
                                    cb->error);
    }
    if (cb->code == NULL || cb->code[0] == '\0')
        return google_service__fail(ge, GOOGLE_PROBLEM_DENIED, ERR_INVALID,
                                    "Google sent no authorization code; nothing was connected");

    error e;
    token_keyring k;
    char *verifier = NULL;
    int rc = token_keyring_load(s, &k, &e);
    if (rc == 0)
        rc = token_crypto_open(c, &k, st.key_version, TOKEN_PURPOSE_VERIFIER, st.id, st.user_id,
                               st.verifier_enc, st.verifier_enc_len, &verifier, &e);
    token_keyring_wipe(&k);
    if (rc != 0)
        return google_service__plain(ge, &e);

    google_oauth_client client = google_service__client(s);
    google_tokens t;
    google_status gs;
    rc = google_oauth_exchange(&client, cb->code, verifier, st.redirect_uri, &t, &gs, &e);
    token_secret_free(verifier);
    if (rc != 0) {
        if (gs.fault == GOOGLE_INVALID_GRANT)
            return google_service__fail(
                ge, GOOGLE_PROBLEM_DENIED, ERR_INVALID,
                "Google refused the authorization code (it expired or was already "
                "used); nothing was connected, start again from \"Connect Google\"");
        return google_service__from_status(ge, &gs, &e);
    }
    if (t.scope != NULL && !google__has_scope(t.scope, GOOGLE_SCOPE_YOUTUBE_READONLY)) {
        google__revoke_quietly(s, t.refresh_token ? t.refresh_token : t.access_token);
        google_tokens_free(&t);
        return google_service__fail(
            ge, GOOGLE_PROBLEM_DENIED, ERR_INVALID,
            "you did not allow Persona Studio to see your YouTube channels, so no "
            "account was connected; connect again and leave that box checked");
    }
    google_identity who;
    rc = google_oauth_userinfo(&client, t.access_token, &who, &gs, &e);
    if (rc == 0)
        rc = google__store_account(s, c, a, p, &who, &t, out, ge);
    else
        google_service__from_status(ge, &gs, &e);
    google_tokens_free(&t);
    return rc;
}

/* ---- accounts -------------------------------------------------------------- */

int google_service_accounts(db_conn *c, arena *a, const principal *p, const char *cursor, int limit,
                            account **out, size_t *n, error *err)
{
    return account_store_list(c, a, p->user_id, cursor, limit, out, n, err);
}

int google_service_account(db_conn *c, arena *a, const principal *p, const char *id, account *out,
                           error *err)
{
    return account_store_get(c, a, p->user_id, id, out, err);
}

/* The account's delete and its event, one transaction. */
typedef struct google__disconnect_tx {
    const principal *p;
    const account *acc;
} google__disconnect_tx;

static int google__disconnect_body(db_conn *c, void *arg, error *err)
{
    google__disconnect_tx *tx = arg;
    if (account_store_delete(c, tx->p->user_id, tx->acc->id, err) != 0)
        return -1;
    return audit_record(
        c,
        &(audit_entry){.action = "google.disconnected",
                       .by = tx->p,
                       .subject = tx->p->user_id,
                       .object_type = "google_account",
                       .object_id = tx->acc->id,
                       .detail = json_pack("{s:o}", "email", audit_text(tx->acc->email))},
        err);
}

int google_service_disconnect(services *s, db_conn *c, arena *a, const principal *p, const char *id,
                              google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    account acc;
    error e;
    if (account_store_get(c, a, p->user_id, id, &acc, &e) != 0)
        return google_service__plain(ge, &e);
    bool sealed = acc.refresh_enc != NULL || acc.access_enc != NULL;
    if (sealed && google_service_configured(s)) {
        /* The refresh token stands for the whole grant; revoking it ends the
         * access tokens too. Tokens that no longer decrypt cannot be revoked
         * by us; the account goes anyway. */
        token_keyring k;
        char *token = NULL;
        bool refresh = acc.refresh_enc != NULL;
        if (token_keyring_load(s, &k, &e) == 0 &&
            token_crypto_open(
                c, &k, acc.key_version, refresh ? TOKEN_PURPOSE_REFRESH : TOKEN_PURPOSE_ACCESS,
                acc.id, acc.user_id, refresh ? acc.refresh_enc : acc.access_enc,
                refresh ? acc.refresh_enc_len : acc.access_enc_len, &token, &e) == 0) {
            google_oauth_client client = google_service__client(s);
            google_status gs;
            int rc = google_oauth_revoke(&client, token, &gs, &e);
            token_secret_free(token);
            if (rc != 0 && (gs.fault == GOOGLE_UNAVAILABLE || gs.fault == GOOGLE_RATE_LIMITED)) {
                token_keyring_wipe(&k);
                return google_service__fail(
                    ge, GOOGLE_PROBLEM_UPSTREAM, ERR_UNAVAILABLE,
                    "Google could not be reached to revoke this account's access, "
                    "so it was not disconnected; try again in a moment (%s)",
                    e.message);
            }
        } else {
            log_warn("disconnecting Google account %s without revoking it: %s", acc.id, e.message);
        }
        token_keyring_wipe(&k);
    }
    google__disconnect_tx tx = {p, &acc};
    if (db_tx(c, google__disconnect_body, &tx, &e) != 0)
        return google_service__plain(ge, &e);
    return 0;
}

/* ---- tokens ---------------------------------------------------------------------- */

static int google__mark_reconnect(db_conn *c, const account *acc, google_err *ge)
{
    error e;
    if (account_store_set_status(c, acc->user_id, acc->id, ACCOUNT_NEEDS_RECONNECT, time_now_usec(),
                                 &e) != 0)
        log_warn("could not mark Google account %s needs_reconnect: %s", acc->id, e.message);
    else
        log_info("Google account %s needs reconnecting: its refresh was refused (invalid_grant)",
                 acc->id);
    return -1;
}

/* Refreshes acc's access token, re-seals both tokens under the current key
 * version and writes them; *access receives the new token. */
static int google__refresh(services *s, db_conn *c, arena *a, const token_keyring *k, account *acc,
                           char **access, google_err *ge)
{
    error e;
    if (acc->refresh_enc == NULL) {
        google_service__fail(
            ge, GOOGLE_PROBLEM_RECONNECT, ERR_CONFLICT,
            "Google gave this account no refresh token, so its access cannot be renewed; "
            "connect the account again");
        return google__mark_reconnect(c, acc, ge);
    }
    char *refresh = NULL;
    if (token_crypto_open(c, k, acc->key_version, TOKEN_PURPOSE_REFRESH, acc->id, acc->user_id,
                          acc->refresh_enc, acc->refresh_enc_len, &refresh, &e) != 0)
        return google_service__plain(ge, &e);
    google_oauth_client client = google_service__client(s);
    google_tokens t;
    google_status gs;
    if (google_oauth_refresh(&client, refresh, &t, &gs, &e) != 0) {
        token_secret_free(refresh);
        google_service__from_status(ge, &gs, &e);
        if (gs.fault == GOOGLE_INVALID_GRANT)
            google__mark_reconnect(c, acc, ge);
        return -1;
    }
    int version = 0;
    token_sealed sa = {0}, sr = {0};
    int64_t now = time_now_usec();
    int rc = token_crypto_current_version(c, k, &version, &e);
    if (rc == 0)
        rc = token_crypto_seal(k, version, TOKEN_PURPOSE_ACCESS, acc->id, acc->user_id,
                               t.access_token, &sa, &e);
    if (rc == 0)
        rc = token_crypto_seal(k, version, TOKEN_PURPOSE_REFRESH, acc->id, acc->user_id,
                               t.refresh_token ? t.refresh_token : refresh, &sr, &e);
    token_secret_free(refresh);
    if (rc == 0) {
        account next = *acc;
        next.access_enc = sa.data;
        next.access_enc_len = sa.len;
        next.refresh_enc = sr.data;
        next.refresh_enc_len = sr.len;
        next.key_version = version;
        next.expires_at = now + t.expires_in * 1000000;
        next.status = ACCOUNT_ACTIVE;
        if (t.scope != NULL)
            next.scopes = arena_strdup(a, t.scope);
        next.updated_at = now;
        rc = account_store_update(c, &next, &e);
        if (rc == 0) {
            /* The caller's copy must stay usable for a second refresh. */
            unsigned char *ca = arena_alloc(a, sa.len), *cr = arena_alloc(a, sr.len);
            memcpy(ca, sa.data, sa.len);
            memcpy(cr, sr.data, sr.len);
            next.access_enc = ca;
            next.refresh_enc = cr;
            *acc = next;
            *access = xstrdup(t.access_token);
        }
    }
    token_sealed_free(&sa);
    token_sealed_free(&sr);
    google_tokens_free(&t);
    return rc != 0 ? google_service__plain(ge, &e) : 0;
}

int google_service__access_token(services *s, db_conn *c, arena *a, account *acc, bool force,
                                 char **access, google_err *ge)
{
    *access = NULL;
    if (strcmp(acc->status, ACCOUNT_NEEDS_RECONNECT) == 0)
        return google_service__fail(
            ge, GOOGLE_PROBLEM_RECONNECT, ERR_CONFLICT,
            "Google no longer accepts this account's authorization; connect the "
            "account again");
    error e;
    token_keyring k;
    if (token_keyring_load(s, &k, &e) != 0)
        return google_service__plain(ge, &e);
    int rc;
    bool fresh =
        acc->access_enc != NULL && acc->expires_at - time_now_usec() > GOOGLE_REFRESH_AHEAD_USEC;
    if (!force && fresh) {
        rc = token_crypto_open(c, &k, acc->key_version, TOKEN_PURPOSE_ACCESS, acc->id, acc->user_id,
                               acc->access_enc, acc->access_enc_len, access, &e);
        if (rc != 0)
            google_service__plain(ge, &e);
    } else {
        rc = google__refresh(s, c, a, &k, acc, access, ge);
    }
    token_keyring_wipe(&k);
    return rc;
}

int google_service__call(services *s, db_conn *c, arena *a, account *acc, const char *api,
                         google_call_fn call, void *arg, google_status *last, google_err *ge)
{
    memset(last, 0, sizeof(*last));
    bool refreshed = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *access = NULL;
        int64_t before = acc->expires_at;
        if (google_service__access_token(s, c, a, acc, attempt > 0, &access, ge) != 0)
            return -1;
        refreshed = refreshed || acc->expires_at != before;
        error e;
        int rc = call(access, arg, last, &e);
        token_secret_free(access);
        if (rc == 0)
            return 0;
        /* A 401 means the access token died early (revoked, or clocks
         * disagree): refresh once and try again. */
        if (last->fault == GOOGLE_UNAUTHORIZED && !refreshed)
            continue;
        return google_service__from_status(ge, last, &e);
    }
    return google_service__fail(ge, GOOGLE_PROBLEM_UPSTREAM, ERR_UNAVAILABLE,
                                "%s refused a freshly refreshed access token for this account",
                                api);
}

typedef struct google_service__channels_call {
    services *s;
    arena *a;
    youtube_channel **rows;
    size_t *n;
} google_service__channels_call;

static int google_service__channels_mine(const char *access, void *arg, google_status *st, error *e)
{
    google_service__channels_call *k = arg;
    return youtube_channels_mine(k->s->google.youtube_api_url, access, k->a, k->rows, k->n, st, e);
}

int google_service__list_channels(services *s, db_conn *c, arena *a, account *acc,
                                  youtube_channel **rows, size_t *n, google_err *ge)
{
    google_service__channels_call k = {s, a, rows, n};
    google_status last;
    return google_service__call(s, c, a, acc, "YouTube", google_service__channels_mine, &k, &last,
                                ge);
}

/* ---- key rotation -------------------------------------------------------------- */

/* Re-seals one account's tokens under version; false in *moved when a
 * concurrent refresh got there first. */
static int google__reseal(db_conn *c, const token_keyring *k, const account *acc, int version,
                          bool *moved, error *err)
{
    char *access = NULL, *refresh = NULL;
    int rc = 0;
    if (acc->access_enc != NULL)
        rc = token_crypto_open(c, k, acc->key_version, TOKEN_PURPOSE_ACCESS, acc->id, acc->user_id,
                               acc->access_enc, acc->access_enc_len, &access, err);
    if (rc == 0 && acc->refresh_enc != NULL)
        rc = token_crypto_open(c, k, acc->key_version, TOKEN_PURPOSE_REFRESH, acc->id, acc->user_id,
                               acc->refresh_enc, acc->refresh_enc_len, &refresh, err);
    token_sealed sa = {0}, sr = {0};
    if (rc == 0 && access != NULL)
        rc = token_crypto_seal(k, version, TOKEN_PURPOSE_ACCESS, acc->id, acc->user_id, access, &sa,
                               err);
    if (rc == 0 && refresh != NULL)
        rc = token_crypto_seal(k, version, TOKEN_PURPOSE_REFRESH, acc->id, acc->user_id, refresh,
                               &sr, err);
    token_secret_free(access);
    token_secret_free(refresh);
    if (rc == 0) {
        account next = *acc;
        next.access_enc = sa.data;
        next.access_enc_len = sa.len;
        next.refresh_enc = sr.data;
        next.refresh_enc_len = sr.len;
        next.key_version = version;
        rc = account_store_rekey(c, &next, acc->key_version, moved, err);
    }
    token_sealed_free(&sa);
    token_sealed_free(&sr);
    return rc;
}

/* The new key version and its event, one transaction: the command line is
 * the system acting, on nobody's trail. The accounts are re-sealed after,
 * one at a time, each its own change. */
typedef struct google__rotate_tx {
    const token_keyring *k;
    int version;
} google__rotate_tx;

static int google__rotate_body(db_conn *c, void *arg, error *err)
{
    google__rotate_tx *tx = arg;
    if (token_crypto_new_version(c, tx->k, &tx->version, err) != 0)
        return -1;
    char id[16];
    snprintf(id, sizeof(id), "%d", tx->version);
    return audit_record(
        c,
        &(audit_entry){.action = "token_key.rotated",
                       .object_type = "token_key",
                       .object_id = id,
                       .detail = json_pack("{s:i,s:i}", "from_version", tx->version - 1,
                                           "to_version", tx->version)},
        err);
}

int google_service_rotate_key(services *s, db_conn *c, google_rotation *out, error *err)
{
    memset(out, 0, sizeof(*out));
    token_keyring k;
    if (token_keyring_load(s, &k, err) != 0)
        return -1;
    google__rotate_tx tx = {&k, 0};
    if (db_tx(c, google__rotate_body, &tx, err) != 0) {
        token_keyring_wipe(&k);
        return -1;
    }
    int version = tx.version;
    out->old_version = version - 1;
    out->new_version = version;
    /* Passes until one moves nothing: a refresh that sealed under the old
     * version just before the new one existed is caught by the next pass. */
    int rc = 0;
    for (int pass = 0; pass < 3 && rc == 0; pass++) {
        size_t moved_now = 0, failed_now = 0;
        char after[UUID_STR_LEN + 1] = "";
        for (;;) {
            arena a;
            arena_init(&a, 16384);
            account *rows;
            size_t n;
            rc = account_store_list_for_rekey(c, &a, version, after[0] ? after : NULL, 100, &rows,
                                              &n, err);
            for (size_t i = 0; rc == 0 && i < n; i++) {
                bool moved = false;
                error why;
                if (google__reseal(c, &k, &rows[i], version, &moved, &why) != 0) {
                    if (why.kind != ERR_CONFLICT && why.kind != ERR_CONFIG) {
                        *err = why;
                        rc = -1;
                        break;
                    }
                    if (failed_now < sizeof(out->failed_ids) / sizeof(out->failed_ids[0]))
                        snprintf(out->failed_ids[failed_now], UUID_STR_LEN + 1, "%s", rows[i].id);
                    failed_now++;
                    log_warn("key rotation left Google account %s as it was: %s", rows[i].id,
                             why.message);
                }
                moved_now += moved;
                snprintf(after, sizeof(after), "%s", rows[i].id);
            }
            arena_free(&a);
            if (rc != 0 || n < 100)
                break;
        }
        out->resealed += moved_now;
        out->failed = failed_now;
        if (moved_now == 0)
            break;
    }
    token_keyring_wipe(&k);
    if (rc == 0)
        log_info("token key rotated from version %d to %d: %zu account(s) re-sealed, %zu left",
                 out->old_version, out->new_version, out->resealed, out->failed);
    return rc;
}

int google_service__sweep(db_conn *c, const char *kind, const char *payload_key, int max_attempts,
                          long long day, google_sweep_page_fn page, size_t *queued, error *err)
{
    char after[UUID_STR_LEN + 1] = "";
    const char *ids[GOOGLE_SWEEP_PAGE], *user_ids[GOOGLE_SWEEP_PAGE];
    int rc = 0;
    while (rc == 0) {
        arena a;
        arena_init(&a, 16384);
        size_t n = 0;
        rc = page(c, &a, after[0] ? after : NULL, GOOGLE_SWEEP_PAGE, ids, user_ids, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char unique[160], id[UUID_STR_LEN + 1];
            snprintf(unique, sizeof(unique), "%s:%s:d%lld", kind, ids[i], day);
            json_t *payload = json_pack("{s:s}", payload_key, ids[i]);
            job_options o = {
                .user_id = user_ids[i], .max_attempts = max_attempts, .unique_key = unique};
            rc = job_enqueue(c, kind, payload, &o, id, err);
            json_decref(payload);
            snprintf(after, sizeof(after), "%s", ids[i]);
            (*queued)++;
        }
        arena_free(&a);
        if (n < GOOGLE_SWEEP_PAGE)
            break;
    }
    return rc != 0 ? -1 : 0;
}

void google_service__quota_wait(const google_status *gs, const char *api, google_err *ge)
{
    if (gs->fault != GOOGLE_QUOTA || gs->retry_after_s > 0)
        return;
    int64_t now = time_now_usec();
    ge->retry_after_s =
        (long)((time_next_pacific_midnight(now) - now) / 1000000) + GOOGLE_QUOTA_SLACK_S;
    error_set(&ge->e, ERR_UNAVAILABLE, NULL,
              "the %s quota of this Persona Studio installation is used up until Google resets "
              "it at midnight Pacific time; trying again in %ld minutes",
              api, (ge->retry_after_s + 59) / 60);
}
