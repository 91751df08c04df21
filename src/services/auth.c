#include "services/auth.h"

#include "base/jsonout.h"
#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "domain/plan_store.h"
#include "domain/rate_limit_store.h"
#include "services/audit.h"
#include "services/auth_cache.h"
#include "services/password.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define AUTH__SESSION_PREFIX "pss_"
#define AUTH__KEY_PREFIX     "psk_"
#define AUTH__TOUCH_EVERY    (60 * 1000000LL) /* last_seen_at is written at most this often */
#define AUTH__SIGNUP_FACTOR  2 /* sign-ups allowed per window, per address, x login */
/* Bytes kept of a User-Agent (sessions.user_agent holds 512 characters). */
#define AUTH__USER_AGENT_MAX 512
#define AUTH__ACCOUNT_BUCKET "login:account:"

/* A fresh token: prefix + 43 base64url characters of 32 random bytes. */
static void auth__new_token(const char *prefix, char out[AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, AUTH_TOKEN_LEN + 1, "%.4s%.43s", prefix, b64);
    sodium_memzero(raw, sizeof(raw));
}

static void auth__hash(const char *token, char out[TOKEN_HASH_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, TOKEN_HASH_LEN + 1, h, sizeof(h));
}

/* Finds name=value in a Cookie header; copies the value into out. */
static bool auth__cookie(const char *header, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= n)
                return false;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

static int auth__unauthorized(error *err, const char *why)
{
    return error_set(err, ERR_UNAUTHORIZED, NULL, "%s", why);
}

/*
 * A credential read from the auth cache when it is there and trusted, else
 * from the database (and kept in the cache for the next request). The cache
 * is on PostgreSQL only (s->auth_cache NULL otherwise); services/auth_cache.h
 * says why a revoked credential is never answered from it for long.
 */
static int auth__resolve(services *s, db_conn *c, const char *token, bool session,
                         auth_cache_entry *e, error *err)
{
    auth__hash(token, e->token_hash);
    if (s->auth_cache != NULL && auth_cache_get(s->auth_cache, e->token_hash, e) &&
        e->who.via == (session ? PRINCIPAL_SESSION : PRINCIPAL_API_KEY)) {
        int64_t now = time_now_usec();
        /* The cached last_seen may be older than the row's (another process
         * touched it): an expiry is decided by the database. */
        if (!session || (now < e->expires_at && now - e->last_seen < s->session_idle_usec))
            return 0;
        auth_cache_drop(s->auth_cache, e->token_hash);
    }
    uint64_t seq = s->auth_cache != NULL ? auth_cache_seq(s->auth_cache) : 0;
    error le;
    if (session) {
        session_row row;
        if (session_store_lookup(c, e->token_hash, &row, &e->who, &le) != 0)
            goto failed;
        int64_t now = time_now_usec();
        if (now >= row.expires_at || now - row.last_seen_at >= s->session_idle_usec) {
            session_store_delete(c, e->who.user_id, row.id, &le);
            return auth__unauthorized(err, "the session has expired; sign in again");
        }
        e->who.via = PRINCIPAL_SESSION;
        snprintf(e->who.credential_id, sizeof(e->who.credential_id), "%s", row.id);
        memcpy(e->csrf_token, row.csrf_token, sizeof(e->csrf_token));
        e->expires_at = row.expires_at;
        e->last_seen = row.last_seen_at;
    } else {
        apikey row;
        if (apikey_store_lookup(c, e->token_hash, &row, &e->who, &le) != 0)
            goto failed;
        e->who.via = PRINCIPAL_API_KEY;
        snprintf(e->who.credential_id, sizeof(e->who.credential_id), "%s", row.id);
        e->csrf_token[0] = '\0';
        e->expires_at = 0;
        e->last_seen = row.last_used_at;
    }
    if (s->auth_cache != NULL)
        auth_cache_put(s->auth_cache, seq, e);
    return 0;
failed:
    if (le.kind != ERR_NOT_FOUND) {
        *err = le;
        return -1;
    }
    return auth__unauthorized(err, session ? "the session token is not valid; sign in again"
                                           : "the API key is not valid or has been revoked");
}

/* Writes last_seen_at (last_used_at) at most once per AUTH__TOUCH_EVERY. */
static void auth__touch(services *s, db_conn *c, const auth_cache_entry *e)
{
    int64_t now = time_now_usec();
    if (now - e->last_seen < AUTH__TOUCH_EVERY)
        return;
    error ignored;
    int rc = e->who.via == PRINCIPAL_SESSION
                 ? session_store_touch(c, e->who.credential_id, now, &ignored)
                 : apikey_store_touch(c, e->who.credential_id, now, &ignored);
    if (rc == 0 && s->auth_cache != NULL)
        auth_cache_touch(s->auth_cache, e->token_hash, now);
}

static int auth__session(services *s, db_conn *c, const char *token, const auth_credentials *cred,
                         bool via_cookie, principal *out, error *err)
{
    auth_cache_entry e;
    if (auth__resolve(s, c, token, true, &e, err) != 0)
        return -1;
    if (via_cookie && cred->state_changing) {
        const char *h = cred->csrf_header;
        size_t n = strlen(e.csrf_token);
        if (h == NULL || strlen(h) != n || sodium_memcmp(h, e.csrf_token, n) != 0)
            return error_set(err, ERR_FORBIDDEN, "X-CSRF-Token",
                             "a request authenticated by cookie that changes data must send the "
                             "session's CSRF token in the X-CSRF-Token header");
    }
    auth__touch(s, c, &e);
    *out = e.who;
    out->via_cookie = via_cookie;
    out->session_cookie = via_cookie;
    return 0;
}

static int auth__apikey(services *s, db_conn *c, const char *token, principal *out, error *err)
{
    auth_cache_entry e;
    if (auth__resolve(s, c, token, false, &e, err) != 0)
        return -1;
    auth__touch(s, c, &e);
    *out = e.who;
    out->via_cookie = false;
    return 0;
}

int auth_authenticate(services *s, db_conn *c, const auth_credentials *cred, principal *out,
                      error *err)
{
    memset(out, 0, sizeof(*out));
    const char *authz = cred->authorization;
    if (authz != NULL) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return auth__unauthorized(err, "use 'Authorization: Bearer <token>'");
        const char *tok = authz + 7;
        while (*tok == ' ')
            tok++;
        if (strlen(tok) != AUTH_TOKEN_LEN)
            return auth__unauthorized(err, "the bearer token is malformed");
        if (strncmp(tok, AUTH__KEY_PREFIX, 4) == 0)
            return auth__apikey(s, c, tok, out, err);
        if (strncmp(tok, AUTH__SESSION_PREFIX, 4) == 0) {
            if (auth__session(s, c, tok, cred, false, out, err) != 0)
                return -1;
            char cookie[AUTH_TOKEN_LEN + 2];
            out->session_cookie =
                cred->cookie != NULL &&
                auth__cookie(cred->cookie, AUTH_COOKIE_NAME, cookie, sizeof(cookie)) &&
                strcmp(cookie, tok) == 0;
            return 0;
        }
        return auth__unauthorized(err, "the bearer token is malformed");
    }
    char tok[AUTH_TOKEN_LEN + 2];
    if (cred->cookie != NULL && auth__cookie(cred->cookie, AUTH_COOKIE_NAME, tok, sizeof(tok))) {
        if (strlen(tok) != AUTH_TOKEN_LEN || strncmp(tok, AUTH__SESSION_PREFIX, 4) != 0)
            return auth__unauthorized(err, "the session cookie is malformed; sign in again");
        return auth__session(s, c, tok, cred, true, out, err);
    }
    return auth__unauthorized(err, "sign in first: send 'Authorization: Bearer <token>' or the "
                                   "session cookie");
}

/* Counts an attempt against bucket; ERR_RATE_LIMITED past max in this window. */
static int auth__limit(services *s, db_conn *c, const char *bucket, int max, int *retry_after,
                       error *err)
{
    int64_t now = time_now_usec();
    int64_t window = now / s->login_window_usec;
    int hits = 0;
    if (rate_limit_store_hit(c, bucket, window, &hits, err) != 0)
        return -1;
    error ignored;
    rate_limit_store_prune(c, window - 1, &ignored);
    if (hits <= max)
        return 0;
    int64_t end = (window + 1) * s->login_window_usec;
    *retry_after = (int)((end - now + 999999) / 1000000);
    return error_set(err, ERR_RATE_LIMITED, NULL, "too many attempts; try again in %d seconds",
                     *retry_after);
}

/* Opens a session, inside the caller's transaction, and reads back whom it
 * signs in: the answer then needs no read after the commit, which could
 * fail and report a failure for a session (and an account) that exists. */
static int auth__open_session(services *s, db_conn *c, const char *user_id, const char *ip,
                              const char *user_agent, auth_session *out, error *err)
{
    char hash[TOKEN_HASH_LEN + 1], csrf[AUTH_TOKEN_LEN + 1];
    auth__new_token(AUTH__SESSION_PREFIX, out->token);
    auth__new_token("", csrf);
    auth__hash(out->token, hash);
    /* The header is raw bytes: keep it only when it is UTF-8, which both
     * engines can store, and shorten it at a character boundary. */
    char ua[AUTH__USER_AGENT_MAX + 1] = "";
    size_t n = user_agent ? strlen(user_agent) : 0;
    if (n > 0 && utf8_valid(user_agent, n)) {
        n = utf8_cut(user_agent, n < AUTH__USER_AGENT_MAX ? n : AUTH__USER_AGENT_MAX);
        memcpy(ua, user_agent, n);
        ua[n] = '\0';
    }
    int64_t now = time_now_usec();
    session_row row;
    if (session_store_insert(c, user_id, hash, csrf, ip, ua[0] ? ua : NULL, now,
                             now + s->session_absolute_usec, &out->row, err) != 0 ||
        session_store_lookup(c, hash, &row, &out->who, err) != 0)
        return -1;
    out->who.via = PRINCIPAL_SESSION;
    snprintf(out->who.credential_id, sizeof(out->who.credential_id), "%s", out->row.id);
    return 0;
}

static bool auth__email_ok(const char *e)
{
    size_t n = utf8_chars(e);
    const char *at = strchr(e, '@');
    if (n < 3 || n > USER_EMAIL_MAX || at == NULL || at == e || at[1] == '\0' ||
        strchr(at + 1, '@'))
        return false;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return strchr(at + 1, '.') != NULL;
}

/* A session opened in a write transaction of its own (db_tx): log-in's,
 * or sign-up's with the user it signs in. */
typedef struct auth__session_tx {
    services *s;
    user *u;
    const char *hash; /* sign-up: the new user's password hash */
    const char *ip;
    const char *user_agent;
    auth_session *out;
} auth__session_tx;

/* Sign-up's writes: the user on the lowest plan and its first session, all
 * or nothing. */
static int auth__signup_body(db_conn *c, void *arg, error *err)
{
    auth__session_tx *tx = arg;
    if (plan_store_lowest(c, tx->u->plan_id, err) != 0 ||
        user_store_insert(c, tx->u, tx->hash, err) != 0 ||
        auth__open_session(tx->s, c, tx->u->id, tx->ip, tx->user_agent, tx->out, err) != 0) {
        if (err->kind == ERR_CONFLICT)
            error_set(err, ERR_CONFLICT, "email", "an account with this email already exists");
        return -1;
    }
    return audit_record(c,
                        &(audit_entry){.action = "auth.signup",
                                       .by = &tx->out->who,
                                       .ip = tx->ip,
                                       .subject = tx->u->id,
                                       .object_type = "session",
                                       .object_id = tx->out->row.id},
                        err);
}

int auth_signup(services *s, db_conn *c, const char *ip, const char *user_agent, const char *email,
                const char *name, const char *password, user *u, auth_session *out, arena *a,
                int *retry_after, error *err)
{
    char bucket[300];
    snprintf(bucket, sizeof(bucket), "signup:ip:%s", ip);
    if (auth__limit(s, c, bucket, s->login_max_attempts * AUTH__SIGNUP_FACTOR, retry_after, err))
        return -1;
    if (!auth__email_ok(email))
        return error_set(err, ERR_INVALID, "email", "'%.*s' is not an email address",
                         (int)utf8_cut(email, strlen(email) < 100 ? strlen(email) : 100), email);
    if (password_validate(password, err) != 0)
        return -1;
    char hash[PASSWORD_HASH_LEN];
    if (password_hash(password, hash, err) != 0)
        return -1;

    memset(u, 0, sizeof(*u));
    u->email = email;
    u->name = name;
    if (name == NULL) {
        /* The default name is the email's local part, which may be longer
         * than a name: keep its first USER_NAME_MAX characters whole. */
        size_t n = (size_t)(strchr(email, '@') - email), k = utf8_prefix(email, USER_NAME_MAX);
        u->name = arena_strndup(a, email, k < n ? k : n);
    }
    if (row_check(&user_row, u, "email, name", err) != 0)
        return -1;
    u->role = "user";

    auth__session_tx tx = {s, u, hash, ip, user_agent, out};
    return db_tx(c, auth__signup_body, &tx, err);
}

/* A stored hash made with older parameters is replaced on a successful
 * log-in, the only moment the password is known. A failure here costs only
 * the upgrade, never the log-in. */
static void auth__rehash(db_conn *c, const char *user_id, const char *password, const char *hash)
{
    if (!password_needs_rehash(hash))
        return;
    char fresh[PASSWORD_HASH_LEN];
    bool replaced = false;
    error e;
    if (password_hash(password, fresh, &e) != 0 ||
        user_store_replace_password_hash(c, user_id, hash, fresh, &replaced, &e) != 0)
        log_warn("could not rehash the password of user %s: %s", user_id, e.message);
    sodium_memzero(fresh, sizeof(fresh));
}

static char auth__dummy[PASSWORD_HASH_LEN];
static pthread_once_t auth__dummy_once = PTHREAD_ONCE_INIT;

static void auth__dummy_init(void)
{
    error e;
    password_hash("pstudio-timing-equalizer", auth__dummy, &e);
}

/* Log-in's session, in a transaction of its own so its principal is read
 * back before the commit (decision 61). */
static int auth__login_body(db_conn *c, void *arg, error *err)
{
    auth__session_tx *tx = arg;
    if (auth__open_session(tx->s, c, tx->u->id, tx->ip, tx->user_agent, tx->out, err) != 0)
        return -1;
    return audit_record(c,
                        &(audit_entry){.action = "auth.login",
                                       .by = &tx->out->who,
                                       .ip = tx->ip,
                                       .subject = tx->u->id,
                                       .object_type = "session",
                                       .object_id = tx->out->row.id},
                        err);
}

/*
 * A refused log-in that reached the password check (decision 149). It
 * changes nothing, so it is a write of its own; its failure is logged, not
 * answered: the caller gets the 401 it would have got. Attempts the limiter
 * refused are not recorded (the limiter bounds how fast this table grows
 * per address). An unknown email is recorded on nobody's trail and without
 * the address typed, which may be a mistyped password or someone else's
 * email; only administrators see it.
 */
static void auth__login_failed(db_conn *c, const char *ip, const user *u, const char *reason)
{
    error e;
    if (audit_record(c,
                     &(audit_entry){.action = "auth.login_failed",
                                    .ip = ip,
                                    .subject = u ? u->id : NULL,
                                    .object_type = u ? "user" : NULL,
                                    .object_id = u ? u->id : NULL,
                                    .detail = json_pack("{s:s}", "reason", reason)},
                     &e) != 0)
        log_warn("could not record a failed log-in: %s", e.message);
}

int auth_login(services *s, db_conn *c, const char *ip, const char *user_agent, const char *email,
               const char *password, user *u, auth_session *out, arena *a, int *retry_after,
               error *err)
{
    char bucket[300];
    snprintf(bucket, sizeof(bucket), "login:ip:%s", ip);
    if (auth__limit(s, c, bucket, s->login_max_attempts * 3, retry_after, err) != 0)
        return -1;
    /* The whole address, never a prefix: a cut one could end inside a
     * character, which PostgreSQL refuses, and would share a bucket. */
    if (utf8_chars(email) > USER_EMAIL_MAX)
        return auth__unauthorized(err, "wrong email or password");
    char account[sizeof(AUTH__ACCOUNT_BUCKET) + UTF8_BUF(USER_EMAIL_MAX)];
    size_t at = sizeof(AUTH__ACCOUNT_BUCKET) - 1;
    memcpy(account, AUTH__ACCOUNT_BUCKET, at);
    for (size_t i = 0; email[i]; i++)
        account[at++] = (char)tolower((unsigned char)email[i]);
    account[at] = '\0';
    if (auth__limit(s, c, account, s->login_max_attempts, retry_after, err) != 0)
        return -1;

    error e;
    int found = user_store_find_login(c, a, email, u, &e);
    if (found != 0 && e.kind != ERR_NOT_FOUND) {
        *err = e;
        return -1;
    }
    const char *hash = found == 0 && u->password_hash != NULL ? u->password_hash : "";
    /* An unknown email costs the same hash as a wrong password, so response
     * times do not reveal which accounts exist. */
    if (found != 0 || hash[0] == '\0') {
        pthread_once(&auth__dummy_once, auth__dummy_init);
        password_verify(password, auth__dummy);
        auth__login_failed(c, ip, found == 0 ? u : NULL,
                           found == 0 ? "no_password" : "unknown_email");
        return auth__unauthorized(err, "wrong email or password");
    }
    if (!password_verify(password, hash)) {
        auth__login_failed(c, ip, u, "wrong_password");
        return auth__unauthorized(err, "wrong email or password");
    }
    auth__rehash(c, u->id, password, hash);
    auth__session_tx tx = {s, u, NULL, ip, user_agent, out};
    return db_tx(c, auth__login_body, &tx, err);
}

typedef struct auth__logout_tx {
    const principal *p;
    bool everywhere;
} auth__logout_tx;

static int auth__logout_body(db_conn *c, void *arg, error *err)
{
    auth__logout_tx *tx = arg;
    const principal *p = tx->p;
    if (session_store_delete(c, p->user_id, tx->everywhere ? NULL : p->credential_id, err) != 0)
        return -1;
    return audit_record(c,
                        &(audit_entry){.action = "auth.logout",
                                       .by = p,
                                       .subject = p->user_id,
                                       .object_type = tx->everywhere ? NULL : "session",
                                       .object_id = tx->everywhere ? NULL : p->credential_id,
                                       .detail = json_pack("{s:b}", "everywhere", tx->everywhere)},
                        err);
}

int auth_logout(db_conn *c, const principal *p, bool everywhere, error *err)
{
    if (!everywhere && p->via != PRINCIPAL_SESSION)
        return 0;
    auth__logout_tx tx = {p, everywhere};
    return db_tx(c, auth__logout_body, &tx, err);
}

/* An API key's creation or revocation with its event, one transaction. */
typedef struct auth__key_tx {
    const principal *p;
    apikey *k;      /* create */
    const char *id; /* revoke */
} auth__key_tx;

static int auth__apikey_create_body(db_conn *c, void *arg, error *err)
{
    auth__key_tx *tx = arg;
    if (apikey_store_insert(c, tx->k, err) != 0)
        return -1;
    /* The name and the id; never the key, nor its hash or prefix. */
    return audit_record(
        c,
        &(audit_entry){.action = "apikey.created",
                       .by = tx->p,
                       .subject = tx->p->user_id,
                       .object_type = "api_key",
                       .object_id = tx->k->id,
                       .detail = json_pack("{s:o}", "name", audit_text(tx->k->name))},
        err);
}

int auth_apikey_create(db_conn *c, arena *a, const principal *p, const char *name,
                       auth_new_key *out, error *err)
{
    apikey *k = &out->row;
    memset(k, 0, sizeof(*k));
    k->name = arena_strdup(a, name);
    if (row_check(&apikey_row, k, "name", err) != 0)
        return -1;
    char hash[TOKEN_HASH_LEN + 1];
    auth__new_token(AUTH__KEY_PREFIX, out->token);
    auth__hash(out->token, hash);
    k->prefix = arena_sprintf(a, "%.12s", out->token);
    k->token_hash = arena_strdup(a, hash);
    snprintf(k->user_id, sizeof(k->user_id), "%s", p->user_id);
    k->created_at = time_now_usec();
    auth__key_tx tx = {p, k, NULL};
    return db_tx(c, auth__apikey_create_body, &tx, err);
}

static int auth__apikey_revoke_body(db_conn *c, void *arg, error *err)
{
    auth__key_tx *tx = arg;
    const principal *p = tx->p;
    if (apikey_store_revoke(c, p->user_id, tx->id, time_now_usec(), err) != 0)
        return -1;
    bool self = p->via == PRINCIPAL_API_KEY && strcmp(p->credential_id, tx->id) == 0;
    return audit_record(c,
                        &(audit_entry){.action = "apikey.revoked",
                                       .by = p,
                                       .subject = p->user_id,
                                       .object_type = "api_key",
                                       .object_id = tx->id,
                                       .detail = json_pack("{s:b}", "self", self)},
                        err);
}

int auth_apikey_revoke(db_conn *c, const principal *p, const char *id, error *err)
{
    auth__key_tx tx = {p, NULL, id};
    return db_tx(c, auth__apikey_revoke_body, &tx, err);
}
