/*
 * The dashboard as the server serves it: the embedded files under their
 * three path shapes, with their types, validators and the page's
 * Content-Security-Policy; nothing else answered by them (no file outside
 * web/, no shadowing of the API or the operational endpoints); and the rules
 * the dashboard's own code keeps (no innerHTML, nothing stored but the
 * language). The dashboard in a real browser is tests/web/.
 */
#include "testlib.h"

#include "http/web_assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_header(const test_resp *r, const char *name, const char *want)
{
    char got[1024];
    if (!test_resp_header(r, name, got, sizeof(got)))
        fail_msg("no %s header in:\n%s", name, r->headers);
    if (strcmp(got, want) != 0)
        fail_msg("%s is \"%s\", not \"%s\"", name, got, want);
}

static void test_the_page_is_served_at_the_root_with_a_strict_policy(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/", NULL, NULL, NULL);
    test_expect(&r, 200, NULL);
    expect_header(&r, "Content-Type", "text/html; charset=utf-8");
    expect_header(&r, "Cache-Control", "no-cache");
    expect_header(&r, "X-Content-Type-Options", "nosniff");
    char csp[1024];
    assert_true(test_resp_header(&r, "Content-Security-Policy", csp, sizeof(csp)));
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "script-src 'self';"));
    assert_non_null(strstr(csp, "style-src 'self';"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    /* The scene board plays narration from the media route (decision 96). */
    assert_non_null(strstr(csp, "media-src 'self';"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "unsafe-eval"));
    assert_non_null(strstr(r.body, "<script type=\"module\" src=\"/app/main.js\"></script>"));
    /* The chart's stylesheet is a file, not inline style (decision 95). */
    assert_non_null(
        strstr(r.body, "<link rel=\"stylesheet\" href=\"/vendor/uplot/uPlot.min.css\">"));
    test_resp_free(&r);
}

static void test_every_embedded_file_is_served_with_its_type_and_bytes(void **state)
{
    test_api *a = *state;
    assert_true(web_assets_count > 10);
    for (int i = 0; i < web_assets_count; i++) {
        const web_asset *f = &web_assets[i];
        /* sorted, which the lookup's binary search relies on */
        if (i > 0)
            assert_true(strcmp(web_assets[i - 1].path, f->path) < 0);
        const char *path = strcmp(f->path, "/index.html") == 0 ? "/" : f->path;
        test_resp r = test_req(a, "GET", path, NULL, NULL, NULL);
        test_expect(&r, 200, NULL);
        expect_header(&r, "Content-Type", f->content_type);
        expect_header(&r, "ETag", f->etag);
        assert_int_equal(strlen(r.body), f->len);
        assert_memory_equal(r.body, f->data, f->len);
        test_resp_free(&r);
    }
}

static void test_modules_and_styles_have_their_content_types(void **state)
{
    test_api *a = *state;
    static const char *const cases[][2] = {
        {"/app/main.js", "text/javascript; charset=utf-8"},
        {"/app/style.css", "text/css; charset=utf-8"},
        {"/vendor/preact/preact.mjs", "text/javascript; charset=utf-8"},
        {"/vendor/preact/hooks.mjs", "text/javascript; charset=utf-8"},
        {"/vendor/htm/htm.mjs", "text/javascript; charset=utf-8"},
        {"/vendor/i18next/i18next.js", "text/javascript; charset=utf-8"},
        {"/vendor/preact/LICENSE", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_resp r = test_req(a, "GET", cases[i][0], NULL, NULL, NULL);
        test_expect(&r, 200, NULL);
        expect_header(&r, "Content-Type", cases[i][1]);
        test_resp_free(&r);
    }
}

static void test_a_current_etag_is_answered_304_without_a_body(void **state)
{
    test_api *a = *state;
    test_resp r = test_req(a, "GET", "/app/main.js", NULL, NULL, NULL);
    char etag[64], h[200];
    h[0] = '\0';
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_true(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
    test_resp_free(&r);

    char forms[4][100];
    snprintf(forms[0], sizeof(forms[0]), "If-None-Match: %s", etag);
    snprintf(forms[1], sizeof(forms[1]), "If-None-Match: \"other\", %s", etag);
    snprintf(forms[2], sizeof(forms[2]), "If-None-Match: W/%s", etag);
    snprintf(forms[3], sizeof(forms[3]), "If-None-Match: *");
    for (size_t i = 0; i < 4; i++) {
        const char *hdr[] = {forms[i], NULL};
        r = test_req(a, "GET", "/app/main.js", NULL, NULL, hdr);
        test_expect(&r, 304, NULL);
        assert_string_equal(r.body, "");
        expect_header(&r, "ETag", etag);
        test_resp_free(&r);
    }
    /* another file's tag, or a tag that only contains this one, is not a match */
    snprintf(h, sizeof(h), "If-None-Match: \"x%s\"", etag + 1);
    const char *other[] = {"If-None-Match: \"0000\"", h, NULL};
    for (int i = 0; i < 2; i++) {
        const char *hdr[] = {other[i], NULL};
        r = test_req(a, "GET", "/app/main.js", NULL, NULL, hdr);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
}

static void test_nothing_outside_the_embedded_files_is_served(void **state)
{
    test_api *a = *state;
    static const char *const paths[] = {
        "/app/nope.js",
        "/app/..%2Findex.html",
        "/app/%2E%2E",
        "/app/.hidden",
        "/vendor/preact/nope.mjs",
        "/vendor/%2E%2E/index.html",
        "/vendor/preact/..%2F..%2Findex.html",
        "/index.html",
        "/app/main.js%00",
        "/vendor/VERSIONS.txt",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        test_resp r = test_req(a, "GET", paths[i], NULL, NULL, NULL);
        if (r.status != 404 && r.status != 400)
            fail_msg("%s answered %ld: %s", paths[i], r.status, r.body);
        char ct[128];
        assert_true(test_resp_header(&r, "Content-Type", ct, sizeof(ct)));
        assert_string_equal(ct, "application/problem+json");
        test_resp_free(&r);
    }
}

static void test_the_dashboard_shadows_no_other_route(void **state)
{
    test_api *a = *state;
    /* The screens live in the fragment: a server path of theirs is not ours. */
    test_resp r = test_req(a, "GET", "/channels", NULL, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/nothing-here", NULL, NULL, NULL);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = test_req(a, "GET", "/healthz", NULL, NULL, NULL);
    test_expect(&r, 200, NULL);
    assert_non_null(r.json);
    test_resp_free(&r);
    r = test_req(a, "GET", "/api/v1/me", NULL, NULL, NULL);
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
    r = test_req(a, "POST", "/", NULL, "{}", NULL);
    test_expect(&r, 405, "method-not-allowed");
    test_resp_free(&r);
    /* The API keeps its own policy, which allows nothing. */
    r = test_req(a, "GET", "/api/openapi.json", NULL, NULL, NULL);
    expect_header(&r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    test_resp_free(&r);
}

/* The rules of the dashboard's own code that a reader could miss: strings
 * from the API reach the page as text only, and the only thing kept in the
 * browser's storage is the language. */
static void test_the_dashboards_code_never_writes_markup_or_stores_tokens(void **state)
{
    int app_files = 0;
    for (int i = 0; i < web_assets_count; i++) {
        const web_asset *f = &web_assets[i];
        if (strncmp(f->path, "/app/", 5) != 0)
            continue;
        app_files++;
        static const char *const banned[] = {"innerHTML",
                                             "outerHTML",
                                             "insertAdjacentHTML",
                                             "document.write",
                                             "dangerouslySetInnerHTML",
                                             "sessionStorage",
                                             "eval("};
        for (size_t b = 0; b < sizeof(banned) / sizeof(banned[0]); b++)
            if (strstr(f->data, banned[b]) != NULL)
                fail_msg("%s uses %s", f->path, banned[b]);
        const char *ls = strstr(f->data, "localStorage.setItem(");
        if (ls != NULL && strncmp(ls, "localStorage.setItem(PREF,", 26) != 0)
            fail_msg("%s stores something other than the language preference", f->path);
        if (strstr(f->data, "style=") != NULL)
            fail_msg("%s sets a style attribute, which the page's CSP refuses", f->path);
    }
    assert_true(app_files >= 5);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_api_setup, test_api_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_page_is_served_at_the_root_with_a_strict_policy),
        T(test_every_embedded_file_is_served_with_its_type_and_bytes),
        T(test_modules_and_styles_have_their_content_types),
        T(test_a_current_etag_is_answered_304_without_a_body),
        T(test_nothing_outside_the_embedded_files_is_served),
        T(test_the_dashboard_shadows_no_other_route),
        T(test_the_dashboards_code_never_writes_markup_or_stores_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
