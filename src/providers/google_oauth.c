#include "providers/google_oauth.h"

#include "base/alloc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOOGLE_CONNECT_MS   5000L
#define GOOGLE_TIMEOUT_MS   20000L
#define GOOGLE_MAX_RESPONSE (1024u * 1024)
#define GOOGLE_FORM_MAX     (64u * 1024)

const char *google_oauth_scopes(bool publishing)
{
    return publishing ? GOOGLE_SCOPE_YOUTUBE_READONLY " " GOOGLE_SCOPE_ANALYTICS
                                                      " " GOOGLE_SCOPE_UPLOAD " openid email"
                      : GOOGLE_SCOPE_YOUTUBE_READONLY " " GOOGLE_SCOPE_ANALYTICS " openid email";
}

/* Appends "&name=value" (no '&' for the first pair) with value URL-encoded. */
static int google__pair(buf *out, const char *name, const char *value)
{
    size_t n = strlen(value) * 3 + 1;
    char *enc = xmalloc(n);
    int ok = http_client_urlencode(value, enc, n);
    int rc = ok ? buf_printf(out, "%s%s=%s", out->len ? "&" : "", name, enc) : BUF_TOO_BIG;
    sodium_memzero(enc, n); /* values may be codes, verifiers or tokens */
    free(enc);
    return rc;
}

int google_oauth_authorize_url(const google_oauth_client *g, const char *redirect_uri,
                               const char *state, const char *code_challenge, bool publishing,
                               buf *out, error *err)
{
    buf q;
    buf_init(&q, 8192);
    int rc = google__pair(&q, "client_id", g->client_id);
    rc |= google__pair(&q, "redirect_uri", redirect_uri);
    rc |= google__pair(&q, "response_type", "code");
    rc |= google__pair(&q, "scope", google_oauth_scopes(publishing));
    rc |= google__pair(&q, "state", state);
    rc |= google__pair(&q, "code_challenge", code_challenge);
    rc |= google__pair(&q, "code_challenge_method", "S256");
    rc |= google__pair(&q, "access_type", "offline");
    rc |= google__pair(&q, "prompt", "consent");
    if (rc == 0)
        rc = buf_printf(out, "%s%c%s", g->auth_url, strchr(g->auth_url, '?') ? '&' : '?',
                        buf_cstr(&q));
    buf_free(&q);
    if (rc != 0)
        return error_set(err, ERR_TOO_LARGE, NULL, "the Google authorization URL is too long");
    return 0;
}

int google_oauth_send_bytes(const char *method, const char *url, const char *const *headers,
                            const void *body, size_t len, long timeout_ms, http_client_resp *resp,
                            google_status *st, error *err)
{
    http_client_req rq = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body ? len : 0,
        .connect_timeout_ms = GOOGLE_CONNECT_MS,
        .timeout_ms = timeout_ms > 0 ? timeout_ms : GOOGLE_TIMEOUT_MS,
        .max_response = GOOGLE_MAX_RESPONSE,
    };
    st->fault = GOOGLE_OK;
    st->retry_after_s = -1;
    st->reason[0] = '\0';
    if (http_client_do(&rq, resp, err) != 0) {
        st->fault = GOOGLE_UNAVAILABLE;
        return -1;
    }
    st->retry_after_s = resp->retry_after_s;
    return 0;
}

int google_oauth_send(const char *method, const char *url, const char *const *headers,
                      const char *body, http_client_resp *resp, google_status *st, error *err)
{
    return google_oauth_send_bytes(method, url, headers, body, body ? strlen(body) : 0, 0, resp, st,
                                   err);
}

/* Keeps only an identifier-like code: Google's reasons are [A-Za-z_.]; anything
 * else is not quoted back. */
static void google__reason(const char *v, char out[64])
{
    out[0] = '\0';
    if (v == NULL)
        return;
    size_t n = strlen(v);
    if (n == 0 || n >= 64)
        return;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        if (!ok)
            return;
    }
    memcpy(out, v, n + 1);
}

int google_oauth_fail(const http_client_resp *r, const char *what, google_status *st, error *err)
{
    json_t *doc = json_loads(buf_cstr(&r->body), 0, NULL);
    json_t *e = json_object_get(doc, "error");
    if (json_is_string(e)) { /* OAuth endpoints: {"error": "invalid_grant", ...} */
        google__reason(json_string_value(e), st->reason);
    } else if (json_is_object(e)) { /* APIs: {"error": {"errors": [{"reason": …}]}} */
        json_t *first = json_array_get(json_object_get(e, "errors"), 0);
        google__reason(json_string_value(json_object_get(first, "reason")), st->reason);
        if (st->reason[0] == '\0')
            google__reason(json_string_value(json_object_get(e, "status")), st->reason);
    }
    json_decref(doc);
    st->retry_after_s = r->retry_after_s;

    const char *reason = st->reason;
    long status = r->status;
    if (strcmp(reason, "invalid_grant") == 0)
        st->fault = GOOGLE_INVALID_GRANT;
    else if (status == 401)
        st->fault = GOOGLE_UNAUTHORIZED;
    else if (status == 429 || strcmp(reason, "rateLimitExceeded") == 0 ||
             strcmp(reason, "userRateLimitExceeded") == 0 ||
             strcmp(reason, "RESOURCE_EXHAUSTED") == 0)
        st->fault = GOOGLE_RATE_LIMITED;
    else if (strcmp(reason, "quotaExceeded") == 0 || strcmp(reason, "dailyLimitExceeded") == 0)
        st->fault = GOOGLE_QUOTA;
    else if (status == 403)
        st->fault = GOOGLE_FORBIDDEN;
    else if (status >= 500)
        st->fault = GOOGLE_UNAVAILABLE;
    else
        st->fault = GOOGLE_REJECTED;

    const char *kind = st->fault == GOOGLE_UNAVAILABLE ? "is unavailable" : "was refused";
    if (reason[0])
        error_set(err, ERR_UNAVAILABLE, NULL, "%s %s by Google (HTTP %ld, %s)", what, kind, status,
                  reason);
    else
        error_set(err, ERR_UNAVAILABLE, NULL, "%s %s by Google (HTTP %ld)", what, kind, status);
    return -1;
}

void google_tokens_free(google_tokens *t)
{
    char *all[] = {t->access_token, t->refresh_token, t->scope};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i] != NULL) {
            sodium_memzero(all[i], strlen(all[i]));
            free(all[i]);
        }
    }
    memset(t, 0, sizeof(*t));
}

/* Forms and token answers carry secrets: wipe before the memory is reused. */
static void google__wipe_buf(buf *b)
{
    if (b->data != NULL)
        sodium_memzero(b->data, b->len);
    buf_free(b);
}

static void google__wipe_resp(http_client_resp *r)
{
    google__wipe_buf(&r->body);
}

int google_oauth_read_tokens(const char *body, const char *what, google_tokens *out,
                             google_status *st, error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = json_loads(body, 0, NULL);
    json_t *access = json_object_get(doc, "access_token");
    json_t *refresh = json_object_get(doc, "refresh_token");
    json_t *scope = json_object_get(doc, "scope");
    json_t *expires = json_object_get(doc, "expires_in");
    int rc = 0;
    if (!json_is_string(access) || json_string_length(access) == 0 || !json_is_integer(expires) ||
        (refresh != NULL && !json_is_string(refresh)) ||
        (scope != NULL && !json_is_string(scope))) {
        st->fault = GOOGLE_REJECTED;
        rc = error_set(err, ERR_UNAVAILABLE, NULL,
                       "%s: Google's token endpoint answered without an access token and its "
                       "lifetime",
                       what);
    } else {
        out->access_token = xstrdup(json_string_value(access));
        out->refresh_token = refresh ? xstrdup(json_string_value(refresh)) : NULL;
        out->scope = scope ? xstrdup(json_string_value(scope)) : NULL;
        out->expires_in = json_integer_value(expires);
    }
    /* The document held the tokens; wipe its copies before jansson frees them. */
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (json_is_string(v))
            sodium_memzero((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(doc);
    return rc;
}

/* POSTs a form to the token endpoint and reads the documented answer:
 * {access_token, expires_in, refresh_token?, scope?, token_type}. */
static int google__token_call(const google_oauth_client *g, const char *form, const char *what,
                              google_tokens *out, google_status *st, error *err)
{
    memset(out, 0, sizeof(*out));
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    http_client_resp resp;
    if (google_oauth_send("POST", g->token_url, headers, form, &resp, st, err) != 0) {
        google__wipe_resp(&resp);
        return -1;
    }
    if (resp.status < 200 || resp.status > 299) {
        google_oauth_fail(&resp, what, st, err);
        google__wipe_resp(&resp);
        return -1;
    }
    int rc = google_oauth_read_tokens(buf_cstr(&resp.body), what, out, st, err);
    google__wipe_resp(&resp);
    return rc;
}

int google_oauth_exchange(const google_oauth_client *g, const char *code, const char *code_verifier,
                          const char *redirect_uri, google_tokens *out, google_status *st,
                          error *err)
{
    buf form;
    buf_init(&form, GOOGLE_FORM_MAX);
    int rc = google__pair(&form, "grant_type", "authorization_code");
    rc |= google__pair(&form, "code", code);
    rc |= google__pair(&form, "redirect_uri", redirect_uri);
    rc |= google__pair(&form, "client_id", g->client_id);
    rc |= google__pair(&form, "client_secret", g->client_secret);
    rc |= google__pair(&form, "code_verifier", code_verifier);
    if (rc != 0) {
        google__wipe_buf(&form);
        memset(out, 0, sizeof(*out));
        return error_set(err, ERR_TOO_LARGE, "code", "the authorization code is too long");
    }
    rc = google__token_call(g, buf_cstr(&form), "exchanging the authorization code", out, st, err);
    google__wipe_buf(&form);
    return rc;
}

int google_oauth_refresh(const google_oauth_client *g, const char *refresh_token,
                         google_tokens *out, google_status *st, error *err)
{
    buf form;
    buf_init(&form, GOOGLE_FORM_MAX);
    int rc = google__pair(&form, "grant_type", "refresh_token");
    rc |= google__pair(&form, "refresh_token", refresh_token);
    rc |= google__pair(&form, "client_id", g->client_id);
    rc |= google__pair(&form, "client_secret", g->client_secret);
    if (rc != 0) {
        google__wipe_buf(&form);
        memset(out, 0, sizeof(*out));
        return error_set(err, ERR_TOO_LARGE, NULL, "the stored refresh token is too long");
    }
    rc = google__token_call(g, buf_cstr(&form), "refreshing the access token", out, st, err);
    google__wipe_buf(&form);
    return rc;
}

/* "Authorization: Bearer <token>" in a heap string the caller wipes. */
static char *google__bearer(const char *token)
{
    size_t n = strlen(token) + 32;
    char *h = xmalloc(n);
    snprintf(h, n, "Authorization: Bearer %s", token);
    return h;
}

static void google__free_secret(char *s)
{
    sodium_memzero(s, strlen(s));
    free(s);
}

int google_oauth_read_identity(const char *body, google_identity *out, google_status *st,
                               error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = json_loads(body, 0, NULL);
    json_t *sub = json_object_get(doc, "sub");
    json_t *email = json_object_get(doc, "email");
    json_t *verified = json_object_get(doc, "email_verified");
    if (!json_is_string(sub) || json_string_length(sub) == 0 ||
        json_string_length(sub) >= sizeof(out->sub)) {
        json_decref(doc);
        st->fault = GOOGLE_REJECTED;
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "Google's userinfo endpoint did not say which account this is (no sub)");
    }
    snprintf(out->sub, sizeof(out->sub), "%s", json_string_value(sub));
    if (json_is_string(email) && json_string_length(email) < sizeof(out->email))
        snprintf(out->email, sizeof(out->email), "%s", json_string_value(email));
    /* Some Google answers send the flag as the string "true". */
    out->email_verified =
        json_is_true(verified) ||
        (json_is_string(verified) && strcmp(json_string_value(verified), "true") == 0);
    json_decref(doc);
    return 0;
}

int google_oauth_userinfo(const google_oauth_client *g, const char *access_token,
                          google_identity *out, google_status *st, error *err)
{
    memset(out, 0, sizeof(*out));
    char *bearer = google__bearer(access_token);
    const char *const headers[] = {bearer, "Accept: application/json", NULL};
    http_client_resp resp;
    int rc = google_oauth_send("GET", g->userinfo_url, headers, NULL, &resp, st, err);
    google__free_secret(bearer);
    if (rc != 0) {
        http_client_resp_free(&resp);
        return -1;
    }
    if (resp.status < 200 || resp.status > 299) {
        google_oauth_fail(&resp, "reading the Google account's identity", st, err);
        http_client_resp_free(&resp);
        return -1;
    }
    rc = google_oauth_read_identity(buf_cstr(&resp.body), out, st, err);
    http_client_resp_free(&resp);
    return rc;
}

int google_oauth_revoke(const google_oauth_client *g, const char *token, google_status *st,
                        error *err)
{
    buf form;
    buf_init(&form, GOOGLE_FORM_MAX);
    if (google__pair(&form, "token", token) != 0) {
        google__wipe_buf(&form);
        return error_set(err, ERR_TOO_LARGE, NULL, "the stored token is too long to revoke");
    }
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    http_client_resp resp;
    int rc = google_oauth_send("POST", g->revoke_url, headers, buf_cstr(&form), &resp, st, err);
    google__wipe_buf(&form);
    if (rc != 0) {
        http_client_resp_free(&resp);
        return -1;
    }
    /* 400 invalid_token: already revoked or expired, which is what we wanted. */
    if ((resp.status < 200 || resp.status > 299) && resp.status != 400)
        rc = google_oauth_fail(&resp, "revoking the Google token", st, err);
    http_client_resp_free(&resp);
    return rc;
}
