/*
 * llm: the script writers, behind one small interface. A request carries
 * what a persona is (system instruction, temperature, topP, topK), a prompt
 * and the JSON schema the answer must fit; the result is that answer as
 * JSON, already checked against the schema, or a failure classified for the
 * job queue: rate limited (retry no earlier than the provider said),
 * transient (retry with backoff) or permanent (give up, with a reason a
 * person can read and a stable error_code for usage logs).
 *
 * Providers: "gemini" (generateContent), "openai" (any OpenAI-compatible
 * chat/completions server) and "offline" (built in, deterministic, no
 * network: it writes a labelled draft from templates, never passed off as
 * AI output). API keys are sent in headers only and never appear in a
 * result, a message or a log line.
 *
 * An llm is created once from llm_settings (whose strings must outlive it)
 * and is safe to use from several threads at once: it holds no mutable
 * state.
 */
#ifndef PS_PROVIDERS_LLM_H
#define PS_PROVIDERS_LLM_H

#include "base/error.h"
#include "providers/llm_settings.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_OFFLINE_PROVIDER "offline"
#define LLM_OFFLINE_MODEL    "offline-draft-writer"

typedef enum llm_outcome {
    LLM_OK = 0,
    LLM_RATE_LIMITED, /* retry after retry_after_s (or backoff when unknown) */
    LLM_TRANSIENT,    /* 5xx, timeout, connection trouble: retry with backoff */
    LLM_PERMANENT,    /* 4xx, finish reasons, answers that do not fit: do not retry */
} llm_outcome;

/*
 * The facts a request was built from, for the offline writer, which cannot
 * read a prompt. Network providers ignore it.
 */
typedef struct llm_brief {
    const char *topic;
    const char *language; /* resolved BCP-47 tag */
    const char *persona_name;
    const char *instructions; /* the user's extra instructions; NULL: none */
    const char *seed;         /* mixed into template choice (persona id, version, …) */
    int scenes;               /* whole script: how many scenes to write */
    int scene_words;          /* whole script: words of narration per scene; 0: not asked */
    int scene_index;          /* -1: whole script; else the one scene to rewrite */
    int scene_count;          /* scene mode: how many scenes the script has */
} llm_brief;

typedef struct llm_request {
    const char *system_instruction;
    const char *prompt;
    double temperature; /* 0-2 */
    double top_p;       /* 0-1 */
    int64_t top_k;      /* >= 1 */
    int max_output_tokens;
    const json_t *schema;    /* JSON Schema subset, see llm_schema_check() */
    const char *schema_name; /* [A-Za-z0-9_-]{1,64}, for OpenAI's json_schema.name */
    const llm_brief *brief;
} llm_request;

typedef struct llm_result {
    llm_outcome outcome;
    json_t *json; /* LLM_OK: the answer, fitting the schema; freed by llm_result_free */
    int64_t tokens_in;
    int64_t tokens_out;
    long retry_after_s; /* LLM_RATE_LIMITED: the provider's hint; -1 when it gave none */
    long http_status;   /* the provider's status; 0 when there was no HTTP answer */
    /* Stable, for usage logs: rate_limited, timeout, unavailable, http_<status>,
     * finish_reason:<REASON>, prompt_blocked:<REASON>, refusal, malformed_response,
     * malformed_json, schema_violation, response_too_large, config, … */
    char error_code[64];
    char message[512]; /* what went wrong, for the person who asked */
} llm_result;

typedef struct llm llm;

/**
 * The provider s names ("offline" when s->provider is NULL). ERR_CONFIG,
 * naming the setting, when a network provider has no key or base URL.
 */
llm *llm_new(const llm_settings *s, error *err);
void llm_free(llm *m);
/** "gemini", "openai" or "offline": what usage logs record. */
const char *llm_provider(const llm *m);
/** The model name requests go to ("offline-draft-writer" for offline). */
const char *llm_model(const llm *m);
/**
 * Runs one request. Always fills out (call llm_result_free after); never
 * logs the prompt, the answer or the key. An answer that is not JSON, or
 * does not fit rq->schema, is LLM_PERMANENT.
 */
void llm_generate(const llm *m, const llm_request *rq, llm_result *out);
void llm_result_free(llm_result *r);

/**
 * Checks v against schema, a JSON Schema subset: type (object, array,
 * string, integer, number, boolean), properties, required,
 * additionalProperties: false, items, minItems, maxItems, and minLength /
 * maxLength counted in characters. Returns 0, or -1 with why naming the
 * first fault by its path ("scenes[2].narration: …").
 */
int llm_schema_check(const json_t *schema, const json_t *v, char *why, size_t why_n);

#endif
