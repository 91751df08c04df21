/*
 * metrics: private to http/. The server's Prometheus figures: requests by
 * route name and status code, a latency histogram by route, the number of
 * requests in flight, and the database pool figures read at scrape time.
 * Storage is sized once from the route table (route names are the only label
 * values besides status codes), so recording never allocates; one mutex
 * guards it, which costs nothing next to a request. The in-flight count is
 * also what graceful shutdown waits on.
 */
#ifndef PS_HTTP_METRICS_H
#define PS_HTTP_METRICS_H

#include "base/buf.h"
#include "http/http.h"

typedef struct http_metrics http_metrics;

/** Sizes storage for the distinct names of routes, plus "unmatched". */
http_metrics *http_metrics_new(const http_route *routes, size_t n);
void http_metrics_free(http_metrics *m);
/** A request line arrived: it is in flight until http_metrics_request_done(). */
void http_metrics_request_begin(http_metrics *m);
/**
 * The request is over. When answered, it counts under route (an index into
 * the table, or -1 for "unmatched") and status; otherwise (the client went
 * away first, or microhttpd answered it) it only leaves the in-flight gauge.
 */
void http_metrics_request_done(http_metrics *m, int route, bool answered, int status,
                               double seconds);
int http_metrics_in_flight(http_metrics *m);
/** Appends the Prometheus text format 0.0.4 exposition; pool may be NULL. */
void http_metrics_render(http_metrics *m, struct db *pool, buf *out);

struct auth_cache;
/** Appends the auth cache's figures (services/auth_cache.h); NULL: the cache is off. */
void http_metrics_render_auth_cache(struct auth_cache *cache, buf *out);

/** The metrics of the server serving r (implemented by server.c). */
http_metrics *http_request_metrics(http_request *r);
/** The server's metrics token (http_server_config), or NULL (implemented by server.c). */
const char *http_request_metrics_token(http_request *r);

#define HTTP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
