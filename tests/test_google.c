/*
 * Google connect and YouTube channel import (seed flow 1) over the real API,
 * against a fake Google on loopback (fake_google.c): the redirect to Google
 * with PKCE and a session-bound state, the callback's state checks, tokens
 * encrypted at rest and bound to their row, key rotation (in process and
 * through `pstudio admin rotate-key`), refresh before expiry, invalid_grant,
 * discovery, import (idempotent, plan-limited, queued on quota), the stats
 * jobs, disconnecting, and tenancy.
 */
#include "testlib.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/channel_store.h"
#include "fake_google.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "services/google_service.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CLIENT_ID     "pstudio-test.apps.googleusercontent.com"
#define CLIENT_SECRET "GOCSPX-test-client-secret-0123456789"

#define ALICE_1 "UCalice0000000000000001"
#define ALICE_2 "UCalice0000000000000002"
#define BOB_1   "UCbob000000000000000001"
#define BRAND_1 "UCbrand0000000000000001"

static FILE *g_log; /* every log line of the run, searched for tokens */

typedef struct world {
    test_api api;
    fake_google *fg;
    char key[64];            /* PSTUDIO_SECRET_KEY */
    char urls[6][256];       /* the fake's endpoints and our redirect URI */
    char ana[128], ben[128]; /* session tokens */
    char ana_cookie[200], ben_cookie[200];
} world;

static void random_key(char out[64])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, 64, raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    w->fg = fake_google_start(CLIENT_ID, CLIENT_SECRET);
    int fp = w->fg->port;
    snprintf(w->urls[0], sizeof(w->urls[0]), "http://127.0.0.1:%d/o/oauth2/v2/auth", fp);
    snprintf(w->urls[1], sizeof(w->urls[1]), "http://127.0.0.1:%d/token", fp);
    snprintf(w->urls[2], sizeof(w->urls[2]), "http://127.0.0.1:%d/v1/userinfo", fp);
    snprintf(w->urls[3], sizeof(w->urls[3]), "http://127.0.0.1:%d/revoke", fp);
    snprintf(w->urls[4], sizeof(w->urls[4]), "http://127.0.0.1:%d/youtube/v3", fp);
    snprintf(w->urls[5], sizeof(w->urls[5]), "http://127.0.0.1:%d/api/v1/google/callback",
             w->api.port);
    random_key(w->key);
    google_settings *g = &w->api.svc.google;
    g->client_id = CLIENT_ID;
    g->client_secret = CLIENT_SECRET;
    g->auth_url = w->urls[0];
    g->token_url = w->urls[1];
    g->userinfo_url = w->urls[2];
    g->revoke_url = w->urls[3];
    g->youtube_api_url = w->urls[4];
    g->redirect_uri = w->urls[5];
    w->api.svc.secret_key_b64 = w->key;
    test_signup(&w->api, "ana@example.com", w->ana);
    test_signup(&w->api, "ben@example.com", w->ben);
    snprintf(w->ana_cookie, sizeof(w->ana_cookie), "Cookie: pstudio_session=%s", w->ana);
    snprintf(w->ben_cookie, sizeof(w->ben_cookie), "Cookie: pstudio_session=%s", w->ben);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    job_unregister_all();
    job_unschedule_all();
    test_api_stop(&w->api);
    fake_google_stop(w->fg);
    test_free(w);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *str(const test_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static int64_t count(world *w, const char *sql)
{
    return testdb_scalar(&w->api.t, sql);
}

static void sql(world *w, const char *text, const char *types, ...)
{
    /* Only time and text parameters are used here: "t" and "s". */
    va_list ap;
    va_start(ap, types);
    int64_t t = 0;
    const char *s1 = NULL, *s2 = NULL;
    for (const char *p = types; *p; p++) {
        if (*p == 't')
            t = va_arg(ap, int64_t);
        else if (s1 == NULL)
            s1 = va_arg(ap, const char *);
        else
            s2 = va_arg(ap, const char *);
    }
    va_end(ap);
    db_error de;
    int rc = strcmp(types, "t") == 0    ? testdb_execf(&w->api.t, &de, text, "t", t)
             : strcmp(types, "ts") == 0 ? testdb_execf(&w->api.t, &de, text, "ts", t, s1)
             : strcmp(types, "s") == 0  ? testdb_execf(&w->api.t, &de, text, "s", s1)
                                        : testdb_execf(&w->api.t, &de, text, "ss", s1, s2);
    if (rc != 0)
        fail_msg("%s: %s", text, de.message);
}

/* The decoded value of a query parameter of url. */
static bool url_param(const char *url, const char *name, char *out, size_t n)
{
    const char *q = strchr(url, '?');
    out[0] = '\0';
    if (q == NULL)
        return false;
    size_t nl = strlen(name);
    for (const char *p = q + 1; *p;) {
        size_t len = strcspn(p, "&");
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            int outlen = 0;
            CURL *h = curl_easy_init();
            char *dec = curl_easy_unescape(h, p + nl + 1, (int)(len - nl - 1), &outlen);
            snprintf(out, n, "%s", dec);
            curl_free(dec);
            curl_easy_cleanup(h);
            for (char *c = out; *c; c++)
                if (*c == '+')
                    *c = ' ';
            return true;
        }
        p += len + (p[len] == '&');
    }
    return false;
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* GETs a full URL without following redirects; returns the status and Location. */
static long raw_get(const char *url, char *location, size_t n)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(rc));
    long status = 0;
    char *loc = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
    snprintf(location, n, "%s", loc ? loc : "");
    curl_easy_cleanup(h);
    return status;
}

/* Starts a connect as the session behind cookie and lets the fake Google
 * consent; returns the path of the callback the browser is sent back to,
 * and the authorization URL it went through. */
static void start_flow(world *w, const char *cookie, char *callback, size_t n, char *auth_url,
                       size_t auth_n)
{
    const char *h[] = {cookie, NULL};
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", NULL, NULL, h);
    test_expect(&r, 302, NULL);
    char url[4096];
    assert_true(test_resp_header(&r, "Location", url, sizeof(url)));
    test_resp_free(&r);
    if (auth_url != NULL)
        snprintf(auth_url, auth_n, "%s", url);
    char back[4096];
    assert_int_equal(raw_get(url, back, sizeof(back)), 302);
    const char *prefix = w->urls[5];
    const char *path_start = strstr(prefix, "/api/");
    size_t origin = (size_t)(path_start - prefix);
    if (strncmp(back, prefix, origin) != 0)
        fail_msg("Google sent the browser to %s, not to our redirect URI", back);
    snprintf(callback, n, "%s", back + origin);
}

static test_resp finish_flow(world *w, const char *cookie, const char *callback)
{
    const char *h[] = {cookie, "Accept: application/json", NULL};
    return test_req(&w->api, "GET", callback, NULL, NULL, h);
}

/* The whole connect as `identity`; returns the new account's id. */
static void connect_as(world *w, const char *cookie, const char *identity, char *account_id)
{
    fake_google_lock(w->fg);
    snprintf(w->fg->identity, sizeof(w->fg->identity), "%s", identity);
    fake_google_unlock(w->fg);
    char cb[4096];
    start_flow(w, cookie, cb, sizeof(cb), NULL, 0);
    test_resp r = finish_flow(w, cookie, cb);
    test_expect(&r, 200, NULL);
    json_t *acc = json_object_get(r.json, "account");
    snprintf(account_id, UUID_STR_LEN + 1, "%s", json_string_value(json_object_get(acc, "id")));
    assert_true(uuid_is_valid(account_id));
    test_resp_free(&r);
}

static test_resp discover(world *w, const char *token, const char *account_id)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/google/accounts/%s/channels", account_id);
    return test_req(&w->api, "GET", path, token, NULL, NULL);
}

static test_resp import(world *w, const char *token, const char *account_id, const char *ids_json)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"account_id\":\"%s\",\"youtube_channel_ids\":%s}", account_id,
             ids_json);
    return test_req(&w->api, "POST", "/api/v1/channels/import", token, body, NULL);
}

/* The id of the caller's channel imported from this YouTube channel. */
static void channel_id_of(const test_resp *r, const char *yt, char *out)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "youtube_channel_id")), yt) == 0) {
            snprintf(out, UUID_STR_LEN + 1, "%s", json_string_value(json_object_get(it, "id")));
            return;
        }
    }
    fail_msg("%s is not in: %s", yt, r->body);
}

static json_t *item_for(const test_resp *r, const char *yt)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "youtube_channel_id")), yt) == 0)
            return it;
    }
    fail_msg("%s is not in: %s", yt, r->body);
    return NULL;
}

static void expect_detail(const test_resp *r, const char *needle)
{
    const char *d = str(r, "detail");
    if (d == NULL || strstr(d, needle) == NULL)
        fail_msg("expected the detail to say '%s': %s", needle, r->body);
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    return hay != NULL && memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void hex_of(const char *s, char *out, size_t n)
{
    sodium_bin2hex(out, n, (const unsigned char *)s, strlen(s));
}

/* Every row of table as text, the way a dump would show it. */
static char *table_text(world *w, const char *table, size_t *n)
{
    char text[256];
    snprintf(text, sizeof(text), "SELECT t::text FROM %s t", table);
    if (strcmp(test_engine(), "sqlite") == 0) /* SQLite has no row-to-text cast */
        snprintf(text, sizeof(text), "%s",
                 strcmp(table, "accounts") == 0
                     ? "SELECT quote(access_token_enc) || quote(refresh_token_enc) FROM accounts"
                 : strcmp(table, "audit_events") == 0
                     ? "SELECT object_type || '|' || object_id || '|' || detail FROM audit_events"
                     : "SELECT quote(code_verifier_enc) FROM oauth_states");
    db_sql q = DB_SQL(text);
    db_conn *c = db_acquire(w->api.t.db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("%s", de.message);
    buf b;
    buf_init(&b, 1 << 24);
    while (db_step(s, &de) == DB_ROW)
        buf_printf(&b, "%s\n", db_col_text(s, 0) ? db_col_text(s, 0) : "");
    db_reset(s);
    db_release(c);
    char *out = strdup(buf_cstr(&b));
    *n = b.len;
    buf_free(&b);
    return out;
}

/* ---- connect ------------------------------------------------------------------ */

static void
test_connect_redirects_to_google_with_pkce_state_offline_access_and_only_the_needed_scopes(
    void **state)
{
    world *w = *state;
    const char *h[] = {w->ana_cookie, NULL};
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", NULL, NULL, h);
    test_expect(&r, 302, NULL);
    char url[4096], v[1024], cache[64];
    assert_true(test_resp_header(&r, "Location", url, sizeof(url)));
    assert_true(test_resp_header(&r, "Cache-Control", cache, sizeof(cache)));
    assert_string_equal(cache, "no-store");
    test_resp_free(&r);
    assert_true(strncmp(url, w->urls[0], strlen(w->urls[0])) == 0);
    assert_true(url_param(url, "client_id", v, sizeof(v)));
    assert_string_equal(v, CLIENT_ID);
    assert_true(url_param(url, "redirect_uri", v, sizeof(v)));
    assert_string_equal(v, w->urls[5]);
    assert_true(url_param(url, "response_type", v, sizeof(v)));
    assert_string_equal(v, "code");
    assert_true(url_param(url, "code_challenge_method", v, sizeof(v)));
    assert_string_equal(v, "S256");
    assert_true(url_param(url, "access_type", v, sizeof(v)));
    assert_string_equal(v, "offline");
    assert_true(url_param(url, "prompt", v, sizeof(v)));
    assert_string_equal(v, "consent");
    assert_true(url_param(url, "scope", v, sizeof(v)));
    assert_string_equal(v, "https://www.googleapis.com/auth/youtube.readonly "
                           "https://www.googleapis.com/auth/yt-analytics.readonly openid email");
    assert_true(url_param(url, "state", v, sizeof(v)));
    assert_int_equal(strlen(v), 43);
    char state1[1024];
    snprintf(state1, sizeof(state1), "%s", v);
    assert_true(url_param(url, "code_challenge", v, sizeof(v)));
    assert_int_equal(strlen(v), 43);
    /* Only a hash of the state is stored, and it is bound to this session. */
    assert_int_equal(count(w, "SELECT count(*) FROM oauth_states"), 1);
    char hash[65];
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)state1, strlen(state1));
    sodium_bin2hex(hash, sizeof(hash), digest, sizeof(digest));
    char q[256];
    snprintf(q, sizeof(q), "SELECT count(*) FROM oauth_states WHERE state_hash = '%s'", hash);
    assert_int_equal(count(w, q), 1);

    /* For single-page apps, the same as JSON; every flow has its own state. */
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", NULL, NULL, h);
    test_expect(&r, 200, NULL);
    assert_non_null(str(&r, "expires_at"));
    assert_true(url_param(str(&r, "authorization_url"), "state", v, sizeof(v)));
    assert_string_not_equal(v, state1);
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=xml", NULL, NULL, h);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);

    /* Publishing adds the upload scope, and nothing else. */
    w->api.svc.google.publishing = true;
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", NULL, NULL, h);
    assert_true(url_param(str(&r, "authorization_url"), "scope", v, sizeof(v)));
    assert_non_null(strstr(v, "https://www.googleapis.com/auth/youtube.upload"));
    test_resp_free(&r);

    r = test_req(&w->api, "GET", "/api/v1/google/connect", NULL, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
}

static void test_connect_without_client_settings_is_503_naming_the_settings(void **state)
{
    world *w = *state;
    w->api.svc.google.client_id = NULL;
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", w->ana, NULL, NULL);
    test_expect(&r, 503, "google-not-configured");
    expect_detail(&r, "PSTUDIO_GOOGLE_CLIENT_ID");
    expect_detail(&r, "PSTUDIO_GOOGLE_CLIENT_SECRET");
    expect_detail(&r, w->urls[5]);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM oauth_states"), 0);
}

static void
test_callback_stores_the_account_after_exchanging_the_code_with_the_matching_verifier(void **state)
{
    world *w = *state;
    char cb[4096], auth[4096], challenge[128];
    start_flow(w, w->ana_cookie, cb, sizeof(cb), auth, sizeof(auth));
    assert_true(url_param(auth, "code_challenge", challenge, sizeof(challenge)));
    test_resp r = finish_flow(w, w->ana_cookie, cb);
    test_expect(&r, 200, NULL);
    json_t *acc = json_object_get(r.json, "account");
    assert_string_equal(json_string_value(json_object_get(acc, "provider_account_id")),
                        "10776alice");
    assert_string_equal(json_string_value(json_object_get(acc, "email")), "alice@gmail.test");
    assert_string_equal(json_string_value(json_object_get(acc, "status")), "active");
    assert_true(json_is_false(json_object_get(acc, "needs_reconnect")));
    assert_int_equal(json_array_size(json_object_get(acc, "scopes")), 4);
    assert_non_null(json_string_value(json_object_get(acc, "expires_at")));
    assert_null(json_object_get(acc, "access_token"));
    assert_null(json_object_get(acc, "refresh_token"));
    test_resp_free(&r);

    /* What Google received: the verifier behind the challenge, our client
     * secret, and exactly the redirect URI of the authorization request. */
    fake_google_lock(w->fg);
    char want[64];
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)w->fg->tok_verifier,
                       strlen(w->fg->tok_verifier));
    sodium_bin2base64(want, sizeof(want), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_string_equal(want, challenge);
    assert_string_equal(w->fg->auth_challenge, challenge);
    assert_true(strlen(w->fg->tok_verifier) >= 43);
    assert_string_equal(w->fg->tok_grant_type, "authorization_code");
    assert_string_equal(w->fg->tok_client_secret, CLIENT_SECRET);
    assert_string_equal(w->fg->tok_redirect_uri, w->urls[5]);
    assert_string_equal(w->fg->auth_redirect_uri, w->urls[5]);
    assert_string_equal(w->fg->tok_content_type, "application/x-www-form-urlencoded");
    assert_int_equal(w->fg->exchanges, 1);
    fake_google_unlock(w->fg);

    r = test_req(&w->api, "GET", "/api/v1/google/accounts", w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "status")), "active");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM oauth_states WHERE used_at IS NOT NULL"), 1);

    /* A browser (no JSON asked for) goes to a page that says it worked. */
    fake_google_lock(w->fg);
    snprintf(w->fg->identity, sizeof(w->fg->identity), "bob");
    fake_google_unlock(w->fg);
    start_flow(w, w->ana_cookie, cb, sizeof(cb), NULL, 0);
    const char *h[] = {w->ana_cookie, NULL};
    r = test_req(&w->api, "GET", cb, NULL, NULL, h);
    test_expect(&r, 303, NULL);
    char loc[64];
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    assert_string_equal(loc, "/google/connected");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 2);
    r = test_req(&w->api, "GET", loc, NULL, NULL, h);
    test_expect(&r, 200, NULL);
    char type[64], csp[256];
    assert_true(test_resp_header(&r, "Content-Type", type, sizeof(type)));
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_true(test_resp_header(&r, "Content-Security-Policy", csp, sizeof(csp)));
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(r.body, "<h1>Google account connected</h1>"));
    assert_null(strstr(r.body, "<script"));
    test_resp_free(&r);
}

static void test_connect_needs_the_browser_session_that_will_finish_the_flow(void **state)
{
    world *w = *state;
    /* A Bearer token alone: the browser Google sends back would not carry it. */
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/connect", w->ana, NULL, NULL);
    test_expect(&r, 403, "browser-session-required");
    expect_detail(&r, "browser signed in");
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", w->ana, NULL, NULL);
    test_expect(&r, 403, "browser-session-required");
    test_resp_free(&r);
    /* Nor beside another session's cookie. */
    const char *other[] = {w->ben_cookie, NULL};
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", w->ana, NULL, other);
    test_expect(&r, 403, "browser-session-required");
    test_resp_free(&r);
    /* An API key never has a browser session. */
    r = test_req(&w->api, "POST", "/api/v1/api-keys", w->ana, "{\"name\":\"script\"}", NULL);
    char key[128];
    snprintf(key, sizeof(key), "%s", str(&r, "key"));
    test_resp_free(&r);
    const char *mine[] = {w->ana_cookie, NULL};
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", key, NULL, mine);
    test_expect(&r, 403, "browser-session-required");
    expect_detail(&r, "API key");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM oauth_states"), 0);

    /* A single-page app sending its Bearer token and its own cookie is fine,
     * and the cookie alone finishes the flow. */
    r = test_req(&w->api, "GET", "/api/v1/google/connect?format=json", w->ana, NULL, mine);
    test_expect(&r, 200, NULL);
    char back[4096];
    assert_int_equal(raw_get(str(&r, "authorization_url"), back, sizeof(back)), 302);
    test_resp_free(&r);
    r = finish_flow(w, w->ana_cookie, strstr(back, "/api/"));
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);
}

/* Replaces the state parameter of a callback path. */
static void with_state(const char *cb, const char *state, char *out, size_t n)
{
    char code[256];
    url_param(cb, "code", code, sizeof(code));
    char *esc = curl_easy_escape(NULL, code, 0);
    snprintf(out, n, "/api/v1/google/callback?code=%s%s%s", esc, state ? "&state=" : "",
             state ? state : "");
    curl_free(esc);
}

static void expect_bad_state(world *w, const char *cookie, const char *cb, const char *needle)
{
    test_resp r = finish_flow(w, cookie, cb);
    test_expect(&r, 400, "oauth-state-invalid");
    if (needle != NULL)
        expect_detail(&r, needle);
    test_resp_free(&r);
}

static void
test_callback_with_a_missing_wrong_replayed_expired_or_foreign_state_is_400_and_stores_nothing(
    void **state)
{
    world *w = *state;
    char cb[4096], bad[4096];
    start_flow(w, w->ana_cookie, cb, sizeof(cb), NULL, 0);

    with_state(cb, NULL, bad, sizeof(bad));
    expect_bad_state(w, w->ana_cookie, bad, "no state");
    with_state(cb, "not-a-state-we-issued", bad, sizeof(bad));
    expect_bad_state(w, w->ana_cookie, bad, "not one this service issued");
    /* Another user's session, and another session of the same user. */
    expect_bad_state(w, w->ben_cookie, cb, "another session");
    char second[128], cookie2[200];
    test_resp r =
        test_req(&w->api, "POST", "/api/v1/auth/login", NULL,
                 "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}", NULL);
    test_expect(&r, 200, NULL);
    snprintf(second, sizeof(second), "%s", str(&r, "token"));
    test_resp_free(&r);
    snprintf(cookie2, sizeof(cookie2), "Cookie: pstudio_session=%s", second);
    expect_bad_state(w, cookie2, cb, "another session");
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->exchanges, 0);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 0);

    /* Those attempts did not use the state up: its own session still can. */
    r = finish_flow(w, w->ana_cookie, cb);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);

    /* Replayed: refused before Google is asked again. */
    expect_bad_state(w, w->ana_cookie, cb, "already completed");
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->exchanges, 1);
    fake_google_unlock(w->fg);

    /* Expired. */
    start_flow(w, w->ana_cookie, cb, sizeof(cb), NULL, 0);
    sql(w, "UPDATE oauth_states SET expires_at = $1 WHERE used_at IS NULL", "t",
        time_now_usec() - 1000000);
    expect_bad_state(w, w->ana_cookie, cb, "expired");
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->exchanges, 1);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);

    r = test_req(&w->api, "GET", cb, NULL, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
}

static void test_a_declined_consent_is_400_with_a_clear_message_and_stores_nothing(void **state)
{
    world *w = *state;
    w->fg->deny = true;
    char cb[4096];
    start_flow(w, w->ana_cookie, cb, sizeof(cb), NULL, 0);
    test_resp r = finish_flow(w, w->ana_cookie, cb);
    test_expect(&r, 400, "google-access-denied");
    expect_detail(&r, "declined");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 0);
    expect_bad_state(w, w->ana_cookie, cb, "already completed");

    /* Consent without YouTube access: refused, and the grant is revoked. */
    w->fg->deny = false;
    w->fg->drop_youtube_scope = true;
    start_flow(w, w->ana_cookie, cb, sizeof(cb), NULL, 0);
    r = finish_flow(w, w->ana_cookie, cb);
    test_expect(&r, 400, "google-access-denied");
    expect_detail(&r, "YouTube");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 0);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->revokes, 1);
    fake_google_unlock(w->fg);
}

static void
test_several_google_accounts_can_be_connected_and_reconnecting_one_does_not_duplicate_it(
    void **state)
{
    world *w = *state;
    char alice[37], brand[37], again[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    connect_as(w, w->ana_cookie, "brand", brand);
    assert_string_not_equal(alice, brand);
    connect_as(w, w->ana_cookie, "alice", again);
    assert_string_equal(alice, again);
    test_resp r = test_req(&w->api, "GET", "/api/v1/google/accounts?limit=1", w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_non_null(str(&r, "next_cursor"));
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 2);
    /* A brand account grants its one channel. */
    r = discover(w, w->ana, brand);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_non_null(item_for(&r, BRAND_1));
    test_resp_free(&r);
}

/* ---- tokens at rest -------------------------------------------------------- */

static void
test_tokens_appear_in_plaintext_nowhere_in_the_database_the_api_or_the_logs(void **state)
{
    world *w = *state;
    char alice[37], bob[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    connect_as(w, w->ben_cookie, "bob", bob);
    sql(w, "UPDATE accounts SET expires_at = $1", "t", time_now_usec()); /* force a refresh */
    test_resp bodies[4] = {
        test_req(&w->api, "GET", "/api/v1/google/accounts", w->ana, NULL, NULL),
        discover(w, w->ana, alice),
        discover(w, w->ben, bob),
        import(w, w->ana, alice, "[\"" ALICE_1 "\"]"),
    };
    for (int i = 0; i < 4; i++)
        test_expect(&bodies[i], 200, NULL);

    size_t nfiles[2] = {0}, ndump = 0;
    char *files[2] = {NULL, NULL}, *dump = NULL;
    if (strcmp(test_engine(), "sqlite") == 0) {
        char wal[600];
        snprintf(wal, sizeof(wal), "%s-wal", w->api.t.name);
        files[0] = test_slurp(w->api.t.name, &nfiles[0]);
        files[1] = test_slurp(wal, &nfiles[1]);
        assert_non_null(files[0]);
    }
    dump = table_text(w, "accounts", &ndump);
    size_t nstates;
    char *states = table_text(w, "oauth_states", &nstates);
    fflush(g_log);
    size_t nlog;
    long pos = ftell(g_log);
    rewind(g_log);
    char *logs = malloc((size_t)pos + 1);
    nlog = fread(logs, 1, (size_t)pos, g_log);
    fseek(g_log, 0, SEEK_END);

    /* The searches do look at the rows: the sealed bytes are there. */
    if (files[0] != NULL)
        assert_true(contains(files[0], nfiles[0], alice) || contains(files[1], nfiles[1], alice));
    assert_true(contains(dump, ndump, strcmp(test_engine(), "sqlite") == 0 ? "X'" : "\\x"));
    fake_google_lock(w->fg);
    assert_true(w->fg->ntokens >= 5); /* two grants, each an access and a refresh, and a refresh */
    for (int i = 0; i < w->fg->ntokens; i++) {
        const char *tok = w->fg->tokens[i].value;
        char hex[300];
        hex_of(tok, hex, sizeof(hex));
        for (int f = 0; f < 2; f++)
            if (contains(files[f], nfiles[f], tok))
                fail_msg("token %d is in plaintext in the database file", i);
        if (contains(dump, ndump, tok) || contains(dump, ndump, hex))
            fail_msg("token %d is in plaintext in the accounts table", i);
        for (int b = 0; b < 4; b++)
            if (strstr(bodies[b].body, tok) != NULL)
                fail_msg("token %d is in an API response", i);
        if (contains(logs, nlog, tok))
            fail_msg("token %d is in the logs", i);
    }
    char vhex[400];
    hex_of(w->fg->tok_verifier, vhex, sizeof(vhex));
    assert_false(contains(states, nstates, w->fg->tok_verifier));
    assert_false(contains(states, nstates, vhex));
    assert_false(contains(files[0], nfiles[0], w->fg->tok_verifier));
    assert_false(contains(files[1], nfiles[1], w->fg->tok_verifier));
    fake_google_unlock(w->fg);
    for (int i = 0; i < 4; i++)
        test_resp_free(&bodies[i]);
    free(files[0]);
    free(files[1]);
    free(dump);
    free(states);
    free(logs);
}

/* Swaps two accounts' sealed tokens, as an attacker with write access might. */
static void swap_ciphertexts(world *w, const char *a, const char *b)
{
    db_conn *c = db_acquire(w->api.t.db);
    static db_sql read =
        DB_SQL("SELECT access_token_enc, refresh_token_enc FROM accounts WHERE id = $1");
    static db_sql write =
        DB_SQL("UPDATE accounts SET access_token_enc = $2, refresh_token_enc = $3 WHERE id = $1");
    unsigned char *blob[2][2];
    size_t len[2][2];
    const char *ids[2] = {a, b};
    db_error de;
    for (int i = 0; i < 2; i++) {
        db_stmt *s = db_prepare(c, &read, &de);
        db_bind_text(s, 1, ids[i]);
        assert_int_equal(db_step(s, &de), DB_ROW);
        for (int k = 0; k < 2; k++) {
            const void *p = db_col_blob(s, k, &len[i][k]);
            blob[i][k] = malloc(len[i][k]);
            memcpy(blob[i][k], p, len[i][k]);
        }
        db_reset(s);
    }
    for (int i = 0; i < 2; i++) {
        db_stmt *s = db_prepare(c, &write, &de);
        db_bind_text(s, 1, ids[i]);
        db_bind_blob(s, 2, blob[1 - i][0], len[1 - i][0]);
        db_bind_blob(s, 3, blob[1 - i][1], len[1 - i][1]);
        assert_int_equal(db_exec(s, &de), 0);
        db_reset(s);
    }
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++)
            free(blob[i][k]);
    db_release(c);
}

static void
test_swapping_two_accounts_ciphertexts_makes_both_fail_to_decrypt_with_a_clear_error(void **state)
{
    world *w = *state;
    char alice[37], brand[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    connect_as(w, w->ana_cookie, "brand", brand);
    swap_ciphertexts(w, alice, brand);
    const char *ids[2] = {alice, brand};
    for (int i = 0; i < 2; i++) {
        test_resp r = discover(w, w->ana, ids[i]);
        test_expect(&r, 409, "conflict");
        expect_detail(&r, "does not decrypt");
        expect_detail(&r, "copied from another row");
        expect_detail(&r, ids[i]);
        test_resp_free(&r);
        /* The refresh token is bound to its row too. */
        sql(w, "UPDATE accounts SET expires_at = $1 WHERE id = $2", "ts", time_now_usec(), ids[i]);
        r = discover(w, w->ana, ids[i]);
        test_expect(&r, 409, "conflict");
        expect_detail(&r, "does not decrypt");
        test_resp_free(&r);
    }
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 0);
    assert_int_equal(w->fg->channel_lists, 0);
    fake_google_unlock(w->fg);
    /* Swapping back restores both: nothing else was touched. */
    swap_ciphertexts(w, alice, brand);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

static void test_a_different_master_key_is_reported_as_such_not_as_tampering(void **state)
{
    world *w = *state;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    char other[64];
    random_key(other);
    w->api.svc.secret_key_b64 = other;
    arena a;
    arena_init(&a, 4096);
    principal p = {0};
    test_resp me = test_req(&w->api, "GET", "/api/v1/me", w->ana, NULL, NULL);
    snprintf(p.user_id, sizeof(p.user_id), "%s", str(&me, "id"));
    test_resp_free(&me);
    db_conn *c = db_acquire(w->api.t.db);
    google_found *found;
    size_t n;
    google_err ge;
    assert_int_equal(google_service_discover(&w->api.svc, c, &a, &p, alice, &found, &n, &ge), -1);
    db_release(c);
    assert_int_equal(ge.e.kind, ERR_CONFIG);
    assert_non_null(strstr(ge.e.message, "PSTUDIO_SECRET_KEY is not the one"));
    arena_free(&a);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 500, NULL);
    test_resp_free(&r);
    w->api.svc.secret_key_b64 = w->key;
    r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

static void test_key_rotation_reseals_every_account_and_keeps_them_working(void **state)
{
    world *w = *state;
    char alice[37], bob[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    connect_as(w, w->ben_cookie, "bob", bob);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE key_version = 1"), 2);
    size_t n0;
    char *before = table_text(w, "accounts", &n0);

    db_conn *c = db_acquire(w->api.t.db);
    google_rotation rot;
    error e;
    assert_int_equal(google_service_rotate_key(&w->api.svc, c, &rot, &e), 0);
    db_release(c);
    assert_int_equal(rot.old_version, 1);
    assert_int_equal(rot.new_version, 2);
    assert_int_equal(rot.resealed, 2);
    assert_int_equal(rot.failed, 0);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE key_version = 2"), 2);
    size_t n1;
    char *after = table_text(w, "accounts", &n1);
    assert_string_not_equal(before, after);
    free(before);
    free(after);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    /* The same through the command line, while this server keeps serving. */
    char tmp[256], url_env[1200], key_env[128], dir_env[300], out[4096];
    test_tmpdir(tmp, sizeof(tmp));
    snprintf(url_env, sizeof(url_env), "PSTUDIO_DATABASE_URL=%s", w->api.t.url);
    snprintf(key_env, sizeof(key_env), "PSTUDIO_SECRET_KEY=%s", w->key);
    snprintf(dir_env, sizeof(dir_env), "PSTUDIO_DATA_DIR=%s", tmp);
    const char *argv[] = {PSTUDIO_BIN, "admin", "rotate-key", NULL};
    const char *env[] = {url_env, key_env, dir_env, NULL};
    int rc = test_run(argv, env, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("rotate-key exited %d: %s", rc, out);
    assert_non_null(strstr(out, "2 -> 3"));
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE key_version = 3"), 2);
    assert_int_equal(count(w, "SELECT max(version) FROM token_keys"), 3);
    /* Each rotation is the system's act on nobody's trail (issue 17). */
    assert_int_equal(count(w, "SELECT count(*) FROM audit_events WHERE action = "
                              "'token_key.rotated' AND actor_kind = 'system' AND "
                              "subject_user_id IS NULL AND object_id IN ('2', '3')"),
                     2);
    for (int i = 0; i < 2; i++) {
        r = discover(w, i ? w->ben : w->ana, i ? bob : alice);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
    /* A refresh after the rotation seals under the new version and works. */
    sql(w, "UPDATE accounts SET expires_at = $1", "t", time_now_usec());
    r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE key_version = 3"), 2);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 1);
    fake_google_unlock(w->fg);
}

static void
test_the_key_file_is_created_with_mode_0600_and_refused_when_others_can_read_it(void **state)
{
    world *w = *state;
    char dir[256], path[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/secret.key", dir);
    w->api.svc.secret_key_b64 = NULL;
    w->api.svc.data_dir = dir;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    chmod(path, 0644);
    r = discover(w, w->ana, alice);
    test_expect(&r, 500, NULL);
    test_resp_free(&r);
    chmod(path, 0600);
}

/* ---- refresh -------------------------------------------------------------------- */

static void test_an_access_token_is_refreshed_shortly_before_it_expires(void **state)
{
    world *w = *state;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 0);
    char first[160];
    snprintf(first, sizeof(first), "%s", w->fg->last_bearer);
    fake_google_unlock(w->fg);

    /* A minute left: refreshed before use. */
    sql(w, "UPDATE accounts SET expires_at = $1", "t", time_now_usec() + 60 * 1000000LL);
    r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 1);
    assert_string_not_equal(w->fg->last_bearer, first);
    fake_google_unlock(w->fg);
    assert_true(count(w, "SELECT count(*) FROM accounts WHERE status = 'active'") == 1);
    r = test_req(&w->api, "GET", "/api/v1/google/accounts", w->ana, NULL, NULL);
    int64_t exp = 0;
    time_parse(json_string_value(json_object_get(
                   json_array_get(json_object_get(r.json, "items"), 0), "expires_at")),
               &exp);
    assert_true(exp > time_now_usec() + 50 * 60 * 1000000LL);
    test_resp_free(&r);

    /* Plenty left: not refreshed. */
    r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 1);
    fake_google_unlock(w->fg);
}

static void
test_an_access_token_refused_with_401_is_refreshed_once_and_the_call_retried(void **state)
{
    world *w = *state;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    fake_google_expire_access_tokens(w->fg);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 1);
    assert_int_equal(w->fg->channel_lists, 2);
    fake_google_unlock(w->fg);
}

static void
test_invalid_grant_marks_the_account_needs_reconnect_on_the_account_and_its_channels(void **state)
{
    world *w = *state;
    char alice[37], ch[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    channel_id_of(&r, ALICE_1, ch);
    assert_string_equal(json_string_value(json_object_get(item_for(&r, ALICE_1), "account_status")),
                        "active");
    test_resp_free(&r);

    w->fg->refresh_invalid = true;
    sql(w, "UPDATE accounts SET expires_at = $1", "t", time_now_usec() - 1000000);
    r = discover(w, w->ana, alice);
    test_expect(&r, 409, "google-reconnect-required");
    expect_detail(&r, "connect the account again");
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/google/accounts", w->ana, NULL, NULL);
    json_t *acc = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(acc, "status")), "needs_reconnect");
    assert_true(json_is_true(json_object_get(acc, "needs_reconnect")));
    test_resp_free(&r);
    /* Its channels say so too. */
    arena a;
    arena_init(&a, 4096);
    channel row;
    error e;
    db_conn *c = db_acquire(w->api.t.db);
    char uid[37];
    test_resp me = test_req(&w->api, "GET", "/api/v1/me", w->ana, NULL, NULL);
    snprintf(uid, sizeof(uid), "%s", str(&me, "id"));
    test_resp_free(&me);
    assert_int_equal(channel_store_get(c, &a, uid, ch, false, NULL, &row, &e), 0);
    assert_string_equal(row.account_status, "needs_reconnect");
    db_release(c);
    arena_free(&a);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s/refresh-stats", ch);
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 409, "google-reconnect-required");
    test_resp_free(&r);
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 409, "google-reconnect-required");
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->refreshes, 1); /* once told, we stop asking */
    fake_google_unlock(w->fg);

    /* Connecting again heals the same account. */
    w->fg->refresh_invalid = false;
    char again[37];
    connect_as(w, w->ana_cookie, "alice", again);
    assert_string_equal(again, alice);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE status = 'active'"), 1);
    r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

/* ---- discover and import ------------------------------------------------------- */

static void
test_discovery_lists_the_grants_channels_with_string_counts_parsed_and_hidden_ones_unknown(
    void **state)
{
    world *w = *state;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "account_id"), alice);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    json_t *one = item_for(&r, ALICE_1), *two = item_for(&r, ALICE_2);
    assert_string_equal(json_string_value(json_object_get(one, "name")), "Alice in Space");
    assert_string_equal(json_string_value(json_object_get(one, "custom_url")), "@aliceinspace");
    assert_string_equal(json_string_value(json_object_get(one, "thumbnail")),
                        "https://yt3.ggpht.example/" ALICE_1 "-medium.jpg");
    assert_string_equal(json_string_value(json_object_get(one, "uploads_playlist_id")),
                        "UUalice0000000000000001");
    assert_int_equal(json_integer_value(json_object_get(one, "subscriber_count")), 1234567);
    assert_true(json_integer_value(json_object_get(one, "view_count")) == 98765432101LL);
    assert_int_equal(json_integer_value(json_object_get(one, "video_count")), 321);
    assert_true(json_is_false(json_object_get(one, "imported")));
    assert_true(json_is_null(json_object_get(two, "subscriber_count")));
    assert_int_equal(json_integer_value(json_object_get(two, "view_count")), 42);
    assert_true(json_is_null(json_object_get(two, "custom_url")));
    test_resp_free(&r);

    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    char ch[37];
    channel_id_of(&r, ALICE_1, ch);
    test_resp_free(&r);
    r = discover(w, w->ana, alice);
    assert_true(json_is_true(json_object_get(item_for(&r, ALICE_1), "imported")));
    assert_string_equal(json_string_value(json_object_get(item_for(&r, ALICE_1), "channel_id")),
                        ch);
    assert_true(json_is_false(json_object_get(item_for(&r, ALICE_2), "imported")));
    test_resp_free(&r);
}

static void test_importing_twice_updates_the_channels_instead_of_duplicating_them(void **state)
{
    world *w = *state;
    test_set_plan(&w->api, "ana@example.com", "creator");
    char alice[37], one[37], manual[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    /* A channel registered by hand before the import is adopted, not doubled. */
    test_resp r = test_req(&w->api, "POST", "/api/v1/channels", w->ana,
                           "{\"youtube_channel_id\":\"" ALICE_2 "\",\"name\":\"By hand\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(manual, sizeof(manual), "%s", str(&r, "id"));
    test_resp_free(&r);

    r = import(w, w->ana, alice, "[\"" ALICE_1 "\",\"" ALICE_2 "\",\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "created")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "updated")), 1);
    channel_id_of(&r, ALICE_1, one);
    json_t *it = item_for(&r, ALICE_1);
    assert_string_equal(json_string_value(json_object_get(it, "name")), "Alice in Space");
    assert_string_equal(json_string_value(json_object_get(it, "account_id")), alice);
    assert_string_equal(json_string_value(json_object_get(it, "custom_url")), "@aliceinspace");
    assert_string_equal(json_string_value(json_object_get(it, "uploads_playlist_id")),
                        "UUalice0000000000000001");
    assert_int_equal(json_integer_value(json_object_get(it, "subscriber_count")), 1234567);
    it = item_for(&r, ALICE_2);
    assert_string_equal(json_string_value(json_object_get(it, "id")), manual);
    assert_string_equal(json_string_value(json_object_get(it, "name")), "Alice Cooks");
    assert_true(json_is_null(json_object_get(it, "subscriber_count")));
    test_resp_free(&r);

    snprintf(w->fg->alice_subscribers, sizeof(w->fg->alice_subscribers), "2000000");
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\",\"" ALICE_2 "\"]");
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "created")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "updated")), 2);
    assert_string_equal(json_string_value(json_object_get(item_for(&r, ALICE_1), "id")), one);
    assert_int_equal(json_integer_value(json_object_get(item_for(&r, ALICE_1), "subscriber_count")),
                     2000000);
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 2);

    /* An id the grant does not cover, or none at all. */
    r = import(w, w->ana, alice, "[\"" BOB_1 "\"]");
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "youtube_channel_ids");
    test_resp_free(&r);
    r = import(w, w->ana, alice, "[]");
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 2);
}

static void test_importing_past_the_plans_channel_limit_is_refused_whole(void **state)
{
    world *w = *state; /* the free plan allows one channel */
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\",\"" ALICE_2 "\"]");
    test_expect(&r, 403, "plan-limit-reached");
    assert_string_equal(str(&r, "field"), "max_channels");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 0);
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    /* Updating what you have costs nothing. */
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = import(w, w->ana, alice, "[\"" ALICE_2 "\"]");
    test_expect(&r, 403, "plan-limit-reached");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 1);
}

static int64_t job_count(world *w, const char *kind, const char *status)
{
    char q[256];
    snprintf(q, sizeof(q), "SELECT count(*) FROM jobs WHERE kind = '%s' AND status = '%s'", kind,
             status);
    return count(w, q);
}

static void work_one(world *w)
{
    error e;
    int rc = job_work_one(w->api.t.db, "test:1", &e);
    if (rc != 1)
        fail_msg("expected a job to run (%d): %s", rc, rc < 0 ? e.message : "none runnable");
}

static void
test_quota_and_rate_limits_never_surface_raw_and_a_blocked_import_is_queued(void **state)
{
    world *w = *state;
    char alice[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    w->fg->channels_mode = 1;
    test_resp r = discover(w, w->ana, alice);
    test_expect(&r, 503, "youtube-quota-exceeded");
    char after[32];
    assert_true(test_resp_header(&r, "Retry-After", after, sizeof(after)));
    assert_true(atoi(after) > 0);
    assert_null(strstr(r.body, "getting-started"));
    assert_null(strstr(r.body, "<a href"));
    test_resp_free(&r);

    w->fg->channels_mode = 2;
    r = discover(w, w->ana, alice);
    test_expect(&r, 503, "youtube-quota-exceeded");
    assert_true(test_resp_header(&r, "Retry-After", after, sizeof(after)));
    assert_string_equal(after, "30");
    test_resp_free(&r);

    w->fg->channels_mode = 1;
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    char job_id[37];
    snprintf(job_id, sizeof(job_id), "%s", str(&r, "job_id"));
    assert_true(uuid_is_valid(job_id));
    test_resp_free(&r);
    /* Pressing again while it waits adds nothing. */
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "job_id"), job_id);
    test_resp_free(&r);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "queued"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 0);

    /* When its time comes and the quota is still out, it waits again:
     * still queued, one attempt spent, due later, nothing imported. */
    google_service_register_jobs(&w->api.svc);
    sql(w, "UPDATE jobs SET run_at = $1", "t", time_now_usec() - 1000000);
    work_one(w);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "queued"), 1);
    char q[256], t[TIME_STR_LEN + 1];
    time_format(time_now_usec() + 60 * 1000000LL, t);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM jobs WHERE id = '%s' AND attempts = 1 AND run_at > '%s'", job_id,
             t);
    assert_int_equal(count(w, q), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 0);

    /* When its time comes and the quota is back, the job imports. */
    sql(w, "UPDATE jobs SET run_at = $1", "t", time_now_usec() - 1000000);
    w->fg->channels_mode = 0;
    work_one(w);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "done"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channels WHERE account_id IS NOT NULL"), 1);

    /* The same import blocked again in the same hour, once the first one
     * has run, is queued anew: not answered with the finished job. */
    w->fg->channels_mode = 1;
    r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    assert_true(uuid_is_valid(str(&r, "job_id")));
    assert_string_not_equal(str(&r, "job_id"), job_id);
    test_resp_free(&r);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "queued"), 1);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "done"), 1);

    /* A 429 with Retry-After queues the import for that long. */
    w->fg->channels_mode = 2;
    r = import(w, w->ana, alice, "[\"" ALICE_2 "\"]");
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    assert_int_equal(json_integer_value(json_object_get(r.json, "retry_after_seconds")), 30);
    test_resp_free(&r);
    assert_int_equal(job_count(w, GOOGLE_JOB_IMPORT, "queued"), 2);
}

static void test_stats_refresh_jobs_update_cached_stats_and_wait_out_quota_errors(void **state)
{
    world *w = *state;
    google_service_register_jobs(&w->api.svc);
    char alice[37], ch[37], path[128];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    channel_id_of(&r, ALICE_1, ch);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/refresh-stats", ch);
    char channel_path[128];
    snprintf(channel_path, sizeof(channel_path), "/api/v1/channels/%s", ch);

    /* On demand. */
    snprintf(w->fg->alice_subscribers, sizeof(w->fg->alice_subscribers), "2222222");
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_true(uuid_is_valid(str(&r, "job_id")));
    test_resp_free(&r);
    work_one(w);
    r = test_req(&w->api, "GET", channel_path, w->ana, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "subscriber_count")), 2222222);
    test_resp_free(&r);

    /* Daily: the sweep queues one job per account, which refreshes. */
    snprintf(w->fg->alice_subscribers, sizeof(w->fg->alice_subscribers), "3333333");
    db_conn *c = db_acquire(w->api.t.db);
    char id[37];
    error e;
    assert_int_equal(job_enqueue(c, GOOGLE_JOB_REFRESH_ALL, NULL, NULL, id, &e), 0);
    db_release(c);
    work_one(w);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_ALL, "done"), 1);
    work_one(w);
    r = test_req(&w->api, "GET", channel_path, w->ana, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "subscriber_count")), 3333333);
    test_resp_free(&r);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_STATS, "done"), 2);

    /* A quota error: the job waits and tries again later; nothing is lost. */
    w->fg->channels_mode = 1;
    testdb_exec(&w->api.t, "DELETE FROM jobs");
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    test_resp_free(&r);
    work_one(w);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_STATS, "queued"), 1);
    char q[256];
    char t[TIME_STR_LEN + 1];
    time_format(time_now_usec() + 30 * 60 * 1000000LL, t);
    snprintf(q, sizeof(q), "SELECT count(*) FROM jobs WHERE attempts = 1 AND run_at > '%s'", t);
    assert_int_equal(count(w, q), 1);

    /* A channel registered by hand has no account to ask. */
    r = test_req(&w->api, "POST", "/api/v1/channels", w->ben,
                 "{\"youtube_channel_id\":\"UCmanual\",\"name\":\"By hand\"}", NULL);
    char manual[37];
    snprintf(manual, sizeof(manual), "%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/refresh-stats", manual);
    r = test_req(&w->api, "POST", path, w->ben, NULL, NULL);
    test_expect(&r, 409, "conflict");
    expect_detail(&r, "not linked to a Google account");
    test_resp_free(&r);
}

static void
test_a_refresh_press_shares_an_unfinished_job_and_queues_anew_after_it_finished(void **state)
{
    world *w = *state;
    google_service_register_jobs(&w->api.svc);
    char alice[37], ch[37], path[128], first[37];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 200, NULL);
    channel_id_of(&r, ALICE_1, ch);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s/refresh-stats", ch);

    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    snprintf(first, sizeof(first), "%s", str(&r, "job_id"));
    test_resp_free(&r);
    /* Pressed again while it waits, or while it runs: the same job, as it is. */
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "job_id"), first);
    assert_string_equal(str(&r, "status"), "queued");
    test_resp_free(&r);
    sql(w, "UPDATE jobs SET status = 'running' WHERE id = $1", "s", first);
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "job_id"), first);
    assert_string_equal(str(&r, "status"), "running");
    test_resp_free(&r);
    sql(w, "UPDATE jobs SET status = 'queued' WHERE id = $1", "s", first);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_STATS, "queued"), 1);

    /* Once it has finished, within the same minute, a press refreshes again. */
    work_one(w);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_STATS, "done"), 1);
    snprintf(w->fg->alice_subscribers, sizeof(w->fg->alice_subscribers), "4444444");
    r = test_req(&w->api, "POST", path, w->ana, NULL, NULL);
    test_expect(&r, 202, NULL);
    assert_string_equal(str(&r, "status"), "queued");
    assert_string_not_equal(str(&r, "job_id"), first);
    test_resp_free(&r);
    assert_int_equal(job_count(w, GOOGLE_JOB_REFRESH_STATS, "queued"), 1);
    work_one(w);
    char channel_path[128];
    snprintf(channel_path, sizeof(channel_path), "/api/v1/channels/%s", ch);
    r = test_req(&w->api, "GET", channel_path, w->ana, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "subscriber_count")), 4444444);
    test_resp_free(&r);
}

/* ---- disconnect and tenancy ---------------------------------------------------- */

static void
test_disconnecting_revokes_the_grant_deletes_the_account_and_keeps_its_channels(void **state)
{
    world *w = *state;
    char alice[37], ch[37], path[128];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    channel_id_of(&r, ALICE_1, ch);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/google/accounts/%s", alice);

    /* Google unreachable: nothing is deleted. */
    char closed[64] = "http://127.0.0.1:1/revoke";
    w->api.svc.google.revoke_url = closed;
    r = test_req(&w->api, "DELETE", path, w->ana, NULL, NULL);
    test_expect(&r, 502, "google-unavailable");
    expect_detail(&r, "not disconnected");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);

    /* Google answering 503: the same, and the account keeps its tokens and
     * its channels. */
    w->api.svc.google.revoke_url = w->urls[3];
    fake_google_lock(w->fg);
    w->fg->revoke_status = 503;
    fake_google_unlock(w->fg);
    r = test_req(&w->api, "DELETE", path, w->ana, NULL, NULL);
    test_expect(&r, 502, "google-unavailable");
    expect_detail(&r, "not disconnected");
    test_resp_free(&r);
    fake_google_lock(w->fg);
    w->fg->revoke_status = 0;
    assert_int_equal(w->fg->revokes, 0);
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts WHERE refresh_token_enc IS NOT NULL "
                              "AND access_token_enc IS NOT NULL AND status = 'active'"),
                     1);
    assert_int_equal(count(w, "SELECT count(*) FROM channels WHERE account_id IS NOT NULL"), 1);

    r = test_req(&w->api, "DELETE", path, w->ana, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->revokes, 1);
    assert_non_null(strstr(w->fg->revoked[0], "1//0g-refresh-alice"));
    fake_google_unlock(w->fg);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 0);
    char channel_path[128];
    snprintf(channel_path, sizeof(channel_path), "/api/v1/channels/%s", ch);
    r = test_req(&w->api, "GET", channel_path, w->ana, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "account_id")));
    test_resp_free(&r);
    r = test_req(&w->api, "GET", path, w->ana, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);

    /* The trail has the connection and the disconnection (issue 17), not
     * the two refused ones, and no token. */
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM audit_events WHERE object_id = '%s' AND actor_kind = 'user' "
             "AND client_ip = '127.0.0.1' AND action IN ('google.connected', "
             "'google.disconnected')",
             alice);
    assert_int_equal(count(w, q), 2);
    assert_int_equal(count(w, "SELECT count(*) FROM audit_events WHERE action = "
                              "'google.disconnected'"),
                     1);
    size_t n;
    char *events = table_text(w, "audit_events", &n);
    assert_null(strstr(events, "1//0g-refresh-alice"));
    assert_null(strstr(events, "ya29"));
    assert_non_null(strstr(events, "google_account"));
    free(events);
}

static void test_another_users_account_or_channel_is_404_everywhere(void **state)
{
    world *w = *state;
    char alice[37], ch[37], path[160];
    connect_as(w, w->ana_cookie, "alice", alice);
    test_resp r = import(w, w->ana, alice, "[\"" ALICE_1 "\"]");
    channel_id_of(&r, ALICE_1, ch);
    test_resp_free(&r);
    test_set_plan(&w->api, "ben@example.com", "pro");

    static const char *const routes[][3] = {
        {"GET", "/api/v1/google/accounts/", ""},
        {"GET", "/api/v1/google/accounts/", "/channels"},
        {"DELETE", "/api/v1/google/accounts/", ""},
        {"POST", "/api/v1/channels/", "/refresh-stats"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s%s", routes[i][1], i == 3 ? ch : alice, routes[i][2]);
        r = test_req(&w->api, routes[i][0], path, w->ben, NULL, NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
    r = import(w, w->ben, alice, "[\"" ALICE_1 "\"]");
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/google/accounts", w->ben, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
    /* Even with Google unconfigured, a stranger learns nothing but 404. */
    w->api.svc.google.client_id = NULL;
    snprintf(path, sizeof(path), "/api/v1/google/accounts/%s/channels", alice);
    r = test_req(&w->api, "GET", path, w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/google/accounts/not-a-uuid", w->ben, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(w, "SELECT count(*) FROM accounts"), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM channels"), 1);
    fake_google_lock(w->fg);
    assert_int_equal(w->fg->revokes, 0);
    fake_google_unlock(w->fg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    g_log = tmpfile();
    log_init(LOG_DEBUG, g_log);
    const struct CMUnitTest tests[] = {
        T(test_connect_redirects_to_google_with_pkce_state_offline_access_and_only_the_needed_scopes),
        T(test_connect_without_client_settings_is_503_naming_the_settings),
        T(test_callback_stores_the_account_after_exchanging_the_code_with_the_matching_verifier),
        T(test_connect_needs_the_browser_session_that_will_finish_the_flow),
        T(test_callback_with_a_missing_wrong_replayed_expired_or_foreign_state_is_400_and_stores_nothing),
        T(test_a_declined_consent_is_400_with_a_clear_message_and_stores_nothing),
        T(test_several_google_accounts_can_be_connected_and_reconnecting_one_does_not_duplicate_it),
        T(test_tokens_appear_in_plaintext_nowhere_in_the_database_the_api_or_the_logs),
        T(test_swapping_two_accounts_ciphertexts_makes_both_fail_to_decrypt_with_a_clear_error),
        T(test_a_different_master_key_is_reported_as_such_not_as_tampering),
        T(test_key_rotation_reseals_every_account_and_keeps_them_working),
        T(test_the_key_file_is_created_with_mode_0600_and_refused_when_others_can_read_it),
        T(test_an_access_token_is_refreshed_shortly_before_it_expires),
        T(test_an_access_token_refused_with_401_is_refreshed_once_and_the_call_retried),
        T(test_invalid_grant_marks_the_account_needs_reconnect_on_the_account_and_its_channels),
        T(test_discovery_lists_the_grants_channels_with_string_counts_parsed_and_hidden_ones_unknown),
        T(test_importing_twice_updates_the_channels_instead_of_duplicating_them),
        T(test_importing_past_the_plans_channel_limit_is_refused_whole),
        T(test_quota_and_rate_limits_never_surface_raw_and_a_blocked_import_is_queued),
        T(test_stats_refresh_jobs_update_cached_stats_and_wait_out_quota_errors),
        T(test_a_refresh_press_shares_an_unfinished_job_and_queues_anew_after_it_finished),
        T(test_disconnecting_revokes_the_grant_deletes_the_account_and_keeps_its_channels),
        T(test_another_users_account_or_channel_is_404_everywhere),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fclose(g_log);
    return rc;
}
