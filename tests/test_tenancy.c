/*
 * The tenancy matrix: user B tries every route that names an object, with
 * every method, against user A's objects, and gets 404 every time; then
 * nothing of A's has changed. The routes come from the live route table, so
 * a new endpoint that names an object fails here until this test knows how
 * to aim it at A's objects.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "http/routes.h"
#include "providers/media_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct world {
    test_api api;
    char a[128], b[128]; /* tokens */
    char persona[40], channel[40], project[40], scene[40], key[40], account[40];
    char dir[256]; /* A's media */
    char suggestion[40], assignment[40];
} world;

#define MEDIA_NAME "scene-a-a1.srt"

static const char *id_of(test_resp *r)
{
    const char *id = json_string_value(json_object_get(r->json, "id"));
    if (id == NULL)
        fail_msg("no id in: %s", r->body);
    return id;
}

static void create(world *w, const char *path, const char *body, char *out)
{
    test_resp r = test_req(&w->api, "POST", path, w->a, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(out, 40, "%s", id_of(&r));
    test_resp_free(&r);
}

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    test_api_start(&w->api);
    test_signup(&w->api, "a@example.com", w->a);
    test_signup(&w->api, "b@example.com", w->b);
    create(w, "/api/v1/personas",
           "{\"name\":\"A's voice\",\"system_instruction\":\"Speak as "
           "A.\",\"visibility\":\"PRIVATE\"}",
           w->persona);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UCa\",\"name\":\"A channel\",\"persona_id\":\"%s\"}",
             w->persona);
    create(w, "/api/v1/channels", body, w->channel);
    snprintf(body, sizeof(body), "{\"topic\":\"A topic\",\"channel_id\":\"%s\",\"generate\":false}",
             w->channel);
    create(w, "/api/v1/projects", body, w->project);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", w->project);
    create(w, path, "{\"narration\":\"A's words\",\"visual_description\":\"A's picture\"}",
           w->scene);
    create(w, "/api/v1/api-keys", "{\"name\":\"A's key\"}", w->key);
    /* A media file of A's project, so that only ownership stands between
     * B and it. */
    test_tmpdir(w->dir, sizeof(w->dir));
    error e;
    w->api.svc.media = media_store_local(w->dir, &e);
    if (w->api.svc.media == NULL)
        fail_msg("media_store_local: %s", e.message);
    char a_id[40] = "";
    db_sql q = DB_SQL("SELECT id FROM users WHERE email = 'a@example.com'");
    db_conn *c = db_acquire(w->api.t.db);
    db_error qe;
    db_stmt *st = db_prepare(c, &q, &qe);
    if (st != NULL && db_step(st, &qe) == DB_ROW)
        snprintf(a_id, sizeof(a_id), "%s", db_col_text(st, 0));
    if (st != NULL)
        db_reset(st);
    db_release(c);
    if (media_store_put(w->api.svc.media, a_id, w->project, MEDIA_NAME, "A's words", 9, &e) != 0)
        fail_msg("media_store_put: %s", e.message);
    /* A Google account needs Google to connect; A's row is written directly. */
    uuid_v7(w->account);
    db_error de;
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO accounts (id, user_id, provider, provider_account_id, email, "
                     "created_at, updated_at) VALUES ($1, (SELECT id FROM users WHERE email = "
                     "'a@example.com'), 'google', 'g-a', 'a@example.com', $2, $2)",
                     "st", w->account, time_now_usec()) != 0)
        fail_msg("account: %s", de.message);
    /* A's channel's assignment (logged when it was created with a persona)
     * and a suggestion for it, written directly: the optimizer needs weeks
     * of analytics to make one. */
    c = db_acquire(w->api.t.db);
    db_sql q_assign = DB_SQL("SELECT id FROM channel_persona_assignments WHERE channel_id = $1");
    db_stmt *s = db_prepare(c, &q_assign, &de);
    if (s == NULL)
        fail_msg("%s", de.message);
    db_bind_text(s, 1, w->channel);
    if (db_step(s, &de) != DB_ROW)
        fail_msg("A's channel has no assignment");
    snprintf(w->assignment, sizeof(w->assignment), "%s", db_col_text(s, 0));
    db_reset(s);
    db_release(c);
    uuid_v7(w->suggestion);
    if (testdb_execf(&w->api.t, &de,
                     "INSERT INTO optimizer_suggestions (id, channel_id, user_id, persona_id, "
                     "current_persona_id, objective, p_beats_current, uplift, proposed_days, "
                     "current_days, evidence, state, created_at) VALUES ($1, $2, (SELECT id FROM "
                     "users WHERE email = 'a@example.com'), $3, $3, 'views_per_day', 0.95, 0.2, "
                     "14, 14, '{}', 'open', $4)",
                     "ssst", w->suggestion, w->channel, w->persona, time_now_usec()) != 0)
        fail_msg("suggestion: %s", de.message);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    media_store_free(w->api.svc.media);
    test_api_stop(&w->api);
    test_free(w);
    return 0;
}

/* Everything A owns, as text, so any change shows as a difference. */
static char *snapshot(world *w)
{
    static const char *const tables[] = {
        "personas",
        "persona_history",
        "channels",
        "channel_persona_assignments",
        "projects",
        "scenes",
        "api_keys",
        "channel_analytics",
        "analytics_backfills",
        "video_analytics",
        "optimizer_suggestions",
        NULL,
    };
    size_t cap = 1 << 20, len = 0;
    char *out = calloc(1, cap);
    db_conn *c = db_acquire(w->api.t.db);
    for (int t = 0; tables[t]; t++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY id", tables[t]);
        db_sql q = DB_SQL(sql);
        db_error de;
        db_stmt *s = db_prepare(c, &q, &de);
        if (s == NULL)
            fail_msg("%s", de.message);
        len += (size_t)snprintf(out + len, cap - len, "[%s]\n", tables[t]);
        while (db_step(s, &de) == DB_ROW) {
            for (int i = 0; i < db_col_count(s); i++) {
                const char *v = db_col_text(s, i);
                len += (size_t)snprintf(out + len, cap - len, "%s|", v ? v : "NULL");
            }
            len += (size_t)snprintf(out + len, cap - len, "\n");
        }
        db_reset(s);
    }
    db_release(c);
    return out;
}

/* Replaces each {param} of pattern by A's object; false when a param is unknown. */
static bool aim(world *w, const char *pattern, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = pattern; *p && k + 1 < n;) {
        if (*p != '{') {
            out[k++] = *p++;
            continue;
        }
        size_t len = strcspn(p + 1, "}");
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
        const char *v = NULL;
        if (strcmp(name, "scene_id") == 0)
            v = w->scene;
        else if (strcmp(name, "name") == 0)
            v = MEDIA_NAME; /* a file A's project has */
        else if (strcmp(name, "sid") == 0)
            v = w->suggestion;
        else if (strcmp(name, "aid") == 0)
            v = w->assignment;
        else if (strcmp(name, "version") == 0)
            v = "1";
        else if (strcmp(name, "id") == 0) {
            if (strncmp(pattern, "/api/v1/personas/", 17) == 0)
                v = w->persona;
            else if (strncmp(pattern, "/api/v1/channels/", 17) == 0)
                v = w->channel;
            else if (strncmp(pattern, "/api/v1/projects/", 17) == 0)
                v = w->project;
            else if (strncmp(pattern, "/api/v1/api-keys/", 17) == 0)
                v = w->key;
            else if (strncmp(pattern, "/api/v1/google/accounts/", 24) == 0)
                v = w->account;
        }
        if (v == NULL)
            return false;
        k += (size_t)snprintf(out + k, n - k, "%s", v);
        p += len + 2;
    }
    out[k] = '\0';
    return true;
}

/* A body that would be accepted if the object were B's, so that only the
 * ownership check stands between B and A's object. */
static const char *valid_body(world *w, const char *method, const char *pattern, char *out,
                              size_t n)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0)
        return NULL;
    if (strstr(pattern, "/restore"))
        return "{\"version\":1}";
    if (strstr(pattern, "/reorder")) {
        snprintf(out, n, "{\"scene_ids\":[\"%s\"]}", w->scene);
        return out;
    }
    if (strstr(pattern, "/analytics/import")) /* sent as text/csv */
        return "Date,Views\n2025-10-01,1\n";
    if (strstr(pattern, "/render"))
        return "{\"aspect\":\"9:16\",\"subtitles\":\"burn\",\"music\":\"ambient\"}";
    if (strstr(pattern, "/analytics/backfill"))
        return "{\"from\":\"2026-01-01\",\"to\":\"2026-01-31\"}";
    if (strstr(pattern, "/publish"))
        return "{\"privacy_status\":\"private\",\"made_for_kids\":false}";
    if (strstr(pattern, "/scenes"))
        return "{\"narration\":\"B was here\"}";
    if (strncmp(pattern, "/api/v1/personas/", 17) == 0)
        return "{\"name\":\"B was here\"}";
    if (strncmp(pattern, "/api/v1/channels/", 17) == 0)
        return "{\"name\":\"B was here\"}";
    if (strncmp(pattern, "/api/v1/projects/", 17) == 0)
        return "{\"topic\":\"B was here\"}";
    return "{}";
}

static void test_every_route_naming_an_object_is_404_for_another_user(void **state)
{
    world *w = *state;
    char *before = snapshot(w);
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    int tried = 0;
    for (size_t i = 0; i < n; i++) {
        const char *pat = routes[i].pattern;
        /* Outside /api/ are the dashboard's files: the same for everyone,
         * named by file, never by an object of a user (tests/test_web.c). */
        if (strchr(pat, '{') == NULL || strncmp(pat, "/api/v1/admin/", 14) == 0 ||
            strncmp(pat, "/api/", 5) != 0)
            continue;
        char path[512], body[256];
        if (!aim(w, pat, path, sizeof(path)))
            fail_msg("the tenancy matrix does not know how to aim %s %s at user A's objects; "
                     "teach aim() about it",
                     routes[i].method, pat);
        if (strstr(pat, "/diff"))
            strncat(path, "?from=1&to=1", sizeof(path) - strlen(path) - 1);
        const char *b = valid_body(w, routes[i].method, pat, body, sizeof(body));
        static const char *const csv[] = {"Content-Type: text/csv", NULL};
        test_resp r = test_req(&w->api, routes[i].method, path, w->b, b,
                               strstr(pat, "/analytics/import") ? csv : NULL);
        if (r.status != 404)
            fail_msg("%s %s by another user: expected 404, got %ld: %s", routes[i].method, path,
                     r.status, r.body);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
        tried++;
    }
    free(routes);
    assert_true(tried >= 20);
    char *after = snapshot(w);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_lists_never_show_another_users_objects(void **state)
{
    world *w = *state;
    const char *lists[] = {"/api/v1/personas",
                           "/api/v1/personas?mine=true",
                           "/api/v1/channels",
                           "/api/v1/analytics/leaderboard",
                           "/api/v1/projects",
                           "/api/v1/api-keys",
                           NULL};
    for (int i = 0; lists[i]; i++) {
        test_resp r = test_req(&w->api, "GET", lists[i], w->b, NULL, NULL);
        test_expect(&r, 200, NULL);
        const char *ids[] = {w->persona, w->channel, w->project, w->key, w->account, NULL};
        for (int k = 0; ids[k]; k++)
            if (strstr(r.body, ids[k]))
                fail_msg("GET %s by B shows A's object %s", lists[i], ids[k]);
        test_resp_free(&r);
    }
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels?persona_id=%s", w->persona);
    test_resp r = test_req(&w->api, "GET", path, w->b, NULL, NULL);
    assert_null(strstr(r.body, w->channel));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects?channel_id=%s", w->channel);
    r = test_req(&w->api, "GET", path, w->b, NULL, NULL);
    assert_null(strstr(r.body, w->project));
    test_resp_free(&r);
}

/* Issue 17: A's trail (sign-up, persona switch, key) is never in B's, B
 * cannot ask for it by user, and the admin view of it is 403 to B. */
static void test_another_users_audit_trail_is_never_visible(void **state)
{
    world *w = *state;
    test_resp r = test_req(&w->api, "GET", "/api/v1/me", w->a, NULL, NULL);
    test_expect(&r, 200, NULL);
    char a_id[40];
    snprintf(a_id, sizeof(a_id), "%s", id_of(&r));
    test_resp_free(&r);
    r = test_req(&w->api, "GET", "/api/v1/audit", w->a, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, w->channel)); /* A sees their own */
    assert_non_null(strstr(r.body, w->key));
    test_resp_free(&r);

    const char *paths[] = {"/api/v1/audit", "/api/v1/audit?action=apikey.",
                           "/api/v1/audit?action=channel.", "/api/v1/audit?limit=100", NULL};
    for (int i = 0; paths[i]; i++) {
        r = test_req(&w->api, "GET", paths[i], w->b, NULL, NULL);
        test_expect(&r, 200, NULL);
        const char *ids[] = {a_id, w->persona, w->channel, w->key, w->account, NULL};
        for (int k = 0; ids[k]; k++)
            if (strstr(r.body, ids[k]))
                fail_msg("GET %s by B shows A's %s", paths[i], ids[k]);
        test_resp_free(&r);
    }
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/audit?user_id=%s", a_id);
    r = test_req(&w->api, "GET", path, w->b, NULL, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/admin/audit?user_id=%s", a_id);
    const char *admin[] = {"/api/v1/admin/audit", path, NULL};
    for (int i = 0; admin[i]; i++) {
        r = test_req(&w->api, "GET", admin[i], w->b, NULL, NULL);
        test_expect(&r, 403, "forbidden");
        assert_null(strstr(r.body, a_id));
        test_resp_free(&r);
    }
}

static void test_another_users_objects_cannot_be_referenced_in_a_body(void **state)
{
    world *w = *state;
    char *before = snapshot(w);
    char body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"x\",\"channel_id\":\"%s\"}", w->channel);
    test_resp r = test_req(&w->api, "POST", "/api/v1/projects", w->b, body, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    snprintf(body, sizeof(body), "{\"topic\":\"x\",\"persona_id\":\"%s\"}", w->persona);
    r = test_req(&w->api, "POST", "/api/v1/projects", w->b, body, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UCb\",\"name\":\"B\",\"persona_id\":\"%s\"}", w->persona);
    r = test_req(&w->api, "POST", "/api/v1/channels", w->b, body, NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    char *after = snapshot(w);
    /* B created nothing that mentions A's objects, and A's rows are unchanged. */
    assert_string_equal(before, after);
    free(before);
    free(after);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_route_naming_an_object_is_404_for_another_user),
        T(test_lists_never_show_another_users_objects),
        T(test_another_users_objects_cannot_be_referenced_in_a_body),
        T(test_another_users_audit_trail_is_never_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
