/*
 * The script writers against fake providers on loopback: what we send to
 * Gemini and to an OpenAI-compatible server (the persona's system
 * instruction, its exact sampling values, the script schema, the key in a
 * header, top_k only where asked), and how every answer maps onto a
 * result: success, finish reasons, refusals, 429 with Retry-After, 5xx, a
 * stalled connection, malformed and schema-violating JSON. Also the
 * offline writer, the schema check and the HTTP client's bounds.
 */
#include "testlib.h"

#include "fake_llm.h"

#include "base/arena.h"
#include "domain/persona_store.h"
#include "providers/http_client.h"
#include "providers/llm.h"
#include "services/script_prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMINI_KEY "AIzaSyTESTKEY-0123456789abcdefgh"
#define OPENAI_KEY "sk-test-0123456789abcdefghijklmn"
#define SYSTEM     "You are Calm Astro, a patient astronomer who explains with everyday images."

typedef struct world {
    fake_llm fake;
    arena a;
    persona *ps;
    project pr;
    script_options o;
    script_ask ask;
    llm_request rq;
    llm_brief brief;
    json_t *schema;
} world;

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    fake_llm_start(&w->fake);
    arena_init(&w->a, 8192);
    w->ps = test_calloc(1, sizeof(*w->ps));
    persona_store_defaults(w->ps);
    snprintf(w->ps->id, sizeof(w->ps->id), "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee");
    w->ps->name = "Calm Astro";
    w->ps->system_instruction = SYSTEM;
    w->ps->temperature = 0.7;
    w->ps->top_p = 0.9;
    w->ps->top_k = 33;
    w->ps->version = 4;
    w->pr.topic = "Why is the night sky dark?";
    w->pr.status = "generating";
    w->ask.ps = w->ps;
    w->ask.pr = &w->pr;
    w->ask.o = &w->o;
    w->ask.language = "en";
    w->ask.seed = "seed";
    w->ask.scene_index = -1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    json_decref(w->schema);
    fake_llm_stop(&w->fake);
    arena_free(&w->a);
    test_free(w->ps);
    test_free(w);
    return 0;
}

/* Builds the request script_service would send for w's persona and options. */
static void build(world *w)
{
    json_decref(w->schema);
    script_prompt_build(&w->a, &w->ask, &w->rq, &w->brief, &w->schema);
}

static llm_settings gemini_settings(world *w, int timeout_ms)
{
    llm_settings s = {.provider = "gemini",
                      .model = "gemini-test",
                      .timeout_ms = timeout_ms,
                      .gemini_base_url = w->fake.s.base_url,
                      .gemini_api_key = GEMINI_KEY};
    return s;
}

static llm_settings openai_settings(world *w, int timeout_ms, bool top_k)
{
    llm_settings s = {.provider = "openai",
                      .model = "local-model",
                      .timeout_ms = timeout_ms,
                      .openai_base_url = w->fake.s.base_url,
                      .openai_api_key = OPENAI_KEY,
                      .openai_send_top_k = top_k};
    return s;
}

/* Runs one request through a provider made from s, the fake answering m. */
static void run(world *w, const llm_settings *s, fake_llm_mode m, llm_result *res)
{
    fake_server_lock(&w->fake.s);
    fake_server_push(&w->fake.s, m);
    fake_server_unlock(&w->fake.s);
    error e;
    llm *model = llm_new(s, &e);
    if (model == NULL)
        fail_msg("llm_new: %s", e.message);
    build(w);
    llm_generate(model, &w->rq, res);
    llm_free(model);
}

static double num(const json_t *doc, const char *a, const char *b)
{
    const json_t *v = json_object_get(b ? json_object_get(doc, a) : doc, b ? b : a);
    if (!json_is_number(v))
        fail_msg("%s%s%s is not a number", a, b ? "." : "", b ? b : "");
    return json_number_value(v);
}

/* ---- gemini ---------------------------------------------------------------------- */

static void test_gemini_request_carries_persona_sampling_schema_and_key_header(void **state)
{
    world *w = *state;
    w->o.target_scenes = 5;
    llm_settings s = gemini_settings(w, 5000);
    llm_result res;
    run(w, &s, FAKE_OK, &res);
    assert_int_equal(res.outcome, LLM_OK);
    llm_result_free(&res);

    fake_server_lock(&w->fake.s);
    assert_string_equal(w->fake.s.path, "/v1beta/models/gemini-test:generateContent");
    assert_string_equal(w->fake.s.goog_key, GEMINI_KEY);
    assert_string_equal(w->fake.s.authorization, "");
    fake_server_unlock(&w->fake.s);
    json_t *b = fake_server_last_body(&w->fake.s);
    const char *sys = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(b, "systemInstruction"), "parts"), 0),
        "text"));
    assert_string_equal(sys, SYSTEM);
    const json_t *user = json_array_get(json_object_get(b, "contents"), 0);
    assert_string_equal(json_string_value(json_object_get(user, "role")), "user");
    const char *prompt = json_string_value(
        json_object_get(json_array_get(json_object_get(user, "parts"), 0), "text"));
    assert_non_null(strstr(prompt, "Why is the night sky dark?"));
    assert_non_null(strstr(prompt, "exactly 5 scenes"));
    /* The persona's sampling values, exactly. */
    assert_true(num(b, "generationConfig", "temperature") == 0.7);
    assert_true(num(b, "generationConfig", "topP") == 0.9);
    assert_true(num(b, "generationConfig", "topK") == 33);
    assert_true(num(b, "generationConfig", "maxOutputTokens") > 1000);
    const json_t *gc = json_object_get(b, "generationConfig");
    assert_string_equal(json_string_value(json_object_get(gc, "responseMimeType")),
                        "application/json");
    /* Gemini's schema dialect: upper-case types, no additionalProperties. */
    const json_t *sch = json_object_get(gc, "responseSchema");
    assert_string_equal(json_string_value(json_object_get(sch, "type")), "OBJECT");
    assert_null(json_object_get(sch, "additionalProperties"));
    const json_t *props = json_object_get(sch, "properties");
    const json_t *scenes = json_object_get(props, "scenes");
    assert_string_equal(json_string_value(json_object_get(scenes, "type")), "ARRAY");
    assert_int_equal(json_integer_value(json_object_get(scenes, "minItems")), 5);
    assert_int_equal(json_integer_value(json_object_get(scenes, "maxItems")), 5);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(props, "title"), "maxLength")), 100);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(props, "tags"), "maxItems")), 15);
    const json_t *item = json_object_get(json_object_get(scenes, "items"), "properties");
    assert_non_null(json_object_get(item, "visual_description"));
    assert_non_null(json_object_get(item, "narration"));
    assert_int_equal(json_array_size(json_object_get(sch, "propertyOrdering")), 4);
    /* The key goes in the header only, never in the body. */
    char *text = json_dumps(b, 0);
    assert_null(strstr(text, GEMINI_KEY));
    free(text);
    json_decref(b);
}

static void test_gemini_success_skips_thought_parts_and_counts_tokens(void **state)
{
    world *w = *state;
    llm_settings s = gemini_settings(w, 5000);
    llm_result res;
    run(w, &s, FAKE_OK, &res);
    assert_int_equal(res.outcome, LLM_OK);
    assert_string_equal(json_string_value(json_object_get(res.json, "title")),
                        "Why is the night dark?");
    assert_int_equal(json_array_size(json_object_get(res.json, "scenes")), 3);
    assert_int_equal(res.tokens_in, 120);
    assert_int_equal(res.tokens_out, 345); /* candidates plus thoughts: both are billed */
    assert_int_equal(res.http_status, 200);
    llm_result_free(&res);
}

typedef struct expectation {
    fake_llm_mode mode;
    llm_outcome outcome;
    const char *code;
    const char *says; /* a fragment of the readable message */
    long retry_after_s;
} expectation;

static void expect_all(world *w, const llm_settings *s, const expectation *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        llm_result res;
        run(w, s, x[i].mode, &res);
        if (res.outcome != x[i].outcome || strcmp(res.error_code, x[i].code) != 0 ||
            strstr(res.message, x[i].says) == NULL)
            fail_msg("%s mode %d: got outcome %d code '%s' message '%s'", s->provider, x[i].mode,
                     res.outcome, res.error_code, res.message);
        if (x[i].retry_after_s != 0)
            assert_int_equal(res.retry_after_s, x[i].retry_after_s);
        assert_null(res.json);
        assert_null(strstr(res.message, GEMINI_KEY));
        assert_null(strstr(res.message, OPENAI_KEY));
        llm_result_free(&res);
    }
}

static void test_gemini_failures_map_to_retry_later_retry_or_give_up(void **state)
{
    world *w = *state;
    static const expectation x[] = {
        {FAKE_MAX_TOKENS, LLM_PERMANENT, "finish_reason:MAX_TOKENS", "ran out of output tokens", 0},
        {FAKE_SAFETY, LLM_PERMANENT, "finish_reason:SAFETY", "safety", 0},
        {FAKE_BLOCKED, LLM_PERMANENT, "prompt_blocked:SAFETY", "refused", 0},
        {FAKE_429, LLM_RATE_LIMITED, "rate_limited", "HTTP 429", 7},
        {FAKE_429_BODY, LLM_RATE_LIMITED, "rate_limited", "Quota exceeded", 9},
        {FAKE_500, LLM_TRANSIENT, "http_500", "An internal error has occurred", 0},
        {FAKE_MALFORMED, LLM_PERMANENT, "malformed_json", "not valid JSON", 0},
        {FAKE_SCHEMA, LLM_PERMANENT, "schema_violation", "scenes: is missing", 0},
        {FAKE_GARBLED, LLM_TRANSIENT, "malformed_response", "not its JSON format", 0},
        {FAKE_401_ECHO, LLM_PERMANENT, "http_401", "API key", 0},
    };
    llm_settings s = gemini_settings(w, 5000);
    expect_all(w, &s, x, sizeof(x) / sizeof(x[0]));
}

static void test_gemini_stalled_connection_times_out_as_a_transient_failure(void **state)
{
    world *w = *state;
    fake_server_lock(&w->fake.s);
    w->fake.s.stall_ms = 3000;
    fake_server_unlock(&w->fake.s);
    llm_settings s = gemini_settings(w, 300);
    llm_result res;
    run(w, &s, FAKE_STALL, &res);
    assert_int_equal(res.outcome, LLM_TRANSIENT);
    assert_string_equal(res.error_code, "timeout");
    assert_non_null(strstr(res.message, "did not answer within 300 ms"));
    assert_non_null(strstr(res.message, "127.0.0.1"));
    llm_result_free(&res);
}

/* ---- openai-compatible ------------------------------------------------------------ */

static void test_openai_request_carries_messages_sampling_strict_schema_and_bearer_key(void **state)
{
    world *w = *state;
    w->o.target_seconds = 90;
    llm_settings s = openai_settings(w, 5000, false);
    llm_result res;
    run(w, &s, FAKE_OK, &res);
    assert_int_equal(res.outcome, LLM_OK);
    assert_int_equal(res.tokens_in, 111);
    assert_int_equal(res.tokens_out, 222);
    llm_result_free(&res);

    fake_server_lock(&w->fake.s);
    assert_string_equal(w->fake.s.path, "/v1/chat/completions");
    assert_string_equal(w->fake.s.authorization, "Bearer " OPENAI_KEY);
    assert_string_equal(w->fake.s.goog_key, "");
    fake_server_unlock(&w->fake.s);
    json_t *b = fake_server_last_body(&w->fake.s);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "local-model");
    const json_t *msgs = json_object_get(b, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "role")),
                        "system");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "content")),
                        SYSTEM);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "role")),
                        "user");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(msgs, 1), "content")),
                           "about 90 seconds of narration"));
    assert_true(num(b, "temperature", NULL) == 0.7);
    assert_true(num(b, "top_p", NULL) == 0.9);
    assert_null(json_object_get(b, "top_k")); /* not an OpenAI parameter */
    assert_true(num(b, "max_tokens", NULL) > 1000);
    const json_t *rf = json_object_get(b, "response_format");
    assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_schema");
    const json_t *js = json_object_get(rf, "json_schema");
    assert_string_equal(json_string_value(json_object_get(js, "name")), "video_script");
    assert_true(json_is_true(json_object_get(js, "strict")));
    /* Strict mode: closed objects, every property required, no length keywords. */
    const json_t *sch = json_object_get(js, "schema");
    assert_true(json_is_false(json_object_get(sch, "additionalProperties")));
    assert_int_equal(json_array_size(json_object_get(sch, "required")), 4);
    const json_t *scenes = json_object_get(json_object_get(sch, "properties"), "scenes");
    assert_null(json_object_get(scenes, "maxItems"));
    assert_non_null(
        strstr(json_string_value(json_object_get(scenes, "description")), "at most 30 items"));
    assert_true(
        json_is_false(json_object_get(json_object_get(scenes, "items"), "additionalProperties")));
    json_decref(b);
}

static void test_openai_sends_top_k_only_when_the_backend_takes_it(void **state)
{
    world *w = *state;
    llm_settings s = openai_settings(w, 5000, true);
    llm_result res;
    run(w, &s, FAKE_OK, &res);
    assert_int_equal(res.outcome, LLM_OK);
    llm_result_free(&res);
    json_t *b = fake_server_last_body(&w->fake.s);
    assert_true(num(b, "top_k", NULL) == 33);
    json_decref(b);
}

static void test_openai_failures_map_to_retry_later_retry_or_give_up(void **state)
{
    world *w = *state;
    static const expectation x[] = {
        {FAKE_MAX_TOKENS, LLM_PERMANENT, "finish_reason:length", "ran out of output tokens", 0},
        {FAKE_SAFETY, LLM_PERMANENT, "finish_reason:content_filter", "content filter", 0},
        {FAKE_REFUSAL, LLM_PERMANENT, "refusal", "I can't help with that.", 0},
        {FAKE_429, LLM_RATE_LIMITED, "rate_limited", "HTTP 429", 7},
        {FAKE_500, LLM_TRANSIENT, "http_500", "HTTP 500", 0},
        {FAKE_MALFORMED, LLM_PERMANENT, "malformed_json", "not valid JSON", 0},
        {FAKE_SCHEMA, LLM_PERMANENT, "schema_violation", "scenes: is missing", 0},
        {FAKE_401_ECHO, LLM_PERMANENT, "http_401", "[redacted]", 0},
    };
    llm_settings s = openai_settings(w, 5000, false);
    expect_all(w, &s, x, sizeof(x) / sizeof(x[0]));
}

static void test_openai_stalled_connection_times_out_as_a_transient_failure(void **state)
{
    world *w = *state;
    fake_server_lock(&w->fake.s);
    w->fake.s.stall_ms = 3000;
    fake_server_unlock(&w->fake.s);
    llm_settings s = openai_settings(w, 300, false);
    llm_result res;
    run(w, &s, FAKE_STALL, &res);
    assert_int_equal(res.outcome, LLM_TRANSIENT);
    assert_string_equal(res.error_code, "timeout");
    llm_result_free(&res);
}

static void test_a_network_provider_without_its_key_is_a_configuration_error(void **state)
{
    (void)state;
    llm_settings s = {.provider = "gemini", .gemini_base_url = "http://127.0.0.1:1"};
    error e;
    assert_null(llm_new(&s, &e));
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, "PSTUDIO_GEMINI_API_KEY");
    llm_settings bad = {.provider = "claude"};
    assert_null(llm_new(&bad, &e));
    assert_string_equal(e.field, "PSTUDIO_LLM_PROVIDER");
}

static void test_an_unreachable_provider_is_transient_and_names_the_host(void **state)
{
    world *w = *state;
    llm_settings s = gemini_settings(w, 2000);
    s.gemini_base_url = "http://127.0.0.1:1";
    error e;
    llm *m = llm_new(&s, &e);
    build(w);
    llm_result res;
    llm_generate(m, &w->rq, &res);
    assert_int_equal(res.outcome, LLM_TRANSIENT);
    assert_string_equal(res.error_code, "unavailable");
    assert_non_null(strstr(res.message, "127.0.0.1:1"));
    llm_result_free(&res);
    llm_free(m);
}

/* ---- offline ---------------------------------------------------------------------- */

static json_t *offline(world *w)
{
    llm_settings s = {.provider = NULL};
    error e;
    llm *m = llm_new(&s, &e);
    assert_string_equal(llm_provider(m), "offline");
    assert_string_equal(llm_model(m), "offline-draft-writer");
    build(w);
    llm_result res;
    llm_generate(m, &w->rq, &res);
    llm_free(m);
    assert_int_equal(res.outcome, LLM_OK);
    json_t *j = res.json;
    res.json = NULL;
    llm_result_free(&res);
    return j;
}

static void test_offline_writer_is_deterministic_and_labelled_as_a_draft(void **state)
{
    world *w = *state;
    w->o.target_scenes = 7;
    json_t *a = offline(w), *b = offline(w);
    assert_true(json_equal(a, b));
    assert_int_equal(json_array_size(json_object_get(a, "scenes")), 7);
    const char *title = json_string_value(json_object_get(a, "title"));
    assert_true(strncmp(title, "Offline draft: ", 15) == 0);
    const char *desc = json_string_value(json_object_get(a, "description"));
    assert_non_null(strstr(desc, "no AI model was used"));
    assert_non_null(strstr(desc, "Calm Astro"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "tags"), 0)),
                        "offline-draft");
    /* It fits what script_service accepts. */
    script_answer ans;
    char why[200];
    assert_int_equal(script_prompt_accept(&w->a, &w->ask, a, &ans, why, sizeof(why)), 0);
    assert_int_equal(ans.nscenes, 7);
    assert_non_null(strstr(ans.narration[0], "why is the night sky dark"));
    json_decref(a);
    json_decref(b);
}

static void test_offline_writer_follows_language_length_and_temperature(void **state)
{
    world *w = *state;
    w->ask.language = "pt-BR";
    w->o.target_seconds = 120; /* about 10 scenes */
    json_t *pt = offline(w);
    assert_int_equal(json_array_size(json_object_get(pt, "scenes")), 10);
    assert_true(
        strncmp(json_string_value(json_object_get(pt, "title")), "Rascunho offline: ", 18) == 0);
    json_decref(pt);

    /* Temperature 0 always takes the plainest template; a hot persona's
     * drafts vary it by topic. */
    w->ask.language = "en";
    w->o.target_seconds = 0;
    w->o.target_scenes = 8;
    static const char *const topics[] = {"Why is the night sky dark?", "How do bees find flowers?",
                                         "What is a black hole?", "Why do cats purr?",
                                         "How do tides work?"};
    int plain[2] = {0, 0};
    for (int hot = 0; hot < 2; hot++) {
        w->ps->temperature = hot ? 2.0 : 0.0;
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
            w->pr.topic = topics[i];
            json_t *j = offline(w);
            const char *hook = json_string_value(
                json_object_get(json_array_get(json_object_get(j, "scenes"), 0), "narration"));
            plain[hot] += strncmp(hook, "Today's question:", 17) == 0;
            json_decref(j);
        }
    }
    assert_int_equal(plain[0], 5);
    assert_true(plain[1] < 5);
}

static int words_of(const json_t *script)
{
    int n = 0;
    const json_t *list = json_object_get(script, "scenes");
    for (size_t i = 0; i < json_array_size(list); i++) {
        bool in = false;
        for (const char *c =
                 json_string_value(json_object_get(json_array_get(list, i), "narration"));
             *c; c++) {
            bool space = *c == ' ';
            n += !space && !in;
            in = !space;
        }
    }
    return n;
}

static void test_a_long_target_makes_longer_scenes_not_more_than_thirty(void **state)
{
    world *w = *state;
    static const struct {
        int seconds, scenes, per_scene, words;
    } cases[] = {
        {120, 10, 12, 30},   /* 12 s a scene while there may be more scenes */
        {360, 30, 12, 30},   /* the most scenes */
        {900, 30, 30, 75},   /* past that, longer scenes */
        {1800, 30, 60, 150}, /* the longest target: 30 scenes of a minute */
    };
    for (int pt = 0; pt < 2; pt++) {
        w->ask.language = pt ? "pt-BR" : "en";
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            w->o.target_seconds = cases[i].seconds;
            json_t *j = offline(w);
            char want[200];
            snprintf(want, sizeof(want),
                     "about %d seconds of narration in total: about %d scenes of about %d seconds "
                     "(about %d words) of narration each",
                     cases[i].seconds, cases[i].scenes, cases[i].per_scene, cases[i].words);
            if (strstr(w->rq.prompt, want) == NULL)
                fail_msg("%d s: the prompt lacks '%s': %s", cases[i].seconds, want, w->rq.prompt);
            assert_int_equal(json_array_size(json_object_get(j, "scenes")), cases[i].scenes);
            /* The offline draft is that long too: at least the words asked
             * for, and not far past them. */
            int words = words_of(j), asked = cases[i].scenes * cases[i].words;
            if (words < asked || words > asked * 2)
                fail_msg("%s, %d s: %d words for %d asked", w->ask.language, cases[i].seconds,
                         words, asked);
            json_decref(j);
        }
    }
}

static void test_offline_scene_rewrite_answers_one_scene(void **state)
{
    world *w = *state;
    scene scenes[3];
    memset(scenes, 0, sizeof(scenes));
    for (int i = 0; i < 3; i++) {
        scenes[i].narration = "old words";
        scenes[i].visual_description = "old shot";
    }
    w->ask.scenes = scenes;
    w->ask.nscenes = 3;
    w->ask.scene_index = 1;
    json_t *j = offline(w);
    assert_non_null(json_object_get(j, "narration"));
    assert_null(json_object_get(j, "scenes"));
    script_answer ans;
    char why[200];
    assert_int_equal(script_prompt_accept(&w->a, &w->ask, j, &ans, why, sizeof(why)), 0);
    assert_int_equal(ans.nscenes, 1);
    json_decref(j);
    /* The prompt a model would get names the neighbours. */
    assert_non_null(strstr(w->rq.prompt, "The scene before it"));
    assert_non_null(strstr(w->rq.prompt, "The scene after it"));
    assert_non_null(strstr(w->rq.prompt, "rewrite scene 2"));
}

/* ---- what a visual description asks for ------------------------------------------- */

/* The words that would ask for text on screen, which the starter personas
 * forbid ("Never ask for on-screen text, captions, labels … or logos"). */
static void assert_asks_for_no_text(const char *where, const char *s)
{
    static const char *const words[] = {"on-screen", "caption", "title card", "logo",   "label",
                                        "legenda",   "cartela", "rótulo",     "na tela"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(s, words[i]) != NULL)
            fail_msg("%s asks for '%s': %s", where, words[i], s);
}

static void test_no_request_or_offline_draft_asks_for_text_on_screen(void **state)
{
    world *w = *state;
    /* What a model is sent, whole script and one scene, in both dialects:
     * the prompt and every schema description. */
    scene scenes[3];
    memset(scenes, 0, sizeof(scenes));
    for (int i = 0; i < 3; i++) {
        scenes[i].narration = "old words";
        scenes[i].visual_description = "old shot";
    }
    for (int mode = 0; mode < 2; mode++) {
        w->ask.scene_index = mode ? 1 : -1;
        w->ask.scenes = mode ? scenes : NULL;
        w->ask.nscenes = mode ? 3 : 0;
        for (int prov = 0; prov < 2; prov++) {
            llm_settings s = prov ? openai_settings(w, 5000, false) : gemini_settings(w, 5000);
            llm_result res;
            run(w, &s, FAKE_OK, &res);
            llm_result_free(&res);
            json_t *b = fake_server_last_body(&w->fake.s);
            char *text = json_dumps(b, 0);
            assert_non_null(strstr(text, "what the viewer sees"));
            assert_asks_for_no_text(prov ? "the openai request" : "the gemini request", text);
            free(text);
            json_decref(b);
        }
    }
    /* The offline writer's visuals, every role and variant in both languages. */
    w->ask.scene_index = -1;
    w->ask.scenes = NULL;
    w->ask.nscenes = 0;
    w->ps->temperature = 2.0;
    w->o.target_scenes = 30;
    static const char *const langs[] = {"en", "pt-BR"};
    static const char *const topics[] = {"Why is the night sky dark?", "How do bees find flowers?",
                                         "What is a black hole?",      "Why do cats purr?",
                                         "How do tides work?",         "Por que o céu é azul?"};
    for (size_t l = 0; l < 2; l++) {
        w->ask.language = langs[l];
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
            w->pr.topic = topics[i];
            json_t *j = offline(w);
            json_t *list = json_object_get(j, "scenes");
            assert_int_equal(json_array_size(list), 30);
            for (size_t k = 0; k < json_array_size(list); k++)
                assert_asks_for_no_text("an offline visual",
                                        json_string_value(json_object_get(json_array_get(list, k),
                                                                          "visual_description")));
            json_decref(j);
        }
    }
}

/* ---- the checks around the providers ----------------------------------------------- */

static void test_blank_narration_and_wrong_scene_count_are_refused_by_the_script_check(void **state)
{
    world *w = *state;
    w->o.target_scenes = 3;
    build(w);
    json_t *blank = json_loads("{\"title\":\"T\",\"description\":\"\",\"tags\":[\" \"],\"scenes\":["
                               "{\"visual_description\":\"a\",\"narration\":\"b\"},"
                               "{\"visual_description\":\"a\",\"narration\":\" \\n\"},"
                               "{\"visual_description\":\"a\",\"narration\":\"c\"}]}",
                               0, NULL);
    script_answer ans;
    char why[200];
    assert_int_equal(script_prompt_accept(&w->a, &w->ask, blank, &ans, why, sizeof(why)), -1);
    assert_string_equal(why, "scenes[1].narration is blank");
    json_array_remove(json_object_get(blank, "scenes"), 1);
    assert_int_equal(script_prompt_accept(&w->a, &w->ask, blank, &ans, why, sizeof(why)), -1);
    assert_string_equal(why, "3 scenes were asked for and the answer has 2");
    json_decref(blank);
}

static void test_schema_check_names_the_first_fault_by_its_path(void **state)
{
    world *w = *state;
    build(w);
    char why[200];
    json_t *v = json_loads("{\"title\":\"T\",\"description\":\"d\",\"tags\":[],\"scenes\":["
                           "{\"visual_description\":\"a\",\"narration\":\"b\",\"x\":1}]}",
                           0, NULL);
    assert_int_equal(llm_schema_check(w->schema, v, why, sizeof(why)), -1);
    assert_string_equal(why, "scenes[0].x: is not part of the format");
    json_object_del(json_array_get(json_object_get(v, "scenes"), 0), "x");
    assert_int_equal(llm_schema_check(w->schema, v, why, sizeof(why)), 0);
    char long_title[200];
    memset(long_title, 'x', 101);
    long_title[101] = '\0';
    json_object_set_new(v, "title", json_string(long_title));
    assert_int_equal(llm_schema_check(w->schema, v, why, sizeof(why)), -1);
    assert_string_equal(why, "title: must have at most 100 characters (has 101)");
    json_object_set_new(v, "scenes", json_array());
    json_object_set_new(v, "title", json_string("ok"));
    assert_int_equal(llm_schema_check(w->schema, v, why, sizeof(why)), -1);
    assert_string_equal(why, "scenes: must have at least 1 item (has 0)");
    json_decref(v);
}

static void test_http_client_caps_the_response_and_reports_refused_connections(void **state)
{
    world *w = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/v1/chat/completions", w->fake.s.base_url);
    http_client_req rq = {.method = "POST",
                          .url = url,
                          .body = "{}",
                          .body_len = 2,
                          .timeout_ms = 5000,
                          .max_response = 64};
    http_client_resp resp;
    error e;
    assert_int_equal(http_client_do(&rq, &resp, &e), -1);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_non_null(strstr(e.message, "64 bytes"));
    http_client_resp_free(&resp);

    rq.max_response = 0;
    assert_int_equal(http_client_do(&rq, &resp, &e), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(resp.retry_after_s, -1);
    http_client_resp_free(&resp);

    rq.url = "http://127.0.0.1:1/x?key=SECRET";
    assert_int_equal(http_client_do(&rq, &resp, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_non_null(strstr(e.message, "127.0.0.1:1"));
    assert_null(strstr(e.message, "SECRET"));
    http_client_resp_free(&resp);

    char out[64];
    assert_true(http_client_urlencode("a b&c=ã~", out, sizeof(out)));
    assert_string_equal(out, "a%20b%26c%3D%C3%A3~");
    assert_false(http_client_urlencode("abcdef", out, 4));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_gemini_request_carries_persona_sampling_schema_and_key_header),
        T(test_gemini_success_skips_thought_parts_and_counts_tokens),
        T(test_gemini_failures_map_to_retry_later_retry_or_give_up),
        T(test_gemini_stalled_connection_times_out_as_a_transient_failure),
        T(test_openai_request_carries_messages_sampling_strict_schema_and_bearer_key),
        T(test_openai_sends_top_k_only_when_the_backend_takes_it),
        T(test_openai_failures_map_to_retry_later_retry_or_give_up),
        T(test_openai_stalled_connection_times_out_as_a_transient_failure),
        T(test_a_network_provider_without_its_key_is_a_configuration_error),
        T(test_an_unreachable_provider_is_transient_and_names_the_host),
        T(test_offline_writer_is_deterministic_and_labelled_as_a_draft),
        T(test_offline_writer_follows_language_length_and_temperature),
        T(test_a_long_target_makes_longer_scenes_not_more_than_thirty),
        T(test_offline_scene_rewrite_answers_one_scene),
        T(test_no_request_or_offline_draft_asks_for_text_on_screen),
        T(test_blank_narration_and_wrong_scene_count_are_refused_by_the_script_check),
        T(test_schema_check_names_the_first_fault_by_its_path),
        T(test_http_client_caps_the_response_and_reports_refused_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
