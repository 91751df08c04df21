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

void fake_tts_lock(fake_tts *f)
{
    pthread_mutex_lock(&f->lock);
}

void fake_tts_unlock(fake_tts *f)
{
    pthread_mutex_unlock(&f->lock);
}

void fake_tts_push(fake_tts *f, fake_tts_mode m)
{
    if (f->nqueue < FAKE_TTS_QUEUE)
        f->queue[f->nqueue++] = m;
}

json_t *fake_tts_last_body(fake_tts *f)
{
    fake_tts_lock(f);
    json_t *b = json_incref(f->body);
    fake_tts_unlock(f);
    return b;
}

int fake_tts_calls(fake_tts *f)
{
    fake_tts_lock(f);
    int n = f->calls;
    fake_tts_unlock(f);
    return n;
}

static fake_tts_mode fake__receive(http_request *r, fake_tts *f, json_t **body, int *ms_per_word)
{
    size_t len = 0;
    const char *text = http_body(r, &len);
    *body = json_loadb(text, len, 0, NULL);
    fake_tts_lock(f);
    fake_tts_mode m = f->mode;
    if (f->nqueue > 0) {
        m = f->queue[0];
        memmove(f->queue, f->queue + 1, sizeof(f->queue[0]) * (size_t)(f->nqueue - 1));
        f->nqueue--;
    }
    f->calls++;
    snprintf(f->path, sizeof(f->path), "%s", http_path(r));
    const char *k = http_header(r, "x-goog-api-key");
    snprintf(f->goog_key, sizeof(f->goog_key), "%s", k ? k : "");
    const char *a = http_header(r, "Authorization");
    snprintf(f->authorization, sizeof(f->authorization), "%s", a ? a : "");
    json_decref(f->body);
    f->body = json_incref(*body);
    int stall = f->stall_ms;
    *ms_per_word = f->ms_per_word;
    fake_tts_unlock(f);
    if (m == FAKE_TTS_STALL) {
        int64_t until = time_mono_usec() + (int64_t)stall * 1000;
        for (;;) {
            fake_tts_lock(f);
            bool stop = f->stopping;
            fake_tts_unlock(f);
            if (stop || time_mono_usec() >= until)
                break;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        m = FAKE_TTS_OK;
    }
    return m;
}

static void fake__reply(http_request *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

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

/* A failure common to both; false when m is not one. */
static bool fake__failure(http_request *r, fake_tts *f, fake_tts_mode m, bool google)
{
    switch (m) {
    case FAKE_TTS_429:
        fake_tts_lock(f);
        http_set_header(r, "Retry-After", f->retry_after);
        fake_tts_unlock(f);
        fake__reply(r, 429,
                    json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 429, "message",
                              "Resource has been exhausted (e.g. check quota).", "status",
                              "RESOURCE_EXHAUSTED"));
        return true;
    case FAKE_TTS_500:
        fake__reply(r, 500,
                    json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 500, "message",
                              "Internal error encountered.", "status", "INTERNAL"));
        return true;
    case FAKE_TTS_401_ECHO: {
        char msg[400];
        fake_tts_lock(f);
        const char *key = google                         ? f->goog_key
                          : strlen(f->authorization) > 7 ? f->authorization + 7
                                                         : "";
        snprintf(msg, sizeof(msg), "Incorrect API key provided: %s. Check it.", key);
        fake_tts_unlock(f);
        fake__reply(
            r, 401,
            json_pack("{s:{s:s,s:s}}", "error", "message", msg, "type", "invalid_request_error"));
        return true;
    }
    default:
        return false;
    }
}

static void fake__openai(http_request *r)
{
    fake_tts *f = http_app(r);
    json_t *body;
    int mpw;
    fake_tts_mode m = fake__receive(r, f, &body, &mpw);
    if (!fake__failure(r, f, m, false)) {
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
    fake_tts *f = http_app(r);
    json_t *body;
    int mpw;
    fake_tts_mode m = fake__receive(r, f, &body, &mpw);
    if (!fake__failure(r, f, m, true)) {
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
            fake__reply(r, 200,
                        json_pack("{s:s,s:o,s:{s:s,s:i}}", "audioContent", b64, "timepoints", tps,
                                  "audioConfig", "audioEncoding", "LINEAR16", "sampleRateHertz",
                                  FAKE_TTS_RATE));
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
    pthread_mutex_init(&f->lock, NULL);
    f->mode = FAKE_TTS_OK;
    f->ms_per_word = 300;
    f->stall_ms = 3000;
    f->retry_after = "7";
    http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = 4,
        .max_body = 4 * 1024 * 1024,
        .shutdown_timeout_ms = 3000,
        .app = f,
    };
    error e;
    f->srv =
        http_server_start(&cfg, fake__routes, sizeof(fake__routes) / sizeof(fake__routes[0]), &e);
    if (f->srv == NULL)
        fail_msg("fake tts: %s", e.message);
    f->port = http_server_port(f->srv);
    snprintf(f->base_url, sizeof(f->base_url), "http://127.0.0.1:%d", f->port);
}

void fake_tts_stop(fake_tts *f)
{
    fake_tts_lock(f);
    f->stopping = true;
    fake_tts_unlock(f);
    http_server_stop(f->srv);
    json_decref(f->body);
    pthread_mutex_destroy(&f->lock);
}
