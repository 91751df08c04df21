/*
 * The Gemini provider: POST {base}/v1beta/models/{model}:generateContent
 * with the key in x-goog-api-key (never in the URL, where proxies log it).
 * The answer is the concatenated text of candidates[0].content.parts that
 * are not thoughts; any finishReason but STOP is a failure, since a script
 * cut off by MAX_TOKENS or SAFETY is not a script.
 */
#include "providers/http_client.h"
#include "providers/llm_driver.h"

#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMINI_MAX_RESPONSE (4u * 1024 * 1024)

/* Gemini's Schema is an OpenAPI 3.0 subset: upper-case type names, no
 * additionalProperties, and propertyOrdering so the answer keeps our order. */
static json_t *gemini__schema(const json_t *in)
{
    json_t *out = json_object();
    const char *type = json_string_value(json_object_get(in, "type"));
    if (type != NULL) {
        char up[16];
        size_t i = 0;
        for (; type[i] && i + 1 < sizeof(up); i++)
            up[i] = (char)(type[i] >= 'a' && type[i] <= 'z' ? type[i] - 32 : type[i]);
        up[i] = '\0';
        json_object_set_new(out, "type", json_string(up));
    }
    static const char *const copied[] = {"description", "minItems", "maxItems", "minLength",
                                         "maxLength",   "required", NULL};
    for (const char *const *k = copied; *k; k++) {
        json_t *v = json_object_get(in, *k);
        if (v != NULL)
            json_object_set(out, *k, v);
    }
    const json_t *props = json_object_get(in, "properties");
    if (json_is_object(props)) {
        json_t *p = json_object(), *order = json_array();
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)props, key, v)
        {
            json_object_set_new(p, key, gemini__schema(v));
            json_array_append_new(order, json_string(key));
        }
        json_object_set_new(out, "properties", p);
        json_object_set_new(out, "propertyOrdering", order);
    }
    const json_t *items = json_object_get(in, "items");
    if (json_is_object(items))
        json_object_set_new(out, "items", gemini__schema(items));
    return out;
}

static char *gemini__body(const llm_request *rq)
{
    json_t *gen = json_pack("{s:f,s:f,s:I,s:i,s:s}", "temperature", rq->temperature, "topP",
                            rq->top_p, "topK", (json_int_t)rq->top_k, "maxOutputTokens",
                            rq->max_output_tokens, "responseMimeType", "application/json");
    if (rq->schema != NULL)
        json_object_set_new(gen, "responseSchema", gemini__schema(rq->schema));
    json_t *body =
        json_pack("{s:{s:[{s:s}]},s:[{s:s,s:[{s:s}]}],s:o}", "systemInstruction", "parts", "text",
                  rq->system_instruction ? rq->system_instruction : "", "contents", "role", "user",
                  "parts", "text", rq->prompt ? rq->prompt : "", "generationConfig", gen);
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    return text;
}

static const char *gemini__finish_advice(const char *reason)
{
    if (strcmp(reason, "MAX_TOKENS") == 0)
        return "the model ran out of output tokens before the script was complete; ask for "
               "fewer scenes or a shorter video";
    if (strcmp(reason, "SAFETY") == 0 || strcmp(reason, "PROHIBITED_CONTENT") == 0 ||
        strcmp(reason, "BLOCKLIST") == 0 || strcmp(reason, "SPII") == 0)
        return "the model stopped for safety reasons; rephrase the topic or the instructions";
    if (strcmp(reason, "RECITATION") == 0)
        return "the model stopped because its answer recited existing material; rephrase the "
               "topic or the instructions";
    return "the model stopped before finishing its answer";
}

static void gemini__read(llm_result *out, const json_t *doc)
{
    const json_t *usage = json_object_get(doc, "usageMetadata");
    out->tokens_in = json_integer_value(json_object_get(usage, "promptTokenCount"));
    /* Thinking tokens are billed as output, so they count as output here. */
    out->tokens_out = json_integer_value(json_object_get(usage, "candidatesTokenCount")) +
                      json_integer_value(json_object_get(usage, "thoughtsTokenCount"));

    const json_t *cand = json_array_get(json_object_get(doc, "candidates"), 0);
    if (cand == NULL) {
        const char *blocked = json_string_value(
            json_object_get(json_object_get(doc, "promptFeedback"), "blockReason"));
        if (blocked != NULL) {
            char code[64];
            snprintf(code, sizeof(code), "prompt_blocked:%.40s", blocked);
            llm__fail(out, LLM_PERMANENT, code,
                      "the model refused the request (blockReason %s); rephrase the topic or "
                      "the instructions",
                      blocked);
        } else {
            llm__fail(out, LLM_PERMANENT, "empty_answer", "the model returned no answer");
        }
        return;
    }
    const char *reason = json_string_value(json_object_get(cand, "finishReason"));
    if (reason != NULL && strcmp(reason, "STOP") != 0) {
        char code[64];
        snprintf(code, sizeof(code), "finish_reason:%.40s", reason);
        llm__fail(out, LLM_PERMANENT, code, "%s (finishReason %s)", gemini__finish_advice(reason),
                  reason);
        return;
    }
    buf text;
    buf_init(&text, GEMINI_MAX_RESPONSE);
    const json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
    size_t i;
    const json_t *part;
    json_array_foreach(parts, i, part)
    {
        if (json_is_true(json_object_get(part, "thought")))
            continue;
        const char *t = json_string_value(json_object_get(part, "text"));
        if (t != NULL)
            buf_puts(&text, t);
    }
    if (text.len == 0)
        llm__fail(out, LLM_PERMANENT, "empty_answer", "the model returned an empty answer");
    else if (llm__parse_answer(out, buf_cstr(&text)) == 0)
        out->outcome = LLM_OK;
    buf_free(&text);
}

void llm__gemini_answer(llm_result *out, const char *body)
{
    json_t *doc = json_loads(body, 0, NULL);
    if (!json_is_object(doc))
        llm__fail(out, LLM_TRANSIENT, "malformed_response",
                  "the gemini provider answered with something that is not its JSON format");
    else
        gemini__read(out, doc);
    json_decref(doc);
}

static void gemini__generate(const llm *m, const llm_request *rq, llm_result *out)
{
    const char *base = m->s.gemini_base_url;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    const char *model = m->s.model;
    if (strncmp(model, "models/", 7) == 0)
        model += 7;
    char model_enc[256];
    if (!http_client_urlencode(model, model_enc, sizeof(model_enc))) {
        llm__fail(out, LLM_PERMANENT, "config", "the model name is too long");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%.*s/v1beta/models/%s:generateContent", (int)blen, base, model_enc);
    char key_header[1024];
    snprintf(key_header, sizeof(key_header), "x-goog-api-key: %s", m->s.gemini_api_key);
    const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
                             key_header, NULL};
    char *body = gemini__body(rq);
    http_client_req req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = strlen(body),
        .connect_timeout_ms = m->s.timeout_ms < 10000 ? m->s.timeout_ms : 10000,
        .timeout_ms = m->s.timeout_ms,
        .max_response = GEMINI_MAX_RESPONSE,
    };
    http_client_resp resp;
    error e;
    int rc = http_client_do(&req, &resp, &e);
    explicit_bzero(key_header, sizeof(key_header));
    free(body);
    if (rc != 0) {
        llm__transport_failed(out, &e);
        http_client_resp_free(&resp);
        return;
    }
    out->http_status = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        llm__status_failed(m, out, &resp, m->s.gemini_api_key);
        http_client_resp_free(&resp);
        return;
    }
    llm__gemini_answer(out, buf_cstr(&resp.body));
    http_client_resp_free(&resp);
}

const llm__vtable llm__gemini = {"gemini", gemini__generate};
