/*
 * Channels over the real API: registering, reading, editing and deleting a
 * channel, the plan's channel limit, which personas a user may assign, the
 * assignment log every persona change writes, and tenancy (another user's
 * channel is a 404 for every method and stays as it was).
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

/* Signs up email and returns its token and user id. */
static void user(test_api *a, const char *email, char *token, char *id)
{
    test_signup(a, email, token);
    test_resp r = test_req(a, "GET", "/api/v1/me", token, NULL, NULL);
    test_expect(&r, 200, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", str(&r, "id"));
    test_resp_free(&r);
}

/* A SYSTEM persona that needs plan_code, at the given version. */
static void system_persona(test_api *a, const char *plan_code, int version, char *id)
{
    db_error de;
    uuid_v7(id);
    if (testdb_execf(&a->t, &de,
                     "INSERT INTO personas (id, type, visibility, required_plan, name, "
                     "system_instruction, version, created_at, updated_at) VALUES ($1, 'SYSTEM', "
                     "'PUBLIC', $2, 'Premium Voice', 'You narrate premium documentaries.', $3, "
                     "$4, $4)",
                     "ssit", id, plan_code, (int64_t)version, time_now_usec()) != 0)
        fail_msg("system persona: %s", de.message);
    fixture_persona_history(&a->t, id);
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

/* Registers a channel and returns its id; fails the test unless it is a 201. */
static void channel(test_api *a, const char *token, const char *yt_id, const char *persona_id,
                    char *id)
{
    char body[512];
    if (persona_id != NULL)
        snprintf(body, sizeof(body),
                 "{\"youtube_channel_id\":\"%s\",\"name\":\"Channel %s\",\"persona_id\":\"%s\"}",
                 yt_id, yt_id, persona_id);
    else
        snprintf(body, sizeof(body), "{\"youtube_channel_id\":\"%s\",\"name\":\"Channel %s\"}",
                 yt_id, yt_id);
    test_resp r = test_req(a, "POST", "/api/v1/channels", token, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", str(&r, "id"));
    test_resp_free(&r);
}

static void expect_field(const test_resp *r, long status, const char *slug, const char *field)
{
    test_expect(r, status, slug);
    const char *f = str(r, "field");
    if (f == NULL || strcmp(f, field) != 0)
        fail_msg("expected field '%s': %s", field, r->body);
}

static void test_channel_create_read_update_delete_round_trip(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37];
    user(a, "ana@example.com", tok, uid);

    test_resp r =
        test_req(a, "POST", "/api/v1/channels", tok,
                 "{\"youtube_channel_id\":\"UC_abc-123\",\"name\":\"Deep Space\","
                 "\"thumbnail\":\"https://img.example.com/a.png\",\"auto_optimize\":true}",
                 NULL);
    test_expect(&r, 201, NULL);
    char id[37], loc[256];
    snprintf(id, sizeof(id), "%s", str(&r, "id"));
    assert_true(uuid_is_valid(id));
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    char want[256];
    snprintf(want, sizeof(want), "/api/v1/channels/%s", id);
    assert_string_equal(loc, want);
    assert_string_equal(str(&r, "youtube_channel_id"), "UC_abc-123");
    assert_string_equal(str(&r, "name"), "Deep Space");
    assert_string_equal(str(&r, "thumbnail"), "https://img.example.com/a.png");
    assert_true(json_is_true(json_object_get(r.json, "auto_optimize")));
    assert_true(json_is_null(json_object_get(r.json, "persona_id")));
    assert_true(json_is_null(json_object_get(r.json, "subscriber_count")));
    assert_true(json_is_null(json_object_get(r.json, "view_count")));
    assert_true(json_is_null(json_object_get(r.json, "stats_updated_at")));
    assert_true(json_is_null(json_object_get(r.json, "account_id")));
    assert_non_null(str(&r, "created_at"));
    assert_null(json_object_get(r.json, "user_id"));
    test_resp_free(&r);

    r = test_req(a, "GET", loc, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "name"), "Deep Space");
    test_resp_free(&r);

    sql(a, "UPDATE channels SET subscriber_count = 3000000000, view_count = 7 WHERE id = '%s'", id);
    r = test_req(a, "PATCH", loc, tok,
                 "{\"name\":\"Deeper Space\",\"thumbnail\":null,\"auto_optimize\":false}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "name"), "Deeper Space");
    assert_true(json_is_null(json_object_get(r.json, "thumbnail")));
    assert_true(json_is_false(json_object_get(r.json, "auto_optimize")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "subscriber_count")), 3000000000LL);
    assert_string_equal(str(&r, "youtube_channel_id"), "UC_abc-123");
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/channels", tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), id);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    test_resp_free(&r);

    r = test_req(a, "DELETE", loc, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "GET", loc, tok, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(a, "DELETE", loc, tok, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 0);
}

static void test_duplicate_youtube_channel_id_is_409_but_another_user_may_register_it(void **state)
{
    test_api *a = *state;
    char ana[128], ana_id[37], bob[128], bob_id[37], id[37];
    user(a, "ana@example.com", ana, ana_id);
    user(a, "bob@example.com", bob, bob_id);
    test_set_plan(a, "ana@example.com", "creator");
    channel(a, ana, "UCsame", NULL, id);

    test_resp r = test_req(a, "POST", "/api/v1/channels", ana,
                           "{\"youtube_channel_id\":\"UCsame\",\"name\":\"Again\"}", NULL);
    expect_field(&r, 409, "conflict", "youtube_channel_id");
    assert_non_null(strstr(str(&r, "detail"), "UCsame"));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);

    char other[37];
    channel(a, bob, "UCsame", NULL, other);
    assert_string_not_equal(id, other);
    assert_int_equal(count(a, "SELECT count(*) FROM channels WHERE youtube_channel_id = 'UCsame'"),
                     2);
}

static void test_free_plan_allows_one_channel_and_upgrading_lifts_the_limit(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], one[37], two[37], three[37];
    user(a, "ana@example.com", tok, uid);
    channel(a, tok, "UCone", NULL, one);

    test_resp r = test_req(a, "POST", "/api/v1/channels", tok,
                           "{\"youtube_channel_id\":\"UCtwo\",\"name\":\"Two\"}", NULL);
    expect_field(&r, 403, "plan-limit-reached", "max_channels");
    assert_non_null(strstr(str(&r, "detail"), "free"));
    assert_non_null(strstr(str(&r, "detail"), "1 channel"));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);

    test_set_plan(a, "ana@example.com", "creator");
    channel(a, tok, "UCtwo", NULL, two);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 2);

    /* Back on free with two channels: the limit holds until the user is under it. */
    test_set_plan(a, "ana@example.com", "free");
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", two);
    r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/channels", tok,
                 "{\"youtube_channel_id\":\"UCthree\",\"name\":\"Three\"}", NULL);
    expect_field(&r, 403, "plan-limit-reached", "max_channels");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", one);
    r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    channel(a, tok, "UCthree", NULL, three);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);
}

static void test_assigning_personas_checks_visibility_and_plan(void **state)
{
    test_api *a = *state;
    char ana[128], ana_id[37], bob[128], bob_id[37];
    user(a, "ana@example.com", ana, ana_id);
    user(a, "bob@example.com", bob, bob_id);
    char own[37], bobs_private[37], bobs_public[37], pro[37], ch[37], path[128], body[256];
    fixture_persona(&a->t, ana_id, own);
    fixture_persona(&a->t, bob_id, bobs_private);
    fixture_persona(&a->t, bob_id, bobs_public);
    sql(a, "UPDATE personas SET visibility = 'PUBLIC' WHERE id = '%s'", bobs_public);
    system_persona(a, "pro", 1, pro);
    channel(a, ana, "UCana", own, ch);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", ch);

    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", bobs_private);
    test_resp r = test_req(a, "PATCH", path, ana, body, NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    assert_non_null(strstr(str(&r, "detail"), bobs_private));
    test_resp_free(&r);

    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", pro);
    r = test_req(a, "PATCH", path, ana, body, NULL);
    expect_field(&r, 403, "plan-upgrade-required", "persona_id");
    assert_non_null(strstr(str(&r, "detail"), "pro"));
    test_resp_free(&r);

    /* A persona that does not exist reads like one the user cannot see. */
    char nowhere[37];
    uuid_v7(nowhere);
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", nowhere);
    r = test_req(a, "PATCH", path, ana, body, NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    test_resp_free(&r);

    /* None of the refusals changed the channel or wrote to the log. */
    assert_int_equal(count(a, "SELECT count(*) FROM channels WHERE persona_id = '%s'", own), 1);
    assert_int_equal(count(a, "SELECT count(*) FROM channel_persona_assignments"), 1);

    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", bobs_public);
    r = test_req(a, "PATCH", path, ana, body, NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "persona_id"), bobs_public);
    test_resp_free(&r);

    /* The same refusal on create: no channel is left behind. */
    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UCpro\",\"name\":\"Pro\",\"persona_id\":\"%s\"}", pro);
    test_set_plan(a, "ana@example.com", "creator");
    r = test_req(a, "POST", "/api/v1/channels", ana, body, NULL);
    expect_field(&r, 403, "plan-upgrade-required", "persona_id");
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);

    test_set_plan(a, "ana@example.com", "pro");
    r = test_req(a, "POST", "/api/v1/channels", ana, body, NULL);
    test_expect(&r, 201, NULL);
    assert_string_equal(str(&r, "persona_id"), pro);
    test_resp_free(&r);
}

static json_t *assignment(const test_resp *r, size_t i)
{
    return json_array_get(json_object_get(r->json, "items"), i);
}

static const char *astr(const test_resp *r, size_t i, const char *key)
{
    return json_string_value(json_object_get(assignment(r, i), key));
}

static void test_every_persona_change_writes_one_assignment_row(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], p1[37], p2[37], ch[37], path[160], body[256];
    user(a, "ana@example.com", tok, uid);
    fixture_persona(&a->t, uid, p1);
    fixture_persona(&a->t, uid, p2);
    sql(a, "UPDATE personas SET version = 4 WHERE id = '%s'", p2);
    fixture_persona_history(&a->t, p2);

    snprintf(body, sizeof(body),
             "{\"youtube_channel_id\":\"UClog\",\"name\":\"Log\",\"persona_id\":\"%s\","
             "\"assignment_reason\":\"launch\"}",
             p1);
    test_resp r = test_req(a, "POST", "/api/v1/channels", tok, body, NULL);
    test_expect(&r, 201, NULL);
    snprintf(ch, sizeof(ch), "%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", ch);

    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\",\"assignment_reason\":\"try v4\"}", p2);
    r = test_req(a, "PATCH", path, tok, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    /* Naming the persona the channel already has is no change. */
    r = test_req(a, "PATCH", path, tok, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    /* Neither is an edit that leaves the persona alone. */
    r = test_req(a, "PATCH", path, tok, "{\"name\":\"Renamed\"}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, tok, "{\"persona_id\":null}", NULL);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "persona_id")));
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channel_persona_assignments"), 3);

    snprintf(path, sizeof(path), "/api/v1/channels/%s/assignments", ch);
    r = test_req(a, "GET", path, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    /* Newest first: cleared, then p1 -> p2, then none -> p1. */
    assert_true(json_is_null(json_object_get(assignment(&r, 0), "persona_id")));
    assert_true(json_is_null(json_object_get(assignment(&r, 0), "persona_version")));
    assert_string_equal(astr(&r, 0, "previous_persona_id"), p2);
    assert_true(json_is_null(json_object_get(assignment(&r, 0), "reason")));
    assert_string_equal(astr(&r, 1, "persona_id"), p2);
    assert_int_equal(json_integer_value(json_object_get(assignment(&r, 1), "persona_version")), 4);
    assert_string_equal(astr(&r, 1, "previous_persona_id"), p1);
    assert_string_equal(astr(&r, 1, "reason"), "try v4");
    assert_string_equal(astr(&r, 2, "persona_id"), p1);
    assert_int_equal(json_integer_value(json_object_get(assignment(&r, 2), "persona_version")), 1);
    assert_true(json_is_null(json_object_get(assignment(&r, 2), "previous_persona_id")));
    assert_string_equal(astr(&r, 2, "reason"), "launch");
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(astr(&r, i, "assigned_by"), uid);
        assert_string_equal(astr(&r, i, "source"), "manual");
        assert_string_equal(astr(&r, i, "channel_id"), ch);
    }
    test_resp_free(&r);

    /* The log pages like every list. */
    char page[256], seen[3][37];
    snprintf(page, sizeof(page), "%s?limit=2", path);
    r = test_req(a, "GET", page, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    snprintf(seen[0], 37, "%s", astr(&r, 0, "id"));
    snprintf(seen[1], 37, "%s", astr(&r, 1, "id"));
    snprintf(page, sizeof(page), "%s?limit=2&cursor=%s", path, str(&r, "next_cursor"));
    test_resp_free(&r);
    r = test_req(a, "GET", page, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    snprintf(seen[2], 37, "%s", astr(&r, 0, "id"));
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    test_resp_free(&r);
    assert_string_not_equal(seen[0], seen[2]);
    assert_string_not_equal(seen[1], seen[2]);
}

static void test_channel_list_filters_by_persona_and_pages_walk_every_channel_once(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], persona[37], ids[7][37];
    user(a, "ana@example.com", tok, uid);
    test_set_plan(a, "ana@example.com", "pro");
    fixture_persona(&a->t, uid, persona);
    for (int i = 0; i < 7; i++) {
        char yt[16];
        snprintf(yt, sizeof(yt), "UC%d", i);
        channel(a, tok, yt, i % 3 == 0 ? persona : NULL, ids[i]);
    }

    bool seen[7] = {false};
    int pages = 0, total = 0;
    char path[256] = "/api/v1/channels?limit=3";
    char last[37] = "";
    for (;;) {
        test_resp r = test_req(a, "GET", path, tok, NULL, NULL);
        test_expect(&r, 200, NULL);
        pages++;
        json_t *items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
            /* Newest first: ids only go down. */
            if (last[0])
                assert_true(strcmp(id, last) < 0);
            snprintf(last, sizeof(last), "%s", id);
            int k = 0;
            while (k < 7 && strcmp(ids[k], id) != 0)
                k++;
            assert_true(k < 7);
            assert_false(seen[k]);
            seen[k] = true;
            total++;
        }
        const char *next = str(&r, "next_cursor");
        if (next == NULL) {
            test_resp_free(&r);
            break;
        }
        snprintf(path, sizeof(path), "/api/v1/channels?limit=3&cursor=%s", next);
        test_resp_free(&r);
        assert_true(pages < 10);
    }
    assert_int_equal(total, 7);
    assert_int_equal(pages, 3);

    snprintf(path, sizeof(path), "/api/v1/channels?persona_id=%s", persona);
    test_resp r = test_req(a, "GET", path, tok, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(items, i), "persona_id")), persona);
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/channels?persona_id=nope", tok, NULL, NULL);
    expect_field(&r, 422, "invalid-request", "persona_id");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/channels?sort=name", tok, NULL, NULL);
    expect_field(&r, 422, "invalid-request", "sort");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/channels?limit=0", tok, NULL, NULL);
    expect_field(&r, 422, "invalid-request", "limit");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/channels?cursor=xyz", tok, NULL, NULL);
    expect_field(&r, 422, "invalid-request", "cursor");
    test_resp_free(&r);
}

static void test_mass_assignment_is_refused_naming_the_field_and_changes_nothing(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], id[37], path[128];
    user(a, "ana@example.com", tok, uid);
    test_set_plan(a, "ana@example.com", "creator");
    channel(a, tok, "UCmine", NULL, id);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", id);

    static const char *const create_bodies[][2] = {
        {"{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"id\":\"01936f4e-0000-7000-8000-"
         "0000000000aa\"}",
         "id"},
        {"{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"user_id\":\"01936f4e-0000-7000-8000-"
         "0000000000aa\"}",
         "user_id"},
        {"{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"subscriber_count\":5}",
         "subscriber_count"},
        {"{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"account_id\":null}", "account_id"},
        {"{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"is_admin\":true}", "is_admin"},
    };
    for (size_t i = 0; i < sizeof(create_bodies) / sizeof(create_bodies[0]); i++) {
        test_resp r = test_req(a, "POST", "/api/v1/channels", tok, create_bodies[i][0], NULL);
        expect_field(&r, 422, "invalid-request", create_bodies[i][1]);
        test_resp_free(&r);
    }
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);

    static const char *const patch_bodies[][2] = {
        {"{\"youtube_channel_id\":\"UCother\"}", "youtube_channel_id"},
        {"{\"name\":\"New\",\"user_id\":\"01936f4e-0000-7000-8000-0000000000aa\"}", "user_id"},
        {"{\"name\":\"New\",\"view_count\":1}", "view_count"},
        {"{\"name\":\"New\",\"created_at\":\"2020-01-01T00:00:00Z\"}", "created_at"},
        {"{\"name\":\"New\",\"colour\":\"red\"}", "colour"},
    };
    for (size_t i = 0; i < sizeof(patch_bodies) / sizeof(patch_bodies[0]); i++) {
        test_resp r = test_req(a, "PATCH", path, tok, patch_bodies[i][0], NULL);
        expect_field(&r, 422, "invalid-request", patch_bodies[i][1]);
        test_resp_free(&r);
    }
    assert_int_equal(count(a,
                           "SELECT count(*) FROM channels WHERE id = '%s' AND name = 'Channel "
                           "UCmine' AND youtube_channel_id = 'UCmine' AND view_count IS NULL",
                           id),
                     1);
}

static void test_bad_channel_input_is_refused_and_changes_nothing(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], id[37], path[128];
    user(a, "ana@example.com", tok, uid);
    test_set_plan(a, "ana@example.com", "creator");
    channel(a, tok, "UCmine", NULL, id);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", id);

    char long_name[260], long_reason[1100], long_url[2200], body[4096];
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    memset(long_reason, 'r', 1001);
    long_reason[1001] = '\0';
    snprintf(long_url, sizeof(long_url), "https://img.example.com/%02100d", 0);

    typedef struct bad {
        const char *method;
        const char *body;
        long status;
        const char *slug;
        const char *field; /* NULL: not checked */
    } bad;
    char b_name[400], b_reason[1200], b_url[2400];
    snprintf(b_name, sizeof(b_name), "{\"youtube_channel_id\":\"UCx\",\"name\":\"%s\"}", long_name);
    snprintf(b_reason, sizeof(b_reason), "{\"persona_id\":null,\"assignment_reason\":\"%s\"}",
             long_reason);
    snprintf(b_url, sizeof(b_url), "{\"thumbnail\":\"%s\"}", long_url);
    const bad cases[] = {
        {"POST", "{\"youtube_channel_id\":\"UCx\",", 400, "malformed-json", NULL},
        {"POST", "[1,2]", 400, "malformed-json", NULL},
        {"POST", "{\"youtube_channel_id\":\"UCx\",\"name\":\"\xff\xfe\"}", 400, "malformed-json",
         NULL},
        {"POST", "{\"youtube_channel_id\":\"UCx\",\"name\":\"a\",\"name\":\"b\"}", 400,
         "malformed-json", NULL},
        {"POST", "{\"name\":\"No id\"}", 422, "invalid-request", "youtube_channel_id"},
        {"POST", "{\"youtube_channel_id\":42,\"name\":\"X\"}", 422, "invalid-request",
         "youtube_channel_id"},
        {"POST", "{\"youtube_channel_id\":\"UC x\",\"name\":\"X\"}", 422, "invalid-request",
         "youtube_channel_id"},
        {"POST", "{\"youtube_channel_id\":\"UC/../x\",\"name\":\"X\"}", 422, "invalid-request",
         "youtube_channel_id"},
        {"POST", b_name, 422, "invalid-request", "name"},
        {"POST", "{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"auto_optimize\":\"yes\"}", 422,
         "invalid-request", "auto_optimize"},
        {"POST", "{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"persona_id\":\"abc\"}", 422,
         "invalid-request", "persona_id"},
        {"POST", "{\"youtube_channel_id\":\"UCx\",\"name\":\"X\",\"thumbnail\":\"ftp://h/x\"}", 422,
         "invalid-request", "thumbnail"},
        {"PATCH", "{\"thumbnail\":\"javascript:alert(1)\"}", 422, "invalid-request", "thumbnail"},
        {"PATCH", "{\"thumbnail\":\"https://\"}", 422, "invalid-request", "thumbnail"},
        {"PATCH", "{\"thumbnail\":\"https://a b/c\"}", 422, "invalid-request", "thumbnail"},
        {"PATCH", b_url, 422, "invalid-request", "thumbnail"},
        {"PATCH", "{\"name\":\"\"}", 422, "invalid-request", "name"},
        {"PATCH", "{\"name\":null}", 422, "invalid-request", "name"},
        {"PATCH", "{}", 422, "invalid-request", NULL},
        {"PATCH", "{\"assignment_reason\":\"why not\"}", 422, "invalid-request",
         "assignment_reason"},
        {"PATCH", b_reason, 422, "invalid-request", "assignment_reason"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *target = strcmp(cases[i].method, "POST") == 0 ? "/api/v1/channels" : path;
        snprintf(body, sizeof(body), "%s", cases[i].body);
        test_resp r = test_req(a, cases[i].method, target, tok, body, NULL);
        if (cases[i].field != NULL)
            expect_field(&r, cases[i].status, cases[i].slug, cases[i].field);
        else
            test_expect(&r, cases[i].status, cases[i].slug);
        test_resp_free(&r);
    }
    /* Uppercase ids are the same ids; a UTF-8 name counts characters, not bytes. */
    char upper[37];
    snprintf(upper, sizeof(upper), "%s", id);
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf(path, sizeof(path), "/api/v1/channels/%s", upper);
    char accented[700] = "{\"name\":\"";
    for (int i = 0; i < 200; i++)
        strcat(accented, "\xc3\xa9");
    strcat(accented, "\"}");
    test_resp r = test_req(a, "PATCH", path, tok, accented, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(a, "SELECT count(*) FROM channels"), 1);
    assert_int_equal(count(a, "SELECT count(*) FROM channel_persona_assignments"), 0);
}

static void test_another_users_channel_is_404_for_every_method_and_stays_unchanged(void **state)
{
    test_api *a = *state;
    char ana[128], ana_id[37], bob[128], bob_id[37], persona[37], ch[37];
    user(a, "ana@example.com", ana, ana_id);
    user(a, "bob@example.com", bob, bob_id);
    fixture_persona(&a->t, bob_id, persona);
    channel(a, ana, "UCana", NULL, ch);

    char path[128], assignments[160], body[128];
    snprintf(path, sizeof(path), "/api/v1/channels/%s", ch);
    snprintf(assignments, sizeof(assignments), "%s/assignments", path);
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", persona);
    const char *const calls[][3] = {
        {"GET", path, NULL},        {"PATCH", path, "{\"name\":\"Stolen\"}"},
        {"PATCH", path, body},      {"DELETE", path, NULL},
        {"GET", assignments, NULL},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        test_resp r = test_req(a, calls[i][0], calls[i][1], bob, calls[i][2], NULL);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
    test_resp r = test_req(a, "GET", "/api/v1/channels", bob, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    test_resp_free(&r);
    /* A malformed id is no channel at all; no credentials is 401. */
    r = test_req(a, "GET", "/api/v1/channels/not-a-uuid", ana, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(a, "GET", path, NULL, NULL, NULL);
    test_expect(&r, 401, "unauthorized");
    test_resp_free(&r);

    assert_int_equal(count(a,
                           "SELECT count(*) FROM channels WHERE id = '%s' AND user_id = '%s' AND "
                           "name = 'Channel UCana' AND persona_id IS NULL",
                           ch, ana_id),
                     1);
    assert_int_equal(count(a, "SELECT count(*) FROM channel_persona_assignments"), 0);
}

static void test_deleting_a_channel_keeps_its_projects_with_no_channel(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], ch[37], project[37], path[128];
    user(a, "ana@example.com", tok, uid);
    channel(a, tok, "UCgone", NULL, ch);
    fixture_project(&a->t, uid, ch, NULL, project);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", ch);
    test_resp r = test_req(a, "DELETE", path, tok, NULL, NULL);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(
        count(a, "SELECT count(*) FROM projects WHERE id = '%s' AND channel_id IS NULL", project),
        1);
}

/* A channel's name of exactly its limit in characters of 2, 3 and 4 bytes
 * comes back unchanged from create, get and list; one character more is a
 * 422 that writes nothing. (A YouTube id is ASCII by rule.) */
static void test_channel_names_of_multibyte_characters_round_trip_at_their_limit(void **state)
{
    test_api *a = *state;
    char t[128], uid[UUID_STR_LEN + 1];
    user(a, "ana@example.com", t, uid);
    test_set_plan(a, "ana@example.com", "pro");
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        char *name = test_repeat("", test_utf8_units[u], 200);
        char yt[16];
        snprintf(yt, sizeof(yt), "UCwide%d", u);
        json_t *doc = json_pack("{s:s,s:s}", "youtube_channel_id", yt, "name", name);
        char *body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        test_resp r = test_req(a, "POST", "/api/v1/channels", t, body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(str(&r, "name"), name);
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/channels/%s", str(&r, "id"));
        test_resp_free(&r);
        free(body);
        r = test_req(a, "GET", path, t, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "name"), name);
        test_resp_free(&r);
        r = test_req(a, "GET", "/api/v1/channels", t, NULL, NULL);
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), (size_t)u + 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "name")),
                            name);
        test_resp_free(&r);

        char *longer = test_repeat(name, test_utf8_units[u], 1);
        doc = json_pack("{s:s,s:s}", "youtube_channel_id", "UClonger", "name", longer);
        body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        r = test_req(a, "POST", "/api/v1/channels", t, body, NULL);
        test_expect(&r, 422, "invalid-request");
        assert_string_equal(str(&r, "field"), "name");
        test_resp_free(&r);
        free(body);
        doc = json_pack("{s:s}", "name", longer);
        body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        r = test_req(a, "PATCH", path, t, body, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
        free(body);
        free(longer);
        free(name);
    }
    assert_int_equal(count(a, "SELECT COUNT(*) FROM channels"), TEST_UTF8_UNITS);
}

/* What a channel registered by hand does not know yet (its counts and the
 * time of its stats) is stored as NULL, not as zero or the epoch, and a
 * cleared persona's log row has no version. */
static void test_a_channel_registered_by_hand_stores_what_it_does_not_know_as_null(void **state)
{
    test_api *a = *state;
    char tok[128], uid[37], id[37], path[128];
    user(a, "ana@example.com", tok, uid);
    channel(a, tok, "UCunknown", NULL, id);
    assert_int_equal(count(a,
                           "SELECT count(*) FROM channels WHERE id = '%s' AND subscriber_count IS "
                           "NULL AND view_count IS NULL AND video_count IS NULL AND "
                           "stats_updated_at IS NULL AND account_id IS NULL AND custom_url IS NULL",
                           id),
                     1);
    char persona[37];
    test_resp r = test_req(a, "POST", "/api/v1/personas", tok,
                           "{\"name\":\"Mine\",\"system_instruction\":\"Explain.\"}", NULL);
    test_expect(&r, 201, NULL);
    snprintf(persona, sizeof(persona), "%s", str(&r, "id"));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/channels/%s", id);
    char body[128];
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", persona);
    r = test_req(a, "PATCH", path, tok, body, NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, tok, "{\"persona_id\":null}", NULL);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    assert_int_equal(count(a,
                           "SELECT count(*) FROM channel_persona_assignments WHERE channel_id = "
                           "'%s' AND persona_id IS NULL AND persona_version IS NULL AND reason IS "
                           "NULL AND previous_persona_id = '%s'",
                           id, persona),
                     1);
    assert_int_equal(count(a,
                           "SELECT count(*) FROM channel_persona_assignments WHERE channel_id = "
                           "'%s' AND persona_version = 1",
                           id),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_channel_create_read_update_delete_round_trip,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_duplicate_youtube_channel_id_is_409_but_another_user_may_register_it,
            test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_free_plan_allows_one_channel_and_upgrading_lifts_the_limit, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(test_assigning_personas_checks_visibility_and_plan,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(test_every_persona_change_writes_one_assignment_row,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_channel_list_filters_by_persona_and_pages_walk_every_channel_once, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_mass_assignment_is_refused_naming_the_field_and_changes_nothing, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(test_bad_channel_input_is_refused_and_changes_nothing,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_another_users_channel_is_404_for_every_method_and_stays_unchanged, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(test_deleting_a_channel_keeps_its_projects_with_no_channel,
                                        test_api_setup, test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_channel_names_of_multibyte_characters_round_trip_at_their_limit, test_api_setup,
            test_api_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_channel_registered_by_hand_stores_what_it_does_not_know_as_null, test_api_setup,
            test_api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
