/*
 * apikey_store: the api_keys table, the credentials scripts use. A lookup by
 * key joins the owner and the owner's plan, so authenticating a request is
 * one indexed query. Keys never reach this module, only their hashes. Rows
 * cross this API as apikey structs whose text lives in the caller's arena.
 */
#ifndef PS_DOMAIN_APIKEY_STORE_H
#define PS_DOMAIN_APIKEY_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"
#include "domain/limits.h"
#include "domain/principal.h"
#include "domain/row.h"

#include <stddef.h>
#include <stdint.h>

typedef struct apikey {
    char id[UUID_STR_LEN + 1];
    const char *name;
    const char *prefix; /* the key's first characters, to tell keys apart */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
    int64_t revoked_at;   /* 0: live */
    char user_id[UUID_STR_LEN + 1];
    const char *token_hash;
} apikey;

/* The api_keys table: a client names a key; the rest is the server's. */
extern const row_spec apikey_row;

/** Inserts k (its id is filled in here). */
int apikey_store_insert(db_conn *c, apikey *k, error *err);
/**
 * Finds a live (unrevoked) key by hash: fills k's id and last_used_at and
 * the principal. ERR_NOT_FOUND otherwise.
 */
int apikey_store_lookup(db_conn *c, const char *token_hash, apikey *k, principal *p, error *err);
int apikey_store_touch(db_conn *c, const char *id, int64_t now, error *err);
/** The user's keys, newest first, after cursor (NULL: from the start); up to limit, in a. */
int apikey_store_list(db_conn *c, arena *a, const char *user_id, const char *cursor, int limit,
                      apikey **out, size_t *n, error *err);
/** Marks the key revoked; ERR_NOT_FOUND when it is not the user's (or already revoked). */
int apikey_store_revoke(db_conn *c, const char *user_id, const char *id, int64_t now, error *err);

#endif
