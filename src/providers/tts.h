/*
 * tts: text to speech behind one small interface, as providers/llm.h is for
 * text. A request is a narration, its language and the persona's voice
 * settings; a result is 16-bit mono PCM with the start of every word (and
 * which words start a sentence), from which the media service writes the
 * audio files and the subtitles.
 *
 * The one driver today is "espeak" (libespeak-ng through its C API,
 * offline). espeak-ng keeps its state in globals and is not thread-safe, so
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
    char voice[64]; /* the voice that spoke */
} tts_result;

/** Synthesises rq with the offline espeak-ng driver; out is always filled. */
void tts_espeak_synthesize(const tts_request *rq, tts_result *out);
/** The audio's length in milliseconds. */
int64_t tts_result_duration_ms(const tts_result *r);
void tts_result_free(tts_result *r);

#endif
