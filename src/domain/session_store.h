/*
 * session_store: the sessions, api_keys and rate_limits tables. Lookups by
 * credential join the owner and the owner's plan, so authenticating a request
 * is one indexed query. Tokens never reach this module, only their hashes.
 */
#ifndef PS_DOMAIN_SESSION_STORE_H
#define PS_DOMAIN_SESSION_STORE_H

#include "base/error.h"
#include "db/db.h"
#include "domain/limits.h"
#include "services/services.h"

#include <jansson.h>
#include <stdint.h>

#define TOKEN_HASH_LEN 64 /* SHA-256 in hex */

typedef struct session_row {
    char id[UUID_STR_LEN + 1];
    char csrf_token[65];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;
} session_row;

int session_store_insert(db_conn *c, const char *user_id, const char *token_hash,
                         const char *csrf_token, const char *ip, const char *user_agent,
                         int64_t now, int64_t expires_at, session_row *out, error *err);
/** Finds the session by token hash and fills the principal; ERR_NOT_FOUND when absent. */
int session_store_lookup(db_conn *c, const char *token_hash, session_row *s, principal *p,
                         error *err);
int session_store_touch(db_conn *c, const char *id, int64_t now, error *err);
/** Deletes one session of the user (or all of them when id is NULL). */
int session_store_delete(db_conn *c, const char *user_id, const char *id, error *err);

typedef struct apikey_row {
    char id[UUID_STR_LEN + 1];
    char name[UTF8_BUF(APIKEY_NAME_MAX)];
    char prefix[17];
    int64_t created_at;
    int64_t last_used_at;
    int64_t revoked_at;
} apikey_row;

/** Inserts a key; ERR_INVALID (and nothing written) when name or prefix
 * does not fit the row, which cannot happen for a name of at most
 * APIKEY_NAME_MAX characters. */
int apikey_store_insert(db_conn *c, const char *user_id, const char *name, const char *prefix,
                        const char *token_hash, int64_t now, apikey_row *out, error *err);
/** Finds a live (unrevoked) key by hash and fills the principal; ERR_NOT_FOUND otherwise. */
int apikey_store_lookup(db_conn *c, const char *token_hash, apikey_row *k, principal *p,
                        error *err);
int apikey_store_touch(db_conn *c, const char *id, int64_t now, error *err);
/** The user's keys, newest first, after cursor (NULL: from the start); up to limit + 1 rows. */
int apikey_store_list(db_conn *c, const char *user_id, const char *cursor, int limit,
                      apikey_row *rows, int *n, error *err);
/** Marks the key revoked; ERR_NOT_FOUND when it is not the user's (or already revoked). */
int apikey_store_revoke(db_conn *c, const char *user_id, const char *id, int64_t now, error *err);

/** Deletes up to limit sessions that expired at or before now, or were last
 * seen at or before idle_before; *deleted says how many. */
int session_store_prune_expired(db_conn *c, int64_t now, int64_t idle_before, int limit,
                                int64_t *deleted, error *err);
/** Counts one hit in (bucket, window) and returns the count so far. */
int ratelimit_store_hit(db_conn *c, const char *bucket, int64_t window, int *hits, error *err);
/** Forgets windows older than `before`. */
int ratelimit_store_prune(db_conn *c, int64_t before, error *err);

#endif
