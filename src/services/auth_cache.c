#include "services/auth_cache.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a failing listener says so in the log: once per this many tries. */
#define AUTH_CACHE__LOG_EVERY 50
/* Milliseconds of unacknowledged data after which the listener's link is dropped. */
#define AUTH_CACHE__TCP_TIMEOUT "tcp_user_timeout=2000"

typedef struct auth_cache__slot {
    auth_cache_entry e;
    int64_t born; /* monotonic usec when read from the database */
    int next;     /* the bucket's chain, or the free list; -1 ends either */
    bool used;
} auth_cache__slot;

struct auth_cache {
    pthread_mutex_t lock;
    /* Guarded by lock. */
    auth_cache__slot *slots; /* capacity, allocated once; only [0, top) ever touched */
    int *buckets;            /* nbuckets chain heads */
    int nbuckets;            /* a power of two */
    int capacity;
    int count;
    int top;       /* slots ever used: the rest have never been written, so cost no memory */
    int free_head; /* freed slots below top; -1: none */
    int hand;      /* the next slot evicted when full: they go in turn */
    int64_t ttl_usec;
    uint64_t seq;     /* invalidations applied; see auth_cache_put */
    int64_t proof_at; /* monotonic usec of the listener's last proof; 0: none */
    bool lost;        /* the link failed: drop everything at the next proof */
    auth_cache_stats stats;
    /* The listener. */
    pthread_t thread;
    bool running;
    bool stop;
    char *url;
};

static unsigned auth_cache__hash(const char *token_hash)
{
    /* The key is a SHA-256 in hex: its first characters are uniform already. */
    unsigned h = 2166136261u;
    for (int i = 0; i < 16 && token_hash[i]; i++)
        h = (h ^ (unsigned char)token_hash[i]) * 16777619u;
    return h;
}

auth_cache *auth_cache_new(int capacity, int64_t ttl_usec)
{
    if (capacity < 1)
        capacity = 1;
    auth_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->capacity = capacity;
    c->ttl_usec = ttl_usec;
    c->slots = xcalloc((size_t)capacity, sizeof(*c->slots));
    c->nbuckets = 1;
    while (c->nbuckets < capacity)
        c->nbuckets *= 2;
    c->buckets = xcalloc((size_t)c->nbuckets, sizeof(int));
    for (int i = 0; i < c->nbuckets; i++)
        c->buckets[i] = -1;
    c->free_head = -1;
    return c;
}

/* Unlinks slot i from its chain and frees it. Lock held. */
static void auth_cache__remove(auth_cache *c, int i)
{
    int *link =
        &c->buckets[auth_cache__hash(c->slots[i].e.token_hash) & (unsigned)(c->nbuckets - 1)];
    while (*link != i)
        link = &c->slots[*link].next;
    *link = c->slots[i].next;
    c->slots[i].used = false;
    c->slots[i].next = c->free_head;
    c->free_head = i;
    c->count--;
}

/* The slot holding token_hash, or -1. Lock held. */
static int auth_cache__find(auth_cache *c, const char *token_hash)
{
    int i = c->buckets[auth_cache__hash(token_hash) & (unsigned)(c->nbuckets - 1)];
    while (i >= 0 && strcmp(c->slots[i].e.token_hash, token_hash) != 0)
        i = c->slots[i].next;
    return i;
}

static void auth_cache__clear(auth_cache *c)
{
    for (int i = 0; i < c->top; i++)
        if (c->slots[i].used)
            auth_cache__remove(c, i);
}

/* Lock held. */
static bool auth_cache__trusted(const auth_cache *c, int64_t now)
{
    return c->proof_at != 0 && !c->lost && now - c->proof_at < AUTH_CACHE_TRUST_USEC;
}

uint64_t auth_cache_seq(auth_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t seq = c->seq;
    pthread_mutex_unlock(&c->lock);
    return seq;
}

bool auth_cache_get(auth_cache *c, const char *token_hash, auth_cache_entry *out)
{
    int64_t now = time_mono_usec();
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    if (!auth_cache__trusted(c, now)) {
        c->stats.untrusted++;
    } else {
        int i = auth_cache__find(c, token_hash);
        if (i >= 0 && now - c->slots[i].born >= c->ttl_usec) {
            auth_cache__remove(c, i);
            i = -1;
        }
        if (i >= 0) {
            *out = c->slots[i].e;
            hit = true;
        }
    }
    if (hit)
        c->stats.hits++;
    else
        c->stats.misses++;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/*
 * Why a revoked credential cannot come back through a put. A request reads
 * seq, then the database; a revocation commits at some moment and its
 * notification is applied later, under this lock, advancing seq and
 * dropping the user's entries. If the request's read saw the credential
 * valid, the read began before the commit, so before the notification was
 * applied; seq was read before the read. Then either the notification was
 * applied before this put (seq differs: the put is refused) or after it
 * (the entry just put is dropped with the user's others). A lost
 * notification is covered by the reconnect: it advances seq and drops
 * everything before anything is trusted again.
 */
void auth_cache_put(auth_cache *c, uint64_t seq, const auth_cache_entry *e)
{
    int64_t now = time_mono_usec();
    pthread_mutex_lock(&c->lock);
    if (seq != c->seq || !auth_cache__trusted(c, now)) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    int i = auth_cache__find(c, e->token_hash);
    if (i < 0) {
        if (c->free_head < 0 && c->top < c->capacity) {
            i = c->top++;
        } else {
            if (c->free_head < 0) {
                while (!c->slots[c->hand].used)
                    c->hand = (c->hand + 1) % c->capacity;
                auth_cache__remove(c, c->hand);
                c->hand = (c->hand + 1) % c->capacity;
            }
            i = c->free_head;
            c->free_head = c->slots[i].next;
        }
        unsigned b = auth_cache__hash(e->token_hash) & (unsigned)(c->nbuckets - 1);
        c->slots[i].next = c->buckets[b];
        c->buckets[b] = i;
        c->slots[i].used = true;
        c->count++;
    }
    c->slots[i].e = *e;
    c->slots[i].born = now;
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_touch(auth_cache *c, const char *token_hash, int64_t last_seen)
{
    pthread_mutex_lock(&c->lock);
    int i = auth_cache__find(c, token_hash);
    if (i >= 0)
        c->slots[i].e.last_seen = last_seen;
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_drop(auth_cache *c, const char *token_hash)
{
    pthread_mutex_lock(&c->lock);
    int i = auth_cache__find(c, token_hash);
    if (i >= 0)
        auth_cache__remove(c, i);
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_apply(auth_cache *c, const char *payload)
{
    bool user = strncmp(payload, "u:", 2) == 0, plan = strncmp(payload, "p:", 2) == 0;
    const char *id = payload + 2;
    pthread_mutex_lock(&c->lock);
    c->seq++;
    c->stats.invalidations++;
    for (int i = 0; i < c->top; i++) {
        if (!c->slots[i].used)
            continue;
        const principal *p = &c->slots[i].e.who;
        if ((!user && !plan) || (user && strcmp(p->user_id, id) == 0) ||
            (plan && strcmp(p->plan_id, id) == 0))
            auth_cache__remove(c, i);
    }
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_proved(auth_cache *c, int64_t at)
{
    pthread_mutex_lock(&c->lock);
    if (at == 0) {
        if (!c->lost)
            c->stats.listener_failures++;
        c->lost = true;
        c->proof_at = 0;
    } else {
        if (c->lost) {
            /* Notifications sent while the link was down are lost: forget
             * everything, and refuse puts whose reads began before now. */
            auth_cache__clear(c);
            c->seq++;
            c->lost = false;
        }
        c->proof_at = at;
    }
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_get_stats(auth_cache *c, auth_cache_stats *out)
{
    int64_t now = time_mono_usec();
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    out->entries = c->count;
    out->capacity = c->capacity;
    out->listener_healthy = auth_cache__trusted(c, now);
    pthread_mutex_unlock(&c->lock);
}

/* ---- the listener ------------------------------------------------------------ */

static bool auth_cache__stopping(auth_cache *c)
{
    pthread_mutex_lock(&c->lock);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->lock);
    return stop;
}

static void auth_cache__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void auth_cache__on_notify(void *arg, const char *payload)
{
    auth_cache_apply(arg, payload);
}

/*
 * One proof: the moment before a round trip on the listening connection.
 * The server sends a listener the notifications of every transaction that
 * committed before it ends one of its own, ahead of that one's answer, so
 * once the answer is in and what libpq buffered is applied, nothing
 * committed before `at` is still unapplied. A silent link that never
 * answers blocks here and proves nothing: the cache stops being trusted.
 */
static int auth_cache__prove(auth_cache *c, db_conn *conn, db_error *de)
{
    int64_t at = time_mono_usec();
    if (db_exec_script(conn, "SELECT 1", de) != 0 ||
        db_wait_notify_each(conn, 0, auth_cache__on_notify, c, de) < 0)
        return -1;
    auth_cache_proved(c, at);
    return 0;
}

static void *auth_cache__listen(void *arg)
{
    auth_cache *c = arg;
    db *d = NULL;
    db_conn *conn = NULL;
    bool listening = false;
    unsigned failures = 0;
    while (!auth_cache__stopping(c)) {
        db_error de = {0};
        int rc = -1;
        if (d == NULL) {
            d = db_open_named(c->url, 1, AUTH_CACHE_APP_NAME, &de);
            if (d != NULL)
                conn = db_acquire(d);
        }
        if (conn != NULL && !listening)
            listening = db_listen(conn, AUTH_CACHE_CHANNEL, &de) == 0;
        if (listening && auth_cache__prove(c, conn, &de) == 0)
            rc = db_wait_notify_each(conn, AUTH_CACHE_PROOF_MS, auth_cache__on_notify, c, &de);
        if (rc < 0) {
            auth_cache_proved(c, 0);
            if (failures++ % AUTH_CACHE__LOG_EVERY == 0)
                log_warn("the auth cache's listener is failing (requests authenticate in the "
                         "database meanwhile): %s",
                         de.message);
            auth_cache__sleep_ms(AUTH_CACHE_PROOF_MS);
        } else {
            failures = 0;
        }
    }
    if (conn != NULL)
        db_release(conn);
    db_close(d);
    return NULL;
}

auth_cache *auth_cache_start(const char *url, int capacity, int64_t ttl_usec)
{
    auth_cache *c = auth_cache_new(capacity, ttl_usec);
    /* A link that goes silent (the peer gone without closing it) would hold
     * the listener's round trip for the kernel's retransmissions, many
     * minutes of an untrusted cache: libpq's tcp_user_timeout drops the
     * connection once sent data goes unacknowledged that long, and the
     * listener reconnects. The URL is a URI (db_url_check). */
    const char *opt = AUTH_CACHE__TCP_TIMEOUT;
    size_t n = strlen(url) + strlen(opt) + 2;
    c->url = xmalloc(n);
    snprintf(c->url, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', opt);
    int rc = pthread_create(&c->thread, NULL, auth_cache__listen, c);
    if (rc != 0) {
        log_error("cannot start the auth cache's listener: %s", strerror(rc));
        auth_cache_free(c);
        return NULL;
    }
    c->running = true;
    return c;
}

void auth_cache_free(auth_cache *c)
{
    if (c == NULL)
        return;
    if (c->running) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c->buckets);
    free(c->url);
    free(c);
}
