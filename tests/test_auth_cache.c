/*
 * The auth cache (issue 18, decision 2). First the cache itself, whose
 * rules do not depend on the engine: nothing is trusted without a fresh
 * proof from the listener, an invalidation refuses the puts of reads that
 * began before it, a lost link empties it. Then the rule the issue sets,
 * with the real binary: two `serve` processes on one database; a revocation
 * through one is refused by the other within 1 s on PostgreSQL and at once
 * on SQLite, for every kind of revocation the API has; and with the
 * listener's connection killed, no cached answer is trusted.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "services/auth_cache.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the cache ----------------------------------------------------------- */

static auth_cache_entry entry(const char *hash_digit, const char *user_id, const char *plan_id)
{
    auth_cache_entry e;
    memset(&e, 0, sizeof(e));
    for (int i = 0; i < TOKEN_HASH_LEN; i++)
        e.token_hash[i] = hash_digit[0];
    snprintf(e.who.user_id, sizeof(e.who.user_id), "%s", user_id);
    snprintf(e.who.plan_id, sizeof(e.who.plan_id), "%s", plan_id);
    e.who.via = PRINCIPAL_API_KEY;
    return e;
}

static bool cached(auth_cache *c, const auth_cache_entry *e)
{
    auth_cache_entry out;
    return auth_cache_get(c, e->token_hash, &out) && strcmp(out.who.user_id, e->who.user_id) == 0;
}

static void test_nothing_is_kept_or_answered_before_the_listener_proves_health(void **state)
{
    auth_cache *c = auth_cache_new(8, AUTH_CACHE_DEFAULT_TTL_USEC);
    auth_cache_entry a = entry("a", "user-1", "plan-1");
    auth_cache_put(c, auth_cache_seq(c), &a);
    assert_false(cached(c, &a));
    auth_cache_proved(c, time_mono_usec());
    assert_false(cached(c, &a)); /* the put before the proof was refused */
    auth_cache_put(c, auth_cache_seq(c), &a);
    assert_true(cached(c, &a));
    /* A proof older than the trust bound is no proof. */
    auth_cache_proved(c, time_mono_usec() - AUTH_CACHE_TRUST_USEC - 1);
    assert_false(cached(c, &a));
    auth_cache_stats st;
    auth_cache_get_stats(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.untrusted, 2);
    assert_false(st.listener_healthy);
    auth_cache_free(c);
}

static void test_a_put_is_refused_when_an_invalidation_was_applied_after_its_read(void **state)
{
    auth_cache *c = auth_cache_new(8, AUTH_CACHE_DEFAULT_TTL_USEC);
    auth_cache_proved(c, time_mono_usec());
    auth_cache_entry a = entry("a", "user-1", "plan-1");
    uint64_t seq = auth_cache_seq(c);      /* the request reads seq, then the database */
    auth_cache_apply(c, "u:someone-else"); /* a revocation commits and is applied */
    auth_cache_put(c, seq, &a);
    assert_false(cached(c, &a));
    auth_cache_put(c, auth_cache_seq(c), &a);
    assert_true(cached(c, &a));
    auth_cache_free(c);
}

static void test_a_notification_drops_its_user_or_its_plan_or_everything(void **state)
{
    auth_cache *c = auth_cache_new(8, AUTH_CACHE_DEFAULT_TTL_USEC);
    auth_cache_proved(c, time_mono_usec());
    auth_cache_entry a = entry("a", "user-1", "plan-1"), b = entry("b", "user-2", "plan-1"),
                     d = entry("d", "user-3", "plan-2");
    auth_cache_put(c, auth_cache_seq(c), &a);
    auth_cache_put(c, auth_cache_seq(c), &b);
    auth_cache_put(c, auth_cache_seq(c), &d);
    auth_cache_apply(c, "u:user-1");
    assert_false(cached(c, &a));
    assert_true(cached(c, &b));
    assert_true(cached(c, &d));
    auth_cache_apply(c, "p:plan-1");
    assert_false(cached(c, &b));
    assert_true(cached(c, &d));
    auth_cache_apply(c, "*");
    assert_false(cached(c, &d));
    auth_cache_stats st;
    auth_cache_get_stats(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.invalidations, 3);
    auth_cache_free(c);
}

static void test_a_lost_link_empties_the_cache_and_refuses_reads_begun_before_it(void **state)
{
    auth_cache *c = auth_cache_new(8, AUTH_CACHE_DEFAULT_TTL_USEC);
    auth_cache_proved(c, time_mono_usec());
    auth_cache_entry a = entry("a", "user-1", "plan-1"), b = entry("b", "user-2", "plan-1");
    auth_cache_put(c, auth_cache_seq(c), &a);
    uint64_t seq = auth_cache_seq(c); /* a read begins */
    auth_cache_proved(c, 0);          /* the link fails: notifications may be lost */
    assert_false(cached(c, &a));
    auth_cache_proved(c, time_mono_usec()); /* back */
    assert_false(cached(c, &a));            /* emptied */
    auth_cache_put(c, seq, &b);
    assert_false(cached(c, &b));
    auth_cache_stats st;
    auth_cache_get_stats(c, &st);
    assert_int_equal(st.listener_failures, 1);
    assert_true(st.listener_healthy);
    auth_cache_free(c);
}

static void test_a_full_cache_evicts_in_turn_and_entries_expire_after_the_ttl(void **state)
{
    auth_cache *c = auth_cache_new(2, AUTH_CACHE_DEFAULT_TTL_USEC);
    auth_cache_proved(c, time_mono_usec());
    auth_cache_entry a = entry("a", "user-1", "p"), b = entry("b", "user-2", "p"),
                     d = entry("d", "user-3", "p");
    auth_cache_put(c, auth_cache_seq(c), &a);
    auth_cache_put(c, auth_cache_seq(c), &b);
    auth_cache_put(c, auth_cache_seq(c), &d);
    assert_false(cached(c, &a));
    assert_true(cached(c, &b));
    assert_true(cached(c, &d));
    auth_cache_stats st;
    auth_cache_get_stats(c, &st);
    assert_int_equal(st.entries, 2);
    auth_cache_free(c);

    c = auth_cache_new(2, 0); /* every entry is past a TTL of 0 */
    auth_cache_proved(c, time_mono_usec());
    auth_cache_put(c, auth_cache_seq(c), &a);
    assert_false(cached(c, &a));
    auth_cache_free(c);
}

/* ---- two serve processes on one database ---------------------------------- */

typedef struct duo {
    testdb t;
    char dir[256];
    test_api a, b; /* only their ports are used, with test_req() */
    test_proc proc_a, proc_b;
    bool pg;
} duo;

/* Starts one of the two `pstudio serve`, on the shared database and data
 * directory, and gives its port to s. */
static void duo_spawn(duo *d, test_proc *p, test_api *s, const char *name)
{
    char log[400];
    snprintf(log, sizeof(log), "%s/%s.log", d->dir, name);
    const char *const env[] = {"PSTUDIO_HTTP_THREADS=2", "PSTUDIO_DB_POOL_SIZE=3", NULL};
    test_proc_opts o = {.db_url = d->t.url, .data_dir = d->dir, .log = log, .env = env};
    test_proc_start(p, "serve", &o);
    test_proc_ready(p);
    s->port = p->port;
}

/* A figure of /metrics, read from the text exposition. */
static double metric(test_api *s, const char *name)
{
    test_resp r = test_req(s, "GET", "/metrics", NULL, NULL, NULL);
    test_expect(&r, 200, NULL);
    char key[200];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *p = strstr(r.body, key);
    if (p == NULL)
        fail_msg("/metrics has no %s", name);
    double v = atof(p + strlen(key));
    test_resp_free(&r);
    return v;
}

/* Waits until the process's cache listener is up (PostgreSQL). */
static void wait_listener(test_api *s, double up)
{
    for (int i = 0; i < 200; i++) {
        if (metric(s, "pstudio_auth_cache_listener_up") == up)
            return;
        test_nap_ms(50);
    }
    fail_msg("the auth cache's listener did not become %s within 10 s", up ? "up" : "down");
}

static int duo_setup(void **state)
{
    duo *d = test_calloc(1, sizeof(*d));
    testdb_create(&d->t);
    test_tmpdir(d->dir, sizeof(d->dir));
    d->pg = strcmp(test_engine(), "postgres") == 0;
    d->a.t = d->t;
    d->b.t = d->t;
    *state = d;
    duo_spawn(d, &d->proc_a, &d->a, "a");
    duo_spawn(d, &d->proc_b, &d->b, "b");
    assert_int_equal((int)metric(&d->b, "pstudio_auth_cache_enabled"), d->pg ? 1 : 0);
    if (d->pg) {
        wait_listener(&d->a, 1);
        wait_listener(&d->b, 1);
    }
    return 0;
}

/* SIGTERM; the process must end cleanly. */
static void duo_stop(test_proc *p)
{
    if (p->pid > 0)
        assert_int_equal(test_proc_stop(p, SIGTERM, 30), 0);
}

static int duo_teardown(void **state)
{
    duo *d = *state;
    if (d->pg) {
        char sql[700];
        snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", d->t.name);
        testdb_admin_exec(sql);
    }
    duo_stop(&d->proc_a);
    duo_stop(&d->proc_b);
    testdb_destroy(&d->t);
    test_free(d);
    return 0;
}

/* What a request through a process shows of a credential: 0 refused (401),
 * else what `probe` reads of a 200 answer to GET /api/v1/me. */
typedef bool (*probe_fn)(const test_resp *r, const char *want);

static bool still_valid(const test_resp *r, const char *want)
{
    (void)want;
    return r->status == 200;
}

static bool plan_is_not(const test_resp *r, const char *want)
{
    const char *code = json_string_value(json_object_get(json_object_get(r->json, "plan"), "code"));
    return r->status == 200 && (code == NULL || strcmp(code, want) != 0);
}

static bool role_is_not(const test_resp *r, const char *want)
{
    const char *role = json_string_value(json_object_get(r->json, "role"));
    return r->status == 200 && (role == NULL || strcmp(role, want) != 0);
}

static bool max_channels_is_not(const test_resp *r, const char *want)
{
    json_t *v = json_object_get(json_object_get(r->json, "plan"), "max_channels");
    return r->status == 200 && json_integer_value(v) != atoi(want);
}

/*
 * Authenticates token through s until the process answers it from its
 * cache (its hit count grows): the credential is cached there. SQLite has
 * no cache: one request suffices.
 */
static void warm(duo *d, test_api *s, const char *token)
{
    for (int i = 0; i < 200; i++) {
        double before = d->pg ? metric(s, "pstudio_auth_cache_hits_total") : 0;
        test_resp r = test_req(s, "GET", "/api/v1/me", token, NULL, NULL);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
        if (!d->pg || metric(s, "pstudio_auth_cache_hits_total") > before)
            return;
        test_nap_ms(20);
    }
    fail_msg("the credential was never answered from the cache");
}

/*
 * Polls GET /api/v1/me through s with token every ~50 ms after a revocation
 * that returned at t0 (monotonic usec), while `old` says the answer shows
 * the state before it. The rule: on SQLite the first answer is already
 * new; on PostgreSQL no request sent 1 s or more after t0 shows the old
 * state (the server's own bound is AUTH_CACHE_TRUST_USEC from the commit,
 * which came before t0), and the old state never comes back once gone.
 * Returns the delay until the first new answer, in ms, for the log.
 */
static int expect_revoked(duo *d, test_api *s, const char *token, probe_fn old, const char *want,
                          const char *what)
{
    int64_t t0 = time_mono_usec(), first_new = -1;
    for (;;) {
        int64_t sent = time_mono_usec() - t0;
        test_resp r = test_req(s, "GET", "/api/v1/me", token, NULL, NULL);
        bool is_old = old(&r, want);
        if (r.status != 200 && r.status != 401)
            test_expect(&r, 200, NULL);
        test_resp_free(&r);
        if (!d->pg && is_old)
            fail_msg("%s: SQLite answered the state before the revocation", what);
        if (is_old && first_new >= 0)
            fail_msg("%s: the old state came back %lld ms after the revocation", what,
                     (long long)(sent / 1000));
        if (is_old && sent >= 1000000)
            fail_msg("%s: still answered the old state %lld ms after the revocation", what,
                     (long long)(sent / 1000));
        if (!is_old && first_new < 0)
            first_new = sent;
        /* On PostgreSQL keep looking past 1 s: the old state must not return. */
        if (!d->pg || (first_new >= 0 && sent >= 1050000))
            break;
        test_nap_ms(50);
    }
    print_message("%s: refused or changed through the other process after %lld ms\n", what,
                  (long long)(first_new / 1000));
    return (int)(first_new / 1000);
}

static void signup(test_api *s, const char *email, char *token)
{
    test_signup(s, email, token);
}

static void login(test_api *s, const char *email, char *token)
{
    char body[300];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"correct horse battery\"}",
             email);
    test_resp r = test_req(s, "POST", "/api/v1/auth/login", NULL, body, NULL);
    test_expect(&r, 200, NULL);
    snprintf(token, 128, "%s", json_string_value(json_object_get(r.json, "token")));
    test_resp_free(&r);
}

static void test_a_revocation_through_one_process_reaches_the_other_within_a_second(void **state)
{
    duo *d = *state;
    char t1[128], t2[128], t3[128], key[128], admin[128], path[200];

    /* Logout: the session ends in both processes. */
    signup(&d->a, "ana@example.com", t1);
    login(&d->a, "ana@example.com", t2);
    warm(d, &d->a, t1);
    warm(d, &d->b, t1);
    warm(d, &d->b, t2);
    /* A session answered from the cache still needs its CSRF token in a cookie request. */
    char cookie[200];
    snprintf(cookie, sizeof(cookie), "Cookie: %s=%s", "pstudio_session", t2);
    const char *headers[] = {cookie, NULL};
    test_resp r = test_req(&d->b, "POST", "/api/v1/api-keys", NULL, "{\"name\":\"x\"}", headers);
    test_expect(&r, 403, NULL);
    test_resp_free(&r);
    r = test_req(&d->a, "POST", "/api/v1/auth/logout", t1, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, t1, still_valid, NULL, "logout");

    /* Logout everywhere: a session the caller did not use ends too. */
    login(&d->a, "ana@example.com", t3);
    warm(d, &d->b, t2);
    warm(d, &d->b, t3);
    r = test_req(&d->a, "POST", "/api/v1/auth/logout-all", t3, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, t2, still_valid, NULL, "logout-all");

    /* An API key's revocation. */
    login(&d->a, "ana@example.com", t1);
    r = test_req(&d->a, "POST", "/api/v1/api-keys", t1, "{\"name\":\"ci\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(r.json, "key")));
    snprintf(path, sizeof(path), "/api/v1/api-keys/%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    warm(d, &d->a, key);
    warm(d, &d->b, key);
    r = test_req(&d->a, "DELETE", path, t1, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, key, still_valid, NULL, "API key revoke");

    /* An admin moves the user to another plan, then changes the role. */
    signup(&d->a, "root@example.com", admin);
    test_make_admin(&d->a, "root@example.com");
    r = test_req(&d->a, "GET", "/api/v1/me", t1, NULL, NULL);
    test_expect(&r, 200, NULL);
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s",
             json_string_value(json_object_get(r.json, "id")));
    test_resp_free(&r);
    warm(d, &d->b, t1);
    r = test_req(&d->a, "PATCH", path, admin, "{\"plan\":\"pro\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, t1, plan_is_not, "pro", "plan change of a user");

    warm(d, &d->b, t1);
    r = test_req(&d->a, "PATCH", path, admin, "{\"role\":\"admin\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, t1, role_is_not, "admin", "role change");

    /* An admin changes the plan itself: every user of it sees the new limits. */
    warm(d, &d->b, t1);
    r = test_req(&d->a, "PATCH", "/api/v1/admin/plans/01936f4e-0000-7000-8000-000000000003", admin,
                 "{\"max_channels\":77}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    expect_revoked(d, &d->b, t1, max_channels_is_not, "77", "plan limits change");

    /* An operator deletes a user in SQL: no process's API was involved. */
    signup(&d->a, "gone@example.com", t2);
    warm(d, &d->b, t2);
    db_error de;
    if (testdb_execf(&d->t, &de, "DELETE FROM users WHERE email = $1", "s", "gone@example.com"))
        fail_msg("delete the user: %s", de.message);
    expect_revoked(d, &d->b, t2, still_valid, NULL, "user deleted in SQL");
}

static void test_with_the_listener_down_no_cached_answer_is_trusted(void **state)
{
    duo *d = *state;
    char t1[128];
    signup(&d->a, "ana@example.com", t1);
    warm(d, &d->b, t1);
    if (d->pg) {
        /* Kill both processes' listeners and keep them from coming back. */
        char sql[900];
        snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", d->t.name);
        testdb_admin_exec(sql);
        snprintf(sql, sizeof(sql),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
                 "AND application_name = '%s'",
                 d->t.name, AUTH_CACHE_APP_NAME);
        testdb_admin_exec(sql);
        wait_listener(&d->b, 0);
    }
    /* Behind every process's back: no notification is heard. */
    testdb_exec(&d->t, "DELETE FROM sessions");
    test_resp r = test_req(&d->b, "GET", "/api/v1/me", t1, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
    if (d->pg) {
        assert_true(metric(&d->b, "pstudio_auth_cache_listener_failures_total") >= 1);
        char sql[700];
        snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", d->t.name);
        testdb_admin_exec(sql);
        wait_listener(&d->b, 1); /* and it comes back by itself */
        login(&d->a, "ana@example.com", t1);
        warm(d, &d->b, t1);
    }
}

#define T(f)  cmocka_unit_test(f)
#define TD(f) cmocka_unit_test_setup_teardown(f, duo_setup, duo_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_nothing_is_kept_or_answered_before_the_listener_proves_health),
        T(test_a_put_is_refused_when_an_invalidation_was_applied_after_its_read),
        T(test_a_notification_drops_its_user_or_its_plan_or_everything),
        T(test_a_lost_link_empties_the_cache_and_refuses_reads_begun_before_it),
        T(test_a_full_cache_evicts_in_turn_and_entries_expire_after_the_ttl),
        TD(test_a_revocation_through_one_process_reaches_the_other_within_a_second),
        TD(test_with_the_listener_down_no_cached_answer_is_trusted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
