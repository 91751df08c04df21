/*
 * image: a scene's picture from an image model over HTTP, behind one small
 * interface, as providers/tts.h is for narration (decision 105). A request
 * is a prompt and the shape wanted (landscape or portrait); a result is the
 * provider's image, decoded from base64, checked to be a PNG or JPEG whose
 * header names a sane size, and capped in bytes. Scaling it to the exact
 * size a scene needs is the caller's (the media job runs ffmpeg).
 *
 * Three providers: "offline" (no call: the media job draws its card,
 * providers/card.h), "gemini" (POST {base}/v1beta/models/{model}:
 * generateContent with responseModalities TEXT and IMAGE and
 * imageConfig.aspectRatio; the image is candidates[].content.parts[]
 * .inlineData {mimeType, data}) and "openai" (an OpenAI-compatible POST
 * {base}/v1/images/generations with model, prompt, size, n 1 and
 * response_format b64_json; the image is data[0].b64_json).
 *
 * Outcomes: a refusal (Gemini: promptFeedback.blockReason, a finishReason
 * such as SAFETY, or no image part; OpenAI: a 400 whose error code is
 * content_policy_violation, or any other 4xx) is IMAGE_PERMANENT with the
 * provider's reason; 401/403 say the key was refused (permanent); 429,
 * 5xx, timeouts and a 2xx body that is not the provider's JSON are
 * IMAGE_TRANSIENT (Retry-After kept on 429). Keys go in headers only and
 * never into a message.
 */
#ifndef PS_PROVIDERS_IMAGE_H
#define PS_PROVIDERS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest decoded image accepted, and the largest answer body (base64
 * in JSON is 4/3 of it, plus the JSON around it). */
#define IMAGE_MAX_BYTES    (24u << 20)
#define IMAGE_MAX_RESPONSE (IMAGE_MAX_BYTES / 3 * 4 + (1u << 20))
/* The largest side a provider's image may claim in its header. */
#define IMAGE_MAX_SIDE 8192
/* The longest prompt sent, in bytes (cut on a character boundary). */
#define IMAGE_PROMPT_MAX 3800

typedef enum image_outcome {
    IMAGE_OK = 0,
    IMAGE_PERMANENT, /* this request can never succeed: a refusal, a rejected key, a bad request */
    IMAGE_TRANSIENT, /* try again later */
} image_outcome;

typedef struct image_request {
    const char *prompt; /* UTF-8 */
    bool portrait;      /* 9:16 rather than 16:9 */
} image_request;

typedef struct image_result {
    image_outcome outcome;
    char message[512];  /* why, when not IMAGE_OK */
    long retry_after_s; /* IMAGE_TRANSIENT: the provider's Retry-After; -1 when none */
    uint8_t *data;      /* the image file; owned, image_result_free */
    size_t len;
    const char *mime;  /* "image/png" | "image/jpeg" */
    int width, height; /* as its header says */
} image_result;

/* Which image model and how to reach it; the app fills it from its
 * configuration and the strings outlive every call. */
typedef struct image_settings {
    const char *provider; /* "offline" | "gemini" | "openai"; NULL: offline */
    int timeout_ms;       /* one HTTP call at most */
    const char *gemini_base_url;
    const char *gemini_api_key; /* secret: never logged or returned */
    const char *gemini_model;
    const char *openai_base_url;
    const char *openai_api_key; /* secret */
    const char *openai_model;
} image_settings;

/** True when s names no HTTP provider (the card is drawn instead). */
bool image_offline(const image_settings *s);
/** Asks s's provider for rq; out is always filled. Not for offline. */
void image_generate(const image_settings *s, const image_request *rq, image_result *out);
/**
 * Reads the size of a PNG or JPEG from its header: 0 with *mime, *width and
 * *height set, -1 when data is neither or claims a size of 0 or past
 * IMAGE_MAX_SIDE.
 */
int image_probe(const uint8_t *data, size_t len, const char **mime, int *width, int *height);
void image_result_free(image_result *r);

/* Seams for fuzz/: a 2xx answer's body (NUL-terminated) into out, as
 * image_generate reads it; the image is decoded and probed. */
void image__gemini_read(const char *body, image_result *out);
void image__openai_read(const char *body, image_result *out);

#endif
