/*
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter and
 * random bits. Keys made in one process are strictly increasing even within
 * one millisecond, which keeps B-tree inserts local and makes the id a
 * natural pagination cursor.
 */
#ifndef PS_BASE_UUID_H
#define PS_BASE_UUID_H

#include <stdbool.h>

#define UUID_STR_LEN 36 /* without the NUL */

/** Writes a new UUIDv7 as 36 lowercase characters plus NUL. Thread-safe. */
void uuid_v7(char out[UUID_STR_LEN + 1]);
/** True when s is a canonical UUID text (8-4-4-4-12 hex, any version). */
bool uuid_is_valid(const char *s);

#endif
