/*
 * The audit trail (issue 17): each kind of event is written by the change
 * it describes, naming the actor, the object and the client's address, and
 * never a secret; a user pages through their own trail and an admin through
 * everyone's; the maintenance job prunes past the retention; the table
 * refuses updates. Both engines.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "http/routes.h"
#include "services/maintenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "correct horse battery"
#define CLIENT   "203.0.113.7"

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A second server on a's database and services that trusts the loopback
 * proxy, so X-Forwarded-For names the client; its port goes into b. */
static void start_behind_proxy(test_api *a, test_api *b)
{
    *b = *a;
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    http_server_config cfg = {
        .bind_addr = "127.0.0.1", .db = a->t.db, .app = &a->svc, .trusted_proxies = "127.0.0.1"};
    error e;
    b->srv = http_server_start(&cfg, routes, n, &e);
    free(routes);
    if (b->srv == NULL)
        fail_msg("http_server_start: %s", e.message);
    b->port = http_server_port(b->srv);
}

static const char *const FORWARDED[] = {"X-Forwarded-For: " CLIENT, NULL};

/* POST a body through the proxy; the response is the caller's to free. */
static test_resp via_proxy(test_api *b, const char *method, const char *path, const char *token,
                           const char *body)
{
    return test_req(b, method, path, token, body, FORWARDED);
}

/* The caller's user id, from /me. */
static void me(test_api *a, const char *token, char *id)
{
    test_resp r = test_req(a, "GET", "/api/v1/me", token, NULL, NULL);
    test_expect(&r, 200, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", str(r.json, "id"));
    test_resp_free(&r);
}

/* GET path (a trail), expecting 200; the caller frees. */
static test_resp trail(test_api *a, const char *token, const char *path)
{
    test_resp r = test_req(a, "GET", path, token, NULL, NULL);
    test_expect(&r, 200, NULL);
    return r;
}

/* The newest event of this action in a page, or NULL. */
static json_t *find(const test_resp *r, const char *action)
{
    json_t *items = json_object_get(r->json, "items"), *ev;
    size_t i;
    json_array_foreach(items, i, ev)
    {
        if (strcmp(str(ev, "action"), action) == 0)
            return ev;
    }
    return NULL;
}

/* Asserts ev's actor, subject, object and address (NULL: JSON null; "*":
 * any text). */
static void expect_event(const json_t *ev, const char *action, const char *kind, const char *actor,
                         const char *subject, const char *object_type, const char *object_id,
                         const char *ip)
{
    if (ev == NULL)
        fail_msg("no %s event", action);
    const struct {
        const char *key, *want;
    } f[] = {
        {"action", action},
        {"actor_kind", kind},
        {"actor_user_id", actor},
        {"subject_user_id", subject},
        {"object_type", object_type},
        {"object_id", object_id},
        {"client_ip", ip},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const json_t *v = json_object_get(ev, f[i].key);
        if (f[i].want != NULL && strcmp(f[i].want, "*") == 0) {
            if (!json_is_string(v))
                fail_msg("%s: %s should be set", action, f[i].key);
        } else if (f[i].want == NULL) {
            if (!json_is_null(v))
                fail_msg("%s: %s should be null", action, f[i].key);
        } else if (!json_is_string(v) || strcmp(json_string_value(v), f[i].want) != 0) {
            fail_msg("%s: %s is %s, not %s", action, f[i].key,
                     json_is_string(v) ? json_string_value(v) : "(not a string)", f[i].want);
        }
    }
    assert_true(json_is_object(json_object_get(ev, "detail")));
    int64_t at = 0;
    assert_true(time_parse(str(ev, "occurred_at"), &at));
    assert_true(at > time_now_usec() - 3600LL * 1000000 && at < time_now_usec() + 60LL * 1000000);
}

/* Every column of every audit row as text, one line per row. */
static char *table_dump(testdb *t)
{
    static db_sql q = DB_SQL("SELECT * FROM audit_events");
    db_conn *c = db_acquire(t->db);
    db_error de;
    db_stmt *s = db_prepare(c, &q, &de);
    if (s == NULL)
        fail_msg("dump: %s", de.message);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    int rc;
    while ((rc = db_step(s, &de)) == DB_ROW) {
        for (int k = 0; k < db_col_count(s); k++) {
            const char *v = db_col_is_null(s, k) ? "" : db_col_text(s, k);
            size_t need = len + strlen(v) + 2;
            if (need > cap) {
                cap = need * 2;
                out = realloc(out, cap);
            }
            len += (size_t)snprintf(out + len, cap - len, "%s%c", v,
                                    k + 1 < db_col_count(s) ? '|' : '\n');
        }
    }
    db_reset(s);
    db_release(c);
    if (rc == DB_ERR)
        fail_msg("dump: %s", de.message);
    return out;
}

static void expect_absent(const char *dump, const char *secret)
{
    if (secret[0] != '\0' && strstr(dump, secret) != NULL)
        fail_msg("the audit table holds a secret: %s", secret);
}

static void
test_sign_ins_and_credentials_are_recorded_with_actor_object_address_and_no_secret(void **state)
{
    test_api *a = *state, b;
    start_behind_proxy(a, &b);

    test_resp r = via_proxy(&b, "POST", "/api/v1/auth/signup", NULL,
                            "{\"email\":\"ana@example.com\",\"password\":\"" PASSWORD "\"}");
    test_expect(&r, 201, NULL);
    char signup_token[128], signup_csrf[128], uid[UUID_STR_LEN + 1];
    snprintf(signup_token, sizeof(signup_token), "%s", str(r.json, "token"));
    snprintf(signup_csrf, sizeof(signup_csrf), "%s", str(r.json, "csrf_token"));
    test_resp_free(&r);
    me(a, signup_token, uid);

    r = via_proxy(&b, "POST", "/api/v1/auth/login", NULL,
                  "{\"email\":\"ana@example.com\",\"password\":\"" PASSWORD "\"}");
    test_expect(&r, 200, NULL);
    char tok[128], csrf[128];
    snprintf(tok, sizeof(tok), "%s", str(r.json, "token"));
    snprintf(csrf, sizeof(csrf), "%s", str(r.json, "csrf_token"));
    test_resp_free(&r);
    r = via_proxy(&b, "POST", "/api/v1/auth/login", NULL,
                  "{\"email\":\"ana@example.com\",\"password\":\"wrong-password-xyzzy\"}");
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
    r = via_proxy(&b, "POST", "/api/v1/auth/login", NULL,
                  "{\"email\":\"ghost@example.com\",\"password\":\"ghost-secret-pw\"}");
    test_expect(&r, 401, NULL);
    test_resp_free(&r);

    r = via_proxy(&b, "POST", "/api/v1/api-keys", tok, "{\"name\":\"deploy script\"}");
    test_expect(&r, 201, NULL);
    char key[128], key_id[UUID_STR_LEN + 1];
    snprintf(key, sizeof(key), "%s", str(r.json, "key"));
    snprintf(key_id, sizeof(key_id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    /* The key retires itself: the actor is the key. */
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/api-keys/%s", key_id);
    r = via_proxy(&b, "DELETE", path, key, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = via_proxy(&b, "POST", "/api/v1/auth/logout", tok, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);

    r = trail(a, signup_token, "/api/v1/audit");
    json_t *items = json_object_get(r.json, "items");
    const char *order[] = {"auth.logout",       "apikey.revoked", "apikey.created",
                           "auth.login_failed", "auth.login",     "auth.signup"};
    assert_int_equal(json_array_size(items), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(str(json_array_get(items, i), "action"), order[i]);
    expect_event(find(&r, "auth.signup"), "auth.signup", "user", uid, uid, "session", "*", CLIENT);
    expect_event(find(&r, "auth.login"), "auth.login", "user", uid, uid, "session", "*", CLIENT);
    json_t *failed = find(&r, "auth.login_failed");
    expect_event(failed, "auth.login_failed", "anonymous", NULL, uid, "user", uid, CLIENT);
    assert_string_equal(str(json_object_get(failed, "detail"), "reason"), "wrong_password");
    json_t *created = find(&r, "apikey.created");
    expect_event(created, "apikey.created", "user", uid, uid, "api_key", key_id, CLIENT);
    assert_string_equal(str(json_object_get(created, "detail"), "name"), "deploy script");
    json_t *revoked = find(&r, "apikey.revoked");
    expect_event(revoked, "apikey.revoked", "api_key", uid, uid, "api_key", key_id, CLIENT);
    assert_string_equal(str(revoked, "actor_api_key_id"), key_id);
    assert_true(json_is_true(json_object_get(json_object_get(revoked, "detail"), "self")));
    expect_event(find(&r, "auth.logout"), "auth.logout", "user", uid, uid, "session", "*", CLIENT);
    test_resp_free(&r);

    /* The unknown email is on nobody's trail, without the address typed. */
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM audit_events WHERE action = "
                                          "'auth.login_failed' AND subject_user_id IS NULL"),
                     1);
    char *dump = table_dump(&a->t);
    assert_non_null(strstr(dump, uid)); /* the dump is of the events above */
    const char *secrets[] = {PASSWORD,
                             "wrong-password-xyzzy",
                             "ghost-secret-pw",
                             "ghost@example",
                             signup_token,
                             signup_csrf,
                             tok,
                             csrf,
                             key};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        expect_absent(dump, secrets[i]);
    free(dump);
    http_server_stop(b.srv);
}

static void test_a_refused_log_in_past_the_limit_is_not_recorded(void **state)
{
    test_api *a = *state;
    a->svc.login_max_attempts = 2;
    char tok[128];
    test_signup(a, "ana@example.com", tok);
    int refused = 0;
    for (int i = 0; i < 5; i++) {
        test_resp r =
            test_req(a, "POST", "/api/v1/auth/login", NULL,
                     "{\"email\":\"ana@example.com\",\"password\":\"nope nope nope\"}", NULL);
        refused += r.status == 429;
        test_resp_free(&r);
    }
    assert_int_equal(refused, 3);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM audit_events WHERE action = "
                                          "'auth.login_failed'"),
                     2);
}

static void test_an_admins_changes_are_on_the_users_trail_as_the_administrators(void **state)
{
    test_api *a = *state;
    char root[128], ana[128], root_id[UUID_STR_LEN + 1], ana_id[UUID_STR_LEN + 1];
    test_signup(a, "root@example.com", root);
    test_make_admin(a, "root@example.com");
    test_signup(a, "ana@example.com", ana);
    me(a, root, root_id);
    me(a, ana, ana_id);
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s", ana_id);
    test_resp r =
        test_req(a, "PATCH", path, root, "{\"plan\":\"creator\",\"name\":\"Ana B\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    /* A change that fails records nothing. */
    r = test_req(a, "PATCH", path, root, "{\"plan\":\"platinum\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);

    r = trail(a, ana, "/api/v1/audit?action=plan.");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    json_t *ev = find(&r, "plan.changed");
    expect_event(ev, "plan.changed", "admin", root_id, ana_id, "user", ana_id, "127.0.0.1");
    assert_string_equal(str(json_object_get(ev, "detail"), "from"), "free");
    assert_string_equal(str(json_object_get(ev, "detail"), "to"), "creator");
    test_resp_free(&r);
    r = trail(a, ana, "/api/v1/audit?action=admin.");
    ev = find(&r, "admin.user_updated");
    expect_event(ev, "admin.user_updated", "admin", root_id, ana_id, "user", ana_id, "127.0.0.1");
    json_t *changes = json_object_get(json_object_get(ev, "detail"), "changes");
    assert_int_equal(json_array_size(changes), 2);
    assert_string_equal(str(json_array_get(changes, 0), "field"), "plan");
    assert_string_equal(str(json_array_get(changes, 1), "field"), "name");
    /* The name itself is not copied into the trail. */
    assert_null(json_object_get(json_array_get(changes, 1), "to"));
    test_resp_free(&r);

    r = test_req(a, "POST", "/api/v1/admin/plans", root,
                 "{\"code\":\"studio\",\"name\":\"Studio\",\"rank\":30}", NULL);
    test_expect(&r, 201, NULL);
    char plan_id[UUID_STR_LEN + 1];
    snprintf(plan_id, sizeof(plan_id), "%s", str(r.json, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", plan_id);
    r = test_req(a, "PATCH", path, root, "{\"max_channels\":40}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = trail(a, root, "/api/v1/admin/audit?action=admin.plan_");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    expect_event(find(&r, "admin.plan_created"), "admin.plan_created", "admin", root_id, NULL,
                 "plan", plan_id, "127.0.0.1");
    ev = find(&r, "admin.plan_updated");
    expect_event(ev, "admin.plan_updated", "admin", root_id, NULL, "plan", plan_id, "127.0.0.1");
    changes = json_object_get(json_object_get(ev, "detail"), "changes");
    assert_int_equal(json_array_size(changes), 1);
    assert_string_equal(str(json_array_get(changes, 0), "field"), "max_channels");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(changes, 0), "to")), 40);
    test_resp_free(&r);
    /* The plan is nobody's: ana's trail does not show it. */
    r = trail(a, ana, "/api/v1/audit?action=admin.plan");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
}

/* POST or PATCH a JSON body, expecting status; returns the member "id". */
static void call(test_api *a, const char *method, const char *path, const char *token,
                 const char *body, long status, char *id)
{
    test_resp r = test_req(a, method, path, token, body, NULL);
    test_expect(&r, status, NULL);
    if (id != NULL)
        snprintf(id, UUID_STR_LEN + 1, "%s", str(r.json, "id"));
    test_resp_free(&r);
}

static void test_persona_restores_deletions_and_channel_switches_are_recorded(void **state)
{
    test_api *a = *state;
    char tok[128], uid[UUID_STR_LEN + 1], persona[UUID_STR_LEN + 1], chan[UUID_STR_LEN + 1];
    test_signup(a, "ana@example.com", tok);
    me(a, tok, uid);
    call(a, "POST", "/api/v1/personas", tok,
         "{\"name\":\"Narrator\",\"system_instruction\":\"Speak plainly.\"}", 201, persona);
    char path[200], body[300];
    snprintf(path, sizeof(path), "/api/v1/personas/%s", persona);
    call(a, "PATCH", path, tok, "{\"system_instruction\":\"Speak warmly.\"}", 200, NULL);
    snprintf(path, sizeof(path), "/api/v1/personas/%s/restore", persona);
    call(a, "POST", path, tok, "{\"version\":1}", 200, NULL);

    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UC_audit\",\"name\":\"Audit\",\"persona_id\":\"%s\"}",
             persona);
    call(a, "POST", "/api/v1/channels", tok, body, 201, chan);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", chan);
    call(a, "PATCH", path, tok, "{\"persona_id\":null,\"assignment_reason\":\"trying none\"}", 200,
         NULL);
    /* Named by the assignment log, the persona is archived, not removed. */
    snprintf(path, sizeof(path), "/api/v1/personas/%s", persona);
    call(a, "DELETE", path, tok, NULL, 204, NULL);

    test_resp r = trail(a, tok, "/api/v1/audit?action=persona.");
    json_t *ev = find(&r, "persona.restored");
    expect_event(ev, "persona.restored", "user", uid, uid, "persona", persona, "127.0.0.1");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ev, "detail"), "from_version")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ev, "detail"), "new_version")), 3);
    ev = find(&r, "persona.deleted");
    expect_event(ev, "persona.deleted", "user", uid, uid, "persona", persona, "127.0.0.1");
    assert_true(json_is_true(json_object_get(json_object_get(ev, "detail"), "archived")));
    test_resp_free(&r);

    r = trail(a, tok, "/api/v1/audit?action=channel.persona_switched");
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    ev = json_array_get(items, 0); /* the newest: cleared */
    expect_event(ev, "channel.persona_switched", "user", uid, uid, "channel", chan, "127.0.0.1");
    json_t *d = json_object_get(ev, "detail");
    assert_string_equal(str(d, "from"), persona);
    assert_true(json_is_null(json_object_get(d, "to")));
    assert_string_equal(str(d, "source"), "manual");
    assert_string_equal(str(d, "reason"), "trying none");
    d = json_object_get(json_array_get(items, 1), "detail");
    assert_true(json_is_null(json_object_get(d, "from")));
    assert_string_equal(str(d, "to"), persona);
    assert_int_equal(json_integer_value(json_object_get(d, "version")), 3);
    test_resp_free(&r);
}

static void test_a_user_pages_through_their_own_trail_by_action_and_time(void **state)
{
    test_api *a = *state;
    char tok[128];
    test_signup(a, "ana@example.com", tok);
    int64_t start = time_now_usec();
    for (int i = 0; i < 5; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"name\":\"key %d\"}", i);
        call(a, "POST", "/api/v1/api-keys", tok, body, 201, NULL);
    }
    /* Six events: the sign-up and five keys, two to a page. */
    char path[400], cursor[UUID_STR_LEN + 1] = "", seen[6][UUID_STR_LEN + 1];
    int n = 0, pages = 0;
    for (;;) {
        snprintf(path, sizeof(path), "/api/v1/audit?limit=2%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        test_resp r = trail(a, tok, path);
        json_t *items = json_object_get(r.json, "items"), *ev;
        size_t i;
        json_array_foreach(items, i, ev)
        {
            assert_true(n < 6);
            snprintf(seen[n], sizeof(seen[n]), "%s", str(ev, "id"));
            if (n > 0)
                assert_true(strcmp(seen[n - 1], seen[n]) > 0); /* newest first, no repeat */
            n++;
        }
        pages++;
        const char *next = str(r.json, "next_cursor");
        if (next == NULL) {
            test_resp_free(&r);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", next);
        test_resp_free(&r);
    }
    assert_int_equal(n, 6);
    assert_int_equal(pages, 3);

    test_resp r = trail(a, tok, "/api/v1/audit?action=apikey.");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 5);
    test_resp_free(&r);
    r = trail(a, tok, "/api/v1/audit?action=auth.signup");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    test_resp_free(&r);
    /* The time range is [since, until). */
    char since[TIME_STR_LEN + 1], until[TIME_STR_LEN + 1];
    time_format(start - 3600LL * 1000000, since);
    time_format(time_now_usec() + 3600LL * 1000000, until);
    snprintf(path, sizeof(path), "/api/v1/audit?since=%s&until=%s", since, until);
    r = trail(a, tok, path);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 6);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/audit?since=%s", until);
    r = trail(a, tok, path);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/audit?until=%s", since);
    r = trail(a, tok, path);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);

    const char *bad[] = {"/api/v1/audit?action=AUTH",
                         "/api/v1/audit?action=",
                         "/api/v1/audit?action=auth%25",
                         "/api/v1/audit?since=yesterday",
                         "/api/v1/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                         "/api/v1/audit?limit=0",
                         "/api/v1/audit?cursor=nope",
                         "/api/v1/audit?user_id=01936f4e-0000-7000-8000-000000000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = test_req(a, "GET", bad[i], tok, NULL, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
    }
    r = test_req(a, "GET", "/api/v1/audit", NULL, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
}

/* Inserts an event directly, at a chosen time (the app never does). */
static void old_event(testdb *t, const char *subject, int64_t at)
{
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    db_error de;
    if (testdb_execf(t, &de,
                     "INSERT INTO audit_events (id, occurred_at, actor_kind, actor_user_id, "
                     "subject_user_id, action) VALUES ($1, $2, 'user', $3, $3, 'auth.login')",
                     "sts", id, at, subject) != 0)
        fail_msg("insert event: %s", de.message);
}

static void test_the_maintenance_job_prunes_events_past_retention_only(void **state)
{
    (void)state;
    testdb t;
    testdb_create(&t);
    char uid[UUID_STR_LEN + 1];
    fixture_user(&t, "ana@example.com", uid);
    int64_t now = time_now_usec(), day = 24LL * 3600 * 1000000;
    old_event(&t, uid, now - 40 * day);
    old_event(&t, uid, now - 31 * day);
    old_event(&t, uid, now - 29 * day);
    old_event(&t, uid, now - 1 * day);
    services s;
    services_defaults(&s);
    assert_int_equal(s.audit_retention_days, 365);
    s.db = t.db;
    s.audit_retention_days = 30;
    db_conn *c = db_acquire(t.db);
    maintenance_report rep;
    error e;
    assert_int_equal(maintenance_prune(&s, c, now, &rep, &e), 0);
    assert_int_equal(rep.audit_events, 2);
    assert_int_equal(testdb_scalar(&t, "SELECT COUNT(*) FROM audit_events"), 2);
    /* A second pass finds nothing more. */
    assert_int_equal(maintenance_prune(&s, c, now, &rep, &e), 0);
    assert_int_equal(rep.audit_events, 0);
    db_release(c);
    testdb_destroy(&t);
}

static void test_the_trail_refuses_updates_on_both_engines(void **state)
{
    (void)state;
    testdb t;
    testdb_create(&t);
    char uid[UUID_STR_LEN + 1];
    fixture_user(&t, "ana@example.com", uid);
    old_event(&t, uid, time_now_usec());
    db_error de;
    assert_int_equal(testdb_execf(&t, &de, "UPDATE audit_events SET action = 'auth.logout'", ""),
                     DB_ERR);
    assert_non_null(strstr(de.message, "append-only"));
    assert_int_equal(testdb_execf(&t, &de, "UPDATE audit_events SET client_ip = '10.0.0.1'", ""),
                     DB_ERR);
    assert_int_equal(testdb_scalar(&t, "SELECT COUNT(*) FROM audit_events WHERE "
                                       "action = 'auth.login' AND client_ip IS NULL"),
                     1);
    /* A user's trail goes with the user. */
    testdb_exec(&t, "DELETE FROM users");
    assert_int_equal(testdb_scalar(&t, "SELECT COUNT(*) FROM audit_events"), 0);
    testdb_destroy(&t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_api_setup, test_api_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sign_ins_and_credentials_are_recorded_with_actor_object_address_and_no_secret),
        T(test_a_refused_log_in_past_the_limit_is_not_recorded),
        T(test_an_admins_changes_are_on_the_users_trail_as_the_administrators),
        T(test_persona_restores_deletions_and_channel_switches_are_recorded),
        T(test_a_user_pages_through_their_own_trail_by_action_and_time),
        cmocka_unit_test(test_the_maintenance_job_prunes_events_past_retention_only),
        cmocka_unit_test(test_the_trail_refuses_updates_on_both_engines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
