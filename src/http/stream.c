#include "http/stream.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM_STEP_CAP     (1024 * 1024) /* output one step may append */
#define STREAM_BLOCK        4096
#define STREAM_RESUME_MAX   64
#define STREAM_IDLE_TICK_US 1000000 /* the ticker's sleep when nothing is parked */

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
    /* Guarded by ss->mu: */
    bool parked; /* suspended, waiting for the ticker */
    struct http_stream *prev, *next;
} http_stream;

struct http_streams {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t ticker;
    bool running;
    bool stopping;
    http_stream *head;
};

/* The ticker: resumes each parked stream once its step is due (all of them
 * when stopping), sleeping until the earliest due time in between. MHD is
 * called outside the lock; a parked stream cannot go away before it is
 * resumed (a suspended connection is never closed), so the pointer stays
 * good. */
static void *stream__ticker(void *arg)
{
    http_streams *ss = arg;
    pthread_mutex_lock(&ss->mu);
    while (ss->running) {
        int64_t now = time_mono_usec();
        int64_t next = now + STREAM_IDLE_TICK_US;
        struct MHD_Connection *wake[STREAM_RESUME_MAX];
        size_t n = 0;
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
            } else if (st->due < next) {
                next = st->due;
            }
        }
        if (n > 0) {
            pthread_mutex_unlock(&ss->mu);
            for (size_t i = 0; i < n; i++)
                MHD_resume_connection(wake[i]);
            pthread_mutex_lock(&ss->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait_us = next - now;
        ts.tv_sec += (time_t)(wait_us / 1000000);
        ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ss->cv, &ss->mu, &ts);
    }
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

http_streams *http_streams_new(error *err)
{
    http_streams *ss = xcalloc(1, sizeof(*ss));
    pthread_mutex_init(&ss->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ss->cv, &ca);
    pthread_condattr_destroy(&ca);
    ss->running = true;
    if (pthread_create(&ss->ticker, NULL, stream__ticker, ss) != 0) {
        pthread_cond_destroy(&ss->cv);
        pthread_mutex_destroy(&ss->mu);
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
    pthread_cond_signal(&ss->cv);
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
    pthread_cond_signal(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    pthread_join(ss->ticker, NULL);
    pthread_cond_destroy(&ss->cv);
    pthread_mutex_destroy(&ss->mu);
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
        bool stopping = ss->stopping;
        pthread_mutex_unlock(&ss->mu);
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
        pthread_cond_signal(&ss->cv);
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
    pthread_mutex_unlock(&ss->mu);
    if (st->free_ctx != NULL)
        st->free_ctx(st->ctx);
    buf_free(&st->out);
    free(st);
}

struct MHD_Response *http_streams_response(http_streams *ss, struct MHD_Connection *conn,
                                           int poll_ms, http_stream_fn fn,
                                           void (*free_ctx)(void *ctx), void *ctx)
{
    http_stream *st = xcalloc(1, sizeof(*st));
    st->ss = ss;
    st->conn = conn;
    st->fn = fn;
    st->free_ctx = free_ctx;
    st->ctx = ctx;
    st->poll_us = (int64_t)(poll_ms > 0 ? poll_ms : 1000) * 1000;
    st->due = 0; /* the first step runs at once */
    buf_init(&st->out, STREAM_STEP_CAP);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                                  stream__read, st, stream__free);
    if (resp == NULL) {
        buf_free(&st->out);
        free(st);
        return NULL;
    }
    pthread_mutex_lock(&ss->mu);
    st->next = ss->head;
    if (ss->head != NULL)
        ss->head->prev = st;
    ss->head = st;
    pthread_mutex_unlock(&ss->mu);
    return resp;
}
