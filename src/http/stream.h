/*
 * stream: private to http/. The machinery behind http_reply_stream(): a
 * libmicrohttpd callback response whose reader calls the stream's step
 * function, and a ticker thread that wakes parked streams. A stream with
 * nothing to send suspends its connection (MHD_suspend_connection) instead
 * of returning 0 in a busy loop or sleeping on a server thread; the ticker
 * resumes it when its next step is due, or at once when the client hangs
 * up. It also counts the streams, per server and per owner, against caps. Stopping resumes every
 * stream with "stopping" set so each ends within one step, which is what lets the server's graceful
 * shutdown finish: MHD refuses to stop while a connection is suspended.
 */
#ifndef PS_HTTP_STREAM_H
#define PS_HTTP_STREAM_H

#include "base/buf.h"
#include "http/http.h"

#include <microhttpd.h>

typedef struct http_streams http_streams;

/** Starts the ticker thread; NULL and err when it cannot. */
http_streams *http_streams_new(error *err);
/** Asks every stream to end now (each gets one last step with stopping set). */
void http_streams_stop(http_streams *ss);
/** Stops the ticker and frees; after every stream has ended (the daemon is stopped). */
void http_streams_free(http_streams *ss);
typedef enum http_stream_refusal {
    HTTP_STREAM_ADMITTED,
    HTTP_STREAM_SERVER_FULL, /* the server holds as many streams as it takes */
    HTTP_STREAM_OWNER_FULL,  /* owner holds owner_max already */
} http_stream_refusal;

/**
 * A response for conn whose body fn produces (see http_reply_stream); the
 * stream is freed, with free_ctx(ctx), when MHD releases the response,
 * which is as soon as the client hangs up, parked or not. NULL with
 * *refusal set when the server, or the owner (when not NULL and owner_max
 * > 0), already holds as many streams as allowed; ctx is then untouched.
 */
struct MHD_Response *http_streams_response(http_streams *ss, struct MHD_Connection *conn,
                                           const char *owner, int owner_max, int poll_ms,
                                           http_stream_fn fn, void (*free_ctx)(void *ctx),
                                           void *ctx, http_stream_refusal *refusal);

#endif
