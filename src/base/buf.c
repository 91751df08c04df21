#include "base/buf.h"

#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void buf_reserve(buf *b, size_t n)
{
    if (n > b->cap)
        n = b->cap;
    if (n + 1 > b->alloc) {
        b->data = xrealloc(b->data, n + 1);
        if (b->alloc == 0)
            b->data[0] = '\0';
        b->alloc = n + 1;
    }
}

int buf_append(buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len)
        return BUF_TOO_BIG;
    if (b->len + n + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < b->len + n + 1)
            want *= 2;
        if (want > b->cap + 1)
            want = b->cap + 1;
        b->data = xrealloc(b->data, want);
        b->alloc = want;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BUF_OK;
}

int buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return BUF_TOO_BIG;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    char *big = xmalloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    int rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *buf_cstr(const buf *b)
{
    return b->data ? b->data : "";
}
