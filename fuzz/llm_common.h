/*
 * The LLM answer drivers (llm_gemini.c, llm_openai.c) share one shape: the
 * first byte picks the path. Even: the rest is a 2xx body, read as the
 * provider's answer. Odd: the rest is an error body with a status from the
 * table, classified by llm__status_failed, which quotes the provider's
 * message with the key (and anything shaped like a key) removed; the key
 * must never come back in the message.
 */
#ifndef PS_FUZZ_LLM_COMMON_H
#define PS_FUZZ_LLM_COMMON_H

#include "base/buf.h"
#include "fuzz.h"
#include "providers/http_client.h"
#include "providers/llm_driver.h"

#define FUZZ_LLM_KEY "AIzaSyFUZZ-the-key-never-quoted-0123456"

static inline void fuzz_llm_run(const llm__vtable *vt,
                                void (*answer)(llm_result *out, const char *body),
                                const uint8_t *data, size_t size)
{
    static const long statuses[] = {400, 401, 403, 404, 408, 429, 500, 502, 503, 504};
    unsigned pick = fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    llm_result out;
    memset(&out, 0, sizeof(out));
    out.retry_after_s = -1;
    if ((pick & 1) == 0) {
        answer(&out, fuzz_cstr(&a, data, size));
        FUZZ_CHECK(out.outcome != LLM_OK || out.json != NULL);
    } else {
        llm m = {.vt = vt};
        m.s.gemini_api_key = FUZZ_LLM_KEY;
        m.s.openai_api_key = FUZZ_LLM_KEY;
        http_client_resp resp;
        memset(&resp, 0, sizeof(resp));
        resp.status = statuses[(pick >> 1) % (sizeof(statuses) / sizeof(statuses[0]))];
        resp.retry_after_s = (pick & 0x80) ? 7 : -1;
        resp.content_length = -1;
        buf_init(&resp.body, size + 1);
        buf_append(&resp.body, data, size);
        llm__status_failed(&m, &out, &resp, FUZZ_LLM_KEY);
        FUZZ_CHECK(out.outcome != LLM_OK);
        FUZZ_CHECK(strstr(out.message, FUZZ_LLM_KEY) == NULL);
        buf_free(&resp.body);
    }
    llm_result_free(&out);
    arena_free(&a);
}

#endif
