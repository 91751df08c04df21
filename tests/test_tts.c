/*
 * The HTTP narrators against a fake on loopback (tests/fake_tts.c): what
 * we send to an OpenAI-compatible /v1/audio/speech and to Google Cloud
 * Text-to-Speech v1beta1 text:synthesize (model, voice, speed, the SSML
 * with a mark before every word, the key in its header), and how every
 * answer maps onto a result: audio of the right length, word times from
 * Google's timepoints or spread over the audio for OpenAI, 429 with
 * Retry-After, 5xx, a stalled connection, 401 (with a key that never shows
 * in the message), malformed JSON, bad base64, unknown marks and audio
 * that is not 16-bit mono PCM. Also the WAV reader's bounds. The job side
 * (files, ffprobe, statuses) is in test_media.c.
 */
#include "testlib.h"

#include "fake_tts.h"

#include "providers/ffmpeg.h"
#include "providers/tts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPENAI_KEY "sk-test-TTS-0123456789abcdefghijk"
#define GOOGLE_KEY "AIzaSyTTS-TESTKEY-0123456789abcd"
#define TEXT       "The sky is blue. Light scatters in the air! Why? Because of \"Rayleigh\"."

typedef struct world {
    fake_tts fake;
    tts_settings s;
} world;

static int setup(void **state)
{
    world *w = test_calloc(1, sizeof(*w));
    fake_tts_start(&w->fake);
    w->s = (tts_settings){.provider = "openai",
                          .timeout_ms = 10000,
                          .openai_base_url = w->fake.s.base_url,
                          .openai_api_key = OPENAI_KEY,
                          .openai_model = "tts-1",
                          .openai_voice = "alloy",
                          .google_base_url = w->fake.s.base_url,
                          .google_api_key = GOOGLE_KEY};
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    fake_tts_stop(&w->fake);
    test_free(w);
    return 0;
}

static const char *path_of(world *w)
{
    static char p[256];
    fake_server_lock(&w->fake.s);
    snprintf(p, sizeof(p), "%s", w->fake.s.path);
    fake_server_unlock(&w->fake.s);
    return p;
}

/* The words the narrators find in TEXT: 11, sentences starting at 0, 4, 8 and 9. */
static void check_words(const tts_result *r)
{
    static const char *const words[] = {"The",      "sky", "is",           "blue.", "Light",
                                        "scatters", "in",  "the",          "air!",  "Why?",
                                        "Because",  "of",  "\"Rayleigh\"."};
    assert_int_equal(r->nwords, sizeof(words) / sizeof(words[0]));
    for (size_t i = 0; i < r->nwords; i++) {
        assert_int_equal(r->words[i].len, strlen(words[i]));
        assert_memory_equal(TEXT + r->words[i].offset, words[i], strlen(words[i]));
        bool sentence = i == 0 || i == 4 || i == 9 || i == 10;
        if (r->words[i].sentence != sentence)
            fail_msg("word %zu (%s): sentence %d", i, words[i], r->words[i].sentence);
        if (i > 0)
            assert_true(r->words[i].start_ms >= r->words[i - 1].start_ms);
    }
}

static void test_openai_sends_its_wire_format_and_spreads_the_words_over_the_audio(void **state)
{
    world *w = *state;
    tts_request rq = {.text = TEXT, .language = "en-US", .voice = "nova", .rate = 350};
    tts_result r;
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_OK);
    assert_string_equal(path_of(w), "/v1/audio/speech");
    json_t *b = fake_server_last_body(&w->fake.s);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "tts-1");
    assert_string_equal(json_string_value(json_object_get(b, "input")), TEXT);
    assert_string_equal(json_string_value(json_object_get(b, "voice")), "nova");
    assert_string_equal(json_string_value(json_object_get(b, "response_format")), "wav");
    assert_true(json_real_value(json_object_get(b, "speed")) == 2.0); /* 350 wpm of espeak's 175 */
    assert_int_equal(json_object_size(b), 5);
    json_decref(b);
    fake_server_lock(&w->fake.s);
    assert_string_equal(w->fake.s.authorization, "Bearer " OPENAI_KEY);
    assert_string_equal(w->fake.s.goog_key, "");
    fake_server_unlock(&w->fake.s);

    /* A streamed WAV (sizes 0xFFFFFFFF) read to its end: 13 words of 300 ms. */
    assert_int_equal(r.sample_rate, FAKE_TTS_RATE);
    assert_int_equal(tts_result_duration_ms(&r), 13 * 300);
    assert_string_equal(r.voice, "nova");
    assert_true(r.approximate);
    check_words(&r);
    size_t len = strlen(TEXT);
    for (size_t i = 0; i < r.nwords; i++)
        assert_int_equal(r.words[i].start_ms, (int64_t)(3900.0 * r.words[i].offset / len));
    tts_result_free(&r);

    /* An espeak voice name ("en-us") is not OpenAI's: the configured one speaks. */
    rq.voice = "en-us";
    rq.rate = 0;
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_OK);
    b = fake_server_last_body(&w->fake.s);
    assert_string_equal(json_string_value(json_object_get(b, "voice")), "alloy");
    assert_true(json_real_value(json_object_get(b, "speed")) == 1.0);
    json_decref(b);
    tts_result_free(&r);
}

static void test_google_sends_ssml_marks_and_times_every_word_from_them(void **state)
{
    world *w = *state;
    w->s.provider = "google";
    const char *text = "Sol & chuva <agora>. Água \"fria\"!";
    tts_request rq = {.text = text, .language = "pt-BR", .voice = "pt-BR-Wavenet-A", .rate = 0};
    tts_result r;
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_OK);
    assert_string_equal(path_of(w), "/v1beta1/text:synthesize");
    fake_server_lock(&w->fake.s);
    assert_string_equal(w->fake.s.goog_key, GOOGLE_KEY);
    assert_string_equal(w->fake.s.authorization, "");
    fake_server_unlock(&w->fake.s);
    json_t *b = fake_server_last_body(&w->fake.s);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "input"), "ssml")),
                        "<speak><mark name=\"w0\"/>Sol <mark name=\"w1\"/>&amp; <mark "
                        "name=\"w2\"/>chuva <mark name=\"w3\"/>&lt;agora&gt;. <mark "
                        "name=\"w4\"/>Água <mark name=\"w5\"/>&quot;fria&quot;!</speak>");
    json_t *v = json_object_get(b, "voice");
    assert_string_equal(json_string_value(json_object_get(v, "languageCode")), "pt-BR");
    assert_string_equal(json_string_value(json_object_get(v, "name")), "pt-BR-Wavenet-A");
    json_t *ac = json_object_get(b, "audioConfig");
    assert_string_equal(json_string_value(json_object_get(ac, "audioEncoding")), "LINEAR16");
    json_t *tp = json_object_get(b, "enableTimePointing");
    assert_int_equal(json_array_size(tp), 1);
    assert_string_equal(json_string_value(json_array_get(tp, 0)), "SSML_MARK");
    json_decref(b);

    assert_int_equal(r.nwords, 6);
    assert_false(r.approximate);
    assert_int_equal(tts_result_duration_ms(&r), 6 * 300);
    for (size_t i = 0; i < r.nwords; i++)
        assert_int_equal(r.words[i].start_ms, (int64_t)i * 300);
    assert_true(r.words[0].sentence && r.words[4].sentence && !r.words[3].sentence);
    assert_string_equal(r.voice, "pt-BR-Wavenet-A");
    tts_result_free(&r);

    /* No voice of Google's own: only the language is sent. */
    rq.voice = "pt-br";
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_OK);
    b = fake_server_last_body(&w->fake.s);
    assert_null(json_object_get(json_object_get(b, "voice"), "name"));
    json_decref(b);
    assert_string_equal(r.voice, "pt-BR");
    tts_result_free(&r);
}

/* One failure, for each narrator. */
typedef struct failure {
    fake_tts_mode mode;
    bool google_only;
    tts_outcome outcome;
    long retry_after_s;
    const char *says;
} failure;

static void test_every_failure_is_transient_or_permanent_with_a_reason_and_no_key(void **state)
{
    world *w = *state;
    static const failure cases[] = {
        {FAKE_TTS_429, false, TTS_TRANSIENT, 7, "HTTP 429 (rate limited)"},
        {FAKE_TTS_500, false, TTS_TRANSIENT, -1, "HTTP 500"},
        {FAKE_TTS_401_ECHO, false, TTS_PERMANENT, -1, "refused the API key (HTTP 401)"},
        {FAKE_TTS_STALL, false, TTS_TRANSIENT, -1, "could not be reached"},
        {FAKE_TTS_MALFORMED, false, TTS_PERMANENT, -1, "not"},
        {FAKE_TTS_STEREO, false, TTS_PERMANENT, -1, "not 16-bit mono PCM"},
        {FAKE_TTS_BAD_BASE64, true, TTS_PERMANENT, -1, "audioContent is not valid base64"},
        {FAKE_TTS_BAD_MARKS, true, TTS_PERMANENT, -1, "timepoints do not match the marks"},
    };
    w->s.timeout_ms = 1000; /* the stall outlasts it */
    const char *const providers[] = {"openai", "google"};
    for (size_t p = 0; p < 2; p++) {
        w->s.provider = providers[p];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            if (cases[i].google_only && p == 0)
                continue;
            fake_server_lock(&w->fake.s);
            fake_server_push(&w->fake.s, cases[i].mode);
            fake_server_unlock(&w->fake.s);
            tts_request rq = {.text = TEXT, .language = "en-US"};
            tts_result r;
            tts_synthesize(&w->s, &rq, &r);
            if (r.outcome != cases[i].outcome || strstr(r.message, cases[i].says) == NULL)
                fail_msg("%s, mode %d: outcome %d, \"%s\"", providers[p], (int)cases[i].mode,
                         (int)r.outcome, r.message);
            assert_int_equal(r.retry_after_s, cases[i].retry_after_s);
            assert_non_null(strstr(r.message, providers[p]));
            assert_null(strstr(r.message, OPENAI_KEY));
            assert_null(strstr(r.message, GOOGLE_KEY));
            assert_null(strstr(r.message, "TESTKEY")); /* not even a part of it */
            /* Nothing half-made comes back. */
            assert_null(r.samples);
            assert_int_equal(r.nsamples, 0);
            tts_result_free(&r);
        }
    }
    w->s.provider = "openai";
    tts_request empty = {.text = "", .language = "en-US"};
    tts_result r;
    tts_synthesize(&w->s, &empty, &r);
    assert_int_equal(r.outcome, TTS_PERMANENT);
    assert_non_null(strstr(r.message, "no narration"));
    tts_result_free(&r);
    /* A narrator with nowhere to call. */
    w->s.openai_base_url = NULL;
    tts_request rq = {.text = TEXT};
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_PERMANENT);
    assert_non_null(strstr(r.message, "no base URL"));
    tts_result_free(&r);
}

/* The WAV reader on hand-made files. */
/* A sine of ms at 44.1 kHz stereo, encoded by ffmpeg with codec into format;
 * its bytes (malloc'd). */
static char *encoded_sine(const char *codec, const char *format, int ms, size_t *len)
{
    char dir[] = "/tmp/pstudio-test-tts-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], src[96], dur[32];
    snprintf(path, sizeof(path), "%s/sine", dir);
    snprintf(src, sizeof(src), "sine=frequency=440:sample_rate=44100:duration=%d.%03d", ms / 1000,
             ms % 1000);
    snprintf(dur, sizeof(dur), "%d.%03d", ms / 1000, ms % 1000);
    const char *args[] = {
        "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, "-ac",
        "2",        "-c:a",         codec,       "-t",    dur,  "-f", format,  path, NULL};
    error e;
    if (ffmpeg_run("ffmpeg", args, 30000, &e) != 0)
        fail_msg("encoding a sine: %s", e.message);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *d = malloc(1u << 20);
    *len = fread(d, 1, 1u << 20, f);
    fclose(f);
    unlink(path);
    rmdir(dir);
    assert_true(*len > 100);
    return d;
}

/* Some OpenAI-compatible servers answer MP3 or Opus whatever response_format
 * says: the narrator decodes it to 16-bit mono PCM and times the words over it. */
static void test_openai_mp3_and_opus_answers_are_decoded_to_pcm(void **state)
{
    world *w = *state;
    static const struct {
        const char *codec, *format, *content_type;
    } forms[] = {{"libmp3lame", "mp3", "audio/mpeg"},
                 {"libopus", "ogg", "application/octet-stream"}, /* known by its magic bytes */
                 {"libmp3lame", "mp3", "audio/wav"}};            /* a type that lies */
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        size_t len;
        char *audio = encoded_sine(forms[i].codec, forms[i].format, 2000, &len);
        fake_server_lock(&w->fake.s);
        w->fake.compressed = audio;
        w->fake.compressed_len = len;
        w->fake.compressed_type = forms[i].content_type;
        fake_server_push(&w->fake.s, FAKE_TTS_COMPRESSED);
        fake_server_unlock(&w->fake.s);
        tts_request rq = {.text = TEXT, .language = "en-US"};
        tts_result r;
        tts_synthesize(&w->s, &rq, &r);
        if (r.outcome != TTS_OK)
            fail_msg("%s: %s", forms[i].codec, r.message);
        assert_int_equal(r.sample_rate, 24000);
        /* Two seconds, give or take the encoder's padding. */
        int64_t ms = tts_result_duration_ms(&r);
        if (ms < 1950 || ms > 2150)
            fail_msg("%s: %lld ms of audio", forms[i].codec, (long long)ms);
        /* It is the sine (lavfi draws it at 1/8 of full scale, 4096; the
         * downmix to mono lowers it a little): not silence, not clipped. */
        int peak = 0;
        for (size_t k = 0; k < r.nsamples; k++)
            peak = abs(r.samples[k]) > peak ? abs(r.samples[k]) : peak;
        assert_true(peak > 1500 && peak < 6000);
        check_words(&r);
        assert_true(r.approximate);
        tts_result_free(&r);
        free(audio);
    }
    /* Bytes that claim to be MP3 and are not: refused with the reason. */
    fake_server_lock(&w->fake.s);
    w->fake.compressed = "ID3\x04\x00\x00\x00\x00\x00\x00 and then nothing";
    w->fake.compressed_len = 26;
    w->fake.compressed_type = "audio/mpeg";
    fake_server_push(&w->fake.s, FAKE_TTS_COMPRESSED);
    fake_server_unlock(&w->fake.s);
    tts_request rq = {.text = TEXT, .language = "en-US"};
    tts_result r;
    tts_synthesize(&w->s, &rq, &r);
    assert_int_equal(r.outcome, TTS_PERMANENT);
    assert_non_null(strstr(r.message, "is not a WAV and could not be decoded"));
    assert_null(r.samples);
}

static void test_the_wav_reader_takes_pcm_and_refuses_the_rest(void **state)
{
    (void)state;
    uint8_t d[64] = "RIFF\0\0\0\0WAVEfmt ";
    d[16] = 16;
    d[20] = 1;                  /* PCM */
    d[22] = 1;                  /* mono */
    d[24] = 0x40, d[25] = 0x1F; /* 8000 Hz */
    d[34] = 16;
    memcpy(d + 36, "data", 4);
    d[40] = 8; /* 4 samples */
    tts_result r = {.voice = "test"};
    assert_int_equal(tts_wav_read(d, 52, &r), 0);
    assert_int_equal(r.nsamples, 4);
    assert_int_equal(r.sample_rate, 8000);
    tts_result_free(&r);
    /* A data size past the end is read to the end (a streamed WAV), whole samples only. */
    d[40] = 200;
    memset(&r, 0, sizeof(r));
    assert_int_equal(tts_wav_read(d, 51, &r), 0);
    assert_int_equal(r.nsamples, 3);
    tts_result_free(&r);
    /* Refused: too short, not RIFF, no data chunk, no samples, 8-bit, a silly rate. */
    struct {
        size_t len;
        size_t at;
        uint8_t v;
        const char *says;
    } bad[] = {{10, 0, 'R', "not a WAV"},           {52, 0, 'X', "not a WAV"},
               {36, 0, 'R', "no audio data chunk"}, {44, 0, 'R', "holds no audio"},
               {52, 34, 8, "not 16-bit mono PCM"},  {52, 25, 0, "not 16-bit mono PCM"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t c[64];
        memcpy(c, d, sizeof(c));
        c[40] = 8;
        c[bad[i].at] = bad[i].v;
        memset(&r, 0, sizeof(r));
        snprintf(r.voice, sizeof(r.voice), "test");
        assert_int_equal(tts_wav_read(c, bad[i].len, &r), -1);
        assert_int_equal(r.outcome, TTS_PERMANENT);
        if (strstr(r.message, bad[i].says) == NULL)
            fail_msg("case %zu: %s", i, r.message);
        assert_null(r.samples);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_openai_sends_its_wire_format_and_spreads_the_words_over_the_audio),
        T(test_google_sends_ssml_marks_and_times_every_word_from_them),
        T(test_every_failure_is_transient_or_permanent_with_a_reason_and_no_key),
        T(test_openai_mp3_and_opus_answers_are_decoded_to_pcm),
        cmocka_unit_test(test_the_wav_reader_takes_pcm_and_refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
