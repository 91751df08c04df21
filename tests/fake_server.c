#include "fake_server.h"

#include "base/timeutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fake_server_lock(fake_server *f)
{
    pthread_mutex_lock(&f->lock);
}

void fake_server_unlock(fake_server *f)
{
    pthread_mutex_unlock(&f->lock);
}

void fake_server_push(fake_server *f, int mode)
{
    if (f->nqueue < FAKE_SERVER_QUEUE)
        f->queue[f->nqueue++] = mode;
}

void fake_server_every(fake_server *f, int n, int mode)
{
    f->every = n;
    f->every_mode = mode;
    f->every_calls = 0;
}

json_t *fake_server_last_body(fake_server *f)
{
    fake_server_lock(f);
    json_t *b = json_incref(f->body);
    fake_server_unlock(f);
    return b;
}

int fake_server_calls(fake_server *f)
{
    fake_server_lock(f);
    int n = f->calls;
    fake_server_unlock(f);
    return n;
}

int fake_server_receive(http_request *r, json_t **body, int stall_mode, int ok_mode)
{
    fake_server *f = http_app(r);
    size_t len = 0;
    const char *text = http_body(r, &len);
    *body = json_loadb(text, len, 0, NULL);
    fake_server_lock(f);
    int m = f->mode;
    if (f->every > 0 && ++f->every_calls % f->every == 0) {
        m = f->every_mode;
    } else if (f->nqueue > 0) {
        m = f->queue[0];
        memmove(f->queue, f->queue + 1, sizeof(f->queue[0]) * (size_t)(f->nqueue - 1));
        f->nqueue--;
    }
    f->calls++;
    snprintf(f->path, sizeof(f->path), "%s", http_path(r));
    const char *k = http_header(r, "x-goog-api-key");
    snprintf(f->goog_key, sizeof(f->goog_key), "%s", k ? k : "");
    const char *a = http_header(r, "Authorization");
    snprintf(f->authorization, sizeof(f->authorization), "%s", a ? a : "");
    json_decref(f->body);
    f->body = json_incref(*body);
    int stall = f->stall_ms;
    fake_server_unlock(f);
    if (m != stall_mode)
        return m;
    int64_t until = time_mono_usec() + (int64_t)stall * 1000;
    for (;;) {
        fake_server_lock(f);
        bool stop = f->stopping;
        fake_server_unlock(f);
        if (stop || time_mono_usec() >= until)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return ok_mode;
}

void fake_server_reply(http_request *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

void fake_server_error(http_request *r, fake_server_error_kind kind, bool google)
{
    fake_server *f = http_app(r);
    char msg[400];
    switch (kind) {
    case FAKE_SERVER_429:
        fake_server_lock(f);
        http_set_header(r, "Retry-After", f->retry_after);
        fake_server_unlock(f);
        fake_server_reply(r, 429,
                          json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 429, "message",
                                    "Resource has been exhausted (e.g. check quota).", "status",
                                    "RESOURCE_EXHAUSTED"));
        return;
    case FAKE_SERVER_500:
        fake_server_reply(r, 500,
                          json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 500, "message",
                                    "An internal error has occurred.", "status", "INTERNAL"));
        return;
    case FAKE_SERVER_401_ECHO:
        fake_server_lock(f);
        snprintf(msg, sizeof(msg), "Incorrect API key provided: %s. Check it.",
                 google                         ? f->goog_key
                 : strlen(f->authorization) > 7 ? f->authorization + 7
                                                : "");
        fake_server_unlock(f);
        fake_server_reply(
            r, 401,
            json_pack("{s:{s:s,s:s}}", "error", "message", msg, "type", "invalid_request_error"));
        return;
    }
}

void fake_server_error_modes(fake_server *f, int m429, int m500, int m401)
{
    f->error_modes[FAKE_SERVER_429] = m429;
    f->error_modes[FAKE_SERVER_500] = m500;
    f->error_modes[FAKE_SERVER_401_ECHO] = m401;
}

bool fake_server_failure(http_request *r, int mode, bool google)
{
    fake_server *f = http_app(r);
    for (int k = FAKE_SERVER_429; k <= FAKE_SERVER_401_ECHO; k++)
        if (f->error_modes[k] == mode) {
            fake_server_error(r, (fake_server_error_kind)k, google);
            return true;
        }
    return false;
}

void fake_server_start(fake_server *f, const char *who, const http_route *routes, size_t nroutes,
                       void *owner, int mode, int stall_ms)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->owner = owner;
    f->mode = mode;
    f->stall_ms = stall_ms;
    f->retry_after = "7";
    f->error_modes[0] = f->error_modes[1] = f->error_modes[2] = -1;
    http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = 4,
        .max_body = 4 * 1024 * 1024,
        .shutdown_timeout_ms = 3000,
        .app = f,
    };
    error e;
    f->srv = http_server_start(&cfg, routes, nroutes, &e);
    if (f->srv == NULL)
        fail_msg("%s: %s", who, e.message);
    f->port = http_server_port(f->srv);
    snprintf(f->base_url, sizeof(f->base_url), "http://127.0.0.1:%d", f->port);
}

void fake_server_stop(fake_server *f)
{
    fake_server_lock(f);
    f->stopping = true;
    fake_server_unlock(f);
    http_server_stop(f->srv);
    json_decref(f->body);
    pthread_mutex_destroy(&f->lock);
}
