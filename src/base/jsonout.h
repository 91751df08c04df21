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
 */
#ifndef PS_BASE_JSONOUT_H
#define PS_BASE_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* Containers nested deeper than this are refused (jansson has the same cap). */
#define JSONOUT_MAX_DEPTH 2048

#define JSONOUT_INVALID (-2) /* a NULL value, or nesting past JSONOUT_MAX_DEPTH */

/** json_string() without its per-code-point check: the same answer (NULL
 * for NULL or invalid UTF-8, which would otherwise poison the response), but
 * the check runs eight ASCII bytes at a time. For strings read back from the
 * database, which make up most of every response. */
json_t *json_str(const char *s);
/** Whether the n bytes at s are valid UTF-8 (no overlongs, no surrogates,
 * nothing past U+10FFFF): what jansson accepts. */
bool utf8_valid(const char *s, size_t n);

/** Appends v as compact JSON. BUF_OK, BUF_TOO_BIG, or JSONOUT_INVALID; on an
 * error the buffer holds a partial text the caller must discard. */
int jsonout_value(buf *out, const json_t *v);
/** Appends the n bytes at s as a quoted JSON string. */
int jsonout_string(buf *out, const char *s, size_t n);
/** Appends the n bytes at s escaped for the inside of a JSON string. */
int json_escape(buf *out, const char *s, size_t n);

#endif
