#include "fake_tts.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "http/http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first. */
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fake__le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A WAV of a 220 Hz tone lasting ms; streamed: the sizes are 0xFFFFFFFF. */
static uint8_t *fake__wav(int ms, bool streamed, bool stereo, size_t *len)
{
    size_t n = (size_t)FAKE_TTS_RATE * (size_t)ms / 1000;
    *len = 44 + n * 2;
    uint8_t *d = calloc(1, *len);
    memcpy(d, "RIFF", 4);
    fake__le32(d + 4, streamed ? 0xFFFFFFFFu : (uint32_t)(*len - 8));
    memcpy(d + 8, "WAVEfmt ", 8);
    fake__le32(d + 16, 16);
    d[20] = 1;
    d[22] = stereo ? 2 : 1;
    fake__le32(d + 24, FAKE_TTS_RATE);
    fake__le32(d + 28, FAKE_TTS_RATE * 2);
    d[32] = 2;
    d[34] = stereo ? 8 : 16;
    memcpy(d + 36, "data", 4);
    fake__le32(d + 40, streamed ? 0xFFFFFFFFu : (uint32_t)(n * 2));
    for (size_t i = 0; i < n; i++) {
        int16_t v = (int16_t)(8000.0 * sin(2.0 * M_PI * 220.0 * (double)i / FAKE_TTS_RATE));
        d[44 + 2 * i] = (uint8_t)(v & 0xFF);
        d[45 + 2 * i] = (uint8_t)((uint16_t)v >> 8);
    }
    return d;
}

/* The request's mode and body; the words' length. */
static fake_tts_mode fake__receive(http_request *r, json_t **body, int *ms_per_word)
{
    fake_server *fs = http_app(r);
    fake_tts *f = fs->owner;
    fake_tts_mode m = fake_server_receive(r, body, FAKE_TTS_STALL, FAKE_TTS_OK);
    fake_server_lock(fs);
    *ms_per_word = f->ms_per_word;
    fake_server_unlock(fs);
    return m;
}

static void fake__openai(http_request *r)
{
    json_t *body;
    int mpw;
    fake_tts_mode m = fake__receive(r, &body, &mpw);
    if (!fake_server_failure(r, (int)m, false)) {
        const char *input = json_string_value(json_object_get(body, "input"));
        int words = 0;
        for (const char *p = input ? input : ""; *p;) {
            while (*p && isspace((unsigned char)*p))
                p++;
            if (*p)
                words++;
            while (*p && !isspace((unsigned char)*p))
                p++;
        }
        if (m == FAKE_TTS_MALFORMED) {
            http_reply(r, 200, "audio/wav", "ID3\x03not a wav at all", 20);
        } else if (m == FAKE_TTS_COMPRESSED) {
            fake_tts *f = ((fake_server *)http_app(r))->owner;
            fake_server_lock(&f->s);
            http_reply(r, 200, f->compressed_type, f->compressed, f->compressed_len);
            fake_server_unlock(&f->s);
        } else {
            size_t len;
            uint8_t *wav = fake__wav(words * mpw, true, m == FAKE_TTS_STEREO, &len);
            http_reply(r, 200, "audio/wav", (const char *)wav, len);
            free(wav);
        }
    }
    json_decref(body);
}

static void fake__google(http_request *r)
{
    json_t *body;
    int mpw;
    fake_tts_mode m = fake__receive(r, &body, &mpw);
    if (!fake_server_failure(r, (int)m, true)) {
        const char *ssml =
            json_string_value(json_object_get(json_object_get(body, "input"), "ssml"));
        json_t *tps = json_array();
        int marks = 0;
        for (const char *p = ssml ? ssml : ""; (p = strstr(p, "<mark name=\"")) != NULL;) {
            p += 12;
            const char *q = strchr(p, '"');
            if (q == NULL)
                break;
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
            json_array_append_new(tps,
                                  json_pack("{s:s,s:f}", "markName",
                                            m == FAKE_TTS_BAD_MARKS && marks == 1 ? "zz9" : name,
                                            "timeSeconds", marks * mpw / 1000.0));
            marks++;
        }
        size_t len;
        uint8_t *wav = fake__wav(marks * mpw, false, m == FAKE_TTS_STEREO, &len);
        size_t blen = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(blen);
        sodium_bin2base64(b64, blen, wav, len, sodium_base64_VARIANT_ORIGINAL);
        free(wav);
        if (m == FAKE_TTS_BAD_BASE64)
            b64[5] = '!';
        if (m == FAKE_TTS_MALFORMED) {
            json_decref(tps);
            http_reply(r, 200, "application/json", "{\"audioContent\": \"UklGR", 23);
        } else {
            fake_server_reply(r, 200,
                              json_pack("{s:s,s:o,s:{s:s,s:i}}", "audioContent", b64, "timepoints",
                                        tps, "audioConfig", "audioEncoding", "LINEAR16",
                                        "sampleRateHertz", FAKE_TTS_RATE));
        }
        free(b64);
    }
    json_decref(body);
}

static const http_route fake__routes[] = {
    {"POST", "/v1/audio/speech", fake__openai, "fake.openai_speech"},
    {"POST", "/v1beta1/text:synthesize", fake__google, "fake.google_tts"},
};

void fake_tts_start(fake_tts *f)
{
    memset(f, 0, sizeof(*f));
    fake_server_start(&f->s, "fake tts", fake__routes,
                      sizeof(fake__routes) / sizeof(fake__routes[0]), f, FAKE_TTS_OK, 3000);
    fake_server_error_modes(&f->s, FAKE_TTS_429, FAKE_TTS_500, FAKE_TTS_401_ECHO);
    f->ms_per_word = 300;
}

void fake_tts_stop(fake_tts *f)
{
    fake_server_stop(&f->s);
}
