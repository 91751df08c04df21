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

void fake_llm_lock(fake_llm *f)
{
    pthread_mutex_lock(&f->lock);
}

void fake_llm_unlock(fake_llm *f)
{
    pthread_mutex_unlock(&f->lock);
}

void fake_llm_push(fake_llm *f, fake_llm_mode m)
{
    if (f->nqueue < FAKE_LLM_QUEUE)
        f->queue[f->nqueue++] = m;
}

json_t *fake_llm_last_body(fake_llm *f)
{
    fake_llm_lock(f);
    json_t *b = json_incref(f->body);
    fake_llm_unlock(f);
    return b;
}

int fake_llm_calls(fake_llm *f)
{
    fake_llm_lock(f);
    int n = f->calls;
    fake_llm_unlock(f);
    return n;
}

/* Takes the next answer's mode and records the request. */
static fake_llm_mode fake__receive(http_request *r, fake_llm *f, json_t **body)
{
    size_t len = 0;
    const char *text = http_body(r, &len);
    *body = json_loadb(text, len, 0, NULL);
    fake_llm_lock(f);
    fake_llm_mode m = f->mode;
    if (f->nqueue > 0) {
        m = f->queue[0];
        memmove(f->queue, f->queue + 1, sizeof(f->queue[0]) * (size_t)(f->nqueue - 1));
        f->nqueue--;
    }
    f->calls++;
    snprintf(f->path, sizeof(f->path), "%s", http_path(r));
    const char *k = http_header(r, "x-goog-api-key");
    snprintf(f->goog_key, sizeof(f->goog_key), "%s", k ? k : "");
    const char *a = http_header(r, "Authorization");
    snprintf(f->authorization, sizeof(f->authorization), "%s", a ? a : "");
    json_decref(f->body);
    f->body = json_incref(*body);
    int stall = f->stall_ms;
    fake_llm_unlock(f);
    if (m == FAKE_STALL) {
        int64_t until = time_mono_usec() + (int64_t)stall * 1000;
        for (;;) {
            fake_llm_lock(f);
            bool stop = f->stopping;
            fake_llm_unlock(f);
            if (stop || time_mono_usec() >= until)
                break;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        m = FAKE_OK;
    }
    return m;
}

static void fake__reply(http_request *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

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
static bool fake__http_failure(http_request *r, fake_llm *f, fake_llm_mode m, bool gemini)
{
    switch (m) {
    case FAKE_429:
        http_set_header(r, "Retry-After", "7");
        fake__reply(r, 429,
                    json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 429, "message",
                              "Resource has been exhausted (e.g. check quota).", "status",
                              "RESOURCE_EXHAUSTED"));
        return true;
    case FAKE_429_BODY:
        fake__reply(r, 429,
                    json_pack("{s:{s:i,s:s,s:s,s:[{s:s,s:s}]}}", "error", "code", 429, "message",
                              "Quota exceeded.", "status", "RESOURCE_EXHAUSTED", "details", "@type",
                              "type.googleapis.com/google.rpc.RetryInfo", "retryDelay", "9s"));
        return true;
    case FAKE_500:
        fake__reply(r, 500,
                    json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 500, "message",
                              "An internal error has occurred.", "status", "INTERNAL"));
        return true;
    case FAKE_401_ECHO: {
        char msg[400];
        fake_llm_lock(f);
        snprintf(msg, sizeof(msg), "Incorrect API key provided: %s. Check it.",
                 gemini ? f->goog_key : f->authorization + strlen("Bearer "));
        fake_llm_unlock(f);
        fake__reply(
            r, 401,
            json_pack("{s:{s:s,s:s}}", "error", "message", msg, "type", "invalid_request_error"));
        return true;
    }
    case FAKE_GARBLED:
        http_reply(r, 200, "text/html", "<html>proxy error</html>", 24);
        return true;
    default:
        return false;
    }
}

static void fake__gemini(http_request *r)
{
    fake_llm *f = http_app(r);
    json_t *body;
    fake_llm_mode m = fake__receive(r, f, &body);
    if (!fake__http_failure(r, f, m, true)) {
        json_t *usage = json_pack("{s:i,s:i,s:i}", "promptTokenCount", 120, "candidatesTokenCount",
                                  340, "thoughtsTokenCount", 5);
        if (m == FAKE_BLOCKED) {
            fake__reply(r, 200,
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
            fake__reply(r, 200,
                        json_pack("{s:[o],s:o,s:s}", "candidates", cand, "usageMetadata", usage,
                                  "modelVersion", "fake"));
        }
    }
    json_decref(body);
}

static void fake__openai(http_request *r)
{
    fake_llm *f = http_app(r);
    json_t *body;
    fake_llm_mode m = fake__receive(r, f, &body);
    if (!fake__http_failure(r, f, m, false)) {
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
        fake__reply(r, 200,
                    json_pack("{s:s,s:s,s:[{s:i,s:o,s:s}],s:{s:i,s:i,s:i}}", "id", "chatcmpl-1",
                              "object", "chat.completion", "choices", "index", 0, "message", msg,
                              "finish_reason", finish, "usage", "prompt_tokens", 111,
                              "completion_tokens", 222, "total_tokens", 333));
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
    pthread_mutex_init(&f->lock, NULL);
    f->mode = FAKE_OK;
    f->stall_ms = 2000;
    http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = 4,
        .max_body = 4 * 1024 * 1024,
        .shutdown_timeout_ms = 3000,
        .app = f,
    };
    error e;
    f->srv =
        http_server_start(&cfg, fake__routes, sizeof(fake__routes) / sizeof(fake__routes[0]), &e);
    if (f->srv == NULL)
        fail_msg("fake llm: %s", e.message);
    f->port = http_server_port(f->srv);
    snprintf(f->base_url, sizeof(f->base_url), "http://127.0.0.1:%d", f->port);
}

void fake_llm_stop(fake_llm *f)
{
    fake_llm_lock(f);
    f->stopping = true;
    fake_llm_unlock(f);
    http_server_stop(f->srv);
    json_decref(f->body);
    pthread_mutex_destroy(&f->lock);
}
