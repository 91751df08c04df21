/*
 * token_key_store: the token_keys table, one row per version of the key
 * that seals tokens at rest. A row holds a check value of the key, never
 * the key: a process compares its own key with it at start.
 */
#ifndef PS_DOMAIN_TOKEN_KEY_STORE_H
#define PS_DOMAIN_TOKEN_KEY_STORE_H

#include "base/error.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

/** The highest key version and its check value; *version 0 when there is none. */
int token_key_store_current(db_conn *c, int *version, char check[65], error *err);
/** The check value of one version; ERR_NOT_FOUND when there is no such version. */
int token_key_store_check(db_conn *c, int version, char check[65], error *err);
/** Records a version; *created is false when it already existed (another process won). */
int token_key_store_insert(db_conn *c, int version, const char *check, int64_t now, bool *created,
                           error *err);

#endif
