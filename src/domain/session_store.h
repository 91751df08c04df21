/*
 * session_store: the sessions table. A lookup by token joins the owner and
 * the owner's plan, so authenticating a request is one indexed query. Tokens
 * never reach this module, only their hashes.
 */
#ifndef PS_DOMAIN_SESSION_STORE_H
#define PS_DOMAIN_SESSION_STORE_H

#include "base/error.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/principal.h"

#include <jansson.h>
#include <stdint.h>

#define TOKEN_HASH_LEN 64 /* SHA-256 in hex */

/* A row of sessions. The CSRF token is ours (32-64 base64url characters,
 * never a client's text), so it keeps a buffer and a lookup needs no arena.
 * The private columns are only written: session_store_insert takes them as
 * arguments and leaves them NULL here. */
typedef struct session_row {
    char id[UUID_STR_LEN + 1];
    char csrf_token[SESSION_CSRF_MAX + 1];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;
    const char *user_id;
    const char *token_hash;
    const char *ip;
    const char *user_agent;
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

/** Deletes up to limit sessions that expired at or before now, or were last
 * seen at or before idle_before; *deleted says how many. */
int session_store_prune_expired(db_conn *c, int64_t now, int64_t idle_before, int limit,
                                int64_t *deleted, error *err);

#endif
