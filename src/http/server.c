/*
 * The libmicrohttpd side of http.h. One request moves through three
 * callbacks on one pool thread:
 *   on_uri        the request line arrived: allocate the request (arena,
 *                 body buffer), start its clock, count it in flight;
 *   on_access     first call: headers are in, so route it and decide any
 *                 early answer (404, 405, 413 by Content-Length...); later
 *                 calls: accumulate the body under the cap; last call: run
 *                 the handler and queue its reply;
 *   on_completed  the response is out (or the client left): access log,
 *                 metrics, free everything.
 * The request path is taken from the raw URI given to on_uri, never from
 * the url MHD hands to on_access: MHD has already decoded that one, which
 * would turn "%2F" into a segment separator.
 */
#include "http/http.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/uuid.h"
#include "http/metrics.h"
#include "http/proxy.h"
#include "http/router.h"
#include "http/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_LEN       2048
#define REQUEST_ID_MAX_LEN 64
/* libmicrohttpd's per-connection pool: the request line and headers must
 * fit (16 KB, as Node.js allows; larger gets libmicrohttpd's 431 or 414).
 * It is zeroed after every request, so its size is memory traffic on every
 * request: 64 KB cost 5-9 % of the throughput of a small list
 * (docs/benchmarks.md). */
#define CONN_MEMORY_LIMIT (16 * 1024)
/* Once its first request has begun, a connection is closed after this long
 * without activity; before that, after first_request_timeout_s. */
#define CONN_TIMEOUT_S                  30
#define CONN_LIMIT                      1024
#define DEFAULT_FIRST_REQUEST_TIMEOUT_S 10
#define DEFAULT_THREADS                 4
#define DEFAULT_MAX_BODY                (1024 * 1024)
#define DEFAULT_SHUTDOWN_MS             10000
/* Past the cap, a chunked body is read and dropped so that the 413 can be
 * sent at its end; a client still sending after this much more is cut off. */
#define DISCARD_LIMIT (8u * 1024 * 1024)

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_config cfg;
    http_route *routes;
    size_t nroutes;
    http_router *router;
    http_metrics *metrics;
    http_streams *streams; /* http_reply_stream's parked connections */
    http_proxies proxies;  /* PSTUDIO_TRUSTED_PROXIES; n == 0: the peer is the client */
    int port;
    /* Stopping: set once by http_server_stop; requests that begin after it
     * are answered 503. `active` counts the requests whose handlers may
     * run, which is what a stop waits for. */
    atomic_bool stopping;
    atomic_int active;
};

typedef struct reply_header {
    const char *name;
    const char *value;
    struct reply_header *next;
} reply_header;

typedef struct deferred {
    void (*fn)(void *arg);
    void *arg;
    struct deferred *next;
} deferred;

struct http_request {
    http_server *srv;
    deferred *defers; /* run, newest first, when the handler returns */
    void *locals;     /* the API layer's per-request state (http_locals) */
    struct MHD_Connection *conn;
    arena arena;
    int64_t start_usec;
    bool begun;           /* on_access has seen the headers */
    bool counted;         /* in srv->active */
    bool framing_refused; /* answered at once, and the connection closed */
    const char *raw_uri;
    const char *method;
    const char *path; /* raw, without the query */
    http_pairs query;
    http_match match;
    char request_id[REQUEST_ID_MAX_LEN + 1];
    buf body;
    size_t discarded; /* body bytes dropped after the answer was decided */
    /* The reply: set once by http_reply, sent by queue_reply. */
    int status; /* 0: none yet */
    const char *content_type;
    struct MHD_Response *response;
    size_t reply_len;
    reply_header *headers;
    bool headers_added; /* to r->response, which a refused queue attempt keeps */
    bool queued;
    /* Who sent it (request_client): the TCP peer, or the address a trusted
     * proxy forwarded; resolved on first use. */
    bool client_known;
    bool client_forwarded;
    http_ip peer, client;
};

static bool valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > REQUEST_ID_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool has_reply_header(const http_request *r, const char *name)
{
    for (const reply_header *h = r->headers; h; h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return true;
    return false;
}

static bool is_json_type(const char *ct)
{
    return ct != NULL && (strncmp(ct, "application/json", 16) == 0 ||
                          strncmp(ct, "application/problem+json", 24) == 0);
}

/* On every answer unless the handler set its own. The API serves no HTML
 * and nothing meant for a frame, so the policy forbids everything: a
 * response rendered by mistake (an error page, a JSON string that looks
 * like markup) can load nothing and be framed by no one. X-Frame-Options
 * is for browsers that predate frame-ancestors. */
static const struct {
    const char *name, *value;
} SECURITY_HEADERS[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};
/* A year, the usual HSTS preload minimum; no includeSubDomains, which
 * would bind hosts of the operator's domain that are not ours. */
#define HSTS_VALUE "max-age=31536000"

/* Adds the headers every answer carries, then queues it. False when MHD
 * refuses, which happens while it is still reading a body: the caller then
 * retries from the final access call. */
static bool queue_reply(http_request *r)
{
    if (r->queued)
        return true;
    struct MHD_Response *resp = r->response;
    if (!r->headers_added) {
        for (const reply_header *h = r->headers; h; h = h->next)
            MHD_add_response_header(resp, h->name, h->value);
        if (r->content_type && !has_reply_header(r, "Content-Type"))
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
        MHD_add_response_header(resp, "X-Request-Id", r->request_id);
        for (size_t i = 0; i < sizeof(SECURITY_HEADERS) / sizeof(SECURITY_HEADERS[0]); i++)
            if (!has_reply_header(r, SECURITY_HEADERS[i].name))
                MHD_add_response_header(resp, SECURITY_HEADERS[i].name, SECURITY_HEADERS[i].value);
        if (r->srv->cfg.hsts && !has_reply_header(r, "Strict-Transport-Security"))
            MHD_add_response_header(resp, "Strict-Transport-Security", HSTS_VALUE);
        if (is_json_type(r->content_type) && !has_reply_header(r, "Cache-Control"))
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        r->headers_added = true;
    }
    r->queued = MHD_queue_response(r->conn, (unsigned int)r->status, resp) == MHD_YES;
    return r->queued;
}

static void reply_too_large(http_request *r)
{
    http_reply_problem(r, 413, "payload-too-large", "Payload too large",
                       arena_sprintf(&r->arena,
                                     "The request body is larger than the limit of %zu bytes.",
                                     r->srv->cfg.max_body));
}

/* What the headers say about where the body ends, gathered over every
 * header line (libmicrohttpd's lookups only see the first of a name). */
typedef struct framing {
    int content_lengths;    /* Content-Length lines */
    const char *first_cl;   /* the value of the first one */
    bool lengths_differ;    /* a later Content-Length says something else */
    int transfer_encodings; /* Transfer-Encoding lines */
    int codings;            /* transfer codings listed, over all of them */
    int chunked;            /* how many of those are "chunked" */
    bool chunked_last;      /* the last one listed is "chunked" */
    bool bad_name;          /* a header name that is not an RFC 9110 token */
} framing;

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Adds the codings of one Transfer-Encoding value ("gzip, chunked"): a
 * comma-separated list whose empty elements do not count (RFC 9110 5.6.1). */
static void framing_codings(framing *f, const char *v)
{
    while (*v != '\0') {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *start = v;
        while (*v != '\0' && *v != ',')
            v++;
        const char *end = v;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end == start)
            continue;
        f->codings++;
        f->chunked_last = (size_t)(end - start) == 7 && strncasecmp(start, "chunked", 7) == 0;
        if (f->chunked_last)
            f->chunked++;
    }
}

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    framing *f = cls;
    (void)kind;
    if (value == NULL) /* MHD gives "" for an empty value; never NULL in 0.9.75 */
        value = "";
    if (key[0] == '\0')
        f->bad_name = true;
    for (const char *k = key; *k; k++)
        if (!is_tchar((unsigned char)*k))
            f->bad_name = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->content_lengths++ == 0)
            f->first_cl = value;
        else if (strcmp(value, f->first_cl) != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        framing_codings(f, value);
    }
    return MHD_YES;
}

/*
 * Refuses a request whose body could be framed two ways (RFC 9112 section
 * 6.3), so that a proxy in front and this server can never disagree on
 * where it ends (request smuggling). libmicrohttpd 0.9.75 frames by the
 * first Content-Length line and lets Transfer-Encoding win over it; it
 * reads any coding but a lone "chunked" as "until the client closes", and
 * it ignores a header whose name has a space before the colon, which a
 * proxy may read as Content-Length. Each of these is answered here and the
 * connection closed: what follows on it cannot be trusted to be a request.
 * A malformed Content-Length value (-1, +5, "5, 5") never reaches us:
 * libmicrohttpd answers it with its own 400 and closes.
 */
static bool framing_refused(http_request *r, const char *version)
{
    framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_header, &f);
    int status = 400;
    const char *detail = NULL;
    if (f.bad_name)
        detail = "A header name holds a character that is not allowed there (a space before "
                 "the colon, for one); send each header as Name: value.";
    else if (f.transfer_encodings > 0 && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        detail = "Transfer-Encoding is not defined for HTTP/1.0; send Content-Length instead.";
    else if (f.transfer_encodings > 0 && f.content_lengths > 0)
        detail = "The request has both Content-Length and Transfer-Encoding, which frame the "
                 "body in two ways; send one of them.";
    else if (f.lengths_differ)
        detail = "The request has several Content-Length headers that disagree; send one.";
    else if (f.transfer_encodings > 0 && (!f.chunked_last || f.chunked != 1))
        detail = "Transfer-Encoding must end with chunked, listed once (RFC 9112 section 6.1); "
                 "or send Content-Length instead.";
    else if (f.transfer_encodings > 0 && f.codings > 1) {
        status = 501;
        detail = "The only transfer coding this server reads is chunked; send the body "
                 "uncompressed.";
    }
    if (detail == NULL)
        return false;
    http_set_header(r, "Connection", "close");
    if (status == 501)
        http_reply_problem(r, 501, "not-implemented", "Not implemented", detail);
    else
        http_reply_problem(r, 400, "bad-framing", "Bad request framing", detail);
    return true;
}

/* A connection's first request has its headers in: from now on the
 * connection waits as long as any other (see on_connection). */
static void connection_in_use(http_request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
    if (ci != NULL && ci->connection_timeout != CONN_TIMEOUT_S)
        MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned int)CONN_TIMEOUT_S);
}

/* Everything decidable from the request line and headers alone. */
static void begin_request(http_request *r, const char *method, const char *version)
{
    http_server *s = r->srv;
    r->begun = true;
    connection_in_use(r);
    r->method = arena_strdup(&r->arena, method);
    const char *rid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid != NULL && valid_request_id(rid))
        snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
    else
        uuid_v7(r->request_id);

    const char *q = strchr(r->raw_uri, '?');
    size_t plen = q ? (size_t)(q - r->raw_uri) : strlen(r->raw_uri);
    r->path = arena_strndup(&r->arena, r->raw_uri, plen);
    if (framing_refused(r, version)) {
        r->framing_refused = true;
        return;
    }
    /* Counted first, then the flag read: a stop that sets the flag and then
     * sees no active request cannot miss one that is about to run. */
    atomic_fetch_add(&s->active, 1);
    r->counted = true;
    if (atomic_load(&s->stopping)) {
        atomic_fetch_sub(&s->active, 1);
        r->counted = false;
        http_set_header(r, "Connection", "close");
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "shutting-down", "Shutting down",
                           "This server is stopping; send the request again, and another "
                           "server (or this one, restarted) will answer it.");
        return;
    }

    if (plen > PATH_MAX_LEN) {
        http_reply_problem(r, 414, "uri-too-long", "URI too long",
                           arena_sprintf(&r->arena,
                                         "The request path is %zu bytes long; the limit is %d.",
                                         plen, PATH_MAX_LEN));
        return;
    }
    http_router_match(s->router, &r->arena, r->method, r->path, plen, &r->match);
    switch (r->match.result) {
    case HTTP_MATCH_OK:
        break;
    case HTTP_MATCH_BAD_PATH:
        http_reply_problem(r, 400, "bad-request", "Bad request",
                           "The request path must start with '/' and use only valid "
                           "percent-escapes (%XX, never %00).");
        return;
    case HTTP_MATCH_NO_PATH:
        http_reply_problem(r, 404, "not-found", "Not found", "Nothing is served at this path.");
        return;
    case HTTP_MATCH_NO_METHOD:
        http_set_header(r, "Allow", r->match.allow);
        http_reply_problem(r, 405, "method-not-allowed", "Method not allowed",
                           arena_sprintf(&r->arena, "%s is not allowed on this path; use %s.",
                                         r->method, r->match.allow));
        return;
    }
    if (q != NULL && http_router_parse_query(&r->arena, q + 1, &r->query) != 0) {
        http_reply_problem(r, 400, "bad-request", "Bad request",
                           "The query string holds a malformed percent-escape (use %XX, never "
                           "%00).");
        return;
    }
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > s->cfg.max_body)
        reply_too_large(r); /* MHD refused a malformed Content-Length with its own 400 */
}

/* A body follows the headers (RFC 9112 section 6.3); MHD has already
 * refused a malformed Content-Length with its own 400. */
static bool expects_body(http_request *r)
{
    const char *te =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return te != NULL || (cl != NULL && strtoull(cl, NULL, 10) > 0);
}

/* Whether a request refused before its body should be answered at once
 * rather than after its body was read and thrown away (decision 163). At
 * once: a client waiting for "100 Continue" (it has sent nothing yet), a
 * body declared past DISCARD_LIMIT (not worth reading), a framing error.
 * Otherwise the client is sending the body right now: closing with some of
 * it unread makes the kernel reset the connection, and the reset can
 * destroy the answer before the client reads it, so the client would see
 * "connection reset" instead of the 413 or 404 that says why. */
static bool answer_before_body(http_request *r)
{
    if (r->framing_refused || !expects_body(r))
        return r->framing_refused;
    const char *expect = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Expect");
    if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
        return true;
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl == NULL || strtoull(cl, NULL, 10) > DISCARD_LIMIT;
}

void http_defer(http_request *r, void (*fn)(void *arg), void *arg)
{
    deferred *d = arena_alloc(&r->arena, sizeof(*d));
    d->fn = fn;
    d->arg = arg;
    d->next = r->defers;
    r->defers = d;
}

static void run_handler(http_request *r)
{
    const http_route *route = &r->srv->routes[r->match.route];
    log_set_request_id(r->request_id);
    route->handler(r);
    while (r->defers != NULL) {
        deferred *d = r->defers;
        r->defers = d->next;
        d->fn(d->arg);
    }
    if (r->status == 0) {
        log_error("route %s set no reply", route->name);
        http_reply_problem(r, 500, "internal", "Internal server error",
                           "The server produced no answer to this request; quote the request "
                           "id when reporting it.");
    }
    log_set_request_id(NULL);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    http_request *r = *con_cls;
    if (r == NULL) /* on_uri always runs first; without it we cannot answer */
        return MHD_NO;
    if (!r->begun) {
        begin_request(r, method, version);
        /* Answering before the body makes MHD skip it and close the
         * connection; without a body, or with one the client is already
         * sending (answer_before_body), the answer waits for the final
         * call: the body is read and discarded below, and the connection
         * stays usable. A framing error is answered at once whatever MHD
         * thinks the body is. */
        if (r->status != 0 && answer_before_body(r))
            queue_reply(r);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (r->status == 0 && buf_append(&r->body, upload, *upload_size) != BUF_OK) {
            reply_too_large(r);
            /* MHD 0.9.75 refuses this while it is reading the body, so the
             * 413 normally goes out after the last chunk; we try anyway. */
            queue_reply(r);
        }
        if (r->status != 0) {
            r->discarded += *upload_size;
            if (r->discarded > DISCARD_LIMIT)
                return MHD_NO; /* stop feeding a client that will not stop */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->status == 0)
        run_handler(r);
    return queue_reply(r) ? MHD_YES : MHD_NO;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *s = cls;
    http_request *r = xcalloc(1, sizeof(*r));
    r->srv = s;
    r->conn = conn;
    r->start_usec = time_mono_usec();
    arena_init(&r->arena, 8192);
    buf_init(&r->body, s->cfg.max_body);
    r->raw_uri = arena_strdup(&r->arena, uri ? uri : "");
    r->match.route = -1;
    http_metrics_request_begin(s->metrics);
    return r;
}

static void access_log(http_request *r, double seconds, bool aborted)
{
    const http_server *s = r->srv;
    const char *route = r->match.route >= 0 ? s->routes[r->match.route].name : "unmatched";
    const char *path = r->path ? r->path : "";
    buf f;
    buf_init(&f, 6 * PATH_MAX_LEN + 1024); /* room for a fully escaped path */
    buf_puts(&f, "\"method\":\"");
    log_json_escape(&f, r->method ? r->method : "");
    buf_puts(&f, "\",\"path\":\"");
    log_json_escape(&f, strlen(path) > PATH_MAX_LEN ? arena_strndup(&r->arena, path, PATH_MAX_LEN)
                                                    : path);
    buf_puts(&f, "\",\"route\":\"");
    log_json_escape(&f, route);
    char client[INET6_ADDRSTRLEN];
    buf_puts(&f, "\",\"client\":\"");
    buf_puts(&f, http_client_ip_into(r, client, sizeof(client)));
    if (r->client_forwarded) {
        char peer[INET6_ADDRSTRLEN];
        http_ip_format(&r->peer, peer, sizeof(peer));
        buf_printf(&f, "\",\"peer\":\"%s", peer);
    }
    buf_printf(&f, "\",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu%s", r->status,
               seconds * 1000.0, r->reply_len, aborted ? ",\"aborted\":true" : "");
    log_set_request_id(r->request_id[0] ? r->request_id : NULL);
    log_write(LOG_INFO, buf_cstr(&f), "request");
    log_set_request_id(NULL);
    buf_free(&f);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_request *r = *con_cls;
    if (r == NULL)
        return;
    *con_cls = NULL;
    if (r->counted)
        atomic_fetch_sub(&s->active, 1);
    double seconds = (double)(time_mono_usec() - r->start_usec) / 1e6;
    if (r->queued)
        access_log(r, seconds, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    http_metrics_request_done(s->metrics, r->match.route, r->queued, r->status, seconds);
    if (r->response != NULL)
        MHD_destroy_response(r->response);
    buf_free(&r->body);
    arena_free(&r->arena);
    free(r);
}

/*
 * A new connection gets the short first-request timeout. Idle sockets that
 * never send a request (a slow-loris, or a scanner) would otherwise hold a
 * connection slot for the full CONN_TIMEOUT_S each; with the per-address
 * limit this keeps one client from filling the server. The daemon's default
 * stays CONN_TIMEOUT_S so that connections in use sit on MHD's cheap
 * "normal" timeout list; only those still waiting for a request are on its
 * "manual" list, which MHD scans.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *s = cls;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED && s->cfg.first_request_timeout_s != CONN_TIMEOUT_S)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned int)s->cfg.first_request_timeout_s);
}

/* MHD's own diagnostics go through our log so they stay JSON lines. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_write(LOG_WARN, NULL, "microhttpd: %s", msg);
}

/* Binding once ourselves turns "port in use" into a precise error instead of
 * MHD's log line and a bare NULL. MHD binds with SO_REUSEADDR, so we do too:
 * otherwise a socket in TIME_WAIT would fail here and not there. */
static int check_bind(const struct sockaddr *sa, socklen_t len, const char *where, error *err)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_PORT", "cannot listen on %s: socket: %s", where,
                         strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, sa, len) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, ERR_CONFIG, "PSTUDIO_PORT", "cannot listen on %s: %s%s", where,
                         strerror(e),
                         e == EADDRINUSE ? " (another process holds it; stop that process or "
                                           "set PSTUDIO_PORT to a free port)"
                                         : "");
    }
    close(fd);
    return 0;
}

static void server_free(http_server *s)
{
    http_streams_free(s->streams);
    http_router_free(s->router);
    http_metrics_free(s->metrics);
    free(s->routes);
    free(s);
}

http_server *http_server_start(const http_server_config *cfg, const http_route *routes,
                               size_t nroutes, error *err)
{
    http_server_config c = *cfg;
    if (c.bind_addr == NULL)
        c.bind_addr = "127.0.0.1";
    if (c.threads <= 0)
        c.threads = DEFAULT_THREADS;
    if (c.max_body == 0)
        c.max_body = DEFAULT_MAX_BODY;
    if (c.shutdown_timeout_ms <= 0)
        c.shutdown_timeout_ms = DEFAULT_SHUTDOWN_MS;
    if (c.first_request_timeout_s <= 0)
        c.first_request_timeout_s = DEFAULT_FIRST_REQUEST_TIMEOUT_S;
    if (c.max_connections_per_ip < 0)
        c.max_connections_per_ip = 0;
    if (c.port < 0 || c.port > 65535) {
        error_set(err, ERR_CONFIG, "PSTUDIO_PORT", "port %d is out of range (use 1-65535)", c.port);
        return NULL;
    }

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sslen;
    bool v6 = false;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, c.bind_addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)c.port);
        sslen = sizeof(*in4);
    } else if (inet_pton(AF_INET6, c.bind_addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)c.port);
        sslen = sizeof(*in6);
        v6 = true;
    } else {
        error_set(err, ERR_CONFIG, "PSTUDIO_BIND",
                  "bind address \"%s\" is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1 "
                  "or 0.0.0.0)",
                  c.bind_addr);
        return NULL;
    }
    http_proxies proxies;
    if (http_proxies_parse(c.trusted_proxies, c.proxy_header, &proxies, err) != 0)
        return NULL;
    char where[128];
    snprintf(where, sizeof(where), v6 ? "[%s]:%d" : "%s:%d", c.bind_addr, c.port);
    if (check_bind((struct sockaddr *)&ss, sslen, where, err) != 0)
        return NULL;

    http_server *s = xcalloc(1, sizeof(*s));
    s->cfg = c;
    s->proxies = proxies;
    s->routes = xmalloc((nroutes ? nroutes : 1) * sizeof(http_route));
    if (nroutes)
        memcpy(s->routes, routes, nroutes * sizeof(http_route));
    s->nroutes = nroutes;
    s->router = http_router_new(s->routes, nroutes, err);
    if (s->router == NULL) {
        server_free(s);
        return NULL;
    }
    s->metrics = http_metrics_new(s->routes, nroutes);
    s->streams = http_streams_new(err);
    if (s->streams == NULL) {
        server_free(s);
        return NULL;
    }

    /* Suspend/resume (which needs ITC) is how a streamed reply waits without
     * a thread. A stop does not quiesce the daemon: in epoll mode MHD_quiesce_daemon and the
     * worker threads both take the listening socket out of the epoll set,
     * unlocked, and whichever loses aborts the process (decision 38). */
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                         MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    /* The logger goes first: MHD reports option errors with whatever logger is set. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)c.port, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)c.threads, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)c.max_connections_per_ip, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        int e = errno;
        error_set(err, ERR_CONFIG, "PSTUDIO_PORT", "cannot listen on %s: %s", where,
                  e ? strerror(e) : "microhttpd refused to start (see the log above)");
        server_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL && di->port != 0 ? di->port : c.port;
    return s;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

void http_server_stop(http_server *s)
{
    if (s == NULL)
        return;
    /* New requests get a 503 from here on, while the ones under way finish. */
    atomic_store(&s->stopping, true);
    /* Streams end within one step; MHD cannot stop with one suspended. */
    http_streams_stop(s->streams);
    int64_t deadline = time_mono_usec() + (int64_t)s->cfg.shutdown_timeout_ms * 1000;
    int left;
    while ((left = atomic_load(&s->active)) > 0 && time_mono_usec() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (left > 0)
        log_warn("shutdown: %d request(s) still in flight after %d ms; closing them", left,
                 s->cfg.shutdown_timeout_ms);
    MHD_stop_daemon(s->daemon);
    server_free(s);
}

/* ---- request accessors ---- */

arena *http_arena(http_request *r)
{
    return &r->arena;
}

const char *http_method(http_request *r)
{
    return r->method ? r->method : "";
}

const char *http_path(http_request *r)
{
    return r->path ? r->path : "";
}

const char *http_param(http_request *r, const char *name)
{
    return http_pairs_get(&r->match.params, name);
}

const char *http_query(http_request *r, const char *name)
{
    return http_pairs_get(&r->query, name);
}

const char *http_query_name(http_request *r, size_t i)
{
    return i < r->query.n ? r->query.names[i] : NULL;
}

/* Appends every value of the header `name` (X-Forwarded-For may come in
 * several lines, which proxies treat as one list), joined by ", ". */
typedef struct forwarded_join {
    const char *name;
    buf *out;
} forwarded_join;

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    forwarded_join *j = cls;
    if (key == NULL || value == NULL || strcasecmp(key, j->name) != 0)
        return MHD_YES;
    if (j->out->len > 0)
        buf_puts(j->out, ", ");
    buf_puts(j->out, value);
    /* Past the cap the whole header is ignored; stop reading it. */
    return j->out->len > HTTP_PROXY_HEADER_MAX ? MHD_NO : MHD_YES;
}

static void request_client(http_request *r)
{
    if (r->client_known)
        return;
    r->client_known = true;
    memset(&r->peer, 0, sizeof(r->peer));
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET) {
        r->peer.family = AF_INET;
        memcpy(r->peer.a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        char text[INET6_ADDRSTRLEN];
        const void *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        /* Through text, so an IPv4-mapped peer folds to IPv4 like the header's. */
        if (inet_ntop(AF_INET6, a6, text, sizeof(text)) == NULL ||
            !http_ip_parse(text, strlen(text), &r->peer))
            r->peer.family = 0;
    }
    r->client = r->peer;
    const http_proxies *p = &r->srv->proxies;
    if (r->peer.family == 0 || p->n == 0 || !http_proxies_trust(p, &r->peer))
        return;
    buf joined;
    buf_init(&joined, 256);
    forwarded_join j = {p->header == HTTP_PROXY_FORWARDED ? "Forwarded" : "X-Forwarded-For",
                        &joined};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_header, &j);
    if (joined.len > 0 && joined.len <= HTTP_PROXY_HEADER_MAX)
        r->client_forwarded = http_proxies_client(p, &r->peer, buf_cstr(&joined), &r->client);
    buf_free(&joined);
}

const char *http_client_ip_into(http_request *r, char *out, size_t n)
{
    request_client(r);
    if (r->client.family == 0) {
        snprintf(out, n, "unknown");
        return out;
    }
    http_ip_format(&r->client, out, n);
    return out;
}

const char *http_client_ip(http_request *r)
{
    char *out = arena_alloc(&r->arena, INET6_ADDRSTRLEN);
    return http_client_ip_into(r, out, INET6_ADDRSTRLEN);
}

bool http_client_forwarded(http_request *r)
{
    request_client(r);
    return r->client_forwarded;
}

bool http_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* The client, not the peer: behind a trusted proxy on this host the peer is
 * always loopback, and /metrics must not open to everyone the proxy serves. */
bool http_client_is_loopback(http_request *r)
{
    request_client(r);
    const http_ip *c = &r->client;
    if (c->family == AF_INET)
        return c->a[0] == 127;
    static const unsigned char one[16] = {[15] = 1};
    return c->family == AF_INET6 && memcmp(c->a, one, 16) == 0;
}

const char *http_header(http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_body(http_request *r, size_t *len)
{
    if (len != NULL)
        *len = r->body.len;
    return buf_cstr(&r->body);
}

const char *http_request_id(http_request *r)
{
    return r->request_id;
}

void **http_locals(http_request *r)
{
    return &r->locals;
}

void *http_app(http_request *r)
{
    return r->srv->cfg.app;
}

struct db *http_db(http_request *r)
{
    return r->srv->cfg.db;
}

http_metrics *http_request_metrics(http_request *r)
{
    return r->srv->metrics;
}

const char *http_request_metrics_token(http_request *r)
{
    return r->srv->cfg.metrics_token;
}

/* ---- replies ---- */

static bool header_text_ok(const char *s, bool is_name)
{
    if (s == NULL || (is_name && *s == '\0'))
        return false;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || (is_name && (*s == ':' || *s == ' ')))
            return false;
    return true;
}

void http_set_header(http_request *r, const char *name, const char *value)
{
    if (!header_text_ok(name, true) || !header_text_ok(value, false)) {
        log_error("response header %s refused: empty name, or CR/LF or ':' in it",
                  name ? name : "(null)");
        return;
    }
    reply_header *h = arena_alloc(&r->arena, sizeof(*h));
    h->name = arena_strdup(&r->arena, name);
    h->value = arena_strdup(&r->arena, value);
    h->next = r->headers;
    r->headers = h;
}

/* Sets the status and content type of the one reply; false (and a warning)
 * when the handler already replied. */
static bool reply_begin(http_request *r, int *status, const char *content_type)
{
    if (r->status != 0) {
        log_warn("second reply (%d) dropped; the first (%d) stands", *status, r->status);
        return false;
    }
    if (*status < 100 || *status > 599) {
        log_error("reply status %d is not an HTTP status; answering 500", *status);
        *status = 500;
    }
    r->status = *status;
    r->content_type = content_type ? arena_strdup(&r->arena, content_type) : NULL;
    return true;
}

static void reply_check(http_request *r)
{
    if (r->response == NULL) { /* only out of memory: abort like xmalloc */
        log_error("out of memory creating a %zu-byte response", r->reply_len);
        abort();
    }
}

void http_reply(http_request *r, int status, const char *content_type, const char *body, size_t len)
{
    if (!reply_begin(r, &status, content_type))
        return;
    r->reply_len = body ? len : 0;
    r->response =
        MHD_create_response_from_buffer(r->reply_len, (void *)body, MHD_RESPMEM_MUST_COPY);
    reply_check(r);
}

void http_reply_fd(http_request *r, int status, const char *content_type, int fd, uint64_t offset,
                   uint64_t len)
{
    if (!reply_begin(r, &status, content_type)) {
        close(fd);
        return;
    }
    r->reply_len = (size_t)len;
    /* MHD reads the file as it sends (sendfile where it can) and closes fd. */
    r->response = MHD_create_response_from_fd_at_offset64(len, fd, offset);
    reply_check(r);
}

/* The largest JSON response: far above any page the API serves. */
#define JSON_REPLY_CAP (64u << 20)
/* Room made at once: most responses fit, and a page grows by few copies. */
#define JSON_REPLY_START (32u << 10)

void http_json_begin(http_json *j)
{
    buf_init(&j->text, JSON_REPLY_CAP);
    buf_reserve(&j->text, JSON_REPLY_START);
    jw_init(&j->w, &j->text);
}

void http_reply_written(http_request *r, int status, http_json *j)
{
    if (jw_error(&j->w) != BUF_OK || j->text.data == NULL) {
        buf_free(&j->text);
        http_reply_problem(r, 500, "internal", "Internal server error",
                           "The response could not be encoded as JSON.");
        return;
    }
    if (!reply_begin(r, &status, "application/json")) {
        buf_free(&j->text);
        return;
    }
    /* MHD takes the buffer and frees it: no copy of a large page. */
    r->reply_len = j->text.len;
    r->response = MHD_create_response_from_buffer(j->text.len, j->text.data, MHD_RESPMEM_MUST_FREE);
    j->text = (buf){0};
    reply_check(r);
}

void http_reply_json(http_request *r, int status, json_t *body)
{
    /* jsonout writes reals with 15 significant digits, which prints 0.7 as
     * 0.7, not 0.69999999999999996, and is exact for every value a person
     * types (temperatures, CTRs). */
    http_json j;
    http_json_begin(&j);
    jw_value(&j.w, body);
    json_decref(body);
    http_reply_written(r, status, &j);
}

/* Problem answers: the documents come from problem.c, which knows no request. */
void http_reply_problem_doc(http_request *r, int status, json_t *doc)
{
    buf text;
    http_problem_text(doc, &status, &text);
    http_reply(r, status, HTTP_PROBLEM_CONTENT_TYPE, text.data, text.len);
    buf_free(&text);
}

void http_reply_problem(http_request *r, int status, const char *type_slug, const char *title,
                        const char *detail)
{
    http_reply_problem_doc(
        r, status,
        http_problem_json(status, type_slug, title, detail, http_path(r), http_request_id(r)));
}

void http_reply_error(http_request *r, const error *e)
{
    int status = 500;
    json_t *doc = http_problem_of_error(e, http_path(r), http_request_id(r), &status);
    http_reply_problem_doc(r, status, doc);
}

bool http_has_reply(http_request *r)
{
    return r->status != 0;
}

void http_reply_stream(http_request *r, int status, const char *content_type, int poll_ms,
                       const char *owner, int owner_max, http_stream_fn fn,
                       void (*free_ctx)(void *ctx), void *ctx)
{
    if (r->status != 0) {
        log_warn("second reply (%d, a stream) dropped; the first (%d) stands", status, r->status);
        if (free_ctx != NULL)
            free_ctx(ctx);
        return;
    }
    http_stream_refusal refusal;
    struct MHD_Response *resp = http_streams_response(r->srv->streams, r->conn, owner, owner_max,
                                                      poll_ms, fn, free_ctx, ctx, &refusal);
    if (refusal != HTTP_STREAM_ADMITTED) {
        if (free_ctx != NULL)
            free_ctx(ctx);
        if (refusal == HTTP_STREAM_OWNER_FULL) {
            http_set_header(r, "Retry-After", "10");
            http_reply_problem(
                r, 429, "too-many-streams", "Too many streams",
                arena_sprintf(&r->arena,
                              "You already have %d streams open, the most one account may hold; "
                              "close one (a stream whose client has gone is freed at once) and "
                              "try again.",
                              owner_max));
        } else {
            http_set_header(r, "Retry-After", "30");
            http_reply_problem(r, 503, "unavailable", "Service unavailable",
                               "This server holds as many streams as it takes; try again in a "
                               "while.");
        }
        return;
    }
    if (resp == NULL) { /* only out of memory: abort like xmalloc */
        log_error("out of memory creating a streamed response");
        abort();
    }
    r->response = resp;
    r->status = status;
    r->content_type = content_type ? arena_strdup(&r->arena, content_type) : NULL;
    r->reply_len = 0;
}
