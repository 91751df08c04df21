/*
 * apikey_store: the api_keys table, the credentials scripts use. A lookup by
 * key joins the owner and the owner's plan, so authenticating a request is
 * one indexed query. Keys never reach this module, only their hashes.
 */
#ifndef PS_DOMAIN_APIKEY_STORE_H
#define PS_DOMAIN_APIKEY_STORE_H

#include "base/error.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/principal.h"

#include <stdint.h>

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

#endif
