/*
 * buf: a growing byte buffer with a hard cap fixed at creation (curl's dynbuf
 * with "toobig"). Anything that accumulates outside input (request bodies,
 * provider responses, headers) goes through one, so growth past the cap is a
 * clear error instead of unbounded memory. The bytes are always NUL-terminated.
 */
#ifndef PS_BASE_BUF_H
#define PS_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* len never exceeds this */
} buf;

#define BUF_OK      0
#define BUF_TOO_BIG (-1)

void buf_init(buf *b, size_t cap);
void buf_free(buf *b);
void buf_reset(buf *b);
/** Allocates room for n bytes (at most cap) now, so that appending them
 * later moves nothing. */
void buf_reserve(buf *b, size_t n);
/** Appends n bytes; BUF_TOO_BIG (and nothing appended) when len would pass cap. */
int buf_append(buf *b, const void *p, size_t n);
int buf_puts(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/** Returns the content as a C string ("" when empty); valid until the next append. */
const char *buf_cstr(const buf *b);

#endif
