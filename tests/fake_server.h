/*
 * fake_server: what every loopback fake of an outside HTTP service shares
 * (fake_llm, fake_tts, fake_image): our own http server on a free port, a
 * queue of answer modes (then a default mode), a mode for every n-th call
 * (a job's second request failing attempt after attempt), a record of the last request
 * (path, key headers, parsed JSON body), a stall that ends early at
 * shutdown, and the error answers every provider gives alike (429 with
 * Retry-After, 500, a 401 that quotes the key it was sent).
 *
 * A fake embeds one as its member `s` and starts it with itself as owner;
 * its handlers get the fake_server from http_app() and the fake from
 * owner. Fields below the lock are shared with the server threads: change
 * them between fake_server_lock() and fake_server_unlock().
 */
#ifndef PS_TESTS_FAKE_SERVER_H
#define PS_TESTS_FAKE_SERVER_H

#include "http/http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_SERVER_QUEUE 16

/* The shared error answers, as fake_server_error() writes them. */
typedef enum fake_server_error_kind {
    FAKE_SERVER_429,      /* 429, Retry-After: retry_after, RESOURCE_EXHAUSTED body */
    FAKE_SERVER_500,      /* 500 with an INTERNAL body */
    FAKE_SERVER_401_ECHO, /* 401 whose message quotes the key it was sent */
} fake_server_error_kind;

typedef struct fake_server {
    pthread_mutex_t lock;
    struct http_server *srv;
    int port;
    char base_url[64]; /* http://127.0.0.1:<port> */
    void *owner;       /* the fake this one serves */

    /* behaviour */
    int mode; /* the owner's mode when the queue is empty */
    int queue[FAKE_SERVER_QUEUE];
    int nqueue;
    int stall_ms;
    int every; /* > 0: every every-th call since fake_server_every() answers every_mode */
    int every_mode;
    int every_calls;         /* calls since fake_server_every() */
    int error_modes[3];      /* the owner's modes of the shared errors, by fake_server_error_kind */
    const char *retry_after; /* the Retry-After of FAKE_SERVER_429; default "7" */
    bool stopping;           /* ends a stall early at shutdown */

    /* what it received */
    int calls;
    char path[256];
    char goog_key[256];      /* x-goog-api-key, "" when absent */
    char authorization[256]; /* Authorization, "" when absent */
    json_t *body;            /* the last request body (owned) */
} fake_server;

/** Starts serving routes on a free loopback port; who names the fake in a failure. */
void fake_server_start(fake_server *f, const char *who, const http_route *routes, size_t nroutes,
                       void *owner, int mode, int stall_ms);
void fake_server_stop(fake_server *f);
void fake_server_lock(fake_server *f);
void fake_server_unlock(fake_server *f);
/** Queues the answer mode of the next call (under the lock). */
void fake_server_push(fake_server *f, int mode);
/**
 * From the next call on, every n-th call (the n-th, the 2n-th, ...) answers
 * mode whatever the queue holds; the others take the queue, then the
 * default. n = 0 turns it off (under the lock). With n = 2 a job that asks
 * twice per attempt gets its first answer and fails its second, attempt
 * after attempt.
 */
void fake_server_every(fake_server *f, int n, int mode);
/** A new reference to the last body received (NULL before the first call). */
json_t *fake_server_last_body(fake_server *f);
int fake_server_calls(fake_server *f);

/**
 * Records the request r (to the fake_server of http_app(r)), parses its
 * body into *body (NULL when not JSON; the caller decrefs) and takes the
 * next mode. A stall_mode sleeps stall_ms (less at shutdown) and answers
 * as ok_mode.
 */
int fake_server_receive(http_request *r, json_t **body, int stall_mode, int ok_mode);
/** Replies doc (stolen) as JSON with status. */
void fake_server_reply(http_request *r, int status, json_t *doc);
/** Replies one of the shared errors; google: the key is x-goog-api-key's, else the Bearer's. */
void fake_server_error(http_request *r, fake_server_error_kind kind, bool google);
/** Names the owner's modes that answer the shared errors (429, 500, 401). */
void fake_server_error_modes(fake_server *f, int m429, int m500, int m401);
/** Replies the shared error mode stands for; false (nothing replied) when it is none. */
bool fake_server_failure(http_request *r, int mode, bool google);

#endif
