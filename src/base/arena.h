/*
 * Arena: a region allocator with one owner. A request or a job gets one arena;
 * everything it allocates comes from it and is released together by
 * arena_free(). Handlers never free individual objects (the h2o pool rule).
 * An arena is not thread-safe: it belongs to the one thread serving its owner.
 */
#ifndef PS_BASE_ARENA_H
#define PS_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head; /* newest block first */
    size_t block_size; /* default size of a new block */
    size_t total;      /* bytes handed out, for metrics and tests */
} arena;

/** Prepares an empty arena; the first allocation creates its first block. */
void arena_init(arena *a, size_t block_size);
/** Releases every block. The arena may be reused after arena_init(). */
void arena_free(arena *a);
/** Returns n bytes aligned for any type; never NULL. */
void *arena_alloc(arena *a, size_t n);
/** Same as arena_alloc, zero-filled. */
void *arena_calloc(arena *a, size_t n);
/**
 * A new array of cap elements of size bytes holding a copy of old's first
 * used ones (old may be NULL when used is 0): how an arena array grows.
 * The old array stays in the arena until it is freed.
 */
void *arena_grow(arena *a, const void *old, size_t used, size_t cap, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_sprintf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
