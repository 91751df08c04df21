/*
 * account_store: the accounts table, a user's connected Google accounts
 * with their tokens sealed (this module only moves the sealed bytes;
 * services/token_crypto seals and opens them).
 * Authorization requests in flight are in oauth_state_store, the versions
 * of the token encryption key in token_key_store. Every query is scoped by
 * the owner's user_id, except the few marked "system" that serve key
 * rotation and the daily stats sweep. Strings of a row are copied into the
 * arena the caller passes.
 */
#ifndef PS_DOMAIN_ACCOUNT_STORE_H
#define PS_DOMAIN_ACCOUNT_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"
#include "domain/row.h"

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

/* The accounts table: its columns as the API shows them (tokens never). */
extern const row_spec account_row;

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

#endif
