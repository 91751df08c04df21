/*
 * auth_cache: what a session or an API key resolved to, kept in this
 * process so a request whose credential was seen recently costs no database
 * round trip to authenticate (issue 18, decision 2; docs/decisions.md,
 * "Authentication from an in-process cache"). PostgreSQL only: SQLite's
 * lookup is in-process already, and there revocation is immediate.
 *
 * Entries are keyed by the token's SHA-256 hash. Triggers on sessions,
 * api_keys, users and plans (migration 0012) NOTIFY the channel
 * AUTH_CACHE_CHANNEL at commit with a payload naming what changed; a
 * listener thread with a connection of its own drops the matching entries.
 * The rule the whole module serves: a revocation takes effect in every
 * process within one second. So an entry is trusted only while the
 * listener has proved, less than AUTH_CACHE_TRUST_USEC ago, that every
 * notification committed before that proof has been applied; a listener
 * that lost its connection proves nothing, and after a reconnect everything
 * is dropped (notifications sent meanwhile are lost).
 *
 * Thread-safe: one mutex guards the table; every call holds it briefly and
 * never across a database call. Owned by whoever created it (the app).
 */
#ifndef PS_SERVICES_AUTH_CACHE_H
#define PS_SERVICES_AUTH_CACHE_H

#include "domain/limits.h"
#include "domain/principal.h"
#include "domain/session_store.h"

#include <stdbool.h>
#include <stdint.h>

#define AUTH_CACHE_CHANNEL "pstudio_auth"
/* The name the listener's connection shows in pg_stat_activity. */
#define AUTH_CACHE_APP_NAME "pstudio-auth-listener"
/* An entry is used only while the listener's last proof of health is
 * younger than this: a revocation committed at t is then never answered
 * from the cache after t + AUTH_CACHE_TRUST_USEC (< 1 s, with margin). */
#define AUTH_CACHE_TRUST_USEC (600 * 1000LL)
/* The listener proves health this often when no notification comes. */
#define AUTH_CACHE_PROOF_MS         200
#define AUTH_CACHE_DEFAULT_SIZE     10000
#define AUTH_CACHE_DEFAULT_TTL_USEC (60 * 1000000LL)

typedef struct auth_cache auth_cache;

/* What a credential resolved to, and what the per-request checks need. */
typedef struct auth_cache_entry {
    char token_hash[TOKEN_HASH_LEN + 1];
    principal who;                         /* via and credential_id filled */
    char csrf_token[SESSION_CSRF_MAX + 1]; /* sessions only */
    int64_t expires_at;                    /* sessions only (usec, wall clock) */
    int64_t last_seen;                     /* last_seen_at or last_used_at */
} auth_cache_entry;

typedef struct auth_cache_stats {
    uint64_t hits;
    uint64_t misses;            /* lookups not answered (absent, stale, or untrusted) */
    uint64_t untrusted;         /* of the misses: the listener's proof was too old */
    uint64_t invalidations;     /* notifications applied */
    uint64_t listener_failures; /* times its link failed (then everything is dropped) */
    int entries;
    int capacity;
    bool listener_healthy; /* its last proof is younger than AUTH_CACHE_TRUST_USEC */
} auth_cache_stats;

/**
 * A cache of at most capacity entries (at least 1), each dropped ttl_usec
 * after it was read from the database. No listener runs: nothing is
 * trusted until auth_cache_proved() says so (auth_cache_start does both).
 */
auth_cache *auth_cache_new(int capacity, int64_t ttl_usec);
/** Stops the listener, if one runs, and frees c (NULL: nothing). */
void auth_cache_free(auth_cache *c);

/**
 * The cache with its listener: a thread that opens one connection to url,
 * LISTENs on AUTH_CACHE_CHANNEL and proves health every
 * AUTH_CACHE_PROOF_MS. Returns at once; entries are trusted from the first
 * proof on. NULL when the thread cannot start (logged).
 */
auth_cache *auth_cache_start(const char *url, int capacity, int64_t ttl_usec);

/**
 * The invalidation sequence, to read before the database lookup whose
 * answer auth_cache_put() may keep.
 */
uint64_t auth_cache_seq(auth_cache *c);
/**
 * Copies the entry for token_hash into out: true when there is one, younger
 * than the TTL, and the listener is trusted now. Counts a hit or a miss.
 */
bool auth_cache_get(auth_cache *c, const char *token_hash, auth_cache_entry *out);
/**
 * Keeps e, read from the database after auth_cache_seq() returned seq: only
 * if no invalidation was applied since (the sequence is still seq) and the
 * listener is trusted. A full cache first evicts the oldest entry.
 */
void auth_cache_put(auth_cache *c, uint64_t seq, const auth_cache_entry *e);
/** Sets the entry's last_seen (the credential was touched in the database). */
void auth_cache_touch(auth_cache *c, const char *token_hash, int64_t last_seen);
/** Drops the entry for token_hash, if any. */
void auth_cache_drop(auth_cache *c, const char *token_hash);

/**
 * Applies one notification payload: "u:<user id>" drops that user's
 * entries, "p:<plan id>" those of the plan's users, anything else drops
 * everything. Always advances the sequence.
 */
void auth_cache_apply(auth_cache *c, const char *payload);
/**
 * The listener's proof of health: every notification committed before the
 * monotonic time at (usec) has been applied. at 0: the link failed; nothing
 * is trusted and everything is dropped at the next proof.
 */
void auth_cache_proved(auth_cache *c, int64_t at);

void auth_cache_get_stats(auth_cache *c, auth_cache_stats *out);

#endif
