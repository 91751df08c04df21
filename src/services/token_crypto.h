/*
 * token_crypto: secrets at rest (OAuth access and refresh tokens, PKCE
 * verifiers), sealed with XChaCha20-Poly1305 from libsodium.
 *
 * One master key comes from PSTUDIO_SECRET_KEY (32 bytes in base64) or from
 * <data_dir>/secret.key, which is created with mode 0600 on first use and
 * refused when other users may read it. The master key never reaches the
 * database. Tokens are sealed under a *key version*: the key of version v is
 * derived from the master key (crypto_kdf, subkey id v), and the table
 * token_keys lists the versions that exist (the highest is current) with a
 * keyed check value, so a process holding a different master key reports
 * exactly that instead of calling every row tampered.
 *
 * Each ciphertext carries associated data naming what it is and where it
 * lives: "<purpose>|<row id>|<user id>|<key version>". A ciphertext copied to
 * another row, another user, another column or another version does not
 * decrypt. Stored form: 24-byte nonce followed by the sealed bytes.
 *
 * Plaintexts come back in memory from token_secret_new() and must be released
 * with token_secret_free(), which wipes them first.
 */
#ifndef PS_SERVICES_TOKEN_CRYPTO_H
#define PS_SERVICES_TOKEN_CRYPTO_H

#include "base/error.h"
#include "db/db.h"
#include "services/services.h"

#include <stddef.h>

#define TOKEN_KEY_BYTES 32

/* The master key, loaded for one operation and wiped by token_keyring_wipe(). */
typedef struct token_keyring {
    unsigned char master[TOKEN_KEY_BYTES];
    char source[300]; /* "PSTUDIO_SECRET_KEY" or the key file's path, for messages */
} token_keyring;

/* What a sealed secret is, so one cannot stand in for another. */
#define TOKEN_PURPOSE_ACCESS   "google.access_token"
#define TOKEN_PURPOSE_REFRESH  "google.refresh_token"
#define TOKEN_PURPOSE_VERIFIER "oauth.code_verifier"

/* A sealed secret, heap-allocated (token_sealed_free). */
typedef struct token_sealed {
    unsigned char *data;
    size_t len;
} token_sealed;

/**
 * Loads the master key: s->secret_key_b64 when set, else <s->data_dir>/secret.key,
 * created (mode 0600, 32 random bytes in base64) when missing. ERR_CONFIG
 * naming PSTUDIO_SECRET_KEY or the file on a malformed key, a key file other
 * users can read, or neither source configured.
 */
int token_keyring_load(const services *s, token_keyring *k, error *err);
void token_keyring_wipe(token_keyring *k);
/**
 * What serve, worker and the admin commands that touch tokens run at start,
 * so that a key problem stops them there instead of failing the first
 * Google call: loads the key (creating the file on the first run) and
 * checks it against the check value of the newest key version. On a
 * database with no version yet it stores version 1's check value first
 * (token_crypto_current_version), so a process started later with another
 * key is refused even before any token exists. ERR_CONFIG naming
 * PSTUDIO_SECRET_KEY or the file, as token_keyring_load and
 * token_crypto_current_version do.
 */
int token_keyring_check(const services *s, db_conn *c, error *err);
/**
 * Whether the configured master key derives `check` (a token_keys check
 * value) for version: 0 when it does. ERR_CONFIG naming PSTUDIO_SECRET_KEY
 * when it does not, or when there is no key at all: unlike
 * token_keyring_load this never creates <data_dir>/secret.key. For
 * restoring a backup, whose tokens only the key it was made with can open.
 */
int token_keyring_matches(const services *s, int version, const char *check, error *err);

/**
 * The current key version (the highest in token_keys), creating version 1 on
 * first use. ERR_CONFIG when the stored check value says the master key is
 * not the one the versions were made with.
 */
int token_crypto_current_version(db_conn *c, const token_keyring *k, int *version, error *err);
/**
 * Adds version current+1 and returns it. Existing ciphertexts stay readable
 * (every version derives from the master key); new ones use the new version.
 */
int token_crypto_new_version(db_conn *c, const token_keyring *k, int *version, error *err);

/** Seals plain under version for (purpose, row_id, user_id). */
int token_crypto_seal(const token_keyring *k, int version, const char *purpose, const char *row_id,
                      const char *user_id, const char *plain, token_sealed *out, error *err);
/**
 * Opens a sealed secret into *plain (token_secret_free it). On failure
 * ERR_CONFLICT with field "credentials" and a message that says whether the
 * master key is wrong (c is used to read the version's check value; may be
 * NULL) or the ciphertext was altered or moved from another row.
 */
int token_crypto_open(db_conn *c, const token_keyring *k, int version, const char *purpose,
                      const char *row_id, const char *user_id, const void *sealed, size_t n,
                      char **plain, error *err);
void token_sealed_free(token_sealed *s);
/** Wipes and frees a plaintext secret; NULL is fine. */
void token_secret_free(char *plain);

/** Writes 43 base64url characters of fresh randomness (256 bits) plus NUL. */
void token_crypto_random_b64url(char out[44]);
/** Writes base64url(SHA-256(s)) without padding (43 characters) plus NUL. */
void token_crypto_sha256_b64url(const char *s, char out[44]);
/** Writes hex(SHA-256(s)) (64 characters) plus NUL. */
void token_crypto_sha256_hex(const char *s, char out[65]);

#endif
