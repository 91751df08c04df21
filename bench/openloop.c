/*
 * bench_openloop: an open-loop HTTP load generator, for latency at a fixed
 * offered rate (bench/run.sh, docs/benchmarks.md). A closed loop (wrk's N
 * connections, each sending its next request when the last one answered)
 * measures throughput, but its latency is N / throughput, and a stall
 * delays the requests that would have been sent meanwhile, so they are
 * never counted as late (coordinated omission). Here request k is due at
 * start + k / rate whatever happened before, and its latency runs from that
 * moment, not from when it was sent: time spent waiting for a free
 * connection counts.
 *
 *   bench_openloop --port P --scenario NAME --rate R --seconds S [--connections C]
 *
 * One thread, epoll, non-blocking keep-alive HTTP/1.1 connections to
 * 127.0.0.1:P, at most C of them (64, like wrk's), opened when a due request
 * finds none idle. When all C are busy, due requests wait in order for the
 * next free one. After the last request is due it waits up to 10 s for the
 * answers; those still missing (or never sent: the server fell that far
 * behind) are counted as unfinished, at the latency they had reached.
 *
 * The requests are load.lua's, from the same environment: BENCH_TOKEN (the
 * Bearer token) and BENCH_DIR (project_ids.txt, persona_ids.txt).
 * project_get picks a project at random; persona_update cycles through the
 * personas, each visit changing the temperature, so every request writes.
 *
 * Output, one line: RESULT requests=N seconds=S offered=R rps=A ok_rps=B (answers
 *   per second over the offered span, or until the last answer if later)
 *   p50_ms= p99_ms= p999_ms= max_ms= non2xx= sockerr= unfinished= late= connections=
 * late counts the requests sent 1 ms or more after they were due: all
 * connections were busy, or this program fell behind. Percentiles are over
 * every request: a failed one (sockerr) at the time it failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OL_MAX_CONNS 1024
#define OL_DRAIN_NS  (10 * 1000000000LL)
#define OL_REQ_MAX   4096
#define OL_RESP_INIT 65536

typedef enum ol_state { OL_CLOSED, OL_CONNECTING, OL_IDLE, OL_BUSY } ol_state;

typedef struct ol_conn {
    int fd;
    ol_state state;
    int64_t req; /* index of the request in flight (OL_BUSY, OL_CONNECTING) */
    char out[OL_REQ_MAX];
    size_t out_len, out_sent;
    char *in; /* the response read so far */
    size_t in_len, in_cap;
} ol_conn;

static struct {
    int port, connections;
    const char *scenario;
    double rate, seconds;
    const char *token;
    char **ids; /* project or persona ids */
    size_t nids;
    int epfd;
    ol_conn conns[OL_MAX_CONNS];
    int nconns;        /* slots ever used */
    int64_t *lat_ns;   /* per request: its latency, -1 until it is answered */
    int64_t t0;        /* when request 0 is due */
    int64_t last_done; /* when the last answer came */
    int64_t answered, non2xx, sockerr;
    int64_t late; /* requests sent 1 ms or more after they were due */
    unsigned rand_state;
} ol;

static void ol_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void ol_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_openloop: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int64_t ol_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t ol_due(int64_t k)
{
    return ol.t0 + (int64_t)((double)k * 1e9 / ol.rate);
}

static void ol_read_ids(const char *file)
{
    const char *dir = getenv("BENCH_DIR");
    if (dir == NULL)
        ol_die("BENCH_DIR is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        ol_die("cannot read %s: %s", path, strerror(errno));
    char line[256];
    size_t cap = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (ol.nids == cap) {
            cap = cap ? cap * 2 : 256;
            ol.ids = realloc(ol.ids, cap * sizeof(*ol.ids));
        }
        ol.ids[ol.nids++] = strdup(line);
    }
    fclose(f);
    if (ol.nids == 0)
        ol_die("%s lists no ids", path);
}

/* Writes request k of the scenario into c->out, as load.lua would send it. */
static void ol_build(ol_conn *c, int64_t k)
{
    char path[512], body[128] = "";
    const char *method = "GET";
    if (strcmp(ol.scenario, "personas_list") == 0) {
        snprintf(path, sizeof(path), "/api/v1/personas");
    } else if (strcmp(ol.scenario, "channels_list") == 0) {
        snprintf(path, sizeof(path), "/api/v1/channels");
    } else if (strcmp(ol.scenario, "projects_list") == 0) {
        snprintf(path, sizeof(path), "/api/v1/projects?limit=20");
    } else if (strcmp(ol.scenario, "project_get") == 0) {
        snprintf(path, sizeof(path), "/api/v1/projects/%s",
                 ol.ids[rand_r(&ol.rand_state) % ol.nids]);
    } else { /* persona_update; checked in main */
        /* Consecutive visits to one persona change its temperature, so every
         * request writes a new version and a history row. */
        method = "PATCH";
        int64_t visit = k / (int64_t)ol.nids;
        snprintf(path, sizeof(path), "/api/v1/personas/%s", ol.ids[k % (int64_t)ol.nids]);
        snprintf(body, sizeof(body), "{\"temperature\": %.2f, \"change_reason\": \"bench\"}",
                 (double)(visit % 200) / 100);
    }
    char framing[96] = "";
    if (body[0])
        snprintf(framing, sizeof(framing),
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(body));
    int n = snprintf(c->out, sizeof(c->out),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                     "%s\r\n%s",
                     method, path, ol.port, ol.token, framing, body);
    if (n < 0 || (size_t)n >= sizeof(c->out))
        ol_die("request %lld does not fit %d bytes", (long long)k, OL_REQ_MAX);
    c->out_len = (size_t)n;
    c->out_sent = 0;
    c->in_len = 0;
}

static void ol_watch(ol_conn *c, int op, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ol.epfd, op, c->fd, &ev) != 0)
        ol_die("epoll_ctl: %s", strerror(errno));
}

/* Answers request k (its latency from when it was due) and frees c. */
static void ol_done(ol_conn *c, int status)
{
    ol.last_done = ol_now();
    ol.lat_ns[c->req] = ol.last_done - ol_due(c->req);
    ol.answered++;
    if (status < 200 || status > 299)
        ol.non2xx++;
    c->state = OL_IDLE;
}

/* Closes c; a request it owed an answer fails (sockerr), its latency the
 * time until it failed. */
static void ol_close(ol_conn *c)
{
    if (c->state == OL_BUSY || c->state == OL_CONNECTING) {
        ol.sockerr++;
        ol.lat_ns[c->req] = ol_now() - ol_due(c->req);
        ol.answered++;
    }
    epoll_ctl(ol.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = OL_CLOSED;
}

/* Sends what is left of c's request; false when the connection failed. */
static bool ol_flush(ol_conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            ol_watch(c, EPOLL_CTL_MOD, true);
            return true;
        }
        if (w <= 0)
            return false;
        c->out_sent += (size_t)w;
    }
    ol_watch(c, EPOLL_CTL_MOD, false);
    return true;
}

static void ol_send(ol_conn *c, int64_t k, int64_t now)
{
    ol_build(c, k);
    c->req = k;
    if (now - ol_due(k) >= 1000000)
        ol.late++;
    if (c->state == OL_IDLE) {
        c->state = OL_BUSY;
        if (!ol_flush(c))
            ol_close(c);
        return;
    }
    /* A new connection: sent once connect() completes (EPOLLOUT). */
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        ol_die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ol.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->state = OL_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        ol_watch(c, EPOLL_CTL_ADD, false);
        ol_close(c);
        return;
    }
    ol_watch(c, EPOLL_CTL_ADD, true);
}

/* The response's length when all of it is in c->in, 0 while it is not; its
 * status in *status and whether the server closes the connection in *close. */
static size_t ol_parse(ol_conn *c, int *status, bool *close_after)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - c->in) + 4;
    *status = c->in_len > 12 ? atoi(c->in + 9) : 0;
    *close_after = false;
    long long clen = -1;
    bool chunked = false;
    for (char *p = memchr(c->in, '\n', head); p != NULL && p < end;
         p = memchr(p + 1, '\n', (size_t)(end - p))) {
        char *h = p + 1;
        if (strncasecmp(h, "content-length:", 15) == 0)
            clen = atoll(h + 15);
        else if (strncasecmp(h, "transfer-encoding:", 18) == 0 &&
                 strncasecmp(h + 18 + strspn(h + 18, " "), "chunked", 7) == 0)
            chunked = true;
        else if (strncasecmp(h, "connection:", 11) == 0 &&
                 strncasecmp(h + 11 + strspn(h + 11, " "), "close", 5) == 0)
            *close_after = true;
    }
    if (!chunked) {
        size_t total = head + (size_t)(clen > 0 ? clen : 0);
        return c->in_len >= total ? total : 0;
    }
    size_t at = head; /* chunks: hex size CRLF data CRLF …, ending 0 CRLF CRLF */
    for (;;) {
        char *eol = memmem(c->in + at, c->in_len - at, "\r\n", 2);
        if (eol == NULL)
            return 0;
        size_t size = strtoul(c->in + at, NULL, 16);
        at = (size_t)(eol - c->in) + 2 + size + 2;
        if (at > c->in_len)
            return 0;
        if (size == 0)
            return at;
    }
}

static void ol_readable(ol_conn *c)
{
    bool eof = false;
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : OL_RESP_INIT;
            c->in = realloc(c->in, c->in_cap);
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0) {
            eof = true;
            break;
        }
        if (c->state != OL_BUSY) /* bytes nobody asked for */
            ol_die("the server sent %zd bytes on an idle connection", r);
        c->in_len += (size_t)r;
    }
    int status;
    bool close_after = false;
    size_t len = c->state == OL_BUSY ? ol_parse(c, &status, &close_after) : 0;
    if (len > 0) {
        if (len != c->in_len) /* the server answered more than it was asked */
            ol_die("%zu bytes past the response on one connection", c->in_len - len);
        ol_done(c, status);
    }
    /* A close while an answer is owed fails that request (ol_close);
     * otherwise the next due request opens a new connection. */
    if (eof || close_after)
        ol_close(c);
}

static int ol_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double ol_pct(const int64_t *sorted, int64_t n, double p)
{
    if (n == 0)
        return 0;
    int64_t i = (int64_t)(p / 100 * (double)n + 0.5) - 1; /* nearest rank */
    i = i < 0 ? 0 : (i >= n ? n - 1 : i);
    return (double)sorted[i] / 1e6;
}

int main(int argc, char **argv)
{
    ol.connections = 64;
    ol.rand_state = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            ol.port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--scenario") == 0)
            ol.scenario = argv[i + 1];
        else if (strcmp(argv[i], "--rate") == 0)
            ol.rate = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            ol.seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--connections") == 0)
            ol.connections = atoi(argv[i + 1]);
        else
            ol_die("unknown option %s", argv[i]);
    }
    if (ol.port <= 0 || ol.scenario == NULL || ol.rate <= 0 || ol.seconds <= 0 ||
        ol.connections < 1 || ol.connections > OL_MAX_CONNS || argc % 2 == 0)
        ol_die("usage: bench_openloop --port P --scenario NAME --rate R --seconds S "
               "[--connections 1..%d]",
               OL_MAX_CONNS);
    ol.token = getenv("BENCH_TOKEN");
    if (ol.token == NULL)
        ol_die("BENCH_TOKEN is not set");
    if (strcmp(ol.scenario, "project_get") == 0)
        ol_read_ids("project_ids.txt");
    else if (strcmp(ol.scenario, "persona_update") == 0)
        ol_read_ids("persona_ids.txt");
    else if (strcmp(ol.scenario, "personas_list") != 0 &&
             strcmp(ol.scenario, "channels_list") != 0 && strcmp(ol.scenario, "projects_list") != 0)
        ol_die("unknown scenario %s", ol.scenario);

    int64_t total = (int64_t)(ol.rate * ol.seconds);
    if (total < 1)
        ol_die("rate x seconds is less than one request");
    ol.lat_ns = malloc((size_t)total * sizeof(*ol.lat_ns));
    for (int64_t k = 0; k < total; k++)
        ol.lat_ns[k] = -1;
    ol.epfd = epoll_create1(0);
    for (int i = 0; i < OL_MAX_CONNS; i++)
        ol.conns[i].fd = -1;

    ol.t0 = ol_now() + 1000000; /* the first request is due in 1 ms */
    int64_t sent = 0, end = ol_due(total - 1);
    for (;;) {
        int64_t now = ol_now();
        /* Every due request goes out on an idle connection, or a new one,
         * or waits (in order) for the next that comes free. */
        while (sent < total && ol_due(sent) <= now) {
            ol_conn *c = NULL, *closed = NULL;
            for (int i = 0; i < ol.nconns && c == NULL; i++) {
                if (ol.conns[i].state == OL_IDLE)
                    c = &ol.conns[i];
                else if (ol.conns[i].state == OL_CLOSED && closed == NULL)
                    closed = &ol.conns[i];
            }
            if (c == NULL && closed == NULL && ol.nconns < ol.connections)
                closed = &ol.conns[ol.nconns++];
            if (c == NULL)
                c = closed;
            if (c == NULL)
                break;
            ol_send(c, sent++, now);
        }
        /* The end: every answer in, or the drain time over (requests still
         * waiting for a connection then were never sent: unfinished). */
        if (ol.answered == total || now >= end + OL_DRAIN_NS)
            break;
        /* Sleep until the next request is due, or, when due requests wait
         * for a connection or all were sent, until an event or the end. */
        int64_t wake = sent < total && ol_due(sent) > now ? ol_due(sent) : end + OL_DRAIN_NS;
        struct timespec timeout = {(wake - now) / 1000000000LL, (wake - now) % 1000000000LL};
        struct epoll_event evs[64];
        int n = epoll_pwait2(ol.epfd, evs, 64, &timeout, NULL);
        if (n < 0 && errno != EINTR)
            ol_die("epoll_pwait2: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            ol_conn *c = evs[i].data.ptr;
            if (c->state == OL_CLOSED)
                continue;
            if (evs[i].events & EPOLLERR) {
                ol_close(c);
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                if (c->state == OL_CONNECTING)
                    c->state = OL_BUSY;
                if (!ol_flush(c)) {
                    ol_close(c);
                    continue;
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
                ol_readable(c);
        }
    }

    /* Unanswered requests count at the latency they had reached. */
    int64_t unfinished = 0, now = ol_now(), *lat = ol.lat_ns, nlat = total;
    for (int64_t k = 0; k < total; k++) {
        if (lat[k] < 0) {
            unfinished++;
            lat[k] = now - ol_due(k);
        }
    }
    qsort(lat, (size_t)nlat, sizeof(*lat), ol_cmp);
    /* Rates over the offered span, or until the last answer when that came
     * later (the server fell behind: then rps is what it managed). */
    double secs = (double)total / ol.rate;
    if ((double)(ol.last_done - ol.t0) / 1e9 > secs)
        secs = (double)(ol.last_done - ol.t0) / 1e9;
    printf("RESULT requests=%lld seconds=%.3f offered=%.1f rps=%.1f ok_rps=%.1f p50_ms=%.3f "
           "p99_ms=%.3f p999_ms=%.3f max_ms=%.3f non2xx=%lld sockerr=%lld unfinished=%lld "
           "late=%lld connections=%d\n",
           (long long)total, secs, ol.rate, (double)(ol.answered - ol.sockerr) / secs,
           (double)(ol.answered - ol.sockerr - ol.non2xx) / secs, ol_pct(lat, nlat, 50),
           ol_pct(lat, nlat, 99), ol_pct(lat, nlat, 99.9), ol_pct(lat, nlat, 100),
           (long long)ol.non2xx, (long long)ol.sockerr, (long long)unfinished, (long long)ol.late,
           ol.nconns);
    for (int i = 0; i < ol.nconns; i++) {
        if (ol.conns[i].fd >= 0)
            close(ol.conns[i].fd);
        free(ol.conns[i].in);
    }
    for (size_t i = 0; i < ol.nids; i++)
        free(ol.ids[i]);
    free(ol.ids);
    free(ol.lat_ns);
    close(ol.epfd);
    return 0;
}
