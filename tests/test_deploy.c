/*
 * The deployment files of docs/deploy/, run for real: the systemd units
 * pass `systemd-analyze verify` without a complaint, and pstudio serve runs
 * behind a real nginx on loopback with the documented site configuration
 * (TLS, X-Forwarded-For, the unbuffered event stream), trusting only the
 * address nginx connects from. Run once per engine.
 *
 * Loopback stands in for the network: nginx reaches serve from 127.0.0.2
 * (proxy_bind, the one line this test adds to the site file) and clients
 * reach nginx from 127.0.0.3 and up (CURLOPT_INTERFACE), so "the proxy"
 * and "a client" have different addresses, as they do in production.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEPLOY_DIR PSTUDIO_SOURCE_DIR "/docs/deploy"
#define NGINX      "/usr/sbin/nginx"

static char out[65536];

/* The file's text (malloc'd); fails the test when it cannot be read. */
static char *text_of(const char *path)
{
    char *text = test_slurp(path, NULL);
    if (text == NULL)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    return text;
}

/* Copies src to dst line by line, replacing each line that contains a key
 * of `subst` (pairs of "needle", "replacement line"; a NULL replacement
 * drops the line) and failing when a needle matched nothing: the test must
 * notice when the documented file changes under it. */
static void rewrite(const char *src, const char *dst, const char *const subst[])
{
    FILE *in = fopen(src, "r"), *o = fopen(dst, "w");
    assert_non_null(in);
    assert_non_null(o);
    bool used[32] = {false};
    char line[1024];
    while (fgets(line, sizeof(line), in) != NULL) {
        bool replaced = false;
        for (size_t i = 0; subst[i] != NULL; i += 2) {
            if (strstr(line, subst[i]) == NULL)
                continue;
            used[i / 2] = true;
            if (subst[i + 1] != NULL)
                fprintf(o, "%s\n", subst[i + 1]);
            replaced = true;
            break;
        }
        if (!replaced)
            fputs(line, o);
    }
    fclose(in);
    fclose(o);
    for (size_t i = 0; subst[i] != NULL; i += 2)
        if (!used[i / 2])
            fail_msg("%s no longer contains '%s'", src, subst[i]);
}

/* ---- systemd ------------------------------------------------------------------------------ */

static void test_the_systemd_units_verify_cleanly(void **state)
{
    (void)state;
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    const char *units[] = {"pstudio-serve.service", "pstudio-worker.service"};
    char paths[2][400];
    for (int i = 0; i < 2; i++) {
        char src[400], exec_line[400];
        snprintf(src, sizeof(src), "%s/%s", DEPLOY_DIR, units[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, units[i]);
        snprintf(exec_line, sizeof(exec_line), "ExecStart=%s %s", PSTUDIO_BIN,
                 i == 0 ? "serve" : "worker");
        /* The units name /usr/local/bin/pstudio; verify checks that it exists. */
        const char *subst[] = {"ExecStartPre=/", "ExecStartPre=" PSTUDIO_BIN " migrate",
                               "ExecStart=/", exec_line, NULL};
        rewrite(src, paths[i], subst);
        /* The hardening the README promises is in the file itself. */
        char *text = text_of(src);
        const char *must[] = {
            "DynamicUser=yes", "ProtectSystem=strict",       "NoNewPrivileges=yes",
            "StateDirectory=", "LoadCredential=secret.key:", "RestartPreventExitStatus=2"};
        for (size_t k = 0; k < sizeof(must) / sizeof(must[0]); k++)
            if (strstr(text, must[k]) == NULL)
                fail_msg("%s lacks %s", units[i], must[k]);
        free(text);
    }
    const char *argv[] = {
        "/usr/bin/systemd-analyze", "verify", "--man=no", paths[0], paths[1], NULL};
    if (access(argv[0], X_OK) != 0)
        fail_msg("%s is missing (Debian package systemd)", argv[0]);
    int rc = test_run(argv, NULL, NULL, out, sizeof(out));
    /* verify exits 0 even for unknown keys and bad values: it only warns. */
    if (rc != 0 || strstr(out, ".service") != NULL)
        fail_msg("systemd-analyze verify (exit %d):\n%s", rc, out);
}

/* ---- nginx --------------------------------------------------------------------------------- */

typedef struct deploy {
    testdb t;
    char dir[256];
    test_proc serve, nginx; /* nginx: pid only */
    int https_port, http_port;
} deploy;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void start_serve(deploy *d)
{
    char log[400], data[300];
    snprintf(log, sizeof(log), "%s/serve.log", d->dir);
    snprintf(data, sizeof(data), "%s/data", d->dir);
    const char *const env[] = {"PSTUDIO_TRUSTED_PROXIES=127.0.0.2",
                               "PSTUDIO_MAX_CONNECTIONS_PER_IP=0", NULL};
    test_proc_opts o = {.db_url = d->t.url, .data_dir = data, .log = log, .env = env};
    test_proc_start(&d->serve, "serve", &o);
    test_proc_ready(&d->serve);
}

/* The documented site file with test addresses, inside a minimal nginx.conf
 * that keeps every path in the test's directory. */
static void write_nginx_conf(deploy *d)
{
    char cert[400], key[400];
    snprintf(cert, sizeof(cert), "%s/cert.pem", d->dir);
    snprintf(key, sizeof(key), "%s/key.pem", d->dir);
    const char *openssl[] = {
        "/usr/bin/openssl", "req",   "-x509", "-newkey", "rsa:2048",
        "-nodes",           "-days", "1",     "-subj",   "/CN=studio.example.com",
        "-keyout",          key,     "-out",  cert,      NULL};
    if (test_run(openssl, NULL, NULL, out, sizeof(out)) != 0)
        fail_msg("openssl req:\n%s", out);

    char upstream[64], listen_http[64], listen_https[64], cert_line[500], key_line[500];
    snprintf(upstream, sizeof(upstream), "    server 127.0.0.1:%d;", d->serve.port);
    snprintf(listen_http, sizeof(listen_http), "    listen 127.0.0.1:%d;", d->http_port);
    snprintf(listen_https, sizeof(listen_https), "    listen 127.0.0.1:%d ssl http2;",
             d->https_port);
    snprintf(cert_line, sizeof(cert_line), "    ssl_certificate %s;", cert);
    snprintf(key_line, sizeof(key_line), "    ssl_certificate_key %s;", key);
    const char *subst[] = {"server 127.0.0.1:8080;",
                           upstream,
                           "listen [::]:",
                           NULL,
                           "listen 80;",
                           listen_http,
                           "listen 443 ssl http2;",
                           listen_https,
                           "ssl_certificate /",
                           cert_line,
                           "ssl_certificate_key /",
                           key_line,
                           "proxy_http_version 1.1;",
                           "    proxy_http_version 1.1;\n    proxy_bind 127.0.0.2;",
                           NULL};
    char site[400], conf[400];
    snprintf(site, sizeof(site), "%s/site.conf", d->dir);
    snprintf(conf, sizeof(conf), "%s/nginx.conf", d->dir);
    rewrite(DEPLOY_DIR "/nginx-pstudio.conf", site, subst);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "daemon off;\nmaster_process off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
            "events { worker_connections 256; }\n"
            "http {\n  access_log off;\n  client_body_temp_path %s/body;\n"
            "  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fastcgi;\n"
            "  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n  include %s;\n}\n",
            d->dir, d->dir, d->dir, d->dir, d->dir, d->dir, d->dir, site);
    fclose(f);
}

static int setup(void **state)
{
    deploy *d = test_calloc(1, sizeof(*d));
    testdb_create_empty(&d->t);
    test_tmpdir(d->dir, sizeof(d->dir));
    if (access(NGINX, X_OK) != 0)
        fail_msg("%s is missing: scripts/install-deps.sh test installs nginx-light", NGINX);
    start_serve(d);
    d->https_port = free_port();
    d->http_port = free_port();
    write_nginx_conf(d);
    char conf[400], err_log[400];
    snprintf(conf, sizeof(conf), "%s/nginx.conf", d->dir);
    snprintf(err_log, sizeof(err_log), "%s/error.log", d->dir);
    const char *check[] = {NGINX, "-t", "-p", d->dir, "-e", err_log, "-c", conf, NULL};
    if (test_run(check, NULL, NULL, out, sizeof(out)) != 0)
        fail_msg("nginx -t refused the documented configuration:\n%s", out);
    d->nginx.pid = fork();
    if (d->nginx.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl(NGINX, NGINX, "-p", d->dir, "-e", err_log, "-c", conf, (char *)NULL);
        _exit(127);
    }
    for (int tries = 0; tries < 200 && !port_open(d->https_port); tries++)
        test_nap_ms(50);
    if (!port_open(d->https_port))
        fail_msg("nginx did not start:\n%s", text_of(err_log));
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    deploy *d = *state;
    test_proc_stop(&d->nginx, SIGQUIT, 30);
    test_proc_stop(&d->serve, SIGTERM, 30);
    testdb_destroy(&d->t);
    test_free(d);
    return 0;
}

typedef struct reply {
    long status;
    char body[8192];
    size_t len;
    const char *stop_at; /* abort the transfer once the body contains it */
} reply;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t take = size * n;
    if (take > sizeof(r->body) - 1 - r->len)
        take = sizeof(r->body) - 1 - r->len;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    if (r->stop_at != NULL && strstr(r->body, r->stop_at) != NULL)
        return 0; /* seen: abort the (endless) stream */
    return size * n;
}

/* One request to nginx over TLS, from `from` (a loopback address). */
static CURLcode via_nginx(deploy *d, const char *from, const char *method, const char *path,
                          const char *body, const char *const headers[], reply *r)
{
    char url[256];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", d->https_port, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_INTERFACE, from);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* the test's self-signed certificate */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return rc;
}

/* Failed log-ins of unknown accounts from `from` until 429; how many 401s came first. */
static int logins_until_limited(deploy *d, const char *from, const char *xff, int most)
{
    char header[128], body[160];
    snprintf(header, sizeof(header), "X-Forwarded-For: %s", xff ? xff : "");
    const char *headers[] = {xff ? header : NULL, NULL};
    for (int i = 0; i < most; i++) {
        snprintf(body, sizeof(body), "{\"email\":\"nobody%d@%s.example.com\",\"password\":\"x\"}",
                 i, from);
        reply r = {0};
        assert_int_equal(via_nginx(d, from, "POST", "/api/v1/auth/login", body, headers, &r),
                         CURLE_OK);
        if (r.status == 429)
            return i;
        if (r.status != 401)
            fail_msg("log-in from %s: %ld %s", from, r.status, r.body);
    }
    return most;
}

/* Behind nginx the log-in limiter counts each client's own address: the
 * default 10 × 3 log-ins per address, then 429; a second client is not
 * affected, and a forged X-Forwarded-For moves no one out of their bucket.
 * The access log names the client and the proxy. */
static void test_behind_nginx_the_limiter_counts_each_client_s_address(void **state)
{
    deploy *d = *state;
    int per_ip = 30;
    assert_int_equal(logins_until_limited(d, "127.0.0.3", NULL, per_ip + 1), per_ip);
    assert_int_equal(logins_until_limited(d, "127.0.0.4", NULL, 1), 1);
    assert_int_equal(logins_until_limited(d, "127.0.0.3", "198.51.100.23", 1), 0);

    char *log = text_of(d->serve.log);
    if (strstr(log, "\"client\":\"127.0.0.4\",\"peer\":\"127.0.0.2\"") == NULL)
        fail_msg("the access log does not name the forwarded client:\n%.4000s", log);
    assert_null(strstr(log, "\"client\":\"198.51.100.23\""));
    free(log);

    /* The plain-HTTP server only redirects to HTTPS. */
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/auth/login", d->http_port);
    CURL *h = curl_easy_init();
    reply r = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(h);
    assert_int_equal(r.status, 301);
}

/* The event stream's first bytes reach the client while the stream is
 * open: nginx does not hold them back until the stream ends (5 minutes).
 * The transfer is aborted once the greeting is in. */
static void test_behind_nginx_the_event_stream_is_not_buffered(void **state)
{
    deploy *d = *state;
    reply r = {0};
    assert_int_equal(via_nginx(d, "127.0.0.5", "POST", "/api/v1/auth/signup",
                               "{\"email\":\"ana@example.com\",\"password\":\"correct horse "
                               "battery\"}",
                               NULL, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 201);
    const char *t = strstr(r.body, "\"token\":\"");
    assert_non_null(t);
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s", (int)strcspn(t + 9, "\""), t + 9);
    const char *headers[] = {auth, "Accept: text/event-stream", NULL};
    reply s = {.stop_at = ": connected"};
    CURLcode rc = via_nginx(d, "127.0.0.5", "GET", "/api/v1/events", NULL, headers, &s);
    /* Aborted by collect() on the greeting: the stream was still open. */
    assert_int_equal(rc, CURLE_WRITE_ERROR);
    assert_int_equal(s.status, 200);
    assert_non_null(strstr(s.body, "retry: 2000"));

    /* A body over client_max_body_size stops at nginx. */
    static char big[2 * 1024 * 1024];
    memset(big, 'a', sizeof(big) - 1);
    reply b = {0};
    assert_int_equal(via_nginx(d, "127.0.0.5", "POST", "/api/v1/auth/login", big, NULL, &b),
                     CURLE_OK);
    assert_int_equal(b.status, 413);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_systemd_units_verify_cleanly),
        cmocka_unit_test_setup_teardown(test_behind_nginx_the_limiter_counts_each_client_s_address,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_behind_nginx_the_event_stream_is_not_buffered, setup,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
