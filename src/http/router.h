/*
 * router: private to http/. Maps a method and a raw request target onto the
 * route table given at start. Patterns are split into segments once; a
 * request is split and percent-decoded once, then compared segment by segment
 * against every route (a linear scan: the table holds tens of routes). Also
 * decodes query strings, which share the percent-decoding rules.
 */
#ifndef PS_HTTP_ROUTER_H
#define PS_HTTP_ROUTER_H

#include "http/http.h"

typedef struct http_router http_router;

typedef enum http_match_result {
    HTTP_MATCH_OK,
    HTTP_MATCH_BAD_PATH,  /* 400: not origin-form, bad escape, or a NUL byte */
    HTTP_MATCH_NO_PATH,   /* 404 */
    HTTP_MATCH_NO_METHOD, /* 405: see allow */
} http_match_result;

/* Parallel name/value arrays, allocated from the request arena. */
typedef struct http_pairs {
    const char **names;
    const char **values;
    size_t n;
} http_pairs;

typedef struct http_match {
    http_match_result result;
    int route;         /* index into the table when OK, else -1 */
    http_pairs params; /* {name} captures when OK */
    const char *allow; /* "GET, POST" when NO_METHOD */
} http_match;

/** Validates and compiles the table; NULL and ERR_CONFIG naming the bad route on failure. */
http_router *http_router_new(const http_route *routes, size_t n, error *err);
void http_router_free(http_router *rt);
/**
 * Matches path (len bytes, no query) for method. Where several routes match,
 * the one with a literal segment earliest wins, so "/personas/new" beats
 * "/personas/{id}" whatever the table order. HEAD falls back to GET.
 */
void http_router_match(const http_router *rt, arena *a, const char *method, const char *path,
                       size_t len, http_match *m);
/** Splits and decodes "a=1&b=x+y" ('+' is a space); -1 on a malformed escape or NUL. */
int http_router_parse_query(arena *a, const char *query, http_pairs *out);
/** The value of the first pair named name, or NULL. */
const char *http_pairs_get(const http_pairs *p, const char *name);

#endif
