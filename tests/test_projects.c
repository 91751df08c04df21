/*
 * Projects and scenes over the real API: persona resolution (explicit, the
 * channel's, the plan's default) and the version recorded, the monthly
 * project limit, list filters and pagination, scene editing with positions
 * that always stay 0..n-1, reorder, refused input that changes nothing, and
 * tenancy (another user's project or scene is a 404 for every method).
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const test_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static void user(test_api *a, const char *email, char *token, char *id)
{
    test_signup(a, email, token);
    test_resp r = test_req(a, "GET", "/api/v1/me", token, NULL, NULL);
    test_expect(&r, 200, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", str(&r, "id"));
    test_resp_free(&r);
}

static void sql(test_api *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sql(test_api *a, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    testdb_exec(&a->t, text);
}

static int64_t count(test_api *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int64_t count(test_api *a, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return testdb_scalar(&a->t, text);
}

static void system_persona(test_api *a, const char *plan_code, int version, char *id)
{
    db_error de;
    uuid_v7(id);
    if (testdb_execf(&a->t, &de,
                     "INSERT INTO personas (id, type, visibility, required_plan, name, "
                     "system_instruction, version, created_at, updated_at) VALUES ($1, 'SYSTEM', "
                     "'PUBLIC', $2, 'House Voice', 'You narrate calm explainers.', $3, $4, $4)",
                     "ssit", id, plan_code, (int64_t)version, time_now_usec()) != 0)
        fail_msg("system persona: %s", de.message);
    fixture_persona_history(&a->t, id);
}

static void expect_field(const test_resp *r, long status, const char *slug, const char *field)
{
    test_expect(r, status, slug);
    const char *f = str(r, "field");
    if (f == NULL || strcmp(f, field) != 0)
        fail_msg("expected field '%s': %s", field, r->body);
}

/* POSTs body to path and returns the new object's id; fails unless 201. */
static void create(test_api *a, const char *token, const char *path, const char *body, char *id)
{
    test_resp r = test_req(a, "POST", path, token, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", str(&r, "id"));
    test_resp_free(&r);
}

static void project(test_api *a, const char *token, const char *persona_id, char *id)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"generate\":false,\"topic\":\"Black holes\",\"persona_id\":\"%s\"}", persona_id);
    create(a, token, "/api/v1/projects", body, id);
}

static void add_scene(test_api *a, const char *token, const char *project_id, const char *narration,
                      int position, char *id)
{
    char path[128], body[512];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", project_id);
    if (position >= 0)
        snprintf(body, sizeof(body),
                 "{\"narration\":\"%s\",\"visual_description\":\"a picture\",\"position\":%d}",
                 narration, position);
    else
        snprintf(body, sizeof(body), "{\"narration\":\"%s\",\"visual_description\":\"a picture\"}",
                 narration);
    create(a, token, path, body, id);
}

/* Asserts the project's scenes read, in order, as the narrations listed, with
 * positions 0..n-1, both through the API and in the database. */
static void expect_scenes(test_api *a, const char *token, const char *project_id,
                          const char *const *narrations, size_t n)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", project_id);
    test_resp r = test_req(a, "GET", path, token, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), n);
    for (size_t i = 0; i < n; i++) {
        json_t *sc = json_array_get(items, i);
        assert_int_equal(json_integer_value(json_object_get(sc, "position")), i);
        assert_string_equal(json_string_value(json_object_get(sc, "narration")), narrations[i]);
    }
    test_resp_free(&r);
    assert_int_equal(count(a,
                           "SELECT count(*) FROM scenes WHERE project_id = '%s' AND position >= 0 "
                           "AND position < %zu",
                           project_id, n),
                     n);
    assert_int_equal(
        count(a, "SELECT count(DISTINCT position) FROM scenes WHERE project_id = '%s'", project_id),
        n);
}

static void test_project_create_read_update_delete_round_trip(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], ch[37];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    fixture_channel(&a->t, uid, "UCana", NULL, ch);

    char body[512];
    snprintf(body, sizeof(body),
             "{\"generate\":false,\"topic\":\"Why the sky is "
             "blue\",\"persona_id\":\"%s\",\"title\":\"Blue\"}",
             persona);
    test_resp r = test_req(a, "POST", "/api/v1/projects", tok, body, NULL);
    test_expect(&r, 201, NULL);
    char id[37], loc[256], want[256];
    snprintf(id, sizeof(id), "%s", str(&r, "id"));
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    snprintf(want, sizeof(want), "/api/v1/projects/%s", id);
    assert_string_equal(loc, want);
    assert_string_equal(str(&r, "topic"), "Why the sky is blue");
    assert_string_equal(str(&r, "status"), "draft");
    assert_string_equal(str(&r, "title"), "Blue");
    assert_string_equal(str(&r, "persona_id"), persona);
    assert_int_equal(json_integer_value(json_object_get(r.json, "persona_version")), 1);
    assert_true(json_is_null(json_object_get(r.json, "channel_id")));
    assert_true(json_is_null(json_object_get(r.json, "description")));
    assert_true(json_is_null(json_object_get(r.json, "error")));
    assert_int_equal(json_array_size(json_object_get(r.json, "tags")), 0);
    assert_null(json_object_get(r.json, "scenes"));
    test_resp_free(&r);

    r = test_req(a, "GET", loc, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "topic"), "Why the sky is blue");
    assert_int_equal(json_array_size(json_object_get(r.json, "scenes")), 0);
    test_resp_free(&r);

    snprintf(body, sizeof(body),
             "{\"topic\":\"Rayleigh scattering\",\"title\":null,\"description\":\"Light and "
             "air\",\"tags\":[\"science\",\"sky\"],\"channel_id\":\"%s\"}",
             ch);
    r = test_req(a, "PATCH", loc, tok, body, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "topic"), "Rayleigh scattering");
    assert_true(json_is_null(json_object_get(r.json, "title")));
    assert_string_equal(str(&r, "description"), "Light and air");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "tags"), 1)),
                        "sky");
    assert_string_equal(str(&r, "channel_id"), ch);
    assert_string_equal(str(&r, "persona_id"), persona);
    test_resp_free(&r);

    r = test_req(a, "PATCH", loc, tok, "{\"channel_id\":null,\"tags\":[]}", NULL);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "channel_id")));
    assert_int_equal(json_array_size(json_object_get(r.json, "tags")), 0);
    assert_string_equal(str(&r, "description"), "Light and air");
    test_resp_free(&r);

    char scene[37];
    add_scene(a, tok, id, "one", -1, scene);
    r = test_req(a, "GET", loc, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *sc = json_array_get(json_object_get(r.json, "scenes"), 0);
    assert_string_equal(json_string_value(json_object_get(sc, "id")), scene);
    assert_string_equal(json_string_value(json_object_get(sc, "image_status")), "PENDING");
    assert_string_equal(json_string_value(json_object_get(sc, "audio_status")), "PENDING");
    /* Never asked for: both generations 0 (PENDING, not queued). */
    assert_true(json_is_integer(json_object_get(sc, "image_generation")));
    assert_int_equal(json_integer_value(json_object_get(sc, "image_generation")), 0);
    assert_int_equal(json_integer_value(json_object_get(sc, "audio_generation")), 0);
    assert_true(json_is_null(json_object_get(sc, "duration_ms")));
    test_resp_free(&r);
    /* A scene may start with only one of its texts. */
    snprintf(want, sizeof(want), "/api/v1/projects/%s/scenes", id);
    r = test_req(a, "POST", want, tok, "{\"visual_description\":\"only a picture\"}", NULL);
    test_expect(&r, 201, NULL);
    assert_string_equal(str(&r, "narration"), "");
    assert_int_equal(json_integer_value(json_object_get(r.json, "position")), 1);
    test_resp_free(&r);

    r = test_req(a, "DELETE", loc, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", loc, tok, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 0);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes"), 0);
}

static void test_persona_resolves_explicit_then_channel_then_plan_default(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], explicit_p[37], channel_p[37], default_p[37], ch[37], bare[37];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, explicit_p);
    sql(a, "UPDATE personas SET version = 3 WHERE id = '%s'", explicit_p);
    fixture_persona_history(&a->t, explicit_p);
    fixture_persona(&a->t, uid, channel_p);
    sql(a, "UPDATE personas SET version = 5 WHERE id = '%s'", channel_p);
    fixture_persona_history(&a->t, channel_p);
    system_persona(a, "free", 7, default_p);
    sql(a, "UPDATE plans SET default_persona_id = '%s' WHERE code = 'free'", default_p);
    fixture_channel(&a->t, uid, "UCwith", channel_p, ch);
    fixture_assignment(&a->t, ch);
    fixture_channel(&a->t, uid, "UCbare", NULL, bare);

    struct {
        char body[256];
        const char *persona;
        int version;
    } cases[5];
    snprintf(cases[0].body, 256,
             "{\"generate\":false,\"topic\":\"t\",\"persona_id\":\"%s\",\"channel_id\":\"%s\"}",
             explicit_p, ch);
    cases[0].persona = explicit_p, cases[0].version = 3;
    snprintf(cases[1].body, 256, "{\"generate\":false,\"topic\":\"t\",\"channel_id\":\"%s\"}", ch);
    cases[1].persona = channel_p, cases[1].version = 5;
    snprintf(cases[2].body, 256, "{\"generate\":false,\"topic\":\"t\",\"channel_id\":\"%s\"}",
             bare);
    snprintf(cases[3].body, 256, "{\"generate\":false,\"topic\":\"t\"}");
    snprintf(cases[4].body, 256, "{\"generate\":false,\"topic\":\"t\",\"persona_id\":null}");
    for (int i = 2; i < 5; i++)
        cases[i].persona = default_p, cases[i].version = 7;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_resp r = test_req(a, "POST", "/api/v1/projects", tok, cases[i].body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(str(&r, "persona_id"), cases[i].persona);
        assert_int_equal(json_integer_value(json_object_get(r.json, "persona_version")),
                         cases[i].version);
        assert_int_equal(count(a,
                               "SELECT count(*) FROM projects WHERE id = '%s' AND persona_id = "
                               "'%s' AND persona_version = %d",
                               str(&r, "id"), cases[i].persona, cases[i].version),
                         1);
        test_resp_free(&r);
    }

    /* A plan without a default asks for a persona. */
    sql(a, "UPDATE plans SET default_persona_id = NULL WHERE code = 'free'");
    test_resp r =
        test_req(a, "POST", "/api/v1/projects", tok, "{\"generate\":false,\"topic\":\"t\"}", NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    assert_non_null(strstr(str(&r, "detail"), "pass persona_id"));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 5);
}

static void test_project_persona_must_be_one_the_user_may_use(void **state)
{
    test_api *a = *state;
    char ana[128], ana_id[37], bob[128], bob_id[37];
    user(a, "ana@example.com", ana, ana_id);
    user(a, "bob@example.com", bob, bob_id);
    char bobs_private[37], bobs_public[37], pro[37], ch[37], bobs_ch[37], body[256];
    fixture_persona(&a->t, bob_id, bobs_private);
    fixture_persona(&a->t, bob_id, bobs_public);
    sql(a, "UPDATE personas SET visibility = 'PUBLIC' WHERE id = '%s'", bobs_public);
    system_persona(a, "pro", 1, pro);
    fixture_channel(&a->t, ana_id, "UCana", bobs_public, ch);
    fixture_assignment(&a->t, ch);
    fixture_channel(&a->t, bob_id, "UCbob", NULL, bobs_ch);

    snprintf(body, sizeof(body), "{\"generate\":false,\"topic\":\"t\",\"persona_id\":\"%s\"}",
             bobs_private);
    test_resp r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    test_resp_free(&r);

    snprintf(body, sizeof(body), "{\"generate\":false,\"topic\":\"t\",\"persona_id\":\"%s\"}", pro);
    r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    expect_field(&r, 403, "plan-upgrade-required", "persona_id");
    test_resp_free(&r);

    snprintf(body, sizeof(body), "{\"generate\":false,\"topic\":\"t\",\"channel_id\":\"%s\"}",
             bobs_ch);
    r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    expect_field(&r, 422, "invalid-request", "channel_id");
    assert_non_null(strstr(str(&r, "detail"), bobs_ch));
    test_resp_free(&r);

    /* The channel's persona went private after it was assigned. */
    sql(a, "UPDATE personas SET visibility = 'PRIVATE' WHERE id = '%s'", bobs_public);
    snprintf(body, sizeof(body), "{\"generate\":false,\"topic\":\"t\",\"channel_id\":\"%s\"}", ch);
    r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    expect_field(&r, 422, "invalid-request", "channel_id");
    test_resp_free(&r);
    /* The channel's persona now needs a higher plan. */
    sql(a, "UPDATE channels SET persona_id = '%s' WHERE id = '%s'", pro, ch);
    fixture_assignment(&a->t, ch);
    r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    expect_field(&r, 403, "plan-upgrade-required", "persona_id");
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 0);

    test_set_plan(a, "ana@example.com", "pro");
    r = test_req(a, "POST", "/api/v1/projects", ana, body, NULL);
    test_expect(&r, 201, NULL);
    assert_string_equal(str(&r, "persona_id"), pro);
    assert_string_equal(str(&r, "channel_id"), ch);
    test_resp_free(&r);
}

static void test_projects_per_month_limit_counts_this_month_only(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], id[37], old[37];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    sql(a, "UPDATE plans SET max_projects_per_month = 2 WHERE code = 'free'");
    /* Made 40 days ago: always an earlier calendar month. */
    fixture_project(&a->t, uid, NULL, persona, old);
    db_error de;
    assert_int_equal(testdb_execf(&a->t, &de, "UPDATE projects SET created_at = $1 WHERE id = $2",
                                  "ts", time_now_usec() - 40LL * 86400 * 1000000, old),
                     0);
    project(a, tok, persona, id);
    project(a, tok, persona, id);

    char body[256];
    snprintf(body, sizeof(body), "{\"generate\":false,\"topic\":\"third\",\"persona_id\":\"%s\"}",
             persona);
    test_resp r = test_req(a, "POST", "/api/v1/projects", tok, body, NULL);
    expect_field(&r, 403, "plan-limit-reached", "max_projects_per_month");
    assert_non_null(strstr(str(&r, "detail"), "free"));
    assert_non_null(strstr(str(&r, "detail"), "2"));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 3);

    test_set_plan(a, "ana@example.com", "creator");
    project(a, tok, persona, id);
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 4);
}

static void test_project_list_filters_and_pages_walk_every_project_once(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], p1[37], p2[37], ch[37], ids[9][37];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, p1);
    fixture_persona(&a->t, uid, p2);
    fixture_channel(&a->t, uid, "UCana", NULL, ch);
    for (int i = 0; i < 9; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"generate\":false,\"topic\":\"topic %d\",\"persona_id\":\"%s\"%s%s%s}", i,
                 i % 2 ? p2 : p1, i % 3 == 0 ? ",\"channel_id\":\"" : "", i % 3 == 0 ? ch : "",
                 i % 3 == 0 ? "\"" : "");
        create(a, tok, "/api/v1/projects", body, ids[i]);
    }
    sql(a, "UPDATE projects SET status = 'ready' WHERE id IN ('%s', '%s')", ids[1], ids[4]);

    bool seen[9] = {false};
    int total = 0, pages = 0;
    char path[2048] = "/api/v1/projects?limit=4", last[37] = "";
    for (;;) {
        test_resp r = test_req(a, "GET", path, tok, NULL, NULL);
        test_expect(&r, 200, NULL);
        pages++;
        json_t *items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
            if (last[0])
                assert_true(strcmp(id, last) < 0);
            snprintf(last, sizeof(last), "%s", id);
            int k = 0;
            while (k < 9 && strcmp(ids[k], id) != 0)
                k++;
            assert_true(k < 9);
            assert_false(seen[k]);
            seen[k] = true;
            total++;
            assert_null(json_object_get(json_array_get(items, i), "scenes"));
        }
        const char *next = str(&r, "next_cursor");
        if (next == NULL) {
            test_resp_free(&r);
            break;
        }
        snprintf(path, sizeof(path), "/api/v1/projects?limit=4&cursor=%s", next);
        test_resp_free(&r);
        assert_true(pages < 10);
    }
    assert_int_equal(total, 9);
    assert_int_equal(pages, 3);

    struct {
        char query[200];
        size_t n;
    } filters[7] = {
        {"status=ready", 2},
        {"status=draft", 7},
        {"status=failed", 0},
    };
    /* Projects 0, 3 and 6 are on the channel; the odd ones use p2. */
    snprintf(filters[3].query, 200, "channel_id=%s", ch);
    filters[3].n = 3;
    snprintf(filters[4].query, 200, "persona_id=%s", p2);
    filters[4].n = 4;
    snprintf(filters[5].query, 200, "persona_id=%s&status=ready", p2);
    filters[5].n = 1; /* ready: 1 and 4; only 1 is odd */
    snprintf(filters[6].query, 200, "channel_id=%s&persona_id=%s", ch, p2);
    filters[6].n = 1;
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/projects?%s", filters[i].query);
        test_resp r = test_req(a, "GET", path, tok, NULL, NULL);
        test_expect(&r, 200, NULL);
        if (json_array_size(json_object_get(r.json, "items")) != filters[i].n)
            fail_msg("%s: expected %zu items: %s", path, filters[i].n, r.body);
        test_resp_free(&r);
    }
    test_resp r;

    const char *const bad[][2] = {
        {"/api/v1/projects?status=done", "status"},
        {"/api/v1/projects?status=", "status"},
        {"/api/v1/projects?channel_id=123", "channel_id"},
        {"/api/v1/projects?persona_id=x", "persona_id"},
        {"/api/v1/projects?order=asc", "order"},
        {"/api/v1/projects?limit=101", "limit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = test_req(a, "GET", bad[i][0], tok, NULL, NULL);
        expect_field(&r, 422, "invalid-request", bad[i][1]);
        test_resp_free(&r);
    }
}

static void test_scene_edits_keep_positions_contiguous(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], pr[37], s[5][37], path[200];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    project(a, tok, persona, pr);

    add_scene(a, tok, pr, "A", -1, s[0]);
    add_scene(a, tok, pr, "B", -1, s[1]);
    add_scene(a, tok, pr, "C", -1, s[2]);
    expect_scenes(a, tok, pr, (const char *const[]){"A", "B", "C"}, 3);
    add_scene(a, tok, pr, "X", 1, s[3]);
    expect_scenes(a, tok, pr, (const char *const[]){"A", "X", "B", "C"}, 4);
    add_scene(a, tok, pr, "Z", 0, s[4]);
    expect_scenes(a, tok, pr, (const char *const[]){"Z", "A", "X", "B", "C"}, 5);
    /* Position n appends; past n is refused. */
    char end[37];
    add_scene(a, tok, pr, "E", 5, end);
    expect_scenes(a, tok, pr, (const char *const[]){"Z", "A", "X", "B", "C", "E"}, 6);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", pr);
    test_resp r =
        test_req(a, "POST", path, tok,
                 "{\"narration\":\"late\",\"visual_description\":\"\",\"position\":7}", NULL);
    expect_field(&r, 422, "invalid-request", "position");
    test_resp_free(&r);

    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", pr, s[3]);
    r = test_req(a, "PATCH", path, tok, "{\"narration\":\"X2\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "narration"), "X2");
    assert_string_equal(str(&r, "visual_description"), "a picture");
    assert_int_equal(json_integer_value(json_object_get(r.json, "position")), 2);
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, tok, "{\"visual_description\":\"a sketch\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "narration"), "X2");
    assert_string_equal(str(&r, "visual_description"), "a sketch");
    test_resp_free(&r);

    r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    expect_scenes(a, tok, pr, (const char *const[]){"Z", "A", "B", "C", "E"}, 5);
    r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", pr, s[4]);
    r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    expect_scenes(a, tok, pr, (const char *const[]){"A", "B", "C", "E"}, 4);

    char body[400];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/reorder", pr);
    snprintf(body, sizeof(body), "{\"scene_ids\":[\"%s\",\"%s\",\"%s\",\"%s\"]}", end, s[2], s[0],
             s[1]);
    r = test_req(a, "POST", path, tok, body, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), end);
    test_resp_free(&r);
    expect_scenes(a, tok, pr, (const char *const[]){"E", "C", "A", "B"}, 4);

    /* The project shows its scenes in the new order. */
    snprintf(path, sizeof(path), "/api/v1/projects/%s", pr);
    r = test_req(a, "GET", path, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    items = json_object_get(r.json, "scenes");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 3), "narration")),
                        "B");
    test_resp_free(&r);
}

static void test_reorder_with_a_wrong_id_list_is_422_and_changes_nothing(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], pr[37], other[37], s[3][37], foreign[37], path[200];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    project(a, tok, persona, pr);
    project(a, tok, persona, other);
    add_scene(a, tok, pr, "A", -1, s[0]);
    add_scene(a, tok, pr, "B", -1, s[1]);
    add_scene(a, tok, pr, "C", -1, s[2]);
    add_scene(a, tok, other, "F", -1, foreign);
    char random_id[37];
    uuid_v7(random_id);
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/reorder", pr);

    char bodies[8][400];
    snprintf(bodies[0], 400, "{\"scene_ids\":[\"%s\",\"%s\"]}", s[2], s[1]);
    snprintf(bodies[1], 400, "{\"scene_ids\":[\"%s\",\"%s\",\"%s\"]}", s[2], s[1], s[1]);
    snprintf(bodies[2], 400, "{\"scene_ids\":[\"%s\",\"%s\",\"%s\"]}", s[2], s[1], foreign);
    snprintf(bodies[3], 400, "{\"scene_ids\":[\"%s\",\"%s\",\"%s\",\"%s\"]}", s[2], s[1], s[0],
             foreign);
    snprintf(bodies[4], 400, "{\"scene_ids\":[\"%s\",\"%s\",\"%s\"]}", s[2], s[1], random_id);
    snprintf(bodies[5], 400, "{\"scene_ids\":[\"%s\",\"%s\",\"short\"]}", s[2], s[1]);
    snprintf(bodies[6], 400, "{\"scene_ids\":[]}");
    snprintf(bodies[7], 400, "{\"scene_ids\":\"%s\"}", s[0]);
    for (size_t i = 0; i < 8; i++) {
        test_resp r = test_req(a, "POST", path, tok, bodies[i], NULL);
        test_expect(&r, 422, "invalid-request");
        assert_non_null(strstr(str(&r, "field"), "scene_ids"));
        test_resp_free(&r);
        expect_scenes(a, tok, pr, (const char *const[]){"A", "B", "C"}, 3);
        expect_scenes(a, tok, other, (const char *const[]){"F"}, 1);
    }
    test_resp r = test_req(a, "POST", path, tok, "{}", NULL);
    expect_field(&r, 422, "invalid-request", "scene_ids");
    test_resp_free(&r);
}

static void test_a_project_holds_at_most_200_scenes(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], pr[37], id[37];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    project(a, tok, persona, pr);
    for (int i = 0; i < 199; i++) {
        db_error de;
        uuid_v7(id);
        if (testdb_execf(&a->t, &de,
                         "INSERT INTO scenes (id, project_id, user_id, position, created_at, "
                         "updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                         "sssit", id, pr, uid, (int64_t)i, time_now_usec()) != 0)
            fail_msg("scene: %s", de.message);
    }
    add_scene(a, tok, pr, "last", 0, id);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes", pr);
    test_resp r = test_req(a, "POST", path, tok,
                           "{\"narration\":\"one more\",\"visual_description\":\"\"}", NULL);
    expect_field(&r, 422, "invalid-request", "scenes");
    assert_non_null(strstr(str(&r, "detail"), "200"));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes WHERE project_id = '%s'", pr), 200);
    assert_int_equal(count(a, "SELECT max(position) FROM scenes WHERE project_id = '%s'", pr), 199);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes WHERE id = '%s' AND position = 0", id),
                     1);
}

static void test_mass_assignment_is_refused_naming_the_field_and_changes_nothing(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], other[37], pr[37], sc[37], path[200], body[300];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    fixture_persona(&a->t, uid, other);
    project(a, tok, persona, pr);
    add_scene(a, tok, pr, "A", -1, sc);

    const char *const create_bodies[][2] = {
        {"{\"topic\":\"t\",\"id\":\"01936f4e-0000-7000-8000-0000000000aa\"}", "id"},
        {"{\"topic\":\"t\",\"user_id\":\"01936f4e-0000-7000-8000-0000000000aa\"}", "user_id"},
        {"{\"topic\":\"t\",\"status\":\"ready\"}", "status"},
        {"{\"topic\":\"t\",\"persona_version\":9}", "persona_version"},
        {"{\"topic\":\"t\",\"error\":\"none\"}", "error"},
        {"{\"topic\":\"t\",\"owner\":\"me\"}", "owner"},
    };
    for (size_t i = 0; i < sizeof(create_bodies) / sizeof(create_bodies[0]); i++) {
        test_resp r = test_req(a, "POST", "/api/v1/projects", tok, create_bodies[i][0], NULL);
        expect_field(&r, 422, "invalid-request", create_bodies[i][1]);
        test_resp_free(&r);
    }
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 1);

    snprintf(path, sizeof(path), "/api/v1/projects/%s", pr);
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", other);
    const char *const patch_bodies[][2] = {
        {body, "persona_id"},
        {"{\"status\":\"ready\"}", "status"},
        {"{\"topic\":\"x\",\"persona_version\":2}", "persona_version"},
        {"{\"topic\":\"x\",\"user_id\":\"01936f4e-0000-7000-8000-0000000000aa\"}", "user_id"},
        {"{\"topic\":\"x\",\"scenes\":[]}", "scenes"},
        {"{\"topic\":\"x\",\"priority\":1}", "priority"},
    };
    for (size_t i = 0; i < sizeof(patch_bodies) / sizeof(patch_bodies[0]); i++) {
        test_resp r = test_req(a, "PATCH", path, tok, patch_bodies[i][0], NULL);
        expect_field(&r, 422, "invalid-request", patch_bodies[i][1]);
        test_resp_free(&r);
    }
    assert_int_equal(count(a,
                           "SELECT count(*) FROM projects WHERE id = '%s' AND topic = 'Black "
                           "holes' AND status = 'draft' AND persona_id = '%s' AND "
                           "persona_version = 1",
                           pr, persona),
                     1);

    snprintf(path, sizeof(path), "/api/v1/projects/%s/scenes/%s", pr, sc);
    const char *const scene_bodies[][2] = {
        {"{\"image_status\":\"COMPLETED\"}", "image_status"},
        {"{\"narration\":\"x\",\"duration_ms\":5}", "duration_ms"},
        {"{\"narration\":\"x\",\"position\":3}", "position"},
        {"{\"narration\":\"x\",\"project_id\":\"01936f4e-0000-7000-8000-0000000000aa\"}",
         "project_id"},
        {"{\"narration\":\"x\",\"image_path\":\"/etc/passwd\"}", "image_path"},
    };
    for (size_t i = 0; i < sizeof(scene_bodies) / sizeof(scene_bodies[0]); i++) {
        test_resp r = test_req(a, "PATCH", path, tok, scene_bodies[i][0], NULL);
        expect_field(&r, 422, "invalid-request", scene_bodies[i][1]);
        test_resp_free(&r);
    }
    assert_int_equal(count(a,
                           "SELECT count(*) FROM scenes WHERE id = '%s' AND narration = 'A' AND "
                           "image_status = 'PENDING' AND image_path IS NULL AND position = 0",
                           sc),
                     1);
}

static void test_bad_project_and_scene_input_is_refused_and_changes_nothing(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], pr[37], sc[37], ppath[128], spath[200], scpath[200];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, persona);
    project(a, tok, persona, pr);
    add_scene(a, tok, pr, "A", -1, sc);
    snprintf(ppath, sizeof(ppath), "/api/v1/projects/%s", pr);
    snprintf(spath, sizeof(spath), "/api/v1/projects/%s/scenes", pr);
    snprintf(scpath, sizeof(scpath), "/api/v1/projects/%s/scenes/%s", pr, sc);

    static char long_topic[600], long_desc[5100], long_narr[10100], long_tag[120], many[700];
    memset(long_topic, 't', 501);
    memset(long_desc, 'd', 5001);
    memset(long_narr, 'n', 10001);
    memset(long_tag, 'g', 101);
    strcpy(many, "{\"tags\":[");
    for (int i = 0; i < 31; i++)
        strcat(many, i ? ",\"x\"" : "\"x\"");
    strcat(many, "]}");
    static char b_topic[700], b_desc[5200], b_narr[10200], b_tag[200];
    snprintf(b_topic, sizeof(b_topic), "{\"topic\":\"%s\"}", long_topic);
    snprintf(b_desc, sizeof(b_desc), "{\"description\":\"%s\"}", long_desc);
    snprintf(b_narr, sizeof(b_narr), "{\"narration\":\"%s\"}", long_narr);
    snprintf(b_tag, sizeof(b_tag), "{\"tags\":[\"%s\"]}", long_tag);

    typedef struct bad {
        const char *method;
        const char *path;
        const char *body;
        long status;
        const char *slug;
        const char *field; /* NULL: not checked */
    } bad;
    const bad cases[] = {
        {"POST", "/api/v1/projects", "{\"topic\":", 400, "malformed-json", NULL},
        {"POST", "/api/v1/projects", "\"topic\"", 400, "malformed-json", NULL},
        {"POST", "/api/v1/projects", "{\"topic\":\"\xc3\x28\"}", 400, "malformed-json", NULL},
        {"POST", "/api/v1/projects", "{}", 422, "invalid-request", "topic"},
        {"POST", "/api/v1/projects", "{\"topic\":\"\"}", 422, "invalid-request", "topic"},
        {"POST", "/api/v1/projects", "{\"topic\":7}", 422, "invalid-request", "topic"},
        {"POST", "/api/v1/projects", b_topic, 422, "invalid-request", "topic"},
        {"POST", "/api/v1/projects", "{\"topic\":\"t\",\"channel_id\":\"nope\"}", 422,
         "invalid-request", "channel_id"},
        {"POST", "/api/v1/projects", "{\"topic\":\"t\",\"tags\":\"science\"}", 422,
         "invalid-request", "tags"},
        {"PATCH", ppath, "{\"tags\":[1]}", 422, "invalid-request", "tags[0]"},
        {"PATCH", ppath, "{\"tags\":[\"\"]}", 422, "invalid-request", "tags[0]"},
        {"PATCH", ppath, b_tag, 422, "invalid-request", "tags[0]"},
        {"PATCH", ppath, many, 422, "invalid-request", "tags"},
        {"PATCH", ppath, b_desc, 422, "invalid-request", "description"},
        {"PATCH", ppath, "{\"topic\":null}", 422, "invalid-request", "topic"},
        {"PATCH", ppath, "{\"title\":false}", 422, "invalid-request", "title"},
        {"PATCH", ppath, "{}", 422, "invalid-request", NULL},
        {"POST", spath, "{}", 422, "invalid-request", "narration"},
        {"POST", spath, "{\"position\":0}", 422, "invalid-request", "narration"},
        {"POST", spath, "{\"narration\":\"x\",\"visual_description\":\"y\",\"position\":-1}", 422,
         "invalid-request", "position"},
        {"POST", spath, "{\"narration\":\"x\",\"visual_description\":\"y\",\"position\":\"0\"}",
         422, "invalid-request", "position"},
        {"POST", spath, "{\"narration\":\"x\",\"visual_description\":\"y\",\"position\":0.5}", 422,
         "invalid-request", "position"},
        {"PATCH", scpath, b_narr, 422, "invalid-request", "narration"},
        {"PATCH", scpath, "{\"narration\":null}", 422, "invalid-request", "narration"},
        {"PATCH", scpath, "{\"narration\":\"\xed\xa0\x80\"}", 400, "malformed-json", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_resp r = test_req(a, cases[i].method, cases[i].path, tok, cases[i].body, NULL);
        if (cases[i].field != NULL)
            expect_field(&r, cases[i].status, cases[i].slug, cases[i].field);
        else
            test_expect(&r, cases[i].status, cases[i].slug);
        test_resp_free(&r);
    }
    assert_int_equal(count(a, "SELECT count(*) FROM projects"), 1);
    assert_int_equal(count(a, "SELECT count(*) FROM projects WHERE topic = 'Black holes' AND "
                              "description IS NULL"),
                     1);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes WHERE narration = 'A'"), 1);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes"), 1);
}

static void test_another_users_project_and_scenes_are_404_for_every_method(void **state)
{
    test_api *a = *state;
    char ana[128], ana_id[37], bob[128], bob_id[37], ana_p[37], bob_p[37];
    user(a, "ana@example.com", ana, ana_id);
    user(a, "bob@example.com", bob, bob_id);
    fixture_persona(&a->t, ana_id, ana_p);
    fixture_persona(&a->t, bob_id, bob_p);
    char ana_ch[37], pr[37], sc[37], bob_pr[37], bob_sc[37];
    fixture_channel(&a->t, ana_id, "UCana", NULL, ana_ch);
    project(a, ana, ana_p, pr);
    add_scene(a, ana, pr, "A", -1, sc);
    project(a, bob, bob_p, bob_pr);
    add_scene(a, bob, bob_pr, "B", -1, bob_sc);

    char p[128], scenes[160], one[200], reorder[200], reorder_body[100], mixed[200];
    snprintf(p, sizeof(p), "/api/v1/projects/%s", pr);
    snprintf(scenes, sizeof(scenes), "%s/scenes", p);
    snprintf(one, sizeof(one), "%s/scenes/%s", p, sc);
    snprintf(reorder, sizeof(reorder), "%s/scenes/reorder", p);
    snprintf(reorder_body, sizeof(reorder_body), "{\"scene_ids\":[\"%s\"]}", sc);
    /* Bob's own project with Ana's scene id. */
    snprintf(mixed, sizeof(mixed), "/api/v1/projects/%s/scenes/%s", bob_pr, sc);
    const char *const calls[][3] = {
        {"GET", p, NULL},
        {"PATCH", p, "{\"topic\":\"mine now\"}"},
        {"DELETE", p, NULL},
        {"GET", scenes, NULL},
        {"POST", scenes, "{\"narration\":\"x\",\"visual_description\":\"y\"}"},
        {"PATCH", one, "{\"narration\":\"x\"}"},
        {"DELETE", one, NULL},
        {"POST", reorder, reorder_body},
        {"PATCH", mixed, "{\"narration\":\"x\"}"},
        {"DELETE", mixed, NULL},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        test_resp r = test_req(a, calls[i][0], calls[i][1], bob, calls[i][2], NULL);
        if (r.status != 404)
            fail_msg("%s %s: expected 404, got %ld: %s", calls[i][0], calls[i][1], r.status,
                     r.body);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }

    /* Ana's channel is not Bob's to use, on create or on edit. */
    char body[256], bob_path[128];
    snprintf(body, sizeof(body), "{\"topic\":\"t\",\"persona_id\":\"%s\",\"channel_id\":\"%s\"}",
             bob_p, ana_ch);
    test_resp r = test_req(a, "POST", "/api/v1/projects", bob, body, NULL);
    expect_field(&r, 422, "invalid-request", "channel_id");
    test_resp_free(&r);
    snprintf(body, sizeof(body), "{\"channel_id\":\"%s\"}", ana_ch);
    snprintf(bob_path, sizeof(bob_path), "/api/v1/projects/%s", bob_pr);
    r = test_req(a, "PATCH", bob_path, bob, body, NULL);
    expect_field(&r, 422, "invalid-request", "channel_id");
    test_resp_free(&r);
    /* Nor is Ana's private persona. */
    snprintf(body, sizeof(body), "{\"topic\":\"t\",\"persona_id\":\"%s\"}", ana_p);
    r = test_req(a, "POST", "/api/v1/projects", bob, body, NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/projects", bob, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    test_resp_free(&r);
    snprintf(body, sizeof(body), "/api/v1/projects?channel_id=%s", ana_ch);
    r = test_req(a, "GET", body, bob, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/projects/01936f4e", bob, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);

    assert_int_equal(count(a,
                           "SELECT count(*) FROM projects WHERE id = '%s' AND user_id = '%s' AND "
                           "topic = 'Black holes'",
                           pr, ana_id),
                     1);
    assert_int_equal(count(a,
                           "SELECT count(*) FROM scenes WHERE project_id = '%s' AND id = '%s' AND "
                           "narration = 'A' AND position = 0",
                           pr, sc),
                     1);
    assert_int_equal(count(a, "SELECT count(*) FROM scenes WHERE project_id = '%s'", pr), 1);
    assert_int_equal(
        count(a, "SELECT count(*) FROM scenes WHERE id = '%s' AND narration = 'B'", bob_sc), 1);
    assert_int_equal(count(a, "SELECT count(*) FROM projects WHERE channel_id IS NOT NULL"), 0);
}

/* A project's topic, title, description and tags of exactly their limits in
 * characters of 2, 3 and 4 bytes come back unchanged from create, update,
 * get and list; one character more is a 422 that changes nothing. */
static void test_project_texts_of_multibyte_characters_round_trip_at_their_limits(void **state)
{
    test_api *a = *state;
    char t[128], uid[UUID_STR_LEN + 1];
    user(a, "ana@example.com", t, uid);
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        const char *unit = test_utf8_units[u];
        char *topic = test_repeat("", unit, 500);
        char *title = test_repeat("", unit, 200);
        char *desc = test_repeat("", unit, 5000);
        char *tag = test_repeat("", unit, 100);
        json_t *doc = json_pack("{s:s,s:s,s:b}", "topic", topic, "title", title, "generate", 0);
        char *body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        test_resp r = test_req(a, "POST", "/api/v1/projects", t, body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(str(&r, "topic"), topic);
        assert_string_equal(str(&r, "title"), title);
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/projects/%s", str(&r, "id"));
        test_resp_free(&r);
        free(body);
        doc = json_pack("{s:s,s:[s]}", "description", desc, "tags", tag);
        body = json_dumps(doc, JSON_COMPACT);
        r = test_req(a, "PATCH", path, t, body, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "description"), desc);
        test_resp_free(&r);
        free(body);
        r = test_req(a, "GET", path, t, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "topic"), topic);
        assert_string_equal(str(&r, "title"), title);
        assert_string_equal(str(&r, "description"), desc);
        assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "tags"), 0)),
                            tag);
        test_resp_free(&r);
        r = test_req(a, "GET", "/api/v1/projects", t, NULL, NULL);
        test_expect(&r, 200, NULL);
        json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
        assert_string_equal(json_string_value(json_object_get(first, "topic")), topic);
        assert_string_equal(json_string_value(json_array_get(json_object_get(first, "tags"), 0)),
                            tag);
        test_resp_free(&r);

        const char *keys[] = {"topic", "title", "description", "tags[0]"};
        const char *vals[] = {topic, title, desc, tag};
        for (int k = 0; k < 4; k++) {
            char *longer = test_repeat(vals[k], unit, 1);
            json_t *bad =
                k == 3 ? json_pack("{s:[s]}", "tags", longer) : json_pack("{s:s}", keys[k], longer);
            body = json_dumps(bad, JSON_COMPACT);
            json_decref(bad);
            r = test_req(a, "PATCH", path, t, body, NULL);
            test_expect(&r, 422, "invalid-request");
            assert_string_equal(str(&r, "field"), keys[k]);
            test_resp_free(&r);
            free(body);
            free(longer);
        }
        r = test_req(a, "GET", path, t, NULL, NULL);
        assert_string_equal(str(&r, "description"), desc);
        assert_string_equal(str(&r, "topic"), topic);
        test_resp_free(&r);
        json_decref(doc);
        free(tag);
        free(desc);
        free(title);
        free(topic);
    }
    assert_int_equal(count(a, "SELECT COUNT(*) FROM projects"), TEST_UTF8_UNITS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_project_create_read_update_delete_round_trip,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_persona_resolves_explicit_then_channel_then_plan_default, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(test_project_persona_must_be_one_the_user_may_use,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(test_projects_per_month_limit_counts_this_month_only,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(test_project_list_filters_and_pages_walk_every_project_once,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(test_scene_edits_keep_positions_contiguous, test_api_setup,
                                        test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_reorder_with_a_wrong_id_list_is_422_and_changes_nothing, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(test_a_project_holds_at_most_200_scenes, test_api_setup,
                                        test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_mass_assignment_is_refused_naming_the_field_and_changes_nothing, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_project_and_scene_input_is_refused_and_changes_nothing, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_another_users_project_and_scenes_are_404_for_every_method, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_project_texts_of_multibyte_characters_round_trip_at_their_limits, test_api_setup,
            test_api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
