/*
 * The OpenAI-compatible provider: POST {base}/v1/chat/completions with a
 * system and a user message and response_format json_schema (strict). One
 * wire format serves OpenAI itself, Ollama, llama.cpp's server and vLLM.
 * Strict mode refuses length and count keywords, so the schema sent here
 * states them in each description instead; llm_generate() still checks
 * the answer against the full schema. top_k is not an OpenAI parameter and
 * is sent only when llm_settings.openai_send_top_k says the backend takes it.
 */
#include "base/text.h"
#include "providers/http_client.h"
#include "providers/llm_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAI_MAX_RESPONSE (4u * 1024 * 1024)

/* Strict structured outputs: every property required, no extra ones, no
 * numeric or length keywords. */
static json_t *openai__schema(const json_t *in)
{
    json_t *out = json_object();
    json_t *type = json_object_get(in, "type");
    if (type != NULL)
        json_object_set(out, "type", type);
    char desc[512] = "";
    const char *d = json_string_value(json_object_get(in, "description"));
    if (d != NULL)
        snprintf(desc, sizeof(desc), "%s", d);
    static const struct {
        const char *key, *bound, *unit;
    } limits[] = {{"minItems", "at least", "items"},
                  {"maxItems", "at most", "items"},
                  {"minLength", "at least", "characters"},
                  {"maxLength", "at most", "characters"}};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        json_t *v = json_object_get(in, limits[i].key);
        if (!json_is_integer(v))
            continue;
        size_t n = strlen(desc);
        snprintf(desc + n, sizeof(desc) - n, "%s%s %lld %s", n ? "; " : "", limits[i].bound,
                 (long long)json_integer_value(v), limits[i].unit);
    }
    if (desc[0] != '\0')
        json_object_set_new(out, "description", json_string(desc));
    const json_t *props = json_object_get(in, "properties");
    if (json_is_object(props)) {
        json_t *p = json_object(), *req = json_array();
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)props, key, v)
        {
            json_object_set_new(p, key, openai__schema(v));
            json_array_append_new(req, json_string(key));
        }
        json_object_set_new(out, "properties", p);
        json_object_set_new(out, "required", req);
        json_object_set_new(out, "additionalProperties", json_false());
    }
    const json_t *items = json_object_get(in, "items");
    if (json_is_object(items))
        json_object_set_new(out, "items", openai__schema(items));
    return out;
}

/* OpenAI's newer models refuse max_tokens; the other servers that speak
 * this protocol know only max_tokens. */
static bool openai__is_openai(const char *base)
{
    return strstr(base, "://api.openai.com") != NULL;
}

static char *openai__body(const llm *m, const llm_request *rq)
{
    json_t *body = json_pack(
        "{s:s,s:[{s:s,s:s},{s:s,s:s}],s:f,s:f}", "model", m->s.model, "messages", "role", "system",
        "content", rq->system_instruction ? rq->system_instruction : "", "role", "user", "content",
        rq->prompt ? rq->prompt : "", "temperature", rq->temperature, "top_p", rq->top_p);
    json_object_set_new(
        body, openai__is_openai(m->s.openai_base_url) ? "max_completion_tokens" : "max_tokens",
        json_integer(rq->max_output_tokens));
    if (m->s.openai_send_top_k)
        json_object_set_new(body, "top_k", json_integer(rq->top_k));
    if (rq->schema != NULL)
        json_object_set_new(body, "response_format",
                            json_pack("{s:s,s:{s:s,s:b,s:o}}", "type", "json_schema", "json_schema",
                                      "name", rq->schema_name ? rq->schema_name : "answer",
                                      "strict", 1, "schema", openai__schema(rq->schema)));
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    return text;
}

static void openai__read(llm_result *out, const json_t *doc)
{
    const json_t *usage = json_object_get(doc, "usage");
    out->tokens_in = json_integer_value(json_object_get(usage, "prompt_tokens"));
    out->tokens_out = json_integer_value(json_object_get(usage, "completion_tokens"));
    const json_t *choice = json_array_get(json_object_get(doc, "choices"), 0);
    const json_t *msg = json_object_get(choice, "message");
    if (choice == NULL || msg == NULL) {
        llm__fail(out, LLM_PERMANENT, "empty_answer", "the model returned no answer");
        return;
    }
    const char *refusal = json_string_value(json_object_get(msg, "refusal"));
    if (refusal != NULL) {
        size_t len = strlen(refusal);
        llm__fail(out, LLM_PERMANENT, "refusal", "the model refused to write this script: %.*s",
                  (int)utf8_cut(refusal, len < 300 ? len : 300), refusal);
        return;
    }
    const char *reason = json_string_value(json_object_get(choice, "finish_reason"));
    if (reason != NULL && strcmp(reason, "stop") != 0) {
        char code[64];
        snprintf(code, sizeof(code), "finish_reason:%.40s", reason);
        if (strcmp(reason, "length") == 0)
            llm__fail(out, LLM_PERMANENT, code,
                      "the model ran out of output tokens before the script was complete; ask "
                      "for fewer scenes or a shorter video (finish_reason length)");
        else if (strcmp(reason, "content_filter") == 0)
            llm__fail(out, LLM_PERMANENT, code,
                      "the provider's content filter stopped the answer; rephrase the topic or "
                      "the instructions (finish_reason content_filter)");
        else
            llm__fail(out, LLM_PERMANENT, code,
                      "the model stopped without finishing its answer (finish_reason %.40s)",
                      reason);
        return;
    }
    const char *content = json_string_value(json_object_get(msg, "content"));
    if (content == NULL || content[0] == '\0') {
        llm__fail(out, LLM_PERMANENT, "empty_answer", "the model returned an empty answer");
        return;
    }
    if (llm__parse_answer(out, content) == 0)
        out->outcome = LLM_OK;
}

void llm__openai_answer(llm_result *out, const char *body)
{
    json_t *doc = json_loads(body, 0, NULL);
    if (!json_is_object(doc))
        llm__fail(out, LLM_TRANSIENT, "malformed_response",
                  "the openai provider answered with something that is not its JSON format");
    else
        openai__read(out, doc);
    json_decref(doc);
}

static void openai__generate(const llm *m, const llm_request *rq, llm_result *out)
{
    const char *base = m->s.openai_base_url;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    char url[2048];
    snprintf(url, sizeof(url), "%.*s/v1/chat/completions", (int)blen, base);
    const char *key = m->s.openai_api_key;
    char auth[1024] = "";
    const char *headers[4] = {"Content-Type: application/json", "Accept: application/json", NULL,
                              NULL};
    if (key != NULL && key[0] != '\0') {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        headers[2] = auth;
    }
    char *body = openai__body(m, rq);
    http_client_req req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = strlen(body),
        .connect_timeout_ms = m->s.timeout_ms < 10000 ? m->s.timeout_ms : 10000,
        .timeout_ms = m->s.timeout_ms,
        .max_response = OPENAI_MAX_RESPONSE,
    };
    http_client_resp resp;
    error e;
    int rc = http_client_do(&req, &resp, &e);
    explicit_bzero(auth, sizeof(auth));
    free(body);
    if (rc != 0) {
        llm__transport_failed(out, &e);
        http_client_resp_free(&resp);
        return;
    }
    out->http_status = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        llm__status_failed(m, out, &resp, key);
        http_client_resp_free(&resp);
        return;
    }
    llm__openai_answer(out, buf_cstr(&resp.body));
    http_client_resp_free(&resp);
}

const llm__vtable llm__openai = {"openai", openai__generate};
