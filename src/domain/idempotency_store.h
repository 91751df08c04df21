/*
 * idempotency_store: the idempotency_keys table. A POST that starts work
 * may carry an Idempotency-Key; the first answer to it is kept here, with a
 * fingerprint of the request, for 24 hours. The row is written in the same
 * transaction as the work it answers, so a key is either unused or bound to
 * work that happened. Keys are scoped per user: two users may use the same
 * key.
 */
#ifndef PS_DOMAIN_IDEMPOTENCY_STORE_H
#define PS_DOMAIN_IDEMPOTENCY_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

#define IDEMPOTENCY_KEY_MAX     200
#define IDEMPOTENCY_TTL_USEC    ((int64_t)24 * 3600 * 1000000)
#define IDEMPOTENCY_FINGERPRINT 64 /* hex SHA-256 */

typedef struct idempotency_row {
    char fingerprint[IDEMPOTENCY_FINGERPRINT + 1];
    int status_code;
    const char *response; /* in the caller's arena */
    int64_t created_at;
} idempotency_row;

/** The user's unexpired answer under key; *found is false when there is none. */
int idempotency_store_find(db_conn *c, arena *a, const char *user_id, const char *key, int64_t now,
                           idempotency_row *out, bool *found, error *err);
/**
 * Binds key to an answer until now + IDEMPOTENCY_TTL_USEC, replacing an
 * expired binding. ERR_CONFLICT when an unexpired one exists (a concurrent
 * request won): the caller's transaction must roll back.
 */
int idempotency_store_insert(db_conn *c, const char *user_id, const char *key,
                             const char *fingerprint, int status_code, const char *response,
                             int64_t now, error *err);
/** Deletes every expired binding; *deleted says how many. */
int idempotency_store_purge(db_conn *c, int64_t now, int64_t *deleted, error *err);

#endif
