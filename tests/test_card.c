/* The offline scene card (providers/card.c): real cairo, pango and the
 * Debian fonts install-deps.sh installs; PNGs read back byte by byte. */
#include "testlib.h"

#include "base/buf.h"
#include "base/error.h"
#include "providers/card.h"

#include <cairo.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const char *const families[] = {"DejaVu Sans", "DejaVu Serif", "Noto Sans", "Noto Serif"};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The PNG's signature, its first chunk (IHDR) and its last (IEND). */
static void assert_png_of_size(const buf *b, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = (const unsigned char *)b->data;
    assert_true(b->len > 8 + 25 + 12);
    assert_memory_equal(p, sig, 8);
    assert_int_equal(be32(p + 8), 13);
    assert_memory_equal(p + 12, "IHDR", 4);
    assert_int_equal(be32(p + 16), w);
    assert_int_equal(be32(p + 20), h);
    assert_int_equal(p[24], 8); /* bit depth */
    assert_memory_equal(p + b->len - 8, "IEND", 4);
}

typedef struct reader {
    const buf *b;
    size_t at;
} reader;

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int len)
{
    reader *r = closure;
    if (r->at + len > r->b->len)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->b->data + r->at, len);
    r->at += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Decodes the PNG (libpng through cairo) and returns the pixel at x, y as
 * 0xRRGGBB; asserts the decoded size. */
static uint32_t decoded_pixel(const buf *b, int w, int h, int x, int y)
{
    reader r = {.b = b};
    cairo_surface_t *sf = cairo_image_surface_create_from_png_stream(read_png, &r);
    assert_int_equal(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(sf), w);
    assert_int_equal(cairo_image_surface_get_height(sf), h);
    cairo_surface_flush(sf);
    const unsigned char *data = cairo_image_surface_get_data(sf);
    uint32_t px;
    memcpy(&px, data + (size_t)y * (size_t)cairo_image_surface_get_stride(sf) + (size_t)x * 4, 4);
    cairo_surface_destroy(sf);
    return px & 0xFFFFFFu;
}

static uint32_t rgb24(const double c[3])
{
    uint32_t v = 0;
    for (int i = 0; i < 3; i++)
        v = v << 8 | (uint32_t)(c[i] * 255.0 + 0.5);
    return v;
}

static void render(const card_request *rq, buf *b, card_result *res)
{
    error e;
    buf_init(b, CARD_PNG_MAX);
    int rc = card_render_png(rq, b, res, &e);
    if (rc != 0)
        fail_msg("render failed: %s", e.message);
}

static void test_both_formats_are_valid_pngs_of_their_size(void **state)
{
    (void)state;
    card_request rq = {.title = "Abertura",
                       .text = "Uma praia ao amanhecer, ondas calmas e um farol ao longe.",
                       .scene_number = 1,
                       .scene_count = 3,
                       .style_seed = "0190a1b2-0000-7000-8000-000000000001"};
    const struct {
        card_format f;
        int w, h;
    } cases[] = {{CARD_LANDSCAPE, 1920, 1080}, {CARD_PORTRAIT, 1080, 1920}};
    card_style st;
    card_style_for(rq.style_seed, &st);
    for (size_t i = 0; i < 2; i++) {
        rq.format = cases[i].f;
        buf b;
        card_result res;
        render(&rq, &b, &res);
        assert_int_equal(res.width, cases[i].w);
        assert_int_equal(res.height, cases[i].h);
        assert_png_of_size(&b, (uint32_t)cases[i].w, (uint32_t)cases[i].h);
        /* The far corner is the palette's background, the left edge its accent band. */
        assert_int_equal(decoded_pixel(&b, cases[i].w, cases[i].h, cases[i].w - 2, cases[i].h - 2),
                         rgb24(st.background));
        assert_int_equal(decoded_pixel(&b, cases[i].w, cases[i].h, 1, cases[i].h / 2),
                         rgb24(st.accent));
        assert_int_equal(res.unknown_glyphs, 0);
        assert_false(res.ellipsized);
        buf_free(&b);
    }
}

static void test_portuguese_and_emoji_have_glyphs_and_an_unassigned_codepoint_has_none(void **state)
{
    (void)state;
    error e;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        /* The control: U+10FFFD (private use, plane 16) is in no font, so
         * the count does see missing glyphs. */
        assert_int_equal(card_unknown_glyphs(families[i], "\xf4\x8f\xbf\xbd", &e), 1);
        assert_int_equal(
            card_unknown_glyphs(families[i], "a \xf4\x8f\xbf\xbd b \xf4\x8f\xbf\xbd", &e), 2);
        assert_int_equal(card_unknown_glyphs(families[i], "ção ã é ô", &e), 0);
        assert_int_equal(card_unknown_glyphs(families[i], "AÇÃO, coração, pôr-do-sol, à beça", &e),
                         0);
        /* Emoji come from Noto Color Emoji by fontconfig's fallback. */
        assert_int_equal(card_unknown_glyphs(families[i], "🎬 🌅 🙂", &e), 0);
    }
    /* The same through a whole card, title and text. */
    card_request rq = {.title = "Ação na praia 🌊",
                       .text = "Um pescador conserta a rede; o pôr-do-sol é laranja. ção ã é ô",
                       .scene_number = 2,
                       .label_scene = "Cena"};
    buf b;
    card_result res;
    render(&rq, &b, &res);
    assert_int_equal(res.unknown_glyphs, 0);
    buf_free(&b);
    rq.text = "sem glifo: \xf4\x8f\xbf\xbd";
    render(&rq, &b, &res);
    assert_int_equal(res.unknown_glyphs, 1);
    buf_free(&b);
}

static void test_long_text_is_ellipsized_to_fit_and_cut_on_a_character(void **state)
{
    (void)state;
    buf text;
    buf_init(&text, 1u << 20);
    /* Longer than CARD_TEXT_MAX, of two-byte characters so a cut at the
     * byte limit would fall inside one. */
    while (text.len < CARD_TEXT_MAX + 500)
        assert_int_equal(buf_puts(&text, "ção é ôá "), BUF_OK);
    card_request rq = {.title = text.data, .text = text.data, .format = CARD_PORTRAIT};
    buf b;
    card_result res;
    render(&rq, &b, &res);
    assert_true(res.ellipsized);
    assert_int_equal(res.unknown_glyphs, 0);
    assert_png_of_size(&b, 1080, 1920);
    buf_free(&b);
    buf_free(&text);
}

static void test_text_that_is_not_utf8_is_refused_naming_it(void **state)
{
    (void)state;
    card_request rq = {.title = "ok", .text = "bad \xc3\x28 byte"};
    buf b;
    buf_init(&b, CARD_PNG_MAX);
    card_result res;
    error e;
    assert_int_equal(card_render_png(&rq, &b, &res, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "visual_description");
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_the_style_is_a_function_of_the_seed(void **state)
{
    (void)state;
    card_style a, b;
    card_style_for("persona-1", &a);
    card_style_for("persona-1", &b);
    assert_memory_equal(&a, &b, sizeof(a));
    /* Many seeds reach every palette and every family. */
    int palettes = 0, fams = 0;
    for (int i = 0; i < 200; i++) {
        char seed[32];
        snprintf(seed, sizeof(seed), "persona-%d", i);
        card_style s;
        card_style_for(seed, &s);
        palettes |= 1 << s.palette;
        for (int f = 0; f < 4; f++)
            if (strcmp(s.family, families[f]) == 0)
                fams |= 1 << f;
    }
    assert_int_equal(palettes, 0x3F);
    assert_int_equal(fams, 0xF);
}

static void *render_thread(void *arg)
{
    card_request rq = {.title = "Paralelo", .text = arg, .scene_number = 1};
    for (int i = 0; i < 3; i++) {
        buf b;
        card_result res;
        error e;
        buf_init(&b, CARD_PNG_MAX);
        if (card_render_png(&rq, &b, &res, &e) != 0 || res.unknown_glyphs != 0 || b.len < 100) {
            buf_free(&b);
            return (void *)1;
        }
        buf_free(&b);
    }
    return NULL;
}

static void test_renders_from_several_threads_at_once_all_succeed(void **state)
{
    (void)state;
    pthread_t th[4];
    char *texts[4] = {"um 🙂", "dois ção", "três é", "quatro ô"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_thread, texts[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        assert_int_equal(pthread_join(th[i], &r), 0);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_formats_are_valid_pngs_of_their_size),
        cmocka_unit_test(
            test_portuguese_and_emoji_have_glyphs_and_an_unassigned_codepoint_has_none),
        cmocka_unit_test(test_long_text_is_ellipsized_to_fit_and_cut_on_a_character),
        cmocka_unit_test(test_text_that_is_not_utf8_is_refused_naming_it),
        cmocka_unit_test(test_the_style_is_a_function_of_the_seed),
        cmocka_unit_test(test_renders_from_several_threads_at_once_all_succeed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
