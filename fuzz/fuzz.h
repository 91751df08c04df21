/*
 * What the fuzz drivers share: each driver is one LLVMFuzzerTestOneInput
 * that gives the input to one parser, with a fresh arena per input (h2o's
 * fuzz/driver_url.cc pattern) so nothing outlives the input it came from.
 */
#ifndef PS_FUZZ_FUZZ_H
#define PS_FUZZ_FUZZ_H

#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the parser's output; checked in every build type (assert
 * is off in RelWithDebInfo, which the replays use). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string in a (an HTTP body as buf_cstr gives it). */
static inline char *fuzz_cstr(arena *a, const uint8_t *data, size_t size)
{
    char *s = arena_alloc(a, size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Takes the first byte of the input as a selector (0 when empty). */
static inline unsigned fuzz_take_byte(const uint8_t **data, size_t *size)
{
    if (*size == 0)
        return 0;
    unsigned b = (*data)[0];
    (*data)++;
    (*size)--;
    return b;
}

#endif
