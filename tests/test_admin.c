/* Plans and the admin view of users, over the real API. */
#include "testlib.h"

#include "base/timeutil.h"
#include "domain/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const test_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static void test_every_user_can_list_plans_in_rank_order(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    test_resp r = test_req(a, "GET", "/api/v1/plans", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "code")),
                        "free");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 2), "code")),
                        "pro");
    test_resp_free(&r);
}

static void test_admin_endpoints_are_forbidden_to_users_and_change_nothing(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "ana@example.com", t);
    const struct {
        const char *method, *path, *body;
    } calls[] = {
        {"POST", "/api/v1/admin/plans", "{\"code\":\"x\",\"name\":\"X\",\"rank\":5}"},
        {"PATCH", "/api/v1/admin/plans/01936f4e-0000-7000-8000-000000000001",
         "{\"max_channels\":99}"},
        {"GET", "/api/v1/admin/users", NULL},
        {"PATCH", "/api/v1/admin/users/01936f4e-0000-7000-8000-000000000001",
         "{\"role\":\"admin\"}"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        test_resp r = test_req(a, calls[i].method, calls[i].path, t, calls[i].body, NULL);
        test_expect(&r, 403, "forbidden");
        test_resp_free(&r);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM plans"), 3);
    assert_int_equal(testdb_scalar(&a->t, "SELECT max_channels FROM plans WHERE code = 'free'"), 1);
}

static void test_admin_creates_and_edits_plans_with_validated_fields(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "root@example.com", t);
    test_make_admin(a, "root@example.com");
    test_resp r = test_req(a, "POST", "/api/v1/admin/plans", t,
                           "{\"code\":\"studio\",\"name\":\"Studio\",\"rank\":30,"
                           "\"max_channels\":null,\"max_projects_per_month\":10000,"
                           "\"max_generations_per_month\":25000}",
                           NULL);
    test_expect(&r, 201, NULL);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", str(&r, "id"));
    assert_true(json_is_null(json_object_get(r.json, "max_channels")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "max_generations_per_month")),
                     25000);
    test_resp_free(&r);

    r = test_req(a, "PATCH", path, t,
                 "{\"max_channels\":500,\"name\":\"Studio+\",\"max_generations_per_month\":null}",
                 NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "max_channels")), 500);
    assert_true(json_is_null(json_object_get(r.json, "max_generations_per_month")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "max_projects_per_month")), 10000);
    assert_string_equal(str(&r, "code"), "studio");
    test_resp_free(&r);
    /* The code is fixed once created; ranks are unique. */
    r = test_req(a, "PATCH", path, t, "{\"code\":\"other\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "code");
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"rank\":0}", NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/admin/plans", t,
                 "{\"code\":\"free\",\"name\":\"F\",\"rank\":77}", NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    r = test_req(a, "POST", "/api/v1/admin/plans", t,
                 "{\"code\":\"neg\",\"name\":\"N\",\"rank\":-1}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    /* A default persona must be a SYSTEM persona. */
    r = test_req(a, "PATCH", path, t,
                 "{\"default_persona_id\":\"01936f4e-0000-7000-8000-0000000000aa\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "default_persona_id");
    test_resp_free(&r);
    r = test_req(a, "PATCH", "/api/v1/admin/plans/01936f4e-0000-7000-8000-0000000000ff", t,
                 "{\"name\":\"Ghost\"}", NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM plans"), 4);
}

static void test_admin_moves_a_user_to_another_plan_and_role(void **state)
{
    test_api *a = *state;
    char t[128], u[128];
    test_signup(a, "root@example.com", t);
    test_make_admin(a, "root@example.com");
    test_signup(a, "ana@example.com", u);
    test_resp r = test_req(a, "GET", "/api/v1/admin/users?email=ANA", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s",
             json_string_value(json_object_get(json_array_get(items, 0), "id")));
    test_resp_free(&r);

    r = test_req(a, "PATCH", path, t, "{\"plan\":\"pro\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_string_equal(str(&r, "plan"), "pro");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", u, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "plan"), "code")),
                        "pro");
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"plan\":\"platinum\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"email\":\"x@example.com\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    assert_string_equal(str(&r, "field"), "email");
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"role\":\"root\"}", NULL);
    test_expect(&r, 422, "invalid-request");
    test_resp_free(&r);
}

static void test_the_last_admin_cannot_be_demoted(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "root@example.com", t);
    test_make_admin(a, "root@example.com");
    test_resp r = test_req(a, "GET", "/api/v1/me", t, NULL, NULL);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s", str(&r, "id"));
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"role\":\"user\"}", NULL);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM users WHERE role = 'admin'"), 1);
}

/* The request body for a JSON object built by json_pack; free() it. */
static char *body_of(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(text);
    return text;
}

/* A user's name, a plan's code and a plan's name of exactly their limits in
 * characters of 2, 3 and 4 bytes come back unchanged from the admin views
 * and from /me of a user on that plan (the caller's plan code is read into a
 * buffer that used to hold 32 bytes, which made /me a 500); one character
 * more is a 422 that changes nothing. */
static void test_user_names_and_plan_texts_of_multibyte_characters_round_trip(void **state)
{
    test_api *a = *state;
    char root[128], u[128], path[128];
    test_signup(a, "root@example.com", root);
    test_make_admin(a, "root@example.com");
    test_signup(a, "ana@example.com", u);
    test_resp r = test_req(a, "GET", "/api/v1/me", u, NULL, NULL);
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s", str(&r, "id"));
    test_resp_free(&r);

    for (int i = 0; i < TEST_UTF8_UNITS; i++) {
        const char *unit = test_utf8_units[i];
        char *name = test_repeat("", unit, USER_NAME_MAX);
        char *body = body_of(json_pack("{s:s}", "name", name));
        r = test_req(a, "PATCH", path, root, body, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "name"), name);
        test_resp_free(&r);
        free(body);
        char *longer = test_repeat(name, unit, 1);
        body = body_of(json_pack("{s:s}", "name", longer));
        r = test_req(a, "PATCH", path, root, body, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
        r = test_req(a, "GET", path, root, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "name"), name);
        test_resp_free(&r);
        free(body);
        free(longer);
        free(name);

        char *code = test_repeat("", unit, PLAN_CODE_MAX);
        char *plan_name =
            test_repeat("", test_utf8_units[(i + 1) % TEST_UTF8_UNITS], PLAN_NAME_MAX);
        body = body_of(json_pack("{s:s,s:s,s:i}", "code", code, "name", plan_name, "rank", 30 + i));
        r = test_req(a, "POST", "/api/v1/admin/plans", root, body, NULL);
        test_expect(&r, 201, NULL);
        assert_string_equal(str(&r, "code"), code);
        assert_string_equal(str(&r, "name"), plan_name);
        test_resp_free(&r);
        free(body);
        body = body_of(json_pack("{s:s}", "plan", code));
        r = test_req(a, "PATCH", path, root, body, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(str(&r, "plan"), code);
        test_resp_free(&r);
        free(body);
        r = test_req(a, "GET", "/api/v1/me", u, NULL, NULL);
        test_expect(&r, 200, NULL);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r.json, "plan"), "code")), code);
        test_resp_free(&r);

        char *long_code = test_repeat(code, unit, 1);
        char *long_name = test_repeat(plan_name, unit, 1);
        body = body_of(json_pack("{s:s,s:s,s:i}", "code", long_code, "name", "N", "rank", 40 + i));
        r = test_req(a, "POST", "/api/v1/admin/plans", root, body, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
        free(body);
        body = body_of(json_pack("{s:s,s:s,s:i}", "code", "x", "name", long_name, "rank", 40 + i));
        r = test_req(a, "POST", "/api/v1/admin/plans", root, body, NULL);
        test_expect(&r, 422, "invalid-request");
        test_resp_free(&r);
        free(body);
        free(long_name);
        free(long_code);
        free(plan_name);
        free(code);
    }
    assert_int_equal(testdb_scalar(&a->t, "SELECT COUNT(*) FROM plans"), 3 + TEST_UTF8_UNITS);
    r = test_req(a, "GET", "/api/v1/plans", u, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3 + TEST_UTF8_UNITS);
    test_resp_free(&r);
}

/* A time member is written as every other resource writes one:
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ", whatever the engine. */
static void assert_api_time(const json_t *doc, const char *key)
{
    const char *t = json_string_value(json_object_get(doc, key));
    assert_non_null(t);
    int64_t usec = 0;
    assert_true(time_parse(t, &usec));
    char canonical[TIME_STR_LEN + 1];
    time_format(usec, canonical);
    assert_string_equal(t, canonical);
}

/* Plans and the admin view of users wrote their timestamps as the engine's
 * text: on PostgreSQL "2026-12-06 19:56:43.123456+00", which is not RFC
 * 3339 and not what projects, personas or API keys answer. */
static void test_plan_and_user_times_are_rfc_3339_on_every_engine(void **state)
{
    test_api *a = *state;
    char t[128];
    test_signup(a, "root@example.com", t);
    test_make_admin(a, "root@example.com");
    test_resp r = test_req(a, "GET", "/api/v1/plans", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < json_array_size(items); i++) {
        assert_api_time(json_array_get(items, i), "created_at");
        assert_api_time(json_array_get(items, i), "updated_at");
    }
    test_resp_free(&r);

    r = test_req(a, "POST", "/api/v1/admin/plans", t,
                 "{\"code\":\"studio\",\"name\":\"S\",\"rank\":30}", NULL);
    test_expect(&r, 201, NULL);
    assert_api_time(r.json, "created_at");
    assert_api_time(r.json, "updated_at");
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", str(&r, "id"));
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"name\":\"Studio\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_api_time(r.json, "updated_at");
    test_resp_free(&r);

    r = test_req(a, "GET", "/api/v1/admin/users", t, NULL, NULL);
    test_expect(&r, 200, NULL);
    json_t *user = json_array_get(json_object_get(r.json, "items"), 0);
    assert_api_time(user, "created_at");
    assert_api_time(user, "updated_at");
    snprintf(path, sizeof(path), "/api/v1/admin/users/%s",
             json_string_value(json_object_get(user, "id")));
    test_resp_free(&r);
    r = test_req(a, "PATCH", path, t, "{\"name\":\"Root\"}", NULL);
    test_expect(&r, 200, NULL);
    assert_api_time(r.json, "created_at");
    assert_api_time(r.json, "updated_at");
    test_resp_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_api_setup, test_api_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_user_can_list_plans_in_rank_order),
        T(test_admin_endpoints_are_forbidden_to_users_and_change_nothing),
        T(test_admin_creates_and_edits_plans_with_validated_fields),
        T(test_admin_moves_a_user_to_another_plan_and_role),
        T(test_the_last_admin_cannot_be_demoted),
        T(test_user_names_and_plan_texts_of_multibyte_characters_round_trip),
        T(test_plan_and_user_times_are_rfc_3339_on_every_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
