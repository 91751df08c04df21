/*
 * jsonout: compact JSON text from jansson values, in one pass into a buf.
 *
 * The output is byte for byte what json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) gives, which a test checks on
 * random trees. It exists because json_dumps was most of the server's CPU on
 * list responses (docs/benchmarks.md): jansson decodes every string one code
 * point at a time and calls back per segment, where this copies each run of
 * bytes that needs no escape with one append. jansson already refuses
 * invalid UTF-8 when a string is made, so nothing here checks it again.
 *
 * json_escape is the escaper alone, shared with the log (log.h). json_str
 * makes the string values in the first place, checking UTF-8 a word at a
 * time where jansson's json_string goes a code point at a time.
 *
 * jw writes a document straight from C values, with no tree at all: the
 * responses that list rows (channels, projects, scenes) are written field by
 * field from the rows the stores read, because building a jansson tree for
 * them cost more than the rest of the request (docs/benchmarks.md). Its
 * output is what jsonout_value gives for the equivalent tree, which a test
 * checks on random trees.
 */
#ifndef PS_BASE_JSONOUT_H
#define PS_BASE_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/text.h" /* utf8_valid */

/* Containers nested deeper than this are refused (jansson has the same cap). */
#define JSONOUT_MAX_DEPTH 2048

#define JSONOUT_INVALID (-2) /* a NULL value, or nesting past JSONOUT_MAX_DEPTH */

/** json_string() without its per-code-point check: the same answer (NULL
 * for NULL or invalid UTF-8, which would otherwise poison the response), but
 * the check runs eight ASCII bytes at a time. For strings read back from the
 * database, which make up most of every response. */
json_t *json_str(const char *s);

/** Appends v as compact JSON. BUF_OK, BUF_TOO_BIG, or JSONOUT_INVALID; on an
 * error the buffer holds a partial text the caller must discard. */
int jsonout_value(buf *out, const json_t *v);
/** Appends the n bytes at s as a quoted JSON string. */
int jsonout_string(buf *out, const char *s, size_t n);
/** Appends the n bytes at s escaped for the inside of a JSON string. */
int json_escape(buf *out, const char *s, size_t n);

/**
 * Reads text as a JSON array of strings when it has the plain form stored
 * values almost always have: strings without escapes or control bytes, and
 * valid UTF-8 ("[]", ["a","b"], PostgreSQL's ["a", "b"]). Fills *out (in
 * a, NULL when empty) and *n and returns true; returns false, touching
 * nothing, for any other text, which the caller then gives to jansson. The
 * strings are what json_loads would give (a test compares the two).
 */
struct arena;
bool json_plain_strings(struct arena *a, const char *text, const char ***out, size_t *n);

/* A streaming writer. Calls nest as the document does: jw_key then one
 * value inside an object, values alone inside an array. The first failure
 * (the buffer's cap) sticks: later calls write nothing, and jw_error() says
 * what it was. Misuse (a key outside an object, an end without a begin) is
 * a programming error, caught by assertions. */
typedef struct jw {
    buf *out;
    int err;   /* BUF_OK, or the first failure */
    int depth; /* open containers */
    bool comma;
    /* bit d set: the container at depth d is an object */
    uint64_t objects;
    int real_digits; /* significant digits of jw_real: 1-17; 0 (jw_init's) means 15 */
} jw;

#define JW_MAX_DEPTH 64

void jw_init(jw *w, buf *out);
void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);
/** A member name; escaped like any string. */
void jw_key(jw *w, const char *key);
void jw_keyn(jw *w, const char *key, size_t n);
/** A string; NULL writes null. Text that is not valid UTF-8 also writes
 * null (and logs nothing: the caller knows its source), never a broken
 * document. */
void jw_str(jw *w, const char *s);
void jw_strn(jw *w, const char *s, size_t n);
void jw_int(jw *w, int64_t v);
/** A real as jansson writes it with real_digits (15) significant digits. */
void jw_real(jw *w, double v);
void jw_bool(jw *w, bool v);
void jw_null(jw *w);
/** A time as RFC 3339 UTC with microseconds; 0 writes null. */
void jw_time(jw *w, int64_t usec);
/* A member in one call: jw_key(w, key), then the value. */
void jw_member_str(jw *w, const char *key, const char *s);
void jw_member_int(jw *w, const char *key, int64_t v);
void jw_member_bool(jw *w, const char *key, bool v);
void jw_member_time(jw *w, const char *key, int64_t usec);
/** An integer member that is null when the value is negative (unknown). */
void jw_member_count(jw *w, const char *key, int64_t v);
/** A jansson value, for the parts of a document that are trees already. */
void jw_value(jw *w, const json_t *v);
/** BUF_OK, BUF_TOO_BIG or JSONOUT_INVALID; also JSONOUT_INVALID while a
 * container is still open. */
int jw_error(const jw *w);

#endif
