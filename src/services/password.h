/*
 * password: argon2id password hashing (libsodium). The parameters are the
 * OWASP floor for argon2id (19 MiB, 2 passes) so a login stays fast while an
 * offline attack on a stolen hash stays expensive. Hashes carry their own
 * parameters, so raising them later only affects new hashes.
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

#endif
