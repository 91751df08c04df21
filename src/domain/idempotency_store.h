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
#include "base/uuid.h"
#include "db/db.h"
#include "domain/limits.h"

#include <stdbool.h>
#include <stdint.h>

#define IDEMPOTENCY_TTL_USEC ((int64_t)24 * 3600 * 1000000)

/* A row of idempotency_keys; texts in the reader's arena. */
typedef struct idempotency_row {
    char id[UUID_STR_LEN + 1];
    const char *user_id;
    const char *idem_key;
    const char *fingerprint; /* hex SHA-256 of the request */
    int status_code;
    const char *response; /* the answer's body */
    int64_t created_at;
    int64_t expires_at;
} idempotency_row;

/** The user's unexpired answer under key (fingerprint, status_code,
 * response, created_at); *found is false when there is none. */
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
