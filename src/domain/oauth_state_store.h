/*
 * oauth_state_store: the oauth_states table, Google authorization requests
 * in flight: the hash of the state sent to Google, the sealed PKCE verifier
 * and who started the flow. A state is used once, and pruned once expired.
 * Strings of a row are copied into the arena the caller passes.
 */
#ifndef PS_DOMAIN_OAUTH_STATE_STORE_H
#define PS_DOMAIN_OAUTH_STATE_STORE_H

#include "base/arena.h"
#include "base/error.h"
#include "base/uuid.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

int oauth_state_store_insert(db_conn *c, const oauth_state *s, error *err);
/** Finds a state by hash, whoever it belongs to; ERR_NOT_FOUND when there is none. */
int oauth_state_store_find(db_conn *c, arena *a, const char *state_hash, oauth_state *out,
                           error *err);
/**
 * Marks the state used at now, once: *won is false when it was already used
 * (a replay racing the first use).
 */
int oauth_state_store_consume(db_conn *c, const char *id, const char *user_id, int64_t now,
                              bool *won, error *err);
/** Forgets states that expired before `before`. */
int oauth_state_store_prune(db_conn *c, int64_t before, error *err);

#endif
