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
 * The server, its queue and its record are a fake_server (tests/fake_server.h):
 * change them between fake_server_lock(&f->s) and fake_server_unlock().
 */
#ifndef PS_TESTS_FAKE_TTS_H
#define PS_TESTS_FAKE_TTS_H

#include "fake_server.h"

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
    FAKE_TTS_COMPRESSED, /* 200, openai: the bytes of compressed as compressed_type */
} fake_tts_mode;

#define FAKE_TTS_RATE 24000

typedef struct fake_tts {
    fake_server s; /* the server, its queue of fake_tts_mode and what it received */
    int ms_per_word;
    const char *compressed; /* FAKE_TTS_COMPRESSED's answer (not owned) */
    size_t compressed_len;
    const char *compressed_type;
} fake_tts;

void fake_tts_start(fake_tts *f);
void fake_tts_stop(fake_tts *f);

#endif
