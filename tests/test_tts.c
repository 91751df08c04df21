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

#include "providers/tts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                          .openai_base_url = w->fake.base_url,
                          .openai_api_key = OPENAI_KEY,
                          .openai_model = "tts-1",
                          .openai_voice = "alloy",
                          .google_base_url = w->fake.base_url,
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
    fake_tts_lock(&w->fake);
    snprintf(p, sizeof(p), "%s", w->fake.path);
    fake_tts_unlock(&w->fake);
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
    json_t *b = fake_tts_last_body(&w->fake);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "tts-1");
    assert_string_equal(json_string_value(json_object_get(b, "input")), TEXT);
    assert_string_equal(json_string_value(json_object_get(b, "voice")), "nova");
    assert_string_equal(json_string_value(json_object_get(b, "response_format")), "wav");
    assert_true(json_real_value(json_object_get(b, "speed")) == 2.0); /* 350 wpm of espeak's 175 */
    assert_int_equal(json_object_size(b), 5);
    json_decref(b);
    fake_tts_lock(&w->fake);
    assert_string_equal(w->fake.authorization, "Bearer " OPENAI_KEY);
    assert_string_equal(w->fake.goog_key, "");
    fake_tts_unlock(&w->fake);

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
    b = fake_tts_last_body(&w->fake);
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
    fake_tts_lock(&w->fake);
    assert_string_equal(w->fake.goog_key, GOOGLE_KEY);
    assert_string_equal(w->fake.authorization, "");
    fake_tts_unlock(&w->fake);
    json_t *b = fake_tts_last_body(&w->fake);
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
    b = fake_tts_last_body(&w->fake);
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
            fake_tts_lock(&w->fake);
            fake_tts_push(&w->fake, cases[i].mode);
            fake_tts_unlock(&w->fake);
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
        cmocka_unit_test(test_the_wav_reader_takes_pcm_and_refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
