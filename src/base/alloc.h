/*
 * Allocation that never returns NULL. Out-of-memory aborts the process in one
 * place, so no caller checks malloc (the Redis zmalloc rule). Everything that
 * may legitimately fail for size reasons uses a capped buffer (buf.h) instead.
 */
#ifndef PS_BASE_ALLOC_H
#define PS_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
