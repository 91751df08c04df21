/*
 * account_store: the tables behind Google connect. `accounts` holds a user's
 * connected Google accounts with their tokens sealed (this module only moves
 * the sealed bytes; services/token_crypto seals and opens them).
 * `oauth_states` holds authorization requests in flight, and `token_keys`
 * the versions of the token encryption key. Every query on accounts and
 * states is scoped by the owner's user_id, except the few marked "system"
 * that serve key rotation and the daily stats sweep. Strings of a row are
 * copied into the arena the caller passes.
 */
#ifndef PS_DOMAIN_ACCOUNT_STORE_H
#define PS_DOMAIN_ACCOUNT_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_ACTIVE          "active"
#define ACCOUNT_NEEDS_RECONNECT "needs_reconnect"

typedef struct account {
    char id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    const char *provider;            /* "google" */
    const char *provider_account_id; /* Google's stable subject id ("sub") */
    const char *email;               /* NULL when Google did not share it */
    const char *scopes;              /* space-separated, as granted */
    const unsigned char *access_enc; /* sealed; NULL when none */
    size_t access_enc_len;
    const unsigned char *refresh_enc; /* sealed; NULL when none */
    size_t refresh_enc_len;
    int key_version;
    int64_t expires_at; /* of the access token; 0: unknown */
    const char *status; /* ACCOUNT_ACTIVE | ACCOUNT_NEEDS_RECONNECT */
    int64_t created_at;
    int64_t updated_at;
} account;

/** The user's account with id; ERR_NOT_FOUND ("no Google account with id …") otherwise. */
int account_store_get(db_conn *c, arena *a, const char *user_id, const char *id, account *out,
                      error *err);
/** The user's account for this Google subject; ERR_NOT_FOUND when not connected. */
int account_store_find(db_conn *c, arena *a, const char *user_id, const char *provider,
                       const char *provider_account_id, account *out, error *err);
/** A page of the user's accounts, newest first (ids below cursor). */
int account_store_list(db_conn *c, arena *a, const char *user_id, const char *cursor, int limit,
                       account **out, size_t *n, error *err);
/** Inserts a as given (id and times included). */
int account_store_insert(db_conn *c, const account *a, error *err);
/**
 * Rewrites the user's account: email, scopes, both sealed tokens, key
 * version, expiry, status and updated_at. ERR_NOT_FOUND when it is gone.
 */
int account_store_update(db_conn *c, const account *a, error *err);
int account_store_set_status(db_conn *c, const char *user_id, const char *id, const char *status,
                             int64_t now, error *err);
/** Deletes the user's account; its channels keep their rows with account_id cleared (FK). */
int account_store_delete(db_conn *c, const char *user_id, const char *id, error *err);

/**
 * System: up to limit accounts of every user sealed under a version below
 * `below`, with ids above after (NULL: from the start), in id order.
 */
int account_store_list_for_rekey(db_conn *c, arena *a, int below, const char *after, int limit,
                                 account **out, size_t *n, error *err);
/**
 * System: replaces the sealed tokens of one account only while it is still
 * sealed under old_version; *changed says whether it was (a concurrent
 * token refresh may have rewritten it under the new version already).
 */
int account_store_rekey(db_conn *c, const account *a, int old_version, bool *changed, error *err);
/** System: up to limit active accounts that have channels, ids above after, in id order. */
int account_store_list_with_channels(db_conn *c, arena *a, const char *after, int limit,
                                     account **out, size_t *n, error *err);

/* ---- oauth_states ---------------------------------------------------------- */

typedef struct oauth_state {
    char id[UUID_STR_LEN + 1];
    char user_id[UUID_STR_LEN + 1];
    char credential_id[UUID_STR_LEN + 1]; /* the session or API key that started the flow */
    char state_hash[65];                  /* hex SHA-256 of the state */
    const unsigned char *verifier_enc;    /* sealed PKCE code verifier */
    size_t verifier_enc_len;
    int key_version;
    const char *redirect_uri;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at; /* 0: not yet */
} oauth_state;

int oauth_state_insert(db_conn *c, const oauth_state *s, error *err);
/** Finds a state by hash, whoever it belongs to; ERR_NOT_FOUND when there is none. */
int oauth_state_find(db_conn *c, arena *a, const char *state_hash, oauth_state *out, error *err);
/**
 * Marks the state used at now, once: *won is false when it was already used
 * (a replay racing the first use).
 */
int oauth_state_consume(db_conn *c, const char *id, const char *user_id, int64_t now, bool *won,
                        error *err);
/** Forgets states that expired before `before`. */
int oauth_state_prune(db_conn *c, int64_t before, error *err);

/* ---- token_keys --------------------------------------------------------------- */

/** The highest key version and its check value; *version 0 when there is none. */
int token_key_current(db_conn *c, int *version, char check[65], error *err);
/** The check value of one version; ERR_NOT_FOUND when there is no such version. */
int token_key_check(db_conn *c, int version, char check[65], error *err);
/** Records a version; *created is false when it already existed (another process won). */
int token_key_insert(db_conn *c, int version, const char *check, int64_t now, bool *created,
                     error *err);

#endif
