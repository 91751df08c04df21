/*
 * The HTTP layer end to end: each test starts a real server on a loopback
 * port chosen by the kernel and talks to it with libcurl. Test-only handlers
 * below stand in for the API. No assertion depends on timing; where the
 * server finishes bookkeeping after the client already has its answer
 * (access log, metrics), the test waits for it with a generous bound.
 */
#include "testlib.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/uuid.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 1024

/* ---- test handlers ---- */

static atomic_int slow_started;

static void h_echo(http_request *r)
{
    size_t n;
    const char *body = http_body(r, &n);
    http_reply(r, 200, "application/octet-stream", body, n);
}

static void h_item_get(http_request *r)
{
    json_t *o = json_pack("{s:s}", "id", http_param(r, "id"));
    const char *q = http_query(r, "q");
    if (q != NULL)
        json_object_set_new(o, "q", json_string(q));
    http_reply_json(r, 200, o);
}

static void h_item_new(http_request *r)
{
    http_reply_json(r, 200, json_pack("{s:s}", "route", "items.new"));
}

static void h_member(http_request *r)
{
    http_reply_json(
        r, 200,
        json_pack("{s:s, s:s}", "team", http_param(r, "team"), "member", http_param(r, "member")));
}

static void h_no_reply(http_request *r)
{
    (void)r;
}

static void h_conflict(http_request *r)
{
    error e;
    error_set(&e, ERR_CONFLICT, "name", "a persona named \"Ana\" already exists");
    http_reply_error(r, &e);
}

static atomic_int slow_release;

/* Answers once the test says so (or after 3 s). */
static void h_slow(http_request *r)
{
    atomic_store(&slow_started, 1);
    for (int i = 0; i < 600 && !atomic_load(&slow_release); i++)
        test_nap_ms(5);
    http_reply(r, 200, "text/plain", "done", 4);
}

static const http_route test_routes[] = {
    {"POST", "/echo", h_echo, "test.echo"},
    {"GET", "/items/{id}", h_item_get, "items.get"},
    {"PUT", "/items/{id}", h_item_get, "items.put"},
    {"GET", "/items/new", h_item_new, "items.new"},
    {"GET", "/teams/{team}/members/{member}", h_member, "members.get"},
    {"GET", "/no-reply", h_no_reply, "test.no_reply"},
    {"GET", "/conflict", h_conflict, "test.conflict"},
    {"GET", "/slow", h_slow, "test.slow"},
};

/* ---- fixture: a server, with or without a database ---- */

typedef struct fixture {
    testdb t;
    bool have_db;
    http_server *srv;
    int port;
} fixture;

/* The configuration every test server starts from. */
static http_server_config test_config(struct db *pool, int port)
{
    return (http_server_config){
        .bind_addr = "127.0.0.1",
        .port = port,
        .threads = 2,
        .max_body = MAX_BODY,
        .shutdown_timeout_ms = 10000,
        .db = pool,
    };
}

static http_server *start_with(const http_server_config *cfg, error *err)
{
    static http_route routes[64];
    size_t n = 0;
    for (size_t i = 0; i < http_ops_routes_count; i++)
        routes[n++] = http_ops_routes[i];
    for (size_t i = 0; i < sizeof(test_routes) / sizeof(test_routes[0]); i++)
        routes[n++] = test_routes[i];
    return http_server_start(cfg, routes, n, err);
}

static http_server *start_server(struct db *pool, int port, error *err)
{
    http_server_config cfg = test_config(pool, port);
    return start_with(&cfg, err);
}

static int setup_common(void **state, bool with_db)
{
    fixture *f = calloc(1, sizeof(*f));
    if (with_db) {
        testdb_create(&f->t);
        f->have_db = true;
    }
    error err = {0};
    f->srv = start_server(f->have_db ? f->t.db : NULL, 0, &err);
    if (f->srv == NULL) {
        fprintf(stderr, "server did not start: %s\n", err.message);
        return -1;
    }
    f->port = http_server_port(f->srv);
    *state = f;
    return 0;
}

static int setup_with_db(void **state)
{
    return setup_common(state, true);
}

static int setup_without_db(void **state)
{
    return setup_common(state, false);
}

static int teardown(void **state)
{
    fixture *f = *state;
    http_server_stop(f->srv);
    if (f->have_db)
        testdb_destroy(&f->t);
    free(f);
    return 0;
}

/* ---- client ---- */

typedef struct response {
    long status;
    buf headers;
    buf body;
    json_t *json; /* parsed body when it is JSON, else NULL */
} response;

typedef struct request_opts {
    const char *method;
    const char *const *headers; /* NULL-terminated "Name: value" */
    const char *body;
    size_t body_len;
    bool chunked; /* send body through a read callback, Transfer-Encoding: chunked */
} request_opts;

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
    buf_append(userdata, p, size * n);
    return size * n;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t on_read(char *dst, size_t size, size_t n, void *userdata)
{
    upload *u = userdata;
    size_t k = size * n < u->left ? size * n : u->left;
    k = k > 300 ? 300 : k; /* several chunks, so the cap is crossed mid-stream */
    memcpy(dst, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

static void request_on(CURL *c, int port, const char *path, const request_opts *o, response *out)
{
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    memset(out, 0, sizeof(*out));
    buf_init(&out->headers, 1 << 20);
    buf_init(&out->body, 1 << 24);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    struct curl_slist *hdrs = NULL;
    for (const char *const *h = o && o->headers ? o->headers : NULL; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);
    upload up = {0};
    if (o && o->chunked) {
        up = (upload){o->body, o->body_len};
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
    } else if (o && o->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)o->body_len);
    }
    if (o && o->method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", o && o->method ? o->method : "GET", path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->json = json_loads(buf_cstr(&out->body), 0, NULL);
}

static void request(int port, const char *path, const request_opts *o, response *out)
{
    CURL *c = curl_easy_init();
    request_on(c, port, path, o, out);
    curl_easy_cleanup(c);
}

static void response_free(response *r)
{
    buf_free(&r->headers);
    buf_free(&r->body);
    json_decref(r->json);
}

/* The value of the last response header called name (curl hands us every
 * header block, 100 Continue included), copied into out. */
static const char *header_of(const response *r, const char *name, char *out, size_t n)
{
    const char *found = NULL;
    size_t nlen = strlen(name);
    for (const char *line = buf_cstr(&r->headers); *line;) {
        const char *eol = strstr(line, "\r\n");
        if (eol == NULL)
            break;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(eol - v), v);
            found = out;
        }
        line = eol + 2;
    }
    return found;
}

/* ---- raw sockets: for what curl will not send ---- */

static int connect_from(const char *from_ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (from_ip != NULL) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        assert_int_equal(inet_pton(AF_INET, from_ip, &src.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads until the server closes the connection (true) or nothing more comes
 * for `quiet_s` seconds (false), appending what arrives to out. */
static bool read_until_closed(int fd, buf *out, int quiet_s)
{
    struct timeval tv = {quiet_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char chunk[4096];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
        buf_append(out, chunk, (size_t)n);
    }
}

/* Sends raw bytes on a new connection; *closed says whether the server
 * closed it (within 10 s of its last byte). */
static void raw_exchange(int port, const char *bytes, buf *out, bool *closed)
{
    int fd = connect_from(NULL, port);
    size_t len = strlen(bytes);
    assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    buf_init(out, 1 << 20);
    *closed = read_until_closed(fd, out, 10);
    close(fd);
}

static int count_status_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
        if (p == text || p[-1] == '\n')
            n++;
    return n;
}

/* One answer with this status, then the connection closed: a request
 * smuggled behind the first is never read as a request. */
static void expect_refused_and_closed(int port, const char *request, int status, const char *slug)
{
    buf out;
    bool closed;
    raw_exchange(port, request, &out, &closed);
    const char *text = buf_cstr(&out);
    char line[32];
    snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
    if (strncmp(text, line, strlen(line)) != 0)
        fail_msg("expected %s, got: %s", line, text);
    if (!closed)
        fail_msg("the server kept the connection open after: %s", text);
    assert_int_equal(count_status_lines(text), 1);
    assert_null(strstr(text, "smuggled"));
    if (slug != NULL) {
        char type[128];
        snprintf(type, sizeof(type), "\"type\":\"/problems/%s\"", slug);
        assert_non_null(strstr(text, type));
        assert_non_null(strcasestr(text, "\r\nConnection: close\r\n"));
    }
    buf_free(&out);
}

static const char *member_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Every failure answer: problem+json, the stable type, and the members
 * that tie it to the request. */
static void assert_problem(const response *r, int status, const char *slug, const char *path)
{
    char ct[256], type[128];
    assert_int_equal(r->status, status);
    assert_non_null(header_of(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    snprintf(type, sizeof(type), "/problems/%s", slug);
    assert_string_equal(member_str(r->json, "type"), type);
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_non_null(member_str(r->json, "title"));
    assert_non_null(member_str(r->json, "detail"));
    assert_string_equal(member_str(r->json, "instance"), path);
    char rid[128];
    assert_non_null(header_of(r, "X-Request-Id", rid, sizeof(rid)));
    assert_string_equal(member_str(r->json, "request_id"), rid);
}

/* ---- tests ---- */

static void test_unknown_route_is_404_problem_json(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/no/such/thing", NULL, &r);
    assert_problem(&r, 404, "not-found", "/no/such/thing");
    char v[64];
    assert_string_equal(header_of(&r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(header_of(&r, "Cache-Control", v, sizeof(v)), "no-store");
    response_free(&r);
    /* A trailing slash names a different path. */
    request(f->port, "/healthz/", NULL, &r);
    assert_problem(&r, 404, "not-found", "/healthz/");
    response_free(&r);
}

static void test_not_found_keeps_the_connection_alive(void **state)
{
    fixture *f = *state;
    CURL *c = curl_easy_init();
    response r;
    request_on(c, f->port, "/nowhere", NULL, &r);
    assert_int_equal(r.status, 404);
    response_free(&r);
    request_on(c, f->port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    long new_connections = -1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &new_connections);
    assert_int_equal(new_connections, 0);
    response_free(&r);
    curl_easy_cleanup(c);
}

static void test_wrong_method_is_405_with_allow_listing_methods(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/items/abc", &(request_opts){.method = "DELETE"}, &r);
    assert_problem(&r, 405, "method-not-allowed", "/items/abc");
    char allow[256];
    assert_non_null(header_of(&r, "Allow", allow, sizeof(allow)));
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "PUT"));
    assert_null(strstr(allow, "DELETE"));
    response_free(&r);
}

static void test_body_over_cap_by_content_length_is_413_before_it_is_sent(void **state)
{
    fixture *f = *state;
    char *big = malloc(MAX_BODY * 4);
    memset(big, 'x', MAX_BODY * 4);
    /* Expect: 100-continue makes curl hold the body until the server asks
     * for it; the 413 arrives instead, so the server never read it. */
    const char *hdrs[] = {"Expect: 100-continue", "Content-Type: text/plain", NULL};
    response r;
    request(f->port, "/echo",
            &(request_opts){.headers = hdrs, .body = big, .body_len = MAX_BODY * 4}, &r);
    assert_problem(&r, 413, "payload-too-large", "/echo");
    assert_non_null(strstr(member_str(r.json, "detail"), "1024 bytes"));
    response_free(&r);
    free(big);
}

static void test_chunked_body_over_cap_is_413(void **state)
{
    fixture *f = *state;
    char *big = malloc(MAX_BODY * 3);
    memset(big, 'y', MAX_BODY * 3);
    response r;
    request(f->port, "/echo",
            &(request_opts){.body = big, .body_len = MAX_BODY * 3, .chunked = true}, &r);
    assert_problem(&r, 413, "payload-too-large", "/echo");
    response_free(&r);
    free(big);
}

static void test_body_just_under_cap_is_accepted_and_echoed(void **state)
{
    fixture *f = *state;
    char body[MAX_BODY];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)('a' + i % 26);
    size_t sizes[] = {MAX_BODY - 1, MAX_BODY};
    for (size_t k = 0; k < 2; k++) {
        response r;
        request(f->port, "/echo", &(request_opts){.body = body, .body_len = sizes[k]}, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body.len, sizes[k]);
        assert_memory_equal(r.body.data, body, sizes[k]);
        response_free(&r);
    }
    response r;
    request(f->port, "/echo",
            &(request_opts){.body = body, .body_len = MAX_BODY - 1, .chunked = true}, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, MAX_BODY - 1);
    response_free(&r);
}

/* ---- request framing (RFC 9112 section 6.3): no request smuggling ---- */

#define SMUGGLED "GET /items/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

static void test_differing_content_lengths_are_400_and_close_the_connection(void **state)
{
    fixture *f = *state;
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                              "Content-Length: 47\r\n\r\nabc" SMUGGLED,
                              400, "bad-framing");
    /* Even when the first one says there is no body at all. */
    expect_refused_and_closed(f->port,
                              "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                              "content-length: 44\r\n\r\n" SMUGGLED,
                              400, "bad-framing");
}

static void test_identical_content_lengths_are_one_length(void **state)
{
    fixture *f = *state;
    buf out;
    bool closed;
    raw_exchange(f->port,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
                 "Connection: close\r\n\r\nabc",
                 &out, &closed);
    assert_true(strncmp(buf_cstr(&out), "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf_cstr(&out), "\r\n\r\nabc"));
    buf_free(&out);
}

static void test_content_length_with_transfer_encoding_is_400_and_closes(void **state)
{
    fixture *f = *state;
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" SMUGGLED,
                              400, "bad-framing");
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "Content-Length: 0\r\n\r\n3\r\nabc\r\n0\r\n\r\n" SMUGGLED,
                              400, "bad-framing");
}

static void test_transfer_codings_other_than_a_final_chunked_are_refused_and_close(void **state)
{
    fixture *f = *state;
    /* A coding we do not implement, ahead of chunked: 501. */
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked"
                              "\r\n\r\n3\r\nabc\r\n0\r\n\r\n" SMUGGLED,
                              501, "not-implemented");
    /* Without a final chunked the body has no end: 400 (libmicrohttpd
     * would wait for the client to close, answering nothing). */
    const char *bad[] = {
        "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: \r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[512];
        snprintf(req, sizeof(req),
                 "POST /echo HTTP/1.1\r\nHost: x\r\n%s\r\n3\r\nabc\r\n0\r\n\r\n" SMUGGLED, bad[i]);
        expect_refused_and_closed(f->port, req, 400, "bad-framing");
    }
    /* HTTP/1.0 has no Transfer-Encoding (RFC 9112 section 6.1). */
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "\r\n3\r\nabc\r\n0\r\n\r\n",
                              400, "bad-framing");
}

static void test_a_chunked_body_in_any_letter_case_is_read(void **state)
{
    fixture *f = *state;
    buf out;
    bool closed;
    raw_exchange(f->port,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                 "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                 &out, &closed);
    assert_true(strncmp(buf_cstr(&out), "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf_cstr(&out), "\r\n\r\nabc"));
    buf_free(&out);
}

/* libmicrohttpd skips a header whose name ends in a space, which a proxy
 * may still read as Content-Length: the rest would be a second request. */
static void test_a_space_before_the_colon_is_400_and_closes(void **state)
{
    fixture *f = *state;
    expect_refused_and_closed(
        f->port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 47\r\n\r\n" SMUGGLED, 400,
        "bad-framing");
    /* A folded line (obs-fold) is glued to the name before it. */
    expect_refused_and_closed(f->port,
                              "POST /echo HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Content-Length: 47"
                              "\r\n\r\n" SMUGGLED,
                              400, "bad-framing");
}

/* A malformed Content-Length never reaches our code: libmicrohttpd 0.9.75
 * answers it with its own 400 (an HTML body, and its header block sent
 * twice) and closes. What the client gets is still a 400 and a close. */
static void test_a_negative_or_signed_content_length_is_400_and_closes(void **state)
{
    fixture *f = *state;
    const char *values[] = {"-1", "+3", "3, 3", "0x3"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char req[512];
        snprintf(req, sizeof(req),
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\nabc" SMUGGLED,
                 values[i]);
        buf out;
        bool closed;
        raw_exchange(f->port, req, &out, &closed);
        assert_true(strncmp(buf_cstr(&out), "HTTP/1.1 400 ", 13) == 0);
        assert_true(closed);
        assert_null(strstr(buf_cstr(&out), "smuggled"));
        buf_free(&out);
    }
}

static void test_valid_request_id_is_echoed(void **state)
{
    fixture *f = *state;
    const char *hdrs[] = {"X-Request-Id: abc.DEF_123-xyz", NULL};
    response r;
    request(f->port, "/missing", &(request_opts){.headers = hdrs}, &r);
    char rid[128];
    assert_string_equal(header_of(&r, "X-Request-Id", rid, sizeof(rid)), "abc.DEF_123-xyz");
    assert_string_equal(member_str(r.json, "request_id"), "abc.DEF_123-xyz");
    response_free(&r);
}

static void test_invalid_or_too_long_request_id_is_replaced_by_a_uuid(void **state)
{
    fixture *f = *state;
    char too_long[100] = "X-Request-Id: ";
    memset(too_long + strlen(too_long), 'a', 65);
    const char *bad[] = {"X-Request-Id: has space", "X-Request-Id: semi;colon", too_long};
    for (size_t i = 0; i < 3; i++) {
        const char *hdrs[] = {bad[i], NULL};
        response r;
        request(f->port, "/healthz", &(request_opts){.headers = hdrs}, &r);
        assert_int_equal(r.status, 200);
        char rid[128];
        assert_non_null(header_of(&r, "X-Request-Id", rid, sizeof(rid)));
        assert_true(uuid_is_valid(rid));
        response_free(&r);
    }
}

static void test_path_params_are_percent_decoded(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/items/caf%C3%A9%20au%2Blait?q=hello+world%21", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(member_str(r.json, "id"), "caf\xc3\xa9 au+lait");
    assert_string_equal(member_str(r.json, "q"), "hello world!");
    response_free(&r);

    request(f->port, "/teams/t1/members/m%2D2", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(member_str(r.json, "team"), "t1");
    assert_string_equal(member_str(r.json, "member"), "m-2");
    response_free(&r);
}

static void test_encoded_slash_in_a_segment_matches_no_route(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/items/a%2Fb", NULL, &r);
    assert_problem(&r, 404, "not-found", "/items/a%2Fb");
    response_free(&r);
}

static void test_malformed_percent_escape_is_400_problem(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/items/%zz", NULL, &r);
    assert_problem(&r, 400, "bad-request", "/items/%zz");
    response_free(&r);
    request(f->port, "/items/a%00b", NULL, &r);
    assert_problem(&r, 400, "bad-request", "/items/a%00b");
    response_free(&r);
}

static void test_literal_segment_beats_param_whatever_the_table_order(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/items/new", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(member_str(r.json, "route"), "items.new");
    response_free(&r);
}

static void test_absurdly_long_path_is_414_problem(void **state)
{
    fixture *f = *state;
    char path[3002] = "/";
    memset(path + 1, 'p', 3000);
    response r;
    request(f->port, path, NULL, &r);
    assert_problem(&r, 414, "uri-too-long", path);
    response_free(&r);
}

/* The request line and headers share libmicrohttpd's 16 KB connection pool:
 * 12 KB of headers are served, 20 KB are refused with 431. */
static void test_headers_up_to_12_kb_are_served_and_20_kb_are_431(void **state)
{
    fixture *f = *state;
    static char big[20100];
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', 12000);
    big[7 + 12000] = '\0';
    const char *headers[] = {big, NULL};
    request_opts o = {.headers = headers};
    response r;
    request(f->port, "/healthz", &o, &r);
    assert_int_equal(r.status, 200);
    response_free(&r);
    memset(big + 7, 'a', 20000);
    big[7 + 20000] = '\0';
    request(f->port, "/healthz", &o, &r);
    assert_int_equal(r.status, 431);
    response_free(&r);
}

static void test_healthz_is_200_ok(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(member_str(r.json, "status"), "ok");
    char ct[128];
    assert_string_equal(header_of(&r, "Content-Type", ct, sizeof(ct)), "application/json");
    response_free(&r);
}

static void test_readyz_is_200_with_a_database(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(member_str(r.json, "status"), "ready");
    assert_string_equal(member_str(r.json, "database"), test_engine());
    response_free(&r);
}

static void test_readyz_is_503_problem_without_a_database(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/readyz", NULL, &r);
    assert_problem(&r, 503, "not-ready", "/readyz");
    response_free(&r);
}

/* The value of the sample line that starts with `series ` in a scrape; 0
 * when the series does not exist yet (counters appear on first use). */
static long long scrape(int port, const char *series)
{
    response r;
    request(port, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_string_equal(header_of(&r, "Content-Type", ct, sizeof(ct)),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(buf_cstr(&r.body), "# TYPE pstudio_http_requests_total counter"));
    long long v = 0;
    size_t slen = strlen(series);
    for (const char *line = buf_cstr(&r.body); *line;) {
        if (strncmp(line, series, slen) == 0 && line[slen] == ' ')
            v = strtoll(line + slen + 1, NULL, 10);
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    response_free(&r);
    return v;
}

static void test_metrics_count_one_request_to_a_route_exactly_once(void **state)
{
    fixture *f = *state;
    const char *series = "pstudio_http_requests_total{route=\"items.get\",code=\"200\"}";
    long long before = scrape(f->port, series);
    response r;
    request(f->port, "/items/abc", NULL, &r);
    assert_int_equal(r.status, 200);
    response_free(&r);
    /* The server counts a request once its response is out, which can be
     * just after the client has it: wait for the change, then check it. */
    long long after = before;
    for (int i = 0; i < 1000 && after == before; i++) {
        test_nap_ms(10);
        after = scrape(f->port, series);
    }
    assert_int_equal(after, before + 1);
    assert_true(
        scrape(f->port, "pstudio_http_request_duration_seconds_count{route=\"items.get\"}") >= 1);
    assert_int_equal(scrape(f->port, "pstudio_db_pool_size"), 4);
}

/* ---- security headers and who may read /metrics ---- */

static void assert_security_headers(const response *r, bool hsts)
{
    char v[256];
    assert_string_equal(header_of(r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(header_of(r, "Content-Security-Policy", v, sizeof(v)),
                        "default-src 'none'; frame-ancestors 'none'");
    assert_string_equal(header_of(r, "X-Frame-Options", v, sizeof(v)), "DENY");
    assert_string_equal(header_of(r, "Referrer-Policy", v, sizeof(v)), "no-referrer");
    if (hsts)
        assert_string_equal(header_of(r, "Strict-Transport-Security", v, sizeof(v)),
                            "max-age=31536000");
    else
        assert_null(header_of(r, "Strict-Transport-Security", v, sizeof(v)));
}

/* Successes, problems the router and the body cap produce, and a
 * handler's own error all carry them. */
static void expect_security_headers_everywhere(int port, bool hsts)
{
    char big[MAX_BODY * 2];
    memset(big, 'x', sizeof(big));
    const char *expect[] = {"Expect: 100-continue", NULL};
    struct {
        const char *path;
        request_opts o;
        long status;
    } cases[] = {
        {"/healthz", {0}, 200},
        {"/metrics", {0}, 200},
        {"/no/such/thing", {0}, 404},
        {"/items/x", {.method = "DELETE"}, 405},
        {"/conflict", {0}, 409},
        {"/echo", {.headers = expect, .body = big, .body_len = sizeof(big)}, 413},
        {"/no-reply", {0}, 500},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        response r;
        request(port, cases[i].path, &cases[i].o, &r);
        assert_int_equal(r.status, cases[i].status);
        assert_security_headers(&r, hsts);
        response_free(&r);
    }
    /* And a refusal of the request's framing, sent before any routing. */
    buf out;
    bool closed;
    raw_exchange(port,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2"
                 "\r\n\r\nab",
                 &out, &closed);
    assert_non_null(strstr(buf_cstr(&out), "\r\nContent-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(buf_cstr(&out), "\r\nX-Frame-Options: DENY\r\n"));
    assert_true((strstr(buf_cstr(&out), "\r\nStrict-Transport-Security: ") != NULL) == hsts);
    buf_free(&out);
}

static void test_every_answer_carries_the_security_headers(void **state)
{
    fixture *f = *state;
    expect_security_headers_everywhere(f->port, false);
}

static void test_hsts_is_sent_only_when_configured(void **state)
{
    (void)state;
    http_server_config cfg = test_config(NULL, 0);
    cfg.hsts = true;
    error err = {0};
    http_server *srv = start_with(&cfg, &err);
    assert_non_null(srv);
    expect_security_headers_everywhere(http_server_port(srv), true);
    http_server_stop(srv);
}

static void test_loopback_addresses_are_recognised(void **state)
{
    (void)state;
    struct {
        const char *addr;
        bool loopback;
    } cases[] = {
        {"127.0.0.1", true},    {"127.255.0.9", true},
        {"::1", true},          {"::ffff:127.0.0.1", true},
        {"10.0.0.1", false},    {"192.0.2.2", false},
        {"128.0.0.1", false},   {"::ffff:10.0.0.1", false},
        {"fe80::1", false},     {"::", false},
        {"::127.0.0.1", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, cases[i].addr, &in4->sin_addr) == 1)
            in4->sin_family = AF_INET;
        else {
            assert_int_equal(inet_pton(AF_INET6, cases[i].addr, &in6->sin6_addr), 1);
            in6->sin6_family = AF_INET6;
        }
        if (http_addr_is_loopback((struct sockaddr *)&ss) != cases[i].loopback)
            fail_msg("%s: expected %s", cases[i].addr, cases[i].loopback ? "loopback" : "not");
    }
    assert_false(http_addr_is_loopback(NULL));
}

static void test_metrics_with_a_token_need_it_even_from_loopback(void **state)
{
    (void)state;
    http_server_config cfg = test_config(NULL, 0);
    cfg.metrics_token = "s3cret-metrics-token";
    error err = {0};
    http_server *srv = start_with(&cfg, &err);
    assert_non_null(srv);
    int port = http_server_port(srv);
    const char *none[] = {NULL};
    const char *wrong[] = {"Authorization: Bearer s3cret-metrics-tokeN", NULL};
    const char *prefix[] = {"Authorization: Bearer s3cret", NULL};
    const char *basic[] = {"Authorization: Basic s3cret-metrics-token", NULL};
    const char *const *refused[] = {none, wrong, prefix, basic};
    for (size_t i = 0; i < 4; i++) {
        response r;
        request(port, "/metrics", &(request_opts){.headers = refused[i]}, &r);
        assert_problem(&r, 401, "unauthorized", "/metrics");
        assert_null(strstr(buf_cstr(&r.body), "pstudio_http_requests_total"));
        char v[128];
        assert_non_null(header_of(&r, "WWW-Authenticate", v, sizeof(v)));
        response_free(&r);
    }
    const char *right[] = {"Authorization: Bearer s3cret-metrics-token", NULL};
    response r;
    request(port, "/metrics", &(request_opts){.headers = right}, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(buf_cstr(&r.body), "pstudio_http_requests_total"));
    response_free(&r);
    /* The other operational routes stay open. */
    request(port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    response_free(&r);
    http_server_stop(srv);
}

/* ---- a database outage: the client learns that, and nothing more ---- */

/* A database the server cannot use: on PostgreSQL it refuses connections
 * and the server's are cut; on SQLite another connection holds the write
 * lock, so a write waits out the busy timeout. Undone by outage_end. */
typedef struct outage {
    db *holder; /* SQLite: the pool whose connection holds the lock */
    db_conn *c;
} outage;

static void outage_begin(test_api *a, outage *o)
{
    memset(o, 0, sizeof(*o));
    char sql[1024];
    if (strcmp(test_engine(), "postgres") == 0) {
        snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false", a->t.name);
        testdb_admin_exec(sql);
        snprintf(sql, sizeof(sql),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
                 a->t.name);
        testdb_admin_exec(sql);
        return;
    }
    db_error de;
    o->holder = db_open(a->t.url, 1, &de);
    assert_non_null(o->holder);
    o->c = db_acquire(o->holder);
    assert_int_equal(db_exec_script(o->c, "BEGIN IMMEDIATE", &de), 0);
}

static void outage_end(test_api *a, outage *o)
{
    if (strcmp(test_engine(), "postgres") == 0) {
        char sql[1024];
        snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", a->t.name);
        testdb_admin_exec(sql);
        return;
    }
    db_error de;
    assert_int_equal(db_exec_script(o->c, "ROLLBACK", &de), 0);
    db_release(o->c);
    db_close(o->holder);
}

/* What an engine says about itself, and must not reach a client. */
static void assert_names_no_internals(const test_resp *r, const char *dbname)
{
    const char *leaks[] = {"127.0.0.1", "connection to server",
                           "FATAL",     "port ",
                           "locked",    "sqlite",
                           "SQLITE",    "postgres",
                           dbname};
    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
        if (strstr(r->body, leaks[i]) != NULL)
            fail_msg("the answer quotes '%s': %s", leaks[i], r->body);
}

static char *read_log(FILE *logf)
{
    fflush(logf);
    long n = ftell(logf);
    char *text = calloc(1, (size_t)n + 1);
    rewind(logf);
    assert_int_equal(fread(text, 1, (size_t)n, logf), (size_t)n);
    return text;
}

static void test_a_database_outage_is_a_503_that_quotes_no_engine_message(void **state)
{
    (void)state;
    test_api a;
    test_api_start(&a);
    char token[128];
    test_signup(&a, "ana@example.com", token);
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_init(LOG_INFO, logf);
    outage o;
    outage_begin(&a, &o);
    /* The first use of a cut connection fails one way, the reconnect
     * another: a few requests meet both. */
    for (int i = 0; i < 3; i++) {
        test_resp r = test_req(&a, "POST", "/api/v1/personas", token,
                               "{\"name\":\"Calm\",\"system_instruction\":\"Be calm.\"}", NULL);
        test_expect(&r, 503, "unavailable");
        assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
                            "the database is unavailable; try again shortly");
        assert_names_no_internals(&r, a.t.name);
        test_resp_free(&r);
    }
    if (strcmp(test_engine(), "postgres") == 0) { /* SQLite still reads while locked */
        test_resp r = test_req(&a, "GET", "/readyz", NULL, NULL, NULL);
        test_expect(&r, 503, "not-ready");
        assert_names_no_internals(&r, a.t.name);
        test_resp_free(&r);
    }
    outage_end(&a, &o);
    /* The operator's log has what the engine said. */
    char *text = read_log(logf);
    log_init(LOG_INFO, NULL);
    fclose(logf);
    const char *engine_says =
        strcmp(test_engine(), "postgres") == 0 ? "not currently accepting connections" : "locked";
    if (strstr(text, "database unavailable") == NULL || strstr(text, engine_says) == NULL)
        fail_msg("the log does not say what the engine said (%s): %s", engine_says, text);
    free(text);
    test_api_stop(&a);
}

static void test_handler_that_sets_no_reply_gets_500_problem(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/no-reply", NULL, &r);
    assert_problem(&r, 500, "internal", "/no-reply");
    response_free(&r);
}

static void test_reply_error_maps_kind_to_status_and_names_the_field(void **state)
{
    fixture *f = *state;
    response r;
    request(f->port, "/conflict", NULL, &r);
    assert_problem(&r, 409, "conflict", "/conflict");
    assert_string_equal(member_str(r.json, "field"), "name");
    assert_non_null(strstr(member_str(r.json, "detail"), "already exists"));
    response_free(&r);
}

typedef struct slow_call {
    int port;
    response r;
} slow_call;

static void *slow_client(void *arg)
{
    slow_call *sc = arg;
    request(sc->port, "/slow", NULL, &sc->r);
    return NULL;
}

static void *stop_server(void *arg)
{
    http_server_stop(arg);
    return NULL;
}

static void test_graceful_stop_lets_an_in_flight_request_finish(void **state)
{
    fixture *f = *state;
    atomic_store(&slow_started, 0);
    atomic_store(&slow_release, 0);
    slow_call sc = {.port = f->port};
    pthread_t th, stopper;
    assert_int_equal(pthread_create(&th, NULL, slow_client, &sc), 0);
    for (int i = 0; i < 3000 && !atomic_load(&slow_started); i++) {
        test_nap_ms(5);
    }
    assert_true(atomic_load(&slow_started));
    assert_int_equal(pthread_create(&stopper, NULL, stop_server, f->srv), 0);
    f->srv = NULL;
    /* While the slow request runs, a new one is told to come back. */
    response r = {0};
    for (int i = 0; i < 400; i++) {
        request(f->port, "/healthz", NULL, &r);
        if (r.status == 503)
            break;
        response_free(&r);
        test_nap_ms(5);
    }
    assert_problem(&r, 503, "shutting-down", "/healthz");
    assert_non_null(strcasestr(buf_cstr(&r.headers), "retry-after: 1"));
    assert_non_null(strcasestr(buf_cstr(&r.headers), "connection: close"));
    assert_security_headers(&r, false);
    response_free(&r);
    atomic_store(&slow_release, 1);
    pthread_join(stopper, NULL);
    pthread_join(th, NULL);
    assert_int_equal(sc.r.status, 200);
    assert_string_equal(buf_cstr(&sc.r.body), "done");
    response_free(&sc.r);
}

typedef struct busy_client {
    int port;
    atomic_int stop;
    int answered;
} busy_client;

/* New connections, one request each, as fast as they go, until told to stop. */
static void *busy_client_run(void *arg)
{
    busy_client *bc = arg;
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    while (!atomic_load(&bc->stop)) {
        /* A raw socket: a stopping server may refuse or drop us, which is fine. */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bc->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        char got[512];
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1) &&
            recv(fd, got, sizeof(got), 0) > 12 && strncmp(got, "HTTP/1.1 200", 12) == 0)
            bc->answered++;
        close(fd);
    }
    return NULL;
}

/* libmicrohttpd's epoll mode races its own worker threads when the
 * listening socket is taken out of the event loop at a stop, and aborts
 * the process now and then (decision 38). Stopping a busy server many times
 * must never do that. */
static void test_stopping_a_busy_server_many_times_never_aborts(void **state)
{
    (void)state;
    int answered = 0;
    for (int round = 0; round < 200; round++) {
        error err = {0};
        http_server *srv = start_server(NULL, 0, &err);
        assert_non_null(srv);
        busy_client bc[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            bc[i] = (busy_client){.port = http_server_port(srv)};
            assert_int_equal(pthread_create(&th[i], NULL, busy_client_run, &bc[i]), 0);
        }
        test_nap_ms(5 + round % 7);
        http_server_stop(srv);
        for (int i = 0; i < 3; i++) {
            atomic_store(&bc[i].stop, 1);
            pthread_join(th[i], NULL);
            answered += bc[i].answered;
        }
    }
    assert_true(answered > 0); /* the clients were served between the stops */
}

/* ---- one client cannot exhaust the server's connections ---- */

/* Whether the server has closed fd, without waiting. */
static bool closed_by_server(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Every test client is on loopback; 127.0.0.2 is another loopback address,
 * so "one address" and "everyone else" can both be played here. */
static void test_one_address_holds_at_most_its_limit_and_health_still_answers(void **state)
{
    (void)state;
    http_server_config cfg = test_config(NULL, 0);
    cfg.max_connections_per_ip = 4;
    cfg.first_request_timeout_s = 30; /* nothing here should time out */
    error err = {0};
    http_server *srv = start_with(&cfg, &err);
    assert_non_null(srv);
    int port = http_server_port(srv);
    /* Five from that address: one of them is closed at once, unanswered.
     * Which one is up to the order the server's threads accept them in, not
     * the order they were connected in, so the test waits for any one. */
    int all[5], idle[4], refused = -1;
    for (int i = 0; i < 5; i++)
        all[i] = connect_from("127.0.0.2", port);
    for (int tries = 0; tries < 1000 && refused < 0; tries++) {
        for (int i = 0; i < 5 && refused < 0; i++)
            if (closed_by_server(all[i]))
                refused = i;
        if (refused < 0)
            test_nap_ms(10);
    }
    assert_true(refused >= 0);
    for (int i = 0, n = 0; i < 5; i++)
        if (i != refused)
            idle[n++] = all[i];
    close(all[refused]);
    buf out;
    /* while everyone else is served, */
    response r;
    request(port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    response_free(&r);
    request(port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 503); /* no database here, but it answers */
    response_free(&r);
    /* and the four it holds are still open and can be used. */
    for (int i = 0; i < 4; i++)
        assert_false(closed_by_server(idle[i]));
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(idle[0], req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    buf_init(&out, 4096);
    assert_true(read_until_closed(idle[0], &out, 10));
    assert_true(strncmp(buf_cstr(&out), "HTTP/1.1 200 ", 13) == 0);
    buf_free(&out);
    /* A slot given back can be taken again. */
    close(idle[0]);
    int again = -1;
    for (int i = 0; i < 200; i++) { /* the server notices the close shortly after */
        again = connect_from("127.0.0.2", port);
        assert_int_equal(send(again, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
        buf_init(&out, 4096);
        read_until_closed(again, &out, 10);
        bool served = strncmp(buf_cstr(&out), "HTTP/1.1 200 ", 13) == 0;
        buf_free(&out);
        close(again);
        if (served)
            break;
        again = -1;
        test_nap_ms(10);
    }
    assert_true(again >= 0);
    for (int i = 1; i < 4; i++)
        close(idle[i]);
    http_server_stop(srv);
}

static void test_a_connection_that_never_sends_a_request_is_closed_early(void **state)
{
    (void)state;
    http_server_config cfg = test_config(NULL, 0);
    cfg.first_request_timeout_s = 1;
    error err = {0};
    http_server *srv = start_with(&cfg, &err);
    assert_non_null(srv);
    int port = http_server_port(srv);
    int silent = connect_from(NULL, port);
    int used = connect_from(NULL, port);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(used, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    char got[1024];
    assert_true(recv(used, got, sizeof(got), 0) > 12);
    assert_true(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
    /* The silent one goes well within the 30 s a connection in use gets. */
    buf out;
    buf_init(&out, 4096);
    assert_true(read_until_closed(silent, &out, 20));
    assert_int_equal(out.len, 0);
    buf_free(&out);
    close(silent);
    /* The one that sent a request waits as long as any connection in use. */
    assert_false(closed_by_server(used));
    assert_int_equal(send(used, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    assert_true(recv(used, got, sizeof(got), 0) > 12);
    assert_true(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
    close(used);
    http_server_stop(srv);
}

static void test_port_in_use_is_a_config_error_naming_pstudio_port(void **state)
{
    fixture *f = *state;
    error err = {0};
    http_server *second = start_server(NULL, f->port, &err);
    assert_null(second);
    assert_int_equal(err.kind, ERR_CONFIG);
    assert_string_equal(err.field, "PSTUDIO_PORT");
    char where[64];
    snprintf(where, sizeof(where), "127.0.0.1:%d", f->port);
    assert_non_null(strstr(err.message, where));
}

static void test_access_log_has_route_and_status_but_no_query_string(void **state)
{
    fixture *f = *state;
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_init(LOG_INFO, logf);
    response r;
    request(f->port, "/items/logged?q=secret-token", NULL, &r);
    assert_int_equal(r.status, 200);
    char rid[128];
    header_of(&r, "X-Request-Id", rid, sizeof(rid));
    response_free(&r);
    /* The line is written once the response is out; wait for it. */
    char text[8192] = "";
    for (int i = 0; i < 1000 && !strstr(text, "\"route\":\"items.get\""); i++) {
        test_nap_ms(5);
        rewind(logf);
        size_t n = fread(text, 1, sizeof(text) - 1, logf);
        text[n] = '\0';
    }
    log_init(LOG_INFO, NULL);
    fclose(logf);
    assert_non_null(strstr(text, "\"msg\":\"request\""));
    assert_non_null(strstr(text, "\"path\":\"/items/logged\""));
    assert_non_null(strstr(text, "\"route\":\"items.get\""));
    assert_non_null(strstr(text, "\"status\":200"));
    assert_non_null(strstr(text, "\"duration_ms\":"));
    assert_non_null(strstr(text, rid));
    assert_null(strstr(text, "secret-token"));
}

static void test_problem_json_encodes_all_members_and_omits_absent_ones(void **state)
{
    (void)state;
    json_t *p = http_problem_json(404, "not-found", "Not found", "No persona with that id.",
                                  "/api/v1/personas/x", "rid-1");
    assert_string_equal(member_str(p, "type"), "/problems/not-found");
    assert_string_equal(member_str(p, "title"), "Not found");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
    assert_string_equal(member_str(p, "detail"), "No persona with that id.");
    assert_string_equal(member_str(p, "instance"), "/api/v1/personas/x");
    assert_string_equal(member_str(p, "request_id"), "rid-1");
    assert_int_equal(json_object_size(p), 6);
    json_decref(p);

    p = http_problem_json(500, NULL, "Internal server error", NULL, NULL, NULL);
    assert_string_equal(member_str(p, "type"), "about:blank");
    assert_null(json_object_get(p, "detail"));
    assert_null(json_object_get(p, "instance"));
    assert_null(json_object_get(p, "request_id"));
    json_decref(p);
}

static void test_bad_route_table_is_refused_at_start(void **state)
{
    (void)state;
    const http_route dup[] = {
        {"GET", "/a/{x}", h_echo, "a.one"},
        {"GET", "/a/{y}", h_echo, "a.two"},
    };
    const http_route brace[] = {{"GET", "/a/{x", h_echo, "a.bad"}};
    http_server_config cfg = {.port = 0, .threads = 1};
    error err = {0};
    assert_null(http_server_start(&cfg, dup, 2, &err));
    assert_int_equal(err.kind, ERR_CONFIG);
    assert_non_null(strstr(err.message, "a.two"));
    assert_null(http_server_start(&cfg, brace, 1, &err));
    assert_int_equal(err.kind, ERR_CONFIG);
}

#define WITH_DB(t)    cmocka_unit_test_setup_teardown(t, setup_with_db, teardown)
#define WITHOUT_DB(t) cmocka_unit_test_setup_teardown(t, setup_without_db, teardown)

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        WITH_DB(test_unknown_route_is_404_problem_json),
        WITH_DB(test_not_found_keeps_the_connection_alive),
        WITH_DB(test_wrong_method_is_405_with_allow_listing_methods),
        WITH_DB(test_body_over_cap_by_content_length_is_413_before_it_is_sent),
        WITH_DB(test_chunked_body_over_cap_is_413),
        WITH_DB(test_body_just_under_cap_is_accepted_and_echoed),
        WITH_DB(test_differing_content_lengths_are_400_and_close_the_connection),
        WITH_DB(test_identical_content_lengths_are_one_length),
        WITH_DB(test_content_length_with_transfer_encoding_is_400_and_closes),
        WITH_DB(test_transfer_codings_other_than_a_final_chunked_are_refused_and_close),
        WITH_DB(test_a_chunked_body_in_any_letter_case_is_read),
        WITH_DB(test_a_space_before_the_colon_is_400_and_closes),
        WITH_DB(test_a_negative_or_signed_content_length_is_400_and_closes),
        WITH_DB(test_valid_request_id_is_echoed),
        WITH_DB(test_invalid_or_too_long_request_id_is_replaced_by_a_uuid),
        WITH_DB(test_path_params_are_percent_decoded),
        WITH_DB(test_encoded_slash_in_a_segment_matches_no_route),
        WITH_DB(test_malformed_percent_escape_is_400_problem),
        WITH_DB(test_literal_segment_beats_param_whatever_the_table_order),
        WITH_DB(test_absurdly_long_path_is_414_problem),
        WITH_DB(test_headers_up_to_12_kb_are_served_and_20_kb_are_431),
        WITH_DB(test_healthz_is_200_ok),
        WITH_DB(test_readyz_is_200_with_a_database),
        WITHOUT_DB(test_readyz_is_503_problem_without_a_database),
        WITH_DB(test_metrics_count_one_request_to_a_route_exactly_once),
        WITH_DB(test_every_answer_carries_the_security_headers),
        cmocka_unit_test(test_hsts_is_sent_only_when_configured),
        cmocka_unit_test(test_loopback_addresses_are_recognised),
        cmocka_unit_test(test_metrics_with_a_token_need_it_even_from_loopback),
        cmocka_unit_test(test_a_database_outage_is_a_503_that_quotes_no_engine_message),
        WITH_DB(test_handler_that_sets_no_reply_gets_500_problem),
        WITH_DB(test_reply_error_maps_kind_to_status_and_names_the_field),
        WITH_DB(test_graceful_stop_lets_an_in_flight_request_finish),
        cmocka_unit_test(test_stopping_a_busy_server_many_times_never_aborts),
        cmocka_unit_test(test_one_address_holds_at_most_its_limit_and_health_still_answers),
        cmocka_unit_test(test_a_connection_that_never_sends_a_request_is_closed_early),
        WITH_DB(test_port_in_use_is_a_config_error_naming_pstudio_port),
        WITH_DB(test_access_log_has_route_and_status_but_no_query_string),
        cmocka_unit_test(test_problem_json_encodes_all_members_and_omits_absent_ones),
        cmocka_unit_test(test_bad_route_table_is_refused_at_start),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
