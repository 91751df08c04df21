/*
 * card: the offline scene image, a designed card drawn with cairo and pango
 * (issue 14, decision 98). A card shows the scene's number, a title line
 * and the scene's visual description, wrapped and, when it does not fit,
 * ellipsized; any Unicode the installed fonts cover, colour emoji through
 * fontconfig's fallback. Its palette and typeface come from a style seed
 * (the persona's id): the same seed always gives the same look.
 *
 * Pango's font map and fontconfig's configuration are shared process
 * state that is not safe to use from several threads at once, so every
 * render's drawing runs under one process-wide mutex (decision 98); its PNG
 * is encoded after the mutex is released (decision 109). A card draws in
 * about ten milliseconds, so waiting workers lose little.
 */
#ifndef PS_PROVIDERS_CARD_H
#define PS_PROVIDERS_CARD_H

#include "base/buf.h"
#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* The two sizes a card comes in: landscape (16:9) and portrait (9:16). */
#define CARD_LONG_SIDE  1920
#define CARD_SHORT_SIDE 1080
/* Longest text drawn, in bytes; longer text is cut on a character boundary
 * before layout (the card could not show it anyway). */
#define CARD_TEXT_MAX 4000
/* A PNG of a card is far below this; the output buffer refuses more. */
#define CARD_PNG_MAX (32u << 20)

typedef enum card_format {
    CARD_LANDSCAPE = 0, /* 1920x1080 */
    CARD_PORTRAIT,      /* 1080x1920 */
} card_format;

/* A card's look, derived from a seed by card_style_for. */
typedef struct card_style {
    const char *family;   /* a fontconfig family name */
    double background[3]; /* RGB 0..1 */
    double foreground[3];
    double accent[3];
    int palette; /* which of the palettes, for tests and logs */
} card_style;

typedef struct card_request {
    const char *title;       /* one line, ellipsized at the end; may be NULL */
    const char *text;        /* the visual description, wrapped; may be NULL */
    int scene_number;        /* 1-based; 0: not shown */
    int scene_count;         /* 0: "Scene n" without "of" */
    const char *style_seed;  /* the persona's id; NULL: the default look */
    const char *label_scene; /* the word for "Scene"; NULL: "Scene" */
    card_format format;
} card_request;

typedef struct card_result {
    int width, height;
    /* Characters no installed font could draw (pango's unknown glyphs,
     * shown as boxes: "tofu"), title and text together. */
    int unknown_glyphs;
    bool ellipsized; /* some of the text did not fit */
} card_result;

/** The look a seed gives (FNV-1a of the seed picks a palette and typeface). */
void card_style_for(const char *seed, card_style *out);
/** The size of a format in pixels. */
void card_size(card_format f, int *width, int *height);

/**
 * Renders rq as a PNG appended to out (which should be empty). ERR_INVALID
 * for text that is not UTF-8; ERR_INTERNAL when cairo fails. Thread-safe
 * (serialised, see above).
 */
int card_render_png(const card_request *rq, buf *out, card_result *res, error *err);

/**
 * How many characters of text (UTF-8) no installed font can draw in the
 * given family, as laid out for a card; -1 with err on failure. The check
 * the tests use for "no tofu".
 */
int card_unknown_glyphs(const char *family, const char *text, error *err);

#endif
