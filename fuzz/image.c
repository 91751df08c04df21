/* The image models' answers. The first byte picks a Gemini generateContent
 * answer (inlineData base64), an OpenAI images answer (data[0].b64_json),
 * or the bytes themselves given to image_probe (the PNG/JPEG header
 * reader). An image taken must be what its header says, within the sides. */
#include "providers/image.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned pick = fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    if (pick % 3 == 2) {
        const char *mime;
        int w, h;
        if (image_probe(data, size, &mime, &w, &h) == 0)
            FUZZ_CHECK(w > 0 && h > 0 && w <= IMAGE_MAX_SIDE && h <= IMAGE_MAX_SIDE);
    } else {
        image_result out;
        memset(&out, 0, sizeof(out));
        out.retry_after_s = -1;
        const char *body = fuzz_cstr(&a, data, size);
        if (pick % 3 == 0)
            image__gemini_read(body, &out);
        else
            image__openai_read(body, &out);
        if (out.outcome == IMAGE_OK) {
            const char *mime;
            int w, h;
            FUZZ_CHECK(out.data != NULL && out.len > 0);
            FUZZ_CHECK(image_probe(out.data, out.len, &mime, &w, &h) == 0);
            FUZZ_CHECK(strcmp(mime, out.mime) == 0 && w == out.width && h == out.height);
        } else {
            FUZZ_CHECK(out.data == NULL && out.message[0] != '\0');
        }
        image_result_free(&out);
    }
    arena_free(&a);
    return 0;
}
