/*
 * The HTTP narrators, behind the same interface as espeak-ng.
 *
 * openai: POST {base}/v1/audio/speech with model, input, voice, speed and
 * response_format "wav"; the answer is the audio itself. Some compatible
 * servers ignore response_format and answer MP3, Opus, AAC or FLAC: such an
 * answer (by its magic bytes, else its Content-Type) is decoded to 16-bit
 * mono PCM at 24 kHz by the ffmpeg program (decision 107). It says nothing of
 * timing, so word start times are spread over the measured duration in
 * proportion to their place in the text (approximate; decision 97).
 *
 * google: POST {base}/v1beta1/text:synthesize (time pointing exists only in
 * v1beta1, not v1) with input.ssml holding a <mark name="wN"/> before every
 * word, voice.languageCode/name, audioConfig.audioEncoding LINEAR16 and
 * enableTimePointing ["SSML_MARK"]; the answer is JSON with a base64
 * audioContent (a WAV: LINEAR16 comes with its header) and
 * timepoints[{markName, timeSeconds}], from which the words are timed.
 *
 * Both: 429 and 5xx are transient (with Retry-After), 401 and 403 say the
 * key was refused, other 4xx are permanent; answers are size-capped and
 * checked before anything is returned. Keys go in headers only and never
 * into a message.
 */
#include "providers/tts.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "providers/ffmpeg.h"
#include "providers/http_client.h"

#include <jansson.h>
#include <sodium.h>

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4))) static void tts__fail(tts_result *out, tts_outcome o,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out->outcome = o;
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

/* ---- WAV ------------------------------------------------------------------------------------- */

static uint32_t tts__u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t tts__u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int tts_wav_read(const uint8_t *data, size_t len, tts_result *out)
{
    if (len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0) {
        tts__fail(out, TTS_PERMANENT, "the %s narrator's audio is not a WAV file", out->voice);
        return -1;
    }
    size_t pos = 12;
    int rate = 0, format = 0, channels = 0, bits = 0;
    while (pos + 8 <= len) {
        const uint8_t *ck = data + pos;
        size_t size = tts__u32(ck + 4), body = pos + 8;
        if (memcmp(ck, "fmt ", 4) == 0 && size >= 16 && body + 16 <= len) {
            format = tts__u16(data + body);
            channels = tts__u16(data + body + 2);
            rate = (int)tts__u32(data + body + 4);
            bits = tts__u16(data + body + 14);
        } else if (memcmp(ck, "data", 4) == 0) {
            if (format != 1 || channels != 1 || bits != 16 || rate < 8000 || rate > 192000) {
                tts__fail(out, TTS_PERMANENT,
                          "the %s narrator's WAV is not 16-bit mono PCM at a usable rate",
                          out->voice);
                return -1;
            }
            /* Streamed WAVs carry a placeholder size: the data runs to the end. */
            if (size > len - body)
                size = len - body;
            size_t n = size / 2;
            if (n == 0 || n > (size_t)rate * TTS_MAX_SECONDS) {
                tts__fail(out, TTS_PERMANENT,
                          n ? "the %s narrator's audio is longer than the longest narration"
                            : "the %s narrator's WAV holds no audio",
                          out->voice);
                return -1;
            }
            out->samples = xmalloc(n * sizeof(*out->samples));
            memcpy(out->samples, data + body, n * sizeof(*out->samples));
            out->nsamples = n;
            out->sample_rate = rate;
            return 0;
        }
        if (size > len - body)
            break;
        pos = body + size + (size & 1);
    }
    tts__fail(out, TTS_PERMANENT, "the %s narrator's WAV has no audio data chunk", out->voice);
    return -1;
}

/* ---- words ----------------------------------------------------------------------------------- */

/* The words of the text: runs of non-space; a word after one ending in
 * . ! ? or an ellipsis starts a sentence. */
void tts__split(const char *text, tts_result *out)
{
    size_t len = strlen(text), cap = 0;
    bool sentence = true;
    for (size_t i = 0; i < len;) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && !isspace((unsigned char)text[i]))
            i++;
        if (out->nwords == cap) {
            cap = cap ? cap * 2 : 64;
            out->words = xrealloc(out->words, cap * sizeof(*out->words));
        }
        out->words[out->nwords++] =
            (tts_word){.offset = start, .len = i - start, .sentence = sentence};
        char last = text[i - 1];
        if (last == '"' || last == ')' || last == '\'')
            last = i - start > 1 ? text[i - 2] : last;
        sentence = last == '.' || last == '!' || last == '?' ||
                   (i - start >= 3 && memcmp(text + i - 3, "\xe2\x80\xa6", 3) == 0);
    }
}

/* Word start times in proportion to their byte offset over the duration. */
static void tts__spread(const char *text, tts_result *out)
{
    size_t len = strlen(text);
    int64_t dur = tts_result_duration_ms(out);
    for (size_t i = 0; i < out->nwords; i++)
        out->words[i].start_ms = len ? (int64_t)((double)dur * out->words[i].offset / len) : 0;
    out->approximate = true;
}

/* ---- compressed answers ------------------------------------------------------------------------
 */

/* The sample rate a compressed answer is decoded at (OpenAI's own). */
#define TTS__DECODE_RATE 24000

/* MP3 (an ID3 tag or a frame sync), Ogg (Opus or Vorbis), FLAC or AAC
 * (ADTS), by magic bytes, or by Content-Type when they say nothing. */
static bool tts__compressed(const uint8_t *d, size_t n, const char *ctype)
{
    if (n >= 4 && memcmp(d, "RIFF", 4) == 0)
        return false;
    if (n >= 4 && (memcmp(d, "ID3", 3) == 0 || memcmp(d, "OggS", 4) == 0 ||
                   memcmp(d, "fLaC", 4) == 0 || (d[0] == 0xFF && (d[1] & 0xE0) == 0xE0)))
        return true;
    static const char *const types[] = {"audio/mpeg", "audio/mp3",  "audio/ogg", "audio/opus",
                                        "audio/aac",  "audio/flac", NULL};
    for (size_t i = 0; ctype != NULL && types[i] != NULL; i++)
        if (strncasecmp(ctype, types[i], strlen(types[i])) == 0)
            return true;
    return false;
}

static int tts__write_file(const char *path, const uint8_t *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, d + done, n - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    return done == n ? 0 : -1;
}

/* Reads at most max bytes of path; NULL when it cannot or it is longer. */
static uint8_t *tts__read_file(const char *path, size_t max, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > max) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t *d = xmalloc((size_t)st.st_size);
    ssize_t got = read(fd, d, (size_t)st.st_size);
    close(fd);
    if (got != st.st_size) {
        free(d);
        return NULL;
    }
    *n = (size_t)got;
    return d;
}

/* Decodes a compressed answer to a 16-bit mono PCM WAV with the ffmpeg
 * program, through two files in a private temporary directory (decision
 * 107). 0 with *wav (owned) and *n; -1 with out failed: permanent when
 * ffmpeg cannot decode it or cannot be run at all, transient when it could
 * not run to the end. */
static int tts__to_wav(const tts_settings *s, const uint8_t *d, size_t n, uint8_t **wav,
                       size_t *wlen, tts_result *out)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], in[600], res[600];
    snprintf(dir, sizeof(dir), "%s/pstudio-tts-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        tts__fail(out, TTS_TRANSIENT,
                  "the %s narrator's audio could not be decoded: no "
                  "temporary directory",
                  out->voice);
        return -1;
    }
    snprintf(in, sizeof(in), "%s/answer", dir);
    snprintf(res, sizeof(res), "%s/audio.wav", dir);
    char rate[16], secs[16];
    snprintf(rate, sizeof(rate), "%d", TTS__DECODE_RATE);
    snprintf(secs, sizeof(secs), "%d", TTS_MAX_SECONDS + 1);
    const char *args[] = {"-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i",  in,
                          "-vn",      "-t",           secs,        "-ac",   "1",  "-ar", rate,
                          "-c:a",     "pcm_s16le",    "-f",        "wav",   res,  NULL};
    error e;
    int rc = -1;
    if (tts__write_file(in, d, n) != 0) {
        tts__fail(out, TTS_TRANSIENT,
                  "the %s narrator's audio could not be decoded: writing "
                  "it failed",
                  out->voice);
    } else if (ffmpeg_run(s->ffmpeg ? s->ffmpeg : "ffmpeg", args,
                          s->ffmpeg_timeout_ms > 0 ? s->ffmpeg_timeout_ms : 60000, &e) != 0) {
        /* ffmpeg ran and refused the bytes: they are no audio it knows. A
         * program that cannot be run is the configuration's fault: no retry
         * helps either (decision 133). */
        bool refused = e.kind == ERR_CONFIG || (e.kind == ERR_UNAVAILABLE &&
                                                strstr(e.message, "exited with status") != NULL);
        tts__fail(out, refused ? TTS_PERMANENT : TTS_TRANSIENT,
                  "the %s narrator's audio is not a WAV and could not be decoded: %.300s",
                  out->voice, e.message);
    } else if ((*wav =
                    tts__read_file(res, (size_t)TTS__DECODE_RATE * 2 * (TTS_MAX_SECONDS + 1) + 4096,
                                   wlen)) == NULL) {
        tts__fail(out, TTS_PERMANENT, "the %s narrator's decoded audio is missing or too long",
                  out->voice);
    } else {
        rc = 0;
    }
    unlink(in);
    unlink(res);
    rmdir(dir);
    return rc;
}

/* ---- the call -------------------------------------------------------------------------------- */

static void tts__status(const char *who, const http_client_resp *r, tts_result *out)
{
    char msg[160];
    if (r->status == 401 || r->status == 403) {
        snprintf(msg, sizeof(msg), "HTTP %ld", r->status);
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message),
                 "the %s narrator refused the API key (%s): set a valid key and regenerate the "
                 "audio",
                 who, msg);
    } else if (r->status == 429 || r->status >= 500) {
        out->outcome = TTS_TRANSIENT;
        out->retry_after_s = r->status == 429 ? r->retry_after_s : -1;
        snprintf(out->message, sizeof(out->message), "the %s narrator answered HTTP %ld%s", who,
                 r->status, r->status == 429 ? " (rate limited)" : "");
    } else {
        out->outcome = TTS_PERMANENT;
        snprintf(out->message, sizeof(out->message),
                 "the %s narrator rejected the request with HTTP %ld; check the voice and model "
                 "settings",
                 who, r->status);
    }
}

/* A failed result holds no audio and no words: nothing half-made leaves. */
static void tts__settle(tts_result *out)
{
    if (out->outcome != TTS_OK)
        tts_result_free(out);
}

/* POSTs body as JSON to base+path; 0 with a 2xx answer in *resp, else out filled. */
static int tts__post(const tts_settings *s, const char *who, const char *path,
                     const char *auth_header, const char *body, http_client_resp *resp,
                     tts_result *out)
{
    const char *base = strcmp(who, "google") == 0 ? s->google_base_url : s->openai_base_url;
    if (base == NULL) {
        tts__fail(out, TTS_PERMANENT, "the %s narrator has no base URL configured", who);
        return -1;
    }
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    char url[2048];
    snprintf(url, sizeof(url), "%.*s%s", (int)blen, base, path);
    error e;
    if (http_client_post_json(url, auth_header, body, s->timeout_ms, TTS_MAX_RESPONSE, resp, &e) !=
        0) {
        out->outcome = e.kind == ERR_TOO_LARGE ? TTS_PERMANENT : TTS_TRANSIENT;
        snprintf(out->message, sizeof(out->message), "the %s narrator could not be reached: %.400s",
                 who, e.message);
        http_client_resp_free(resp);
        return -1;
    }
    if (resp->status < 200 || resp->status > 299) {
        tts__status(who, resp, out);
        http_client_resp_free(resp);
        return -1;
    }
    return 0;
}

static bool tts__has_key(const char *key)
{
    return key != NULL && key[0] != '\0';
}

void tts_openai_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    snprintf(out->voice, sizeof(out->voice), "openai");
    if (rq->text == NULL || rq->text[0] == '\0') {
        tts__fail(out, TTS_PERMANENT, "the scene has no narration to speak%s", "");
        return;
    }
    const char *voice =
        rq->voice && rq->voice[0] && strlen(rq->voice) < 48 && !strchr(rq->voice, '-') ? rq->voice
        : s->openai_voice ? s->openai_voice
                          : "alloy";
    /* espeak's words per minute, 175 its normal, as OpenAI's 0.25-4 speed. */
    double speed = rq->rate > 0 ? rq->rate / 175.0 : 1.0;
    speed = speed < 0.25 ? 0.25 : speed > 4.0 ? 4.0 : speed;
    json_t *b =
        json_pack("{s:s,s:s,s:s,s:s,s:f}", "model", s->openai_model ? s->openai_model : "tts-1",
                  "input", rq->text, "voice", voice, "response_format", "wav", "speed", speed);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char auth[1024] = "";
    if (tts__has_key(s->openai_api_key))
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->openai_api_key);
    http_client_resp resp;
    int rc = tts__post(s, "openai", "/v1/audio/speech", auth[0] ? auth : NULL, body, &resp, out);
    sodium_memzero(auth, sizeof(auth));
    free(body);
    if (rc != 0) {
        tts__settle(out);
        return;
    }
    const uint8_t *audio = (const uint8_t *)resp.body.data;
    uint8_t *converted = NULL;
    size_t alen = resp.body.len;
    if (tts__compressed(audio, alen, resp.content_type)) {
        /* A compatible server that ignored response_format "wav". */
        if (tts__to_wav(s, audio, alen, &converted, &alen, out) == 0)
            audio = converted;
        else
            alen = 0;
    }
    if (alen > 0 && tts_wav_read(audio, alen, out) == 0) {
        tts__split(rq->text, out);
        tts__spread(rq->text, out);
        snprintf(out->voice, sizeof(out->voice), "%s", voice);
    }
    free(converted);
    http_client_resp_free(&resp);
    tts__settle(out);
}

/* ---- google -----------------------------------------------------------------------------------
 */

/* Google's voice names are language-region-kind-letter ("pt-BR-Wavenet-A");
 * espeak's ("pt-br") and OpenAI's ("alloy") are not. */
static bool tts__google_voice(const char *v)
{
    if (v == NULL || strlen(v) > 60)
        return false;
    int dashes = 0;
    for (const char *c = v; *c; c++) {
        if (*c == '-')
            dashes++;
        else if (!isalnum((unsigned char)*c) && *c != '_')
            return false;
    }
    return dashes >= 2;
}

/* The SSML: the text escaped, a mark named w<i> before word i. */
static char *tts__ssml(const char *text, const tts_result *w)
{
    buf b;
    buf_init(&b, 4u << 20);
    buf_append(&b, "<speak>", 7);
    size_t at = 0;
    for (size_t i = 0; i <= w->nwords; i++) {
        size_t end = i < w->nwords ? w->words[i].offset : strlen(text);
        for (; at < end; at++) {
            const char *esc = text[at] == '&'    ? "&amp;"
                              : text[at] == '<'  ? "&lt;"
                              : text[at] == '>'  ? "&gt;"
                              : text[at] == '"'  ? "&quot;"
                              : text[at] == '\'' ? "&apos;"
                                                 : NULL;
            if (esc)
                buf_append(&b, esc, strlen(esc));
            else
                buf_append(&b, text + at, 1);
        }
        if (i < w->nwords) {
            char mark[40];
            int n = snprintf(mark, sizeof(mark), "<mark name=\"w%zu\"/>", i);
            buf_append(&b, mark, (size_t)n);
        }
    }
    buf_append(&b, "</speak>", 8);
    char *s = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* Times the words from the timepoints; a word without one keeps the time
 * of the word before it. -1 when the timepoints are malformed. */
static int tts__timepoints(const json_t *tps, tts_result *out)
{
    int64_t dur = tts_result_duration_ms(out);
    for (size_t i = 0; i < out->nwords; i++)
        out->words[i].start_ms = -1;
    size_t k;
    json_t *tp;
    json_array_foreach(tps, k, tp)
    {
        const char *name = json_string_value(json_object_get(tp, "markName"));
        json_t *t = json_object_get(tp, "timeSeconds");
        char *end = NULL;
        if (name == NULL || name[0] != 'w' || !json_is_number(t))
            return -1;
        unsigned long idx = strtoul(name + 1, &end, 10);
        double sec = json_number_value(t);
        if (end == name + 1 || *end != '\0' || idx >= out->nwords || !isfinite(sec) || sec < 0 ||
            sec * 1000 > (double)dur + 1000)
            return -1;
        out->words[idx].start_ms = (int64_t)llround(sec * 1000);
    }
    int64_t prev = 0;
    for (size_t i = 0; i < out->nwords; i++) {
        if (out->words[i].start_ms < prev)
            out->words[i].start_ms = prev;
        if (out->words[i].start_ms > dur)
            out->words[i].start_ms = dur;
        prev = out->words[i].start_ms;
    }
    return 0;
}

void tts__google_answer(const char *text, const char *label, const char *body, tts_result *out)
{
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    const char *b64 = json_string_value(json_object_get(doc, "audioContent"));
    json_t *tps = json_object_get(doc, "timepoints");
    if (!json_is_object(doc) || b64 == NULL || (tps != NULL && !json_is_array(tps))) {
        tts__fail(out, TTS_PERMANENT,
                  "the google narrator answered with something that is not its JSON format "
                  "(audioContent and timepoints)%s",
                  "");
    } else {
        size_t blen = strlen(b64), alen = 0;
        uint8_t *audio = xmalloc(blen / 4 * 3 + 3);
        if (sodium_base642bin(audio, blen / 4 * 3 + 3, b64, blen, NULL, &alen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            tts__fail(out, TTS_PERMANENT,
                      "the google narrator's audioContent is not valid base64%s", "");
        } else if (tts_wav_read(audio, alen, out) == 0 && tps != NULL &&
                   tts__timepoints(tps, out) != 0) {
            tts__fail(out, TTS_PERMANENT,
                      "the google narrator's timepoints do not match the marks sent%s", "");
        } else if (out->outcome == TTS_OK && tps == NULL) {
            tts__spread(text, out); /* no marks came back: estimate */
        }
        if (out->outcome == TTS_OK)
            snprintf(out->voice, sizeof(out->voice), "%s", label);
        free(audio);
    }
    json_decref(doc);
}

void tts_google_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    snprintf(out->voice, sizeof(out->voice), "google");
    if (rq->text == NULL || rq->text[0] == '\0') {
        tts__fail(out, TTS_PERMANENT, "the scene has no narration to speak%s", "");
        return;
    }
    tts__split(rq->text, out);
    char *ssml = tts__ssml(rq->text, out);
    const char *lang = rq->language ? rq->language : "en-US";
    /* A persona voice named for Google ("pt-BR-Neural2-A") is used as is. */
    const char *name = tts__google_voice(rq->voice) ? rq->voice : s->google_voice;
    json_t *voice = json_pack("{s:s}", "languageCode", lang);
    if (name != NULL)
        json_object_set_new(voice, "name", json_string(name));
    double rate = rq->rate > 0 ? rq->rate / 175.0 : 1.0;
    rate = rate < 0.25 ? 0.25 : rate > 4.0 ? 4.0 : rate;
    json_t *b = json_pack("{s:{s:s},s:o,s:{s:s,s:f},s:[s]}", "input", "ssml", ssml, "voice", voice,
                          "audioConfig", "audioEncoding", "LINEAR16", "speakingRate", rate,
                          "enableTimePointing", "SSML_MARK");
    free(ssml);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char auth[1024] = "";
    if (tts__has_key(s->google_api_key))
        snprintf(auth, sizeof(auth), "x-goog-api-key: %s", s->google_api_key);
    http_client_resp resp;
    int rc =
        tts__post(s, "google", "/v1beta1/text:synthesize", auth[0] ? auth : NULL, body, &resp, out);
    sodium_memzero(auth, sizeof(auth));
    free(body);
    if (rc != 0) {
        tts__settle(out);
        return;
    }
    tts__google_answer(rq->text, name ? name : lang, buf_cstr(&resp.body), out);
    http_client_resp_free(&resp);
    tts__settle(out);
}

void tts_synthesize(const tts_settings *s, const tts_request *rq, tts_result *out)
{
    const char *p = s && s->provider ? s->provider : "offline";
    if (strcmp(p, "openai") == 0)
        tts_openai_synthesize(s, rq, out);
    else if (strcmp(p, "google") == 0)
        tts_google_synthesize(s, rq, out);
    else
        tts_espeak_synthesize(rq, out);
}
