#include "base/jsonout.h"

#include "base/arena.h"
#include "base/timeutil.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What each byte becomes inside a JSON string: 0 copies it, 'u' is a \u00XX
 * escape, anything else is the letter after a backslash. Bytes from 0x80 up
 * are parts of UTF-8 sequences and are copied as they are. */
static const unsigned char escape_of[256] = {
    ['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u',  [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u',  [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',  [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

json_t *json_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    return utf8_valid(s, n) ? json_stringn_nocheck(s, n) : NULL;
}

/* Whether any of the 8 bytes at p may need an escape: a control byte, '"'
 * or '\\' (the "has less than" and "has zero byte" word tricks). It may say
 * yes for a clean word when a borrow crosses bytes; never no for a dirty one. */
static inline bool word_may_need_escape(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t q = w ^ (ones * '"');
    uint64_t b = w ^ (ones * '\\');
    q = (q - ones) & ~q;
    b = (b - ones) & ~b;
    return ((ctl | q | b) & highs) != 0;
}

int json_escape(buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001B, not \u001b */
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        for (;;) { /* to the next byte that needs an escape, or the end */
            while ((size_t)(end - p) >= 8 && !word_may_need_escape(p))
                p += 8;
            const unsigned char *stop = (size_t)(end - p) >= 8 ? p + 8 : end;
            while (p < stop && escape_of[*p] == 0)
                p++;
            if (p < stop || p == end)
                break;
        }
        if (p > run && buf_append(out, run, (size_t)(p - run)) != BUF_OK)
            return BUF_TOO_BIG;
        if (p == end)
            break;
        unsigned char e = escape_of[*p];
        char seq[6] = {'\\', (char)e};
        size_t len = 2;
        if (e == 'u') {
            seq[2] = '0';
            seq[3] = '0';
            seq[4] = hex[*p >> 4];
            seq[5] = hex[*p & 15];
            len = 6;
        }
        if (buf_append(out, seq, len) != BUF_OK)
            return BUF_TOO_BIG;
        p++;
    }
    return BUF_OK;
}

int jsonout_string(buf *out, const char *s, size_t n)
{
    if (buf_append(out, "\"", 1) != BUF_OK || json_escape(out, s, n) != BUF_OK)
        return BUF_TOO_BIG;
    return buf_append(out, "\"", 1);
}

/* jansson's jsonp_dtostr with `digits` significant digits: "%.15g" for 15, then ".0" when the text
 * would read back as an integer, and no '+' or leading zeros in an exponent. */
static int put_real(buf *out, double d, int digits)
{
    char text[64];
    int len = snprintf(text, sizeof(text), "%.*g", digits, d);
    if (len < 0 || (size_t)len >= sizeof(text) - 2)
        return BUF_TOO_BIG; /* cannot happen for a finite double */
    if (strchr(text, '.') == NULL && strchr(text, 'e') == NULL) {
        memcpy(text + len, ".0", 3);
        len += 2;
    }
    char *e = strchr(text, 'e');
    if (e != NULL) {
        char *from = e + 1, *to = e + 1;
        if (*from == '-')
            to = ++from;
        else if (*from == '+')
            from++;
        while (*from == '0' && from[1] != '\0')
            from++;
        size_t rest = strlen(from);
        memmove(to, from, rest + 1);
        len = (int)((size_t)(to - text) + rest);
    }
    return buf_append(out, text, (size_t)len);
}

static int put_integer(buf *out, json_int_t v)
{
    char text[24], *p = text + sizeof(text);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return buf_append(out, p, (size_t)(text + sizeof(text) - p));
}

static int put_value(buf *out, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return buf_append(out, "null", 4);
    case JSON_TRUE:
        return buf_append(out, "true", 4);
    case JSON_FALSE:
        return buf_append(out, "false", 5);
    case JSON_INTEGER:
        return put_integer(out, json_integer_value(v));
    case JSON_REAL:
        return put_real(out, json_real_value(v), 15);
    case JSON_STRING:
        return jsonout_string(out, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        if (depth >= JSONOUT_MAX_DEPTH)
            return JSONOUT_INVALID;
        if (buf_append(out, "[", 1) != BUF_OK)
            return BUF_TOO_BIG;
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && buf_append(out, ",", 1) != BUF_OK)
                return BUF_TOO_BIG;
            int rc = put_value(out, json_array_get(v, i), depth + 1);
            if (rc != BUF_OK)
                return rc;
        }
        return buf_append(out, "]", 1);
    }
    case JSON_OBJECT: {
        if (depth >= JSONOUT_MAX_DEPTH)
            return JSONOUT_INVALID;
        if (buf_append(out, "{", 1) != BUF_OK)
            return BUF_TOO_BIG;
        bool first = true;
        /* jansson iterates in insertion order, as json_dumps does. */
        for (void *it = json_object_iter((json_t *)v); it != NULL;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first && buf_append(out, ",", 1) != BUF_OK)
                return BUF_TOO_BIG;
            first = false;
            if (jsonout_string(out, json_object_iter_key(it), json_object_iter_key_len(it)) !=
                    BUF_OK ||
                buf_append(out, ":", 1) != BUF_OK)
                return BUF_TOO_BIG;
            int rc = put_value(out, json_object_iter_value(it), depth + 1);
            if (rc != BUF_OK)
                return rc;
        }
        return buf_append(out, "}", 1);
    }
    }
    return BUF_TOO_BIG; /* not reached: every json_type is handled above */
}

int jsonout_value(buf *out, const json_t *v)
{
    if (v == NULL)
        return JSONOUT_INVALID;
    return put_value(out, v, 0);
}

/* ---- jw: the streaming writer ---- */

void jw_init(jw *w, buf *out)
{
    *w = (jw){.out = out, .err = BUF_OK};
}

/* Whatever precedes a value: the comma after the previous one. False once
 * the writer has failed, so nothing more is written. */
static bool jw__next(jw *w)
{
    if (w->err != BUF_OK)
        return false;
    if (w->comma && buf_append(w->out, ",", 1) != BUF_OK) {
        w->err = BUF_TOO_BIG;
        return false;
    }
    w->comma = true;
    return true;
}

static void jw__put(jw *w, const char *s, size_t n)
{
    if (w->err == BUF_OK && buf_append(w->out, s, n) != BUF_OK)
        w->err = BUF_TOO_BIG;
}

static void jw__open(jw *w, bool object)
{
    if (!jw__next(w))
        return;
    if (w->depth >= JW_MAX_DEPTH) {
        w->err = JSONOUT_INVALID;
        return;
    }
    if (object)
        w->objects |= 1ULL << w->depth;
    else
        w->objects &= ~(1ULL << w->depth);
    w->depth++;
    w->comma = false;
    jw__put(w, object ? "{" : "[", 1);
}

static void jw__close(jw *w, bool object)
{
    if (w->err != BUF_OK)
        return;
    assert(w->depth > 0 && ((w->objects >> (w->depth - 1)) & 1) == (uint64_t)object);
    w->depth--;
    w->comma = true;
    jw__put(w, object ? "}" : "]", 1);
}

void jw_obj_begin(jw *w)
{
    jw__open(w, true);
}

void jw_obj_end(jw *w)
{
    jw__close(w, true);
}

void jw_arr_begin(jw *w)
{
    jw__open(w, false);
}

void jw_arr_end(jw *w)
{
    jw__close(w, false);
}

void jw_keyn(jw *w, const char *key, size_t n)
{
    assert(w->depth > 0 && ((w->objects >> (w->depth - 1)) & 1));
    if (!jw__next(w))
        return;
    if (jsonout_string(w->out, key, n) != BUF_OK || buf_append(w->out, ":", 1) != BUF_OK)
        w->err = BUF_TOO_BIG;
    w->comma = false; /* the value follows the colon */
}

void jw_key(jw *w, const char *key)
{
    jw_keyn(w, key, strlen(key));
}

void jw_null(jw *w)
{
    if (jw__next(w))
        jw__put(w, "null", 4);
}

void jw_strn(jw *w, const char *s, size_t n)
{
    if (s == NULL || !utf8_valid(s, n)) {
        jw_null(w);
        return;
    }
    if (jw__next(w) && jsonout_string(w->out, s, n) != BUF_OK)
        w->err = BUF_TOO_BIG;
}

void jw_str(jw *w, const char *s)
{
    jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_int(jw *w, int64_t v)
{
    if (jw__next(w) && put_integer(w->out, v) != BUF_OK)
        w->err = BUF_TOO_BIG;
}

void jw_real(jw *w, double v)
{
    if (jw__next(w) && put_real(w->out, v, w->real_digits ? w->real_digits : 15) != BUF_OK)
        w->err = BUF_TOO_BIG;
}

void jw_bool(jw *w, bool v)
{
    if (jw__next(w))
        jw__put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_time(jw *w, int64_t usec)
{
    if (usec == 0) {
        jw_null(w);
        return;
    }
    char text[TIME_STR_LEN + 3];
    text[0] = '"';
    time_format(usec, text + 1);
    text[TIME_STR_LEN + 1] = '"';
    if (jw__next(w))
        jw__put(w, text, TIME_STR_LEN + 2);
}

void jw_member_str(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_member_int(jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_member_bool(jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

void jw_member_time(jw *w, const char *key, int64_t usec)
{
    jw_key(w, key);
    jw_time(w, usec);
}

void jw_member_count(jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    if (v < 0)
        jw_null(w);
    else
        jw_int(w, v);
}

void jw_value(jw *w, const json_t *v)
{
    if (v == NULL) {
        w->err = w->err == BUF_OK ? JSONOUT_INVALID : w->err;
        return;
    }
    if (!jw__next(w))
        return;
    int rc = put_value(w->out, v, w->depth);
    if (rc != BUF_OK)
        w->err = rc;
}

int jw_error(const jw *w)
{
    if (w->err != BUF_OK)
        return w->err;
    return w->depth == 0 ? BUF_OK : JSONOUT_INVALID;
}

/* ---- plain arrays of strings ---- */

static const char *plain__ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The end of the string that starts after its opening quote at p: the
 * closing quote, or NULL when an escape, a control byte or the end of the
 * text comes first, or the bytes are not UTF-8. */
static const char *plain__string_end(const char *p)
{
    const char *s = p;
    while (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return *p == '"' && utf8_valid(s, (size_t)(p - s)) ? p : NULL;
}

bool json_plain_strings(arena *a, const char *text, const char ***out, size_t *n)
{
    if (text == NULL)
        return false;
    /* First pass: the shape, and how many strings. */
    const char *p = plain__ws(text);
    if (*p++ != '[')
        return false;
    p = plain__ws(p);
    size_t count = 0;
    if (*p != ']') {
        for (;;) {
            if (*p != '"' || (p = plain__string_end(p + 1)) == NULL)
                return false;
            count++;
            p = plain__ws(p + 1);
            if (*p == ']')
                break;
            if (*p != ',')
                return false;
            p = plain__ws(p + 1);
        }
    }
    if (*plain__ws(p + 1) != '\0')
        return false;
    /* Second pass: copy them out. */
    const char **items = count ? arena_alloc(a, count * sizeof(*items)) : NULL;
    p = text;
    for (size_t i = 0; i < count; i++) {
        const char *start = strchr(p, '"') + 1;
        const char *end = strchr(start, '"');
        items[i] = arena_strndup(a, start, (size_t)(end - start));
        p = end + 1;
    }
    *out = items;
    *n = count;
    return true;
}
