/*
 * The failure classification the network providers share: transport
 * failures, non-2xx answers (with the provider's own message, keys
 * removed) and answers that are not JSON.
 */
#include "providers/llm_driver.h"

#include "base/text.h"
#include "providers/http_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llm__fail(llm_result *out, llm_outcome o, const char *code, const char *fmt, ...)
{
    out->outcome = o;
    snprintf(out->error_code, sizeof(out->error_code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
    /* The message may be stored (a project's error): never cut inside a character. */
    if (n >= (int)sizeof(out->message))
        out->message[utf8_cut(out->message, sizeof(out->message) - 1)] = '\0';
}

void llm__transport_failed(llm_result *out, const error *e)
{
    if (e->kind == ERR_TOO_LARGE)
        llm__fail(out, LLM_PERMANENT, "response_too_large",
                  "the model provider's answer was too large: %s", e->message);
    else if (e->kind == ERR_CONFIG)
        llm__fail(out, LLM_PERMANENT, "config", "the model provider is misconfigured: %s",
                  e->message);
    else if (strcmp(e->field, "timeout_ms") == 0)
        llm__fail(out, LLM_TRANSIENT, "timeout", "the model provider timed out: %s", e->message);
    else
        llm__fail(out, LLM_TRANSIENT, "unavailable", "the model provider is unreachable: %s",
                  e->message);
}

/* Removes the key, and any word shaped like a provider key, from text
 * (OpenAI quotes a masked key in its 401 message). */
static void llm__redact(char *text, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen >= 4) {
        char *hit;
        while ((hit = strstr(text, key)) != NULL) {
            if (klen >= 10) { /* shrink in place: the text never grows */
                memmove(hit + 10, hit + klen, strlen(hit + klen) + 1);
                memcpy(hit, "[redacted]", 10);
            } else {
                memset(hit, '*', klen);
            }
        }
    }
    static const char *const prefixes[] = {"sk-", "AIza", "Bearer ", NULL};
    for (const char *const *p = prefixes; *p; p++) {
        char *hit = text;
        while ((hit = strstr(hit, *p)) != NULL) {
            size_t len = strcspn(hit, " \t\r\n\"',.;)");
            if (strcmp(*p, "Bearer ") == 0)
                len = 7 + strcspn(hit + 7, " \t\r\n\"',.;)");
            if (len >= 10) {
                memmove(hit + 10, hit + len, strlen(hit + len) + 1);
                memcpy(hit, "[redacted]", 10);
            }
            hit += len >= 10 ? 10 : len;
        }
    }
}

/* The provider's own words, from {"error":{"message":…}} (Gemini and OpenAI
 * both answer that way), shortened and with keys removed. */
static void llm__provider_message(const http_client_resp *resp, const char *key, char *out,
                                  size_t n, json_t **doc_out)
{
    out[0] = '\0';
    json_t *doc = json_loads(buf_cstr(&resp->body), 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    if (msg == NULL)
        msg = json_string_value(json_object_get(doc, "message"));
    if (msg != NULL) {
        char text[1024];
        size_t len = strlen(msg);
        len = utf8_cut(msg, len < sizeof(text) - 1 ? len : sizeof(text) - 1);
        memcpy(text, msg, len);
        text[len] = '\0';
        llm__redact(text, key);
        /* Keep it readable in a project's error: one line, 240 bytes, whole
         * characters (it is stored, and PostgreSQL refuses a cut one). */
        for (char *c = text; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
        len = strlen(text);
        snprintf(out, n, "%.*s", (int)utf8_cut(text, len < 240 ? len : 240), text);
    }
    if (doc_out != NULL)
        *doc_out = doc;
    else
        json_decref(doc);
}

/* Gemini puts the wait in error.details[] as a google.rpc.RetryInfo
 * {"retryDelay": "23s"} and may send no Retry-After header. */
static long llm__retry_info(const json_t *doc)
{
    const json_t *details = json_object_get(json_object_get(doc, "error"), "details");
    size_t i;
    const json_t *d;
    json_array_foreach(details, i, d)
    {
        const char *type = json_string_value(json_object_get(d, "@type"));
        const char *delay = json_string_value(json_object_get(d, "retryDelay"));
        if (type && delay && strstr(type, "RetryInfo") != NULL) {
            char *end = NULL;
            double s = strtod(delay, &end);
            if (end != delay && s >= 0 && s < 86400)
                return (long)(s + 0.999);
        }
    }
    return -1;
}

void llm__status_failed(const llm *m, llm_result *out, const http_client_resp *resp,
                        const char *key)
{
    long st = resp->status;
    out->http_status = st;
    char said[256];
    json_t *doc = NULL;
    llm__provider_message(resp, key, said, sizeof(said), &doc);
    const char *sep = said[0] ? ": " : "";
    const char *name = m->vt->name;
    const char *code = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    if (st == 429 && code != NULL && strcmp(code, "insufficient_quota") == 0) {
        llm__fail(out, LLM_PERMANENT, "quota_exhausted",
                  "the %s account has no quota left (HTTP 429)%s%s", name, sep, said);
    } else if (st == 429) {
        out->retry_after_s = resp->retry_after_s >= 0 ? resp->retry_after_s : llm__retry_info(doc);
        /* Whether another attempt follows is the caller's to say: this may
         * have been the last one. */
        llm__fail(out, LLM_RATE_LIMITED, "rate_limited",
                  "the %s provider is rate limiting requests (HTTP 429)%s%s", name, sep, said);
    } else if (st == 408 || st >= 500) {
        char c[32];
        snprintf(c, sizeof(c), "http_%ld", st);
        llm__fail(out, LLM_TRANSIENT, c, "the %s provider failed (HTTP %ld)%s%s", name, st, sep,
                  said);
    } else if (st == 401 || st == 403) {
        char c[32];
        snprintf(c, sizeof(c), "http_%ld", st);
        llm__fail(out, LLM_PERMANENT, c,
                  "the %s provider refused the server's credentials (HTTP %ld); an administrator "
                  "must check the API key setting%s%s",
                  name, st, sep, said);
    } else {
        char c[32];
        snprintf(c, sizeof(c), "http_%ld", st);
        llm__fail(out, LLM_PERMANENT, c, "the %s provider refused the request (HTTP %ld)%s%s", name,
                  st, sep, said);
    }
    json_decref(doc);
}

int llm__parse_answer(llm_result *out, const char *text)
{
    json_error_t je;
    /* Some servers wrap the JSON in a Markdown fence despite the schema. */
    const char *start = text + strspn(text, " \t\r\n");
    const char *end = start + strlen(start);
    while (end > start && strchr(" \t\r\n", end[-1]) != NULL)
        end--;
    const char *nl = strchr(start, '\n');
    if (strncmp(start, "```", 3) == 0 && nl != NULL && end - 3 > nl &&
        strncmp(end - 3, "```", 3) == 0) {
        start = nl + 1;
        end -= 3;
    }
    size_t len = (size_t)(end - start);
    out->json = json_loadb(start, len, JSON_REJECT_DUPLICATES, &je);
    if (out->json == NULL) {
        llm__fail(out, LLM_PERMANENT, "malformed_json",
                  "the model's answer is not valid JSON (%s at line %d, column %d)", je.text,
                  je.line, je.column);
        return -1;
    }
    return 0;
}
