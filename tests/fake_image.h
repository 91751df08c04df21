/*
 * fake_image: the two HTTP image models on loopback (tests/fake_server.h):
 * Gemini's POST /v1beta/models/{model}:generateContent answering
 * candidates[0].content.parts [{text}, {inlineData {mimeType, data}}], and
 * an OpenAI-compatible POST /v1/images/generations answering
 * data[0].b64_json. The images are real: a PNG and a JPEG of ffmpeg's test
 * pattern at Gemini's 16:9 size (1344x768), and the same turned 9:16 when
 * the request asks for a portrait (aspectRatio 9:16, or a size taller than
 * wide). Answers come from a queue of modes, then the default mode; one
 * mode can answer every n-th call (fake_server_every), so a job asking for
 * two shapes gets its first and fails its second.
 */
#ifndef PS_TESTS_FAKE_IMAGE_H
#define PS_TESTS_FAKE_IMAGE_H

#include "fake_server.h"

#include <stddef.h>
#include <stdint.h>

typedef enum fake_image_mode {
    FAKE_IMAGE_OK,       /* a PNG */
    FAKE_IMAGE_JPEG,     /* a JPEG (gemini says image/jpeg) */
    FAKE_IMAGE_429,      /* 429 with Retry-After: s.retry_after */
    FAKE_IMAGE_500,      /* 500 with an error body */
    FAKE_IMAGE_401_ECHO, /* 401 whose message quotes the key it was sent */
    FAKE_IMAGE_STALL,    /* sleeps s.stall_ms, then answers OK */
    FAKE_IMAGE_REFUSED,  /* gemini: promptFeedback.blockReason; openai: 400 content_policy_violation
                          */
    FAKE_IMAGE_SAFETY,   /* gemini: finishReason IMAGE_SAFETY and no image; openai: as REFUSED */
    FAKE_IMAGE_TEXT_ONLY,  /* gemini: only a text part; openai: data [] */
    FAKE_IMAGE_MALFORMED,  /* 200 whose body is not JSON */
    FAKE_IMAGE_NOT_IMAGE,  /* 200, valid base64 of bytes that are no image */
    FAKE_IMAGE_WRONG_MIME, /* gemini: a JPEG said to be image/png; openai: as NOT_IMAGE */
    FAKE_IMAGE_BAD_BASE64, /* 200, the image is not base64 */
    FAKE_IMAGE_GIANT,      /* 200, a PNG whose header claims 100000x100000 */
} fake_image_mode;

#define FAKE_IMAGE_W 1344
#define FAKE_IMAGE_H 768

typedef struct fake_image {
    fake_server s; /* the server, its queue of fake_image_mode and what it received */
    uint8_t *png, *jpeg, *png_tall; /* the images it answers */
    size_t png_len, jpeg_len, png_tall_len;
} fake_image;

/** Starts the fake; makes its images with the ffmpeg program. */
void fake_image_start(fake_image *f);
void fake_image_stop(fake_image *f);

#endif
