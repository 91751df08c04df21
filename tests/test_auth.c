/*
 * Identity over the real API: sign-up, log-in, sessions and their expiry,
 * the cookie + CSRF rule, API keys, and the database-backed rate limiter.
 */
#include "testlib.h"

#include "domain/limits.h"
#include "http/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const test_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static void test_signup_returns_a_session_that_authenticates_the_user(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                           "{\"email\":\"Ana@Example.com\",\"password\":\"correct horse battery\","
                           "\"name\":\"Ana\"}",
                           NULL);
    test_expect(&r, 201, NULL);
    char token[128], cookie[512];
    snprintf(token, sizeof(token), "%s", str(&r, "token"));
    assert_int_equal(strlen(token), 47);
    assert_true(strncmp(token, "pss_", 4) == 0);
    assert_non_null(str(&r, "csrf_token"));
    const char *line = strstr(r.headers, "pstudio_session=");
    assert_non_null(line);
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(line, "\r\n"), line);
    assert_non_null(strstr(cookie, "HttpOnly"));
    assert_non_null(strstr(cookie, "SameSite=Lax"));
    assert_null(strstr(r.body, "password"));
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/me", token, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "email"), "Ana@Example.com");
    assert_string_equal(str(&r, "role"), "user");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "plan"), "code")),
                        "free");
    test_resp_free(&r);
    /* Only a hash of the token is stored. */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM sessions WHERE token_hash = '%s'", token);
    assert_int_equal(testdb_scalar(&a->t, sql), 0);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions"), 1);
}

static void test_signup_refuses_a_taken_email_in_any_case_and_bad_input(void **state)
{
    test_api *a = *state;
    char token[128];
    test_signup(a, "ana@example.com", token);
    test_resp r =
        test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"ANA@example.com\",\"password\":\"another password\"}", NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"no-at-sign\",\"password\":\"long enough pw\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "email");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"b@example.com\",\"password\":\"short\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "password");
    test_resp_free(&r);
    /* Mass assignment: a caller cannot make themselves admin. */
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"c@example.com\",\"password\":\"long enough pw\",\"role\":\"admin\"}",
                 NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "role");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL, "{\"email\":", NULL);
    test_expect(&r, 400, "malformed-json");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"d@example.com\",\"email\":\"e@example.com\",\"password\":\"x\"}",
                 NULL);
    test_expect(&r, 400, "malformed-json");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"f\xff@example.com\",\"password\":\"long enough pw\"}", NULL);
    test_expect(&r, 400, "malformed-json");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM users"), 1);
}

static void test_login_with_a_wrong_password_or_unknown_email_is_the_same_401(void **state)
{
    test_api *a = *state;
    char token[128];
    test_signup(a, "ana@example.com", token);
    test_resp r = test_req(a, "POST", "/api/v1/auth/login", NULL,
                           "{\"email\":\"ana@example.com\",\"password\":\"wrong password\"}", NULL);
    test_expect(&r, 401, "unauthorized");
    char detail_wrong[256];
    snprintf(detail_wrong, sizeof(detail_wrong), "%s", str(&r, "detail"));
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/login", NULL,
                 "{\"email\":\"nobody@example.com\",\"password\":\"wrong password\"}", NULL);
    test_expect(&r, 401, "unauthorized");
    assert_string_equal(str(&r, "detail"), detail_wrong);
    test_resp_free(&r);
}

static void test_each_login_issues_a_new_token(void **state)
{
    test_api *a = *state;
    char first[128];
    test_signup(a, "ana@example.com", first);
    const char *body = "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}";
    test_resp r1 = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    test_resp r2 = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    test_expect(&r1, 200, NULL);
    test_expect(&r2, 200, NULL);
    assert_string_not_equal(str(&r1, "token"), str(&r2, "token"));
    assert_string_not_equal(str(&r1, "token"), first);
    test_resp_free(&r1);
    test_resp_free(&r2);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions"), 3);
}

static void test_logout_ends_one_session_and_logout_all_ends_every_session(void **state)
{
    test_api *a = *state;
    char t1[128], t2[128], t3[128];
    test_signup(a, "ana@example.com", t1);
    const char *body = "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}";
    test_resp r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    snprintf(t2, sizeof(t2), "%s", str(&r, "token"));
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    snprintf(t3, sizeof(t3), "%s", str(&r, "token"));
    test_resp_free(&r);

    r = test_req(a, "POST", "/api/v1/auth/logout", t1, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", t1, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", t2, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    r = test_req(a, "POST", "/api/v1/auth/logout-all", t2, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", t3, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
}

static void test_expired_and_idle_sessions_are_refused(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    testdb_exec(&a->t, "UPDATE sessions SET expires_at = '2020-01-01T00:00:00Z'");
    test_resp r = test_req(a, "GET", "/api/v1/me", t, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    assert_non_null(strstr(str(&r, "detail"), "expired"));
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions"), 0);

    char u[128];
    test_signup(a, "bo@example.com", u);
    testdb_exec(&a->t, "UPDATE sessions SET last_seen_at = '2020-01-01T00:00:00Z'");
    r = test_req(a, "GET", "/api/v1/me", u, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
}

static void test_missing_or_malformed_credentials_are_401(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/api/v1/me", NULL, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    char h[128];
    assert_true(test_resp_header(&r, "WWW-Authenticate", h, sizeof(h)));
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", "garbage", NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", "pss_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
                 NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    const char *basic[] = {"Authorization: Basic dXNlcjpwdw==", NULL};
    r = test_req(a, "GET", "/api/v1/me", NULL, NULL, basic);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
}

static void test_cookie_sessions_need_the_csrf_header_to_change_data(void **state)
{
    test_api *a = *state;
    test_resp r =
        test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}", NULL);
    char cookie[256], csrf_h[256], wrong_h[256];
    snprintf(cookie, sizeof(cookie), "Cookie: pstudio_session=%s; other=1", str(&r, "token"));
    snprintf(csrf_h, sizeof(csrf_h), "X-CSRF-Token: %s", str(&r, "csrf_token"));
    snprintf(wrong_h, sizeof(wrong_h), "X-CSRF-Token: %sx", str(&r, "csrf_token"));
    test_resp_free(&r);

    const char *read[] = {cookie, NULL};
    r = test_req(a, "GET", "/api/v1/me", NULL, NULL, read);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/api-keys", NULL, "{\"name\":\"ci\"}", read);
    test_expect(&r, 403, "forbidden");
    test_resp_free(&r);
    const char *wrong[] = {cookie, wrong_h, NULL};
    r = test_req(a, "POST", "/api/v1/api-keys", NULL, "{\"name\":\"ci\"}", wrong);
    test_expect(&r, 403, "forbidden");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM api_keys"), 0);
    const char *ok[] = {cookie, csrf_h, NULL};
    r = test_req(a, "POST", "/api/v1/api-keys", NULL, "{\"name\":\"ci\"}", ok);
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
}

static void test_api_keys_authenticate_until_revoked_and_are_shown_once(void **state)
{
    test_api *a = *state;
    char t[128], other[128];
    test_signup(a, "ana@example.com", t);
    test_signup(a, "bo@example.com", other);
    test_resp r = test_req(a, "POST", "/api/v1/api-keys", t, "{\"name\":\"nightly script\"}", NULL);
    test_expect(&r, 201, NULL);
    char key[128], id[64];
    snprintf(key, sizeof(key), "%s", str(&r, "key"));
    snprintf(id, sizeof(id), "%s", str(&r, "id"));
    assert_true(strncmp(key, "psk_", 4) == 0);
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "email"), "ana@example.com");
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/api-keys", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_null(strstr(r.body, key));
    assert_null(strstr(r.body, key + 12));
    test_resp_free(&r);

    /* Another user can neither see nor revoke it. */
    r = test_req(a, "GET", "/api/v1/api-keys", other, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/api-keys/%s", id);
    r = test_req(a, "DELETE", path, other, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    r = test_req(a, "DELETE", path, t, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    r = test_req(a, "DELETE", path, t, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

static void test_an_api_key_cannot_manage_credentials_but_can_revoke_itself(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    char key[128], key_id[64], other_id[64], path[128];
    test_resp r = test_req(a, "POST", "/api/v1/api-keys", t, "{\"name\":\"leaked\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(key, sizeof(key), "%s", str(&r, "key"));
    snprintf(key_id, sizeof(key_id), "%s", str(&r, "id"));
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/api-keys", t, "{\"name\":\"deploy\"}", NULL);
    snprintf(other_id, sizeof(other_id), "%s", str(&r, "id"));
    test_resp_free(&r);

    /* A key mints no keys, so revoking it leaves nothing of it behind. */
    r = test_req(a, "POST", "/api/v1/api-keys", key, "{\"name\":\"persistence\"}", NULL);
    test_expect(&r, 403, "session-required");
    assert_non_null(strstr(str(&r, "detail"), "/api/v1/auth/login"));
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/api-keys", key, NULL, NULL);
    test_expect(&r, 403, "session-required");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/api-keys/%s", other_id);
    r = test_req(a, "DELETE", path, key, NULL, NULL);
    test_expect(&r, 403, "session-required");
    test_resp_free(&r);
    /* Nor does it sign its owner out. */
    r = test_req(a, "POST", "/api/v1/auth/logout-all", key, NULL, NULL);
    test_expect(&r, 403, "session-required");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/auth/logout", key, NULL, NULL);
    test_expect(&r, 403, "session-required");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM api_keys"), 2);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL"),
                     2);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions"), 1);
    r = test_req(a, "GET", "/api/v1/me", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    /* It still works for everything else, and it can retire itself. */
    r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/api-keys/%s", key_id);
    r = test_req(a, "DELETE", path, key, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL"),
                     1);
}

#define HASH_NOW                                                                                   \
    "SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$m=65536,t=2,p=1$%'"
#define HASH_OLD                                                                                   \
    "SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'"

static void test_a_login_rehashes_a_password_stored_with_older_parameters(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    assert_int_equal(testdb_scalar(&a->t, HASH_NOW), 1);
    /* What an account made before the parameters were raised holds. */
    const char *pw = "correct horse battery";
    char old[crypto_pwhash_STRBYTES];
    assert_int_equal(
        crypto_pwhash_str_alg(old, pw, strlen(pw), 2, 19u << 20, crypto_pwhash_ALG_ARGON2ID13), 0);
    db_error de;
    assert_int_equal(testdb_execf(&a->t, &de, "UPDATE users SET password_hash = $1", "s", old), 0);
    assert_int_equal(testdb_scalar(&a->t, HASH_OLD), 1);

    /* A wrong password changes nothing. */
    test_resp r = test_req(a, "POST", "/api/v1/auth/login", NULL,
                           "{\"email\":\"ana@example.com\",\"password\":\"wrong password\"}", NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, HASH_OLD), 1);

    const char *body = "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}";
    r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, HASH_OLD), 0);
    assert_int_equal(testdb_scalar(&a->t, HASH_NOW), 1);
    /* The new hash is of the same password. */
    r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

static void test_login_is_rate_limited_per_account_across_server_processes(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    /* A second server on the same database stands in for a second process:
     * the limiter's state lives in the database, so attempts add up. */
    test_api b = *a;
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    http_server_config cfg = {.bind_addr = "127.0.0.1", .db = a->t.db, .app = &a->svc};
    error e;
    b.srv = http_server_start(&cfg, routes, n, &e);
    free(routes);
    assert_non_null(b.srv);
    b.port = http_server_port(b.srv);

    const char *bad = "{\"email\":\"ana@example.com\",\"password\":\"wrong password\"}";
    int limit = a->svc.login_max_attempts;
    for (int i = 0; i < limit; i++) {
        test_resp r = test_req(i % 2 ? &b : a, "POST", "/api/v1/auth/login", NULL, bad, NULL);
        test_expect(&r, 401, "unauthorized");
        test_resp_free(&r);
    }
    /* Now even the right password waits. */
    test_resp r =
        test_req(&b, "POST", "/api/v1/auth/login", NULL,
                 "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}", NULL);
    test_expect(&r, 429, "rate-limited");
    char retry[32];
    assert_true(test_resp_header(&r, "Retry-After", retry, sizeof(retry)));
    assert_true(atoi(retry) >= 1);
    test_resp_free(&r);
    http_server_stop(b.srv);

    /* Another account from the same address is not locked out. */
    char u[128];
    test_signup(a, "bo@example.com", u);
    r = test_req(a, "POST", "/api/v1/auth/login", NULL,
                 "{\"email\":\"bo@example.com\",\"password\":\"correct horse battery\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
}

/* A second server on the test's database and services, with these proxy
 * settings; its port goes into b. */
static void start_behind_proxies(test_api *a, test_api *b, const char *trusted)
{
    *b = *a;
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    http_server_config cfg = {
        .bind_addr = "127.0.0.1", .db = a->t.db, .app = &a->svc, .trusted_proxies = trusted};
    error e;
    b->srv = http_server_start(&cfg, routes, n, &e);
    free(routes);
    if (b->srv == NULL)
        fail_msg("http_server_start: %s", e.message);
    b->port = http_server_port(b->srv);
}

/* Log-ins of unknown accounts (each its own account bucket) until the
 * per-address limit answers 429; returns how many got 401 first. */
static int logins_until_limited(test_api *a, const char *xff, int most)
{
    char header[128], body[128];
    snprintf(header, sizeof(header), "X-Forwarded-For: %s", xff);
    const char *headers[] = {header, NULL};
    for (int i = 0; i < most; i++) {
        snprintf(body, sizeof(body), "{\"email\":\"nobody%d-%s@example.com\",\"password\":\"x\"}",
                 i, xff);
        test_resp r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, headers);
        long status = r.status;
        test_resp_free(&r);
        if (status == 429)
            return i;
        assert_int_equal(status, 401);
    }
    return most;
}

/* Issue 19: behind a trusted proxy the per-address log-in limit keys on the
 * address the proxy forwarded, so two clients behind one proxy do not share
 * a bucket; from a peer that is not trusted the header is ignored, so a
 * client cannot escape the limit by inventing addresses. */
static void
test_the_login_limiter_keys_on_the_forwarded_address_only_from_a_trusted_peer(void **state)
{
    test_api *a = *state;
    a->svc.login_max_attempts = 2; /* 3 × 2 = 6 log-ins per address */
    int per_ip = a->svc.login_max_attempts * 3;

    test_api proxied;
    start_behind_proxies(a, &proxied, "127.0.0.0/8,::1");
    assert_int_equal(logins_until_limited(&proxied, "203.0.113.7", per_ip + 1), per_ip);
    /* Another client behind the same proxy has a bucket of its own. */
    assert_int_equal(logins_until_limited(&proxied, "198.51.100.9", 1), 1);
    /* A forged left-hand entry does not move the client out of its bucket:
     * the proxy appended the real address on the right. */
    assert_int_equal(logins_until_limited(&proxied, "192.0.2.1, 203.0.113.7", 1), 0);
    http_server_stop(proxied.srv);

    /* A server that trusts some other network reads no header: every
     * invented address lands in the loopback peer's bucket. */
    test_api direct;
    start_behind_proxies(a, &direct, "10.0.0.0/8");
    char xff[64];
    int allowed = 0;
    for (int i = 0; i < per_ip + 1; i++) {
        snprintf(xff, sizeof(xff), "192.0.2.%d", i + 1);
        int got = logins_until_limited(&direct, xff, 1);
        allowed += got;
        if (got == 0)
            break;
    }
    assert_int_equal(allowed, per_ip);
    http_server_stop(direct.srv);
    /* ...and so does the default server, which trusts no proxy. */
    assert_int_equal(logins_until_limited(a, "203.0.113.99", 1), 0);
}

/* The request body for a JSON object built by json_pack; free() it. */
static char *body_of(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(text);
    return text;
}

/* An API key name of exactly the limit, in characters of 2, 3 and 4 bytes
 * (and at an odd byte offset), comes back whole from the create answer and
 * the list, and the key can be revoked; one character more is a 422 that
 * writes nothing. Names used to be cut to 100 bytes: silently shortened, or
 * cut inside a character, when the create answered 500 after the row was
 * written and the key never showed in the list. */
static void test_api_key_names_of_multibyte_characters_round_trip_whole(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    const struct {
        const char *prefix, *unit;
        int n;
    } cases[] = {
        {"", "\xc3\xa9", 61}, /* the report: 61 é */
        {"", test_utf8_units[0], 100}, {"", test_utf8_units[1], 100},
        {"", test_utf8_units[2], 100}, {"a", test_utf8_units[0], 99},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = test_repeat(cases[i].prefix, cases[i].unit, cases[i].n);
        char *body = body_of(json_pack("{s:s}", "name", name));
        test_resp r = test_req(a, "POST", "/api/v1/api-keys", t, body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(str(&r, "name"), name);
        char key[128], path[128];
        snprintf(key, sizeof(key), "%s", str(&r, "key"));
        snprintf(path, sizeof(path), "/api/v1/api-keys/%s", str(&r, "id"));
        test_resp_free(&r);

        r = test_req(a, "GET", "/api/v1/api-keys", t, NULL, NULL);
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "name")),
                            name);
        test_resp_free(&r);
        r = test_req(a, "GET", "/api/v1/me", key, NULL, NULL); /* the key works */
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
        r = test_req(a, "DELETE", path, t, NULL, NULL);
        test_expect(&r, 204, NULL);
        test_resp_free(&r);
        testdb_exec(&a->t, "DELETE FROM api_keys");
        free(body);
        free(name);
    }
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        char *name = test_repeat("", test_utf8_units[u], APIKEY_NAME_MAX + 1);
        char *body = body_of(json_pack("{s:s}", "name", name));
        test_resp r = test_req(a, "POST", "/api/v1/api-keys", t, body, NULL);
        test_expect(&r, 422, "invalid-request");
        assert_string_equal(str(&r, "field"), "name");
        test_resp_free(&r);
        free(body);
        free(name);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM api_keys"), 0);
}

/* A sign-up name of exactly the limit in multi-byte characters is stored
 * whole: the user answers with it in every admin view (get, list, search).
 * It used to be cut to 200 bytes: shortened, or cut inside a character, when
 * SQLite kept the broken text (and the user vanished from the admin views)
 * and PostgreSQL refused it with a 500. One character more is a 422 that
 * writes nothing. */
static void test_signup_names_of_multibyte_characters_round_trip_to_admin_views(void **state)
{
    test_api *a = *state;
    char root[128];
    test_signup(a, "root@example.com", root);
    test_make_admin(a, "root@example.com");
    const struct {
        const char *prefix, *unit;
        int n;
    } cases[] = {
        {"", "\xc3\xa9", 151}, /* the report: 151 é */
        {"", test_utf8_units[0], 200}, {"", test_utf8_units[1], 200},
        {"", test_utf8_units[2], 200}, {"a", test_utf8_units[1], 199},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = test_repeat(cases[i].prefix, cases[i].unit, cases[i].n);
        char email[64], path[128];
        snprintf(email, sizeof(email), "user%zu@example.com", i);
        char *body = body_of(json_pack("{s:s,s:s,s:s}", "email", email, "password",
                                       "correct horse battery", "name", name));
        test_resp r = test_req(a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
        test_expect(&r, 201, NULL);
        snprintf(path, sizeof(path), "/api/v1/admin/users/%s",
                 json_string_value(json_object_get(json_object_get(r.json, "user"), "id")));
        test_resp_free(&r);

        r = test_req(a, "GET", path, root, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "name"), name);
        test_resp_free(&r);
        char search[128];
        snprintf(search, sizeof(search), "/api/v1/admin/users?email=user%zu@", i);
        r = test_req(a, "GET", search, root, NULL, NULL);
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "name")),
                            name);
        test_resp_free(&r);
        r = test_req(a, "GET", "/api/v1/admin/users?limit=100", root, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), i + 2);
        test_resp_free(&r);
        free(body);
        free(name);
    }
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        char *name = test_repeat("", test_utf8_units[u], USER_NAME_MAX + 1);
        char *body = body_of(json_pack("{s:s,s:s,s:s}", "email", "late@example.com", "password",
                                       "correct horse battery", "name", name));
        test_resp r = test_req(a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
        test_expect(&r, 422, "invalid-request");
        assert_string_equal(str(&r, "field"), "name");
        test_resp_free(&r);
        free(body);
        free(name);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM users"), 6);
}

/* An email is limited to 254 characters like every other text, not 254
 * bytes: one of 254 multi-byte characters signs up, logs in (its rate-limit
 * bucket holds the whole address) and answers from /me unchanged. */
static void test_an_email_of_254_multibyte_characters_signs_up_and_logs_in(void **state)
{
    test_api *a = *state;
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        char domain[32];
        snprintf(domain, sizeof(domain), "@x%d.io", u); /* 6 characters */
        char *local = test_repeat("", test_utf8_units[u], USER_EMAIL_MAX - 6);
        char *email = test_repeat(local, domain, 1);
        char *body =
            body_of(json_pack("{s:s,s:s}", "email", email, "password", "correct horse battery"));
        test_resp r = test_req(a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r.json, "user"), "email")), email);
        test_resp_free(&r);
        r = test_req(a, "POST", "/api/v1/auth/login", NULL, body, NULL);
        test_expect(&r, 200, NULL);
        char token[128];
        snprintf(token, sizeof(token), "%s", str(&r, "token"));
        test_resp_free(&r);
        r = test_req(a, "GET", "/api/v1/me", token, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "email"), email);
        test_resp_free(&r);
        free(body);

        char *longer = test_repeat(test_utf8_units[u], email, 1);
        body =
            body_of(json_pack("{s:s,s:s}", "email", longer, "password", "correct horse battery"));
        r = test_req(a, "POST", "/api/v1/auth/signup", NULL, body, NULL);
        test_expect(&r, 422, "invalid-request");
        assert_string_equal(str(&r, "field"), "email");
        test_resp_free(&r);
        free(body);
        free(longer);
        free(email);
        free(local);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM users"), TEST_UTF8_UNITS);
}

/* A User-Agent is raw bytes: one that is not UTF-8, or longer than the
 * column, must not fail a sign-up (PostgreSQL refuses bytes that are not
 * UTF-8); what is kept of it is UTF-8 cut at a character boundary. */
static void test_a_user_agent_that_is_not_utf8_or_too_long_does_not_fail_signup(void **state)
{
    test_api *a = *state;
    const char *const bad[] = {"User-Agent: caf\xe9 \xff", NULL};
    test_resp r =
        test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"ana@example.com\",\"password\":\"correct horse battery\"}", bad);
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    /* 511 ASCII bytes, then a 2-byte character that would straddle byte 512. */
    char *ua = test_repeat("User-Agent: ", "a", 511);
    char *header = test_repeat(ua, test_utf8_units[0], 3);
    const char *const long_ua[] = {header, NULL};
    r = test_req(a, "POST", "/api/v1/auth/signup", NULL,
                 "{\"email\":\"bo@example.com\",\"password\":\"correct horse battery\"}", long_ua);
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM sessions WHERE user_agent IS NULL"),
                     1);
    assert_int_equal(testdb_scalar(&a->t, "SELECT MAX(length(user_agent)) FROM sessions"), 511);
    free(header);
    free(ua);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_api_setup, test_api_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_signup_returns_a_session_that_authenticates_the_user),
        T(test_signup_refuses_a_taken_email_in_any_case_and_bad_input),
        T(test_login_with_a_wrong_password_or_unknown_email_is_the_same_401),
        T(test_each_login_issues_a_new_token),
        T(test_logout_ends_one_session_and_logout_all_ends_every_session),
        T(test_expired_and_idle_sessions_are_refused),
        T(test_missing_or_malformed_credentials_are_401),
        T(test_cookie_sessions_need_the_csrf_header_to_change_data),
        T(test_api_keys_authenticate_until_revoked_and_are_shown_once),
        T(test_an_api_key_cannot_manage_credentials_but_can_revoke_itself),
        T(test_a_login_rehashes_a_password_stored_with_older_parameters),
        T(test_login_is_rate_limited_per_account_across_server_processes),
        T(test_the_login_limiter_keys_on_the_forwarded_address_only_from_a_trusted_peer),
        T(test_api_key_names_of_multibyte_characters_round_trip_whole),
        T(test_signup_names_of_multibyte_characters_round_trip_to_admin_views),
        T(test_an_email_of_254_multibyte_characters_signs_up_and_logs_in),
        T(test_a_user_agent_that_is_not_utf8_or_too_long_does_not_fail_signup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
