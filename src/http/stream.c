#include "http/stream.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define STREAM_STEP_CAP     (1024 * 1024) /* output one step may append */
#define STREAM_BLOCK        4096
#define STREAM_RESUME_MAX   64
#define STREAM_IDLE_TICK_US 1000000 /* the ticker's sleep when nothing is parked */
#define STREAMS_MAX         256     /* per server: each holds a connection slot */

typedef struct http_stream {
    http_streams *ss;
    struct MHD_Connection *conn;
    http_stream_fn fn;
    void (*free_ctx)(void *ctx);
    void *ctx;
    int64_t poll_us;
    buf out; /* produced and not yet sent, from `sent` on */
    size_t sent;
    bool ended;  /* the step said END (or the server stopped): end after out */
    int64_t due; /* monotonic usec of the next step */
    int fd;      /* the connection's socket, watched for a hang-up while parked */
    char *owner; /* whose stream it is (counted against a cap), or NULL */
    /* Guarded by ss->mu: */
    bool parked; /* suspended, waiting for the ticker */
    bool gone;   /* the client hung up while the stream was parked */
    struct http_stream *prev, *next;
} http_stream;

struct http_streams {
    pthread_mutex_t mu;
    pthread_t ticker;
    int wake_fd; /* an eventfd: wakes the ticker out of poll() */
    bool running;
    bool stopping;
    http_stream *head;
    size_t count;
};

static void stream__wake(http_streams *ss)
{
    uint64_t one = 1;
    /* Only fails when the counter is full, which wakes the ticker anyway. */
    ssize_t n = write(ss->wake_fd, &one, sizeof(one));
    (void)n;
}

/* The ticker: resumes each parked stream once its step is due (all of them
 * when stopping), and at once when its client hangs up, so that a stream
 * whose client left frees its slot without waiting for a write to fail
 * (a keep-alive comes only every 15 s). Between rounds it sleeps in poll()
 * on the parked streams' sockets (POLLRDHUP: the peer closed or shut down
 * its end; data the client sends does not wake it) and the wake eventfd,
 * until the earliest due time. MHD is called outside the lock. A parked
 * stream cannot go away before the ticker resumes it (a suspended
 * connection is never closed, and only the ticker unparks), so the
 * pointers and sockets it polls stay good. */
static void *stream__ticker(void *arg)
{
    http_streams *ss = arg;
    struct pollfd *pfd = NULL;
    http_stream **who = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&ss->mu);
    while (ss->running) {
        int64_t now = time_mono_usec();
        int64_t next = now + STREAM_IDLE_TICK_US;
        struct MHD_Connection *wake[STREAM_RESUME_MAX];
        size_t n = 0, nfd = 0;
        if (cap < ss->count + 1) {
            cap = ss->count + 1 + 32;
            pfd = xrealloc(pfd, cap * sizeof(*pfd));
            who = xrealloc(who, cap * sizeof(*who));
        }
        pfd[nfd++] = (struct pollfd){.fd = ss->wake_fd, .events = POLLIN};
        for (http_stream *st = ss->head; st != NULL; st = st->next) {
            if (!st->parked)
                continue;
            if (ss->stopping || st->due <= now) {
                if (n == STREAM_RESUME_MAX) {
                    next = now; /* more next round */
                    continue;
                }
                st->parked = false;
                wake[n++] = st->conn;
                continue;
            }
            if (st->due < next)
                next = st->due;
            if (nfd < cap) {
                who[nfd] = st;
                pfd[nfd++] = (struct pollfd){.fd = st->fd, .events = POLLRDHUP};
            }
        }
        if (n == 0) {
            pthread_mutex_unlock(&ss->mu);
            int wait_ms = (int)((next - now + 999) / 1000);
            int rc = poll(pfd, nfd, wait_ms);
            pthread_mutex_lock(&ss->mu);
            if (rc > 0 && (pfd[0].revents & POLLIN)) {
                uint64_t v;
                ssize_t got = read(ss->wake_fd, &v, sizeof(v));
                (void)got;
            }
            for (size_t i = 1; rc > 0 && i < nfd && n < STREAM_RESUME_MAX; i++) {
                if (!(pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) ||
                    !who[i]->parked)
                    continue;
                who[i]->parked = false;
                who[i]->gone = true;
                wake[n++] = who[i]->conn;
            }
        }
        if (n > 0) {
            pthread_mutex_unlock(&ss->mu);
            for (size_t i = 0; i < n; i++)
                MHD_resume_connection(wake[i]);
            pthread_mutex_lock(&ss->mu);
        }
    }
    pthread_mutex_unlock(&ss->mu);
    free(pfd);
    free(who);
    return NULL;
}

http_streams *http_streams_new(error *err)
{
    http_streams *ss = xcalloc(1, sizeof(*ss));
    ss->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ss->wake_fd < 0) {
        error_set(err, ERR_INTERNAL, NULL, "cannot create the event stream wake-up: %s",
                  strerror(errno));
        free(ss);
        return NULL;
    }
    pthread_mutex_init(&ss->mu, NULL);
    ss->running = true;
    if (pthread_create(&ss->ticker, NULL, stream__ticker, ss) != 0) {
        pthread_mutex_destroy(&ss->mu);
        close(ss->wake_fd);
        free(ss);
        error_set(err, ERR_INTERNAL, NULL, "cannot start the event stream thread");
        return NULL;
    }
    return ss;
}

void http_streams_stop(http_streams *ss)
{
    pthread_mutex_lock(&ss->mu);
    ss->stopping = true;
    stream__wake(ss);
    pthread_mutex_unlock(&ss->mu);
}

void http_streams_free(http_streams *ss)
{
    if (ss == NULL)
        return;
    pthread_mutex_lock(&ss->mu);
    ss->running = false;
    if (ss->head != NULL)
        log_warn("shutdown: an event stream outlived the server");
    stream__wake(ss);
    pthread_mutex_unlock(&ss->mu);
    pthread_join(ss->ticker, NULL);
    pthread_mutex_destroy(&ss->mu);
    close(ss->wake_fd);
    free(ss);
}

/* MHD's reader: sends what is produced, runs the step when it is due, and
 * parks the connection when there is nothing to send yet. */
static ssize_t stream__read(void *cls, uint64_t pos, char *dst, size_t max)
{
    http_stream *st = cls;
    http_streams *ss = st->ss;
    (void)pos;
    for (;;) {
        if (st->sent < st->out.len) {
            size_t n = st->out.len - st->sent;
            if (n > max)
                n = max;
            memcpy(dst, st->out.data + st->sent, n);
            st->sent += n;
            if (st->sent == st->out.len) {
                buf_reset(&st->out);
                st->sent = 0;
            }
            return (ssize_t)n;
        }
        if (st->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&ss->mu);
        bool stopping = ss->stopping, gone = st->gone;
        pthread_mutex_unlock(&ss->mu);
        if (gone) /* MHD closes the connection, which frees the stream */
            return MHD_CONTENT_READER_END_WITH_ERROR;
        int64_t now = time_mono_usec();
        if (stopping || now >= st->due) {
            http_stream_step step = st->fn(st->ctx, &st->out, stopping);
            if (step == HTTP_STREAM_END || stopping)
                st->ended = true;
            else if (step == HTTP_STREAM_WAIT || st->out.len == 0)
                st->due = now + st->poll_us; /* MORE with nothing in it waits too */
            continue;
        }
        pthread_mutex_lock(&ss->mu);
        if (ss->stopping) {
            pthread_mutex_unlock(&ss->mu);
            continue;
        }
        st->parked = true;
        stream__wake(ss); /* to poll its socket and see its due time */
        pthread_mutex_unlock(&ss->mu);
        /* If the ticker resumes it before this runs, MHD cancels the
         * suspension and simply calls us again. */
        MHD_suspend_connection(st->conn);
        return 0;
    }
}

static void stream__free(void *cls)
{
    http_stream *st = cls;
    http_streams *ss = st->ss;
    pthread_mutex_lock(&ss->mu);
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        ss->head = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    ss->count--;
    pthread_mutex_unlock(&ss->mu);
    if (st->free_ctx != NULL)
        st->free_ctx(st->ctx);
    buf_free(&st->out);
    free(st->owner);
    free(st);
}

/* Whether another stream fits, under ss->mu. */
static http_stream_refusal stream__admit(http_streams *ss, const char *owner, int owner_max)
{
    if (ss->count >= STREAMS_MAX)
        return HTTP_STREAM_SERVER_FULL;
    if (owner == NULL || owner_max <= 0)
        return HTTP_STREAM_ADMITTED;
    int held = 0;
    for (const http_stream *st = ss->head; st != NULL; st = st->next)
        if (st->owner != NULL && strcmp(st->owner, owner) == 0)
            held++;
    return held >= owner_max ? HTTP_STREAM_OWNER_FULL : HTTP_STREAM_ADMITTED;
}

struct MHD_Response *http_streams_response(http_streams *ss, struct MHD_Connection *conn,
                                           const char *owner, int owner_max, int poll_ms,
                                           http_stream_fn fn, void (*free_ctx)(void *ctx),
                                           void *ctx, http_stream_refusal *refusal)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    http_stream *st = xcalloc(1, sizeof(*st));
    st->ss = ss;
    st->conn = conn;
    st->fn = fn;
    st->free_ctx = free_ctx;
    st->ctx = ctx;
    st->fd = ci != NULL ? ci->connect_fd : -1; /* poll() skips a negative fd */
    st->owner = owner != NULL ? xstrdup(owner) : NULL;
    st->poll_us = (int64_t)(poll_ms > 0 ? poll_ms : 1000) * 1000;
    st->due = 0; /* the first step runs at once */
    buf_init(&st->out, STREAM_STEP_CAP);
    /* Admitted and counted in one step, so two requests cannot both take the last slot. */
    pthread_mutex_lock(&ss->mu);
    *refusal = stream__admit(ss, owner, owner_max);
    if (*refusal == HTTP_STREAM_ADMITTED) {
        ss->count++;
        st->next = ss->head;
        if (ss->head != NULL)
            ss->head->prev = st;
        ss->head = st;
    }
    pthread_mutex_unlock(&ss->mu);
    if (*refusal != HTTP_STREAM_ADMITTED) {
        buf_free(&st->out);
        free(st->owner);
        free(st);
        return NULL;
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                                  stream__read, st, stream__free);
    if (resp == NULL) /* only out of memory; the caller aborts */
        stream__free(st);
    return resp;
}
