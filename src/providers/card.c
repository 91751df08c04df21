/*
 * The card renderer (see card.h). One font map for the process, made once,
 * and one render at a time under card__lock: pango's font maps and
 * fontconfig are not safe to share between threads without it.
 */
#include "providers/card.h"

#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>
#include <png.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct card__palette {
    uint32_t bg, fg, accent; /* 0xRRGGBB */
} card__palette;

/* Dark and light palettes, each with enough contrast between text and
 * background to read (WCAG AA at least for the text colour). */
static const card__palette card__palettes[] = {
    {0x12172A, 0xF6F4ED, 0xFCA442}, /* night, amber */
    {0xF9F4EA, 0x241E1B, 0xC9422D}, /* paper, brick */
    {0x103936, 0xEEF9F4, 0xFBCF5A}, /* teal, gold */
    {0x33143B, 0xFBEFF9, 0x65D9CC}, /* plum, mint */
    {0xEEF3FB, 0x122443, 0x2F6FEC}, /* sky, blue */
    {0x1F1F1F, 0xF7F7F7, 0xEF4464}, /* ink, rose */
};
#define CARD__NPALETTES (sizeof(card__palettes) / sizeof(card__palettes[0]))

/* Families from the Debian font packages install-deps.sh installs
 * (fonts-dejavu-core, fonts-noto-core); emoji fall back to Noto Color
 * Emoji through fontconfig whichever is chosen. */
static const char *const card__families[] = {"DejaVu Sans", "DejaVu Serif", "Noto Sans",
                                             "Noto Serif"};
#define CARD__NFAMILIES (sizeof(card__families) / sizeof(card__families[0]))

static pthread_mutex_t card__lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t card__once = PTHREAD_ONCE_INIT;
static PangoFontMap *card__fontmap; /* made once, kept for the process */

static void card__init(void)
{
    card__fontmap = pango_cairo_font_map_new();
}

static uint32_t card__fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; s != NULL && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static void card__unpack(uint32_t rgb, double out[3])
{
    for (int i = 0; i < 3; i++)
        out[i] = (double)((rgb >> (16 - 8 * i)) & 0xFF) / 255.0;
}

void card_style_for(const char *seed, card_style *out)
{
    uint32_t h = card__fnv1a(seed != NULL ? seed : "");
    const card__palette *p = &card__palettes[h % CARD__NPALETTES];
    memset(out, 0, sizeof(*out));
    out->palette = (int)(h % CARD__NPALETTES);
    out->family = card__families[(h / CARD__NPALETTES) % CARD__NFAMILIES];
    card__unpack(p->bg, out->background);
    card__unpack(p->fg, out->foreground);
    card__unpack(p->accent, out->accent);
}

void card_size(card_format f, int *width, int *height)
{
    *width = f == CARD_PORTRAIT ? CARD_SHORT_SIDE : CARD_LONG_SIDE;
    *height = f == CARD_PORTRAIT ? CARD_LONG_SIDE : CARD_SHORT_SIDE;
}

/* text, checked as UTF-8 and cut to CARD_TEXT_MAX bytes on a character
 * boundary; NULL with err when it is not UTF-8. */
static char *card__text(const char *text, const char *field, error *err)
{
    if (text == NULL)
        text = "";
    size_t n = strlen(text);
    if (!g_utf8_validate(text, (gssize)n, NULL)) {
        error_set(err, ERR_INVALID, field, "the %s is not valid UTF-8", field);
        return NULL;
    }
    if (n > CARD_TEXT_MAX) {
        n = CARD_TEXT_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    return g_strndup(text, n);
}

static PangoLayout *card__layout(PangoContext *ctx, const char *family, int weight, double px,
                                 int width, int height, const char *text)
{
    PangoLayout *l = pango_layout_new(ctx);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, family);
    pango_font_description_set_weight(fd, (PangoWeight)weight);
    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, width * PANGO_SCALE);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    /* A positive height ellipsizes the last line that fits; -1 keeps one
     * line (the title). */
    pango_layout_set_height(l, height > 0 ? height * PANGO_SCALE : -1);
    pango_layout_set_text(l, text, -1);
    return l;
}

static void card__png_write(png_structp png, png_bytep data, size_t len)
{
    if (buf_append(png_get_io_ptr(png), data, len) != BUF_OK)
        png_error(png, "the PNG is larger than CARD_PNG_MAX");
}

static void card__png_flush(png_structp png)
{
    (void)png;
}

/*
 * The drawn surface (CAIRO_FORMAT_RGB24: one native-endian 0x00RRGGBB word
 * a pixel, BGRX in memory on little-endian) as a 24-bit RGB PNG appended
 * to out; -1 when libpng fails or the PNG outgrows out. zlib level 1 with
 * no row filter: a card is flat colour and text, so this is about a quarter
 * of the CPU of libpng's defaults (level 6, adaptive filters, what cairo's
 * own writer uses) for files about a quarter larger (bench/media.sh,
 * decision 109).
 */
static int card__png_encode(cairo_surface_t *sf, buf *out)
{
    int w = cairo_image_surface_get_width(sf), h = cairo_image_surface_get_height(sf);
    int stride = cairo_image_surface_get_stride(sf);
    unsigned char *px = cairo_image_surface_get_data(sf);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, out, card__png_write, card__png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_write_info(png, info);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    png_set_bgr(png);
    png_set_filler(png, 0, PNG_FILLER_AFTER);
#else
    png_set_filler(png, 0, PNG_FILLER_BEFORE);
#endif
    for (int y = 0; y < h; y++)
        png_write_row(png, px + (size_t)y * (size_t)stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static void card__rgb(cairo_t *cr, const double c[3])
{
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

/* Draws the card on cr (w x h), under card__lock. */
static void card__draw(cairo_t *cr, PangoContext *ctx, const card_request *rq, const char *title,
                       const char *text, int w, int h, card_result *res)
{
    card_style st;
    card_style_for(rq->style_seed, &st);
    int small = w < h ? w : h;
    int margin = small / 10;
    int inner = w - 2 * margin;

    card__rgb(cr, st.background);
    cairo_paint(cr);
    /* An accent band along the left edge and a rule under the heading. */
    card__rgb(cr, st.accent);
    cairo_rectangle(cr, 0, 0, small / 40.0, h);
    cairo_fill(cr);

    double y = margin;
    if (rq->scene_number > 0) {
        char label[96];
        const char *word = rq->label_scene ? rq->label_scene : "Scene";
        if (rq->scene_count > 0)
            snprintf(label, sizeof(label), "%.40s %d / %d", word, rq->scene_number,
                     rq->scene_count);
        else
            snprintf(label, sizeof(label), "%.40s %d", word, rq->scene_number);
        PangoLayout *l = card__layout(ctx, st.family, PANGO_WEIGHT_BOLD, small * 0.04, inner, -1,
                                      g_utf8_validate(label, -1, NULL) ? label : "");
        card__rgb(cr, st.accent);
        cairo_move_to(cr, margin, y);
        pango_cairo_show_layout(cr, l);
        int lh;
        pango_layout_get_pixel_size(l, NULL, &lh);
        res->unknown_glyphs += pango_layout_get_unknown_glyphs_count(l);
        y += lh + small * 0.02;
        g_object_unref(l);
    }
    if (title[0] != '\0') {
        PangoLayout *l =
            card__layout(ctx, st.family, PANGO_WEIGHT_BOLD, small * 0.075, inner, -1, title);
        card__rgb(cr, st.foreground);
        cairo_move_to(cr, margin, y);
        pango_cairo_show_layout(cr, l);
        int lh;
        pango_layout_get_pixel_size(l, NULL, &lh);
        res->unknown_glyphs += pango_layout_get_unknown_glyphs_count(l);
        res->ellipsized = res->ellipsized || pango_layout_is_ellipsized(l);
        y += lh + small * 0.02;
        g_object_unref(l);
    }
    card__rgb(cr, st.accent);
    cairo_rectangle(cr, margin, y, small * 0.12, small * 0.008);
    cairo_fill(cr);
    y += small * 0.05;
    int left = h - margin - (int)y;
    if (text[0] != '\0' && left > 0) {
        PangoLayout *l =
            card__layout(ctx, st.family, PANGO_WEIGHT_NORMAL, small * 0.05, inner, left, text);
        pango_layout_set_spacing(l, (int)(small * 0.012) * PANGO_SCALE);
        card__rgb(cr, st.foreground);
        cairo_move_to(cr, margin, y);
        pango_cairo_show_layout(cr, l);
        res->unknown_glyphs += pango_layout_get_unknown_glyphs_count(l);
        res->ellipsized = res->ellipsized || pango_layout_is_ellipsized(l);
        g_object_unref(l);
    }
}

int card_render_png(const card_request *rq, buf *out, card_result *res, error *err)
{
    memset(res, 0, sizeof(*res));
    char *title = card__text(rq->title, "title", err);
    if (title == NULL)
        return -1;
    char *text = card__text(rq->text, "visual_description", err);
    if (text == NULL) {
        g_free(title);
        return -1;
    }
    int w, h;
    card_size(rq->format, &w, &h);
    res->width = w;
    res->height = h;
    pthread_once(&card__once, card__init);

    int rc = 0;
    pthread_mutex_lock(&card__lock);
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(sf);
    PangoContext *ctx = pango_font_map_create_context(card__fontmap);
    pango_cairo_update_context(cr, ctx);
    card__draw(cr, ctx, rq, title, text, w, h, res);
    g_object_unref(ctx);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(sf);
    pthread_mutex_unlock(&card__lock);
    /* The pixels are this call's own: encoding needs no lock, so another
     * worker's card can be drawn meanwhile. */
    if (cs != CAIRO_STATUS_SUCCESS)
        rc = error_set(err, ERR_INTERNAL, NULL, "drawing the card failed: %s",
                       cairo_status_to_string(cs));
    else if (card__png_encode(sf, out) != 0)
        rc = error_set(err, ERR_INTERNAL, NULL, "encoding the card as PNG failed");
    cairo_surface_destroy(sf);
    g_free(title);
    g_free(text);
    return rc;
}

int card_unknown_glyphs(const char *family, const char *text, error *err)
{
    char *t = card__text(text, "text", err);
    if (t == NULL)
        return -1;
    pthread_once(&card__once, card__init);
    pthread_mutex_lock(&card__lock);
    PangoContext *ctx = pango_font_map_create_context(card__fontmap);
    PangoLayout *l = card__layout(ctx, family, PANGO_WEIGHT_NORMAL, 54, CARD_LONG_SIDE, -1, t);
    int n = pango_layout_get_unknown_glyphs_count(l);
    g_object_unref(l);
    g_object_unref(ctx);
    pthread_mutex_unlock(&card__lock);
    g_free(t);
    return n;
}
