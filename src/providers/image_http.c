/*
 * The HTTP image providers (providers/image.h, decision 105): Gemini's
 * generateContent with an image model, and an OpenAI-compatible
 * images/generations.
 */
#include "providers/image.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "providers/http_client.h"

#include <jansson.h>
#include <sodium.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static void image__set(image_result *out, image_outcome o,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out->outcome = o;
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

bool image_offline(const image_settings *s)
{
    if (s == NULL || s->provider == NULL)
        return true;
    return strcmp(s->provider, "gemini") != 0 && strcmp(s->provider, "openai") != 0;
}

void image_result_free(image_result *r)
{
    free(r->data);
    r->data = NULL;
    r->len = 0;
}

/* ---- what the bytes are ------------------------------------------------------------------------
 */

static uint32_t image__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A JPEG's size from its first start-of-frame marker (SOF0-SOF15 but DHT,
 * JPG and DAC, which share the range). */
static int image__jpeg_size(const uint8_t *d, size_t len, int *w, int *h)
{
    size_t pos = 2;
    while (pos + 4 <= len) {
        if (d[pos] != 0xFF)
            return -1;
        uint8_t m = d[pos + 1];
        if (m == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { /* no length */
            pos += 2;
            continue;
        }
        size_t seg = (size_t)d[pos + 2] << 8 | d[pos + 3];
        if (seg < 2 || pos + 2 + seg > len)
            return -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (seg < 7)
                return -1;
            *h = (int)((size_t)d[pos + 5] << 8 | d[pos + 6]);
            *w = (int)((size_t)d[pos + 7] << 8 | d[pos + 8]);
            return 0;
        }
        if (m == 0xDA || m == 0xD9) /* scan data or the end before any frame */
            return -1;
        pos += 2 + seg;
    }
    return -1;
}

int image_probe(const uint8_t *data, size_t len, const char **mime, int *width, int *height)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    int w = 0, h = 0;
    if (len >= 24 && memcmp(data, png_sig, 8) == 0 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint32_t uw = image__be32(data + 16), uh = image__be32(data + 20);
        if (uw > IMAGE_MAX_SIDE || uh > IMAGE_MAX_SIDE)
            return -1;
        w = (int)uw;
        h = (int)uh;
        *mime = "image/png";
    } else if (len >= 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        if (image__jpeg_size(data, len, &w, &h) != 0)
            return -1;
        *mime = "image/jpeg";
    } else {
        return -1;
    }
    if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
        return -1;
    *width = w;
    *height = h;
    return 0;
}

/* Decodes the base64 image b64 the provider says is of type mime into out,
 * checking the bytes are that type. */
static void image__take(const char *who, const char *b64, const char *mime, image_result *out)
{
    size_t blen = strlen(b64);
    if (blen / 4 * 3 > IMAGE_MAX_BYTES + 3) {
        image__set(out, IMAGE_PERMANENT, "the %s image is larger than %u MiB", who,
                   IMAGE_MAX_BYTES >> 20);
        return;
    }
    size_t cap = blen / 4 * 3 + 3, n = 0;
    uint8_t *d = xmalloc(cap);
    if (sodium_base642bin(d, cap, b64, blen, "\r\n", &n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        n == 0) {
        free(d);
        image__set(out, IMAGE_PERMANENT, "the %s image is not valid base64", who);
        return;
    }
    const char *kind;
    int w, h;
    if (image_probe(d, n, &kind, &w, &h) != 0) {
        free(d);
        image__set(out, IMAGE_PERMANENT,
                   "the %s image is neither a PNG nor a JPEG of at most %dx%d pixels", who,
                   IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
        return;
    }
    if (mime != NULL && strcmp(mime, kind) != 0 &&
        !(strcmp(kind, "image/jpeg") == 0 && strcmp(mime, "image/jpg") == 0)) {
        free(d);
        image__set(out, IMAGE_PERMANENT, "the %s image is said to be %.40s but is %s", who, mime,
                   kind);
        return;
    }
    out->data = d;
    out->len = n;
    out->mime = kind;
    out->width = w;
    out->height = h;
    out->outcome = IMAGE_OK;
}

/* ---- the call ----------------------------------------------------------------------------------
 */

/* The message of an {"error": {"message": …}} body, cut short; "" when none. */
static void image__error_message(const http_client_resp *r, char *msg, size_t n, char *code,
                                 size_t ncode)
{
    msg[0] = code[0] = '\0';
    json_t *doc = json_loads(buf_cstr((buf *)&r->body), 0, NULL);
    json_t *e = json_object_get(doc, "error");
    const char *m = json_string_value(json_object_get(e, "message"));
    const char *c = json_string_value(json_object_get(e, "code"));
    if (c == NULL)
        c = json_string_value(json_object_get(e, "status"));
    if (m != NULL)
        snprintf(msg, n, "%s", m);
    if (c != NULL)
        snprintf(code, ncode, "%s", c);
    json_decref(doc);
}

/* POSTs body to url; 0 with a 2xx answer in *resp, else out filled. */
static int image__post(const image_settings *s, const char *who, const char *url,
                       const char *auth_header, const char *body, http_client_resp *resp,
                       image_result *out)
{
    error e;
    if (http_client_post_json(url, auth_header, body, s->timeout_ms, IMAGE_MAX_RESPONSE, resp,
                              &e) != 0) {
        image__set(out, e.kind == ERR_TOO_LARGE ? IMAGE_PERMANENT : IMAGE_TRANSIENT,
                   "the %s image model could not be reached: %.400s", who, e.message);
        http_client_resp_free(resp);
        return -1;
    }
    if (resp->status >= 200 && resp->status <= 299)
        return 0;
    char msg[300], code[64];
    image__error_message(resp, msg, sizeof(msg), code, sizeof(code));
    if (resp->status == 401 || resp->status == 403) {
        image__set(out, IMAGE_PERMANENT,
                   "the %s image model refused the API key (HTTP %ld): set a valid key and "
                   "regenerate the image",
                   who, resp->status);
    } else if (resp->status == 429 || resp->status >= 500) {
        image__set(out, IMAGE_TRANSIENT, "the %s image model answered HTTP %ld%s", who,
                   resp->status, resp->status == 429 ? " (rate limited)" : "");
        out->retry_after_s = resp->status == 429 ? resp->retry_after_s : -1;
    } else if (strcmp(code, "content_policy_violation") == 0) {
        image__set(out, IMAGE_PERMANENT, "the %s image model refused the prompt: %s", who,
                   msg[0] ? msg : code);
    } else {
        image__set(out, IMAGE_PERMANENT,
                   "the %s image model rejected the request with HTTP %ld%s%s", who, resp->status,
                   msg[0] ? ": " : "", msg);
    }
    http_client_resp_free(resp);
    return -1;
}

/* base (without trailing slashes) + the rest, printf-style; -1 when too long. */
__attribute__((format(printf, 4, 5))) static int image__url(char *url, size_t n, const char *base,
                                                            const char *fmt, ...)
{
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    int k = snprintf(url, n, "%.*s", (int)blen, base);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(url + k, n - (size_t)k, fmt, ap);
    va_end(ap);
    return k < 0 || m < 0 || (size_t)(k + m) >= n ? -1 : 0;
}

/* A header line "name: key" when key is set; "" otherwise. */
static const char *image__auth(char *line, size_t n, const char *name, const char *key)
{
    line[0] = '\0';
    if (key != NULL && key[0] != '\0')
        snprintf(line, n, "%s: %s", name, key);
    return line[0] ? line : NULL;
}

static bool image__model_ok(const char *m)
{
    if (m == NULL || m[0] == '\0' || strlen(m) > 100)
        return false;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '.' || *c == '_'))
            return false;
    return true;
}

/* ---- gemini ------------------------------------------------------------------------------------
 */

/* The image in a generateContent answer, or the reason there is none. */
static void image__gemini_answer(json_t *doc, image_result *out)
{
    const char *block =
        json_string_value(json_object_get(json_object_get(doc, "promptFeedback"), "blockReason"));
    if (block != NULL) {
        image__set(out, IMAGE_PERMANENT,
                   "the gemini image model refused the prompt (blockReason %.60s)", block);
        return;
    }
    json_t *cands = json_object_get(doc, "candidates");
    json_t *cand = json_array_get(cands, 0);
    const char *finish = json_string_value(json_object_get(cand, "finishReason"));
    json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
    const char *text = NULL;
    size_t i;
    json_t *part;
    json_array_foreach(parts, i, part)
    {
        json_t *in = json_object_get(part, "inlineData");
        if (in == NULL)
            in = json_object_get(part, "inline_data");
        const char *data = json_string_value(json_object_get(in, "data"));
        const char *mime = json_string_value(json_object_get(in, "mimeType"));
        if (mime == NULL)
            mime = json_string_value(json_object_get(in, "mime_type"));
        if (data != NULL && mime != NULL && strncmp(mime, "image/", 6) == 0) {
            if (strcmp(mime, "image/png") != 0 && strcmp(mime, "image/jpeg") != 0) {
                image__set(out, IMAGE_PERMANENT,
                           "the gemini image model answered %.40s; only PNG and JPEG are taken",
                           mime);
                return;
            }
            image__take("gemini", data, mime, out);
            return;
        }
        if (text == NULL)
            text = json_string_value(json_object_get(part, "text"));
    }
    if (finish != NULL && strcmp(finish, "STOP") != 0) {
        image__set(out, IMAGE_PERMANENT,
                   "the gemini image model made no image (finishReason %.60s)", finish);
    } else if (!json_is_array(cands)) {
        image__set(out, IMAGE_TRANSIENT,
                   "the gemini image model answered with something that is not its JSON format");
    } else {
        /* Only text: the model declined, and says why in words. */
        image__set(out, IMAGE_PERMANENT, "the gemini image model made no image%s%.300s",
                   text ? ": " : "", text ? text : "");
    }
}

void image__gemini_read(const char *body, image_result *out)
{
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc))
        image__set(out, IMAGE_TRANSIENT, "the gemini image model's answer is not JSON");
    else
        image__gemini_answer(doc, out);
    json_decref(doc);
}

static void image__gemini(const image_settings *s, const image_request *rq, image_result *out)
{
    const char *model = s->gemini_model ? s->gemini_model : "gemini-2.5-flash-image";
    char url[2048];
    if (!image__model_ok(model) || s->gemini_base_url == NULL ||
        image__url(url, sizeof(url), s->gemini_base_url, "/v1beta/models/%s:generateContent",
                   model) != 0) {
        image__set(out, IMAGE_PERMANENT,
                   "the gemini image model is not configured (base URL and model)");
        return;
    }
    json_t *b =
        json_pack("{s:[{s:s,s:[{s:s}]}],s:{s:[s,s],s:{s:s}}}", "contents", "role", "user", "parts",
                  "text", rq->prompt, "generationConfig", "responseModalities", "TEXT", "IMAGE",
                  "imageConfig", "aspectRatio", rq->portrait ? "9:16" : "16:9");
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char auth[1024];
    http_client_resp resp;
    int rc = image__post(s, "gemini", url,
                         image__auth(auth, sizeof(auth), "x-goog-api-key", s->gemini_api_key), body,
                         &resp, out);
    sodium_memzero(auth, sizeof(auth));
    free(body);
    if (rc != 0)
        return;
    image__gemini_read(buf_cstr(&resp.body), out);
    http_client_resp_free(&resp);
}

/* ---- openai ------------------------------------------------------------------------------------
 */

void image__openai_read(const char *body, image_result *out)
{
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    const char *b64 = json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "data"), 0), "b64_json"));
    if (b64 == NULL)
        image__set(out, IMAGE_TRANSIENT, "the openai image model's answer has no data[0].b64_json");
    else
        image__take("openai", b64, NULL, out);
    json_decref(doc);
}

static void image__openai(const image_settings *s, const image_request *rq, image_result *out)
{
    const char *model = s->openai_model ? s->openai_model : "dall-e-3";
    char url[2048];
    if (!image__model_ok(model) || s->openai_base_url == NULL ||
        image__url(url, sizeof(url), s->openai_base_url, "/v1/images/generations") != 0) {
        image__set(out, IMAGE_PERMANENT,
                   "the openai image model is not configured (base URL and model)");
        return;
    }
    /* The GPT image models answer base64 always and take 1536x1024;
     * DALL-E 3 takes 1792x1024 and needs response_format to answer base64. */
    bool gpt = strncmp(model, "gpt-image", 9) == 0;
    const char *size = gpt ? (rq->portrait ? "1024x1536" : "1536x1024")
                           : (rq->portrait ? "1024x1792" : "1792x1024");
    json_t *b =
        json_pack("{s:s,s:s,s:s,s:i}", "model", model, "prompt", rq->prompt, "size", size, "n", 1);
    if (!gpt)
        json_object_set_new(b, "response_format", json_string("b64_json"));
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char auth[1024], key[1000];
    snprintf(key, sizeof(key), "Bearer %s", s->openai_api_key ? s->openai_api_key : "");
    http_client_resp resp;
    int rc = image__post(s, "openai", url,
                         s->openai_api_key && s->openai_api_key[0]
                             ? image__auth(auth, sizeof(auth), "Authorization", key)
                             : NULL,
                         body, &resp, out);
    sodium_memzero(auth, sizeof(auth));
    sodium_memzero(key, sizeof(key));
    free(body);
    if (rc != 0)
        return;
    image__openai_read(buf_cstr(&resp.body), out);
    http_client_resp_free(&resp);
}

void image_generate(const image_settings *s, const image_request *rq, image_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    if (rq->prompt == NULL || rq->prompt[0] == '\0') {
        image__set(out, IMAGE_PERMANENT, "the scene has nothing to picture");
        return;
    }
    if (image_offline(s))
        image__set(out, IMAGE_PERMANENT, "no image model is configured");
    else if (strcmp(s->provider, "gemini") == 0)
        image__gemini(s, rq, out);
    else
        image__openai(s, rq, out);
    if (out->outcome != IMAGE_OK)
        image_result_free(out);
}
