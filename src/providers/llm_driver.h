/*
 * llm_driver: the provider side of llm, which only llm*.c include. Each
 * provider (llm_gemini.c, llm_openai.c, llm_offline.c) fills an
 * llm__vtable that llm.c picks by name; the failure classification the
 * network providers share lives in llm_driver.c, so the providers depend on
 * it and on nothing of llm.c (no circle between llm.c and its providers).
 */
#ifndef PS_PROVIDERS_LLM_DRIVER_H
#define PS_PROVIDERS_LLM_DRIVER_H

#include "base/error.h"
#include "providers/llm.h"

typedef struct llm__vtable {
    const char *name;
    void (*generate)(const llm *m, const llm_request *rq, llm_result *out);
} llm__vtable;

struct llm {
    const llm__vtable *vt;
    llm_settings s; /* a copy; its strings belong to the caller of llm_new */
};

extern const llm__vtable llm__gemini;
extern const llm__vtable llm__openai;
extern const llm__vtable llm__offline;

/** Sets out's outcome, error_code and message; returns nothing, for tail calls. */
void llm__fail(llm_result *out, llm_outcome o, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** Classifies an http_client transport failure (timeout, refused, too large…). */
void llm__transport_failed(llm_result *out, const error *e);
struct http_client_resp;
/**
 * Classifies a non-2xx answer: 429 rate limited (with Retry-After), 408 and
 * 5xx transient, other 4xx permanent. The provider's own error message is
 * quoted with the key (and anything shaped like a key) removed.
 */
void llm__status_failed(const llm *m, llm_result *out, const struct http_client_resp *resp,
                        const char *key);
/**
 * Reads a 2xx answer's body (NUL-terminated): Gemini's generateContent or an
 * OpenAI-compatible chat completion. Fills out like generate does after the
 * transport; a seam of its own so fuzz/ can drive the parsing alone.
 */
void llm__gemini_answer(llm_result *out, const char *body);
void llm__openai_answer(llm_result *out, const char *body);
/** Parses the model's text as JSON into out->json, or fails with malformed_json. */
int llm__parse_answer(llm_result *out, const char *text);

#endif
