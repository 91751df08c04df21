/*
 * fake_llm: a Gemini generateContent endpoint and an OpenAI-compatible
 * chat/completions endpoint on loopback, built on our own http server. It
 * records what it receives (path, key headers, the parsed body) so tests
 * can check the request, and answers in the documented wire format: a
 * script that fits the schema it was sent (as many scenes as the schema
 * asks for), or one of the failures below. Answers are taken from a queue
 * of modes, then from the default mode.
 *
 * The server, its queue and its record are a fake_server (tests/fake_server.h):
 * read and change them between fake_server_lock(&f->s) and fake_server_unlock().
 */
#ifndef PS_TESTS_FAKE_LLM_H
#define PS_TESTS_FAKE_LLM_H

#include "fake_server.h"

typedef enum fake_llm_mode {
    FAKE_OK,         /* a script fitting the request's schema */
    FAKE_MAX_TOKENS, /* gemini finishReason MAX_TOKENS / openai finish_reason length */
    FAKE_SAFETY,     /* gemini SAFETY / openai content_filter */
    FAKE_BLOCKED,    /* gemini: no candidates, promptFeedback.blockReason SAFETY */
    FAKE_REFUSAL,    /* openai: message.refusal */
    FAKE_429,        /* 429 with Retry-After: 7 */
    FAKE_429_BODY,   /* gemini 429 with RetryInfo retryDelay "9s" and no header */
    FAKE_500,        /* 500 with an error body */
    FAKE_401_ECHO,   /* 401 whose message quotes the key it was sent */
    FAKE_STALL,      /* sleeps stall_ms, then answers FAKE_OK */
    FAKE_MALFORMED,  /* 200, the model's text is not JSON */
    FAKE_SCHEMA,     /* 200, the model's JSON lacks "scenes" */
    FAKE_BLANK,      /* 200, fits the schema but a narration is blank */
    FAKE_GARBLED,    /* 200, the body is not the provider's JSON at all */
} fake_llm_mode;

typedef struct fake_llm {
    fake_server s; /* the server, its queue of fake_llm_mode and what it received */
} fake_llm;

/** Starts the fake on a free loopback port. */
void fake_llm_start(fake_llm *f);
void fake_llm_stop(fake_llm *f);

#endif
