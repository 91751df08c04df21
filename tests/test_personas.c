/*
 * The personas resource over real HTTP, on SQLite and PostgreSQL: who sees
 * what, plan locks, validation and mass assignment, optimistic concurrency,
 * the version history (written in the same transaction as the change),
 * restore, diff, and export/import.
 */
#include "testlib.h"

#include "base/timeutil.h"
#include "base/uuid.h"
#include "domain/limits.h"
#include "domain/persona_store.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
    test_api a;
    char alice[128]; /* a user on the free plan */
    char bob[128];   /* another user */
    char admin[128]; /* an admin */
} fx;

static int setup_common(void **state, bool keep_starters)
{
    fx *x = calloc(1, sizeof(*x));
    test_api_start(&x->a);
    test_signup(&x->a, "alice@example.com", x->alice);
    test_signup(&x->a, "bob@example.com", x->bob);
    test_signup(&x->a, "admin@example.com", x->admin);
    test_make_admin(&x->a, "admin@example.com");
    /* Start from an empty library: the tests count what they create, and the
     * starter SYSTEM personas of migration 0004 would be in every count. */
    if (!keep_starters)
        testdb_exec(&x->a.t, "DELETE FROM personas");
    *state = x;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, false);
}

static int setup_with_starters(void **state)
{
    return setup_common(state, true);
}

static int teardown(void **state)
{
    fx *x = *state;
    test_api_stop(&x->a);
    free(x);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static test_resp req(fx *x, const char *method, const char *token, const char *body,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static test_resp req(fx *x, const char *method, const char *token, const char *body,
                     const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return test_req(&x->a, method, path, token, body, NULL);
}

static test_resp req_if_match(fx *x, const char *method, const char *token, const char *body,
                              const char *path, long version)
{
    char h[64];
    snprintf(h, sizeof(h), "If-Match: \"%ld\"", version);
    const char *headers[] = {h, NULL};
    return test_req(&x->a, method, path, token, body, headers);
}

static int64_t scalar(fx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int64_t scalar(fx *x, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return testdb_scalar(&x->a.t, sql);
}

static int64_t history_count(fx *x, const char *id)
{
    return scalar(x, "SELECT COUNT(*) FROM persona_history WHERE persona_id = '%s'", id);
}

static int64_t persona_version(fx *x, const char *id)
{
    return scalar(x, "SELECT version FROM personas WHERE id = '%s'", id);
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Creates a persona from a JSON body and returns its id (37 bytes). */
static void create_as(fx *x, const char *token, const char *body, char *id)
{
    test_resp r = req(x, "POST", token, body, "/api/v1/personas");
    test_expect(&r, 201, NULL);
    snprintf(id, UUID_STR_LEN + 1, "%s", jstr(r.json, "id"));
    test_resp_free(&r);
}

static void create_named(fx *x, const char *token, const char *name, const char *extra, char *id)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"system_instruction\":\"You explain science calmly.\"%s%s}", name,
             extra ? "," : "", extra ? extra : "");
    create_as(x, token, body, id);
}

/* Asserts a 422 naming field, with nothing written to the personas tables. */
static void expect_invalid(test_resp *r, const char *field)
{
    test_expect(r, 422, "invalid-request");
    const char *got = jstr(r->json, "field");
    if (got == NULL || strcmp(got, field) != 0)
        fail_msg("expected the problem to name '%s': %s", field, r->body);
    test_resp_free(r);
}

/* True when items (an array of personas) holds one with this id. */
static bool has_id(const json_t *items, const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (strcmp(jstr(it, "id"), id) == 0)
            return true;
    }
    return false;
}

static json_t *find_id(const json_t *items, const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (strcmp(jstr(it, "id"), id) == 0)
            return it;
    }
    return NULL;
}

/* ---- listing ------------------------------------------------------------------ */

static void test_list_shows_system_own_and_public_personas_but_never_others_private(void **state)
{
    fx *x = *state;
    char sys[37], mine[37], bob_public[37], bob_private[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"name\":\"Official\",\"system_instruction\":\"Be clear.\"}",
              sys);
    create_named(x, x->alice, "Mine", NULL, mine);
    create_named(x, x->bob, "Shared", "\"visibility\":\"PUBLIC\"", bob_public);
    create_named(x, x->bob, "Secret", NULL, bob_private);

    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas");
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_true(has_id(items, sys));
    assert_true(has_id(items, mine));
    assert_true(has_id(items, bob_public));
    assert_false(has_id(items, bob_private));
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    /* Newest first. */
    assert_string_equal(jstr(json_array_get(items, 0), "id"), bob_public);
    test_resp_free(&r);

    r = req(x, "GET", x->bob, NULL, "/api/v1/personas");
    test_expect(&r, 200, NULL);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_false(has_id(items, mine));
    assert_true(has_id(items, bob_private));
    test_resp_free(&r);

    r = req(x, "GET", NULL, NULL, "/api/v1/personas");
    test_expect(&r, 401, NULL);
    test_resp_free(&r);
}

/* The list is a summary: no instruction, its length in characters and its
 * first 160 characters instead; the persona itself keeps the whole text.
 * A locked persona's list entry withholds both, as GET withholds the text. */
static void test_list_shows_the_instructions_length_and_preview_not_the_text(void **state)
{
    fx *x = *state;
    char *long_text = test_repeat("", "é", 200);
    json_t *in = json_pack("{s:s,s:s}", "name", "Long", "system_instruction", long_text);
    char *body = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    char long_id[37], short_id[37], pro[37];
    create_as(x, x->alice, body, long_id);
    free(body);
    create_as(x, x->alice, "{\"name\":\"Short\",\"system_instruction\":\"Be brief.\"}", short_id);
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"required_plan\":\"pro\",\"name\":\"Pro voice\","
              "\"system_instruction\":\"Premium narration.\"}",
              pro);

    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas?limit=100");
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    size_t seen = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *p = json_array_get(items, i);
        const char *id = jstr(p, "id");
        assert_null(json_object_get(p, "system_instruction"));
        if (strcmp(id, long_id) == 0) {
            char *preview = test_repeat("", "é", 160);
            assert_int_equal(jint(p, "system_instruction_length"), 200);
            assert_string_equal(jstr(p, "system_instruction_preview"), preview);
            free(preview);
            seen++;
        } else if (strcmp(id, short_id) == 0) {
            assert_int_equal(jint(p, "system_instruction_length"), 9);
            assert_string_equal(jstr(p, "system_instruction_preview"), "Be brief.");
            seen++;
        } else if (strcmp(id, pro) == 0) {
            assert_true(json_is_true(json_object_get(p, "locked")));
            assert_true(json_is_null(json_object_get(p, "system_instruction_length")));
            assert_true(json_is_null(json_object_get(p, "system_instruction_preview")));
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", long_id);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "system_instruction"), long_text);
    assert_null(json_object_get(r.json, "system_instruction_preview"));
    test_resp_free(&r);
    free(long_text);

    /* The database keeps the length and preview beside the text: an edit
     * changes them with it. */
    r = req(x, "PATCH", x->alice, "{\"system_instruction\":\"Be brief, 🎬 always.\"}",
            "/api/v1/personas/%s", long_id);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas?mine=true&limit=100");
    test_expect(&r, 200, NULL);
    items = json_object_get(r.json, "items");
    seen = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *p = json_array_get(items, i);
        if (strcmp(jstr(p, "id"), long_id) != 0)
            continue;
        assert_int_equal(jint(p, "system_instruction_length"), 19);
        assert_string_equal(jstr(p, "system_instruction_preview"), "Be brief, 🎬 always.");
        seen++;
    }
    assert_int_equal(seen, 1);
    test_resp_free(&r);
}

static void test_list_filters_by_type_visibility_language_and_mine(void **state)
{
    fx *x = *state;
    char sys[37], en[37], pt[37], bob_public[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"name\":\"Official\",\"system_instruction\":\"Be clear.\"}",
              sys);
    create_named(x, x->alice, "English", NULL, en);
    create_named(x, x->alice, "Portuguese", "\"language\":\"pt-BR\",\"visibility\":\"PUBLIC\"", pt);
    create_named(x, x->bob, "Shared", "\"visibility\":\"PUBLIC\"", bob_public);

    struct {
        const char *query;
        int count;
        const char *must;
    } cases[] = {
        {"?type=SYSTEM", 1, sys},       {"?type=CUSTOM", 3, en},
        {"?visibility=PRIVATE", 1, en}, {"?visibility=PUBLIC&type=CUSTOM", 2, pt},
        {"?language=pt-BR", 1, pt},     {"?language=pt-br", 1, pt},
        {"?mine=true", 2, pt},          {"?mine=true&visibility=PUBLIC", 1, pt},
        {"?mine=false", 4, bob_public},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas%s", cases[i].query);
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        if ((int)json_array_size(items) != cases[i].count || !has_id(items, cases[i].must))
            fail_msg("%s: expected %d items including %s, got %s", cases[i].query, cases[i].count,
                     cases[i].must, r.body);
        test_resp_free(&r);
    }

    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas?type=OTHER");
    expect_invalid(&r, "type");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas?mine=yes");
    expect_invalid(&r, "mine");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas?owner_id=%s", en);
    expect_invalid(&r, "owner_id");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas?cursor=7");
    expect_invalid(&r, "cursor");
}

static void test_list_cursor_walks_every_page_exactly_once(void **state)
{
    fx *x = *state;
    enum { N = 7 };
    char ids[N][37];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Persona %d", i);
        create_named(x, x->alice, name, NULL, ids[i]);
    }
    int seen[N] = {0};
    int pages = 0, total = 0;
    char cursor[64] = "";
    for (;;) {
        test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas?limit=3%s%s",
                          cursor[0] ? "&cursor=" : "", cursor);
        test_expect(&r, 200, NULL);
        pages++;
        json_t *items = json_object_get(r.json, "items");
        assert_true(json_array_size(items) <= 3);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            for (int k = 0; k < N; k++)
                if (strcmp(jstr(it, "id"), ids[k]) == 0)
                    seen[k]++;
            total++;
        }
        const char *next = jstr(r.json, "next_cursor");
        if (next == NULL) {
            test_resp_free(&r);
            break;
        }
        /* A UUID is case-insensitive: an uppercased cursor walks the same pages. */
        for (size_t k = 0; next[k] && k + 1 < sizeof(cursor); k++)
            cursor[k] = (char)toupper((unsigned char)next[k]);
        cursor[strlen(next)] = '\0';
        test_resp_free(&r);
        assert_true(pages < 10);
    }
    assert_int_equal(total, N);
    for (int k = 0; k < N; k++)
        assert_int_equal(seen[k], 1);
    assert_int_equal(pages, 3);
}

static void test_locked_flag_follows_the_callers_plan_rank(void **state)
{
    fx *x = *state;
    char pro[37], creator[37], free_id[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"required_plan\":\"pro\",\"name\":\"Pro voice\","
              "\"system_instruction\":\"Premium narration.\"}",
              pro);
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"required_plan\":\"creator\",\"name\":\"Creator voice\","
              "\"system_instruction\":\"Creator narration.\"}",
              creator);
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"name\":\"Free voice\",\"system_instruction\":\"Plain.\"}",
              free_id);

    struct {
        const char *plan;
        bool pro_locked, creator_locked;
    } steps[] = {{"free", true, true},
                 {"creator", true, false},
                 {"pro", false, false},
                 {"free", true, true}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        test_set_plan(&x->a, "alice@example.com", steps[i].plan);
        test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas");
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 3);
        assert_int_equal(json_is_true(json_object_get(find_id(items, pro), "locked")),
                         steps[i].pro_locked);
        assert_int_equal(json_is_true(json_object_get(find_id(items, creator), "locked")),
                         steps[i].creator_locked);
        assert_true(json_is_false(json_object_get(find_id(items, free_id), "locked")));
        test_resp_free(&r);

        r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", pro);
        test_expect(&r, 200, NULL);
        assert_int_equal(json_is_true(json_object_get(r.json, "locked")), steps[i].pro_locked);
        test_resp_free(&r);
    }
}

static void test_locked_persona_hides_its_content_and_cannot_be_exported(void **state)
{
    fx *x = *state;
    char pro[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"required_plan\":\"pro\",\"name\":\"Pro voice\","
              "\"system_instruction\":\"Premium narration.\"}",
              pro);
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", pro);
    test_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "locked")));
    assert_true(json_is_null(json_object_get(r.json, "system_instruction")));
    assert_string_equal(jstr(r.json, "name"), "Pro voice");
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/export", pro);
    test_expect(&r, 403, "plan-upgrade-required");
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/1", pro);
    test_expect(&r, 403, "plan-upgrade-required");
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=1", pro);
    test_expect(&r, 403, "plan-upgrade-required");
    test_resp_free(&r);
    /* The version list carries no content, so it stays readable. */
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history", pro);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    /* An admin sees everything; so does a user once on the plan. */
    r = req(x, "GET", x->admin, NULL, "/api/v1/personas/%s", pro);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "system_instruction"), "Premium narration.");
    test_resp_free(&r);
    test_set_plan(&x->a, "alice@example.com", "pro");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/export", pro);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "system_instruction"), "Premium narration.");
    test_resp_free(&r);
}

/* ---- create, read, update, delete ----------------------------------------- */

static void test_create_returns_version_1_with_etag_location_and_a_history_row(void **state)
{
    fx *x = *state;
    test_resp r = req(x, "POST", x->alice,
                      "{\"name\":\"Narrator\",\"description\":\"Calm\",\"system_instruction\":"
                      "\"You explain science.\",\"temperature\":0.5,\"top_p\":0.9,\"top_k\":20,"
                      "\"language\":\"pt-BR\",\"voice\":\"pt-br+f3\",\"visibility\":\"PUBLIC\","
                      "\"required_plan\":\"creator\",\"change_reason\":\"first draft\"}",
                      "/api/v1/personas");
    test_expect(&r, 201, NULL);
    json_t *p = r.json;
    const char *id = jstr(p, "id");
    assert_true(uuid_is_valid(id));
    assert_string_equal(jstr(p, "type"), "CUSTOM");
    assert_true(uuid_is_valid(jstr(p, "owner_id")));
    assert_string_equal(jstr(p, "visibility"), "PUBLIC");
    assert_string_equal(jstr(p, "required_plan"), "creator");
    assert_string_equal(jstr(p, "name"), "Narrator");
    assert_string_equal(jstr(p, "description"), "Calm");
    assert_string_equal(jstr(p, "system_instruction"), "You explain science.");
    assert_true(json_real_value(json_object_get(p, "temperature")) == 0.5);
    assert_true(json_real_value(json_object_get(p, "top_p")) == 0.9);
    assert_int_equal(jint(p, "top_k"), 20);
    assert_string_equal(jstr(p, "language"), "pt-BR");
    assert_string_equal(jstr(p, "voice"), "pt-br+f3");
    assert_true(json_is_false(json_object_get(p, "is_official")));
    assert_int_equal(jint(p, "version"), 1);
    /* Alice is on free; creator ranks above it. */
    assert_true(json_is_true(json_object_get(p, "locked")));
    int64_t t;
    assert_true(time_parse(jstr(p, "created_at"), &t));
    assert_true(time_parse(jstr(p, "updated_at"), &t));
    char etag[64], loc[128], want[128];
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_string_equal(etag, "\"1\"");
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    snprintf(want, sizeof(want), "/api/v1/personas/%s", id);
    assert_string_equal(loc, want);
    char pid[37];
    snprintf(pid, sizeof(pid), "%s", id);
    test_resp_free(&r);

    assert_int_equal(history_count(x, pid), 1);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/1", pid);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "change_reason"), "first draft");
    json_t *snap = json_object_get(r.json, "snapshot");
    assert_string_equal(jstr(snap, "name"), "Narrator");
    assert_int_equal(jint(snap, "version"), 1);
    test_resp_free(&r);

    /* Defaults for what was not sent. */
    char d[37];
    create_named(x, x->alice, "Defaults", NULL, d);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", d);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "visibility"), "PRIVATE");
    assert_string_equal(jstr(r.json, "required_plan"), "free");
    assert_string_equal(jstr(r.json, "language"), "en");
    assert_true(json_is_null(json_object_get(r.json, "voice")));
    assert_true(json_is_false(json_object_get(r.json, "locked")));
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_string_equal(etag, "\"1\"");
    test_resp_free(&r);
}

static void test_patch_changes_fields_bumps_the_version_and_records_history(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", NULL, id);
    test_resp r = req(x, "PATCH", x->alice,
                      "{\"temperature\":0.9,\"voice\":\"en+m3\",\"change_reason\":\"livelier\"}",
                      "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_true(json_real_value(json_object_get(r.json, "temperature")) == 0.9);
    assert_string_equal(jstr(r.json, "voice"), "en+m3");
    assert_string_equal(jstr(r.json, "name"), "Narrator");
    char etag[32];
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_string_equal(etag, "\"2\"");
    char owner[37];
    snprintf(owner, sizeof(owner), "%s", jstr(r.json, "owner_id"));
    test_resp_free(&r);

    r = req(x, "PATCH", x->alice, "{\"voice\":null}", "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 3);
    assert_true(json_is_null(json_object_get(r.json, "voice")));
    test_resp_free(&r);

    assert_int_equal(persona_version(x, id), 3);
    assert_int_equal(history_count(x, id), 3);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/2", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(jstr(r.json, "changed_by"), owner);
    assert_string_equal(jstr(r.json, "change_reason"), "livelier");
    assert_true(json_real_value(
                    json_object_get(json_object_get(r.json, "snapshot"), "temperature")) == 0.9);
    test_resp_free(&r);
    /* Snapshots keep reals in their shortest exact form, not 0.90000000000000002. */
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM persona_history WHERE persona_id = '%s' AND "
                            "version = 2 AND CAST(snapshot AS TEXT) LIKE '%%0.9%%' AND "
                            "CAST(snapshot AS TEXT) NOT LIKE '%%0.90000000%%'",
                            id),
                     1);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/3", id);
    test_expect(&r, 200, NULL);
    assert_true(json_is_null(json_object_get(r.json, "change_reason")));
    test_resp_free(&r);
}

/* The answer to a change is the row as written: the same document a read
 * returns afterwards, the plan's rank (and so "locked") included. */
static void test_patch_and_restore_answer_what_a_read_returns_after_them(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", NULL, id);
    const char *const changes[] = {
        "{\"temperature\":0.3,\"top_k\":7,\"required_plan\":\"pro\",\"description\":\"caf\u00e9\"}",
        "{\"required_plan\":\"free\",\"voice\":null,\"language\":\"pt-BR\"}",
    };
    for (size_t i = 0; i < 3; i++) {
        test_resp w =
            i < 2 ? req(x, "PATCH", x->alice, changes[i], "/api/v1/personas/%s", id)
                  : req(x, "POST", x->alice, "{\"version\":2}", "/api/v1/personas/%s/restore", id);
        test_expect(&w, 200, NULL);
        test_resp g = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
        test_expect(&g, 200, NULL);
        if (!json_equal(w.json, g.json))
            fail_msg("change %zu answered %s but a read returns %s", i, w.body, g.body);
        char we[32], ge[32];
        assert_true(test_resp_header(&w, "ETag", we, sizeof(we)));
        assert_true(test_resp_header(&g, "ETag", ge, sizeof(ge)));
        assert_string_equal(we, ge);
        test_resp_free(&w);
        test_resp_free(&g);
    }
}

static void test_patch_that_changes_nothing_keeps_the_version(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", NULL, id);
    test_resp r = req(x, "PATCH", x->alice, "{\"name\":\"Narrator\",\"change_reason\":\"noop\"}",
                      "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 1);
    test_resp_free(&r);
    r = req(x, "PATCH", x->alice, "{}", "/api/v1/personas/%s", id);
    expect_invalid(&r, "body");
    assert_int_equal(persona_version(x, id), 1);
    assert_int_equal(history_count(x, id), 1);
}

static void test_delete_removes_the_persona_its_history_and_detaches_channels(void **state)
{
    fx *x = *state;
    char id[37], keep[37];
    create_named(x, x->alice, "Doomed", NULL, id);
    create_named(x, x->alice, "Kept", NULL, keep);
    test_resp r = req(x, "PATCH", x->alice, "{\"name\":\"Doomed v2\"}", "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    char owner[37], ch[37];
    snprintf(owner, sizeof(owner), "%s", jstr(r.json, "owner_id"));
    test_resp_free(&r);
    fixture_channel(&x->a.t, owner, "UC1", id, ch);

    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    assert_int_equal(history_count(x, id), 0);
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM channels WHERE id = '%s' AND persona_id IS "
                            "NULL",
                            ch),
                     1);
    assert_int_equal(history_count(x, keep), 1);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/not-a-uuid");
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

static void test_deleting_a_persona_that_records_name_archives_it_and_keeps_them(void **state)
{
    fx *x = *state;
    char id[37], owner[37], pr[37], ch[37];
    create_named(x, x->alice, "Recorded", NULL, id);
    test_resp r = req(x, "PATCH", x->alice, "{\"name\":\"Recorded v2\",\"visibility\":\"PUBLIC\"}",
                      "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    snprintf(owner, sizeof(owner), "%s", jstr(r.json, "owner_id"));
    test_resp_free(&r);
    /* A project version 2 wrote, and a channel that uses the persona. */
    fixture_project(&x->a.t, owner, NULL, id, pr);
    testdb_exec(&x->a.t, "UPDATE projects SET persona_version = 2");
    fixture_channel(&x->a.t, owner, "UC1", id, ch);

    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    /* The record stays: the project still names the persona and its version,
     * the persona and its history are kept; the channel lets go of it. */
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM projects WHERE id = '%s' AND persona_id = '%s' "
                            "AND persona_version = 2",
                            pr, id),
                     1);
    assert_int_equal(
        scalar(x, "SELECT COUNT(*) FROM personas WHERE id = '%s' AND archived_at IS NOT NULL", id),
        1);
    assert_int_equal(history_count(x, id), 2);
    assert_int_equal(
        scalar(x, "SELECT COUNT(*) FROM channels WHERE id = '%s' AND persona_id IS NULL", ch), 1);
    /* The release is in the channel's assignment log, so the days after it
     * are attributed to no persona. */
    r = req(x, "GET", x->alice, NULL, "/api/v1/channels/%s/assignments", ch);
    test_expect(&r, 200, NULL);
    json_t *log = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(log), 1);
    json_t *release = json_array_get(log, 0);
    assert_true(json_is_null(json_object_get(release, "persona_id")));
    assert_string_equal(jstr(release, "previous_persona_id"), id);
    assert_string_equal(jstr(release, "source"), "manual");
    assert_string_equal(jstr(release, "reason"), "persona archived");
    test_resp_free(&r);

    /* Its owner still reads it and its history, marked archived; nobody
     * lists, changes or uses it. */
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_non_null(jstr(r.json, "archived_at"));
    assert_int_equal(jint(r.json, "version"), 2);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas?mine=true");
    test_expect(&r, 200, NULL);
    assert_false(has_id(json_object_get(r.json, "items"), id));
    test_resp_free(&r);
    r = req(x, "GET", x->bob, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = req(x, "PATCH", x->alice, "{\"name\":\"Back\"}", "/api/v1/personas/%s", id);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    r = req(x, "POST", x->alice, "{\"version\":1}", "/api/v1/personas/%s/restore", id);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 2);
    char body[256];
    snprintf(body, sizeof(body), "{\"topic\":\"t\",\"generate\":false,\"persona_id\":\"%s\"}", id);
    r = req(x, "POST", x->alice, body, "/api/v1/projects");
    expect_invalid(&r, "persona_id");
    snprintf(body, sizeof(body), "{\"persona_id\":\"%s\"}", id);
    r = req(x, "PATCH", x->alice, body, "/api/v1/channels/%s", ch);
    expect_invalid(&r, "persona_id");
    assert_int_equal(scalar(x, "SELECT COUNT(*) FROM projects"), 1);

    /* Deleting it again changes nothing while the project names it, and
     * deletes it for good once nothing does. */
    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(history_count(x, id), 2);
    testdb_exec(&x->a.t, "DELETE FROM projects");
    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(scalar(x, "SELECT COUNT(*) FROM personas WHERE id = '%s'", id), 0);
    assert_int_equal(history_count(x, id), 0);
}

static void
test_an_archived_system_persona_leaves_the_plan_default_and_admins_still_read_it(void **state)
{
    fx *x = *state;
    char id[37], owner[37], pr[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"name\":\"House\",\"system_instruction\":\"You narrate.\"}",
              id);
    char mine[37];
    create_named(x, x->alice, "Alice's own", NULL, mine);
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", mine);
    snprintf(owner, sizeof(owner), "%s", jstr(r.json, "owner_id"));
    test_resp_free(&r);
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE plans SET default_persona_id = '%s'", id);
    testdb_exec(&x->a.t, sql);
    fixture_project(&x->a.t, owner, NULL, id, pr);

    r = req(x, "DELETE", x->admin, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(scalar(x, "SELECT COUNT(*) FROM plans WHERE default_persona_id IS NOT NULL"),
                     0);
    assert_int_equal(
        scalar(x, "SELECT COUNT(*) FROM projects WHERE id = '%s' AND persona_id = '%s'", pr, id),
        1);
    r = req(x, "GET", x->admin, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_non_null(jstr(r.json, "archived_at"));
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

/* ---- validation ------------------------------------------------------------- */

static void test_create_refuses_mass_assignment_and_writes_nothing(void **state)
{
    fx *x = *state;
    struct {
        const char *extra;
        const char *field;
    } cases[] = {
        {"\"owner_id\":\"01936f4e-0000-7000-8000-000000000009\"", "owner_id"},
        {"\"version\":7", "version"},
        {"\"id\":\"01936f4e-0000-7000-8000-000000000009\"", "id"},
        {"\"type\":\"SYSTEM\"", "type"},
        {"\"type\":\"CUSTOM\"", "type"},
        {"\"is_official\":true", "is_official"},
        {"\"created_at\":\"2020-01-01T00:00:00Z\"", "created_at"},
        {"\"locked\":false", "locked"},
        {"\"admin\":true", "admin"},
        {"\"required_plan\":\"platinum\"", "required_plan"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body), "{\"name\":\"Sneaky\",\"system_instruction\":\"x\",%s}",
                 cases[i].extra);
        test_resp r = req(x, "POST", x->alice, body, "/api/v1/personas");
        expect_invalid(&r, cases[i].field);
    }
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM personas"), 0);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM persona_history"), 0);

    /* An admin may not make a CUSTOM persona official either. */
    test_resp r = req(x, "POST", x->admin,
                      "{\"name\":\"Mine\",\"system_instruction\":\"x\",\"is_official\":true}",
                      "/api/v1/personas");
    expect_invalid(&r, "is_official");
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM personas"), 0);
}

static void test_patch_refuses_read_only_and_admin_fields_and_changes_nothing(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", NULL, id);
    const char *cases[][2] = {
        {"{\"owner_id\":\"01936f4e-0000-7000-8000-000000000009\"}", "owner_id"},
        {"{\"version\":9}", "version"},
        {"{\"id\":\"01936f4e-0000-7000-8000-000000000009\"}", "id"},
        {"{\"type\":\"SYSTEM\"}", "type"},
        {"{\"is_official\":true}", "is_official"},
        {"{\"name\":\"Renamed\",\"colour\":\"red\"}", "colour"},
        {"{\"required_plan\":\"nope\"}", "required_plan"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_resp r = req(x, "PATCH", x->alice, cases[i][0], "/api/v1/personas/%s", id);
        expect_invalid(&r, cases[i][1]);
    }
    assert_int_equal(persona_version(x, id), 1);
    assert_int_equal(history_count(x, id), 1);
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM personas WHERE id = '%s' AND name = "
                            "'Narrator' AND type = 'CUSTOM'",
                            id),
                     1);
}

static void test_values_out_of_range_or_of_the_wrong_type_are_refused(void **state)
{
    fx *x = *state;
    char long_name[200];
    memset(long_name, 'n', 101);
    long_name[101] = '\0';
    char long_reason[600];
    memset(long_reason, 'r', 501);
    long_reason[501] = '\0';
    char b1[400], b2[700];
    snprintf(b1, sizeof(b1), "\"name\":\"%s\"", long_name);
    snprintf(b2, sizeof(b2), "\"change_reason\":\"%s\"", long_reason);
    struct {
        const char *extra;
        const char *field;
    } cases[] = {
        {"\"temperature\":2.1", "temperature"},
        {"\"temperature\":-0.01", "temperature"},
        {"\"top_p\":-0.1", "top_p"},
        {"\"top_p\":1.5", "top_p"},
        {"\"top_k\":0", "top_k"},
        {"\"top_k\":2.5", "top_k"},
        {b1, "name"},
        {"\"name\":\"\"", "name"},
        {b2, "change_reason"},
        {"\"temperature\":\"hot\"", "temperature"},
        {"\"top_k\":\"40\"", "top_k"},
        {"\"description\":5", "description"},
        {"\"visibility\":\"FRIENDS\"", "visibility"},
        {"\"language\":\"e\"", "language"},
        {"\"language\":\"en_US\"", "language"},
        {"\"language\":\"1234\"", "language"},
        {"\"voice\":\"\"", "voice"},
        {"\"system_instruction\":null", "system_instruction"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Duplicate keys are refused, so a case on a required field replaces it. */
        bool has_name = strncmp(cases[i].extra, "\"name\"", 6) == 0;
        bool has_instr = strncmp(cases[i].extra, "\"system_instruction\"", 20) == 0;
        char body[1024];
        snprintf(body, sizeof(body), "{%s%s%s}", has_name ? "" : "\"name\":\"Ok\",",
                 has_instr ? "" : "\"system_instruction\":\"Ok\",", cases[i].extra);
        test_resp r = req(x, "POST", x->alice, body, "/api/v1/personas");
        expect_invalid(&r, cases[i].field);
    }
    /* A name of 100 characters, some of them multi-byte, is fine. */
    char name100[512] = "";
    for (int i = 0; i < 50; i++)
        strcat(name100, "a\xc3\xa9"); /* "aé" */
    char body[1024];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"system_instruction\":\"Ok\"}", name100);
    test_resp r = req(x, "POST", x->alice, body, "/api/v1/personas");
    test_expect(&r, 201, NULL);
    test_resp_free(&r);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM personas"), 1);

    /* Bodies that are not JSON objects at all. */
    const char *malformed[] = {
        "{\"name\":\"Ok\",",
        "[1,2]",
        "{\"name\":\"a\xff\xfe\",\"system_instruction\":\"Ok\"}",
        "{\"name\":\"Ok\",\"name\":\"Twice\",\"system_instruction\":\"Ok\"}",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        r = req(x, "POST", x->alice, malformed[i], "/api/v1/personas");
        test_expect(&r, 400, "malformed-json");
        test_resp_free(&r);
    }
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM personas"), 1);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM persona_history"), 1);
}

/* ---- concurrency -------------------------------------------------------------- */

static void test_patch_with_stale_if_match_is_412_and_changes_nothing(void **state)
{
    fx *x = *state;
    char id[37], path[128];
    create_named(x, x->alice, "Narrator", NULL, id);
    snprintf(path, sizeof(path), "/api/v1/personas/%s", id);
    test_resp r = req_if_match(x, "PATCH", x->alice, "{\"name\":\"Second\"}", path, 1);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 2);
    test_resp_free(&r);

    r = req_if_match(x, "PATCH", x->alice, "{\"name\":\"Stale\"}", path, 1);
    test_expect(&r, 412, "precondition-failed");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 2);
    assert_int_equal(history_count(x, id), 2);
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM personas WHERE id = '%s' AND name = "
                            "'Second'",
                            id),
                     1);

    /* A malformed If-Match is a 412 too, and so is a stale one on restore and delete. */
    const char *bad[] = {"If-Match: W/\"2\"", NULL};
    r = test_req(&x->a, "PATCH", path, x->alice, "{\"name\":\"Bad\"}", bad);
    test_expect(&r, 412, "precondition-failed");
    test_resp_free(&r);
    char rpath[160];
    snprintf(rpath, sizeof(rpath), "%s/restore", path);
    r = req_if_match(x, "POST", x->alice, "{\"version\":1}", rpath, 1);
    test_expect(&r, 412, "precondition-failed");
    test_resp_free(&r);
    r = req_if_match(x, "DELETE", x->alice, NULL, path, 1);
    test_expect(&r, 412, "precondition-failed");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 2);
    assert_int_equal(history_count(x, id), 2);

    r = req_if_match(x, "DELETE", x->alice, NULL, path, 2);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
}

typedef struct racer {
    fx *x;
    const char *path;
    int n;
    long status;
} racer;

static void *race_patch(void *arg)
{
    racer *rc = arg;
    char body[64];
    snprintf(body, sizeof(body), "{\"name\":\"Racer %d\"}", rc->n);
    test_resp r = req_if_match(rc->x, "PATCH", rc->x->alice, body, rc->path, 1);
    rc->status = r.status;
    test_resp_free(&r);
    return NULL;
}

static void test_concurrent_patches_with_the_same_if_match_let_exactly_one_win(void **state)
{
    fx *x = *state;
    char id[37], path[128];
    create_named(x, x->alice, "Narrator", NULL, id);
    snprintf(path, sizeof(path), "/api/v1/personas/%s", id);
    enum { N = 4 };
    pthread_t th[N];
    racer rs[N];
    for (int i = 0; i < N; i++) {
        rs[i] = (racer){.x = x, .path = path, .n = i};
        pthread_create(&th[i], NULL, race_patch, &rs[i]);
    }
    int won = 0, lost = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += rs[i].status == 200;
        lost += rs[i].status == 412;
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, N - 1);
    assert_int_equal(persona_version(x, id), 2);
    assert_int_equal(history_count(x, id), 2);
}

/* ---- history ------------------------------------------------------------------- */

static void test_history_lists_versions_newest_first_and_pages_by_version(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", "\"change_reason\":\"v1\"", id);
    for (int v = 2; v <= 5; v++) {
        char body[96];
        snprintf(body, sizeof(body), "{\"top_k\":%d,\"change_reason\":\"v%d\"}", v * 10, v);
        test_resp r = req(x, "PATCH", x->alice, body, "/api/v1/personas/%s", id);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history?limit=2", id);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(jint(json_array_get(items, 0), "version"), 5);
    assert_string_equal(jstr(json_array_get(items, 0), "change_reason"), "v5");
    assert_true(uuid_is_valid(jstr(json_array_get(items, 0), "changed_by")));
    assert_non_null(jstr(json_array_get(items, 0), "created_at"));
    assert_null(json_object_get(json_array_get(items, 0), "snapshot"));
    assert_int_equal(jint(json_array_get(items, 1), "version"), 4);
    assert_string_equal(jstr(r.json, "next_cursor"), "4");
    test_resp_free(&r);

    int64_t expect = 3;
    const char *cursor = "4";
    char next[16];
    for (;;) {
        r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history?limit=2&cursor=%s", id,
                cursor);
        test_expect(&r, 200, NULL);
        items = json_object_get(r.json, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            assert_int_equal(jint(it, "version"), expect);
            expect--;
        }
        const char *n = jstr(r.json, "next_cursor");
        if (n == NULL) {
            test_resp_free(&r);
            break;
        }
        snprintf(next, sizeof(next), "%s", n);
        cursor = next;
        test_resp_free(&r);
    }
    assert_int_equal(expect, 0);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history?cursor=abc", id);
    expect_invalid(&r, "cursor");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/9", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/zero", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
}

static void test_history_row_is_written_in_the_same_transaction_as_the_change(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", NULL, id);
    /* Occupy version 2 of the history, so the history write of the next
     * change fails after the persona row was updated. */
    char hid[37];
    uuid_v7(hid);
    db_error de;
    assert_int_equal(testdb_execf(&x->a.t, &de,
                                  "INSERT INTO persona_history (id, persona_id, version, snapshot, "
                                  "created_at) VALUES ($1, $2, 2, '{\"planted\":true}', $3)",
                                  "sst", hid, id, time_now_usec()),
                     0);
    test_resp r = req(x, "PATCH", x->alice, "{\"name\":\"Changed\",\"temperature\":0.2}",
                      "/api/v1/personas/%s", id);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 1);
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM personas WHERE id = '%s' AND name = "
                            "'Narrator' AND temperature = 1",
                            id),
                     1);
    assert_int_equal(history_count(x, id), 2);

    r = req(x, "POST", x->alice, "{\"version\":1}", "/api/v1/personas/%s/restore", id);
    test_expect(&r, 409, "conflict");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 1);
    /* Without the planted row, what is left is what the app wrote: the
     * teardown's checker proves the failed changes left nothing behind. */
    assert_int_equal(
        testdb_execf(&x->a.t, &de, "DELETE FROM persona_history WHERE id = $1", "s", hid), 0);
}

static void test_restore_creates_a_new_version_equal_to_the_old_content(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Original", "\"temperature\":0.7,\"language\":\"en\"", id);
    test_resp r = req(x, "PATCH", x->alice,
                      "{\"name\":\"Edited\",\"temperature\":1.4,\"language\":\"pt-BR\","
                      "\"voice\":\"pt+f1\"}",
                      "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    r = req(x, "POST", x->alice, "{\"version\":1}", "/api/v1/personas/%s/restore", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 3);
    assert_string_equal(jstr(r.json, "name"), "Original");
    assert_true(json_real_value(json_object_get(r.json, "temperature")) == 0.7);
    assert_string_equal(jstr(r.json, "language"), "en");
    assert_true(json_is_null(json_object_get(r.json, "voice")));
    char etag[32];
    assert_true(test_resp_header(&r, "ETag", etag, sizeof(etag)));
    assert_string_equal(etag, "\"3\"");
    test_resp_free(&r);
    assert_int_equal(history_count(x, id), 3);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/3", id);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "change_reason"), "restored from version 1");
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=3", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "changes")), 0);
    test_resp_free(&r);

    r = req(x, "POST", x->alice, "{\"version\":2,\"change_reason\":\"back again\"}",
            "/api/v1/personas/%s/restore", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 4);
    assert_string_equal(jstr(r.json, "name"), "Edited");
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/4", id);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "change_reason"), "back again");
    test_resp_free(&r);

    r = req(x, "POST", x->alice, "{\"version\":42}", "/api/v1/personas/%s/restore", id);
    expect_invalid(&r, "version");
    r = req(x, "POST", x->alice, "{}", "/api/v1/personas/%s/restore", id);
    expect_invalid(&r, "version");
    assert_int_equal(persona_version(x, id), 4);
}

static void test_diff_lists_exactly_the_changed_fields(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Narrator", "\"temperature\":0.7", id);
    test_resp r =
        req(x, "PATCH", x->alice, "{\"temperature\":0.9,\"top_k\":12}", "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = req(x, "PATCH", x->alice, "{\"description\":\"New\"}", "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=2", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "from"), 1);
    assert_int_equal(jint(r.json, "to"), 2);
    json_t *changes = json_object_get(r.json, "changes");
    assert_int_equal(json_array_size(changes), 2);
    json_t *c0 = json_array_get(changes, 0), *c1 = json_array_get(changes, 1);
    assert_string_equal(jstr(c0, "field"), "temperature");
    assert_true(json_number_value(json_object_get(c0, "from")) == 0.7);
    assert_true(json_number_value(json_object_get(c0, "to")) == 0.9);
    assert_string_equal(jstr(c1, "field"), "top_k");
    assert_int_equal(jint(c1, "from"), 40);
    assert_int_equal(jint(c1, "to"), 12);
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=3&to=1", id);
    test_expect(&r, 200, NULL);
    changes = json_object_get(r.json, "changes");
    assert_int_equal(json_array_size(changes), 3);
    assert_string_equal(jstr(json_array_get(changes, 0), "field"), "description");
    assert_string_equal(jstr(json_array_get(changes, 0), "from"), "New");
    assert_string_equal(jstr(json_array_get(changes, 0), "to"), "");
    test_resp_free(&r);

    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=8", id);
    test_expect(&r, 404, "not-found");
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1", id);
    expect_invalid(&r, "to");
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=x&to=1", id);
    expect_invalid(&r, "from");
}

/* ---- export / import -------------------------------------------------------------- */

/* The export is the format and the preset columns in their order, reals
 * as short as they read back, a missing voice (and its rate and pitch) as
 * null: byte for byte. */
static void test_export_writes_the_preset_byte_for_byte(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Exact", "\"temperature\":0.7,\"top_k\":12", id);
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/export", id);
    test_expect(&r, 200, NULL);
    assert_string_equal(r.body,
                        "{\"format\":\"pstudio.persona/v1\",\"visibility\":\"PRIVATE\","
                        "\"required_plan\":\"free\",\"name\":\"Exact\",\"description\":\"\","
                        "\"system_instruction\":\"You explain science calmly.\","
                        "\"temperature\":0.7,\"top_p\":0.95,\"top_k\":12,\"language\":\"en\","
                        "\"voice\":null,\"voice_rate\":null,\"voice_pitch\":null}");
    test_resp_free(&r);
}

static void test_export_then_import_round_trips_the_content(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->alice, "Traveller",
                 "\"description\":\"Trips\",\"temperature\":0.3,\"top_p\":0.5,\"top_k\":7,"
                 "\"language\":\"pt-BR\",\"voice\":\"pt+f2\",\"visibility\":\"PUBLIC\"",
                 id);
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/export", id);
    test_expect(&r, 200, NULL);
    json_t *preset = json_incref(r.json);
    test_resp_free(&r);
    assert_string_equal(jstr(preset, "format"), "pstudio.persona/v1");
    const char *never[] = {"id",         "owner_id", "version",     "created_at",
                           "updated_at", "type",     "is_official", "locked"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        if (json_object_get(preset, never[i]) != NULL)
            fail_msg("the export carries %s", never[i]);

    /* Bob imports Alice's public preset: a private copy of his own. */
    char *body = json_dumps(preset, JSON_COMPACT);
    r = req(x, "POST", x->bob, body, "/api/v1/personas/import");
    free(body);
    test_expect(&r, 201, NULL);
    assert_string_equal(jstr(r.json, "type"), "CUSTOM");
    assert_string_equal(jstr(r.json, "visibility"), "PRIVATE");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_not_equal(jstr(r.json, "id"), id);
    char copy[37];
    snprintf(copy, sizeof(copy), "%s", jstr(r.json, "id"));
    char loc[128];
    assert_true(test_resp_header(&r, "Location", loc, sizeof(loc)));
    test_resp_free(&r);
    assert_int_equal(history_count(x, copy), 1);

    r = req(x, "GET", x->bob, NULL, "/api/v1/personas/%s/export", copy);
    test_expect(&r, 200, NULL);
    json_object_set_new(preset, "visibility", json_string("PRIVATE"));
    if (!json_equal(preset, r.json))
        fail_msg("the re-export differs: %s", r.body);
    test_resp_free(&r);
    r = req(x, "GET", x->bob, NULL, "/api/v1/personas/%s/history/1", copy);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "change_reason"), "imported");
    test_resp_free(&r);
    json_decref(preset);
}

static void test_import_refuses_ids_owner_type_unknown_fields_and_a_wrong_format(void **state)
{
    fx *x = *state;
    const char *base = "\"format\":\"pstudio.persona/v1\",\"name\":\"P\",\"system_instruction\":"
                       "\"S\"";
    struct {
        const char *extra;
        const char *field;
    } cases[] = {
        {"\"id\":\"01936f4e-0000-7000-8000-000000000009\"", "id"},
        {"\"owner_id\":\"01936f4e-0000-7000-8000-000000000009\"", "owner_id"},
        {"\"version\":3", "version"},
        {"\"type\":\"SYSTEM\"", "type"},
        {"\"is_official\":true", "is_official"},
        {"\"secret\":\"x\"", "secret"},
        {"\"change_reason\":\"x\"", "change_reason"},
        {"\"temperature\":3", "temperature"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body), "{%s,%s}", base, cases[i].extra);
        test_resp r = req(x, "POST", x->alice, body, "/api/v1/personas/import");
        expect_invalid(&r, cases[i].field);
    }
    test_resp r = req(x, "POST", x->alice,
                      "{\"format\":\"pstudio.persona/v2\",\"name\":\"P\",\"system_instruction\":"
                      "\"S\"}",
                      "/api/v1/personas/import");
    expect_invalid(&r, "format");
    r = req(x, "POST", x->alice, "{\"name\":\"P\",\"system_instruction\":\"S\"}",
            "/api/v1/personas/import");
    expect_invalid(&r, "format");
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM personas"), 0);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM persona_history"), 0);
}

/* ---- who may do what ------------------------------------------------------------- */

static void test_system_personas_are_editable_only_by_admins_with_history(void **state)
{
    fx *x = *state;
    char id[37];
    create_as(x, x->admin,
              "{\"type\":\"SYSTEM\",\"is_official\":true,\"name\":\"Official\","
              "\"system_instruction\":\"Be clear.\"}",
              id);
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_string_equal(jstr(r.json, "type"), "SYSTEM");
    assert_true(json_is_null(json_object_get(r.json, "owner_id")));
    assert_true(json_is_true(json_object_get(r.json, "is_official")));
    test_resp_free(&r);

    r = req(x, "PATCH", x->alice, "{\"name\":\"Hijacked\"}", "/api/v1/personas/%s", id);
    test_expect(&r, 403, "forbidden");
    test_resp_free(&r);
    r = req(x, "POST", x->alice, "{\"version\":1}", "/api/v1/personas/%s/restore", id);
    test_expect(&r, 403, "forbidden");
    test_resp_free(&r);
    r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 403, "forbidden");
    test_resp_free(&r);
    assert_int_equal(persona_version(x, id), 1);

    r = req(x, "PATCH", x->admin, "{\"name\":\"Official v2\",\"change_reason\":\"rename\"}",
            "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 2);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history", id);
    test_expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(jstr(json_array_get(items, 0), "change_reason"), "rename");
    test_resp_free(&r);

    /* Deleting a plan's default persona leaves the plan without one. */
    db_error de;
    assert_int_equal(testdb_execf(&x->a.t, &de,
                                  "UPDATE plans SET default_persona_id = $1 WHERE code = 'free'",
                                  "s", id),
                     0);
    r = req(x, "DELETE", x->admin, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 204, NULL);
    test_resp_free(&r);
    assert_int_equal(history_count(x, id), 0);
    assert_int_equal(testdb_scalar(&x->a.t, "SELECT COUNT(*) FROM plans WHERE code = 'free' AND "
                                            "default_persona_id IS NULL"),
                     1);
}

/* The starter library's history rows are written by a migration, not by
 * this code: they must still diff and restore. */
static void test_starter_personas_diff_and_restore_from_their_migrated_history(void **state)
{
    fx *x = *state;
    const char *id = "01936f4e-0001-7000-8000-000000000001";
    test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 1);
    char name[128];
    snprintf(name, sizeof(name), "%s", jstr(r.json, "name"));
    test_resp_free(&r);

    r = req(x, "PATCH", x->admin, "{\"name\":\"Renamed\",\"temperature\":1.25}",
            "/api/v1/personas/%s", id);
    test_expect(&r, 200, NULL);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=2", id);
    test_expect(&r, 200, NULL);
    json_t *changes = json_object_get(r.json, "changes");
    assert_int_equal(json_array_size(changes), 2);
    assert_string_equal(jstr(json_array_get(changes, 0), "field"), "name");
    assert_string_equal(jstr(json_array_get(changes, 1), "field"), "temperature");
    test_resp_free(&r);

    r = req(x, "POST", x->admin, "{\"version\":1}", "/api/v1/personas/%s/restore", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(jint(r.json, "version"), 3);
    assert_string_equal(jstr(r.json, "name"), name);
    test_resp_free(&r);
    r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/diff?from=1&to=3", id);
    test_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "changes")), 0);
    test_resp_free(&r);
}

static void test_another_users_private_persona_is_404_for_every_method(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->bob, "Secret", NULL, id);
    struct {
        const char *method, *suffix, *body;
    } calls[] = {
        {"GET", "", NULL},
        {"PATCH", "", "{\"name\":\"Mine now\"}"},
        {"DELETE", "", NULL},
        {"GET", "/history", NULL},
        {"GET", "/history/1", NULL},
        {"GET", "/diff?from=1&to=1", NULL},
        {"POST", "/restore", "{\"version\":1}"},
        {"GET", "/export", NULL},
    };
    const char *who[] = {x->alice, x->admin};
    for (size_t w = 0; w < 2; w++)
        for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
            test_resp r = req(x, calls[i].method, who[w], calls[i].body, "/api/v1/personas/%s%s",
                              id, calls[i].suffix);
            if (r.status != 404)
                fail_msg("%s %s: expected 404, got %ld: %s", calls[i].method, calls[i].suffix,
                         r.status, r.body);
            test_expect(&r, 404, "not-found");
            test_resp_free(&r);
        }
    assert_int_equal(persona_version(x, id), 1);
    assert_int_equal(history_count(x, id), 1);
}

static void test_another_users_public_persona_is_readable_but_404_for_writes(void **state)
{
    fx *x = *state;
    char id[37];
    create_named(x, x->bob, "Shared", "\"visibility\":\"PUBLIC\"", id);
    const char *reads[] = {"", "/history", "/history/1", "/diff?from=1&to=1", "/export"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        test_resp r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s%s", id, reads[i]);
        test_expect(&r, 200, NULL);
        test_resp_free(&r);
    }
    struct {
        const char *method, *suffix, *body;
    } writes[] = {
        {"PATCH", "", "{\"name\":\"Mine now\"}"},
        {"DELETE", "", NULL},
        {"POST", "/restore", "{\"version\":1}"},
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        test_resp r = req(x, writes[i].method, x->alice, writes[i].body, "/api/v1/personas/%s%s",
                          id, writes[i].suffix);
        test_expect(&r, 404, "not-found");
        test_resp_free(&r);
    }
    assert_int_equal(persona_version(x, id), 1);
    assert_int_equal(scalar(x,
                            "SELECT COUNT(*) FROM personas WHERE id = '%s' AND name = "
                            "'Shared'",
                            id),
                     1);
}

/* Every text field of a persona, at exactly its limit in characters of 2, 3
 * and 4 bytes, comes back unchanged from create, get, list and history; a
 * required plan whose code is 32 such characters can be named (the code used
 * to be held in 33 bytes, and such a plan was "too long"). One character
 * more in any field is a 422 that writes nothing. */
static void test_text_fields_of_multibyte_characters_round_trip_at_their_limits(void **state)
{
    fx *x = *state;
    const struct {
        const char *name;
        int max;
    } fields[] = {
        {"name", PERSONA_NAME_MAX},
        {"description", PERSONA_DESCRIPTION_MAX},
        {"system_instruction", PERSONA_INSTRUCTION_MAX},
        {"voice", PERSONA_VOICE_MAX},
        {"change_reason", PERSONA_REASON_MAX},
        {"required_plan", PLAN_CODE_MAX},
    };
    const size_t nfields = sizeof(fields) / sizeof(fields[0]);
    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        const char *unit = test_utf8_units[u];
        char *code = test_repeat("", unit, PLAN_CODE_MAX);
        json_t *plan = json_pack("{s:s,s:s,s:i}", "code", code, "name", "Wide", "rank", 50 + u);
        char *text = json_dumps(plan, JSON_COMPACT);
        json_decref(plan);
        test_resp r = req(x, "POST", x->admin, text, "/api/v1/admin/plans");
        test_expect(&r, 201, NULL);
        test_resp_free(&r);
        free(text);
        test_set_plan(&x->a, "alice@example.com", code); /* so nothing is locked for her */

        json_t *in = json_object();
        char *values[sizeof(fields) / sizeof(fields[0])];
        for (size_t f = 0; f < nfields; f++) {
            values[f] = test_repeat("", unit, fields[f].max);
            json_object_set_new(in, fields[f].name, json_string(values[f]));
        }
        text = json_dumps(in, JSON_COMPACT);
        r = req(x, "POST", x->alice, text, "/api/v1/personas");
        test_expect(&r, 201, NULL);
        char id[UUID_STR_LEN + 1];
        snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
        for (size_t f = 0; f + 2 < nfields; f++) /* change_reason is in history */
            assert_string_equal(jstr(r.json, fields[f].name), values[f]);
        assert_string_equal(jstr(r.json, "required_plan"), code);
        test_resp_free(&r);
        free(text);

        r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s", id);
        test_expect(&r, 200, NULL);
        for (size_t f = 0; f + 2 < nfields; f++)
            assert_string_equal(jstr(r.json, fields[f].name), values[f]);
        assert_string_equal(jstr(r.json, "required_plan"), code);
        test_resp_free(&r);
        r = req(x, "GET", x->alice, NULL, "/api/v1/personas?mine=true");
        test_expect(&r, 200, NULL);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 1);
        json_t *item = json_array_get(items, 0);
        for (size_t f = 0; f + 2 < nfields; f++) {
            if (strcmp(fields[f].name, "system_instruction") != 0) {
                assert_string_equal(jstr(item, fields[f].name), values[f]);
                continue;
            }
            /* The list is a summary: the length and the first 160 characters. */
            char *preview = test_repeat("", unit, PERSONA_PREVIEW_CHARS);
            assert_int_equal(jint(item, "system_instruction_length"), fields[f].max);
            assert_string_equal(jstr(item, "system_instruction_preview"), preview);
            free(preview);
        }
        test_resp_free(&r);
        r = req(x, "GET", x->alice, NULL, "/api/v1/personas/%s/history/1", id);
        test_expect(&r, 200, NULL);
        assert_string_equal(jstr(r.json, "change_reason"), values[4]);
        assert_string_equal(jstr(json_object_get(r.json, "snapshot"), "required_plan"), code);
        test_resp_free(&r);
        r = req(x, "DELETE", x->alice, NULL, "/api/v1/personas/%s", id);
        test_expect(&r, 204, NULL);
        test_resp_free(&r);

        for (size_t f = 0; f < nfields; f++) {
            char *longer = test_repeat(values[f], unit, 1);
            json_t *bad = json_deep_copy(in);
            json_object_set_new(bad, fields[f].name, json_string(longer));
            text = json_dumps(bad, JSON_COMPACT);
            json_decref(bad);
            r = req(x, "POST", x->alice, text, "/api/v1/personas");
            expect_invalid(&r, fields[f].name);
            free(text);
            free(longer);
        }
        for (size_t f = 0; f < nfields; f++)
            free(values[f]);
        json_decref(in);
        free(code);
    }
    assert_int_equal(scalar(x, "SELECT COUNT(*) FROM personas"), 0);
    assert_int_equal(scalar(x, "SELECT COUNT(*) FROM persona_history"), 0);
}

/* A snapshot is the PERSONA_SNAPSHOT columns of persona_row: written and
 * read back it is the same persona, whole texts included (the instruction
 * at its limit in 4-byte characters), and a diff names exactly the content
 * columns that differ, in spec order, with JSON null for a missing voice. */
static void test_a_snapshot_reads_back_whole_and_diffs_name_each_changed_column(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 4096);
    persona p;
    persona_store_defaults(&p);
    snprintf(p.id, sizeof(p.id), "01936f4e-0000-7000-8000-0000000000aa");
    snprintf(p.owner_id, sizeof(p.owner_id), "01936f4e-0000-7000-8000-0000000000bb");
    p.name = "Ünïcode Narrator";
    char *instruction = test_repeat("", "\xf0\x9f\x8c\x8c", PERSONA_INSTRUCTION_MAX);
    p.system_instruction = instruction;
    p.temperature = 0.7;
    p.version = 3;
    p.created_at = 1700000000123456;
    p.updated_at = 1700000000654321;

    buf text;
    buf_init(&text, 1u << 20);
    jw w;
    jw_init(&w, &text);
    jw_obj_begin(&w);
    row_json_names(&w, &persona_row, &p, PERSONA_SNAPSHOT);
    jw_obj_end(&w);
    assert_int_equal(jw_error(&w), BUF_OK);
    json_t *snap = json_loads(text.data, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(snap);
    assert_true(json_is_null(json_object_get(snap, "voice")));
    assert_null(json_object_get(snap, "archived_at"));

    persona q;
    error err = {0};
    assert_int_equal(persona_store_from_json(snap, &a, &q, &err), 0);
    assert_int_equal(row_diff(&persona_row, &p, &q, PERSONA_SNAPSHOT, NULL), 0);
    assert_string_equal(q.system_instruction, instruction);
    assert_null(q.voice);

    q.voice = "pt+f2";
    q.top_k = 7;
    json_t *changes = json_array();
    assert_int_equal(row_diff(&persona_row, &p, &q, PERSONA_CONTENT, changes), 2);
    json_t *first = json_array_get(changes, 0), *second = json_array_get(changes, 1);
    assert_string_equal(jstr(first, "field"), "top_k");
    assert_int_equal(json_integer_value(json_object_get(first, "from")), 40);
    assert_int_equal(json_integer_value(json_object_get(first, "to")), 7);
    assert_string_equal(jstr(second, "field"), "voice");
    assert_true(json_is_null(json_object_get(second, "from")));
    assert_string_equal(jstr(second, "to"), "pt+f2");

    /* A member of the wrong type is refused, naming it. */
    json_object_set_new(snap, "top_k", json_string("seven"));
    assert_int_equal(persona_store_from_json(snap, &a, &q, &err), -1);
    assert_int_equal(err.kind, ERR_INVALID);
    assert_string_equal(err.field, "top_k");

    json_decref(changes);
    json_decref(snap);
    buf_free(&text);
    free(instruction);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_list_shows_system_own_and_public_personas_but_never_others_private),
        T(test_list_shows_the_instructions_length_and_preview_not_the_text),
        T(test_list_filters_by_type_visibility_language_and_mine),
        T(test_list_cursor_walks_every_page_exactly_once),
        T(test_locked_flag_follows_the_callers_plan_rank),
        T(test_locked_persona_hides_its_content_and_cannot_be_exported),
        T(test_create_returns_version_1_with_etag_location_and_a_history_row),
        T(test_patch_changes_fields_bumps_the_version_and_records_history),
        T(test_patch_and_restore_answer_what_a_read_returns_after_them),
        T(test_patch_that_changes_nothing_keeps_the_version),
        T(test_delete_removes_the_persona_its_history_and_detaches_channels),
        T(test_deleting_a_persona_that_records_name_archives_it_and_keeps_them),
        T(test_an_archived_system_persona_leaves_the_plan_default_and_admins_still_read_it),
        T(test_create_refuses_mass_assignment_and_writes_nothing),
        T(test_patch_refuses_read_only_and_admin_fields_and_changes_nothing),
        T(test_values_out_of_range_or_of_the_wrong_type_are_refused),
        T(test_patch_with_stale_if_match_is_412_and_changes_nothing),
        T(test_concurrent_patches_with_the_same_if_match_let_exactly_one_win),
        T(test_history_lists_versions_newest_first_and_pages_by_version),
        T(test_history_row_is_written_in_the_same_transaction_as_the_change),
        T(test_restore_creates_a_new_version_equal_to_the_old_content),
        T(test_diff_lists_exactly_the_changed_fields),
        T(test_export_then_import_round_trips_the_content),
        T(test_export_writes_the_preset_byte_for_byte),
        T(test_import_refuses_ids_owner_type_unknown_fields_and_a_wrong_format),
        T(test_system_personas_are_editable_only_by_admins_with_history),
        cmocka_unit_test_setup_teardown(
            test_starter_personas_diff_and_restore_from_their_migrated_history, setup_with_starters,
            teardown),
        T(test_another_users_private_persona_is_404_for_every_method),
        T(test_another_users_public_persona_is_readable_but_404_for_writes),
        T(test_text_fields_of_multibyte_characters_round_trip_at_their_limits),
        cmocka_unit_test(test_a_snapshot_reads_back_whole_and_diffs_name_each_changed_column),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
