/*
 * The OpenAPI document served at /api/openapi.json agrees with the router:
 * every route is documented with its method, path parameters and responses,
 * and the document names no route the server does not have. The README's
 * example of an error is checked against the server here too.
 */
#include "testlib.h"

#include "http/routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* True when the operation (or its path item) declares path parameter name. */
static bool declares_param(json_t *path_item, json_t *op, const char *name, json_t *doc)
{
    json_t *lists[2] = {json_object_get(op, "parameters"),
                        json_object_get(path_item, "parameters")};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p)
        {
            const char *ref = json_string_value(json_object_get(p, "$ref"));
            if (ref != NULL) { /* "#/components/parameters/<Name>" */
                const char *last = strrchr(ref, '/');
                p = json_object_get(
                    json_object_get(json_object_get(doc, "components"), "parameters"),
                    last ? last + 1 : ref);
            }
            const char *in = json_string_value(json_object_get(p, "in"));
            const char *n = json_string_value(json_object_get(p, "name"));
            if (in && n && strcmp(in, "path") == 0 && strcmp(n, name) == 0)
                return true;
        }
    }
    return false;
}

static void test_the_served_document_is_openapi_3_1_json(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/api/openapi.json", NULL, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "openapi")), "3.1.0");
    assert_non_null(json_object_get(json_object_get(r.json, "info"), "version"));
    assert_true(json_is_object(json_object_get(r.json, "paths")));
    test_resp_free(&r);
}

static void test_every_route_is_documented_with_its_parameters_and_responses(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/api/openapi.json", NULL, NULL, NULL);
    json_t *paths = json_object_get(r.json, "paths");
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        char m[16];
        lower(routes[i].method, m, sizeof(m));
        json_t *item = json_object_get(paths, routes[i].pattern);
        json_t *op = json_object_get(item, m);
        if (op == NULL) {
            print_error("undocumented route: %s %s\n", routes[i].method, routes[i].pattern);
            missing++;
            continue;
        }
        /* Every {param} of the pattern is declared as a path parameter. */
        for (const char *p = strchr(routes[i].pattern, '{'); p; p = strchr(p + 1, '{')) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)strcspn(p + 1, "}"), p + 1);
            if (!declares_param(item, op, name, r.json)) {
                print_error("%s %s: path parameter '%s' is not declared\n", routes[i].method,
                            routes[i].pattern, name);
                missing++;
            }
        }
        json_t *responses = json_object_get(op, "responses");
        bool has_success = false, has_401 = json_object_get(responses, "401") != NULL;
        const char *code;
        json_t *v;
        json_object_foreach(responses, code, v)
        {
            if (code[0] == '2')
                has_success = true;
        }
        bool public_route = strncmp(routes[i].pattern, "/api/v1/", 8) != 0 ||
                            strcmp(routes[i].pattern, "/api/v1/auth/signup") == 0 ||
                            strcmp(routes[i].pattern, "/api/v1/auth/login") == 0;
        if (!has_success || (!public_route && !has_401)) {
            print_error("%s %s: responses must list a 2xx%s\n", routes[i].method, routes[i].pattern,
                        public_route ? "" : " and 401");
            missing++;
        }
        if ((strcmp(m, "post") == 0 || strcmp(m, "patch") == 0) &&
            json_object_get(responses, "422") == NULL &&
            json_object_get(op, "requestBody") != NULL) {
            print_error("%s %s: a body-taking operation must document 422\n", routes[i].method,
                        routes[i].pattern);
            missing++;
        }
    }
    free(routes);
    test_resp_free(&r);
    assert_int_equal(missing, 0);
}

static void test_the_document_names_no_route_the_server_lacks(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/api/openapi.json", NULL, NULL, NULL);
    json_t *paths = json_object_get(r.json, "paths");
    size_t n = 0;
    http_route *routes = http_all_routes(&n);
    int extra = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *key;
        json_t *op;
        json_object_foreach(item, key, op)
        {
            if (strcmp(key, "parameters") == 0 || strcmp(key, "summary") == 0 ||
                strcmp(key, "description") == 0)
                continue;
            bool found = false;
            for (size_t i = 0; i < n && !found; i++) {
                char m[16];
                lower(routes[i].method, m, sizeof(m));
                found = strcmp(routes[i].pattern, path) == 0 && strcmp(m, key) == 0;
            }
            if (!found) {
                print_error("documented but not served: %s %s\n", key, path);
                extra++;
            }
        }
    }
    free(routes);
    test_resp_free(&r);
    assert_int_equal(extra, 0);
}

/* The README's example of an error is what the server answers to it. */
static void test_the_readmes_error_example_is_what_the_server_answers(void **state)
{
    test_api *a = *state;
    FILE *f = fopen(PSTUDIO_SOURCE_DIR "/README.md", "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *errors = strstr(text, "\n## Errors\n");
    assert_non_null(errors);
    const char *start = strstr(errors, "```json\n");
    assert_non_null(start);
    start += 8;
    const char *end = strstr(start, "```");
    assert_non_null(end);
    json_error_t je;
    json_t *example = json_loadb(start, (size_t)(end - start), 0, &je);
    if (example == NULL)
        fail_msg("the README's error example is not JSON: %s", je.text);
    const char *path = json_string_value(json_object_get(example, "instance"));
    assert_non_null(path);
    test_resp r = test_req(a, "GET", path, NULL, NULL, NULL);
    assert_int_equal(r.status, json_integer_value(json_object_get(example, "status")));
    assert_non_null(r.json);
    assert_int_equal(json_object_size(r.json), json_object_size(example));
    const char *key;
    json_t *v;
    json_object_foreach(example, key, v)
    {
        json_t *got = json_object_get(r.json, key);
        if (got == NULL)
            fail_msg("the server's answer has no \"%s\": %s", key, r.body);
        if (strcmp(key, "request_id") != 0 && !json_equal(got, v))
            fail_msg("\"%s\" differs from the README's example: %s", key, r.body);
    }
    test_resp_free(&r);
    json_decref(example);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_api_setup, test_api_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_served_document_is_openapi_3_1_json),
        T(test_every_route_is_documented_with_its_parameters_and_responses),
        T(test_the_document_names_no_route_the_server_lacks),
        T(test_the_readmes_error_example_is_what_the_server_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
