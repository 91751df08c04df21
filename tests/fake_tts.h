/*
 * fake_tts: the two HTTP narrators on loopback, built on our own http
 * server: an OpenAI-compatible POST /v1/audio/speech answering a WAV (with
 * the placeholder sizes of a streamed one, as OpenAI sends), and Google
 * Cloud Text-to-Speech POST /v1beta1/text:synthesize answering JSON with a
 * base64 LINEAR16 WAV in audioContent and a timepoint for every
 * <mark name="…"/> of the SSML. The audio is a real 24 kHz tone lasting
 * ms_per_word for each word (OpenAI) or mark (Google), so its length is
 * known; mark i is at i * ms_per_word. It records what it received and
 * answers from a queue of modes, then the default mode.
 *
 * Fields below the lock are shared with the server threads: change them
 * between fake_tts_lock() and fake_tts_unlock().
 */
#ifndef PS_TESTS_FAKE_TTS_H
#define PS_TESTS_FAKE_TTS_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

typedef enum fake_tts_mode {
    FAKE_TTS_OK,
    FAKE_TTS_429,        /* 429 with Retry-After: retry_after */
    FAKE_TTS_500,        /* 500 with an error body */
    FAKE_TTS_401_ECHO,   /* 401 whose message quotes the key it was sent */
    FAKE_TTS_STALL,      /* sleeps stall_ms, then answers OK */
    FAKE_TTS_MALFORMED,  /* 200, google: not JSON; openai: not a WAV */
    FAKE_TTS_BAD_BASE64, /* 200, google: audioContent is not base64 */
    FAKE_TTS_BAD_MARKS,  /* 200, google: a timepoint names a mark never sent */
    FAKE_TTS_STEREO,     /* 200, the WAV is 8-bit stereo */
} fake_tts_mode;

#define FAKE_TTS_QUEUE 16
#define FAKE_TTS_RATE  24000

typedef struct fake_tts {
    pthread_mutex_t lock;
    struct http_server *srv;
    int port;
    char base_url[64]; /* http://127.0.0.1:<port> */

    fake_tts_mode mode;
    fake_tts_mode queue[FAKE_TTS_QUEUE];
    int nqueue;
    int ms_per_word;
    int stall_ms;
    const char *retry_after; /* the Retry-After of FAKE_TTS_429 */
    bool stopping;

    int calls;
    char path[256];
    char goog_key[256];
    char authorization[256];
    json_t *body; /* the last request body (owned) */
} fake_tts;

void fake_tts_start(fake_tts *f);
void fake_tts_stop(fake_tts *f);
void fake_tts_lock(fake_tts *f);
void fake_tts_unlock(fake_tts *f);
/** Queues the answers of the next calls, in order (under the lock). */
void fake_tts_push(fake_tts *f, fake_tts_mode m);
/** A new reference to the last body received (NULL before the first call). */
json_t *fake_tts_last_body(fake_tts *f);
int fake_tts_calls(fake_tts *f);

#endif
