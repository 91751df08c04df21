/*
 * text: fixed-size buffers for text that users write and the database keeps.
 *
 * Limits are counted in characters (code points), the way the API's
 * validation and the schema's length() CHECKs count them on both engines. A
 * buffer that holds such a value is UTF8_BUF(limit) bytes, room for the
 * limit in 4-byte characters, so every value that passes validation fits
 * whole. Copies into a buffer go through text_copy, which refuses a value
 * that does not fit instead of cutting it: a cut value would be shorter than
 * what was stored, or not UTF-8 at all when the cut falls inside a
 * character. utf8_cut and utf8_prefix are for the few texts that may be
 * shortened on purpose (a user agent, a message, a default name); they never
 * end inside a character.
 */
#ifndef PS_BASE_TEXT_H
#define PS_BASE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes for a value of at most nchars characters of UTF-8, with its NUL. */
#define UTF8_BUF(nchars) ((nchars)*4 + 1)

/**
 * Copies src (NULL as "") into dst of size bytes. Returns 0, or -1 when src
 * needs more than size bytes with its NUL; dst is then "", never a prefix.
 */
int text_copy(char *dst, size_t size, const char *src);
/** Whether the n bytes at s are valid UTF-8 (no overlongs, no surrogates,
 * nothing past U+10FFFF): what jansson accepts. */
bool utf8_valid(const char *s, size_t n);
/** The number of characters in s: bytes that do not continue a UTF-8 sequence. */
size_t utf8_chars(const char *s);
/** n, less the bytes of a character cut off at the end of the n bytes at s:
 * how much of a text shortened to n bytes to keep. */
size_t utf8_cut(const char *s, size_t n);
/** The bytes of the first nchars characters of s (all of s when shorter). */
size_t utf8_prefix(const char *s, size_t nchars);

#endif
