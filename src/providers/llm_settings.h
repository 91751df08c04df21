/*
 * llm_settings: which script writer to use and how to reach it. The app
 * fills it from its configuration; llm_new() takes it, and the strings must
 * outlive the llm made from it.
 */
#ifndef PS_PROVIDERS_LLM_SETTINGS_H
#define PS_PROVIDERS_LLM_SETTINGS_H

#include <stdbool.h>

/* Where scripts are written. provider is resolved ("auto" never reaches here). */
typedef struct llm_settings {
    const char *provider; /* "offline" | "gemini" | "openai" */
    const char *model;    /* never NULL once resolved */
    int timeout_ms;
    const char *gemini_base_url;
    const char *gemini_api_key; /* secret: never logged or returned */
    const char *openai_base_url;
    const char *openai_api_key; /* secret */
    bool openai_send_top_k;
} llm_settings;

#endif
