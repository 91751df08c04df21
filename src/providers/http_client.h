/*
 * http_client: the one way this program calls another service (Google,
 * YouTube, LLM providers), over libcurl. Every call has a connect timeout, a
 * total timeout and a cap on the response size, so a slow or hostile peer
 * costs a bounded amount of time and memory. Transport failures come back as
 * ERR_UNAVAILABLE with a message that names the host and what happened; an
 * HTTP error status is not a transport failure (the caller reads status).
 * Request and response bodies are never logged: they may carry tokens.
 */
#ifndef PS_PROVIDERS_HTTP_CLIENT_H
#define PS_PROVIDERS_HTTP_CLIENT_H

#include "base/buf.h"
#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_client_req {
    const char *method; /* "GET", "POST", … */
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    const char *body;           /* may be NULL */
    size_t body_len;
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* 0: 60 s; the whole call */
    size_t max_response;     /* 0: 8 MiB; larger is ERR_TOO_LARGE */
    /* AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4, e.g. "aws:amz:us-east-1:s3")
     * with aws_key and aws_secret; NULL: unsigned. The caller sends the
     * x-amz-content-sha256 header itself (libcurl 7.88 does not). */
    const char *aws_sigv4;
    const char *aws_key;
    const char *aws_secret;
    /* When set, the body goes to sink instead of resp.body (a download to a
     * file); returning false stops the transfer as a failure. */
    bool (*sink)(const char *data, size_t n, void *ctx);
    void *sink_ctx;
} http_client_req;

typedef struct http_client_resp {
    long status;
    buf body; /* NUL-terminated */
    char content_type[128];
    long retry_after_s;  /* from Retry-After (seconds form), -1 when absent */
    char location[2048]; /* Location ("" when absent or longer): a resumable upload's session */
    char range[64];      /* Range ("" when absent): how much of an upload the server holds */
    char etag[256];      /* the ETag header as sent, "" when absent */
    char last_modified[64];
    int64_t content_length; /* -1 when unknown */
} http_client_resp;

/** Performs the request; 0 with *out filled (any status), -1 with err on transport failure. */
int http_client_do(const http_client_req *rq, http_client_resp *out, error *err);
void http_client_resp_free(http_client_resp *r);
/**
 * POSTs body as JSON to url with one more header line (an API key; NULL:
 * none), connecting for at most 10 s of timeout_ms; as http_client_do.
 */
int http_client_post_json(const char *url, const char *key_header, const char *body,
                          long timeout_ms, size_t max_response, http_client_resp *out, error *err);
/** URL-encodes s into out (for form bodies and query strings); false when out is too small. */
int http_client_urlencode(const char *s, char *out, size_t n);

#endif
