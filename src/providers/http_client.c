/*
 * http_client over libcurl: one easy handle per call (calls are seconds
 * long, so connection reuse would buy little and cost shared state between
 * worker threads). Every transfer is bounded three ways: a connect timeout,
 * a whole-call timeout and a response cap enforced in the write callback,
 * so a compressed bomb or an endless body stops at the cap whatever its
 * Content-Length says. Redirects are not followed and only http and https
 * are spoken: a provider that redirects is misconfigured, and following
 * one could carry an API key header to another host.
 */
#include "providers/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_CLIENT_CONNECT_MS   10000L
#define HTTP_CLIENT_TIMEOUT_MS   60000L
#define HTTP_CLIENT_MAX_RESPONSE (8u * 1024 * 1024)
#define HTTP_CLIENT_RETRY_MAX_S  86400L /* a Retry-After past a day is treated as a day */
#define HTTP_CLIENT_HOST_LEN     256

static pthread_once_t http_client__once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe on every build; once is enough. */
static void http_client__global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct http_client__sink {
    http_client_resp *resp;
    const http_client_req *rq;
    bool too_big;
    bool sink_failed;
    size_t cap;
    size_t seen;
} http_client__sink;

static size_t http_client__on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    http_client__sink *s = ud;
    size_t n = size * nmemb;
    if (s->rq->sink != NULL) {
        s->seen += n;
        if (s->seen > s->cap) {
            s->too_big = true;
            return 0;
        }
        if (!s->rq->sink(data, n, s->rq->sink_ctx)) {
            s->sink_failed = true;
            return 0;
        }
        return n;
    }
    if (buf_append(&s->resp->body, data, n) != BUF_OK) {
        s->too_big = true;
        return 0; /* any short count aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Retry-After is either delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long http_client__retry_after(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v >= '0' && *v <= '9') {
        char *end = NULL;
        long s = strtol(v, &end, 10);
        while (end && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end == NULL || *end != '\0' || s < 0)
            return -1;
        return s > HTTP_CLIENT_RETRY_MAX_S ? HTTP_CLIENT_RETRY_MAX_S : s;
    }
    time_t when = curl_getdate(v, NULL);
    if (when <= 0)
        return -1;
    long s = (long)(when - time(NULL));
    if (s < 0)
        s = 0;
    return s > HTTP_CLIENT_RETRY_MAX_S ? HTTP_CLIENT_RETRY_MAX_S : s;
}

/* Copies the header value into out without the trailing CR/LF and blanks. */
static void http_client__header_value(const char *p, size_t n, char *out, size_t out_n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n >= out_n)
        n = out_n - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static size_t http_client__on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    http_client_resp *r = ud;
    size_t n = size * nmemb;
    /* A new status line (after a 1xx) starts a new set of headers. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->content_type[0] = '\0';
        r->location[0] = '\0';
        r->range[0] = '\0';
        r->retry_after_s = -1;
        r->etag[0] = '\0';
        r->last_modified[0] = '\0';
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (colon == NULL)
        return n;
    size_t name_len = (size_t)(colon - data);
    const char *value = colon + 1;
    size_t value_len = n - name_len - 1;
    if (name_len == 12 && strncasecmp(data, "Content-Type", 12) == 0) {
        http_client__header_value(value, value_len, r->content_type, sizeof(r->content_type));
    } else if (name_len == 8 && strncasecmp(data, "Location", 8) == 0) {
        /* A longer one is dropped rather than cut: a cut URL would name
         * another resource. */
        if (value_len < sizeof(r->location))
            http_client__header_value(value, value_len, r->location, sizeof(r->location));
    } else if (name_len == 5 && strncasecmp(data, "Range", 5) == 0) {
        if (value_len < sizeof(r->range))
            http_client__header_value(value, value_len, r->range, sizeof(r->range));
    } else if (name_len == 11 && strncasecmp(data, "Retry-After", 11) == 0) {
        char v[128];
        http_client__header_value(value, value_len, v, sizeof(v));
        r->retry_after_s = http_client__retry_after(v);
    } else if (name_len == 4 && strncasecmp(data, "ETag", 4) == 0) {
        http_client__header_value(value, value_len, r->etag, sizeof(r->etag));
    } else if (name_len == 13 && strncasecmp(data, "Last-Modified", 13) == 0) {
        http_client__header_value(value, value_len, r->last_modified, sizeof(r->last_modified));
    }
    return n;
}

/* The host (and port) of url for messages: never the path or query, which
 * may carry a key. */
static void http_client__host(const char *url, char out[HTTP_CLIENT_HOST_LEN])
{
    snprintf(out, HTTP_CLIENT_HOST_LEN, "the server");
    CURLU *u = curl_url();
    if (u == NULL)
        return;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        char *host = NULL, *port = NULL;
        if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
            if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
                snprintf(out, HTTP_CLIENT_HOST_LEN, "%s:%s", host, port);
            else
                snprintf(out, HTTP_CLIENT_HOST_LEN, "%s", host);
        }
        curl_free(host);
        curl_free(port);
    }
    curl_url_cleanup(u);
}

/* Turns a failed transfer into the error convention: the message names the
 * host and what happened; a timeout also names the setting at fault
 * ("timeout_ms") so callers can tell it from a refused connection. */
static int http_client__fail(CURL *h, CURLcode rc, const http_client_req *rq, long connect_ms,
                             long timeout_ms, size_t cap, const http_client__sink *sink, error *err)
{
    char host[HTTP_CLIENT_HOST_LEN];
    http_client__host(rq->url, host);
    bool too_big = sink->too_big;
    if (sink->sink_failed)
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "the response from %s could not be stored locally", host);
    if (too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return error_set(err, ERR_TOO_LARGE, NULL,
                         "the response from %s is larger than the limit of %zu bytes", host, cap);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected = 0;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
        if (connected == 0)
            return error_set(err, ERR_UNAVAILABLE, "timeout_ms",
                             "could not connect to %s within %ld ms", host, connect_ms);
        return error_set(err, ERR_UNAVAILABLE, "timeout_ms", "%s did not answer within %ld ms",
                         host, timeout_ms);
    }
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return error_set(err, ERR_CONFIG, NULL,
                         "the URL for %s is not a valid http:// or https:// URL", host);
    case CURLE_COULDNT_RESOLVE_HOST:
        return error_set(err, ERR_UNAVAILABLE, NULL, "cannot resolve the host name of %s", host);
    case CURLE_COULDNT_CONNECT:
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "cannot connect to %s (connection refused or unreachable)", host);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
        return error_set(err, ERR_UNAVAILABLE, NULL, "the TLS handshake with %s failed: %s", host,
                         curl_easy_strerror(rc));
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return error_set(err, ERR_UNAVAILABLE, NULL, "the connection to %s broke off: %s", host,
                         curl_easy_strerror(rc));
    default:
        return error_set(err, ERR_UNAVAILABLE, NULL, "the request to %s failed: %s", host,
                         curl_easy_strerror(rc));
    }
}

int http_client_do(const http_client_req *rq, http_client_resp *out, error *err)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_s = -1;
    out->content_length = -1;
    size_t cap = rq->max_response ? rq->max_response : HTTP_CLIENT_MAX_RESPONSE;
    buf_init(&out->body, cap);
    long connect_ms = rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : HTTP_CLIENT_CONNECT_MS;
    long timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : HTTP_CLIENT_TIMEOUT_MS;
    if (rq->url == NULL || rq->method == NULL)
        return error_set(err, ERR_INTERNAL, NULL, "an outgoing request needs a method and a URL");

    pthread_once(&http_client__once, http_client__global_init);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return error_set(err, ERR_INTERNAL, NULL, "libcurl could not create a handle");

    struct curl_slist *headers = NULL;
    /* No "Expect: 100-continue" round trip: every peer here answers at once.
     * Except under SigV4: libcurl 7.88 signs the empty "Expect:" it then
     * leaves out, so the signature could never match (S3 speaks 100-continue). */
    if (rq->aws_sigv4 == NULL)
        headers = curl_slist_append(headers, "Expect:");
    for (const char *const *hv = rq->headers; hv && *hv; hv++)
        headers = curl_slist_append(headers, *hv);

    http_client__sink sink = {.resp = out, .rq = rq, .cap = cap};
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* timeouts must not use SIGALRM in threads */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* decoded bytes still count against cap */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pstudio/" PSTUDIO_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_client__on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_client__on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    if (rq->aws_sigv4 != NULL) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, rq->aws_sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, rq->aws_key ? rq->aws_key : "");
        curl_easy_setopt(h, CURLOPT_PASSWORD, rq->aws_secret ? rq->aws_secret : "");
        /* Objects come as stored: no Accept-Encoding for a server to act on. */
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
    }

    bool has_body = rq->body != NULL;
    if (strcmp(rq->method, "GET") == 0 && !has_body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        /* POSTFIELDS gives every method a body without a read callback. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? rq->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, has_body ? rq->body : "");
        if (strcmp(rq->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }

    CURLcode rc = curl_easy_perform(h);
    int result = 0;
    if (rc != CURLE_OK) {
        result = http_client__fail(h, rc, rq, connect_ms, timeout_ms, cap, &sink, err);
        buf_free(&out->body); /* nothing to read, nothing to free */
        out->status = 0;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        curl_off_t cl = -1;
        if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
            out->content_length = (int64_t)cl;
        if (out->body.data == NULL)
            buf_append(&out->body, "", 0); /* always NUL-terminated, even when empty */
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return result;
}

void http_client_resp_free(http_client_resp *r)
{
    if (r == NULL)
        return;
    buf_free(&r->body);
}

int http_client_urlencode(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (k + need + 1 > n) {
            if (n > 0)
                out[0] = '\0';
            return 0;
        }
        if (plain) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 0x0F];
        }
    }
    if (k + 1 > n)
        return 0;
    out[k] = '\0';
    return 1;
}

int http_client_post_json(const char *url, const char *key_header, const char *body,
                          long timeout_ms, size_t max_response, http_client_resp *out, error *err)
{
    const char *headers[3] = {"Content-Type: application/json", key_header, NULL};
    http_client_req req = {.method = "POST",
                           .url = url,
                           .headers = headers,
                           .body = body,
                           .body_len = strlen(body),
                           .connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000,
                           .timeout_ms = timeout_ms,
                           .max_response = max_response};
    return http_client_do(&req, out, err);
}
