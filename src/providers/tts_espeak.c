/*
 * The offline narrator: libespeak-ng in synchronous mode. espeak-ng holds
 * its voice, parameters and callback in globals, so everything from
 * choosing the voice to the last callback of a synthesis runs under one
 * process-wide mutex; initialisation happens once (with DONT_EXIT, so a
 * fault is an error code and not exit()).
 */
#include "providers/tts.h"

#include "base/alloc.h"

#include <espeak-ng/speak_lib.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t tts__lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t tts__once = PTHREAD_ONCE_INIT;
static int tts__rate; /* the sample rate espeak_Initialize answered; <= 0: it failed */

static void tts__init(void)
{
    tts__rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, NULL, espeakINITIALIZE_DONT_EXIT);
}

/* What the callback gathers for one synthesis. */
typedef struct tts__run {
    const char *text;
    size_t text_len;
    tts_result *out;
    size_t cap_samples, cap_words;
    size_t max_samples;
    bool sentence_pending; /* a SENTENCE event came since the last word */
    bool too_long;
} tts__run;

/* The byte offset of the character at 1-based position pos (espeak counts
 * characters, the text is UTF-8). */
static size_t tts__byte_of(const char *s, size_t len, int pos)
{
    size_t i = 0;
    for (int ch = 1; ch < pos && i < len; ch++) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* Punctuation a word's extent should not hold: ASCII, and the quotes,
 * dashes and ellipsis of UTF-8 text. Its length in bytes at s, or 0. */
static size_t tts__punct_at(const char *s, size_t left)
{
    static const char *const marks[] = {
        "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98", "\xe2\x80\x99", "\xc2\xab", "\xc2\xbb",
        "\xe2\x80\x94", "\xe2\x80\x93", "\xe2\x80\xa6", "\xc2\xbf",     "\xc2\xa1"};
    if (left > 0 && ispunct((unsigned char)s[0]))
        return 1;
    for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
        size_t n = strlen(marks[k]);
        if (left >= n && memcmp(s, marks[k], n) == 0)
            return n;
    }
    return 0;
}

/* The same, for the character that ends just before s + end. */
static size_t tts__punct_before(const char *s, size_t from, size_t end)
{
    for (size_t n = 1; n <= 3 && n <= end - from; n++)
        if (tts__punct_at(s + end - n, n) == n)
            return n;
    return 0;
}

/* Narrows [*start, *end) to the word itself: espeak's extent may hold the
 * punctuation around it, or (length 0) not say where it ends, which is
 * then the next space. */
static void tts__extent(const char *s, size_t len, size_t *start, size_t *end)
{
    if (*end <= *start) {
        *end = *start;
        while (*end < len && !isspace((unsigned char)s[*end]))
            (*end)++;
    }
    for (size_t n; *start < *end && (n = tts__punct_at(s + *start, *end - *start)) > 0;)
        *start += n;
    for (size_t n; *end > *start && (n = tts__punct_before(s, *start, *end)) > 0;)
        *end -= n;
}

static void tts__word(tts__run *run, const espeak_EVENT *ev)
{
    tts_result *out = run->out;
    size_t start = tts__byte_of(run->text, run->text_len, ev->text_position);
    size_t end = start;
    if (ev->length > 0)
        end = tts__byte_of(run->text + start, run->text_len - start, ev->length + 1) + start;
    tts__extent(run->text, run->text_len, &start, &end);
    /* Punctuation alone, or a second event inside one word (espeak speaks
     * "3.5" as three): the word already recorded stands. */
    size_t prev_end =
        out->nwords ? out->words[out->nwords - 1].offset + out->words[out->nwords - 1].len : 0;
    if (end == start || (out->nwords > 0 && start < prev_end))
        return;
    if (out->nwords == run->cap_words) {
        run->cap_words = run->cap_words ? run->cap_words * 2 : 64;
        out->words = xrealloc(out->words, run->cap_words * sizeof(*out->words));
    }
    tts_word *w = &out->words[out->nwords++];
    w->start_ms = ev->audio_position;
    w->offset = start;
    w->len = end - start;
    w->sentence = run->sentence_pending || out->nwords == 1;
    run->sentence_pending = false;
}

static int tts__callback(short *wav, int n, espeak_EVENT *events)
{
    tts__run *run = NULL;
    for (espeak_EVENT *ev = events; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
        run = ev->user_data;
        if (run == NULL)
            continue;
        if (ev->type == espeakEVENT_SENTENCE)
            run->sentence_pending = true;
        else if (ev->type == espeakEVENT_WORD)
            tts__word(run, ev);
    }
    if (run == NULL && events != NULL)
        run = events->user_data;
    if (run == NULL || wav == NULL || n <= 0)
        return 0;
    tts_result *out = run->out;
    if (out->nsamples + (size_t)n > run->max_samples) {
        run->too_long = true;
        return 1; /* stop the synthesis */
    }
    if (out->nsamples + (size_t)n > run->cap_samples) {
        while (out->nsamples + (size_t)n > run->cap_samples)
            run->cap_samples = run->cap_samples ? run->cap_samples * 2 : 1u << 16;
        out->samples = xrealloc(out->samples, run->cap_samples * sizeof(*out->samples));
    }
    memcpy(out->samples + out->nsamples, wav, (size_t)n * sizeof(*wav));
    out->nsamples += (size_t)n;
    return 0;
}

/* espeak's voice names are lowercase language tags ("pt-br", "en-us"). */
static void tts__lower(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static bool tts__voice_ok(const char *v)
{
    if (v == NULL || v[0] == '\0' || strlen(v) > 60)
        return false;
    for (const char *c = v; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '+')
            return false;
    return true;
}

/* Picks the voice: the persona's when espeak knows it, else the language's
 * (a voice named for an HTTP provider, say "alloy", means nothing here),
 * else the language's base ("pt" for "pt-PT"). Under the lock. */
static int tts__set_voice(const tts_request *rq, tts_result *out)
{
    char lang[64];
    tts__lower(lang, sizeof(lang), rq->language ? rq->language : "en");
    if (tts__voice_ok(rq->voice) && espeak_SetVoiceByName(rq->voice) == EE_OK) {
        snprintf(out->voice, sizeof(out->voice), "%s", rq->voice);
        return 0;
    }
    if (tts__voice_ok(lang) && espeak_SetVoiceByName(lang) == EE_OK) {
        snprintf(out->voice, sizeof(out->voice), "%s", lang);
        return 0;
    }
    char *dash = strchr(lang, '-');
    if (dash != NULL)
        *dash = '\0';
    espeak_VOICE spec = {.languages = lang};
    if (tts__voice_ok(lang) && espeak_SetVoiceByProperties(&spec) == EE_OK) {
        snprintf(out->voice, sizeof(out->voice), "%s", lang);
        return 0;
    }
    out->outcome = TTS_PERMANENT;
    snprintf(out->message, sizeof(out->message),
             "espeak-ng has no voice for the language \"%s\"; set the persona's language to one "
             "it speaks, such as en-US or pt-BR",
             rq->language ? rq->language : "");
    return -1;
}

void tts_espeak_synthesize(const tts_request *rq, tts_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    pthread_once(&tts__once, tts__init);
    if (tts__rate <= 0) {
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message),
                 "espeak-ng could not start: is its data (package espeak-ng-data) installed?");
        return;
    }
    if (rq->text == NULL || rq->text[0] == '\0') {
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message), "the scene has no narration to speak");
        return;
    }
    out->sample_rate = tts__rate;
    tts__run run = {.text = rq->text,
                    .text_len = strlen(rq->text),
                    .out = out,
                    .max_samples = (size_t)tts__rate * TTS_MAX_SECONDS};
    pthread_mutex_lock(&tts__lock);
    if (tts__set_voice(rq, out) != 0) {
        pthread_mutex_unlock(&tts__lock);
        return;
    }
    espeak_SetParameter(espeakRATE, rq->rate > 0 ? rq->rate : espeakRATE_NORMAL, 0);
    espeak_SetParameter(espeakPITCH, rq->pitch >= 0 ? rq->pitch : 50, 0);
    espeak_SetSynthCallback(tts__callback);
    espeak_ERROR rc =
        espeak_Synth(rq->text, run.text_len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &run);
    if (rc == EE_OK)
        rc = espeak_Synchronize();
    espeak_SetSynthCallback(NULL);
    pthread_mutex_unlock(&tts__lock);

    if (run.too_long) {
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message),
                 "the narration speaks for more than %d seconds; split the scene", TTS_MAX_SECONDS);
    } else if (rc != EE_OK) {
        out->outcome = TTS_TRANSIENT;
        snprintf(out->message, sizeof(out->message), "espeak-ng failed to synthesise (code %d)",
                 (int)rc);
    } else if (out->nsamples == 0) {
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message), "espeak-ng produced no audio for the text");
    }
}

int64_t tts_result_duration_ms(const tts_result *r)
{
    if (r->sample_rate <= 0)
        return 0;
    return (int64_t)r->nsamples * 1000 / r->sample_rate;
}

void tts_result_free(tts_result *r)
{
    free(r->samples);
    free(r->words);
    r->samples = NULL;
    r->words = NULL;
    r->nsamples = r->nwords = 0;
}
