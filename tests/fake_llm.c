#include "fake_llm.h"

#include "base/timeutil.h"
#include "http/http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The model's answer for a request whose schema is `schema` (neutral JSON
 * Schema or Gemini's upper-case dialect: only property names are read). */
static char *fake__answer(const json_t *schema, fake_llm_mode m)
{
    const json_t *props = json_object_get(schema, "properties");
    if (m == FAKE_MALFORMED)
        return strdup("Here is your script: {\"title\": \"unfinished");
    if (m == FAKE_SCHEMA)
        return strdup("{\"title\":\"No scenes\",\"description\":\"\",\"tags\":[]}");
    json_t *ans;
    if (json_object_get(props, "scenes") == NULL) { /* one scene */
        ans = json_pack("{s:s,s:s}", "visual_description", "A rewritten shot of the night sky.",
                        "narration", m == FAKE_BLANK ? "   " : "A rewritten line about the dark.");
    } else {
        const json_t *sc = json_object_get(props, "scenes");
        json_int_t lo = json_integer_value(json_object_get(sc, "minItems"));
        json_int_t hi = json_integer_value(json_object_get(sc, "maxItems"));
        json_int_t n = lo > 0 && lo == hi ? lo : 3;
        json_t *scenes = json_array();
        for (json_int_t i = 0; i < n; i++) {
            char v[64], t[64];
            snprintf(v, sizeof(v), "Shot %lld of the night sky.", (long long)i + 1);
            snprintf(t, sizeof(t), "Line %lld about why the night is dark.", (long long)i + 1);
            json_array_append_new(scenes,
                                  json_pack("{s:s,s:s}", "visual_description", v, "narration",
                                            m == FAKE_BLANK && i == 1 ? "\n " : t));
        }
        ans = json_pack("{s:s,s:s,s:[s,s],s:o}", "title", "Why is the night dark?", "description",
                        "Olbers' paradox, explained.", "tags", "astronomy", "space", "scenes",
                        scenes);
    }
    char *text = json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
    return text;
}

/* A failure common to both wire formats; false when m is not one. */
static bool fake__http_failure(http_request *r, fake_llm_mode m, bool gemini)
{
    if (fake_server_failure(r, (int)m, gemini))
        return true;
    switch (m) {
    case FAKE_429_BODY:
        fake_server_reply(r, 429,
                          json_pack("{s:{s:i,s:s,s:s,s:[{s:s,s:s}]}}", "error", "code", 429,
                                    "message", "Quota exceeded.", "status", "RESOURCE_EXHAUSTED",
                                    "details", "@type", "type.googleapis.com/google.rpc.RetryInfo",
                                    "retryDelay", "9s"));
        return true;
    case FAKE_GARBLED:
        http_reply(r, 200, "text/html", "<html>proxy error</html>", 24);
        return true;
    default:
        return false;
    }
}

static void fake__gemini(http_request *r)
{
    json_t *body;
    fake_llm_mode m = fake_server_receive(r, &body, FAKE_STALL, FAKE_OK);
    if (!fake__http_failure(r, m, true)) {
        json_t *usage = json_pack("{s:i,s:i,s:i}", "promptTokenCount", 120, "candidatesTokenCount",
                                  340, "thoughtsTokenCount", 5);
        if (m == FAKE_BLOCKED) {
            fake_server_reply(r, 200,
                              json_pack("{s:{s:s},s:o}", "promptFeedback", "blockReason", "SAFETY",
                                        "usageMetadata", usage));
        } else {
            const json_t *schema =
                json_object_get(json_object_get(body, "generationConfig"), "responseSchema");
            char *ans = fake__answer(schema, m);
            const char *finish = m == FAKE_MAX_TOKENS ? "MAX_TOKENS"
                                 : m == FAKE_SAFETY   ? "SAFETY"
                                                      : "STOP";
            json_t *cand =
                json_pack("{s:{s:s,s:[{s:s,s:b},{s:s}]},s:s,s:i}", "content", "role", "model",
                          "parts", "text", "Let me think about the schema first.", "thought", 1,
                          "text", ans, "finishReason", finish, "index", 0);
            free(ans);
            fake_server_reply(r, 200,
                              json_pack("{s:[o],s:o,s:s}", "candidates", cand, "usageMetadata",
                                        usage, "modelVersion", "fake"));
        }
    }
    json_decref(body);
}

static void fake__openai(http_request *r)
{
    json_t *body;
    fake_llm_mode m = fake_server_receive(r, &body, FAKE_STALL, FAKE_OK);
    if (!fake__http_failure(r, m, false)) {
        const json_t *schema = json_object_get(
            json_object_get(json_object_get(body, "response_format"), "json_schema"), "schema");
        char *ans = fake__answer(schema, m);
        const char *finish = m == FAKE_MAX_TOKENS ? "length"
                             : m == FAKE_SAFETY   ? "content_filter"
                                                  : "stop";
        json_t *msg = json_pack("{s:s,s:s,s:n}", "role", "assistant", "content", ans, "refusal");
        if (m == FAKE_REFUSAL)
            json_object_set_new(msg, "refusal", json_string("I can't help with that."));
        free(ans);
        fake_server_reply(r, 200,
                          json_pack("{s:s,s:s,s:[{s:i,s:o,s:s}],s:{s:i,s:i,s:i}}", "id",
                                    "chatcmpl-1", "object", "chat.completion", "choices", "index",
                                    0, "message", msg, "finish_reason", finish, "usage",
                                    "prompt_tokens", 111, "completion_tokens", 222, "total_tokens",
                                    333));
    }
    json_decref(body);
}

static const http_route fake__routes[] = {
    {"POST", "/v1beta/models/{model}", fake__gemini, "fake.gemini"},
    {"POST", "/v1/chat/completions", fake__openai, "fake.openai"},
};

void fake_llm_start(fake_llm *f)
{
    memset(f, 0, sizeof(*f));
    fake_server_start(&f->s, "fake llm", fake__routes,
                      sizeof(fake__routes) / sizeof(fake__routes[0]), f, FAKE_OK, 2000);
    fake_server_error_modes(&f->s, FAKE_429, FAKE_500, FAKE_401_ECHO);
}

void fake_llm_stop(fake_llm *f)
{
    fake_server_stop(&f->s);
}
