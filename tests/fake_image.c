#include "fake_image.h"

#include "providers/ffmpeg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first. */
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* base64 of len bytes; the caller frees. */
static char *fake__b64(const uint8_t *d, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    sodium_bin2base64(s, n, d, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* The image a mode answers, as base64 (the caller frees), and its type. */
static char *fake__image(fake_image *f, fake_image_mode m, bool portrait, const char **mime)
{
    static const uint8_t giant[] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1A, '\n', 0,    0, 0,
                                    13,   'I',  'H', 'D', 'R',  0,    1,    0x86, 0xA0, 0, 1,
                                    0x86, 0xA0, 8,   2,   0,    0,    0,    0,    0,    0, 0};
    *mime = "image/png";
    switch (m) {
    case FAKE_IMAGE_JPEG:
        *mime = "image/jpeg";
        return fake__b64(f->jpeg, f->jpeg_len);
    case FAKE_IMAGE_WRONG_MIME:
        return fake__b64(f->jpeg, f->jpeg_len);
    case FAKE_IMAGE_NOT_IMAGE:
        return fake__b64((const uint8_t *)"GIF89a, or rather nothing at all", 32);
    case FAKE_IMAGE_GIANT:
        return fake__b64(giant, sizeof(giant));
    case FAKE_IMAGE_BAD_BASE64: {
        char *s = fake__b64(f->png, f->png_len);
        s[10] = '!';
        return s;
    }
    default:
        return portrait ? fake__b64(f->png_tall, f->png_tall_len) : fake__b64(f->png, f->png_len);
    }
}

static bool fake__failure(http_request *r, fake_image_mode m, bool google)
{
    if (fake_server_failure(r, (int)m, google))
        return true;
    if (m != FAKE_IMAGE_MALFORMED)
        return false;
    http_reply(r, 200, "application/json", "{\"candidates\": [{\"content\": ", 28);
    return true;
}

static void fake__gemini(http_request *r)
{
    fake_server *fs = http_app(r);
    fake_image *f = fs->owner;
    json_t *body;
    fake_image_mode m = fake_server_receive(r, &body, FAKE_IMAGE_STALL, FAKE_IMAGE_OK);
    if (!fake__failure(r, m, true)) {
        const char *aspect = json_string_value(json_object_get(
            json_object_get(json_object_get(body, "generationConfig"), "imageConfig"),
            "aspectRatio"));
        bool portrait = aspect != NULL && strcmp(aspect, "9:16") == 0;
        json_t *usage =
            json_pack("{s:i,s:i}", "promptTokenCount", 40, "candidatesTokenCount", 1290);
        if (m == FAKE_IMAGE_REFUSED) {
            fake_server_reply(r, 200,
                              json_pack("{s:{s:s},s:o}", "promptFeedback", "blockReason",
                                        "PROHIBITED_CONTENT", "usageMetadata", usage));
        } else if (m == FAKE_IMAGE_SAFETY || m == FAKE_IMAGE_TEXT_ONLY) {
            json_t *cand = json_pack(
                "{s:{s:s,s:[{s:s}]},s:s,s:i}", "content", "role", "model", "parts", "text",
                "I can't make that picture, but I can describe it.", "finishReason",
                m == FAKE_IMAGE_SAFETY ? "IMAGE_SAFETY" : "STOP", "index", 0);
            fake_server_reply(r, 200,
                              json_pack("{s:[o],s:o}", "candidates", cand, "usageMetadata", usage));
        } else {
            const char *mime;
            char *b64 = fake__image(f, m, portrait, &mime);
            json_t *cand =
                json_pack("{s:{s:s,s:[{s:s},{s:{s:s,s:s}}]},s:s,s:i}", "content", "role", "model",
                          "parts", "text", "Here is the picture.", "inlineData", "mimeType", mime,
                          "data", b64, "finishReason", "STOP", "index", 0);
            free(b64);
            fake_server_reply(r, 200,
                              json_pack("{s:[o],s:o,s:s}", "candidates", cand, "usageMetadata",
                                        usage, "modelVersion", "fake-image"));
        }
    }
    json_decref(body);
}

static void fake__openai(http_request *r)
{
    fake_server *fs = http_app(r);
    fake_image *f = fs->owner;
    json_t *body;
    fake_image_mode m = fake_server_receive(r, &body, FAKE_IMAGE_STALL, FAKE_IMAGE_OK);
    if (!fake__failure(r, m, false)) {
        const char *size = json_string_value(json_object_get(body, "size"));
        unsigned w = 0, h = 0;
        bool portrait = size != NULL && sscanf(size, "%ux%u", &w, &h) == 2 && h > w;
        if (m == FAKE_IMAGE_REFUSED || m == FAKE_IMAGE_SAFETY) {
            fake_server_reply(
                r, 400,
                json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "code", "content_policy_violation",
                          "message", "Your request was rejected as a result of our safety system.",
                          "param", "type", "invalid_request_error"));
        } else if (m == FAKE_IMAGE_TEXT_ONLY) {
            fake_server_reply(r, 200, json_pack("{s:i,s:[]}", "created", 1700000000, "data"));
        } else {
            const char *mime;
            char *b64 = fake__image(f, m, portrait, &mime);
            fake_server_reply(r, 200,
                              json_pack("{s:i,s:[{s:s,s:s}]}", "created", 1700000000, "data",
                                        "b64_json", b64, "revised_prompt", "A picture."));
            free(b64);
        }
    }
    json_decref(body);
}

static const http_route fake__routes[] = {
    {"POST", "/v1beta/models/{model}", fake__gemini, "fake.gemini_image"},
    {"POST", "/v1/images/generations", fake__openai, "fake.openai_images"},
};

/* ffmpeg's test pattern at w x h as one image file; its bytes. */
static uint8_t *fake__make(const char *dir, const char *name, int w, int h, size_t *len)
{
    char path[512], src[64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(src, sizeof(src), "testsrc2=size=%dx%d", w, h);
    const char *args[] = {"-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                          "-f",       "lavfi",        "-i",        src,     "-frames:v",
                          "1",        path,           NULL};
    error e;
    if (ffmpeg_run("ffmpeg", args, 30000, &e) != 0)
        fail_msg("fake image: ffmpeg: %s", e.message);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n);
    assert_int_equal(fread(d, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    unlink(path);
    *len = (size_t)n;
    return d;
}

void fake_image_start(fake_image *f)
{
    memset(f, 0, sizeof(*f));
    char dir[] = "/tmp/pstudio-fake-image-XXXXXX";
    if (mkdtemp(dir) == NULL)
        fail_msg("fake image: mkdtemp failed");
    f->png = fake__make(dir, "landscape.png", FAKE_IMAGE_W, FAKE_IMAGE_H, &f->png_len);
    f->png_tall = fake__make(dir, "portrait.png", FAKE_IMAGE_H, FAKE_IMAGE_W, &f->png_tall_len);
    f->jpeg = fake__make(dir, "landscape.jpg", FAKE_IMAGE_W, FAKE_IMAGE_H, &f->jpeg_len);
    rmdir(dir);
    fake_server_start(&f->s, "fake image", fake__routes,
                      sizeof(fake__routes) / sizeof(fake__routes[0]), f, FAKE_IMAGE_OK, 3000);
    fake_server_error_modes(&f->s, FAKE_IMAGE_429, FAKE_IMAGE_500, FAKE_IMAGE_401_ECHO);
}

void fake_image_stop(fake_image *f)
{
    fake_server_stop(&f->s);
    free(f->png);
    free(f->png_tall);
    free(f->jpeg);
}
