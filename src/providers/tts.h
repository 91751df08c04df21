/*
 * tts: text to speech behind one small interface, as providers/llm.h is for
 * text. A request is a narration, its language and the persona's voice
 * settings; a result is 16-bit mono PCM with the start of every word (and
 * which words start a sentence), from which the media service writes the
 * audio files and the subtitles.
 *
 * Three drivers: "offline" (libespeak-ng through its C API), "openai"
 * (an OpenAI-compatible POST /v1/audio/speech) and "google" (Cloud
 * Text-to-Speech v1beta1 text:synthesize with SSML marks); tts_synthesize()
 * picks one from tts_settings (docs/decisions.md, decision 97). The offline
 * one is libespeak-ng. espeak-ng keeps its state in globals and is not thread-safe, so
 * the driver initialises it once per process and runs one synthesis at a
 * time behind a process-wide mutex (docs/decisions.md, decision 90);
 * callers on other threads wait their turn, which costs little as a scene
 * synthesises in milliseconds.
 */
#ifndef PS_PROVIDERS_TTS_H
#define PS_PROVIDERS_TTS_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest narration synthesised, in samples' time: past it the
 * synthesis stops and fails (a runaway input, not a real scene). */
#define TTS_MAX_SECONDS 900
#define TTS_RATE_MIN    80 /* words per minute, espeak's own bounds */
#define TTS_RATE_MAX    450
#define TTS_PITCH_MAX   100

typedef struct tts_request {
    const char *text;     /* UTF-8 */
    const char *language; /* BCP-47, e.g. "pt-BR", "en-US" */
    const char *voice;    /* a voice of the provider; NULL: the language's own */
    int rate;             /* words per minute; 0: the provider's default */
    int pitch;            /* 0-100; -1: the provider's default */
} tts_request;

/* One spoken word: where it starts in the audio and in the text. */
typedef struct tts_word {
    int64_t start_ms;
    size_t offset; /* bytes into the request's text */
    size_t len;    /* bytes */
    bool sentence; /* the first word of a sentence */
} tts_word;

typedef enum tts_outcome {
    TTS_OK = 0,
    TTS_PERMANENT, /* this request can never succeed (no such voice, text too long) */
    TTS_TRANSIENT, /* try again later */
} tts_outcome;

typedef struct tts_result {
    tts_outcome outcome;
    char message[512]; /* why, when not TTS_OK */
    int sample_rate;   /* Hz */
    int16_t *samples;  /* mono; owned, tts_result_free */
    size_t nsamples;
    tts_word *words; /* owned; in order of start_ms */
    size_t nwords;
    char voice[64];     /* the voice that spoke */
    long retry_after_s; /* TTS_TRANSIENT: the provider's Retry-After; -1 when none */
    bool approximate;   /* word times are estimated from text length, not measured */
} tts_result;

/* Which narrator and how to reach it; the app fills it from its
 * configuration and the strings outlive every call. */
typedef struct tts_settings {
    const char *provider; /* "offline" | "openai" | "google"; NULL: offline */
    int timeout_ms;       /* one HTTP call at most */
    const char *openai_base_url;
    const char *openai_api_key; /* secret: never logged or returned */
    const char *openai_model;
    const char *openai_voice; /* used when the persona's voice is not one of its own */
    const char *google_base_url;
    const char *google_api_key; /* secret */
    const char *google_voice;   /* a voice name such as en-US-Neural2-C; NULL: by language */
    /* Decodes an openai answer that is not a WAV (MP3, Opus, …): the program
     * (NULL: "ffmpeg") and the longest one run may take (0: 60 s). */
    const char *ffmpeg;
    int ffmpeg_timeout_ms;
} tts_settings;

/* The largest audio answer accepted from an HTTP narrator. */
#define TTS_MAX_RESPONSE (64u * 1024 * 1024)

/** Synthesises rq with the narrator s names (NULL: offline); out is always filled. */
void tts_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out);
/** The HTTP narrators; out is always filled. */
void tts_openai_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out);
void tts_google_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out);
/** Reads a 16-bit mono PCM WAV into out's samples and rate; -1 with out's
 * outcome and message set when it is not one. */
int tts_wav_read(const uint8_t *data, size_t len, tts_result *out);

/** Synthesises rq with the offline espeak-ng driver; out is always filled. */
void tts_espeak_synthesize(const tts_request *rq, tts_result *out);
/** The audio's length in milliseconds. */
int64_t tts_result_duration_ms(const tts_result *r);
void tts_result_free(tts_result *r);

/* Private to tts_http.c, and seams for fuzz/. */
/** Appends text's words (runs of non-space, sentence starts marked) to out->words. */
void tts__split(const char *text, tts_result *out);
/**
 * Reads Google's text:synthesize answer (NUL-terminated body) to a request
 * made for text, whose words out already holds: the base64 WAV in
 * audioContent, the words timed from timepoints[{markName "wN",
 * timeSeconds}] (spread when none came). On success out->voice is label.
 */
void tts__google_answer(const char *text, const char *label, const char *body, tts_result *out);

#endif
