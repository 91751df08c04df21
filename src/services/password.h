/*
 * password: argon2id password hashing (libsodium) at 64 MiB and 2 passes,
 * above the OWASP floor (19 MiB, 2 passes) by a margin measured to keep a
 * log-in near 150 ms (docs/benchmarks.md). Hashes carry their own
 * parameters; a log-in whose stored hash has others is rehashed
 * (password_needs_rehash), so raising them reaches every active account.
 */
#ifndef PS_SERVICES_PASSWORD_H
#define PS_SERVICES_PASSWORD_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_LEN  10
#define PASSWORD_MAX_LEN  1024
#define PASSWORD_HASH_LEN 128 /* crypto_pwhash_STRBYTES */

/** Checks length and encoding; ERR_INVALID with a message when unacceptable. */
int password_validate(const char *pw, error *err);
/** Hashes pw into out (NUL-terminated). */
int password_hash(const char *pw, char out[PASSWORD_HASH_LEN], error *err);
/** Constant-time check of pw against a stored hash. */
bool password_verify(const char *pw, const char *hash);
/** True when hash was made with other parameters (or another algorithm) than password_hash uses. */
bool password_needs_rehash(const char *hash);

#endif
