/*
 * The dashboard's browser test, its C half: starts what a real deployment
 * runs, on loopback, and hands it to tests/web/journey.mjs (headless
 * Chromium driven by playwright-core) to use as a person would.
 *
 *   web_journey SCRIPT NODE_MODULES ARTIFACTS
 *
 * It starts the fake Google of tests/fake_google.c (consent, token,
 * userinfo, YouTube channels.list), migrates a fresh SQLite database, starts
 * `pstudio serve` with one in-process job worker and the offline script
 * writer, pointed at the fake for every Google address, waits until it is
 * ready, then runs `node SCRIPT` with PSTUDIO_WEB_BASE (the dashboard's
 * address), PSTUDIO_WEB_NODE_MODULES and PSTUDIO_WEB_ARTIFACTS (where
 * screenshots go). Exits with the script's status; the server's log is
 * ARTIFACTS/serve.log. Everything it started is stopped before it exits.
 */
#include "fake_google.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_ID     "web-journey.apps.googleusercontent.com"
#define CLIENT_SECRET "web-journey-secret"

/* A port the kernel just gave out and took back: free unless someone takes
 * it in the moment before serve binds it. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("web_journey: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void set(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set(const char *name, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    setenv(name, v, 1);
}

/* Starts argv with stdout and stderr appended to log (NULL: inherited). */
static pid_t spawn(const char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("web_journey: fork");
        exit(1);
    }
    if (pid == 0) {
        if (log != NULL) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "web_journey: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t discard(void *p, size_t s, size_t n, void *u)
{
    return s * n;
}

/* Polls /readyz until it answers 200 or serve exits; false after 20 s. */
static bool wait_ready(int port, pid_t serve)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
    bool ok = false;
    for (int i = 0; i < 200 && !ok; i++) {
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        ok = code == 200;
        if (!ok) {
            if (waitpid(serve, NULL, WNOHANG) == serve)
                break;
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    curl_easy_cleanup(h);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: web_journey SCRIPT NODE_MODULES ARTIFACTS\n");
        return 2;
    }
    const char *script = argv[1], *modules = argv[2], *artifacts = argv[3];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    mkdir(artifacts, 0755);
    char dir[] = "/tmp/pstudio-web-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("web_journey: mkdtemp");
        return 1;
    }

    fake_google *fg = fake_google_start(CLIENT_ID, CLIENT_SECRET);
    int fp = fg->port, port = free_port();
    unsigned char raw[32];
    char key[64];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(key, sizeof(key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);

    set("PSTUDIO_DATA_DIR", "%s", dir);
    set("PSTUDIO_DATABASE_URL", "sqlite://%s/pstudio.db", dir);
    set("PSTUDIO_BIND", "127.0.0.1");
    set("PSTUDIO_PORT", "%d", port);
    set("PSTUDIO_WORKERS", "1");
    set("PSTUDIO_LLM_PROVIDER", "offline");
    set("PSTUDIO_SECRET_KEY", "%s", key);
    set("PSTUDIO_GOOGLE_CLIENT_ID", "%s", CLIENT_ID);
    set("PSTUDIO_GOOGLE_CLIENT_SECRET", "%s", CLIENT_SECRET);
    set("PSTUDIO_GOOGLE_REDIRECT_URI", "http://127.0.0.1:%d/api/v1/google/callback", port);
    set("PSTUDIO_GOOGLE_AUTH_URL", "http://127.0.0.1:%d/o/oauth2/v2/auth", fp);
    set("PSTUDIO_GOOGLE_TOKEN_URL", "http://127.0.0.1:%d/token", fp);
    set("PSTUDIO_GOOGLE_USERINFO_URL", "http://127.0.0.1:%d/v1/userinfo", fp);
    set("PSTUDIO_GOOGLE_REVOKE_URL", "http://127.0.0.1:%d/revoke", fp);
    set("PSTUDIO_YOUTUBE_API_URL", "http://127.0.0.1:%d/youtube/v3", fp);
    set("PSTUDIO_YOUTUBE_ANALYTICS_URL", "http://127.0.0.1:%d", fp);

    char log[1024];
    snprintf(log, sizeof(log), "%s/serve.log", artifacts);
    unlink(log);
    const char *migrate[] = {PSTUDIO_BIN, "migrate", NULL};
    int rc = wait_status(spawn(migrate, log));
    if (rc != 0) {
        fprintf(stderr, "web_journey: pstudio migrate exited %d (see %s)\n", rc, log);
        fake_google_stop(fg);
        return 1;
    }
    const char *serve_argv[] = {PSTUDIO_BIN, "serve", NULL};
    pid_t serve = spawn(serve_argv, log);
    if (!wait_ready(port, serve)) {
        fprintf(stderr, "web_journey: pstudio serve did not become ready (see %s)\n", log);
        kill(serve, SIGTERM);
        wait_status(serve);
        fake_google_stop(fg);
        return 1;
    }

    set("PSTUDIO_WEB_BASE", "http://127.0.0.1:%d", port);
    set("PSTUDIO_WEB_NODE_MODULES", "%s", modules);
    set("PSTUDIO_WEB_ARTIFACTS", "%s", artifacts);
    const char *node[] = {"node", script, NULL};
    rc = wait_status(spawn(node, NULL));

    kill(serve, SIGTERM);
    int src = wait_status(serve);
    fake_google_stop(fg);
    const char *rm[] = {"rm", "-rf", dir, NULL};
    wait_status(spawn(rm, NULL));
    curl_global_cleanup();
    if (rc == 0 && src != 0) {
        fprintf(stderr, "web_journey: pstudio serve exited %d at SIGTERM (see %s)\n", src, log);
        return 1;
    }
    return rc;
}
