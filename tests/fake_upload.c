#include "fake_upload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_UPLOAD_HEAD_MAX (64 * 1024)
#define FAKE_UPLOAD_UNIT     (256 * 1024)

void fake_upload_lock(fake_upload *fu)
{
    pthread_mutex_lock(&fu->lock);
}

void fake_upload_unlock(fake_upload *fu)
{
    pthread_mutex_unlock(&fu->lock);
}

typedef struct fake_upload__req {
    char method[8];
    char target[2048];
    char auth[256];
    char content_range[128];
    char upload_type[64];
    long long content_length;
    long long upload_length;
} fake_upload__req;

static void fake_upload__send(int fd, int status, const char *reason, const char *extra,
                              const char *body)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     status, reason, blen, extra ? extra : "");
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0)
        return;
    if (blen)
        send(fd, body, blen, MSG_NOSIGNAL);
}

static void fake_upload__error(int fd, int status, const char *reason, const char *why)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"error\":{\"code\":%d,\"message\":\"%s\",\"errors\":[{\"message\":\"%s\","
             "\"domain\":\"youtube.video\",\"reason\":\"%s\"}]}}",
             status, why, why, reason);
    fake_upload__send(fd, status, status == 503 ? "Service Unavailable" : "Error", NULL, body);
}

/* Reads up to the end of the head; *extra gets what was read past it. */
static int fake_upload__read_head(int fd, char *buf, size_t cap, size_t *len, size_t *head_len)
{
    *len = 0;
    while (*len < cap - 1) {
        ssize_t n = recv(fd, buf + *len, cap - 1 - *len, 0);
        if (n <= 0)
            return -1;
        *len += (size_t)n;
        buf[*len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            *head_len = (size_t)(end - buf) + 4;
            return 0;
        }
    }
    return -1;
}

static void fake_upload__header(const char *head, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

/* Reads exactly want bytes of body (some may already be in pre). */
static int fake_upload__read_body(int fd, const char *pre, size_t pre_len, unsigned char *out,
                                  size_t want)
{
    size_t got = pre_len < want ? pre_len : want;
    memcpy(out, pre, got);
    while (got < want) {
        ssize_t n = recv(fd, out + got, want - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static fake_upload_session *fake_upload__session(fake_upload *fu, const char *target)
{
    const char *id = strstr(target, "upload_id=");
    if (id == NULL)
        return NULL;
    id += 10;
    size_t len = strcspn(id, "&");
    for (int i = 0; i < fu->nsessions; i++)
        if (strlen(fu->sessions[i].id) == len && strncmp(fu->sessions[i].id, id, len) == 0)
            return &fu->sessions[i];
    return NULL;
}

static void fake_upload__range_header(const fake_upload_session *s, char *out, size_t n)
{
    if (s->held > 0)
        snprintf(out, n, "Range: bytes=0-%lld\r\n", s->held - 1);
    else
        out[0] = '\0';
}

static void fake_upload__video(int fd, int status, const fake_upload_session *s)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"kind\":\"youtube#video\",\"id\":\"%s\",\"status\":{\"uploadStatus\":"
             "\"uploaded\"}}",
             s->video_id);
    fake_upload__send(fd, status, status == 201 ? "Created" : "OK", NULL, body);
}

static void fake_upload__start_session(fake_upload *fu, int fd, const fake_upload__req *rq,
                                       const char *body, const char *type)
{
    fu->starts++;
    if (fu->start_mode == 1) {
        fake_upload__error(fd, 403, "quotaExceeded",
                           "The request cannot be completed because "
                           "you have exceeded your quota.");
        return;
    }
    if (fu->start_mode == 2) {
        fake_upload__error(fd, 400, "uploadLimitExceeded",
                           "The user has exceeded the number of videos they may upload.");
        return;
    }
    if (strstr(rq->target, "uploadType=resumable") == NULL ||
        strstr(rq->target, "part=snippet%2Cstatus") == NULL || rq->upload_length <= 0 ||
        type[0] == '\0' || fu->nsessions == FAKE_UPLOAD_MAX_SESSIONS) {
        snprintf(fu->bad, sizeof(fu->bad), "a start without its parameters or headers");
        fake_upload__error(fd, 400, "badRequest", "Bad request");
        return;
    }
    fake_upload_session *s = &fu->sessions[fu->nsessions++];
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "xa%04dsession", fu->nsessions);
    s->total = rq->upload_length;
    s->data = calloc(1, (size_t)s->total);
    snprintf(s->metadata, sizeof(s->metadata), "%s", body);
    snprintf(s->content_type, sizeof(s->content_type), "%s", type);
    char loc[512];
    snprintf(loc, sizeof(loc),
             "Location: http://127.0.0.1:%d/upload/youtube/v3/videos?uploadType=resumable&"
             "upload_id=%s\r\n",
             fu->port, s->id);
    fake_upload__send(fd, 200, "OK", loc, "");
}

/* A chunk or a status query to a session. Called with the lock held; may
 * drop it while a stall holds the chunk. */
static void fake_upload__put(fake_upload *fu, int fd, const fake_upload__req *rq, const char *pre,
                             size_t pre_len)
{
    fake_upload_session *s = fake_upload__session(fu, rq->target);
    if (s == NULL) {
        fake_upload__error(fd, 404, "notFound", "No such upload session");
        return;
    }
    char range[96];
    long long total = 0, first = 0, last = 0;
    if (sscanf(rq->content_range, "bytes */%lld", &total) == 1) {
        fu->queries++;
        if (s->video_id[0]) {
            fake_upload__video(fd, 200, s);
            return;
        }
        fake_upload__range_header(s, range, sizeof(range));
        fake_upload__send(fd, 308, "Resume Incomplete", range, "");
        return;
    }
    if (sscanf(rq->content_range, "bytes %lld-%lld/%lld", &first, &last, &total) != 3 ||
        total != s->total || first < 0 || last < first || last >= total ||
        rq->content_length != last - first + 1 || first > s->held) {
        snprintf(fu->bad, sizeof(fu->bad), "a chunk with Content-Range \"%.64s\" (held %lld)",
                 rq->content_range, s->held);
        fake_upload__error(fd, 400, "badRequest", "Bad Content-Range");
        return;
    }
    if ((last + 1) % FAKE_UPLOAD_UNIT != 0 && last + 1 != total) {
        snprintf(fu->bad, sizeof(fu->bad), "a chunk not ending on a 256 KiB unit");
        fake_upload__error(fd, 400, "badRequest", "Chunks must be multiples of 256 KiB");
        return;
    }
    fu->chunks++;
    if (fu->fail_next_chunk) {
        fu->fail_next_chunk = false;
        fake_upload__error(fd, 503, "backendError", "Backend Error");
        return;
    }
    size_t len = (size_t)(last - first + 1);
    unsigned char *body = malloc(len);
    if (fu->drop_next_chunk) {
        /* Half of it arrives; the session keeps its whole units. */
        fu->drop_next_chunk = false;
        size_t half = len / 2;
        if (fake_upload__read_body(fd, pre, pre_len, body, half) == 0) {
            long long end = first + (long long)half;
            end -= end % FAKE_UPLOAD_UNIT;
            if (end > s->held) {
                memcpy(s->data + s->held, body + (s->held - first), (size_t)(end - s->held));
                s->held = end;
            }
        }
        free(body);
        return; /* closed without an answer */
    }
    if (fu->stall_at > 0 && last + 1 > fu->stall_at) {
        fu->stalled = true;
        while (fu->stall_at > 0 && !fu->stop) {
            fake_upload_unlock(fu);
            usleep(10000);
            fake_upload_lock(fu);
        }
        fu->stalled = false;
        free(body);
        return; /* the worker was killed meanwhile: nothing of it is kept */
    }
    if (fake_upload__read_body(fd, pre, pre_len, body, len) != 0) {
        free(body);
        return;
    }
    if (last + 1 > s->held) {
        memcpy(s->data + s->held, body + (s->held - first), (size_t)(last + 1 - s->held));
        s->held = last + 1;
    }
    free(body);
    if (s->held == s->total) {
        if (s->video_id[0] == '\0') {
            fu->videos++;
            snprintf(s->video_id, sizeof(s->video_id), "vid%08d", fu->videos);
            /* A video on YouTube has numbers in YouTube Analytics: the
             * fake Google reports a quarter of the channel's views for it.
             * (Lock order: this fake's, then Google's; never the other.) */
            fake_google_lock(fu->fg);
            fake_google_add_video(fu->fg, s->video_id, 25, 3, 48.0);
            fake_google_unlock(fu->fg);
        }
        fake_upload__video(fd, 201, s);
        return;
    }
    fake_upload__range_header(s, range, sizeof(range));
    fake_upload__send(fd, 308, "Resume Incomplete", range, "");
}

static void fake_upload__thumbnail(fake_upload *fu, int fd, const fake_upload__req *rq,
                                   const char *pre, size_t pre_len)
{
    const char *v = strstr(rq->target, "videoId=");
    bool known = false;
    char id[16] = "";
    if (v != NULL) {
        snprintf(id, sizeof(id), "%.*s", (int)strcspn(v + 8, "&"), v + 8);
        for (int i = 0; i < fu->nsessions; i++)
            known =
                known || (fu->sessions[i].video_id[0] && strcmp(fu->sessions[i].video_id, id) == 0);
    }
    if (!known || rq->content_length <= 0 || rq->content_length > 2 * 1024 * 1024) {
        fake_upload__error(fd, 404, "videoNotFound", "No such video");
        return;
    }
    unsigned char *body = malloc((size_t)rq->content_length);
    int rc = fake_upload__read_body(fd, pre, pre_len, body, (size_t)rq->content_length);
    bool png = rc == 0 && rq->content_length > 8 && memcmp(body, "\x89PNG", 4) == 0;
    free(body);
    if (!png) {
        fake_upload__error(fd, 400, "invalidImage", "The image is not a PNG");
        return;
    }
    fu->thumbnails++;
    fu->thumbnail_bytes = rq->content_length;
    snprintf(fu->thumbnail_video, sizeof(fu->thumbnail_video), "%s", id);
    fake_upload__send(fd, 200, "OK", NULL, "{\"kind\":\"youtube#thumbnailSetResponse\"}");
}

static void fake_upload__serve(fake_upload *fu, int fd)
{
    char *head = malloc(FAKE_UPLOAD_HEAD_MAX);
    size_t len = 0, head_len = 0;
    if (fake_upload__read_head(fd, head, FAKE_UPLOAD_HEAD_MAX, &len, &head_len) != 0) {
        free(head);
        return;
    }
    fake_upload__req rq;
    memset(&rq, 0, sizeof(rq));
    sscanf(head, "%7s %2047s", rq.method, rq.target);
    char v[256], type[128];
    fake_upload__header(head, "Authorization", rq.auth, sizeof(rq.auth));
    fake_upload__header(head, "Content-Range", rq.content_range, sizeof(rq.content_range));
    fake_upload__header(head, "Content-Length", v, sizeof(v));
    rq.content_length = v[0] ? atoll(v) : 0;
    fake_upload__header(head, "X-Upload-Content-Length", v, sizeof(v));
    rq.upload_length = v[0] ? atoll(v) : 0;
    fake_upload__header(head, "X-Upload-Content-Type", type, sizeof(type));
    const char *pre = head + head_len;
    size_t pre_len = len - head_len;

    bool token_ok =
        strncmp(rq.auth, "Bearer ", 7) == 0 && fake_google_access_valid(fu->fg, rq.auth + 7);
    fake_upload_lock(fu);
    if (!token_ok) {
        fu->unauthorized++;
        fake_upload__error(fd, 401, "authError", "Invalid Credentials");
    } else if (strcmp(rq.method, "POST") == 0 &&
               strncmp(rq.target, "/upload/youtube/v3/videos?", 26) == 0) {
        char body[4096] = "";
        long long n = rq.content_length < (long long)sizeof(body) - 1 ? rq.content_length : 0;
        if (n > 0)
            fake_upload__read_body(fd, pre, pre_len, (unsigned char *)body, (size_t)n);
        body[n] = '\0';
        fake_upload__start_session(fu, fd, &rq, body, type);
    } else if (strcmp(rq.method, "PUT") == 0 &&
               strncmp(rq.target, "/upload/youtube/v3/videos?", 26) == 0) {
        fake_upload__put(fu, fd, &rq, pre, pre_len);
    } else if (strcmp(rq.method, "POST") == 0 &&
               strncmp(rq.target, "/upload/youtube/v3/thumbnails/set?", 34) == 0) {
        fake_upload__thumbnail(fu, fd, &rq, pre, pre_len);
    } else {
        fake_upload__error(fd, 404, "notFound", "Not Found");
    }
    fake_upload_unlock(fu);
    free(head);
}

static void *fake_upload__main(void *arg)
{
    fake_upload *fu = arg;
    while (!fu->stop) {
        struct pollfd p = {.fd = fu->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(fu->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = 10};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        fake_upload__serve(fu, fd);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    return NULL;
}

fake_upload *fake_upload_start(fake_google *fg)
{
    fake_upload *fu = calloc(1, sizeof(*fu));
    fu->fg = fg;
    pthread_mutex_init(&fu->lock, NULL);
    fu->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fu->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fu->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fu->listen_fd, 16) != 0) {
        fprintf(stderr, "fake_upload: %s\n", strerror(errno));
        abort();
    }
    socklen_t sl = sizeof(sa);
    getsockname(fu->listen_fd, (struct sockaddr *)&sa, &sl);
    fu->port = ntohs(sa.sin_port);
    pthread_create(&fu->thread, NULL, fake_upload__main, fu);
    return fu;
}

void fake_upload_stop(fake_upload *fu)
{
    fu->stop = 1;
    pthread_join(fu->thread, NULL);
    close(fu->listen_fd);
    for (int i = 0; i < fu->nsessions; i++)
        free(fu->sessions[i].data);
    pthread_mutex_destroy(&fu->lock);
    free(fu);
}
