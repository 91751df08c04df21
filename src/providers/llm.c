/*
 * The provider factory and the schema check every answer goes through.
 */
#include "providers/llm.h"

#include "base/alloc.h"
#include "base/text.h"
#include "providers/llm_driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

llm *llm_new(const llm_settings *s, error *err)
{
    const char *name = s->provider ? s->provider : LLM_OFFLINE_PROVIDER;
    const llm__vtable *vt = NULL;
    if (strcmp(name, "gemini") == 0) {
        if (s->gemini_api_key == NULL || s->gemini_api_key[0] == '\0') {
            error_set(err, ERR_CONFIG, "PSTUDIO_GEMINI_API_KEY",
                      "the gemini provider needs an API key: set PSTUDIO_GEMINI_API_KEY (or "
                      "PSTUDIO_GEMINI_API_KEY_FILE), or choose PSTUDIO_LLM_PROVIDER=offline");
            return NULL;
        }
        if (s->gemini_base_url == NULL || s->gemini_base_url[0] == '\0') {
            error_set(err, ERR_CONFIG, "PSTUDIO_GEMINI_BASE_URL",
                      "the gemini provider needs a base URL");
            return NULL;
        }
        vt = &llm__gemini;
    } else if (strcmp(name, "openai") == 0) {
        if (s->openai_base_url == NULL || s->openai_base_url[0] == '\0') {
            error_set(err, ERR_CONFIG, "PSTUDIO_OPENAI_BASE_URL",
                      "the openai provider needs a base URL");
            return NULL;
        }
        /* A local server (Ollama, llama.cpp) may take no key at all. */
        vt = &llm__openai;
    } else if (strcmp(name, LLM_OFFLINE_PROVIDER) == 0) {
        vt = &llm__offline;
    } else {
        error_set(err, ERR_CONFIG, "PSTUDIO_LLM_PROVIDER",
                  "unknown LLM provider '%s' (use offline, gemini or openai)", name);
        return NULL;
    }
    llm *m = xcalloc(1, sizeof(*m));
    m->vt = vt;
    m->s = *s;
    m->s.provider = vt->name;
    if (vt == &llm__offline || m->s.model == NULL || m->s.model[0] == '\0')
        m->s.model = vt == &llm__gemini   ? "gemini-2.5-flash"
                     : vt == &llm__openai ? "gpt-4o-mini"
                                          : LLM_OFFLINE_MODEL;
    if (m->s.timeout_ms <= 0)
        m->s.timeout_ms = 120000;
    return m;
}

void llm_free(llm *m)
{
    free(m);
}

const char *llm_provider(const llm *m)
{
    return m->vt->name;
}

const char *llm_model(const llm *m)
{
    return m->s.model;
}

void llm_generate(const llm *m, const llm_request *rq, llm_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    m->vt->generate(m, rq, out);
    if (out->outcome != LLM_OK) {
        json_decref(out->json);
        out->json = NULL;
        return;
    }
    char why[300];
    if (out->json == NULL) {
        llm__fail(out, LLM_PERMANENT, "malformed_json", "the model gave no answer");
    } else if (rq->schema != NULL && llm_schema_check(rq->schema, out->json, why, sizeof(why))) {
        json_decref(out->json);
        out->json = NULL;
        llm__fail(out, LLM_PERMANENT, "schema_violation",
                  "the model's answer does not fit the script format: %s", why);
    }
}

void llm_result_free(llm_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    r->json = NULL;
}

/* ---- schema check ---------------------------------------------------------- */

static int llm__why(char *why, size_t n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int llm__why(char *why, size_t n, const char *path, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(why, n, "%s: %s", path[0] ? path : "the answer", msg);
    return -1;
}

static bool llm__int_of(const json_t *schema, const char *key, json_int_t *out)
{
    const json_t *v = json_object_get(schema, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

static int llm__check(const json_t *schema, const json_t *v, const char *path, char *why, size_t n,
                      int depth)
{
    if (depth > 16)
        return llm__why(why, n, path, "is nested too deeply");
    const char *type = json_string_value(json_object_get(schema, "type"));
    json_int_t lim;
    if (type == NULL)
        return 0;
    if (strcmp(type, "object") == 0) {
        if (!json_is_object(v))
            return llm__why(why, n, path, "must be an object");
        const json_t *props = json_object_get(schema, "properties");
        const json_t *req = json_object_get(schema, "required");
        size_t i;
        const json_t *name;
        json_array_foreach(req, i, name)
        {
            if (json_object_get(v, json_string_value(name)) == NULL) {
                char sub[256];
                snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
                         json_string_value(name));
                return llm__why(why, n, sub, "is missing");
            }
        }
        bool closed = json_is_false(json_object_get(schema, "additionalProperties"));
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)v, key, member)
        {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s%s%.64s", path, path[0] ? "." : "", key);
            const json_t *ps = json_object_get(props, key);
            if (ps == NULL) {
                if (closed)
                    return llm__why(why, n, sub, "is not part of the format");
                continue;
            }
            if (llm__check(ps, member, sub, why, n, depth + 1) != 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "array") == 0) {
        if (!json_is_array(v))
            return llm__why(why, n, path, "must be a list");
        size_t count = json_array_size(v);
        if (llm__int_of(schema, "minItems", &lim) && (json_int_t)count < lim)
            return llm__why(why, n, path, "must have at least %lld item%s (has %zu)",
                            (long long)lim, lim == 1 ? "" : "s", count);
        if (llm__int_of(schema, "maxItems", &lim) && (json_int_t)count > lim)
            return llm__why(why, n, path, "must have at most %lld item%s (has %zu)", (long long)lim,
                            lim == 1 ? "" : "s", count);
        const json_t *items = json_object_get(schema, "items");
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item)
        {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (items != NULL && llm__check(items, item, sub, why, n, depth + 1) != 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "string") == 0) {
        if (!json_is_string(v))
            return llm__why(why, n, path, "must be text");
        size_t chars = utf8_chars(json_string_value(v));
        if (llm__int_of(schema, "minLength", &lim) && (json_int_t)chars < lim)
            return llm__why(why, n, path, "must have at least %lld character%s", (long long)lim,
                            lim == 1 ? "" : "s");
        if (llm__int_of(schema, "maxLength", &lim) && (json_int_t)chars > lim)
            return llm__why(why, n, path, "must have at most %lld characters (has %zu)",
                            (long long)lim, chars);
        return 0;
    }
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) ? 0 : llm__why(why, n, path, "must be a whole number");
    if (strcmp(type, "number") == 0)
        return json_is_number(v) ? 0 : llm__why(why, n, path, "must be a number");
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v) ? 0 : llm__why(why, n, path, "must be true or false");
    return 0;
}

int llm_schema_check(const json_t *schema, const json_t *v, char *why, size_t why_n)
{
    if (why_n > 0)
        why[0] = '\0';
    return llm__check(schema, v, "", why, why_n, 0);
}
