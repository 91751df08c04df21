/*
 * http: the HTTP server every API handler is written against. It runs
 * libmicrohttpd in thread-pool mode behind a small router of our own, and owns
 * everything a handler should not have to think about: reading the body under
 * a size cap, the request id, one arena per request, security headers, the
 * access log, Prometheus metrics, RFC 9457 problem documents for every failure
 * it produces itself, and a graceful shutdown that lets in-flight requests
 * finish. A handler reads the request through the accessors below and sets
 * exactly one reply; everything it allocates comes from http_arena().
 */
#ifndef PS_HTTP_HTTP_H
#define PS_HTTP_HTTP_H

#include "base/arena.h"
#include "base/error.h"
#include "base/jsonout.h"
#include "http/problem.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* One request being served; only valid inside the handler it is given to. */
typedef struct http_request http_request;
typedef void (*http_handler)(http_request *req);

/*
 * A route: method, pattern and handler. Pattern segments are literal or
 * `{name}`, which captures one non-empty segment, e.g.
 * "/api/v1/personas/{id}/history/{version}". `name` labels the route in
 * metrics and the access log ("personas.get"). The strings must outlive the
 * server (string literals, in practice).
 */
typedef struct http_route {
    const char *method;
    const char *pattern;
    http_handler handler;
    const char *name;
} http_route;

typedef struct http_server_config {
    const char *bind_addr;      /* numeric IPv4 or IPv6; NULL means "127.0.0.1" */
    int port;                   /* 0 picks a free port (tests); see http_server_port() */
    int threads;                /* MHD thread pool size; <= 0 means 4 */
    size_t max_body;            /* request body cap in bytes (413 past it); 0 means 1 MiB */
    int shutdown_timeout_ms;    /* graceful shutdown wait for in-flight requests; <= 0 means 10 s */
    int max_connections_per_ip; /* open connections one peer address may hold; 0: no limit */
    int first_request_timeout_s; /* a new connection idle this long before its first request's
                                    headers are in is closed; <= 0 means 10 s */
    bool hsts;                   /* send Strict-Transport-Security (served behind HTTPS) */
    /* /metrics: NULL serves it to loopback peers only; otherwise to requests
     * with "Authorization: Bearer <token>", from any address. Not copied. */
    const char *metrics_token;
    /* PSTUDIO_TRUSTED_PROXIES (comma-separated CIDRs; NULL or "": none) and
     * PSTUDIO_PROXY_HEADER ("x-forwarded-for", the default, or "forwarded"):
     * see http/proxy.h. A bad list fails the start with ERR_CONFIG. */
    const char *trusted_proxies;
    const char *proxy_header;
    struct db *db; /* may be NULL (tests); /readyz then reports not ready */
    void *app;     /* opaque, handed to handlers via http_app() */
} http_server_config;

typedef struct http_server http_server;

/* The always-present operational routes: GET /healthz, /readyz, /metrics. */
extern const http_route http_ops_routes[];
extern const size_t http_ops_routes_count;

/**
 * Starts serving `routes` (copied; their strings are not). Returns NULL and
 * fills err on failure: ERR_CONFIG with field "PSTUDIO_PORT" when the address
 * cannot be bound (in use, not local, no permission), "PSTUDIO_BIND"
 * when the address is not numeric, no field for a malformed route table.
 */
http_server *http_server_start(const http_server_config *cfg, const http_route *routes,
                               size_t nroutes, error *err);
/** The port actually bound, which differs from the configured one when that was 0. */
int http_server_port(const http_server *s);
/**
 * Stops accepting connections, waits up to shutdown_timeout_ms for requests
 * already received to be answered, then stops the daemon and frees s.
 */
void http_server_stop(http_server *s);

/* Request accessors. Returned strings live as long as the request. */

/** The per-request arena, released after the response has been sent. */
arena *http_arena(http_request *r);
const char *http_method(http_request *r);
/** The path as the client sent it (still percent-encoded), without the query. */
const char *http_path(http_request *r);
/** The percent-decoded value captured by `{name}`; NULL when the route has no such segment. */
const char *http_param(http_request *r, const char *name);
/** The first decoded value of a query parameter ("" for `?flag`); NULL when absent. */
const char *http_query(http_request *r, const char *name);
/** The name of the i-th query parameter, or NULL past the last (for allow-lists). */
const char *http_query_name(http_request *r, size_t i);
/**
 * The client's address as text ("127.0.0.1", "::1"): the TCP peer, or,
 * when the peer is one of the trusted proxies, the right-most untrusted
 * address of the forwarding header (http/proxy.h). What the log-in limiter
 * and the access log key on.
 */
const char *http_client_ip(http_request *r);
/** http_client_ip into the caller's buffer (at least 46 bytes); returns out. */
const char *http_client_ip_into(http_request *r, char *out, size_t n);
/** Whether http_client_ip came from a trusted proxy's header. */
bool http_client_forwarded(http_request *r);
/** Whether the client (as http_client_ip) is a loopback address. */
bool http_client_is_loopback(http_request *r);
struct sockaddr;
/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8; false for NULL. */
bool http_addr_is_loopback(const struct sockaddr *sa);
/** A request header, name matched case-insensitively; NULL when absent. */
const char *http_header(http_request *r, const char *name);
/** The whole body, NUL-terminated ("" when there is none); len may be NULL. */
const char *http_body(http_request *r, size_t *len);
/** The client's valid X-Request-Id or a fresh UUIDv7; also on every log line of the handler. */
const char *http_request_id(http_request *r);
void *http_app(http_request *r);
/** One pointer of per-request state for the layer above (api.c); NULL at first. */
void **http_locals(http_request *r);
/**
 * Runs fn(arg) when the handler returns, before the response is sent, newest
 * first: for what a request holds that is not arena memory (a borrowed
 * database connection, a JSON document).
 */
void http_defer(http_request *r, void (*fn)(void *arg), void *arg);
struct db *http_db(http_request *r);

/*
 * Responses. A request gets exactly one reply: the first one set wins and a
 * later one is logged and dropped; a handler that sets none gets a 500
 * problem. Bodies are copied, so the caller may free its own.
 */

/** Adds a response header (before or after the reply is set). CR/LF is refused. */
void http_set_header(http_request *r, const char *name, const char *value);
void http_reply(http_request *r, int status, const char *content_type, const char *body,
                size_t len);
/** Replies with body dumped compactly; steals the reference. NULL body gives a 500. */
void http_reply_json(http_request *r, int status, json_t *body);

/**
 * Replies with len bytes of the open file fd from offset, read as they are
 * sent (nothing is copied into memory); the server closes fd, also when
 * the reply is dropped.
 */
void http_reply_fd(http_request *r, int status, const char *content_type, int fd, uint64_t offset,
                   uint64_t len);

/* A JSON reply written field by field with base/jsonout.h's jw, without a
 * tree: http_json_begin, jw calls on .w, then http_reply_written, which
 * hands the text to the server without a copy (or answers 500 when the
 * writer failed, and frees it either way). */
typedef struct http_json {
    buf text;
    jw w;
} http_json;
void http_json_begin(http_json *j);
void http_reply_written(http_request *r, int status, http_json *j);
/** True once a reply has been set, so a filter can tell whether to go on. */
bool http_has_reply(http_request *r);

/*
 * Streamed replies (server-sent events and the like). The body is produced
 * over time by a step function the server calls on one of its threads,
 * never concurrently for one stream. Between steps that have nothing to
 * say the connection is parked (suspended), so a waiting stream holds no
 * thread. Shutdown calls the step once more with stopping set; it must
 * end the stream then, which keeps a graceful stop within one step.
 */
typedef enum http_stream_step {
    HTTP_STREAM_MORE, /* appended output; call again as soon as it is sent */
    HTTP_STREAM_WAIT, /* nothing now (output appended so far is still sent); call again later */
    HTTP_STREAM_END,  /* send what was appended, then end the body */
} http_stream_step;

/** Appends what is ready to out (a base/buf.h buffer capped at 1 MiB); must not block for long. */
struct buf;
typedef http_stream_step (*http_stream_fn)(void *ctx, struct buf *out, bool stopping);

/**
 * Replies with status and a body produced by fn (sent chunked), calling fn
 * at once and then at most every poll_ms while it says WAIT. ctx belongs
 * to the stream: free_ctx(ctx) runs when the stream ends or the client
 * goes (noticed at once, even while the stream waits), after the request's
 * arena is gone, so ctx must not point into it. A server holds at most 256
 * streams (past that: 503 "unavailable", Retry-After: 30), and an owner
 * (say a user id; NULL for none) at most owner_max when it is > 0 (past
 * that: 429 "too-many-streams", Retry-After: 10); a refused stream's ctx
 * is freed at once.
 */
void http_reply_stream(http_request *r, int status, const char *content_type, int poll_ms,
                       const char *owner, int owner_max, http_stream_fn fn,
                       void (*free_ctx)(void *ctx), void *ctx);

/**
 * Replies application/problem+json with type "/problems/<type_slug>", the
 * request path as instance and the request id.
 */
void http_reply_problem(http_request *r, int status, const char *type_slug, const char *title,
                        const char *detail);
/** Replies with doc (consumed), a problem object from http_problem_json plus any members. */
void http_reply_problem_doc(http_request *r, int status, json_t *doc);
/**
 * Replies with the problem matching e->kind: INVALID 422 invalid-request,
 * NOT_FOUND 404 not-found, CONFLICT 409 conflict, CONSTRAINT 422
 * constraint-violation, TOO_LARGE 413 payload-too-large, UNAVAILABLE 503
 * unavailable, CONFIG and INTERNAL 500 internal. e->field becomes the "field"
 * member. The message of a 500 is logged, not sent: it may hold SQL or paths.
 */
void http_reply_error(http_request *r, const error *e);
#endif
